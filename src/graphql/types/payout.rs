//! `PayoutRequest`: a freelancer's request to be paid out, and its decision.

use super::{loader_error, PayoutStatus, RiskRule, Wallet};
use crate::graphql::error::Result;
use crate::graphql::guards::{principal, state};
use crate::graphql::loaders::{Db, GateOfFreelancer, WalletById};
use crate::graphql::scalars::DateTime;
use crate::graphql::scalars::Decimal;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, SimpleObject};
use entity::payout_request as payout;
use uuid::Uuid;

/// A request to be paid out of a wallet. Only a PENDING request can be approved, rejected or cancelled; with
/// Cashfree Payouts an approved one is PROCESSING until its transfer ends PAID or FAILED.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct PayoutRequest {
    pub id: Uuid,
    /// The global id, for `node(id:)`.
    pub global_id: super::node::GlobalId,
    pub wallet_id: Uuid,
    pub freelancer_id: Uuid,
    pub amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
    pub status: PayoutStatus,
    /// The requester's note.
    pub note: Option<String>,
    /// Who asked: the freelancer, or an admin on their behalf.
    pub requested_by: Uuid,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime>,
    /// The approval note, or the reason for a rejection or cancellation.
    pub decision_note: Option<String>,
    /// Cashfree's id of the transfer paying this request, and the transfer's last reported status.
    pub cf_transfer_id: Option<String>,
    pub transfer_status: Option<String>,
    /// Why the transfer failed or was reversed.
    pub failure_reason: Option<String>,
    /// The admin who gave the first of two approvals (a payout above the four-eyes limit), and when.
    pub first_approved_by: Option<Uuid>,
    pub first_approved_at: Option<DateTime>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[graphql(skip)]
    pub row: payout::Model,
}

/// A suspicious-activity rule the request tripped when it was filed, and what tripped it.
#[derive(SimpleObject, Clone)]
pub struct RiskFlag {
    pub rule: RiskRule,
    pub reason: String,
}

impl super::PlainFields for PayoutRequest {
    const PLAIN: &'static [&'static str] = &[
        "id",
        "globalId",
        "walletId",
        "freelancerId",
        "amount",
        "currency",
        "status",
        "note",
        "requestedBy",
        "decidedBy",
        "decidedAt",
        "decisionNote",
        "cfTransferId",
        "transferStatus",
        "failureReason",
        "firstApprovedBy",
        "firstApprovedAt",
        "createdAt",
        "updatedAt",
    ];
}

super::columns::columns_of!(PayoutRequest, payout::Model {
    "id" | "globalId" => [id],
    "walletId" | "wallet" => [wallet_id],
    "freelancerId" => [freelancer_id],
    "amount" => [amount],
    "currency" => [currency],
    "status" => [status],
    "note" => [note],
    "requestedBy" => [requested_by],
    "decidedBy" => [decided_by],
    "decidedAt" => [decided_at],
    "decisionNote" => [decision_note],
    "cfTransferId" => [cf_transfer_id],
    "transferStatus" => [transfer_status],
    "failureReason" => [failure_reason],
    "riskFlags" => [risk_flags],
    "firstApprovedBy" => [first_approved_by],
    "firstApprovedAt" => [first_approved_at],
    "createdAt" => [created_at],
    "updatedAt" => [updated_at],
});

impl From<payout::Model> for PayoutRequest {
    fn from(m: payout::Model) -> Self {
        Self {
            global_id: super::node::GlobalId::new("PayoutRequest", m.id),
            id: m.id,
            wallet_id: m.wallet_id,
            freelancer_id: m.freelancer_id,
            amount: m.amount.into(),
            currency: m.currency.clone(),
            status: m.status.into(),
            note: m.note.clone(),
            requested_by: m.requested_by,
            decided_by: m.decided_by,
            decided_at: m.decided_at.map(DateTime),
            decision_note: m.decision_note.clone(),
            cf_transfer_id: m.cf_transfer_id.clone(),
            transfer_status: m.transfer_status.clone(),
            failure_reason: m.failure_reason.clone(),
            first_approved_by: m.first_approved_by,
            first_approved_at: m.first_approved_at.map(DateTime),
            created_at: DateTime(m.created_at),
            updated_at: DateTime(m.updated_at),
            row: m,
        }
    }
}

#[ComplexObject]
impl PayoutRequest {
    /// The suspicious-activity rules this request tripped when it was filed (empty: none). Flags never block a
    /// payout by themselves; they are for the admin deciding, and each raised a `payout_risk` alert.
    async fn risk_flags(&self) -> Vec<RiskFlag> {
        crate::domain::risk::decode(self.row.risk_flags.as_deref())
            .into_iter()
            .map(|f| RiskFlag { rule: f.rule.into(), reason: f.reason })
            .collect()
    }

    /// How many admins must approve it: 2 above `PAYDESK_FOUR_EYES_ABOVE`, else 1.
    async fn approvals_needed(&self, ctx: &Context<'_>) -> i32 {
        i32::from(crate::services::payouts::approvals_needed(state(ctx), &self.row))
    }

    /// Whether you could approve it now: pending, not on hold, the wallet keeping its reserve after paying it, a
    /// beneficiary registered (with Cashfree Payouts), and not awaiting a second admin's approval after your own.
    async fn approvable(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.not_approvable_reason(ctx).await?.is_none())
    }

    /// Why you could not approve it now (what approving would answer), or null if you could.
    async fn not_approvable_reason(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let loader = ctx.data_unchecked::<DataLoader<Db>>();
        let (wallet, gate) = futures_util::try_join!(
            loader.load_one(WalletById(self.wallet_id)),
            loader.load_one(GateOfFreelancer(self.freelancer_id))
        )
        .map_err(loader_error)?;
        let gate = gate.unwrap_or(crate::services::payouts::Gate { held: None, has_beneficiary: false });
        Ok(crate::services::payouts::blocker(state(ctx), principal(ctx)?, &self.row, wallet.as_ref(), &gate))
    }

    /// The wallet paid out of.
    async fn wallet(&self, ctx: &Context<'_>) -> Result<Option<Wallet>> {
        let loader = ctx.data_unchecked::<DataLoader<Db>>();
        Ok(loader.load_one(WalletById(self.wallet_id)).await.map_err(loader_error)?.map(Wallet::from))
    }
}
