//! One provider object, one booking, refused by the database itself: a Cashfree refund is one refund of paydesk's
//! (`refunds.cf_refund_id` unique), and a payment is settled once (`settlement_lines.payment_id` unique among the
//! lines that booked a settlement). A database already holding two of either (a payment settled twice by the
//! defect this closes) is named and not migrated: the extra booking needs an admin's correction first. Also
//! `refunds.asked_until`: until when a refund's create call may still be under way, so that no look-up racing it
//! undoes it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index, the statement that makes it, the query that finds what it would refuse).
const INDEXES: [(&str, &str, &str); 2] = [
    (
        "ux_refunds_cf_refund_id",
        "CREATE UNIQUE INDEX ux_refunds_cf_refund_id ON refunds (cf_refund_id)",
        "SELECT cf_refund_id FROM refunds WHERE cf_refund_id IS NOT NULL GROUP BY cf_refund_id HAVING COUNT(*) > 1",
    ),
    (
        "ux_settlement_lines_booked_payment",
        "CREATE UNIQUE INDEX ux_settlement_lines_booked_payment ON settlement_lines (payment_id) \
         WHERE journal_entry_id IS NOT NULL",
        "SELECT CAST(payment_id AS TEXT) FROM settlement_lines WHERE journal_entry_id IS NOT NULL \
         GROUP BY payment_id HAVING COUNT(*) > 1",
    ),
];

#[derive(DeriveIden)]
enum Refunds {
    Table,
    AskedUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Refunds::Table)
                .add_column(ColumnDef::new(Refunds::AskedUntil).timestamp_with_time_zone().null())
                .take(),
        )
        .await?;
        let db = m.get_connection();
        let backend = db.get_database_backend();
        for (name, create, twice) in INDEXES {
            let found = db.query_all_raw(Statement::from_string(backend, twice)).await?;
            if !found.is_empty() {
                let ids: Vec<String> = found.iter().filter_map(|r| r.try_get_by_index::<String>(0).ok()).collect();
                return Err(DbErr::Migration(format!(
                    "{name}: these are booked twice ({}); correct the extra bookings (docs/OPERATIONS.md, \
                     settlements) and run the migration again",
                    ids.join(", ")
                )));
            }
            db.execute_unprepared(create).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, _, _) in INDEXES {
            m.get_connection().execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        m.alter_table(Table::alter().table(Refunds::Table).drop_column(Refunds::AskedUntil).take()).await
    }
}
