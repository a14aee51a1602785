//! `Refund`: a refund an admin started from paydesk.

use super::RefundStatus;
use crate::graphql::scalars::{DateTime, Decimal};
use async_graphql::SimpleObject;
use entity::refund;
use uuid::Uuid;

super::columns::object_of_rows! {
    /// A refund an admin started from paydesk (`createRefund`). PENDING until Cashfree's refund webhook says it was
    /// paid (SUCCEEDED) or refused or cancelled (FAILED, the money back in the wallet).
    #[derive(SimpleObject, Clone)]
    pub struct Refund from refund::Model as m {
        "id" id: Uuid = m.id, reads [id];
        /// Ours, as sent to Cashfree (`refund_id`).
        "refundId" refund_id: String = m.refund_id, reads [refund_id];
        /// Cashfree's, once it answered.
        "cfRefundId" cf_refund_id: Option<String> = m.cf_refund_id, reads [cf_refund_id];
        "paymentId" payment_id: Uuid = m.payment_id, reads [payment_id];
        "freelancerId" freelancer_id: Uuid = m.freelancer_id, reads [freelancer_id];
        /// What goes back to the client.
        "amount" amount: Decimal = m.amount.into(), reads [amount];
        /// The platform's fee on it, which the platform gives up; the freelancer's wallet gives the rest.
        "feeShare" fee_share: Decimal = m.fee_share.into(), reads [fee_share];
        "currency" currency: String = m.currency, reads [currency];
        "status" status: RefundStatus = m.status.into(), reads [status];
        "reason" reason: String = m.reason, reads [reason];
        "requestedBy" requested_by: Uuid = m.requested_by, reads [requested_by];
        /// Why Cashfree refused or cancelled it.
        "failureReason" failure_reason: Option<String> = m.failure_reason, reads [failure_reason];
        "createdAt" created_at: DateTime = DateTime(m.created_at), reads [created_at];
        "updatedAt" updated_at: DateTime = DateTime(m.updated_at), reads [updated_at];
    }
}
