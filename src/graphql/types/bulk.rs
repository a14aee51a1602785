//! `BulkApproval`: what `approvePayouts` did to each payout it was asked to approve.

use super::PayoutRequest;
use crate::services::payouts::Bulk;
use async_graphql::SimpleObject;
use uuid::Uuid;

/// A bulk approval: each payout approved (or refused) on its own, under the same rules as `approvePayout`.
#[derive(SimpleObject)]
pub struct BulkApproval {
    /// Names this bulk approval in each payout's audit entry (`after.batchId`).
    pub batch_id: Uuid,
    /// One result per payout request asked for, in the order given (a repeated id once).
    pub results: Vec<PayoutApprovalResult>,
}

/// What happened to one payout of a bulk approval.
#[derive(SimpleObject)]
pub struct PayoutApprovalResult {
    pub payout_request_id: Uuid,
    /// The payout as approved (`PROCESSING`, `PAID`, or still `PENDING` after a first of two approvals); null when
    /// refused.
    pub payout: Option<PayoutRequest>,
    /// Why it was refused, as `approvePayout` would have said it; null when approved.
    pub refusal: Option<Refusal>,
}

/// A refusal in words and as the code `approvePayout` answers with (`RESERVE_VIOLATION`, `PAYOUTS_ON_HOLD`,
/// `INVALID_STATE`, `NOT_FOUND`, `RATE_LIMITED`, …).
#[derive(SimpleObject)]
pub struct Refusal {
    pub code: String,
    pub message: String,
}

impl From<Bulk> for BulkApproval {
    fn from(bulk: Bulk) -> Self {
        let results = bulk
            .outcomes
            .into_iter()
            .map(|(id, outcome)| match outcome {
                Ok(p) => PayoutApprovalResult { payout_request_id: id, payout: Some(p.into()), refusal: None },
                Err(e) => PayoutApprovalResult {
                    payout_request_id: id,
                    payout: None,
                    refusal: Some(Refusal { code: e.code().to_owned(), message: e.public_message() }),
                },
            })
            .collect();
        BulkApproval { batch_id: bulk.batch, results }
    }
}
