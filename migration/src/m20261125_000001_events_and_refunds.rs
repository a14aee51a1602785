//! Events become rows: every live event is stored with a sequence number inside the transaction that causes it,
//! so instances fetch them from the table (a NOTIFY only says "there is more"), nothing is lost while a LISTEN
//! connection reconnects, and no payload is bound by NOTIFY's 8000 bytes. Payments learn how much of them was
//! refunded, so refunds can never exceed them. The ledger gets the index reconcile needs per payout.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    Seq,
    Kind,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    RefundedAmount,
}

#[derive(DeriveIden)]
enum WalletTransactions {
    Table,
    PayoutRequestId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(ColumnDef::new(Events::Seq).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Events::Kind).string_len(40).not_null())
                    .col(ColumnDef::new(Events::Payload).text().not_null())
                    .col(ColumnDef::new(Events::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Payments::Table)
                    .add_column(ColumnDef::new(Payments::RefundedAmount).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_wallet_transactions_payout")
                    .table(WalletTransactions::Table)
                    .col(WalletTransactions::PayoutRequestId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop().name("idx_wallet_transactions_payout").table(WalletTransactions::Table).to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(Payments::Table).drop_column(Payments::RefundedAmount).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(Events::Table).to_owned()).await
    }
}
