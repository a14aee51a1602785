//! A history no one can rewrite unseen: audit entries, journal entries (with their postings) and stored webhook
//! deliveries each form a hash chain in `history_links`.
//!
//! Rows are written as before, inside the transactions that write them; a chainer on every instance ([`link`])
//! then links what has committed, oldest first, in batches: each link holds the SHA-256 of its row's canonical
//! content ([`Chained::content`]), the previous link's hash and its own hash over both. Linking only what has
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
pub const WINDOW: Duration = Duration::minutes(10);
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
trait Chained: EntityTrait {
    const CHAIN: Chain;
    fn id() -> Self::Column;
    /// When a row was written: the order rows are linked in, and what [`WINDOW`] is measured on.
    fn written() -> Self::Column;
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

async fn models<E: Chained>(db: &impl ConnectionTrait, which: &Which<'_>) -> AppResult<Vec<E::Model>> {
    let table = E::default().table_name().to_owned();
    let oldest_first = |q: sea_orm::Select<E>| q.order_by_asc(E::written()).order_by_asc(E::id());
    let query = match which {
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
    };
    Ok(query.all(db).await?)
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

/// When the row a link names was written, if it is still there.
async fn written_at(db: &impl ConnectionTrait, chain: Chain, id: Uuid) -> AppResult<Option<DateTime<Utc>>> {
    Ok(hashed(db, chain, &Which::Ids(&[id])).await?.first().map(|h| h.written))
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

/// How far back before the head each tick of the chainer looks: rows commit within moments of being written.
/// Every [`WIDE_EVERY`]th tick looks back the whole [`WINDOW`], for the rare transaction that took longer (or an
/// instance whose clock is behind).
const QUICK: Duration = Duration::seconds(5);
const WIDE_EVERY: u64 = 60;

/// Links every committed row not linked yet, oldest first, on every chain; returns how many it linked. `wide`
/// looks back the whole [`WINDOW`] for rows that committed late, else only a few seconds.
pub async fn link(db: &DatabaseConnection, wide: bool) -> AppResult<u64> {
    let mut linked = 0;
    for chain in Chain::ALL {
        linked += link_chain(db, chain, if wide { WINDOW } else { QUICK }).await?;
    }
    Ok(linked)
}

async fn link_chain(db: &DatabaseConnection, chain: Chain, back: Duration) -> AppResult<u64> {
    let mut linked = 0;
    for _ in 0..ROUNDS {
        let txn = db.begin().await?;
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            let sql = format!("SELECT pg_try_advisory_xact_lock(hashtext('paydesk.history.{}')) AS got", chain.name());
            let row = txn.query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql)).await?;
            if !row.map(|r| r.try_get::<bool>("", "got")).transpose()?.unwrap_or(false) {
                return Ok(linked);
            }
        }
        let head = head(&txn, chain).await?;
        let from = looking_back(&txn, chain, head.as_ref(), back).await?;
        let rows = hashed(&txn, chain, &Which::Unlinked { from, limit: BATCH }).await?;
        if rows.is_empty() {
            txn.commit().await?;
            break;
        }
        let (mut seq, mut prev) = head.map(|h| (h.seq, h.hash)).unwrap_or((0, GENESIS.to_vec()));
        let now = super::now();
        let links: Vec<link::ActiveModel> = rows
            .iter()
            .map(|r| {
                seq += 1;
                let hash = link_hash(&prev, &r.content_hash);
                link::ActiveModel {
                    chain: Set(chain.name().to_owned()),
                    seq: Set(seq),
                    row_id: Set(r.id),
                    content_hash: Set(r.content_hash.clone()),
                    prev_hash: Set(std::mem::replace(&mut prev, hash.clone())),
                    hash: Set(hash),
                    linked_at: Set(now),
                }
            })
            .collect();
        link::Entity::insert_many(links).exec_without_returning(&txn).await?;
        txn.commit().await?;
        linked += rows.len() as u64;
        if (rows.len() as u64) < BATCH {
            break;
        }
    }
    Ok(linked)
}

/// Links new rows every second, on `background`.
pub fn spawn_chainer(background: DatabaseConnection) {
    let mut ticks = 0u64;
    super::every(std::time::Duration::from_secs(1), "history rows linked", move || {
        let db = background.clone();
        ticks += 1;
        let wide = ticks % WIDE_EVERY == 1;
        async move { link(&db, wide).await }
    });
}

