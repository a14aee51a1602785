//! `Alert`: something ops should look at, as it happens.

use super::Severity;
use crate::graphql::scalars::DateTime;
use async_graphql::SimpleObject;
use uuid::Uuid;

/// Something ops should look at: a refused signature, money that matches no order, a refused payout, …
#[derive(SimpleObject, Clone)]
pub struct Alert {
    /// Its place in the event log: pass it as `after` to `alerts` (query or subscription) to resume after it.
    pub cursor: String,
    pub id: Uuid,
    pub severity: Severity,
    /// signature_rejected, webhook_unmatched, webhook_failed, reserve_violation, …
    pub kind: String,
    pub message: String,
    pub payment_id: Option<Uuid>,
    pub payout_request_id: Option<Uuid>,
    /// The webhook delivery it concerns (see `paymentWebhooks`).
    pub webhook_id: Option<Uuid>,
    pub created_at: DateTime,
}

impl Alert {
    /// The alert stored as event `seq`.
    pub fn new(seq: i64, a: crate::events::Alert) -> Self {
        Alert {
            cursor: seq.to_string(),
            id: a.id,
            severity: a.severity.into(),
            kind: a.kind,
            message: a.message,
            payment_id: a.payment_id,
            payout_request_id: a.payout_request_id,
            webhook_id: a.webhook_id,
            created_at: DateTime(a.created_at),
        }
    }
}

impl super::PlainFields for Alert {
    const PLAIN: &'static [&'static str] =
        &["cursor", "id", "severity", "kind", "message", "paymentId", "payoutRequestId", "webhookId", "createdAt"];
}
