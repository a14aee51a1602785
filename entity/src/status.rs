//! The enumerations stored as lowercase strings: payment, payout and webhook states, ledger kinds, severities, roles,
//! notification delivery states.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a payment stands. `Success` is final but for a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "success")]
    Success,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "user_dropped")]
    UserDropped,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    #[sea_orm(string_value = "refunded")]
    Refunded,
}

/// Where a payout request stands. Only `Pending` can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Approved and debited; the Cashfree transfer is under way.
    #[sea_orm(string_value = "processing")]
    Processing,
    #[sea_orm(string_value = "paid")]
    Paid,
    #[sea_orm(string_value = "rejected")]
    Rejected,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// Paid, then returned by the bank: the money is back in the wallet.
    #[sea_orm(string_value = "reversed")]
    Reversed,
}

/// What became of one webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum WebhookOutcome {
    #[sea_orm(string_value = "processed")]
    Processed,
    #[sea_orm(string_value = "duplicate")]
    Duplicate,
    #[sea_orm(string_value = "rejected_signature")]
    RejectedSignature,
    #[sea_orm(string_value = "malformed")]
    Malformed,
    #[sea_orm(string_value = "unmatched")]
    Unmatched,
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// Why a ledger row moved a balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    #[sea_orm(string_value = "payment_credit")]
    PaymentCredit,
    #[sea_orm(string_value = "payout_debit")]
    PayoutDebit,
    #[sea_orm(string_value = "refund_debit")]
    RefundDebit,
    #[sea_orm(string_value = "adjustment")]
    Adjustment,
    /// A payout's debit credited back: its transfer failed or was reversed.
    #[sea_orm(string_value = "payout_return")]
    PayoutReturn,
    /// A dispute opened: the disputed money leaves the wallet for disputed funds.
    #[sea_orm(string_value = "dispute_debit")]
    DisputeDebit,
    /// A dispute won (the money back), or lost with the platform's fee on it returned.
    #[sea_orm(string_value = "dispute_credit")]
    DisputeCredit,
    /// A refund started from paydesk that Cashfree refused or cancelled: its debit credited back.
    #[sea_orm(string_value = "refund_return")]
    RefundReturn,
}

/// Which way the rows of a ledger kind move a balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Always up: the amount is greater than zero.
    Credit,
    /// Always down: the amount is less than zero.
    Debit,
    /// Either way, never by nothing (an admin's correction).
    Either,
}

impl Direction {
    /// Whether a row of this direction may carry `minor` (its signed amount in minor units).
    pub fn admits(self, minor: i64) -> bool {
        match self {
            Direction::Credit => minor > 0,
            Direction::Debit => minor < 0,
            Direction::Either => minor != 0,
        }
    }
}

impl LedgerKind {
    /// Which way this kind moves a balance: the one rule that the ledger enforces when a row is written and that
    /// reconciliation checks on every stored row.
    pub const fn direction(self) -> Direction {
        match self {
            LedgerKind::PaymentCredit
            | LedgerKind::PayoutReturn
            | LedgerKind::DisputeCredit
            | LedgerKind::RefundReturn => Direction::Credit,
            LedgerKind::PayoutDebit | LedgerKind::RefundDebit | LedgerKind::DisputeDebit => Direction::Debit,
            LedgerKind::Adjustment => Direction::Either,
        }
    }
}

/// What a journal entry records: the kind of movement of money it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A client's payment captured: gateway clearing to the wallet (net) and fee revenue (fee).
    #[sea_orm(string_value = "payment_received")]
    PaymentReceived,
    /// A refund to the client: the wallet's share and the fee's share back to gateway clearing.
    #[sea_orm(string_value = "refund")]
    Refund,
    /// A payout approved for a Cashfree transfer: wallet to payouts in transit.
    #[sea_orm(string_value = "payout_approved")]
    PayoutApproved,
    /// A payout paid: from payouts in transit (or, paid by hand at approval, from the wallet) to the bank.
    #[sea_orm(string_value = "payout_paid")]
    PayoutPaid,
    /// A payout whose transfer failed or was reversed: the money back into the wallet.
    #[sea_orm(string_value = "payout_returned")]
    PayoutReturned,
    /// An admin's correction of a wallet, against the adjustments account.
    #[sea_orm(string_value = "adjustment")]
    Adjustment,
    /// A payment's credit became available: from the wallet's pending funds to the wallet.
    #[sea_orm(string_value = "funds_released")]
    FundsReleased,
    /// A dispute opened: the disputed amount from the wallet to disputed funds.
    #[sea_orm(string_value = "dispute_opened")]
    DisputeOpened,
    /// A dispute won: the held money from disputed funds back to the wallet.
    #[sea_orm(string_value = "dispute_won")]
    DisputeWon,
    /// A dispute lost: Cashfree returned the disputed amount to the client out of what it owed the platform.
    #[sea_orm(string_value = "dispute_lost")]
    DisputeLost,
    /// A refund started from paydesk: the wallet's share and the fee's share to refunds payable.
    #[sea_orm(string_value = "refund_started")]
    RefundStarted,
    /// Cashfree paid a refund paydesk started: from refunds payable, out of gateway clearing.
    #[sea_orm(string_value = "refund_paid")]
    RefundPaid,
    /// Cashfree refused or cancelled a refund paydesk started: refunds payable back to the wallet and the fee.
    #[sea_orm(string_value = "refund_failed")]
    RefundFailed,
    /// Cashfree settled a payment to the bank: out of gateway clearing, less its charges.
    #[sea_orm(string_value = "settlement")]
    Settlement,
    /// What Cashfree charged for a payout's transfer, with its tax: from the bank to transfer costs.
    #[sea_orm(string_value = "transfer_charges")]
    TransferCharges,
}

