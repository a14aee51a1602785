//! Live events: stored as rows of `events` inside the transaction that causes them, and seen by every instance.
//!
//! Staging an event inserts it with the next sequence number; on PostgreSQL it also takes a transaction-level
//! advisory lock first, so events commit in sequence order, and queues a `NOTIFY` carrying only that number
//! (PostgreSQL delivers it on commit, never on rollback). Each instance runs one reader that fetches every
//! event after the last it saw, whenever it is told there is more: on PostgreSQL by the NOTIFY of any instance
//! (its own included; one read serves every NOTIFY queued meanwhile, and none is made while nobody here
//! subscribes), on SQLite by this process after a commit. A LISTEN connection that drops costs nothing: the
//! reader LISTENs again on a new one, then catches up from the table; and while anybody subscribes it also reads
//! the table every second, for a connection that died without a word. Subscribers read a bounded broadcast, so a
//! slow one never blocks a mutation; one that falls behind is told how many events it missed.

use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use entity::event as stored;
use entity::payout_request as payout;
use entity::status::Severity;
use entity::InOrder;
use sea_orm::sqlx::postgres::{PgListener, PgPool};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::sync::Notify;
use uuid::Uuid;

/// The NOTIFY channel every instance listens on.
pub const CHANNEL: &str = "paydesk_events";

/// The kinds of event, as stored in `events.kind` (and as `Event`'s serde tag names them).
pub const PAYOUT_REQUESTED: &str = "payout_requested";
pub const PAYOUT_STATUS_CHANGED: &str = "payout_status_changed";
pub const ALERT: &str = "alert";

/// Something subscribers hear about.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    PayoutRequested { payout: payout::Model },
    PayoutStatusChanged { payout: payout::Model },
    Alert(Alert),
}

impl Event {
    /// The event's kind, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::PayoutRequested { .. } => PAYOUT_REQUESTED,
            Event::PayoutStatusChanged { .. } => PAYOUT_STATUS_CHANGED,
            Event::Alert(_) => ALERT,
        }
    }

    fn severity(&self) -> Option<Severity> {
        match self {
            Event::Alert(a) => Some(a.severity),
            _ => None,
        }
    }
}

/// An event as the log holds it: its sequence number is the cursor a subscriber resumes after.
#[derive(Debug, Clone)]
pub struct Stored {
    pub seq: i64,
    pub created_at: DateTime<Utc>,
    pub event: Event,
}

/// Which stored events to read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these kinds (`Event::kind`); `None`: all.
    pub kinds: Option<Vec<&'static str>>,
    /// Only alerts at this severity or above.
    pub min_severity: Option<Severity>,
}

impl Filter {
    /// Alerts at `min_severity` or above.
    pub fn alerts(min_severity: Severity) -> Filter {
        Filter { kinds: Some(vec![ALERT]), min_severity: Some(min_severity) }
    }

    fn apply(&self, mut q: sea_orm::Select<stored::Entity>) -> sea_orm::Select<stored::Entity> {
        if let Some(kinds) = &self.kinds {
            q = q.filter(stored::Column::Kind.is_in(kinds.iter().copied()));
        }
        if let Some(floor) = self.min_severity {
            let loud = [Severity::Info, Severity::Warning, Severity::Critical].into_iter().filter(move |s| *s >= floor);
            q = q.filter(stored::Column::Kind.eq(ALERT)).filter(stored::Column::Severity.is_in(loud));
        }
        q
    }

    /// Whether `event` passes (for events that arrive live rather than from a query).
    pub fn admits(&self, event: &Event) -> bool {
        self.kinds.as_ref().is_none_or(|k| k.contains(&event.kind()))
            && self.min_severity.is_none_or(|floor| event.severity().is_some_and(|s| s >= floor))
    }
}

/// One read of the log, oldest first.
pub struct Batch {
    pub events: Vec<Stored>,
    /// The last sequence number read (also when its row could not be parsed): where the next read starts.
    pub through: Option<i64>,
    /// Whether the read was cut at its limit (there may be more).
    pub full: bool,
}