/// Something in a chain that is not as it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub chain: Chain,
    /// The link at which it was found, if a link names it.
    pub seq: Option<i64>,
    /// The row it is about.
    pub row_id: Option<Uuid>,
    pub problem: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "{} chain, link {seq}: {}", self.chain.name(), self.problem),
            None => write!(f, "{} chain: {}", self.chain.name(), self.problem),
        }
    }
}

/// Where a walk along one chain stands: the next link it expects and the hash that link must follow.
#[derive(Debug, Clone)]
pub struct Cursor {
    pub seq: i64,
    pub prev: Vec<u8>,
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor { seq: 0, prev: GENESIS.to_vec() }
    }
}

/// Rows erased on an admin's word: each explained by a linked `history.erased` audit entry naming it.
async fn erased(db: &impl ConnectionTrait) -> AppResult<HashSet<Uuid>> {
    let action: &str = Action::HistoryErased.into();
    let rows: Vec<Uuid> = audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::EntityId)
        .filter(audit_log::Column::Action.eq(action))
        .filter(Expr::cust(
            "EXISTS (SELECT 1 FROM history_links l WHERE l.chain = 'audit' AND l.row_id = audit_log.id)",
        ))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Checks up to `limit` links of `chain` after `cursor`, and the rows they name; moves the cursor past them.
/// Returns what it found and whether it reached the chain's end.
async fn verify_slice(
    db: &impl ConnectionTrait,
    chain: Chain,
    cursor: &mut Cursor,
    limit: u64,
    erased: &HashSet<Uuid>,
) -> AppResult<(Vec<Finding>, bool)> {
    let links = link::Entity::find()
        .filter(link::Column::Chain.eq(chain.name()))
        .filter(link::Column::Seq.gt(cursor.seq))
        .order_by_asc(link::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = links.iter().map(|l| l.row_id).collect();
    let rows: HashMap<Uuid, Hashed> = if ids.is_empty() {
        HashMap::new()
    } else {
        hashed(db, chain, &Which::Ids(&ids)).await?.into_iter().map(|h| (h.id, h)).collect()
    };
    let mut found = Vec::new();
    let what = chain.row();
    for l in &links {
        let mut problem = |row_id: Option<Uuid>, problem: String| {
            found.push(Finding { chain, seq: Some(l.seq), row_id, problem });
        };
        if l.seq != cursor.seq + 1 {
            let gone = if l.seq == cursor.seq + 2 {
                format!("link {} is gone", cursor.seq + 1)
            } else {
                format!("links {} to {} are gone", cursor.seq + 1, l.seq - 1)
            };
            problem(None, format!("{gone}: the rows they named were deleted, or their links were"));
        } else if l.prev_hash != cursor.prev {
            problem(Some(l.row_id), "does not follow the link before it: a link was replaced or inserted".into());
        }
        if l.hash != link_hash(&l.prev_hash, &l.content_hash) {
            problem(
                Some(l.row_id),
                "its hash is not the hash of its content and the link before: the link was edited".into(),
            );
        }
        match rows.get(&l.row_id) {
            None => problem(Some(l.row_id), format!("{what} {} was deleted", l.row_id)),
            Some(row) if row.content_hash != l.content_hash && !erased.contains(&l.row_id) => {
                problem(Some(l.row_id), format!("{what} {} was edited after it was written", l.row_id))
            }
            Some(_) => {}
        }
        cursor.seq = l.seq;
        cursor.prev = l.hash.clone();
    }
    Ok((found, (links.len() as u64) < limit))
}

/// Rows of `chain` older than its head by more than [`WINDOW`] that no link names: inserted out of order.
async fn out_of_order(db: &impl ConnectionTrait, chain: Chain, limit: u64) -> AppResult<Vec<Finding>> {
    let head = head(db, chain).await?;
    let Some(before) = linking_from(db, chain, head.as_ref()).await? else { return Ok(Vec::new()) };
    let rows = hashed(db, chain, &Which::UnlinkedBefore { before, limit }).await?;
    Ok(rows
        .into_iter()
        .map(|r| Finding {
            chain,
            seq: None,
            row_id: Some(r.id),
            problem: format!(
                "{} {} (written {}) is in no link though the chain has moved past its time: inserted out of order",
                chain.row(),
                r.id,
                time(r.written)
            ),
        })
        .collect())
}

/// What a whole walk found.
#[derive(Debug, Default)]
pub struct Verified {
    /// Links checked per chain.
    pub links: Vec<(Chain, i64)>,
    /// Rows written within [`WINDOW`] of the head and not linked yet (the chainer links them within seconds).
    pub unlinked: u64,
    pub findings: Vec<Finding>,
}

impl Verified {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

impl std::fmt::Display for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let links: Vec<String> = self.links.iter().map(|(c, n)| format!("{} {n}", c.name())).collect();
        writeln!(
            f,
            "history: checked {} links ({})",
            self.links.iter().map(|(_, n)| n).sum::<i64>(),
            links.join(", ")
        )?;
        if self.unlinked > 0 {
            writeln!(
                f,
                "  {} recent row(s) not linked yet (a running server links them within seconds)",
                self.unlinked
            )?;
        }
        if self.findings.is_empty() {
            return writeln!(f, "OK: every chain is whole and every row is as it was written");
        }
        writeln!(f, "TAMPERED: {} finding(s), the first first", self.findings.len())?;
        for x in &self.findings {
            writeln!(f, "  {x}")?;
        }
        Ok(())
    }
}

