//! `POST /api/admin/approve-payout`: the admin guide's endpoint, the same service as `approvePayout`.

use super::{caller, ApiError, Http};
use crate::error::AppError;
use crate::services::payouts;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use entity::status::Role;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApproveBody {
    payout_request_id: Uuid,
    note: Option<String>,
    /// Approve although the Cashfree Payouts account cannot cover it.
    #[serde(default)]
    force: bool,
}

/// Approves a pending payout; errors are `{"error": {"code", "message"}}` with the matching status.
pub async fn approve_payout(
    State(http): State<Http>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = caller(&http.state, &headers).await.principal()?;
    http.limits.caller(who.id)?;
    if who.role != Role::Admin {
        return Err(AppError::Forbidden("only an admin may approve payouts".into()).into());
    }
    http.limits.money(who.id)?;
    let body: ApproveBody = serde_json::from_slice(&body)
        .map_err(|e| AppError::BadInput(format!("body must be {{\"payoutRequestId\": \"<uuid>\"}}: {e}")))?;
    let s = &http.state;
    let p = payouts::approve(s, who, body.payout_request_id, body.note, body.force).await?;
    Ok(Json(json!({ "payoutRequest": {
        "id": p.id, "walletId": p.wallet_id, "freelancerId": p.freelancer_id,
        "amount": p.amount.to_string(), "currency": p.currency,
        "status": crate::domain::status::api_name(&p.status),
        "decidedBy": p.decided_by, "decidedAt": p.decided_at, "decisionNote": p.decision_note,
    }})))
}
