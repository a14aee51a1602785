//! Funds availability: a payment's credit may wait (`PAYDESK_FUNDS_HOLD`, or a wallet's own `funds_hold_secs`)
//! before it can be paid out. `wallet_transactions.available_at` says when each credit becomes available (none: at
//! once), `freelancer_wallets.pending_balance` how much of a balance still waits, and `pending_funds` holds one row
//! per credit still waiting, deleted by the release that makes it available.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FreelancerWallets {
    Table,
    PendingBalance,
    FundsHoldSecs,
}

#[derive(DeriveIden)]
enum WalletTransactions {
    Table,
    AvailableAt,
}

#[derive(DeriveIden)]
enum PendingFunds {
    Table,
    CreditId,
    WalletId,
    PaymentId,
    Amount,
    Currency,
    AvailableAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let wallets = [
            ColumnDef::new(FreelancerWallets::PendingBalance).big_integer().not_null().default(0).take(),
            ColumnDef::new(FreelancerWallets::FundsHoldSecs).big_integer().null().take(),
        ];
        for mut col in wallets {
            m.alter_table(Table::alter().table(FreelancerWallets::Table).add_column(&mut col).to_owned()).await?;
        }
        let mut available = ColumnDef::new(WalletTransactions::AvailableAt).timestamp_with_time_zone().null().take();
        m.alter_table(Table::alter().table(WalletTransactions::Table).add_column(&mut available).to_owned()).await?;
        m.create_table(
            Table::create()
                .table(PendingFunds::Table)
                .col(ColumnDef::new(PendingFunds::CreditId).uuid().not_null().primary_key())
                .col(ColumnDef::new(PendingFunds::WalletId).uuid().not_null())
                .col(ColumnDef::new(PendingFunds::PaymentId).uuid().null())
                .col(ColumnDef::new(PendingFunds::Amount).big_integer().not_null())
                .col(ColumnDef::new(PendingFunds::Currency).string_len(3).not_null())
                .col(ColumnDef::new(PendingFunds::AvailableAt).timestamp_with_time_zone().not_null())
                .take(),
        )
        .await?;
        for (name, col) in
            [("ix_pending_funds_due", PendingFunds::AvailableAt), ("ix_pending_funds_wallet", PendingFunds::WalletId)]
        {
            m.create_index(Index::create().name(name).table(PendingFunds::Table).col(col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PendingFunds::Table).to_owned()).await?;
        m.alter_table(
            Table::alter().table(WalletTransactions::Table).drop_column(WalletTransactions::AvailableAt).to_owned(),
        )
        .await?;
        for col in [FreelancerWallets::PendingBalance, FreelancerWallets::FundsHoldSecs] {
            m.alter_table(Table::alter().table(FreelancerWallets::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
