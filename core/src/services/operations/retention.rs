//! Retention: the event log and the idempotency keys would otherwise grow with every write for as long as the
//! database lives. Each instance deletes what is older than its settings (`PAYDESK_EVENT_RETENTION_DAYS`,
//! `PAYDESK_IDEMPOTENCY_RETENTION_DAYS`) when it starts and hourly after, in batches, on its background handle.
//! Instances sweeping at once are harmless: each deletes what is still there.
//!
//! Events go as a prefix of the log: up to the newest sequence number that is old enough, never the newest event
//! of all, and the last one deleted is kept in `retention_marks`, so a cursor from before it is refused
//! ([`crate::events::resumable`]) rather than replayed with a silent gap.

use crate::error::AppResult;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use entity::{event, idempotency_key as key_row, retention_mark as mark};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

/// Rows deleted per statement: bounded, so one sweep never holds locks on a whole table.
const BATCH: u64 = 5_000;
/// How often each instance sweeps.
const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// What one sweep deleted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub events: u64,
    pub idempotency_keys: u64,
    pub refused_webhooks: u64,
    pub persisted_documents: u64,
}

/// Sweeps now and then every hour, on `background` (statements not counted as requests' work).
pub fn spawn(state: AppState, background: DatabaseConnection) {
    let settings = &state.settings;
    if settings.event_retention.is_none()
        && settings.idempotency_retention.is_none()
        && settings.rejected_webhook_retention.is_none()
        && settings.persisted_retention.is_none()
    {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep(&state, &background).await {
                Ok(swept) if swept != Swept::default() => tracing::info!(?swept, "retention sweep"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention sweep failed; will try again"),
            }
        }
    });
}

/// Deletes events and idempotency keys older than the settings allow.
pub async fn sweep(state: &AppState, db: &DatabaseConnection) -> AppResult<Swept> {
    let now = crate::clock::now();
    let mut swept = Swept::default();
    if let Some(cutoff) = state.settings.event_retention.and_then(|keep| now.checked_sub_signed(keep)) {
        swept.events = events(db, cutoff).await?;
    }
    if let Some(cutoff) = state.settings.idempotency_retention.and_then(|keep| now.checked_sub_signed(keep)) {
        swept.idempotency_keys = keys(db, cutoff).await?;
    }
    if let Some(cutoff) = state.settings.rejected_webhook_retention.and_then(|keep| now.checked_sub_signed(keep)) {
        swept.refused_webhooks = refused_webhooks(db, cutoff).await?;
    }
    if let Some(cutoff) = state.settings.persisted_retention.and_then(|keep| now.checked_sub_signed(keep)) {
        swept.persisted_documents = persisted_documents(db, cutoff).await?;
    }
    Ok(swept)
}

/// Deletes the persisted documents not run by their hash since `cutoff` (nor registered since); returns how many.
async fn persisted_documents(db: &DatabaseConnection, cutoff: DateTime<Utc>) -> AppResult<u64> {
    use entity::persisted_document as document;
    let unused = sea_orm::Condition::any().add(document::Column::UsedAt.lt(cutoff)).add(
        sea_orm::Condition::all().add(document::Column::UsedAt.is_null()).add(document::Column::CreatedAt.lt(cutoff)),
    );
    delete_matching::<document::Entity, String>(db, document::Column::Hash, unused).await
}

/// Deletes the webhook deliveries refused unread (never chained) received before `cutoff`; returns how many.
async fn refused_webhooks(db: &DatabaseConnection, cutoff: DateTime<Utc>) -> AppResult<u64> {
    use entity::payment_webhook as webhook;
    let refused = sea_orm::sea_query::Expr::cust(format!(
        "{} AND NOT EXISTS (SELECT 1 FROM history_links l WHERE l.chain = 'webhooks' AND l.row_id = payment_webhooks.id)",
        crate::services::evidence::history::REFUSED_UNREAD
    ));
    let old = sea_orm::Condition::all().add(webhook::Column::ReceivedAt.lt(cutoff)).add(refused);
    delete_matching::<webhook::Entity, uuid::Uuid>(db, webhook::Column::Id, old).await
}

/// Deletes the rows of `E` that `matching` holds for, [`BATCH`] at a time, naming each batch by its `key`s (and
/// checking `matching` again as it deletes); returns how many.
async fn delete_matching<E, K>(db: &DatabaseConnection, key: E::Column, matching: sea_orm::Condition) -> AppResult<u64>
where
    E: EntityTrait,
    K: sea_orm::TryGetable + Into<sea_orm::Value>,
{
    let mut deleted = 0;
    loop {
        let old: Vec<K> =
            E::find().select_only().column(key).filter(matching.clone()).limit(BATCH).into_tuple().all(db).await?;
        if old.is_empty() {
            return Ok(deleted);
        }
        let count = old.len() as u64;
        deleted += E::delete_many().filter(key.is_in(old)).filter(matching.clone()).exec(db).await?.rows_affected;
        if count < BATCH {
            return Ok(deleted);
        }
    }
}

/// Deletes events created before `cutoff`, oldest first, keeping the newest event of all; returns how many.
async fn events(db: &DatabaseConnection, cutoff: DateTime<Utc>) -> AppResult<u64> {
    let mut deleted = 0;
    loop {
        let newest = crate::events::newest(db).await?;
        let old: Vec<i64> = event::Entity::find()
            .select_only()
            .column(event::Column::Seq)
            .filter(event::Column::CreatedAt.lt(cutoff))
            .filter(event::Column::Seq.lt(newest))
            .order_by_asc(event::Column::Seq)
            .limit(BATCH)
            .into_tuple()
            .all(db)
            .await?;
        let Some(&through) = old.last() else { return Ok(deleted) };
        let txn = crate::db::begin(db).await?;
        deleted += event::Entity::delete_many().filter(event::Column::Seq.lte(through)).exec(&txn).await?.rows_affected;
        // The mark only moves forward, whichever instance's sweep commits last.
        let row = mark::ActiveModel {
            name: Set(crate::events::RETENTION_MARK.into()),
            through: Set(through),
            updated_at: Set(crate::clock::now()),
        };
        let forward = Expr::cust(
            "CASE WHEN excluded.through > retention_marks.through THEN excluded.through ELSE retention_marks.through END",
        );
        mark::Entity::insert(row)
            .on_conflict(
                OnConflict::column(mark::Column::Name)
                    .value(mark::Column::Through, forward)
                    .update_column(mark::Column::UpdatedAt)
                    .to_owned(),
            )
            .exec(&txn)
            .await?;
        txn.commit().await?;
        if (old.len() as u64) < BATCH {
            return Ok(deleted);
        }
    }
}

/// Deletes idempotency keys created before `cutoff`; returns how many.
async fn keys(db: &DatabaseConnection, cutoff: DateTime<Utc>) -> AppResult<u64> {
    let mut deleted = 0;
    loop {
        let old: Vec<DateTime<Utc>> = key_row::Entity::find()
            .select_only()
            .column(key_row::Column::CreatedAt)
            .filter(key_row::Column::CreatedAt.lt(cutoff))
            .order_by_asc(key_row::Column::CreatedAt)
            .limit(BATCH)
            .into_tuple()
            .all(db)
            .await?;
        let Some(&through) = old.last() else { return Ok(deleted) };
        let gone = key_row::Entity::delete_many().filter(key_row::Column::CreatedAt.lte(through)).exec(db).await?;
        deleted += gone.rows_affected;
        if (old.len() as u64) < BATCH {
            return Ok(deleted);
        }
    }
}
