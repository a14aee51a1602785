//! The API's enums, mirrored from the stored ones (`remote`), so the two can never drift apart silently.

use async_graphql::Enum;

/// Where a payment stands. SUCCESS is final but for a refund.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::status::PaymentStatus")]
pub enum PaymentStatus {
    Pending,
    Success,
    Failed,
    UserDropped,
    Cancelled,
    Refunded,
}

/// Where a payout request stands: PENDING is decided by an admin; PROCESSING (approved and debited, the Cashfree
/// transfer under way) ends as PAID or FAILED; a PAID transfer the bank returns becomes REVERSED.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::status::PayoutStatus")]
pub enum PayoutStatus {
    Pending,
    /// Approved and debited; the Cashfree transfer is under way.
    Processing,
    Paid,
    Rejected,
    /// The transfer failed; the debit was credited back.
    Failed,
    Cancelled,
    /// Paid, then returned by the bank; the money was credited back.
    Reversed,
}

/// What became of a webhook delivery.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::status::WebhookOutcome")]
pub enum WebhookOutcome {
    /// Verified and applied (or deliberately ignored, see `error`).
    Processed,
    /// Already received; nothing changed.
    Duplicate,
    /// The signature or timestamp did not verify.
    RejectedSignature,
    /// Not a payload we can read.
    Malformed,
    /// No such order, or amount/currency differ from the order.
    Unmatched,
    /// Could not be processed (configuration or a passing fault).
    Failed,
}

/// Why a ledger row moved a balance.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::status::LedgerKind")]
pub enum LedgerKind {
    PaymentCredit,
    PayoutDebit,
    RefundDebit,
    Adjustment,
    /// A payout's debit credited back after its transfer failed or was reversed.
    PayoutReturn,
    /// A dispute opened: the disputed money left the wallet for disputed funds.
    DisputeDebit,
    /// A dispute won (the money back), or lost with the platform's fee on it returned.
    DisputeCredit,
    /// A refund started here that Cashfree refused or cancelled: its debit credited back.
    RefundReturn,
}

/// Where a refund started from paydesk stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::status::RefundStatus")]
pub enum RefundStatus {
    /// Asked of Cashfree; its money waits in refunds payable.
    Pending,
    /// Cashfree paid it to the client.
    Succeeded,
    /// Cashfree refused or cancelled it: the money went back.
    Failed,
}

/// Where a dispute stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::status::DisputeStatus")]
pub enum DisputeStatus {
    /// Being decided: the disputed money is held in disputed funds.
    Open,
    /// Decided for the merchant: the money went back to the wallet (it may open again, in pre-arbitration).
    Won,
    /// Decided for the client, or accepted: final.
    Lost,
}

/// What a journal entry records.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::status::EntryKind")]
pub enum JournalEntryKind {
    /// A client's payment captured: gateway clearing to the wallet (net) and fee revenue (fee).
    PaymentReceived,
    /// A refund to the client: the wallet's share and the fee's share back to gateway clearing.
    Refund,
    /// A payout approved for a Cashfree transfer: the wallet to payouts in transit.
    PayoutApproved,
    /// A payout paid: from payouts in transit (or, paid by hand at approval, from the wallet) to the bank.
    PayoutPaid,
    /// A payout whose transfer failed or was reversed: the money back into the wallet.
    PayoutReturned,
    /// An admin's correction of a wallet, against the adjustments account.
    Adjustment,
    /// A payment's credit became available: from the wallet's pending funds to the wallet.
    FundsReleased,
    /// A dispute opened: the disputed amount from the wallet to disputed funds.
    DisputeOpened,
    /// A dispute won: the held money from disputed funds back to the wallet.
    DisputeWon,
    /// A dispute lost: returned to the client out of gateway clearing; what no wallet covered is a dispute loss.
    DisputeLost,
    /// A refund started here: the wallet's share and the fee's share to refunds payable.
    RefundStarted,
    /// Cashfree paid a refund started here: from refunds payable, out of gateway clearing.
    RefundPaid,
    /// Cashfree refused or cancelled a refund started here: refunds payable back to the wallet and the fee.
    RefundFailed,
    /// Cashfree settled a payment to the bank: out of gateway clearing, its charges to gateway charges.
    Settlement,
    /// What Cashfree charged for a payout's transfer, with its tax: from the bank to transfer costs.
    TransferCharges,
}

/// A journal account. `WALLET` lines name their wallet; every other account is one per currency.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::status::Account")]
pub enum Account {
    /// What the platform owes freelancers and may pay out (a liability).
    Wallet,
    /// What the platform owes freelancers but holds until it is available (`PAYDESK_FUNDS_HOLD`).
    WalletPending,
    /// The platform's fee income.
    FeeRevenue,
    /// What Cashfree owes the platform for captured payments, until it settles them (an asset).
    GatewayClearing,
    /// Payouts approved whose transfer has not completed (a liability).
    PayoutsInTransit,
    /// The platform's money at its bank and in the account that funds transfers (an asset).
    Bank,
    /// Refunds started here that Cashfree has not paid yet (a liability to the clients).
    RefundsPayable,
    /// Money held from wallets while their payments' disputes are decided (a liability).
    DisputedFunds,
    /// What lost disputes cost the platform itself (an expense): what no wallet covered.
    DisputeLosses,
    /// What Cashfree charged for transfers (service charge and its tax; an expense).
    TransferCosts,
    /// What Cashfree kept of settled payments (service charge and its tax; an expense).
    GatewayCharges,
    /// The other side of admins' corrections.
    Adjustments,
}

/// A side of the books.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::status::Side")]
pub enum BalanceSide {
    Debit,
    Credit,
}

/// How loud an alert or notification is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::status::Severity")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// Who a caller (or an audit entry's actor) is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::status::Role")]
pub enum Role {
    Admin,
    Ops,
    Freelancer,
    /// paydesk itself (webhooks).
    System,
}

/// A suspicious-activity rule a payout request tripped (thresholds in `PAYDESK_RISK_*`).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::risk::RiskRule")]
pub enum RiskRule {
    /// More payout requests from one wallet within an hour than allowed.
    Velocity,
    /// Requested soon after the wallet was funded by a client paying for the first time.
    NewClientFunds,
    /// Far above the wallet's median payout.
    AboveMedian,
    /// The wallet was funded by a client whose payments keep failing.
    ClientFailedPayments,
}
