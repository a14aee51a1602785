//! An index of each chained table's rows that carry a content hash, by the time they were written: the chainer asks
//! for the oldest of them whenever it meets a row without one, and without the index that question read every row
//! written before hashes were kept (half a second on a 330,000-entry journal, every link period, with SQLite's one
//! connection held meanwhile).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index, table, the column it is written at).
const INDEXES: [(&str, &str, &str); 3] = [
    ("ix_audit_sealed", "audit_log", "created_at"),
    ("ix_journal_sealed", "journal_entries", "created_at"),
    ("ix_webhooks_sealed", "payment_webhooks", "received_at"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (index, table, written) in INDEXES {
            m.get_connection()
                .execute_unprepared(&format!(
                    "CREATE INDEX IF NOT EXISTS {index} ON {table} ({written}) WHERE content_hash IS NOT NULL"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (index, _, _) in INDEXES {
            m.get_connection().execute_unprepared(&format!("DROP INDEX IF EXISTS {index}")).await?;
        }
        Ok(())
    }
}
