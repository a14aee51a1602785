//! Settlements: what Cashfree paid the platform's bank for each captured payment, as its settlement
//! reconciliation reports it, matched to paydesk's payments (`settlement_lines`), and the polling windows each
//! instance claims once (`settlement_polls`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SettlementLines {
    Table,
    Id,
    EventId,
    Status,
    CfSettlementId,
    SettlementUtr,
    SettledAt,
    CfPaymentId,
    OrderId,
    PaymentId,
    PaidAt,
    Currency,
    Amount,
    ExpectedAmount,
    SettledAmount,
    ServiceCharge,
    ServiceTax,
    Detail,
    JournalEntryId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SettlementPolls {
    Table,
    Window,
    ClaimedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let money = |c: SettlementLines| ColumnDef::new(c).big_integer().not_null().take();
        m.create_table(
            Table::create()
                .table(SettlementLines::Table)
                .col(ColumnDef::new(SettlementLines::Id).uuid().not_null().primary_key())
                // Cashfree's event id, or `missing:<payment id>` for a payment Cashfree has not settled.
                .col(ColumnDef::new(SettlementLines::EventId).string_len(80).not_null().unique_key())
                .col(ColumnDef::new(SettlementLines::Status).string_len(24).not_null())
                .col(ColumnDef::new(SettlementLines::CfSettlementId).string_len(40).null())
                .col(ColumnDef::new(SettlementLines::SettlementUtr).string_len(64).null())
                .col(ColumnDef::new(SettlementLines::SettledAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(SettlementLines::CfPaymentId).string_len(40).null())
                .col(ColumnDef::new(SettlementLines::OrderId).string_len(64).null())
                .col(ColumnDef::new(SettlementLines::PaymentId).uuid().null())
                .col(ColumnDef::new(SettlementLines::PaidAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(SettlementLines::Currency).string_len(3).not_null())
                .col(money(SettlementLines::Amount))
                .col(ColumnDef::new(SettlementLines::ExpectedAmount).big_integer().null())
                .col(money(SettlementLines::SettledAmount))
                .col(money(SettlementLines::ServiceCharge))
                .col(money(SettlementLines::ServiceTax))
                .col(ColumnDef::new(SettlementLines::Detail).text().not_null())
                .col(ColumnDef::new(SettlementLines::JournalEntryId).uuid().null())
                .col(ColumnDef::new(SettlementLines::CreatedAt).timestamp_with_time_zone().not_null())
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_settlement_lines_paid")
                .table(SettlementLines::Table)
                .col(SettlementLines::PaidAt)
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_settlement_lines_payment")
                .table(SettlementLines::Table)
                .col(SettlementLines::PaymentId)
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SettlementPolls::Table)
                .col(ColumnDef::new(SettlementPolls::Window).string_len(40).not_null().primary_key())
                .col(ColumnDef::new(SettlementPolls::ClaimedAt).timestamp_with_time_zone().not_null())
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SettlementPolls::Table).take()).await?;
        m.drop_table(Table::drop().table(SettlementLines::Table).take()).await?;
        Ok(())
    }
}
