//! Which wallet a subject of the identity provider acts for, as an admin linked it (`linkIdentity`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdentityLinks {
    Table,
    Issuer,
    Subject,
    FreelancerId,
    LinkedBy,
    LinkedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(IdentityLinks::Table)
                .col(ColumnDef::new(IdentityLinks::Issuer).string_len(255).not_null())
                .col(ColumnDef::new(IdentityLinks::Subject).string_len(255).not_null())
                .col(ColumnDef::new(IdentityLinks::FreelancerId).uuid().not_null())
                .col(ColumnDef::new(IdentityLinks::LinkedBy).uuid().null())
                .col(ColumnDef::new(IdentityLinks::LinkedAt).timestamp_with_time_zone().not_null())
                .primary_key(Index::create().col(IdentityLinks::Issuer).col(IdentityLinks::Subject))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_identity_links_freelancer")
                .table(IdentityLinks::Table)
                .col(IdentityLinks::FreelancerId)
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(IdentityLinks::Table).take()).await
    }
}