/// Walks every chain from its first link: every link follows the one before, every row is as its link says, no
/// link is missing, and no old row is left out. Reads only.
pub async fn verify(db: &impl ConnectionTrait) -> AppResult<Verified> {
    let erased = erased(db).await?;
    let mut verified = Verified::default();
    for chain in Chain::ALL {
        let mut cursor = Cursor::default();
        loop {
            let (found, done) = verify_slice(db, chain, &mut cursor, 5_000, &erased).await?;
            verified.findings.extend(found);
            if done {
                break;
            }
        }
        verified.links.push((chain, cursor.seq));
        verified.findings.extend(out_of_order(db, chain, 100).await?);
        verified.unlinked += unlinked_recent(db, chain).await?;
    }
    Ok(verified)
}

/// Rows of `chain` not linked yet that the chainer will link.
async fn unlinked_recent(db: &impl ConnectionTrait, chain: Chain) -> AppResult<u64> {
    let head = head(db, chain).await?;
    let from = linking_from(db, chain, head.as_ref()).await?;
    Ok(hashed(db, chain, &Which::Unlinked { from, limit: 10_000 }).await?.len() as u64)
}

/// The background check: a slice of every chain per tick, from the first link to the head and round again, each
/// finding raised once as a CRITICAL `history_tampered` alert.
#[derive(Default)]
pub struct Verifier {
    cursors: HashMap<Chain, Cursor>,
    raised: HashSet<(Chain, Option<i64>, Option<Uuid>)>,
}

/// Links a background tick checks per chain.
const SLICE: u64 = 20_000;

impl Verifier {
    /// One tick: returns the findings it raised now.
    pub async fn tick(&mut self, state: &AppState, db: &DatabaseConnection) -> AppResult<u64> {
        let erased = erased(db).await?;
        let mut raised = 0;
        for chain in Chain::ALL {
            let cursor = self.cursors.entry(chain).or_default();
            let (mut found, done) = verify_slice(db, chain, cursor, SLICE, &erased).await?;
            if done {
                found.extend(out_of_order(db, chain, 100).await?);
                *cursor = Cursor::default();
            }
            for f in found {
                if !self.raised.insert((f.chain, f.seq, f.row_id)) {
                    continue;
                }
                raised += 1;
                let message = format!("history tampered: {f}; run `paydesk verify` for the whole picture");
                tracing::error!(%message, "history_tampered");
                state
                    .events
                    .alert(
                        &state.db,
                        Alert::new(entity::status::Severity::Critical, AlertKind::HistoryTampered, message),
                    )
                    .await;
            }
        }
        Ok(raised)
    }
}

/// Checks the chains in the background every `period`, and at the same pace takes the day's checkpoint once a day.
pub fn spawn_verifier(state: AppState, background: DatabaseConnection, period: std::time::Duration) {
    let verifier = std::sync::Arc::new(tokio::sync::Mutex::new(Verifier::default()));
    let db = background.clone();
    super::every(period, "history findings raised", move || {
        let (state, db, verifier) = (state.clone(), db.clone(), verifier.clone());
        async move { verifier.lock().await.tick(&state, &db).await }
    });
    super::every(period, "history checkpoints sent", move || {
        let db = background.clone();
        async move { checkpoint_daily(&db).await }
    });
}

