//! Live events: stored as rows of `events` inside the transaction that causes them, and seen by every instance.
//!
//! Staging an event inserts it with the next sequence number; on PostgreSQL it also takes a transaction-level
//! advisory lock first, so events commit in sequence order, and queues a `NOTIFY` carrying only that number
//! (PostgreSQL delivers it on commit, never on rollback). Each instance runs one reader that fetches every
//! event after the last it saw, whenever it is told there is more: by NOTIFY from any instance, or by this
//! process after a commit. A LISTEN connection that drops and reconnects costs nothing: the reader catches up
//! from the table. Subscribers read a bounded broadcast, so a slow one never blocks a mutation; one that falls
//! behind is told how many events it missed.

use crate::error::AppResult;
use chrono::{DateTime, Utc};
use entity::payout_request as payout;
use entity::status::Severity;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio::sync::Notify;
use uuid::Uuid;

/// The NOTIFY channel every instance listens on.
pub const CHANNEL: &str = "paydesk_events";

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
            Event::PayoutRequested { .. } => "payout_requested",
            Event::PayoutStatusChanged { .. } => "payout_status_changed",
            Event::Alert(_) => "alert",
        }
    }
}

/// Something ops should look at.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alert {
    pub id: Uuid,
    pub severity: Severity,
    /// signature_rejected, webhook_unmatched, webhook_failed, reserve_violation, …
    pub kind: String,
    pub message: String,
    pub payment_id: Option<Uuid>,
    pub payout_request_id: Option<Uuid>,
    pub webhook_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl Alert {
    pub fn new(severity: Severity, kind: &str, message: impl Into<String>) -> Self {
        Alert {
            id: crate::services::new_id(),
            severity,
            kind: kind.to_owned(),
            message: message.into(),
            payment_id: None,
            payout_request_id: None,
            webhook_id: None,
            created_at: crate::services::now(),
        }
    }
}

/// This process's fan-out of events to its subscribers.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Event>,
    backend: DbBackend,
    /// Tells this instance's reader that an event committed here.
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

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// Inside the transaction that causes `event`: store it (and on PostgreSQL queue the NOTIFY commit sends).
    /// Call it last before commit: on PostgreSQL it holds the event-order lock until then.
    pub async fn stage(&self, db: &impl ConnectionTrait, event: &Event) -> AppResult<()> {
        let payload = serde_json::to_string(event).map_err(|e| crate::error::AppError::Internal(e.into()))?;
        let now = crate::services::now();
        if self.backend == DbBackend::Postgres {
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [ORDER_LOCK.into()],
            ))
            .await?;
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "WITH e AS (INSERT INTO events (kind, payload, created_at) VALUES ($1, $2, $3) RETURNING seq) \
                 SELECT pg_notify($4, (SELECT seq FROM e)::text)",
                [event.kind().into(), payload.into(), now.into(), CHANNEL.into()],
            ))
            .await?;
        } else {
            db.execute_raw(Statement::from_sql_and_values(
                self.backend,
                "INSERT INTO events (kind, payload, created_at) VALUES (?, ?, ?)",
                [event.kind().into(), payload.into(), now.into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// Hands `events` straight to this instance's subscribers, as the reader does (for unit tests).
    #[cfg(test)]
    pub fn deliver(&self, events: impl IntoIterator<Item = Event>) {
        for e in events {
            let _ = self.tx.send(e);
        }
    }

    /// After a transaction that staged events committed: this instance's reader fetches them at once.
    pub fn committed(&self) {
        self.wake.notify_one();
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
        let published = async {
            let txn = db.begin().await?;
            self.commit_with(txn, event).await
        };
        if let Err(e) = published.await {
            tracing::error!(error = %e, "could not publish an event");
        }
    }

    /// Raises an alert: logged, and published to `alerts` subscribers.
    pub async fn alert(&self, db: &DatabaseConnection, alert: Alert) {
        tracing::warn!(kind = %alert.kind, severity = ?alert.severity, message = %alert.message, "alert");
        self.publish(db, Event::Alert(alert)).await;
    }

    /// Starts this instance's reader, from the newest event stored now. On PostgreSQL it LISTENs first (before
    /// returning, so nothing committed afterwards goes unnoticed) and catches up from the table after every
    /// reconnect.
    pub async fn listen(&self, db: &DatabaseConnection) -> anyhow::Result<()> {
        let newest = db
            .query_one_raw(Statement::from_string(self.backend, "SELECT COALESCE(MAX(seq), 0) AS seq FROM events"))
            .await?
            .map(|row| row.try_get::<i64>("", "seq"))
            .transpose()?
            .unwrap_or(0);
        let mut reader = Reader { db: db.clone(), tx: self.tx.clone(), last: newest };
        let wake = self.wake.clone();
        if self.backend != DbBackend::Postgres {
            tokio::spawn(async move {
                loop {
                    wake.notified().await;
                    reader.catch_up().await;
                }
            });
            return Ok(());
        }
        use sea_orm::sqlx::postgres::PgListener;
        let mut listener = PgListener::connect_with(db.get_postgres_connection_pool()).await?;
        listener.listen(CHANNEL).await?;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    got = listener.try_recv() => match got {
                        Ok(Some(_)) => {}
                        // Reconnected (and LISTENing again): whatever was sent meanwhile is in the table.
                        Ok(None) => tracing::warn!("event listener reconnected; catching up from the events table"),
                        Err(e) => {
                            tracing::warn!(error = %e, "event listener lost its connection; reconnecting");
                            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        }
                    },
                    () = wake.notified() => {}
                }
                reader.catch_up().await;
            }
        });
        Ok(())
    }
}

/// Fetches stored events in sequence and hands them to this instance's subscribers.
struct Reader {
    db: DatabaseConnection,
    tx: broadcast::Sender<Event>,
    /// The newest event handed on.
    last: i64,
}

impl Reader {
    /// Hands on every event after `last`; on a database error, tries again at the next wake-up.
    async fn catch_up(&mut self) {
        loop {
            let sql =
                format!("SELECT seq, payload FROM events WHERE seq > {} ORDER BY seq LIMIT {READ_BATCH}", self.last);
            let rows = match self.db.query_all_raw(Statement::from_string(self.db.get_database_backend(), sql)).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read new events; will retry on the next one");
                    return;
                }
            };
            for row in &rows {
                let (Ok(seq), Ok(payload)) = (row.try_get::<i64>("", "seq"), row.try_get::<String>("", "payload"))
                else {
                    continue;
                };
                self.last = seq;
                match serde_json::from_str::<Event>(&payload) {
                    Ok(event) => {
                        let _ = self.tx.send(event);
                    }
                    Err(e) => tracing::warn!(error = %e, seq, "unreadable stored event"),
                }
            }
            if (rows.len() as u64) < READ_BATCH {
                return;
            }
        }
    }
}
