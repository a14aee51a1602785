//! Documents clients registered by their SHA-256 (automatic persisted queries), shared by every instance.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PersistedDocuments {
    Table,
    Hash,
    Body,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PersistedDocuments::Table)
                .col(ColumnDef::new(PersistedDocuments::Hash).string_len(64).not_null().primary_key())
                .col(ColumnDef::new(PersistedDocuments::Body).text().not_null())
                .col(ColumnDef::new(PersistedDocuments::CreatedAt).timestamp_with_time_zone().not_null())
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PersistedDocuments::Table).take()).await
    }
}
