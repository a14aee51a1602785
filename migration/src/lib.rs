//! The ordered list of schema migrations, run at server start and by `paydesk migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_initial;
mod m20261125_000001_events_and_refunds;
mod m20261125_000002_cashfree;
mod m20261128_000001_event_log;
mod m20261128_000002_payout_holds;
mod m20261128_000003_idempotency_keys;
mod m20261128_000004_payout_risk;
mod m20261128_000005_notification_delivery;
mod m20261128_000006_retention;
mod m20261206_000001_journal;
mod m20261206_000002_funds_availability;
mod m20261206_000003_disputes;
mod m20261206_000004_refunds;
mod m20261206_000005_history;
mod m20261206_000006_settlements;
mod m20261206_000007_content_hashes;
mod m20261206_000008_identity_links;
mod m20261206_000009_persisted_documents;
mod m20261206_000010_notification_traces;
mod m20261207_000001_link_orders;
mod m20261207_000002_provider_objects;
mod m20261207_000003_journal_provider_objects;
mod m20261207_000004_signed_checkpoints;
mod m20261207_000005_erasure_gate;
mod m20261207_000006_refused_webhooks;
mod m20261207_000007_persisted_used_at;
mod m20261207_000008_sealed_rows_index;

/// paydesk's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_initial::Migration),
            Box::new(m20261125_000001_events_and_refunds::Migration),
            Box::new(m20261125_000002_cashfree::Migration),
            Box::new(m20261128_000001_event_log::Migration),
            Box::new(m20261128_000002_payout_holds::Migration),
            Box::new(m20261128_000003_idempotency_keys::Migration),
            Box::new(m20261128_000004_payout_risk::Migration),
            Box::new(m20261128_000005_notification_delivery::Migration),
            Box::new(m20261128_000006_retention::Migration),
            Box::new(m20261206_000001_journal::Migration),
            Box::new(m20261206_000002_funds_availability::Migration),
            Box::new(m20261206_000003_disputes::Migration),
            Box::new(m20261206_000004_refunds::Migration),
            Box::new(m20261206_000005_history::Migration),
            Box::new(m20261206_000006_settlements::Migration),
            Box::new(m20261206_000007_content_hashes::Migration),
            Box::new(m20261206_000008_identity_links::Migration),
            Box::new(m20261206_000009_persisted_documents::Migration),
            Box::new(m20261206_000010_notification_traces::Migration),
            Box::new(m20261207_000001_link_orders::Migration),
            Box::new(m20261207_000002_provider_objects::Migration),
            Box::new(m20261207_000003_journal_provider_objects::Migration),
            Box::new(m20261207_000004_signed_checkpoints::Migration),
            Box::new(m20261207_000005_erasure_gate::Migration),
            Box::new(m20261207_000006_refused_webhooks::Migration),
            Box::new(m20261207_000007_persisted_used_at::Migration),
            Box::new(m20261207_000008_sealed_rows_index::Migration),
        ]
    }
}

/// Runs `statements` in order on PostgreSQL (triggers and functions SQLite has no use for); nothing elsewhere.
pub(crate) async fn on_postgres(m: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    if m.get_database_backend() != sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
        return Ok(());
    }
    for sql in statements {
        m.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}
