//! Idempotency keys: a caller's key for one write (requestPayout, createPaymentOrder), what the request said and
//! what it created, so a repeat returns the first result instead of doing the write twice.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    CallerId,
    Operation,
    Key,
    Fingerprint,
    ResultId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(ColumnDef::new(IdempotencyKeys::CallerId).uuid().not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Operation).string_len(40).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Key).string_len(255).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Fingerprint).string_len(64).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::ResultId).uuid().not_null())
                    .col(ColumnDef::new(IdempotencyKeys::CreatedAt).timestamp_with_time_zone().not_null())
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::CallerId)
                            .col(IdempotencyKeys::Operation)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned()).await
    }
}
