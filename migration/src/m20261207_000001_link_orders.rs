//! The Cashfree order a payment was paid on when it is not the payment's own: a payment link's payment arrives on
//! an order Cashfree makes for it (`CFPay_…`), and its refunds and disputes name that order. Unique: one Cashfree
//! order pays one payment.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Payments {
    Table,
    PaidOrderId,
}

const INDEX: &str = "payments_paid_order_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Payments::Table)
                .add_column(ColumnDef::new(Payments::PaidOrderId).string_len(64).null())
                .take(),
        )
        .await?;
        m.create_index(
            Index::create().name(INDEX).table(Payments::Table).col(Payments::PaidOrderId).unique().to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(INDEX).table(Payments::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Payments::Table).drop_column(Payments::PaidOrderId).take()).await
    }
}
