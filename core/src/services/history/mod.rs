//! A history no one can rewrite unseen: audit entries, journal entries (with their postings) and stored webhook
//! deliveries each form a hash chain in `history_links`.
//!
//! Rows are written as before, inside the transactions that write them, each with the SHA-256 of its canonical
//! content ([`Chained::content`]) in its `content_hash` column, computed by its writer ([`seal`]); a chainer on
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
use crate::events::{Alert, AlertKind};
use crate::services::audit::{self, Action, Actor, Subject};
use crate::state::AppState;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use entity::{audit_log, history_checkpoint, history_link as link, journal_entry, journal_posting, payment_webhook};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The chained tables, each its own chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chain {
    Audit,
    Journal,
    Webhooks,
}

impl Chain {
    pub const ALL: [Chain; 3] = [Chain::Audit, Chain::Journal, Chain::Webhooks];

    /// The chain's name in `history_links.chain` and in the API.
    pub fn name(self) -> &'static str {
        match self {
            Chain::Audit => "audit",
            Chain::Journal => "journal",
            Chain::Webhooks => "webhooks",
        }
    }

    /// What its rows are, for people.
    fn row(self) -> &'static str {
        match self {
            Chain::Audit => "audit entry",
            Chain::Journal => "journal entry",
            Chain::Webhooks => "webhook delivery",
        }
    }
}

/// How far before the chain's head a row may have been written and still be linked: longer than any transaction
/// paydesk runs, so a row that commits late is linked; a row older than that which no link names was inserted
/// from outside.
pub const WINDOW: Duration = Duration::minutes(2);
/// Rows linked per transaction, and per round of the chainer.
const BATCH: u64 = 1_000;
const ROUNDS: usize = 20;
/// The `prev_hash` of a chain's first link.
const GENESIS: [u8; 32] = [0; 32];

/// SHA-256 of `prev` followed by `content`: a link's hash.
pub fn link_hash(prev: &[u8], content: &[u8]) -> Vec<u8> {
    Sha256::new().chain_update(prev).chain_update(content).finalize().to_vec()
}

/// Writes `v` as JSON with every object's keys in byte order and no spaces: the same bytes for the same value,
/// whatever order the database hands keys back in.
fn canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(serde_json::to_vec(k).unwrap_or_default());
                out.push(b':');
                canonical(&map[k], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(item, out);
            }
            out.push(b']');
        }
        other => out.extend(serde_json::to_vec(other).unwrap_or_default()),
    }
}

/// SHA-256 of a row's canonical content.
fn digest(content: &Value) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(256);
    canonical(content, &mut bytes);
    Sha256::digest(&bytes).to_vec()
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A table whose rows are chained.
pub(crate) trait Chained: EntityTrait {
    const CHAIN: Chain;
    fn id() -> Self::Column;
    /// When a row was written: the order rows are linked in, and what [`WINDOW`] is measured on.
    fn written() -> Self::Column;
    /// The content hash the row's writer kept.
    fn sealed() -> Self::Column;
    fn id_of(m: &Self::Model) -> Uuid;
    fn written_of(m: &Self::Model) -> DateTime<Utc>;
    /// What the row's hash covers: every column that records what happened, none that a later step fills in.
    fn content(m: &Self::Model) -> Value;
}

/// Implements [`Chained`] for `$entity`, chain `$chain`, written at `$written` (column and field), its content
/// as `$content` makes it of a model.
macro_rules! chained {
    ($entity:ident, $chain:ident, $column:ident, $field:ident, $content:expr) => {
        impl Chained for $entity::Entity {
            const CHAIN: Chain = Chain::$chain;
            fn id() -> Self::Column {
                $entity::Column::Id
            }
            fn written() -> Self::Column {
                $entity::Column::$column
            }
            fn sealed() -> Self::Column {
                $entity::Column::ContentHash
            }
            fn id_of(m: &Self::Model) -> Uuid {
                m.id
            }
            fn written_of(m: &Self::Model) -> DateTime<Utc> {
                m.$field
            }
            fn content(m: &Self::Model) -> Value {
                let content: fn(&$entity::Model) -> Value = $content;
                content(m)
            }
        }
    };
}

chained!(audit_log, Audit, CreatedAt, created_at, |m| json!({
    "id": m.id, "actor_id": m.actor_id, "actor_role": m.actor_role.to_value(), "action": m.action,
    "entity_type": m.entity_type, "entity_id": m.entity_id, "before": m.before, "after": m.after,
    "reason": m.reason, "created_at": time(m.created_at),
}));

// What arrived: its bytes, headers, time and whether its signature held. What became of it (outcome, error, the
// payment it matched) is written later and may change on reprocessing.
chained!(payment_webhook, Webhooks, ReceivedAt, received_at, |m| json!({
    "id": m.id, "received_at": time(m.received_at), "signature_valid": m.signature_valid,
    "headers": m.headers, "raw_body_sha256": hex::encode(Sha256::digest(&m.raw_body)),
}));

// The entry; its lines are added by `journal_content`.
chained!(journal_entry, Journal, CreatedAt, created_at, |m| json!({
    "id": m.id, "kind": m.kind.to_value(), "reference": m.reference, "payment_id": m.payment_id,
    "payout_request_id": m.payout_request_id, "description": m.description, "created_at": time(m.created_at),
}));

