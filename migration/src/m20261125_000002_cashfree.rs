//! Cashfree outbound: orders and links remember Cashfree's ids, payouts their transfer, freelancers a beneficiary
//! (registered once, stored masked), and payout webhooks are recorded beside payment webhooks.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Payments {
    Table,
    CfOrderId,
    PaymentSessionId,
    LinkUrl,
}

#[derive(DeriveIden, Clone, Copy)]
enum PayoutRequests {
    Table,
    CfTransferId,
    TransferStatus,
    FailureReason,
}

#[derive(DeriveIden, Clone, Copy)]
enum PaymentWebhooks {
    Table,
    PayoutRequestId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Beneficiaries {
    Table,
    Id,
    FreelancerId,
    Kind,
    Name,
    Masked,
    CfBeneficiaryId,
    CreatedAt,
    UpdatedAt,
}

/// Adds nullable text or uuid columns one by one (SQLite alters one column per statement).
async fn add(m: &SchemaManager<'_>, table: impl IntoIden + Copy, cols: Vec<ColumnDef>) -> Result<(), DbErr> {
    for mut col in cols {
        m.alter_table(Table::alter().table(table).add_column(col.null()).to_owned()).await?;
    }
    Ok(())
}

async fn drop(m: &SchemaManager<'_>, table: impl IntoIden + Copy, cols: Vec<DynIden>) -> Result<(), DbErr> {
    for col in cols {
        m.alter_table(Table::alter().table(table).drop_column(col).to_owned()).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let text = |c: DynIden| ColumnDef::new(c).text().to_owned();
        add(
            m,
            Payments::Table,
            vec![
                text(Payments::CfOrderId.into_iden()),
                text(Payments::PaymentSessionId.into_iden()),
                text(Payments::LinkUrl.into_iden()),
            ],
        )
        .await?;
        add(
            m,
            PayoutRequests::Table,
            vec![
                text(PayoutRequests::CfTransferId.into_iden()),
                text(PayoutRequests::TransferStatus.into_iden()),
                text(PayoutRequests::FailureReason.into_iden()),
            ],
        )
        .await?;
        add(m, PaymentWebhooks::Table, vec![ColumnDef::new(PaymentWebhooks::PayoutRequestId).uuid().to_owned()])
            .await?;
        m.create_table(
            Table::create()
                .table(Beneficiaries::Table)
                .col(ColumnDef::new(Beneficiaries::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Beneficiaries::FreelancerId).uuid().not_null().unique_key())
                .col(ColumnDef::new(Beneficiaries::Kind).string_len(16).not_null())
                .col(ColumnDef::new(Beneficiaries::Name).text().not_null())
                .col(ColumnDef::new(Beneficiaries::Masked).text().not_null())
                .col(ColumnDef::new(Beneficiaries::CfBeneficiaryId).text().not_null())
                .col(ColumnDef::new(Beneficiaries::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Beneficiaries::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Beneficiaries::Table).to_owned()).await?;
        drop(m, PaymentWebhooks::Table, vec![PaymentWebhooks::PayoutRequestId.into_iden()]).await?;
        drop(
            m,
            PayoutRequests::Table,
            vec![
                PayoutRequests::CfTransferId.into_iden(),
                PayoutRequests::TransferStatus.into_iden(),
                PayoutRequests::FailureReason.into_iden(),
            ],
        )
        .await?;
        drop(
            m,
            Payments::Table,
            vec![
                Payments::CfOrderId.into_iden(),
                Payments::PaymentSessionId.into_iden(),
                Payments::LinkUrl.into_iden(),
            ],
        )
        .await
    }
}
