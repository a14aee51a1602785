//! Emergency controls: a hold on every payout (a freeze) or on one freelancer's, each a row naming who placed it
//! and why, so every instance honours it and lifting it is one DELETE.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PayoutHolds {
    Table,
    Key,
    FreelancerId,
    Reason,
    PlacedBy,
    PlacedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PayoutHolds::Table)
                    .col(ColumnDef::new(PayoutHolds::Key).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(PayoutHolds::FreelancerId).uuid().null())
                    .col(ColumnDef::new(PayoutHolds::Reason).text().not_null())
                    .col(ColumnDef::new(PayoutHolds::PlacedBy).uuid().not_null())
                    .col(ColumnDef::new(PayoutHolds::PlacedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PayoutHolds::Table).to_owned()).await
    }
}
