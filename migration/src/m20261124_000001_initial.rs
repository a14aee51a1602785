//! The first schema: payments, webhook deliveries, wallets, the ledger, payout requests, notifications, audit log.
//!
//! Money columns are BIGINT minor units (exact and summable on SQLite and PostgreSQL alike); timestamps are
//! `timestamp with time zone`; every list the API serves is ordered by `(created_at, id)`, so each has that index.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    OrderId,
    FreelancerId,
    ClientId,
    Purpose,
    Amount,
    Currency,
    Status,
    PlatformFee,
    NetAmount,
    CfPaymentId,
    PaymentMethod,
    BankReference,
    FailureReason,
    PaidAt,
    VerifiedAt,
    VerifiedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PaymentWebhooks {
    Table,
    Id,
    ReceivedAt,
    EventType,
    IdempotencyKey,
    SignatureValid,
    Outcome,
    Error,
    OrderId,
    CfPaymentId,
    PaymentId,
    Headers,
    RawBody,
}

#[derive(DeriveIden)]
enum FreelancerWallets {
    Table,
    Id,
    FreelancerId,
    Currency,
    Balance,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WalletTransactions {
    Table,
    Id,
    WalletId,
    Kind,
    Amount,
    BalanceAfter,
    Reference,
    PaymentId,
    PayoutRequestId,
    Description,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PayoutRequests {
    Table,
    Id,
    WalletId,
    FreelancerId,
    Amount,
    Currency,
    Status,
    Note,
    RequestedBy,
    DecidedBy,
    DecidedAt,
    DecisionNote,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    RecipientId,
    Kind,
    Severity,
    Title,
    Body,
    PaymentId,
    PayoutRequestId,
    ReadAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    ActorId,
    ActorRole,
    Action,
    EntityType,
    EntityId,
    Before,
    After,
    Reason,
    CreatedAt,
}

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).uuid().not_null().primary_key().take()
}
fn uuid<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).uuid().not_null().take()
}
fn uuid_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).uuid().null().take()
}
fn money<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().take()
}
fn money_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().null().take()
}
fn text<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).text().not_null().take()
}
fn text_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).text().null().take()
}
fn short<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string_len(24).not_null().take()
}
fn ts<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().take()
}
fn ts_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().take()
}

