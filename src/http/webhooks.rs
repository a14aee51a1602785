//! `POST /api/webhooks/cashfree`: the raw bytes go to the webhook service untouched (the signature covers them).

use super::Http;
use crate::services::webhooks;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Answers 200 for accepted and duplicate deliveries, 401 for a bad signature, 400 for a malformed body,
/// 503 when no secret is configured, 5xx only when a retry can help.
pub async fn cashfree(State(http): State<Http>, headers: HeaderMap, body: Bytes) -> Response {
    let reply = webhooks::receive(&http.state, &headers, &body).await;
    // The stored name ("processed") labels the metric; the API's enum value ("PROCESSED") goes in the reply.
    let stored = serde_json::to_value(reply.outcome).unwrap_or_default();
    let stored = stored.as_str().unwrap_or_default();
    let labels = crate::metrics::OutcomeLabels { outcome: stored.to_owned() };
    http.state.metrics.webhooks.get_or_create(&labels).inc();
    let outcome = stored.to_ascii_uppercase();
    let body = if reply.status == StatusCode::OK {
        json!({ "outcome": outcome, "webhookId": reply.webhook_id, "message": reply.message })
    } else {
        let code = match reply.status {
            StatusCode::UNAUTHORIZED => "INVALID_SIGNATURE",
            StatusCode::BAD_REQUEST => "BAD_USER_INPUT",
            StatusCode::SERVICE_UNAVAILABLE => "UNAVAILABLE",
            _ => "INTERNAL",
        };
        json!({ "error": { "code": code, "message": reply.message }, "outcome": outcome, "webhookId": reply.webhook_id })
    };
    (reply.status, Json(body)).into_response()
}