/// A journal entry's content with its lines, in line order.
fn journal_content(entry: &journal_entry::Model, lines: &[&journal_posting::Model]) -> Value {
    let mut content = <journal_entry::Entity as Chained>::content(entry);
    let mut lines: Vec<_> = lines.to_vec();
    lines.sort_by_key(|l| l.line);
    content["lines"] = lines
        .iter()
        .map(|l| {
            json!({
                "line": l.line, "account": l.account.to_value(), "wallet_id": l.wallet_id,
                "currency": l.currency, "amount": l.amount.minor(),
            })
        })
        .collect();
    content
}

/// The content hash of `row`, for its writer to keep in its `content_hash` column: what the chainer links.
pub(crate) fn seal<E: Chained>(row: &E::Model) -> Vec<u8> {
    digest(&E::content(row))
}

/// The content hash of a journal entry with its lines, for the code that books it to keep.
pub(crate) fn seal_entry(entry: &journal_entry::Model, lines: &[journal_posting::Model]) -> Vec<u8> {
    digest(&journal_content(entry, &lines.iter().collect::<Vec<_>>()))
}

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
    /// Rows no link names, written before `before`, oldest first: inserted out of order.
    UnlinkedBefore { before: DateTime<Utc>, limit: u64 },
    /// These rows.
    Ids(&'a [Uuid]),
}

/// `NOT EXISTS` a link of `chain` naming the row of `table`.
fn unlinked(chain: Chain, table: &str) -> sea_orm::sea_query::SimpleExpr {
    Expr::cust(format!(
        "NOT EXISTS (SELECT 1 FROM history_links l WHERE l.chain = '{}' AND l.row_id = {table}.id)",
        chain.name()
    ))
}

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
        Which::UnlinkedBefore { before, limit } => {
            oldest_first(E::find().filter(unlinked(E::CHAIN, &table)).filter(E::written().lt(*before))).limit(*limit)
        }
        Which::Ids(ids) => E::find().filter(E::id().is_in(ids.iter().copied())),
    }
}

async fn models<E: Chained>(db: &impl ConnectionTrait, which: &Which<'_>) -> AppResult<Vec<E::Model>> {
    Ok(select::<E>(which).all(db).await?)
}

/// The rows `which` names as their writers sealed them: id, time written and kept content hash, reading nothing
/// else; rows written before hashes were kept are hashed from their content.
async fn sealed_of<E: Chained>(db: &impl ConnectionTrait, which: &Which<'_>) -> AppResult<Vec<Hashed>> {
    let rows: Vec<(Uuid, DateTime<Utc>, Option<Vec<u8>>)> = select::<E>(which)
        .select_only()
        .column(E::id())
        .column(E::written())
        .column(E::sealed())
        .into_tuple()
        .all(db)
        .await?;
    let unsealed: Vec<Uuid> = rows.iter().filter(|r| r.2.is_none()).map(|r| r.0).collect();
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

/// Reads the rows `which` names, of `chain`'s table, as their writers sealed them.
async fn sealed(db: &impl ConnectionTrait, chain: Chain, which: &Which<'_>) -> AppResult<Vec<Hashed>> {
    match chain {
        Chain::Audit => sealed_of::<audit_log::Entity>(db, which).await,
        Chain::Webhooks => sealed_of::<payment_webhook::Entity>(db, which).await,
        Chain::Journal => sealed_of::<journal_entry::Entity>(db, which).await,
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

/// Rows of `chain` not linked yet that the chainer will link.
async fn unlinked_recent(db: &impl ConnectionTrait, chain: Chain) -> AppResult<u64> {
    let head = head(db, chain).await?;
    let from = linking_from(db, chain, head.as_ref()).await?;
    Ok(sealed(db, chain, &Which::Unlinked { from, limit: 10_000 }).await?.len() as u64)
}

mod chainer;
mod checkpoint;
mod erase;
mod verify;

pub use chainer::{link, spawn_chainer};
pub use checkpoint::{checkpoint, checkpoint_daily, Head, CHECKPOINT_KIND};
pub use erase::erase;
pub use verify::{against, heads_of, spawn_verifier, verify, Cursor, Finding, Verified, Verifier};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_content_hashes_the_same_whatever_order_its_keys_come_in() {
        let a: Value =
            serde_json::from_str(r#"{"b": {"y": 1.50, "x": [2, {"d": null, "c": "é"}]}, "a": true}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{"a": true, "b": {"x": [2, {"c": "é", "d": null}], "y": 1.50}}"#).unwrap();
        let mut bytes = Vec::new();
        canonical(&a, &mut bytes);
        assert_eq!(String::from_utf8(bytes).unwrap(), r#"{"a":true,"b":{"x":[2,{"c":"é","d":null}],"y":1.50}}"#);
        assert_eq!(digest(&a), digest(&b));
        // An amount written otherwise is other content: the chain keeps what was stored.
        let c: Value =
            serde_json::from_str(r#"{"a": true, "b": {"x": [2, {"c": "é", "d": null}], "y": 1.5}}"#).unwrap();
        assert_ne!(digest(&a), digest(&c));
    }

    #[test]
    fn a_link_hashes_the_previous_hash_then_the_content() {
        let content = digest(&json!({ "id": 1 }));
        let first = link_hash(&GENESIS, &content);
        assert_eq!(first, Sha256::new().chain_update([0u8; 32]).chain_update(&content).finalize().to_vec());
        assert_ne!(link_hash(&first, &content), first, "the same row after another is another link");
    }
}