/// Up to `limit` stored events after `after` that pass `filter`, oldest first. Rows that no longer parse (an
/// event shape from an older version) are skipped with a warning.
pub async fn read_after(db: &impl ConnectionTrait, after: i64, limit: u64, filter: &Filter) -> Result<Batch, DbErr> {
    let q = filter.apply(stored::Entity::find().filter(stored::Column::Seq.gt(after)));
    let rows = q.order_by_asc(stored::Column::Seq).limit(limit).into_model::<InOrder<stored::Model>>().all(db).await?;
    let (through, full) = (rows.last().map(|r| r.0.seq), rows.len() as u64 == limit);
    Ok(Batch { events: parse(rows), through, full })
}

/// Up to `limit` stored events before `before` (or the newest) that pass `filter`, newest first.
pub async fn read_before(
    db: &impl ConnectionTrait,
    before: Option<i64>,
    limit: u64,
    filter: &Filter,
) -> Result<Vec<Stored>, DbErr> {
    let mut q = filter.apply(stored::Entity::find());
    if let Some(before) = before {
        q = q.filter(stored::Column::Seq.lt(before));
    }
    Ok(parse(q.order_by_desc(stored::Column::Seq).limit(limit).into_model::<InOrder<_>>().all(db).await?))
}

/// The newest sequence number stored (0 when there is none).
pub async fn newest(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let newest: Option<Option<i64>> =
        stored::Entity::find().select_only().column_as(stored::Column::Seq.max(), "m").into_tuple().one(db).await?;
    Ok(newest.flatten().unwrap_or(0))
}

/// The events of rows read by column position (`entity::ByPosition`); a row that no longer parses is skipped.
fn parse(rows: Vec<InOrder<stored::Model>>) -> Vec<Stored> {
    rows.into_iter()
        .filter_map(|InOrder(row)| match decode(&row.kind, &row.payload) {
            Ok(event) => Some(Stored { seq: row.seq, created_at: row.created_at, event }),
            Err(e) => {
                tracing::warn!(error = %e, seq = row.seq, "unreadable stored event");
                None
            }
        })
        .collect()
}

/// A stored payload read as the event its row's `kind` names, straight into that event's own type. serde reads an
/// internally tagged enum (`Event`) by first copying every field of the payload into a tree of its own, to find the
/// tag; the row already says which event it is, so only a row of a kind this version does not know takes that path.
fn decode(kind: &str, payload: &str) -> serde_json::Result<Event> {
    /// A payout event's payload: the request, beside the tag (ignored).
    #[derive(Deserialize)]
    struct Payout {
        payout: payout::Model,
    }
    match kind {
        PAYOUT_REQUESTED => serde_json::from_str(payload).map(|p: Payout| Event::PayoutRequested { payout: p.payout }),
        PAYOUT_STATUS_CHANGED => {
            serde_json::from_str(payload).map(|p: Payout| Event::PayoutStatusChanged { payout: p.payout })
        }
        ALERT => serde_json::from_str(payload).map(Event::Alert),
        _ => serde_json::from_str(payload),
    }
}

/// Something ops should look at.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alert {
    pub id: Uuid,
    pub severity: Severity,
    /// An `AlertKind`'s name (kept as text, so an instance reads the alerts of a newer one).
    pub kind: String,
    pub message: String,
    pub payment_id: Option<Uuid>,
    pub payout_request_id: Option<Uuid>,
    pub webhook_id: Option<Uuid>,
    #[serde(deserialize_with = "entity::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
}

