//! Settlements as the API shows them: each payment as Cashfree settled it (or did not), and totals.

use super::{Payment, WalletTransaction};
use crate::graphql::scalars::{DateTime, Decimal};
use crate::services::books::funding::Funding;
use crate::services::payments::settlements::{self, Status, Total};
use async_graphql::{Enum, SimpleObject};
use entity::settlement_line as line;
use uuid::Uuid;

/// How a payment's settlement compares with paydesk's records.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "paydesk_core::services::payments::settlements::Status")]
pub enum SettlementStatus {
    /// Settled as recorded: amount, charges and what reached the bank agree.
    Matched,
    /// Cashfree settled a payment paydesk never recorded as paid.
    MissingHere,
    /// paydesk credited a payment Cashfree has not settled within `PAYDESK_SETTLEMENT_GRACE`.
    MissingAtProvider,
    /// Cashfree's amount (or currency) for the payment is not paydesk's.
    AmountMismatch,
    /// Cashfree's charges do not explain what reached the bank.
    FeeMismatch,
    /// Cashfree settled a payment it had settled already (by another event); nothing was booked.
    SettledTwice,
}

/// One payment as Cashfree settled it, matched to paydesk's records.
#[derive(SimpleObject, Clone)]
pub struct SettlementLine {
    pub id: Uuid,
    pub status: SettlementStatus,
    /// Cashfree's event id (`missing:<payment id>` for a payment it has not settled).
    pub event_id: String,
    pub cf_settlement_id: Option<String>,
    /// The bank's reference for the settlement: find it on the bank statement.
    pub settlement_utr: Option<String>,
    pub settled_at: Option<DateTime>,
    pub cf_payment_id: Option<String>,
    pub order_id: Option<String>,
    pub payment_id: Option<Uuid>,
    pub paid_at: DateTime,
    pub currency: String,
    /// The payment's amount as Cashfree reports it (ours, for one it has not settled).
    pub amount: Decimal,
    /// paydesk's amount where it differs, or where Cashfree has none.
    pub expected_amount: Option<Decimal>,
    /// What reached the bank.
    pub settled_amount: Decimal,
    pub service_charge: Decimal,
    pub service_tax: Decimal,
    /// What was found, in words.
    pub detail: String,
    /// The journal entry that booked it (gateway clearing to the bank), for a settled payment of ours.
    pub journal_entry_id: Option<Uuid>,
}

impl From<line::Model> for SettlementLine {
    fn from(l: line::Model) -> Self {
        SettlementLine {
            id: l.id,
            status: l.status.parse::<Status>().unwrap_or(Status::Matched).into(),
            event_id: l.event_id,
            cf_settlement_id: l.cf_settlement_id,
            settlement_utr: l.settlement_utr,
            settled_at: l.settled_at.map(DateTime),
            cf_payment_id: l.cf_payment_id,
            order_id: l.order_id,
            payment_id: l.payment_id,
            paid_at: DateTime(l.paid_at),
            currency: l.currency,
            amount: l.amount.into(),
            expected_amount: l.expected_amount.map(Into::into),
            settled_amount: l.settled_amount.into(),
            service_charge: l.service_charge.into(),
            service_tax: l.service_tax.into(),
            detail: l.detail,
            journal_entry_id: l.journal_entry_id,
        }
    }
}

/// Lines of one status in one currency, summed.
#[derive(SimpleObject, Clone)]
pub struct SettlementTotal {
    pub currency: String,
    pub status: SettlementStatus,
    pub count: u64,
    pub amount: Decimal,
    pub settled_amount: Decimal,
    /// Service charge and tax together.
    pub charges: Decimal,
}

impl From<Total> for SettlementTotal {
    fn from(t: Total) -> Self {
        SettlementTotal {
            currency: t.currency,
            status: t.status.into(),
            count: t.count,
            amount: t.amount.into(),
            settled_amount: t.settled.into(),
            charges: t.charges.into(),
        }
    }
}

/// The settlement reconciliation of a window.
#[derive(SimpleObject, Clone)]
pub struct SettlementReconciliation {
    pub from: DateTime,
    pub to: DateTime,
    /// Oldest payment first; at most `first`.
    pub lines: Vec<SettlementLine>,
    /// Per currency and status, over the lines returned.
    pub totals: Vec<SettlementTotal>,
}

impl SettlementReconciliation {
    pub fn new(from: DateTime, to: DateTime, rows: Vec<line::Model>) -> Self {
        let totals = settlements::totals(&rows).into_iter().map(Into::into).collect();
        SettlementReconciliation { from, to, lines: rows.into_iter().map(Into::into).collect(), totals }
    }
}

/// What one reconciliation run did.
#[derive(SimpleObject, Clone)]
pub struct SettlementRun {
    /// Payment events Cashfree reported for the window.
    pub fetched: u64,
    /// Lines recorded now (an event seen before is not recorded twice).
    pub recorded: u64,
    /// Of those, the lines that are not MATCHED; each raised a CRITICAL `settlement_mismatch` alert.
    pub discrepancies: u64,
}

impl From<settlements::Run> for SettlementRun {
    fn from(r: settlements::Run) -> Self {
        SettlementRun { fetched: r.fetched, recorded: r.recorded, discrepancies: r.discrepancies }
    }
}

/// One credit's part in funding a payout.
#[derive(SimpleObject, Clone)]
pub struct PayoutFunding {
    /// How much of the credit went into the payout.
    pub amount: Decimal,
    /// The wallet's credit (a payment's, a correction's, a returned payout's).
    pub credit: WalletTransaction,
    /// The client's payment behind the credit, if it is one.
    pub payment: Option<Payment>,
    /// The UTR of the settlement in which Cashfree paid that payment to the bank, once reconciled.
    pub settlement_utr: Option<String>,
}

impl From<Funding> for PayoutFunding {
    fn from(f: Funding) -> Self {
        PayoutFunding {
            amount: f.used.into(),
            credit: f.credit.into(),
            payment: f.payment.map(Into::into),
            settlement_utr: f.settlement_utr,
        }
    }
}
