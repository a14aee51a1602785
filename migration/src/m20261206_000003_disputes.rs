//! Disputes (chargebacks): one row per Cashfree dispute, with what it held of the freelancer's wallet;
//! `payments.disputed_amount` is what open and lost disputes hold of a payment, so that a refund and a dispute
//! never take the same money twice.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Payments {
    Table,
    DisputedAmount,
}

#[derive(DeriveIden)]
enum Disputes {
    Table,
    Id,
    CfDisputeId,
    PaymentId,
    FreelancerId,
    WalletId,
    DisputeType,
    Status,
    CfStatus,
    Amount,
    Held,
    Holds,
    Currency,
    ReasonCode,
    Reason,
    RespondBy,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut disputed = ColumnDef::new(Payments::DisputedAmount).big_integer().not_null().default(0).take();
        m.alter_table(Table::alter().table(Payments::Table).add_column(&mut disputed).to_owned()).await?;
        m.create_table(
            Table::create()
                .table(Disputes::Table)
                .col(ColumnDef::new(Disputes::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Disputes::CfDisputeId).string_len(100).not_null().unique_key())
                .col(ColumnDef::new(Disputes::PaymentId).uuid().not_null())
                .col(ColumnDef::new(Disputes::FreelancerId).uuid().not_null())
                .col(ColumnDef::new(Disputes::WalletId).uuid().not_null())
                .col(ColumnDef::new(Disputes::DisputeType).string_len(24).not_null())
                .col(ColumnDef::new(Disputes::Status).string_len(16).not_null())
                .col(ColumnDef::new(Disputes::CfStatus).string_len(64).not_null())
                .col(ColumnDef::new(Disputes::Amount).big_integer().not_null())
                .col(ColumnDef::new(Disputes::Held).big_integer().not_null())
                .col(ColumnDef::new(Disputes::Holds).integer().not_null())
                .col(ColumnDef::new(Disputes::Currency).string_len(3).not_null())
                .col(ColumnDef::new(Disputes::ReasonCode).string_len(100).null())
                .col(ColumnDef::new(Disputes::Reason).text().null())
                .col(ColumnDef::new(Disputes::RespondBy).timestamp_with_time_zone().null())
                .col(ColumnDef::new(Disputes::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Disputes::UpdatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Disputes::ClosedAt).timestamp_with_time_zone().null())
                .take(),
        )
        .await?;
        let indexes = [
            ("ix_disputes_created", &["created_at", "id"][..]),
            ("ix_disputes_payment", &["payment_id"][..]),
            ("ix_disputes_freelancer", &["freelancer_id", "created_at"][..]),
        ];
        for (name, cols) in indexes {
            let mut idx = Index::create();
            idx.name(name).table(Disputes::Table);
            for col in cols {
                idx.col(Alias::new(*col));
            }
            m.create_index(idx).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Disputes::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Payments::Table).drop_column(Payments::DisputedAmount).to_owned()).await
    }
}
