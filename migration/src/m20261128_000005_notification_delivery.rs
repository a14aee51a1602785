//! Notifications are delivered, not only stored: each carries the state of its delivery to the marketplace's
//! callback (pending, delivered, failed, skipped), its attempts and when the next is due. Notifications written
//! before this migration are `skipped`, so turning the callback on never floods it with history.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notifications {
    Table,
    DeliveryStatus,
    DeliveryAttempts,
    NextAttemptAt,
    LastAttemptAt,
    DeliveredAt,
    DeliveryError,
}

const INDEX: &str = "idx_notifications_delivery_due";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters one at a time.
        for mut col in [
            ColumnDef::new(Notifications::DeliveryStatus).string_len(16).not_null().default("skipped").to_owned(),
            ColumnDef::new(Notifications::DeliveryAttempts).integer().not_null().default(0).to_owned(),
            ColumnDef::new(Notifications::NextAttemptAt).timestamp_with_time_zone().null().to_owned(),
            ColumnDef::new(Notifications::LastAttemptAt).timestamp_with_time_zone().null().to_owned(),
            ColumnDef::new(Notifications::DeliveredAt).timestamp_with_time_zone().null().to_owned(),
            ColumnDef::new(Notifications::DeliveryError).text().null().to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Notifications::Table).add_column(&mut col).to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Notifications::Table)
                    .col(Notifications::DeliveryStatus)
                    .col(Notifications::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(INDEX).table(Notifications::Table).to_owned()).await?;
        for col in [
            Notifications::DeliveryStatus,
            Notifications::DeliveryAttempts,
            Notifications::NextAttemptAt,
            Notifications::LastAttemptAt,
            Notifications::DeliveredAt,
            Notifications::DeliveryError,
        ] {
            manager.alter_table(Table::alter().table(Notifications::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
