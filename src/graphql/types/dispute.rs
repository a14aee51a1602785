//! `Dispute`: a chargeback a client's bank raised on a payment.

use super::DisputeStatus;
use crate::graphql::scalars::{DateTime, Decimal};
use async_graphql::SimpleObject;
use entity::dispute;
use uuid::Uuid;

super::columns::object_of_rows! {
    /// A dispute (chargeback) a client's bank raised on a payment, as Cashfree reports it. While OPEN, `held` is
    /// kept from the freelancer's wallet in disputed funds; WON gives it back; LOST is final.
    #[derive(SimpleObject, Clone)]
    pub struct Dispute from dispute::Model as m {
        "id" id: Uuid = m.id, reads [id];
        /// Cashfree's `dispute_id`.
        "cfDisputeId" cf_dispute_id: String = m.cf_dispute_id, reads [cf_dispute_id];
        "paymentId" payment_id: Uuid = m.payment_id, reads [payment_id];
        "freelancerId" freelancer_id: Uuid = m.freelancer_id, reads [freelancer_id];
        "walletId" wallet_id: Uuid = m.wallet_id, reads [wallet_id];
        /// Cashfree's `dispute_type`: DISPUTE, CHARGEBACK, RETRIEVAL, PRE_ARBITRATION, ARBITRATION.
        #[graphql(name = "type")]
        "type" dispute_type: String = m.dispute_type, reads [dispute_type];
        "status" status: DisputeStatus = m.status.into(), reads [status];
        /// Cashfree's `dispute_status` as last reported (`CHARGEBACK_UNDER_REVIEW`, …).
        "cfStatus" cf_status: String = m.cf_status, reads [cf_status];
        /// What the client disputes.
        "amount" amount: Decimal = m.amount.into(), reads [amount];
        /// What it took from the wallet: the amount, or less when refunds had already returned part of the payment.
        "held" held: Decimal = m.held.into(), reads [held];
        "currency" currency: String = m.currency, reads [currency];
        "reasonCode" reason_code: Option<String> = m.reason_code, reads [reason_code];
        "reason" reason: Option<String> = m.reason, reads [reason];
        /// When evidence is due at Cashfree.
        "respondBy" respond_by: Option<DateTime> = m.respond_by.map(DateTime), reads [respond_by];
        "createdAt" created_at: DateTime = DateTime(m.created_at), reads [created_at];
        "updatedAt" updated_at: DateTime = DateTime(m.updated_at), reads [updated_at];
        /// When it was last decided.
        "closedAt" closed_at: Option<DateTime> = m.closed_at.map(DateTime), reads [closed_at];
    }
}
