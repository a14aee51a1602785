//! The double-entry journal: every movement of money is one entry whose lines (postings) sum to zero per
//! currency, over named accounts (`entity::status::Account`). A wallet's balance is the projection of its lines,
//! kept in the same transaction by `ledger::post`; the platform's accounts are sums of their lines, read when
//! asked (no row every movement must lock).
//!
//! Lines are signed from the account's side: a credit is positive, a debit negative. A payment of 1000.00 with a
//! 10% fee is gateway clearing -1000.00 (Cashfree owes us), the wallet +900.00, fee revenue +100.00.

use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use entity::status::{Account, EntryKind};
use entity::{journal_entry as entry, journal_posting as posting, Money};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::BTreeMap;
use uuid::Uuid;

/// One line of an entry: `amount` on `account` (of `wallet`, for a wallet line); credit positive.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    pub account: Account,
    pub wallet_id: Option<Uuid>,
    pub amount: Money,
}

impl Line {
    /// A line on one of the platform's accounts.
    pub fn on(account: Account, amount: Money) -> Self {
        Line { account, wallet_id: None, amount }
    }
}

/// The provider's object an entry books, with the step it books: what `journal_entries.provider_object` holds, and
/// the database lets be booked once. Each is named by the field Cashfree's API names it with, so an entry is found
/// from what Cashfree reports and two paths that book the same step of the same object (a refund Cashfree paid,
/// reported for one started here and again as one of its own) collide in the unique index instead of booking
/// twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Booked<'a> {
    /// A payment captured (`cf_payment_id`).
    Captured { cf_payment_id: &'a str },
    /// A payment settled to the bank: once per payment, whichever settlement event reports it.
    Settled { cf_payment_id: &'a str },
    /// A refund asked of Cashfree under paydesk's `refund_id`.
    RefundAsked { refund_id: &'a str },
    /// A refund Cashfree paid (`cf_refund_id`), whoever started it.
    RefundPaid { cf_refund_id: &'a str },
    /// A refund Cashfree refused or cancelled, by paydesk's `refund_id`.
    RefundFailed { refund_id: &'a str },
    /// A dispute's money held, for the `n`th time (a pre-arbitration may hold again what a win released).
    DisputeHeld { dispute_id: &'a str, n: i32 },
    /// The `n`th hold of a dispute released by a win.
    DisputeWon { dispute_id: &'a str, n: i32 },
    /// A dispute lost.
    DisputeLost { dispute_id: &'a str },
    /// A payout's money sent by Standard Transfer under its `transfer_id`.
    TransferSent { transfer_id: &'a str },
    /// A transfer paid.
    TransferPaid { transfer_id: &'a str },
    /// A transfer failed, rejected or reversed: its money back.
    TransferReturned { transfer_id: &'a str },
    /// What Cashfree charged for a transfer.
    TransferCharged { transfer_id: &'a str },
}

impl Booked<'_> {
    /// The stored name: `<Cashfree's field>:<id>:<step>`.
    pub fn name(&self) -> String {
        match self {
            Booked::Captured { cf_payment_id } => format!("cf_payment_id:{cf_payment_id}:captured"),
            Booked::Settled { cf_payment_id } => format!("cf_payment_id:{cf_payment_id}:settled"),
            Booked::RefundAsked { refund_id } => format!("refund_id:{refund_id}:asked"),
            Booked::RefundPaid { cf_refund_id } => format!("cf_refund_id:{cf_refund_id}:paid"),
            Booked::RefundFailed { refund_id } => format!("refund_id:{refund_id}:failed"),
            Booked::DisputeHeld { dispute_id, n } => format!("dispute_id:{dispute_id}:held:{n}"),
            Booked::DisputeWon { dispute_id, n } => format!("dispute_id:{dispute_id}:won:{n}"),
            Booked::DisputeLost { dispute_id } => format!("dispute_id:{dispute_id}:lost"),
            Booked::TransferSent { transfer_id } => format!("transfer_id:{transfer_id}:sent"),
            Booked::TransferPaid { transfer_id } => format!("transfer_id:{transfer_id}:paid"),
            Booked::TransferReturned { transfer_id } => format!("transfer_id:{transfer_id}:returned"),
            Booked::TransferCharged { transfer_id } => format!("transfer_id:{transfer_id}:charged"),
        }
    }
}

/// An entry to book.
pub struct Entry<'a> {
    /// The id: a wallet's movement uses its ledger row's id, so the two are found from each other.
    pub id: Uuid,
    pub kind: EntryKind,
    /// Unique: booking the same reference twice fails instead of moving money twice.
    pub reference: String,
    /// What of Cashfree's it books, if anything: the database refuses a second entry naming the same.
    pub books: Option<Booked<'a>>,
    pub currency: &'a str,
    pub payment_id: Option<Uuid>,
    pub payout_request_id: Option<Uuid>,
    pub description: &'a str,
    pub at: DateTime<Utc>,
    /// Lines of zero are left out; what is left must be two lines or more that sum to zero.
    pub lines: Vec<Line>,
}

/// Why `lines` cannot be an entry, if they cannot: fewer than two non-zero lines, a sum other than zero, a
/// wallet line without its wallet (or a platform line with one), or a sum beyond what an amount holds.
pub fn unbalanced(lines: &[Line]) -> Option<String> {
    if lines.len() < 2 {
        return Some(format!("an entry needs two lines or more, not {}", lines.len()));
    }
    if let Some(l) = lines.iter().find(|l| l.account.per_wallet() != l.wallet_id.is_some()) {
        return Some(format!(
            "a {:?} line {} its wallet",
            l.account,
            if l.wallet_id.is_some() { "names" } else { "lacks" }
        ));
    }
    let sum = lines.iter().try_fold(Money::ZERO, |sum, l| sum.checked_add(l.amount));
    match sum {
        None => Some("its lines add up beyond what an amount holds".into()),
        Some(s) if s != Money::ZERO => Some(format!("its lines sum to {s}, not zero")),
        Some(_) => None,
    }
}

/// Books `e` inside the caller's transaction: the entry and its lines, or an error (and the caller's rollback)
/// if they do not balance.
pub async fn book(db: &impl ConnectionTrait, e: Entry<'_>) -> AppResult<()> {
    let lines: Vec<Line> = e.lines.into_iter().filter(|l| l.amount != Money::ZERO).collect();
    if let Some(why) = unbalanced(&lines) {
        // Every caller builds balanced lines; this refuses the entry all the same, so no path can book money
        // that comes from nowhere.
        return Err(AppError::Internal(anyhow::anyhow!("refused journal entry {}: {why}", e.reference)));
    }
    let mut row = entry::Model {
        id: e.id,
        kind: e.kind,
        reference: e.reference,
        payment_id: e.payment_id,
        payout_request_id: e.payout_request_id,
        description: e.description.to_owned(),
        created_at: e.at,
        content_hash: None,
        provider_object: e.books.as_ref().map(Booked::name),
    };
    let postings: Vec<posting::Model> = lines
        .iter()
        .zip(1..)
        .map(|(l, line)| posting::Model {
            entry_id: e.id,
            line,
            account: l.account,
            wallet_id: l.wallet_id,
            currency: e.currency.to_owned(),
            amount: l.amount,
        })
        .collect();
    row.content_hash = Some(crate::services::evidence::history::content::seal_entry(&row, &postings));
    let (reference, object) = (row.reference.clone(), row.provider_object.clone());
    if let Err(e) = entry::Entity::insert(entry::ActiveModel::from(row)).exec_without_returning(db).await {
        return Err(match (object, e.sql_err()) {
            // Every path looks for what it would book first; this is the database's word when two paths (or two
            // instances) reach the same step of one provider object all the same.
            (Some(object), Some(sea_orm::SqlErr::UniqueConstraintViolation(m))) if m.contains("provider_object") => {
                AppError::InvalidState(format!(
                    "{object} is booked already: entry {reference} would book it a second time, so nothing was booked"
                ))
            }
            _ => e.into(),
        });
    }
    posting::Entity::insert_many(postings.into_iter().map(posting::ActiveModel::from))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Whether the payout's money has reached the bank (it has a `PayoutPaid` entry): a reversal then takes it back
/// from the bank, not from transit.
pub async fn paid_out(db: &impl ConnectionTrait, payout: Uuid) -> AppResult<bool> {
    let entries = entry::Entity::find()
        .filter(entry::Column::PayoutRequestId.eq(payout))
        .filter(entry::Column::Kind.eq(EntryKind::PayoutPaid))
        .one(db)
        .await?;
    Ok(entries.is_some())
}

/// Whether an entry with this reference is booked (references are unique: the database refuses a second).
pub async fn booked(db: &impl ConnectionTrait, reference: &str) -> AppResult<bool> {
    Ok(entry::Entity::find().filter(entry::Column::Reference.eq(reference)).one(db).await?.is_some())
}

/// The lines of these entries, in entry and line order.
pub async fn lines_of(db: &impl ConnectionTrait, entries: &[Uuid]) -> AppResult<Vec<posting::Model>> {
    Ok(posting::Entity::find()
        .filter(posting::Column::EntryId.is_in(entries.iter().copied()))
        .order_by_asc(posting::Column::EntryId)
        .order_by_asc(posting::Column::Line)
        .all(db)
        .await?)
}

/// What an account holds in one currency: the sums of its debits and credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    pub account: Account,
    pub currency: Currency,
    /// The sum of its debit lines, as a positive amount.
    pub debits: Money,
    /// The sum of its credit lines.
    pub credits: Money,
}

/// An ISO 4217 code, kept inline so a balance is `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl Balance {
    /// Credits less debits: positive on the credit side.
    pub fn net(&self) -> Money {
        Money::from_minor(self.credits.minor() - self.debits.minor())
    }
}

/// Every account's balance per currency (all wallets together as one `Wallet` account), from the entries booked
/// up to `at` (all, if `None`), in `currency` (all, if `None`); in account, then currency order.
pub async fn balances(
    db: &impl ConnectionTrait,
    who: Principal,
    currency: Option<&str>,
    at: Option<DateTime<Utc>>,
) -> AppResult<Vec<Balance>> {
    who.require_staff()?;
    // Debits as a positive sum, credits as one; CAST: PostgreSQL widens a bigint sum to NUMERIC.
    let sum = |when: &str, value: &str| {
        sea_orm::sea_query::Expr::cust(format!(
            "CAST(COALESCE(SUM(CASE WHEN journal_postings.amount {when} 0 THEN {value} ELSE 0 END), 0) AS BIGINT)"
        ))
    };
    let mut q = posting::Entity::find()
        .select_only()
        .column(posting::Column::Account)
        .column(posting::Column::Currency)
        .expr_as(sum("<", "-journal_postings.amount"), "debits")
        .expr_as(sum(">", "journal_postings.amount"), "credits")
        .group_by(posting::Column::Account)
        .group_by(posting::Column::Currency);
    if let Some(c) = currency {
        q = q.filter(posting::Column::Currency.eq(c));
    }
    if let Some(at) = at {
        let upto = sea_orm::sea_query::Query::select()
            .column(entry::Column::Id)
            .from(entry::Entity)
            .and_where(entry::Column::CreatedAt.lte(at))
            .to_owned();
        q = q.filter(posting::Column::EntryId.in_subquery(upto));
    }
    let rows: Vec<(Account, String, i64, i64)> = q.into_tuple().all(db).await?;
    let mut out: BTreeMap<(Account, Currency), Balance> = BTreeMap::new();
    for (account, cur, debits, credits) in rows {
        let code: [u8; 3] = cur.as_bytes().try_into().map_err(|_| {
            AppError::Internal(anyhow::anyhow!("a journal line holds the currency {cur:?}, not an ISO 4217 code"))
        })?;
        let currency = Currency(code);
        out.insert(
            (account, currency),
            Balance { account, currency, debits: Money::from_minor(debits), credits: Money::from_minor(credits) },
        );
    }
    Ok(out.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wallet(amount: i64) -> Line {
        Line { account: Account::Wallet, wallet_id: Some(Uuid::nil()), amount: Money::from_minor(amount) }
    }

    #[test]
    fn a_payment_balances_and_a_line_from_nowhere_does_not() {
        let fee = Line::on(Account::FeeRevenue, Money::from_minor(10_000));
        let gross = Line::on(Account::GatewayClearing, Money::from_minor(-100_000));
        assert_eq!(unbalanced(&[wallet(90_000), fee, gross]), None);
        assert_eq!(unbalanced(&[wallet(90_000), gross]).as_deref(), Some("its lines sum to -100.00, not zero"));
        assert!(unbalanced(&[wallet(0)]).unwrap().contains("two lines"));
    }

    #[test]
    fn a_wallet_line_names_its_wallet_and_no_other_line_does() {
        let nameless = Line::on(Account::Wallet, Money::from_minor(5));
        let named = Line { account: Account::Bank, wallet_id: Some(Uuid::nil()), amount: Money::from_minor(-5) };
        assert!(unbalanced(&[nameless, Line::on(Account::Bank, Money::from_minor(-5))]).unwrap().contains("lacks"));
        assert!(unbalanced(&[wallet(5), named]).unwrap().contains("names"));
    }
}