/// What an alert is about; its name (`webhook_unmatched`, …) is what the API's `Alert.kind` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum AlertKind {
    /// A Cashfree API stopped answering (its circuit breaker opened).
    CashfreeDown,
    /// A Cashfree API answers again.
    CashfreeUp,
    /// A second successful payment for an order already paid: the client was charged twice.
    DoubleCharge,
    /// A client's bank disputed a payment: its amount is held from the freelancer's wallet.
    DisputeOpened,
    /// A dispute was decided for the client: the held money is gone for good.
    DisputeLost,
    /// A dispute on a payment already refunded (in part): the client may be paid twice.
    DisputeOnRefunded,
    /// A dispute was decided for the merchant: the held money went back to the wallet.
    DisputeWon,
    /// A chained row (audit entry, journal entry, webhook delivery) or a link of its chain was changed, deleted
    /// or inserted out of order.
    HistoryTampered,
    /// A notification could not be delivered to the marketplace's callback.
    NotificationUndeliverable,
    /// The Cashfree Payouts balance is below `PAYDESK_PAYOUT_BALANCE_LOW`, or cannot cover a payout.
    PayoutBalanceLow,
    /// Cashfree's settlement of a payment differs from paydesk's records (or is missing on either side).
    SettlementMismatch,
    /// A refund larger than what is left of its payment.
    OverRefund,
    /// A payout's transfer failed; the debit was credited back.
    PayoutFailed,
    /// A paid transfer was returned by the bank; the money was credited back.
    PayoutReversed,
    /// A payout request tripped a suspicious-activity rule.
    PayoutRisk,
    /// An admin held every payout.
    PayoutsFrozen,
    /// An admin released the hold on every payout.
    PayoutsUnfrozen,
    /// A refund for a payment that was never paid.
    RefundUnpaid,
    /// An approval was refused because the wallet would fall below its reserve.
    ReserveViolation,
    /// A webhook's signature or timestamp did not verify.
    SignatureRejected,
    /// An admin held one freelancer's payouts.
    WalletHeld,
    /// A refund or a dispute left a wallet below zero.
    WalletOverdrawn,
    /// An admin released the hold on one freelancer's payouts.
    WalletReleased,
    /// A webhook could not be processed (Cashfree will retry it).
    WebhookFailed,
    /// A signed webhook could not be read, or named an amount nothing may be booked from.
    WebhookMalformed,
    /// Money arrived that matches no order or payout.
    WebhookUnmatched,
    /// A signed webhook of a type paydesk has never seen: recorded and answered, nothing done.
    WebhookUnknownType,
    /// Cashfree reported an incident at a beneficiary's bank: payouts to the beneficiaries it names are held.
    BeneficiaryIncident,
    /// A signed delivery carried another delivery's `x-idempotency-key` for another event: it was applied by what it
    /// says instead of being dropped as a duplicate.
    WebhookKeyReused,
    /// Cashfree paid a refund paydesk had marked failed (and given its money back): it is booked now, and the
    /// freelancer's share taken again.
    RefundPaidAfterFailure,
}

impl AlertKind {
    /// The kind's name, as stored and as the API shows it.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

impl Alert {
    pub fn new(severity: Severity, kind: AlertKind, message: impl Into<String>) -> Self {
        Alert {
            id: crate::clock::new_id(),
            severity,
            kind: kind.name().to_owned(),
            message: message.into(),
            payment_id: None,
            payout_request_id: None,
            webhook_id: None,
            created_at: crate::clock::now(),
        }
    }
}

/// This process's fan-out of events to its subscribers.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Stored>,
    backend: DbBackend,
    /// Tells this instance's reader that an event committed here (SQLite: PostgreSQL's NOTIFY does it there).
    wake: Arc<Notify>,
}

/// The advisory lock that orders event commits on PostgreSQL ("paydesk" in ASCII).
const ORDER_LOCK: i64 = 0x0070_6179_6465_736b;
/// Events fetched per read.
const READ_BATCH: u64 = 500;

