//! The events table becomes a log people read: alerts carry their severity in a column (so `alerts(minSeverity)`
//! pages in SQL) and an index on (kind, seq) serves "alerts after this cursor" and "newest alerts" alike.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    Seq,
    Kind,
    Severity,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(ColumnDef::new(Events::Severity).string_len(16).null())
                    .to_owned(),
            )
            .await?;
        let backfill = match manager.get_database_backend() {
            DbBackend::Postgres => "UPDATE events SET severity = (payload::jsonb ->> 'severity') WHERE kind = 'alert'",
            _ => "UPDATE events SET severity = json_extract(payload, '$.severity') WHERE kind = 'alert'",
        };
        manager.get_connection().execute_unprepared(backfill).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_events_kind_seq")
                    .table(Events::Table)
                    .col(Events::Kind)
                    .col(Events::Seq)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("idx_events_kind_seq").table(Events::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Events::Table).drop_column(Events::Severity).to_owned()).await
    }
}
