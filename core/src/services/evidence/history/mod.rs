//! A history no one can rewrite unseen: audit entries, journal entries (with their postings) and stored webhook
//! deliveries each form a hash chain in `history_links`.
//!
//! Rows are written as before, inside the transactions that write them, each with the SHA-256 of its canonical
//! content ([`Chained::content`]) in its `content_hash` column, computed by its writer ([`content::seal`]); a chainer on
//! every instance ([`link`]) then links what has committed, oldest first, in batches, reading only ids, times and
//! those hashes: each link holds the row's content hash, the previous link's hash and its own hash over both. The
//! verifier trusts no kept hash: it hashes every row's content afresh. Linking only what has
//! committed puts the rows in commit order, and the links' keys (one `seq` per chain, one link per row) mean two
//! chainers racing on several instances cannot fork a chain: the second one's insert fails and it tries again.
//! On PostgreSQL an advisory lock spares them the race.
//!
//! [`verify`] walks the chains and names the first row that was edited, deleted, or inserted out of order (a row
//! older than the chain's head by more than [`WINDOW`] that no link names: the chainer links only rows newer than
//! that, so such a row came from outside). [`Verifier`] does the same a slice at a time in the background and
//! raises a CRITICAL `history_tampered` alert. Each day's heads go to the marketplace's callback ([`checkpoint_daily`]),
//! a copy of the evidence outside the database. A legally required erasure ([`erase`]) redacts one row, on an
//! admin's word and with its reason, and leaves an audit entry in the chain that explains the changed content.

use crate::auth::{roles, Principal};
use crate::error::{AppError, AppResult};
use crate::events::{Alert, AlertKind, Event};
use crate::services::evidence::audit::{self, Action, Actor, Subject};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use entity::{
    audit_log, history_checkpoint, history_link as link, history_signed_checkpoint, journal_entry, journal_posting,
    payment_webhook,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement, TransactionTrait,
};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// How far before the chain's head a row may have been written and still be linked: longer than any transaction
/// paydesk runs, so a row that commits late is linked; a row older than that which no link names was inserted
/// from outside.
pub const WINDOW: Duration = Duration::minutes(2);
/// Rows linked per transaction, and per round of the chainer.
const BATCH: u64 = 1_000;
const ROUNDS: usize = 20;

/// A chained row as the chainer and the verifier see it.
struct Hashed {
    id: Uuid,
    written: DateTime<Utc>,
    content_hash: Vec<u8>,
}

/// Which rows of a chained table to read.
enum Which<'a> {
    /// Rows no link names, written at `from` or later (all of them without), oldest first, at most `limit`.
    Unlinked { from: Option<DateTime<Utc>>, limit: u64 },
    /// Rows no link names, written before `before` (and at `after` or later, if given), oldest first: inserted
    /// out of order.
    UnlinkedBefore { after: Option<DateTime<Utc>>, before: DateTime<Utc>, limit: u64 },
    /// These rows.
    Ids(&'a [Uuid]),
}

/// `NOT EXISTS` a link of `chain` naming the row of `table`.
fn unlinked(chain: Chain, table: &str) -> sea_orm::sea_query::SimpleExpr {
    let unlinked = format!(
        "NOT EXISTS (SELECT 1 FROM history_links l WHERE l.chain = '{}' AND l.row_id = {table}.id)",
        chain.name()
    );
    match chain {
        // A delivery refused unread (anyone can send one) is not chained: it is kept for a while, then deleted.
        Chain::Webhooks => Expr::cust(format!("{unlinked} AND NOT ({REFUSED_UNREAD})")),
        _ => Expr::cust(unlinked),
    }
}

/// The deliveries refused unread: a signature that did not hold, or a body over the limit (never read whole).
pub const REFUSED_UNREAD: &str =
    "payment_webhooks.signature_valid = false AND payment_webhooks.outcome IN ('rejected_signature', 'malformed')";

/// The rows `which` names, of `E`'s table.
fn select<E: Chained>(which: &Which<'_>) -> sea_orm::Select<E> {
    let table = E::default().table_name().to_owned();
    let oldest_first = |q: sea_orm::Select<E>| q.order_by_asc(E::written()).order_by_asc(E::id());
    match which {
        Which::Unlinked { from, limit } => {
            let mut q = E::find().filter(unlinked(E::CHAIN, &table));
            if let Some(from) = from {
                q = q.filter(E::written().gte(*from));
            }
            oldest_first(q).limit(*limit)
        }
        Which::UnlinkedBefore { after, before, limit } => {
            let mut q = E::find().filter(unlinked(E::CHAIN, &table)).filter(E::written().lt(*before));
            if let Some(after) = after {
                q = q.filter(E::written().gte(*after));
            }
            oldest_first(q).limit(*limit)
        }
        Which::Ids(ids) => E::find().filter(E::id().is_in(ids.iter().copied())),
    }
}

