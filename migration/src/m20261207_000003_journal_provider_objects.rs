//! Every journal entry that books something Cashfree did names that object and the step it books
//! (`journal_entries.provider_object`, e.g. `cf_payment_id:5114915829:settled`), and the database refuses a second
//! entry naming the same one: a payment captured or settled twice, a refund paid twice (whether booked as one
//! started here or as one of Cashfree's own), a dispute held twice at one step, a transfer paid or returned twice.
//!
//! Entries booked before this migration name nothing: their content is sealed in the history chain as it was
//! written, so they are not filled in; `paydesk reconcile` checks them by joining what they book.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JournalEntries {
    Table,
    ProviderObject,
}

const INDEX: &str = "ux_journal_entries_provider_object";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(JournalEntries::Table)
                .add_column(ColumnDef::new(JournalEntries::ProviderObject).string_len(200).null())
                .take(),
        )
        .await?;
        // NULLs are distinct in a unique index on both databases: entries of paydesk's own (an adjustment, funds
        // released) and older ones name nothing and are not held to it.
        m.create_index(
            Index::create()
                .name(INDEX)
                .table(JournalEntries::Table)
                .col(JournalEntries::ProviderObject)
                .unique()
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(INDEX).table(JournalEntries::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(JournalEntries::Table).drop_column(JournalEntries::ProviderObject).take())
            .await
    }
}
