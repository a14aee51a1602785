//! `persisted_documents.used_at`: when a document was last run by its hash (as each instance notes it, at most
//! hourly), so that retention forgets documents nobody sends any more.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PersistedDocuments {
    Table,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(PersistedDocuments::Table)
                .add_column(ColumnDef::new(PersistedDocuments::UsedAt).timestamp_with_time_zone().null())
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(PersistedDocuments::Table).drop_column(PersistedDocuments::UsedAt).take())
            .await
    }
}