async fn models<E: Chained>(db: &impl ConnectionTrait, which: &Which<'_>) -> AppResult<Vec<E::Model>> {
    Ok(select::<E>(which).all(db).await?)
}

/// Whether a row without a kept hash may be hashed from its content: only one older than every row a writer sealed
/// (written by a version that kept no hashes). Every writer since seals what it writes, so a newer row whose hash
/// is gone had it removed, and is never linked from content someone may have changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unsealed {
    /// Every one (an erasure reads what the chain will link).
    Hash,
    /// Only those older than the oldest sealed row (the chainer).
    HashOlderThanSealed,
}

/// The rows the chainer links, given when the oldest sealed row was written: those with a kept hash, and older ones.
fn linkable<E: Chained>(first_sealed: DateTime<Utc>) -> sea_orm::Condition {
    sea_orm::Condition::any().add(E::sealed().is_not_null()).add(E::written().lt(first_sealed))
}

/// When the oldest row of `E` its writer sealed was written, if any was.
async fn first_sealed<E: Chained>(db: &impl ConnectionTrait) -> AppResult<Option<DateTime<Utc>>> {
    Ok(E::find()
        .select_only()
        .column(E::written())
        .filter(E::sealed().is_not_null())
        .order_by_asc(E::written())
        .into_tuple()
        .one(db)
        .await?)
}

/// The rows `which` names as their writers sealed them: id, time written and kept content hash, reading nothing
/// else; rows without a kept hash are hashed from their content as `unsealed` says, or left out.
async fn sealed_of<E: Chained>(
    db: &impl ConnectionTrait,
    which: &Which<'_>,
    unsealed: Unsealed,
) -> AppResult<Vec<Hashed>> {
    let read = |q: sea_orm::Select<E>| {
        q.select_only()
            .column(E::id())
            .column(E::written())
            .column(E::sealed())
            .into_tuple::<(Uuid, DateTime<Utc>, Option<Vec<u8>>)>()
    };
    let mut rows = read(select::<E>(which)).all(db).await?;
    // Looked up only when a row without a hash is met: rows written since hashes were kept all have one.
    let before = match unsealed {
        Unsealed::HashOlderThanSealed if rows.iter().any(|r| r.2.is_none()) => first_sealed::<E>(db).await?,
        _ => None,
    };
    // Rows without a hash written since hashes were kept (removed by someone, or written by someone other than
    // paydesk) are never linked; the chainer reads past them, however many there are, or they would stop it.
    if let (Some(t), Which::Unlinked { .. }) = (before, which) {
        if rows.iter().any(|r| r.2.is_none() && r.1 >= t) {
            rows = read(select::<E>(which).filter(linkable::<E>(t))).all(db).await?;
        }
    }
    let hashes = |written: DateTime<Utc>| unsealed == Unsealed::Hash || before.is_none_or(|t| written < t);
    let unsealed: Vec<Uuid> = rows.iter().filter(|r| r.2.is_none() && hashes(r.1)).map(|r| r.0).collect();
    let mut hashed_now: HashMap<Uuid, Vec<u8>> = if unsealed.is_empty() {
        HashMap::new()
    } else {
        hashed(db, E::CHAIN, &Which::Ids(&unsealed)).await?.into_iter().map(|h| (h.id, h.content_hash)).collect()
    };
    Ok(rows
        .into_iter()
        .filter_map(|(id, written, kept)| {
            let content_hash = kept.or_else(|| hashed_now.remove(&id))?;
            Some(Hashed { id, written, content_hash })
        })
        .collect())
}

/// Reads the rows `which` names, of `chain`'s table, as their writers sealed them (see `sealed_of`).
async fn sealed(
    db: &impl ConnectionTrait,
    chain: Chain,
    which: &Which<'_>,
    unsealed: Unsealed,
) -> AppResult<Vec<Hashed>> {
    match chain {
        Chain::Audit => sealed_of::<audit_log::Entity>(db, which, unsealed).await,
        Chain::Webhooks => sealed_of::<payment_webhook::Entity>(db, which, unsealed).await,
        Chain::Journal => sealed_of::<journal_entry::Entity>(db, which, unsealed).await,
    }
}

async fn hashed_of<E: Chained>(db: &impl ConnectionTrait, which: &Which<'_>) -> AppResult<Vec<Hashed>> {
    let rows = models::<E>(db, which).await?;
    Ok(rows
        .iter()
        .map(|m| Hashed { id: E::id_of(m), written: E::written_of(m), content_hash: digest(&E::content(m)) })
        .collect())
}