impl EventBus {
    /// A bus buffering at most `capacity` events for the slowest subscriber.
    pub fn new(backend: DbBackend, capacity: usize) -> Self {
        EventBus { tx: broadcast::channel(capacity.max(1)).0, backend, wake: Arc::new(Notify::new()) }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Stored> {
        self.tx.subscribe()
    }

    /// Inside the transaction that causes `event`: store it (and on PostgreSQL queue the NOTIFY commit sends).
    /// Call it last before commit: on PostgreSQL it holds the event-order lock until then.
    pub async fn stage(&self, db: &impl ConnectionTrait, event: &Event) -> AppResult<()> {
        let payload = serde_json::to_string(event).map_err(|e| crate::error::AppError::Internal(e.into()))?;
        let now = crate::clock::now();
        let severity: Option<String> = event.severity().map(|s| sea_orm::ActiveEnum::to_value(&s));
        if self.backend == DbBackend::Postgres {
            // One round trip: the order lock is taken (in the FROM) before the row, and so its sequence number,
            // is made; the notification carries the number.
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "WITH e AS (INSERT INTO events (kind, payload, severity, created_at) \
                 SELECT $1, $2, $3, $4 FROM (SELECT pg_advisory_xact_lock($6)) AS ordered RETURNING seq) \
                 SELECT pg_notify($5, (SELECT seq FROM e)::text)",
                [event.kind().into(), payload.into(), severity.into(), now.into(), CHANNEL.into(), ORDER_LOCK.into()],
            ))
            .await?;
        } else {
            db.execute_raw(Statement::from_sql_and_values(
                self.backend,
                "INSERT INTO events (kind, payload, severity, created_at) VALUES (?, ?, ?, ?)",
                [event.kind().into(), payload.into(), severity.into(), now.into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// Hands `events` straight to this instance's subscribers, as the reader does (for the server's unit tests).
    #[doc(hidden)]
    pub fn deliver(&self, events: impl IntoIterator<Item = Event>) {
        for (seq, event) in (1..).zip(events) {
            let _ = self.tx.send(Stored { seq, created_at: crate::clock::now(), event });
        }
    }

    /// After a transaction that staged events committed: this instance's reader fetches them at once. (On
    /// PostgreSQL the commit's NOTIFY tells every instance's reader, this one's included.)
    pub fn committed(&self) {
        if self.backend != DbBackend::Postgres {
            self.wake.notify_one();
        }
    }

    /// Commits `txn` with `event` published by it.
    pub async fn commit_with(&self, txn: sea_orm::DatabaseTransaction, event: Event) -> AppResult<()> {
        self.stage(&txn, &event).await?;
        txn.commit().await?;
        self.committed();
        Ok(())
    }

    /// Outside any transaction (an alert about something that was rolled back): publish in one of its own.
    pub async fn publish(&self, db: &DatabaseConnection, event: Event) {
        if let Err(e) = self.try_publish(db, event).await {
            tracing::error!(error = %e, "could not publish an event");
        }
    }

    /// As [`Events::publish`], saying whether the event was stored.
    pub async fn try_publish(&self, db: &DatabaseConnection, event: Event) -> AppResult<()> {
        let txn = crate::db::begin(db).await?;
        self.commit_with(txn, event).await
    }

    /// Raises an alert: logged, and published to `alerts` subscribers.
    pub async fn alert(&self, db: &DatabaseConnection, alert: Alert) {
        tracing::warn!(kind = %alert.kind, severity = ?alert.severity, message = %alert.message, "alert");
        self.publish(db, Event::Alert(alert)).await;
    }

    /// Starts this instance's reader, from the newest event stored now. On PostgreSQL it LISTENs first (before
    /// returning, so nothing committed afterwards goes unnoticed). A NOTIFY can be lost while the LISTEN
    /// connection is down, and a connection can die without a word (a proxy or a NAT that drops it silently);
    /// so after every lost connection the reader LISTENs again on a new one before it reads the table, and while
    /// anybody here subscribes it also reads the table every `SWEEP` whatever it was told.
    ///
    /// `listen_url`, when given, is where the LISTEN connection goes instead of `db`'s pool: a direct connection
    /// when `db` goes through a pooler that hands sessions out per transaction (a LISTEN lives as long as its
    /// session).
    pub async fn listen(&self, db: &DatabaseConnection, listen_url: Option<&str>) -> anyhow::Result<()> {
        if self.backend != DbBackend::Postgres {
            let mut reader = Reader { db: db.clone(), tx: self.tx.clone(), last: newest(db).await? };
            let wake = self.wake.clone();
            tokio::spawn(async move {
                loop {
                    wake.notified().await;
                    reader.catch_up().await;
                }
            });
            return Ok(());
        }
        let pool = match listen_url {
            Some(url) => sea_orm::sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(PATIENCE)
                .connect_lazy(url)?,
            None => db.get_postgres_connection_pool().clone(),
        };
        let mut listener = listener(&pool).await?;
        let reader = Reader { db: db.clone(), tx: self.tx.clone(), last: newest(db).await? };
        let shared = Arc::new(tokio::sync::Mutex::new(reader));
        tokio::spawn(sweep(shared.clone()));
        tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    // Every commit's NOTIFY (this instance's too) names its event's number.
                    Ok(Some(n)) => {
                        let mut reader = shared.lock().await;
                        match n.payload().parse::<i64>() {
                            // Already read along with an earlier one: NOTIFYs queue up while a read is under way.
                            Ok(seq) if seq <= reader.last => {}
                            // Nobody here to hand it to: a subscriber that comes later reads the table from where
                            // it starts, so there is nothing to fetch. Events commit in sequence order, so
                            // everything up to `seq` is in the table.
                            Ok(seq) if reader.tx.receiver_count() == 0 => reader.last = seq,
                            _ => reader.catch_up().await,
                        }
                    }
                    // The connection was lost (`Ok(None)`, or an error), and with it whatever NOTIFY was sent
                    // meanwhile: LISTEN again first, then read the table, so nothing committed in between is
                    // missed.
                    lost => {
                        if let Err(e) = lost {
                            tracing::warn!(error = %e, "event listener lost its connection; listening again");
                        }
                        listener = relisten(&pool).await;
                        tracing::info!("event listener is listening again; catching up from the events table");
                        shared.lock().await.catch_up().await;
                    }
                }
            }
        });
        Ok(())
    }
}

