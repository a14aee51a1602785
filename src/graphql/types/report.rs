//! Report types: statistics and the financial report, converted from the reports service.

use super::PaymentStatus;
use crate::graphql::scalars::Decimal;
use crate::services::reads::reports as r;
use async_graphql::{Enum, SimpleObject};
use chrono::NaiveDate;

/// A count and a sum.
#[derive(SimpleObject, Clone, Copy)]
pub struct Tally {
    pub count: u64,
    pub amount: Decimal,
}

impl From<r::Tally> for Tally {
    fn from(t: r::Tally) -> Self {
        Tally { count: t.count, amount: t.amount.into() }
    }
}

/// Orders of one status.
#[derive(SimpleObject)]
pub struct PaymentStatusTally {
    pub status: PaymentStatus,
    pub count: u64,
    pub amount: Decimal,
}

/// Payments by method (upi, card, net_banking, …).
#[derive(SimpleObject)]
pub struct PaymentMethodStats {
    pub method: String,
    /// Orders with an outcome (not pending).
    pub attempts: u64,
    pub succeeded: u64,
    pub gross: Decimal,
    /// Percent, two decimals; null without attempts.
    pub success_rate: Option<Decimal>,
}

/// What happened to the orders created in a range.
#[derive(SimpleObject)]
pub struct PaymentStats {
    /// The currency of every amount here; null when the range held no payments.
    pub currency: Option<String>,
    pub total: u64,
    pub by_status: Vec<PaymentStatusTally>,
    /// Succeeded (or later refunded) ÷ orders with an outcome, in percent; null when none had one.
    pub success_rate: Option<Decimal>,
    /// What clients paid on successful orders.
    pub gross: Decimal,
    /// Platform fees collected.
    pub fees: Decimal,
    /// What freelancers were credited.
    pub net: Decimal,
    pub by_method: Vec<PaymentMethodStats>,
}

impl From<r::PaymentStats> for PaymentStats {
    fn from(s: r::PaymentStats) -> Self {
        PaymentStats {
            currency: s.currency,
            total: s.total,
            by_status: s
                .by_status
                .into_iter()
                .map(|(status, t)| PaymentStatusTally {
                    status: status.into(),
                    count: t.count,
                    amount: t.amount.into(),
                })
                .collect(),
            success_rate: s.success_rate.map(Into::into),
            gross: s.gross.into(),
            fees: s.fees.into(),
            net: s.net.into(),
            by_method: s
                .by_method
                .into_iter()
                .map(|m| PaymentMethodStats {
                    method: m.method,
                    attempts: m.attempts,
                    succeeded: m.succeeded,
                    gross: m.gross.into(),
                    success_rate: m.success_rate.map(Into::into),
                })
                .collect(),
        }
    }
}

/// What happened to the payout requests made in a range.
#[derive(SimpleObject)]
pub struct PayoutStats {
    /// The currency of every amount here; null when there were no payouts.
    pub currency: Option<String>,
    pub requested: Tally,
    pub paid: Tally,
    pub rejected: Tally,
    pub cancelled: Tally,
    pub failed: Tally,
    /// Approved, with the Cashfree transfer under way.
    pub processing: Tally,
    /// Paid, then returned by the bank (the money is back in the wallet).
    pub reversed: Tally,
    /// Pending right now, whenever requested.
    pub pending_backlog: Tally,
    /// Seconds from request to decision, over the decided requests of the range.
    pub average_decision_seconds: Option<u64>,
    pub max_decision_seconds: Option<u64>,
}

impl From<r::PayoutStats> for PayoutStats {
    fn from(s: r::PayoutStats) -> Self {
        PayoutStats {
            currency: s.currency,
            requested: s.requested.into(),
            paid: s.paid.into(),
            rejected: s.rejected.into(),
            cancelled: s.cancelled.into(),
            failed: s.failed.into(),
            processing: s.processing.into(),
            reversed: s.reversed.into(),
            pending_backlog: s.pending_backlog.into(),
            average_decision_seconds: s.average_decision_seconds,
            max_decision_seconds: s.max_decision_seconds,
        }
    }
}

/// How the financial report groups time (weeks start on Monday; all in UTC).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::services::reads::reports::Granularity")]
pub enum Granularity {
    Day,
    Week,
    Month,
}

/// One period of the financial report: money that moved in it.
#[derive(SimpleObject)]
pub struct FinancialPeriod {
    /// First day of the period.
    pub period_start: NaiveDate,
    /// The currency of this row's amounts: a period has a row per currency that moved.
    pub currency: String,
    /// Payments received (by when they were paid).
    pub payments: u64,
    pub gross: Decimal,
    pub fees: Decimal,
    pub net: Decimal,
    /// Debited from wallets for refunds.
    pub refunds: Decimal,
    /// Payouts paid (by when they were approved).
    pub payouts: u64,
    pub payouts_paid: Decimal,
    /// The platform's fee income booked in the period, less fees given back with refunds and lost disputes.
    pub fee_revenue: Decimal,
    /// What Cashfree charged for transfers completed in the period.
    pub transfer_costs: Decimal,
    /// What lost disputes returned to clients in the period.
    pub disputes_lost: Decimal,
    /// `feeRevenue` less `transferCosts` and what lost disputes cost the platform itself (what no wallet covered).
    pub net_revenue: Decimal,
}

impl From<r::Period> for FinancialPeriod {
    fn from(p: r::Period) -> Self {
        let net_revenue = p.net_revenue();
        FinancialPeriod {
            period_start: NaiveDate::parse_from_str(&p.start, "%Y-%m-%d").unwrap_or_default(),
            currency: p.currency,
            payments: p.payments,
            gross: p.gross.into(),
            fees: p.fees.into(),
            net: p.net.into(),
            refunds: p.refunds.into(),
            payouts: p.payouts,
            payouts_paid: p.payouts_paid.into(),
            fee_revenue: p.fee_revenue.into(),
            transfer_costs: p.transfer_costs.into(),
            disputes_lost: p.disputes_lost.into(),
            net_revenue: net_revenue.into(),
        }
    }
}

/// A freelancer (by net credited) or client (by gross paid), ranked by volume.
#[derive(SimpleObject)]
pub struct RankedParty {
    /// The freelancer's UUID or the client's id.
    pub id: String,
    pub payments: u64,
    pub amount: Decimal,
    pub currency: Option<String>,
}

impl From<r::Ranked> for RankedParty {
    fn from(x: r::Ranked) -> Self {
        RankedParty { id: x.id, payments: x.payments, amount: x.amount.into(), currency: x.currency }
    }
}