/// The heads in a checkpoint kept outside the database: the JSON `historyCheckpoint` returns (`chains`, or
/// `data.historyCheckpoint.chains`) or a daily checkpoint notification's body (`heads`).
pub fn heads_of(json: &Value) -> anyhow::Result<Vec<(Chain, i64, Vec<u8>)>> {
    let list = [&json["heads"], &json["chains"], &json["data"]["historyCheckpoint"]["chains"]]
        .into_iter()
        .find_map(Value::as_array)
        .ok_or_else(|| anyhow::anyhow!("no `heads` or `chains` list"))?;
    list.iter()
        .map(|h| {
            let name = h["chain"].as_str().unwrap_or_default().to_ascii_lowercase();
            let chain = Chain::ALL
                .into_iter()
                .find(|c| c.name() == name)
                .ok_or_else(|| anyhow::anyhow!("unknown chain `{name}`"))?;
            let seq = h["seq"].as_i64().ok_or_else(|| anyhow::anyhow!("{name}: no seq"))?;
            let hash = hex::decode(h["hash"].as_str().unwrap_or_default())
                .map_err(|e| anyhow::anyhow!("{name}: hash is not hex: {e}"))?;
            Ok((chain, seq, hash))
        })
        .collect()
}

/// Whether the chains still hold the heads of a checkpoint: the link at each `seq` has that hash. A chain
/// recomputed from an edited row onwards verifies on its own, but not against heads kept elsewhere.
pub async fn against(db: &impl ConnectionTrait, heads: &[(Chain, i64, Vec<u8>)]) -> AppResult<Vec<Finding>> {
    let mut found = Vec::new();
    for (chain, seq, hash) in heads {
        if *seq == 0 {
            continue;
        }
        let at = link::Entity::find_by_id((chain.name().to_owned(), *seq)).one(db).await?;
        let problem = match at {
            None => format!("the checkpoint's head (link {seq}) is gone: the chain was cut"),
            Some(l) if &l.hash != hash => format!(
                "link {seq} has hash {} but the checkpoint kept {}: the chain was rewritten",
                hex::encode(&l.hash),
                hex::encode(hash)
            ),
            Some(_) => continue,
        };
        found.push(Finding { chain: *chain, seq: Some(*seq), row_id: None, problem });
    }
    Ok(found)
}

/// One chain's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub chain: Chain,
    /// Links in the chain.
    pub seq: i64,
    /// The last link's hash (32 zero bytes for an empty chain).
    pub hash: Vec<u8>,
    pub row_id: Option<Uuid>,
    pub linked_at: Option<DateTime<Utc>>,
    /// Recent rows the chainer has still to link.
    pub unlinked: u64,
}

impl Head {
    pub fn to_json(&self) -> Value {
        json!({
            "chain": self.chain.name(), "seq": self.seq, "hash": hex::encode(&self.hash), "rowId": self.row_id,
            "linkedAt": self.linked_at.map(time),
        })
    }
}

/// Every chain's head now; staff only.
pub async fn checkpoint(db: &impl ConnectionTrait, who: Principal) -> AppResult<Vec<Head>> {
    who.require(roles::STAFF)?;
    heads(db).await
}

async fn heads(db: &impl ConnectionTrait) -> AppResult<Vec<Head>> {
    let mut heads = Vec::new();
    for chain in Chain::ALL {
        let head = head(db, chain).await?;
        heads.push(Head {
            chain,
            seq: head.as_ref().map_or(0, |h| h.seq),
            hash: head.as_ref().map_or(GENESIS.to_vec(), |h| h.hash.clone()),
            row_id: head.as_ref().map(|h| h.row_id),
            linked_at: head.as_ref().map(|h| h.linked_at),
            unlinked: unlinked_recent(db, chain).await?,
        });
    }
    Ok(heads)
}

/// The kind of the notification that carries a day's heads to the marketplace.
pub const CHECKPOINT_KIND: &str = "history.checkpoint";

/// The heads of a UTC day that has ended: each chain's last link made before the next day began. The same
/// whenever it is taken, so an instance that was down takes it late and sends the same heads.
async fn heads_of_day(db: &impl ConnectionTrait, end: DateTime<Utc>) -> AppResult<Vec<Value>> {
    let mut heads = Vec::new();
    for chain in Chain::ALL {
        let last = link::Entity::find()
            .filter(link::Column::Chain.eq(chain.name()))
            .filter(link::Column::LinkedAt.lt(end))
            .order_by_desc(link::Column::Seq)
            .one(db)
            .await?;
        heads.push(json!({
            "chain": chain.name(), "seq": last.as_ref().map_or(0, |l| l.seq),
            "hash": hex::encode(last.as_ref().map_or(GENESIS.to_vec(), |l| l.hash.clone())),
            "rowId": last.as_ref().map(|l| l.row_id), "linkedAt": last.as_ref().map(|l| time(l.linked_at)),
        }));
    }
    Ok(heads)
}