/// Reads and hashes the rows `which` names, of `chain`'s table.
async fn hashed(db: &impl ConnectionTrait, chain: Chain, which: &Which<'_>) -> AppResult<Vec<Hashed>> {
    match chain {
        Chain::Audit => hashed_of::<audit_log::Entity>(db, which).await,
        Chain::Webhooks => hashed_of::<payment_webhook::Entity>(db, which).await,
        Chain::Journal => {
            let entries = models::<journal_entry::Entity>(db, which).await?;
            let ids: Vec<Uuid> = entries.iter().map(|e| e.id).collect();
            let lines = if ids.is_empty() {
                Vec::new()
            } else {
                journal_posting::Entity::find().filter(journal_posting::Column::EntryId.is_in(ids)).all(db).await?
            };
            let mut by_entry: HashMap<Uuid, Vec<&journal_posting::Model>> = HashMap::new();
            for l in &lines {
                by_entry.entry(l.entry_id).or_default().push(l);
            }
            Ok(entries
                .iter()
                .map(|e| {
                    let lines = by_entry.get(&e.id).map(Vec::as_slice).unwrap_or_default();
                    Hashed { id: e.id, written: e.created_at, content_hash: digest(&journal_content(e, lines)) }
                })
                .collect())
        }
    }
}

async fn written_of<E: Chained>(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<DateTime<Utc>>> {
    let ids = [id];
    Ok(select::<E>(&Which::Ids(&ids)).select_only().column(E::written()).into_tuple().one(db).await?)
}

/// When the row a link names was written, if it is still there.
async fn written_at(db: &impl ConnectionTrait, chain: Chain, id: Uuid) -> AppResult<Option<DateTime<Utc>>> {
    match chain {
        Chain::Audit => written_of::<audit_log::Entity>(db, id).await,
        Chain::Webhooks => written_of::<payment_webhook::Entity>(db, id).await,
        Chain::Journal => written_of::<journal_entry::Entity>(db, id).await,
    }
}

/// The last link of `chain`.
pub async fn head(db: &impl ConnectionTrait, chain: Chain) -> AppResult<Option<link::Model>> {
    Ok(link::Entity::find()
        .filter(link::Column::Chain.eq(chain.name()))
        .order_by_desc(link::Column::Seq)
        .one(db)
        .await?)
}

/// The time from which the chainer looks for rows to link: [`WINDOW`] before the head's row.
async fn linking_from(
    db: &impl ConnectionTrait,
    chain: Chain,
    head: Option<&link::Model>,
) -> AppResult<Option<DateTime<Utc>>> {
    looking_back(db, chain, head, WINDOW).await
}

/// `back` before the head's row was written (none for an empty chain, or a head whose row is gone).
async fn looking_back(
    db: &impl ConnectionTrait,
    chain: Chain,
    head: Option<&link::Model>,
    back: Duration,
) -> AppResult<Option<DateTime<Utc>>> {
    let Some(head) = head else { return Ok(None) };
    Ok(written_at(db, chain, head.row_id).await?.map(|t| t - back))
}

async fn unlinked_of<E: Chained>(db: &impl ConnectionTrait, from: Option<DateTime<Utc>>) -> AppResult<u64> {
    let which = Which::Unlinked { from, limit: 10_000 };
    let mut q = select::<E>(&which);
    // A row without a hash written since hashes were kept is never linked (`sealed_of`): it is not waiting.
    if let Some(t) = first_sealed::<E>(db).await? {
        q = q.filter(linkable::<E>(t));
    }
    let ids: Vec<Uuid> = q.select_only().column(E::id()).into_tuple().all(db).await?;
    Ok(ids.len() as u64)
}

/// Rows of `chain` not linked yet that the chainer will link (counted up to 10,000), reading only their ids; a row
/// it will never link (its hash removed) is not counted here: `verify` names it once the head is past it.
async fn unlinked_recent(db: &impl ConnectionTrait, chain: Chain) -> AppResult<u64> {
    let head = head(db, chain).await?;
    let from = linking_from(db, chain, head.as_ref()).await?;
    match chain {
        Chain::Audit => unlinked_of::<audit_log::Entity>(db, from).await,
        Chain::Webhooks => unlinked_of::<payment_webhook::Entity>(db, from).await,
        Chain::Journal => unlinked_of::<journal_entry::Entity>(db, from).await,
    }
}

/// The content hash of an audit entry, as its writer seals it. The format is no secret: anyone holding the database
/// can compute it, which is why what vouches for the history is a signature, not a hash.
pub fn audit_content_hash(m: &audit_log::Model) -> Vec<u8> {
    content::seal::<audit_log::Entity>(m)
}

mod chainer;
mod checkpoint;
pub(crate) mod content;
mod erase;
mod gate;
mod verify;

pub use crate::domain::signing::{PublicKey, PublicKeys, Signer};
pub use chainer::{link, spawn_chainer};
pub use checkpoint::{
    checkpoint, checkpoint_daily, checkpoint_signed, latest_signed, latest_stored, signed_message, stored_checkpoints,
    Head, SignedHeads, CHECKPOINT_KIND, SIGNED_CHECKPOINT_KIND,
};
use content::{digest, journal_content, time, Chained, GENESIS};
pub use content::{link_hash, Chain};
pub use erase::erase;
pub use gate::set_up as set_up_erasure_gate;
pub use verify::{
    against_signed, heads_of, signed_heads_of, spawn_verifier, verify, Cursor, Finding, Verified, Verifier,
};