/// How often the reader reads the table on its own while anybody here subscribes: the longest an event waits
/// when its NOTIFY never came (a LISTEN connection that died without a word).
const SWEEP: Duration = Duration::from_secs(1);
/// The longest pause between two tries at the database while it does not answer.
const MAX_PAUSE: Duration = Duration::from_secs(2);
/// How long one read of the table, or opening a LISTEN connection, may take before it is given up and tried
/// again: a connection that went silent never answers, and nothing else would end the wait.
const PATIENCE: Duration = Duration::from_secs(5);

/// A connection LISTENing on `CHANNEL`.
async fn listener(pool: &PgPool) -> anyhow::Result<PgListener> {
    let listening = async {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        anyhow::Ok(listener)
    };
    tokio::time::timeout(PATIENCE, listening).await.map_err(|_| anyhow::anyhow!("no answer in {PATIENCE:?}"))?
}

/// A new LISTEN connection, tried again (with a growing pause) until the database answers.
async fn relisten(pool: &PgPool) -> PgListener {
    let mut pause = Duration::from_millis(100);
    loop {
        match listener(pool).await {
            Ok(listener) => return listener,
            Err(e) => {
                tracing::warn!(error = %e, "could not LISTEN again; will retry");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
        }
    }
}

/// Reads the table every `SWEEP` while anybody here subscribes, for the events whose NOTIFY was lost.
async fn sweep(shared: Arc<tokio::sync::Mutex<Reader>>) {
    let mut tick = tokio::time::interval(SWEEP);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let mut reader = shared.lock().await;
        if reader.tx.receiver_count() > 0 {
            reader.catch_up().await;
        }
    }
}

/// Fetches stored events in sequence and hands them to this instance's subscribers.
struct Reader {
    db: DatabaseConnection,
    tx: broadcast::Sender<Stored>,
    /// The newest event handed on.
    last: i64,
}

