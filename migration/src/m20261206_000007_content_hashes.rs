//! Each chained row carries the SHA-256 of its canonical content, computed by the code that writes it, so that
//! the chainer links rows by reading three narrow columns instead of reading back and hashing whole rows. The
//! verifier never trusts the column: it hashes each row's content afresh and compares that with the row's link.
//! Rows written before this migration have none; the chainer hashes those from their content.
//!
//! On PostgreSQL the column joins what a delivery received, which no update may change.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Hashed {
    ContentHash,
}

const TABLES: [&str; 3] = ["audit_log", "journal_entries", "payment_webhooks"];

/// What a delivery received, as `m20261206_000005_history` guards it, `with` one more column.
fn webhook_guard(with: &str) -> String {
    format!(
        "CREATE TRIGGER paydesk_history BEFORE UPDATE ON payment_webhooks FOR EACH ROW \
         WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.received_at IS DISTINCT FROM NEW.received_at \
            OR OLD.signature_valid IS DISTINCT FROM NEW.signature_valid \
            OR OLD.headers::text IS DISTINCT FROM NEW.headers::text OR OLD.raw_body IS DISTINCT FROM NEW.raw_body{with}) \
         EXECUTE FUNCTION paydesk_erasable()"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            m.alter_table(
                Table::alter()
                    .table(Alias::new(table))
                    .add_column(ColumnDef::new(Hashed::ContentHash).binary().null())
                    .take(),
            )
            .await?;
        }
        if m.get_database_backend() == DatabaseBackend::Postgres {
            let db = m.get_connection();
            db.execute_unprepared("DROP TRIGGER paydesk_history ON payment_webhooks").await?;
            db.execute_unprepared(&webhook_guard(" OR OLD.content_hash IS DISTINCT FROM NEW.content_hash")).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DatabaseBackend::Postgres {
            let db = m.get_connection();
            db.execute_unprepared("DROP TRIGGER paydesk_history ON payment_webhooks").await?;
            db.execute_unprepared(&webhook_guard("")).await?;
        }
        for table in TABLES {
            m.alter_table(Table::alter().table(Alias::new(table)).drop_column(Hashed::ContentHash).take()).await?;
        }
        Ok(())
    }
}
