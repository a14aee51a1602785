//! `PayoutRequest`: a freelancer's request to be paid out, and its decision.

use super::{loader_error, PayoutStatus, Wallet};
use crate::graphql::loaders::{Db, WalletById};
use crate::graphql::scalars::Decimal;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::payout_request as payout;
use uuid::Uuid;

/// A request to be paid out of a wallet. Only a PENDING request can be approved, rejected or cancelled; with
/// Cashfree Payouts an approved one is PROCESSING until its transfer ends PAID or FAILED.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct PayoutRequest {
    pub id: Uuid,
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
    pub decided_at: Option<DateTime<Utc>>,
    /// The approval note, or the reason for a rejection or cancellation.
    pub decision_note: Option<String>,
    /// Cashfree's id of the transfer paying this request, and the transfer's last reported status.
    pub cf_transfer_id: Option<String>,
    pub transfer_status: Option<String>,
    /// Why the transfer failed or was reversed.
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<payout::Model> for PayoutRequest {
    fn from(m: payout::Model) -> Self {
        Self {
            id: m.id,
            wallet_id: m.wallet_id,
            freelancer_id: m.freelancer_id,
            amount: m.amount.into(),
            currency: m.currency,
            status: m.status.into(),
            note: m.note,
            requested_by: m.requested_by,
            decided_by: m.decided_by,
            decided_at: m.decided_at,
            decision_note: m.decision_note,
            cf_transfer_id: m.cf_transfer_id,
            transfer_status: m.transfer_status,
            failure_reason: m.failure_reason,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[ComplexObject]
impl PayoutRequest {
    /// The wallet paid out of.
    async fn wallet(&self, ctx: &Context<'_>) -> Result<Option<Wallet>> {
        let loader = ctx.data_unchecked::<DataLoader<Db>>();
        Ok(loader.load_one(WalletById(self.wallet_id)).await.map_err(loader_error)?.map(Wallet::from))
    }
}
