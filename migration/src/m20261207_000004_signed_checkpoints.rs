//! `history_signed_checkpoints`: every chain's head, signed with the history's Ed25519 key each
//! `PAYDESK_HISTORY_CHECKPOINT` period, one row a period.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum HistorySignedCheckpoints {
    Table,
    Period,
    TakenAt,
    Heads,
    PublicKey,
    Signature,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(HistorySignedCheckpoints::Table)
                .col(
                    ColumnDef::new(HistorySignedCheckpoints::Period)
                        .timestamp_with_time_zone()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(HistorySignedCheckpoints::TakenAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(HistorySignedCheckpoints::Heads).json_binary().not_null())
                .col(ColumnDef::new(HistorySignedCheckpoints::PublicKey).string_len(64).not_null())
                .col(ColumnDef::new(HistorySignedCheckpoints::Signature).blob().not_null())
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(HistorySignedCheckpoints::Table).take()).await
    }
}
