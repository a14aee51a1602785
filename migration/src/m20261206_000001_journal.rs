//! The double-entry journal: `journal_entries` (one per movement of money) and `journal_postings` (its lines, on
//! named accounts, summing to zero per currency). Existing books are carried over: every wallet ledger row becomes
//! the entry of the same id with its wallet line and the lines on the platform's accounts that balance it, every
//! paid payout gets the entry that takes it out of transit, and the platform's fee returned on earlier refunds gets
//! one entry per payment.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JournalEntries {
    Table,
    Id,
    Kind,
    Reference,
    PaymentId,
    PayoutRequestId,
    Description,
    CreatedAt,
}

#[derive(DeriveIden)]
enum JournalPostings {
    Table,
    EntryId,
    Line,
    Account,
    WalletId,
    Currency,
    Amount,
}

/// The carry-over, in statements both databases run as written. Each wallet row's entry has the row's id; a
/// payout's "paid" entry has the payout's id, a payment's carried-over refund fees the payment's id.
const CARRY_OVER: &[&str] = &[
    // One entry per wallet row.
    "INSERT INTO journal_entries (id, kind, reference, payment_id, payout_request_id, description, created_at) \
     SELECT t.id, CASE t.kind WHEN 'payment_credit' THEN 'payment_received' WHEN 'refund_debit' THEN 'refund' \
       WHEN 'payout_debit' THEN 'payout_approved' WHEN 'payout_return' THEN 'payout_returned' ELSE 'adjustment' END, \
       t.reference, t.payment_id, t.payout_request_id, t.description, t.created_at \
     FROM wallet_transactions t",
    // Its wallet line.
    "INSERT INTO journal_postings (entry_id, line, account, wallet_id, currency, amount) \
     SELECT t.id, 1, 'wallet', t.wallet_id, w.currency, t.amount \
     FROM wallet_transactions t JOIN freelancer_wallets w ON w.id = t.wallet_id",
    // The other side of everything but a payment: clearing for refunds, transit for payouts, adjustments.
    "INSERT INTO journal_postings (entry_id, line, account, wallet_id, currency, amount) \
     SELECT t.id, 2, CASE t.kind WHEN 'refund_debit' THEN 'gateway_clearing' WHEN 'adjustment' THEN 'adjustments' \
       ELSE 'payouts_in_transit' END, NULL, w.currency, -t.amount \
     FROM wallet_transactions t JOIN freelancer_wallets w ON w.id = t.wallet_id WHERE t.kind <> 'payment_credit'",
    // A payment: its fee to revenue, its gross from clearing.
    "INSERT INTO journal_postings (entry_id, line, account, wallet_id, currency, amount) \
     SELECT t.id, 2, 'fee_revenue', NULL, w.currency, p.platform_fee \
     FROM wallet_transactions t JOIN freelancer_wallets w ON w.id = t.wallet_id JOIN payments p ON p.id = t.payment_id \
     WHERE t.kind = 'payment_credit' AND p.platform_fee IS NOT NULL AND p.platform_fee <> 0",
    "INSERT INTO journal_postings (entry_id, line, account, wallet_id, currency, amount) \
     SELECT t.id, 3, 'gateway_clearing', NULL, w.currency, -(t.amount + COALESCE(p.platform_fee, 0)) \
     FROM wallet_transactions t JOIN freelancer_wallets w ON w.id = t.wallet_id \
       LEFT JOIN payments p ON p.id = t.payment_id \
     WHERE t.kind = 'payment_credit'",
    // A paid payout leaves transit for the bank.
    "INSERT INTO journal_entries (id, kind, reference, payment_id, payout_request_id, description, created_at) \
     SELECT p.id, 'payout_paid', 'payout-paid:' || substr(t.reference, 8), NULL, p.id, 'payout paid', p.updated_at \
     FROM payout_requests p JOIN wallet_transactions t ON t.payout_request_id = p.id AND t.kind = 'payout_debit' \
     WHERE p.status = 'paid'",
    "INSERT INTO journal_postings (entry_id, line, account, wallet_id, currency, amount) \
     SELECT p.id, 1, 'payouts_in_transit', NULL, p.currency, -p.amount \
     FROM payout_requests p JOIN journal_entries e ON e.id = p.id AND e.kind = 'payout_paid'",
    "INSERT INTO journal_postings (entry_id, line, account, wallet_id, currency, amount) \
     SELECT p.id, 2, 'bank', NULL, p.currency, p.amount \
     FROM payout_requests p JOIN journal_entries e ON e.id = p.id AND e.kind = 'payout_paid'",
    // The platform's fee on earlier refunds: what was refunded less what the wallet gave back (summed once per
    // payment, then joined: a correlated sum per payment would read the whole ledger for each).
    "INSERT INTO journal_entries (id, kind, reference, payment_id, payout_request_id, description, created_at) \
     SELECT p.id, 'refund', 'refund-fees:' || substr(c.reference, 9), p.id, NULL, \
       'platform fee on earlier refunds', p.updated_at \
     FROM payments p JOIN wallet_transactions c ON c.payment_id = p.id AND c.kind = 'payment_credit' \
       LEFT JOIN (SELECT r.payment_id AS payment_id, CAST(SUM(r.amount) AS BIGINT) AS debited \
                  FROM wallet_transactions r WHERE r.kind = 'refund_debit' GROUP BY r.payment_id) d \
         ON d.payment_id = p.id \
     WHERE p.refunded_amount <> 0 AND p.refunded_amount + COALESCE(d.debited, 0) <> 0",
    "INSERT INTO journal_postings (entry_id, line, account, wallet_id, currency, amount) \
     SELECT p.id, 1, 'fee_revenue', NULL, p.currency, -(p.refunded_amount + COALESCE(d.debited, 0)) \
     FROM payments p JOIN journal_entries e ON e.id = p.id AND e.kind = 'refund' \
       LEFT JOIN (SELECT r.payment_id AS payment_id, CAST(SUM(r.amount) AS BIGINT) AS debited \
                  FROM wallet_transactions r WHERE r.kind = 'refund_debit' GROUP BY r.payment_id) d \
         ON d.payment_id = p.id",
    "INSERT INTO journal_postings (entry_id, line, account, wallet_id, currency, amount) \
     SELECT p.id, 2, 'gateway_clearing', NULL, p.currency, p.refunded_amount + COALESCE(d.debited, 0) \
     FROM payments p JOIN journal_entries e ON e.id = p.id AND e.kind = 'refund' \
       LEFT JOIN (SELECT r.payment_id AS payment_id, CAST(SUM(r.amount) AS BIGINT) AS debited \
                  FROM wallet_transactions r WHERE r.kind = 'refund_debit' GROUP BY r.payment_id) d \
         ON d.payment_id = p.id",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(JournalEntries::Table)
                .col(ColumnDef::new(JournalEntries::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(JournalEntries::Kind).string_len(24).not_null())
                .col(ColumnDef::new(JournalEntries::Reference).string_len(128).not_null().unique_key())
                .col(ColumnDef::new(JournalEntries::PaymentId).uuid().null())
                .col(ColumnDef::new(JournalEntries::PayoutRequestId).uuid().null())
                .col(ColumnDef::new(JournalEntries::Description).text().not_null())
                .col(ColumnDef::new(JournalEntries::CreatedAt).timestamp_with_time_zone().not_null())
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(JournalPostings::Table)
                .col(ColumnDef::new(JournalPostings::EntryId).uuid().not_null())
                .col(ColumnDef::new(JournalPostings::Line).integer().not_null())
                .col(ColumnDef::new(JournalPostings::Account).string_len(24).not_null())
                .col(ColumnDef::new(JournalPostings::WalletId).uuid().null())
                .col(ColumnDef::new(JournalPostings::Currency).string_len(3).not_null())
                .col(ColumnDef::new(JournalPostings::Amount).big_integer().not_null())
                .primary_key(Index::create().col(JournalPostings::EntryId).col(JournalPostings::Line))
                .foreign_key(
                    ForeignKey::create()
                        .from(JournalPostings::Table, JournalPostings::EntryId)
                        .to(JournalEntries::Table, JournalEntries::Id),
                )
                .take(),
        )
        .await?;
        // Few indexes, and none on a column most rows leave empty or share: every movement writes an entry and its
        // lines, and an index that takes each of them on the same hot page costs every concurrent writer.
        let indexes = [
            ("ix_journal_created", JournalEntries::Table.into_iden(), &["created_at", "id"][..], None),
            ("ix_journal_payment", JournalEntries::Table.into_iden(), &["payment_id"][..], Some("payment_id")),
            (
                "ix_journal_payout",
                JournalEntries::Table.into_iden(),
                &["payout_request_id"][..],
                Some("payout_request_id"),
            ),
            ("ix_postings_wallet", JournalPostings::Table.into_iden(), &["wallet_id"][..], Some("wallet_id")),
        ];
        for (name, table, cols, only_set) in indexes {
            let mut idx = Index::create();
            idx.name(name).table(table);
            for col in cols {
                idx.col(Alias::new(*col));
            }
            if let Some(col) = only_set {
                idx.and_where(Expr::col(Alias::new(col)).is_not_null());
            }
            m.create_index(idx).await?;
        }
        let db = m.get_connection();
        for sql in CARRY_OVER {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(JournalPostings::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(JournalEntries::Table).to_owned()).await
    }
}