fn index<T: IntoIden>(table: T, name: &str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for col in cols {
        idx.col(Alias::new(*col));
    }
    idx.take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Payments::Table)
                .col(id(Payments::Id))
                .col(ColumnDef::new(Payments::OrderId).string_len(64).not_null().unique_key())
                .col(uuid(Payments::FreelancerId))
                .col(text_null(Payments::ClientId))
                .col(text_null(Payments::Purpose))
                .col(money(Payments::Amount))
                .col(ColumnDef::new(Payments::Currency).string_len(3).not_null())
                .col(short(Payments::Status))
                .col(money_null(Payments::PlatformFee))
                .col(money_null(Payments::NetAmount))
                .col(text_null(Payments::CfPaymentId))
                .col(text_null(Payments::PaymentMethod))
                .col(text_null(Payments::BankReference))
                .col(text_null(Payments::FailureReason))
                .col(ts_null(Payments::PaidAt))
                .col(ts_null(Payments::VerifiedAt))
                .col(uuid_null(Payments::VerifiedBy))
                .col(ts(Payments::CreatedAt))
                .col(ts(Payments::UpdatedAt))
                .take(),
        )
        .await?;
        m.create_index(index(Payments::Table, "ix_payments_created", &["created_at", "id"])).await?;
        m.create_index(index(Payments::Table, "ix_payments_freelancer", &["freelancer_id", "created_at", "id"]))
            .await?;
        m.create_index(index(Payments::Table, "ix_payments_status", &["status", "created_at"])).await?;

        m.create_table(
            Table::create()
                .table(PaymentWebhooks::Table)
                .col(id(PaymentWebhooks::Id))
                .col(ts(PaymentWebhooks::ReceivedAt))
                .col(text_null(PaymentWebhooks::EventType))
                .col(ColumnDef::new(PaymentWebhooks::IdempotencyKey).string_len(255).null().unique_key())
                .col(ColumnDef::new(PaymentWebhooks::SignatureValid).boolean().not_null())
                .col(short(PaymentWebhooks::Outcome))
                .col(text_null(PaymentWebhooks::Error))
                .col(text_null(PaymentWebhooks::OrderId))
                .col(text_null(PaymentWebhooks::CfPaymentId))
                .col(uuid_null(PaymentWebhooks::PaymentId))
                .col(ColumnDef::new(PaymentWebhooks::Headers).json_binary().not_null())
                .col(ColumnDef::new(PaymentWebhooks::RawBody).blob().not_null())
                .take(),
        )
        .await?;
        m.create_index(index(PaymentWebhooks::Table, "ix_webhooks_received", &["received_at", "id"])).await?;
        m.create_index(index(PaymentWebhooks::Table, "ix_webhooks_payment", &["payment_id"])).await?;
        m.create_index(index(PaymentWebhooks::Table, "ix_webhooks_order", &["order_id"])).await?;

        m.create_table(
            Table::create()
                .table(FreelancerWallets::Table)
                .col(id(FreelancerWallets::Id))
                .col(uuid(FreelancerWallets::FreelancerId).unique_key().take())
                .col(ColumnDef::new(FreelancerWallets::Currency).string_len(3).not_null())
                .col(money(FreelancerWallets::Balance))
                .col(ts(FreelancerWallets::CreatedAt))
                .col(ts(FreelancerWallets::UpdatedAt))
                .take(),
        )
        .await?;
        m.create_index(index(FreelancerWallets::Table, "ix_wallets_created", &["created_at", "id"])).await?;

        m.create_table(
            Table::create()
                .table(WalletTransactions::Table)
                .col(id(WalletTransactions::Id))
                .col(uuid(WalletTransactions::WalletId))
                .col(short(WalletTransactions::Kind))
                .col(money(WalletTransactions::Amount))
                .col(money(WalletTransactions::BalanceAfter))
                .col(ColumnDef::new(WalletTransactions::Reference).string_len(128).not_null().unique_key())
                .col(uuid_null(WalletTransactions::PaymentId))
                .col(uuid_null(WalletTransactions::PayoutRequestId))
                .col(text(WalletTransactions::Description))
                .col(ts(WalletTransactions::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(WalletTransactions::Table, WalletTransactions::WalletId)
                        .to(FreelancerWallets::Table, FreelancerWallets::Id),
                )
                .take(),
        )
        .await?;
        m.create_index(index(WalletTransactions::Table, "ix_ledger_wallet", &["wallet_id", "created_at", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table(PayoutRequests::Table)
                .col(id(PayoutRequests::Id))
                .col(uuid(PayoutRequests::WalletId))
                .col(uuid(PayoutRequests::FreelancerId))
                .col(money(PayoutRequests::Amount))
                .col(ColumnDef::new(PayoutRequests::Currency).string_len(3).not_null())
                .col(short(PayoutRequests::Status))
                .col(text_null(PayoutRequests::Note))
                .col(uuid(PayoutRequests::RequestedBy))
                .col(uuid_null(PayoutRequests::DecidedBy))
                .col(ts_null(PayoutRequests::DecidedAt))
                .col(text_null(PayoutRequests::DecisionNote))
                .col(ts(PayoutRequests::CreatedAt))
                .col(ts(PayoutRequests::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(PayoutRequests::Table, PayoutRequests::WalletId)
                        .to(FreelancerWallets::Table, FreelancerWallets::Id),
                )
                .take(),
        )
        .await?;
        m.create_index(index(PayoutRequests::Table, "ix_payouts_created", &["created_at", "id"])).await?;
        m.create_index(index(PayoutRequests::Table, "ix_payouts_wallet", &["wallet_id", "status", "created_at"]))
            .await?;
        m.create_index(index(PayoutRequests::Table, "ix_payouts_status", &["status", "created_at"])).await?;

        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(id(Notifications::Id))
                .col(uuid(Notifications::RecipientId))
                .col(ColumnDef::new(Notifications::Kind).string_len(48).not_null())
                .col(short(Notifications::Severity))
                .col(text(Notifications::Title))
                .col(text(Notifications::Body))
                .col(uuid_null(Notifications::PaymentId))
                .col(uuid_null(Notifications::PayoutRequestId))
                .col(ts_null(Notifications::ReadAt))
                .col(ts(Notifications::CreatedAt))
                .take(),
        )
        .await?;
        m.create_index(index(Notifications::Table, "ix_notifications_created", &["created_at", "id"])).await?;
        m.create_index(index(
            Notifications::Table,
            "ix_notifications_recipient",
            &["recipient_id", "created_at", "id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(id(AuditLog::Id))
                .col(uuid_null(AuditLog::ActorId))
                .col(short(AuditLog::ActorRole))
                .col(ColumnDef::new(AuditLog::Action).string_len(64).not_null())
                .col(ColumnDef::new(AuditLog::EntityType).string_len(48).not_null())
                .col(uuid(AuditLog::EntityId))
                .col(ColumnDef::new(AuditLog::Before).json_binary().null())
                .col(ColumnDef::new(AuditLog::After).json_binary().null())
                .col(text_null(AuditLog::Reason))
                .col(ts(AuditLog::CreatedAt))
                .take(),
        )
        .await?;
        m.create_index(index(AuditLog::Table, "ix_audit_created", &["created_at", "id"])).await?;
        m.create_index(index(AuditLog::Table, "ix_audit_entity", &["entity_id", "created_at"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            Notifications::Table.into_iden(),
            PayoutRequests::Table.into_iden(),
            WalletTransactions::Table.into_iden(),
            FreelancerWallets::Table.into_iden(),
            PaymentWebhooks::Table.into_iden(),
            Payments::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).take()).await?;
        }
        Ok(())
    }
}
