//! Retention: events and idempotency keys older than their settings are deleted. `retention_marks` remembers, per
//! log, the last entry deleted, so a subscriber that comes back with an older cursor is told it missed events
//! instead of silently skipping them; an index on the keys' age lets the sweep find old keys without a scan.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RetentionMarks {
    Table,
    Name,
    Through,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    CreatedAt,
}

const INDEX: &str = "idx_idempotency_keys_created_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RetentionMarks::Table)
                    .col(ColumnDef::new(RetentionMarks::Name).string_len(32).not_null().primary_key())
                    .col(ColumnDef::new(RetentionMarks::Through).big_integer().not_null())
                    .col(ColumnDef::new(RetentionMarks::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name(INDEX).table(IdempotencyKeys::Table).col(IdempotencyKeys::CreatedAt).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(INDEX).table(IdempotencyKeys::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(RetentionMarks::Table).to_owned()).await
    }
}
