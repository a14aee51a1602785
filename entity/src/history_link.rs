//! One link of a history chain: which row it stands for, the hash of that row's canonical content, the hash of
//! the link before it, and its own hash over both. Written once, by the chainer; never changed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "history_links")]
pub struct Model {
    /// `audit`, `journal` or `webhooks`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain: String,
    /// The link's place in its chain, from 1, in the order the rows were linked (their commit order).
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub row_id: Uuid,
    /// SHA-256 of the row's canonical content (`paydesk_core::services::history`).
    pub content_hash: Vec<u8>,
    /// The previous link's `hash`; 32 zero bytes for the first.
    pub prev_hash: Vec<u8>,
    /// SHA-256 of `prev_hash` followed by `content_hash`.
    pub hash: Vec<u8>,
    pub linked_at: DateTimeUtc,
}

crate::by_position!(chain, seq, row_id, content_hash, prev_hash, hash, linked_at);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
