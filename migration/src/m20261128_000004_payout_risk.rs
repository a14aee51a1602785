//! Suspicious activity and four-eyes approval: the risk flags a payout request was filed with (JSON text), and the
//! first of two admins' approvals that a large payout needs.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PayoutRequests {
    Table,
    RiskFlags,
    FirstApprovedBy,
    FirstApprovedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters one at a time.
        for col in [
            ColumnDef::new(PayoutRequests::RiskFlags).text().null().to_owned(),
            ColumnDef::new(PayoutRequests::FirstApprovedBy).uuid().null().to_owned(),
            ColumnDef::new(PayoutRequests::FirstApprovedAt).timestamp_with_time_zone().null().to_owned(),
        ] {
            let mut col = col;
            manager.alter_table(Table::alter().table(PayoutRequests::Table).add_column(&mut col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [PayoutRequests::RiskFlags, PayoutRequests::FirstApprovedBy, PayoutRequests::FirstApprovedAt] {
            manager.alter_table(Table::alter().table(PayoutRequests::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
