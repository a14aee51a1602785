//! Live events: published only once their transaction commits, and seen by every instance.
//!
//! On PostgreSQL an event is a `pg_notify` issued inside the transaction that caused it: PostgreSQL delivers it
//! on commit (never on rollback) to every server LISTENing on the channel, this one included. On SQLite (one
//! process) it goes to the in-process broadcast after commit. Subscribers read a bounded broadcast channel, so a
//! slow one never blocks a mutation; one that falls behind is told how many events it missed.

use crate::error::AppResult;
use chrono::{DateTime, Utc};
use entity::payout_request as payout;
use entity::status::Severity;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
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
}

impl EventBus {
    /// A bus buffering at most `capacity` events for the slowest subscriber.
    pub fn new(backend: DbBackend, capacity: usize) -> Self {
        EventBus { tx: broadcast::channel(capacity.max(1)).0, backend }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// Inside the transaction that causes `event`: on PostgreSQL, queue the NOTIFY that commit delivers.
    pub async fn stage(&self, db: &impl ConnectionTrait, event: &Event) -> AppResult<()> {
        if self.backend == DbBackend::Postgres {
            let payload = serde_json::to_string(event).map_err(|e| crate::error::AppError::Internal(e.into()))?;
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), payload.into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// After the transaction committed: on SQLite, deliver in process (PostgreSQL already delivers).
    pub fn committed(&self, events: impl IntoIterator<Item = Event>) {
        if self.backend != DbBackend::Postgres {
            for e in events {
                let _ = self.tx.send(e);
            }
        }
    }

    /// Commits `txn` with `event` published by it: staged inside (PostgreSQL), delivered after (SQLite).
    pub async fn commit_with(&self, txn: sea_orm::DatabaseTransaction, event: Event) -> AppResult<()> {
        self.stage(&txn, &event).await?;
        txn.commit().await?;
        self.committed([event]);
        Ok(())
    }

    /// Outside any transaction (an alert about something that was rolled back): publish at once.
    pub async fn publish(&self, db: &DatabaseConnection, event: Event) {
        if let Err(e) = self.stage(db, &event).await {
            tracing::error!(error = %e, "could not publish an event");
        }
        self.committed([event]);
    }

    /// Raises an alert: logged, and published to `alerts` subscribers.
    pub async fn alert(&self, db: &DatabaseConnection, alert: Alert) {
        tracing::warn!(kind = %alert.kind, severity = ?alert.severity, message = %alert.message, "alert");
        self.publish(db, Event::Alert(alert)).await;
    }

    /// On PostgreSQL: LISTEN (before returning, so nothing committed afterwards is missed) and forward every
    /// instance's events into this process's broadcast, reconnecting if the connection drops.
    pub async fn listen(&self, db: &DatabaseConnection) -> anyhow::Result<()> {
        if self.backend != DbBackend::Postgres {
            return Ok(());
        }
        use sea_orm::sqlx::postgres::PgListener;
        let pool = db.get_postgres_connection_pool().clone();
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        let tx = self.tx.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(n) => match serde_json::from_str::<Event>(n.payload()) {
                        Ok(event) => {
                            let _ = tx.send(event);
                        }
                        Err(e) => tracing::warn!(error = %e, "unreadable event on {CHANNEL}"),
                    },
                    Err(e) => {
                        // PgListener reconnects on the next recv; events sent meanwhile are lost to this instance.
                        tracing::warn!(error = %e, "event listener lost its connection; reconnecting");
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                }
            }
        });
        Ok(())
    }
}
