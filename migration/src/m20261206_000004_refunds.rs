//! Refunds started from paydesk: one row per refund an admin asks Cashfree for, and `payments.refunding_amount`,
//! what such refunds still under way take of a payment (with `refunded_amount` and `disputed_amount`, never more
//! than its amount).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Payments {
    Table,
    RefundingAmount,
}

#[derive(DeriveIden)]
enum Refunds {
    Table,
    Id,
    RefundId,
    CfRefundId,
    PaymentId,
    FreelancerId,
    WalletId,
    Amount,
    FeeShare,
    Currency,
    Status,
    Reason,
    RequestedBy,
    FailureReason,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut refunding = ColumnDef::new(Payments::RefundingAmount).big_integer().not_null().default(0).take();
        m.alter_table(Table::alter().table(Payments::Table).add_column(&mut refunding).to_owned()).await?;
        m.create_table(
            Table::create()
                .table(Refunds::Table)
                .col(ColumnDef::new(Refunds::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Refunds::RefundId).string_len(40).not_null().unique_key())
                .col(ColumnDef::new(Refunds::CfRefundId).string_len(100).null())
                .col(ColumnDef::new(Refunds::PaymentId).uuid().not_null())
                .col(ColumnDef::new(Refunds::FreelancerId).uuid().not_null())
                .col(ColumnDef::new(Refunds::WalletId).uuid().not_null())
                .col(ColumnDef::new(Refunds::Amount).big_integer().not_null())
                .col(ColumnDef::new(Refunds::FeeShare).big_integer().not_null())
                .col(ColumnDef::new(Refunds::Currency).string_len(3).not_null())
                .col(ColumnDef::new(Refunds::Status).string_len(16).not_null())
                .col(ColumnDef::new(Refunds::Reason).text().not_null())
                .col(ColumnDef::new(Refunds::RequestedBy).uuid().not_null())
                .col(ColumnDef::new(Refunds::FailureReason).text().null())
                .col(ColumnDef::new(Refunds::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Refunds::UpdatedAt).timestamp_with_time_zone().not_null())
                .take(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_refunds_payment").table(Refunds::Table).col(Refunds::PaymentId).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Refunds::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Payments::Table).drop_column(Payments::RefundingAmount).to_owned()).await
    }
}
