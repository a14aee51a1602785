//! The history chains as the API shows them: each chain's head, to keep outside the database as evidence.

use crate::graphql::scalars::DateTime;
use crate::services::evidence::history::Head;
use async_graphql::{Enum, SimpleObject};
use uuid::Uuid;

/// A chained history: audit entries, journal entries with their postings, or stored webhook deliveries.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "paydesk_core::services::evidence::history::Chain")]
pub enum HistoryChain {
    Audit,
    Journal,
    Webhooks,
}

/// The head of one chain: whoever keeps `seq` and `hash` can later tell whether anything before them changed.
#[derive(SimpleObject, Clone)]
pub struct ChainHead {
    pub chain: HistoryChain,
    /// How many links the chain has.
    pub seq: i64,
    /// The last link's hash, hex (64 zeros for an empty chain).
    pub hash: String,
    /// The row the last link names.
    pub row_id: Option<Uuid>,
    pub linked_at: Option<DateTime>,
    /// Rows written in the last minutes that the chainer has still to link (it links every second).
    pub unlinked: u64,
}

impl From<Head> for ChainHead {
    fn from(h: Head) -> Self {
        ChainHead {
            chain: h.chain.into(),
            seq: h.seq,
            hash: hex::encode(&h.hash),
            row_id: h.row_id,
            linked_at: h.linked_at.map(DateTime),
            unlinked: h.unlinked,
        }
    }
}

/// Every chain's head at one moment.
#[derive(SimpleObject, Clone)]
pub struct HistoryCheckpoint {
    pub at: DateTime,
    pub chains: Vec<ChainHead>,
}

impl HistoryCheckpoint {
    pub fn new(at: chrono::DateTime<chrono::Utc>, heads: Vec<Head>) -> Self {
        HistoryCheckpoint { at: DateTime(at), chains: heads.into_iter().map(Into::into).collect() }
    }
}