impl Reader {
    /// Hands on every event after `last`. While the database does not answer (in `PATIENCE`) it tries again,
    /// with a growing pause, rather than wait for a wake-up that may never come.
    async fn catch_up(&mut self) {
        let (mut pause, all) = (Duration::from_millis(100), Filter::default());
        loop {
            let read = read_after(&self.db, self.last, READ_BATCH, &all);
            let read = tokio::time::timeout(PATIENCE, read).await.unwrap_or_else(|_| {
                Err(DbErr::Custom(format!("no answer in {PATIENCE:?}; the connection may have gone silent")))
            });
            let batch = match read {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read new events; will retry");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_PAUSE);
                    continue;
                }
            };
            for row in batch.events {
                let _ = self.tx.send(row);
            }
            self.last = batch.through.unwrap_or(self.last);
            if !batch.full {
                return;
            }
        }
    }
}

/// The name of the event log's row in `retention_marks`: events through its `through` were deleted.
pub const RETENTION_MARK: &str = "events";

/// Refuses to resume the event log after `cursor` when retention has deleted events after it: they cannot be
/// replayed, and a replay that skipped them would look whole.
pub async fn resumable(db: &impl ConnectionTrait, cursor: i64) -> AppResult<()> {
    let Some(mark) = entity::retention_mark::Entity::find_by_id(RETENTION_MARK).one(db).await? else { return Ok(()) };
    if cursor < mark.through {
        return Err(AppError::EventsMissed(format!(
            "events through cursor {} were deleted (PAYDESK_EVENT_RETENTION_DAYS), so what came after cursor {cursor} \
             cannot be replayed whole; start again without `after` and re-read current state from the lists",
            mark.through
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::money::Money;
    use entity::status::PayoutStatus;

    fn payout() -> payout::Model {
        let (id, at) = (crate::clock::new_id(), crate::clock::now());
        payout::Model {
            id,
            wallet_id: id,
            freelancer_id: id,
            amount: Money::from_minor(150_075),
            currency: "INR".into(),
            status: PayoutStatus::Paid,
            note: Some("quarterly \"bonus\"".into()),
            requested_by: id,
            decided_by: Some(id),
            decided_at: Some(at),
            decision_note: None,
            cf_transfer_id: Some("tr_1".into()),
            transfer_status: None,
            failure_reason: None,
            risk_flags: Some(r#"[{"rule":"velocity","reason":"r"}]"#.into()),
            first_approved_by: None,
            first_approved_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    /// Read by its row's kind, every event comes back as it was stored, and exactly as the tagged enum reads it.
    #[test]
    fn every_kind_reads_back_as_it_was_stored() {
        let mut alert = Alert::new(Severity::Critical, AlertKind::ReserveViolation, "payout refused");
        alert.payout_request_id = Some(crate::clock::new_id());
        let events = [
            Event::PayoutRequested { payout: payout() },
            Event::PayoutStatusChanged { payout: payout() },
            Event::Alert(alert),
        ];
        for event in events {
            let stored = serde_json::to_string(&event).unwrap();
            let read = decode(event.kind(), &stored).unwrap();
            assert_eq!(read.kind(), event.kind());
            assert_eq!(serde_json::to_string(&read).unwrap(), stored);
            let tagged = serde_json::from_str::<Event>(&stored).unwrap();
            assert_eq!(serde_json::to_string(&tagged).unwrap(), stored);
        }
    }

    /// A payload that is not its kind's shape is unreadable (and skipped), never read as something else.
    #[test]
    fn a_payload_of_another_shape_is_unreadable() {
        let payout = serde_json::to_string(&Event::PayoutRequested { payout: payout() }).unwrap();
        assert!(decode("alert", &payout).is_err());
        assert!(decode("payout_requested", r#"{"type":"alert"}"#).is_err());
        assert!(decode("something_new", &payout).is_ok(), "an unknown kind falls back to the payload's own tag");
        assert!(decode("something_new", "{}").is_err());
        let row = |seq, kind: &str, payload: &str| stored::Model {
            seq,
            kind: kind.into(),
            payload: payload.into(),
            severity: None,
            created_at: crate::clock::now(),
        };
        let read = parse(vec![InOrder(row(1, "alert", &payout)), InOrder(row(2, "payout_requested", &payout))]);
        assert_eq!(read.iter().map(|s| s.seq).collect::<Vec<_>>(), [2]);
    }
}