/// Where a refund started from paydesk stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Asked of Cashfree; its money waits in refunds payable.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Cashfree paid it to the client.
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    /// Cashfree refused or cancelled it: the money went back.
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// Where a dispute stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum DisputeStatus {
    /// Being decided: the disputed money is held in disputed funds.
    #[sea_orm(string_value = "open")]
    Open,
    /// Decided for the merchant: the money went back to the wallet (it may open again, in pre-arbitration).
    #[sea_orm(string_value = "won")]
    Won,
    /// Decided for the client, or accepted: final.
    #[sea_orm(string_value = "lost")]
    Lost,
}

/// A journal account. Wallet postings also name their wallet; every other account is one per currency.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum Account {
    /// What the platform owes a freelancer and the freelancer may be paid out (a liability): one per wallet.
    #[sea_orm(string_value = "wallet")]
    Wallet,
    /// What the platform owes a freelancer but holds until it is available: one per wallet.
    #[sea_orm(string_value = "wallet_pending")]
    WalletPending,
    /// The platform's fee income.
    #[sea_orm(string_value = "fee_revenue")]
    FeeRevenue,
    /// What Cashfree owes the platform for captured payments, until it settles them (an asset).
    #[sea_orm(string_value = "gateway_clearing")]
    GatewayClearing,
    /// Payouts approved whose transfer has not completed (a liability).
    #[sea_orm(string_value = "payouts_in_transit")]
    PayoutsInTransit,
    /// The platform's money at its bank and in the account that funds transfers (an asset).
    #[sea_orm(string_value = "bank")]
    Bank,
    /// Refunds started from paydesk that Cashfree has not paid yet (a liability to the clients).
    #[sea_orm(string_value = "refunds_payable")]
    RefundsPayable,
    /// Money held from wallets while their payments' disputes are decided (a liability).
    #[sea_orm(string_value = "disputed_funds")]
    DisputedFunds,
    /// What lost disputes cost the platform itself (an expense): what no wallet could cover.
    #[sea_orm(string_value = "dispute_losses")]
    DisputeLosses,
    /// What Cashfree charged for transfers (service charge and its tax; an expense).
    #[sea_orm(string_value = "transfer_costs")]
    TransferCosts,
    /// What Cashfree kept of settled payments (its service charge and the tax on it; an expense).
    #[sea_orm(string_value = "gateway_charges")]
    GatewayCharges,
    /// The other side of admins' corrections.
    #[sea_orm(string_value = "adjustments")]
    Adjustments,
}

/// Which side of the books an account normally carries its balance on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Assets and expenses: their balance is what was debited to them.
    Debit,
    /// Liabilities and income: their balance is what was credited to them.
    Credit,
}

impl Account {
    /// The side this account's balance is normally on.
    pub const fn normal_side(self) -> Side {
        match self {
            Account::GatewayClearing
            | Account::Bank
            | Account::Adjustments
            | Account::DisputeLosses
            | Account::TransferCosts
            | Account::GatewayCharges => Side::Debit,
            Account::Wallet
            | Account::WalletPending
            | Account::FeeRevenue
            | Account::PayoutsInTransit
            | Account::RefundsPayable
            | Account::DisputedFunds => Side::Credit,
        }
    }

    /// Whether the account is one per wallet (its lines name the wallet).
    pub const fn per_wallet(self) -> bool {
        matches!(self, Account::Wallet | Account::WalletPending)
    }
}

/// How loud an alert or notification is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[sea_orm(string_value = "info")]
    Info,
    #[sea_orm(string_value = "warning")]
    Warning,
    #[sea_orm(string_value = "critical")]
    Critical,
}

/// Who a caller is, as the JWT's `role` claim says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[sea_orm(string_value = "admin")]
    Admin,
    #[sea_orm(string_value = "ops")]
    Ops,
    #[sea_orm(string_value = "freelancer")]
    Freelancer,
    /// paydesk itself: webhooks, background work.
    #[sea_orm(string_value = "system")]
    System,
}

/// Where a notification's delivery to the marketplace's callback (`PAYDESK_NOTIFY_URL`) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet answered 2xx; tried (again) when `next_attempt_at` is due.
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "delivered")]
    Delivered,
    /// Every attempt failed.
    #[sea_orm(string_value = "failed")]
    Failed,
    /// No callback was configured when it was written.
    #[sea_orm(string_value = "skipped")]
    Skipped,
}