/// Once a UTC day has ended, whichever instance gets there first: stores that day's heads and sends them to the
/// marketplace's callback as a notification (signed like every other). A day before anything was linked has no
/// checkpoint. Returns 1 when it took yesterday's.
pub async fn checkpoint_daily(db: &DatabaseConnection) -> AppResult<u64> {
    let now = super::now();
    let today = now.date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now);
    let day = (today - Duration::days(1)).format("%Y-%m-%d").to_string();
    if history_checkpoint::Entity::find_by_id(day.clone()).one(db).await?.is_some() {
        return Ok(0);
    }
    // One snapshot for the three chains' heads (PostgreSQL reads each statement afresh under READ COMMITTED).
    let txn = if db.get_database_backend() == DatabaseBackend::Postgres {
        db.begin_with_config(Some(sea_orm::IsolationLevel::RepeatableRead), None).await?
    } else {
        db.begin().await?
    };
    let heads = heads_of_day(&txn, today).await?;
    if heads.iter().all(|h| h["seq"] == 0) {
        txn.rollback().await?;
        return Ok(0);
    }
    let body = json!({ "day": day, "heads": heads });
    let taken = history_checkpoint::Entity::insert(history_checkpoint::ActiveModel {
        day: Set(day.clone()),
        heads: Set(body.clone()),
        created_at: Set(now),
    })
    .on_conflict(OnConflict::column(history_checkpoint::Column::Day).do_nothing().to_owned())
    .exec_without_returning(&txn)
    .await?;
    if taken == 0 {
        txn.rollback().await?;
        return Ok(0);
    }
    super::notifications::notify(
        &txn,
        super::notifications::New {
            recipient_id: Uuid::nil(),
            kind: CHECKPOINT_KIND,
            severity: entity::status::Severity::Info,
            title: format!("History checkpoint {day}"),
            body: body.to_string(),
            payment_id: None,
            payout_request_id: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(1)
}

/// Redacts one audit entry (its before, after and reason) or one webhook delivery (its body and headers), for a
/// legally required erasure; admin only, with the reason. The change is recorded as a `history.erased` audit
/// entry naming the row and the hash its content had, so the chains still verify and say why it changed. Journal
/// entries are never erased: books are corrected by new entries.
pub async fn erase(db: &DatabaseConnection, who: Principal, chain: Chain, id: Uuid, reason: &str) -> AppResult<()> {
    who.require(roles::ADMIN)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::BadInput("say why the record must be erased (the legal ground): reason is empty".into()));
    }
    let txn = db.begin().await?;
    let linked = link::Entity::find()
        .filter(link::Column::Chain.eq(chain.name()))
        .filter(link::Column::RowId.eq(id))
        .one(&txn)
        .await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        let set = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT set_config('paydesk.erasure', $1, true)",
            [id.to_string().into()],
        );
        txn.execute_raw(set).await?;
    }
    let (subject, done) = match chain {
        Chain::Journal => {
            return Err(AppError::InvalidState(
                "journal entries are never erased: the books are corrected by a new entry".into(),
            ))
        }
        Chain::Audit => {
            let done = audit_log::Entity::update_many()
                .col_expr(audit_log::Column::Before, Expr::value(Option::<Value>::None))
                .col_expr(audit_log::Column::After, Expr::value(Option::<Value>::None))
                .col_expr(audit_log::Column::Reason, Expr::value(Option::<String>::None))
                .filter(audit_log::Column::Id.eq(id))
                .exec(&txn)
                .await?;
            (Subject::AuditEntry, done.rows_affected)
        }
        Chain::Webhooks => {
            let done = payment_webhook::Entity::update_many()
                .col_expr(payment_webhook::Column::Headers, Expr::value(json!({})))
                .col_expr(payment_webhook::Column::RawBody, Expr::value(Vec::<u8>::new()))
                .filter(payment_webhook::Column::Id.eq(id))
                .exec(&txn)
                .await?;
            (Subject::PaymentWebhook, done.rows_affected)
        }
    };
    if done != 1 {
        return Err(AppError::not_found(chain.row(), id));
    }
    audit::record(
        &txn,
        audit::Entry {
            actor: Actor::User(who),
            action: Action::HistoryErased,
            entity_type: subject,
            entity_id: id,
            before: Some(json!({
                "chain": chain.name(),
                "seq": linked.as_ref().map(|l| l.seq),
                "contentHash": linked.as_ref().map(|l| hex::encode(&l.content_hash)),
            })),
            after: None,
            reason: Some(reason.to_owned()),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

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
