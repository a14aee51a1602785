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

super::columns::object_of_rows! {
    /// A request to be paid out of a wallet. Only a PENDING request can be approved, rejected or cancelled; with
    /// Cashfree Payouts an approved one is PROCESSING until its transfer ends PAID or FAILED.
    #[derive(SimpleObject, Clone)]
    #[graphql(complex)]
    pub struct PayoutRequest from payout::Model as m {
        "id" id: Uuid = m.id, reads [id];
        /// The global id, for `node(id:)`.
        "globalId" global_id: super::node::GlobalId = super::node::GlobalId::new("PayoutRequest", m.id), reads [id];
        "walletId" wallet_id: Uuid = m.wallet_id, reads [wallet_id];
        "freelancerId" freelancer_id: Uuid = m.freelancer_id, reads [freelancer_id];
        "amount" amount: Decimal = m.amount.into(), reads [amount];
        /// ISO 4217 code.
        "currency" currency: String = m.currency.clone(), reads [currency];
        "status" status: PayoutStatus = m.status.into(), reads [status];
        /// The requester's note.
        "note" note: Option<String> = m.note.clone(), reads [note];
        /// Who asked: the freelancer, or an admin on their behalf.
        "requestedBy" requested_by: Uuid = m.requested_by, reads [requested_by];
        "decidedBy" decided_by: Option<Uuid> = m.decided_by, reads [decided_by];
        "decidedAt" decided_at: Option<DateTime> = m.decided_at.map(DateTime), reads [decided_at];
        /// The approval note, or the reason for a rejection or cancellation.
        "decisionNote" decision_note: Option<String> = m.decision_note.clone(), reads [decision_note];
        /// Cashfree's id of the transfer paying this request, and the transfer's last reported status.
        "cfTransferId" cf_transfer_id: Option<String> = m.cf_transfer_id.clone(), reads [cf_transfer_id];
        "transferStatus" transfer_status: Option<String> = m.transfer_status.clone(), reads [transfer_status];
        /// Why the transfer failed or was reversed.
        "failureReason" failure_reason: Option<String> = m.failure_reason.clone(), reads [failure_reason];
        /// The admin who gave the first of two approvals (a payout above the four-eyes limit), and when.
        "firstApprovedBy" first_approved_by: Option<Uuid> = m.first_approved_by, reads [first_approved_by];
        "firstApprovedAt" first_approved_at: Option<DateTime> = m.first_approved_at.map(DateTime),
            reads [first_approved_at];
        "createdAt" created_at: DateTime = DateTime(m.created_at), reads [created_at];
        "updatedAt" updated_at: DateTime = DateTime(m.updated_at), reads [updated_at];
    }
    keeps {
        row: payout::Model = m;
    }
    reads {
        "wallet" => [wallet_id];
        "riskFlags" => [risk_flags];
    }
}

/// A suspicious-activity rule the request tripped when it was filed, and what tripped it.
#[derive(SimpleObject, Clone)]
pub struct RiskFlag {
    pub rule: RiskRule,
    pub reason: String,
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

    /// The wallet's credits that fund this payout, oldest available first (first in, first out after every
    /// earlier debit), with their payments and the settlement UTRs that brought that money to the bank. For a
    /// payout not yet approved: the credits it would take now.
    async fn funded_by(&self, ctx: &Context<'_>) -> Result<Vec<super::PayoutFunding>> {
        let rows = crate::services::books::funding::funded_by(&state(ctx).reads, &self.row).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The wallet paid out of.
    async fn wallet(&self, ctx: &Context<'_>) -> Result<Option<Wallet>> {
        let loader = ctx.data_unchecked::<DataLoader<Db>>();
        Ok(loader.load_one(WalletById(self.wallet_id)).await.map_err(loader_error)?.map(Wallet::from))
    }
}
