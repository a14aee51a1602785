//! The audit trail: one append-only row for every decision and every movement of money.

use crate::auth::Principal;
use crate::error::AppResult;
use entity::audit_log;
use entity::status::Role;
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

/// Who acted: a person, or paydesk itself (webhooks).
#[derive(Debug, Clone, Copy)]
pub enum Actor {
    User(Principal),
    System,
}

impl Actor {
    fn parts(self) -> (Option<Uuid>, Role) {
        match self {
            Actor::User(p) => (Some(p.id), p.role),
            Actor::System => (None, Role::System),
        }
    }
}

/// What was done; its name (`payout.approved`, …) is the entry's `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
pub enum Action {
    #[strum(serialize = "beneficiary.registered")]
    BeneficiaryRegistered,
    /// A client's bank disputed a payment (or a won dispute opened again): money held from the wallet.
    #[strum(serialize = "dispute.opened")]
    DisputeOpened,
    #[strum(serialize = "dispute.won")]
    DisputeWon,
    #[strum(serialize = "dispute.lost")]
    DisputeLost,
    /// An admin set how long a wallet's payment credits wait before they are available.
    #[strum(serialize = "funds.hold_set")]
    FundsHoldSet,
    /// An admin's correction of a wallet's balance.
    /// A legally required erasure redacted one audit entry or webhook delivery.
    #[strum(serialize = "history.erased")]
    HistoryErased,
    #[strum(serialize = "ledger.adjusted")]
    LedgerAdjusted,
    #[strum(serialize = "notification.redelivered")]
    NotificationRedelivered,
    #[strum(serialize = "payment.order_created")]
    PaymentOrderCreated,
    /// The order could not be created at Cashfree and was cancelled here.
    #[strum(serialize = "payment.order_failed")]
    PaymentOrderFailed,
    #[strum(serialize = "payment.refunded")]
    PaymentRefunded,
    /// An admin started a refund from paydesk.
    #[strum(serialize = "refund.requested")]
    RefundRequested,
    /// Cashfree refused or cancelled a refund paydesk started; its money went back.
    #[strum(serialize = "refund.failed")]
    RefundFailed,
    #[strum(serialize = "payment.succeeded")]
    PaymentSucceeded,
    /// An admin confirmed a payment by hand (manual payment verification).
    #[strum(serialize = "payment.verified")]
    PaymentVerified,
    #[strum(serialize = "payout.approval_refused")]
    PayoutApprovalRefused,
    #[strum(serialize = "payout.approved")]
    PayoutApproved,
    #[strum(serialize = "payout.cancelled")]
    PayoutCancelled,
    /// The first of two approvals a large payout needs (`PAYDESK_FOUR_EYES_ABOVE`).
    #[strum(serialize = "payout.first_approval")]
    PayoutFirstApproval,
    #[strum(serialize = "payout.rejected")]
    PayoutRejected,
    #[strum(serialize = "payout.requested")]
    PayoutRequested,
    #[strum(serialize = "payout.transfer_failed")]
    PayoutTransferFailed,
    #[strum(serialize = "payout.transfer_reversed")]
    PayoutTransferReversed,
    #[strum(serialize = "payout.transfer_succeeded")]
    PayoutTransferSucceeded,
    #[strum(serialize = "payouts.held")]
    PayoutsHeld,
    #[strum(serialize = "payouts.released")]
    PayoutsReleased,
    /// An admin linked a subject of the identity provider to a freelancer's wallet.
    #[strum(serialize = "identity.linked")]
    IdentityLinked,
    /// An admin reconciled a window of Cashfree's settlements.
    #[strum(serialize = "settlements.reconciled")]
    SettlementsReconciled,
    #[strum(serialize = "webhook.reprocessed")]
    WebhookReprocessed,
}

/// What an entry is about; its name (`payout_request`, …) is the entry's `entity_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Subject {
    AuditEntry,
    Beneficiary,
    Dispute,
    Notification,
    Payment,
    PaymentWebhook,
    PayoutHold,
    PayoutRequest,
    Settlement,
    Wallet,
}

/// One audit entry to write.
pub struct Entry {
    pub actor: Actor,
    pub action: Action,
    pub entity_type: Subject,
    pub entity_id: Uuid,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
}

/// Appends `entry`, inside the caller's transaction.
pub async fn record(db: &impl ConnectionTrait, entry: Entry) -> AppResult<audit_log::Model> {
    let (actor_id, actor_role) = entry.actor.parts();
    let mut row = audit_log::Model {
        id: crate::clock::new_id(),
        actor_id,
        actor_role,
        action: <&str>::from(entry.action).to_owned(),
        entity_type: <&str>::from(entry.entity_type).to_owned(),
        entity_id: entry.entity_id,
        before: entry.before,
        after: entry.after,
        reason: entry.reason,
        created_at: crate::clock::now(),
        content_hash: None,
    };
    row.content_hash = Some(crate::services::evidence::history::content::seal::<audit_log::Entity>(&row));
    audit_log::Entity::insert(audit_log::ActiveModel::from(row.clone())).exec_without_returning(db).await?;
    Ok(row)
}
