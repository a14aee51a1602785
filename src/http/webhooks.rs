//! `POST /api/webhooks/cashfree`: the raw bytes go to the webhook service untouched (the signature covers them).

use super::Http;
use crate::services::webhooks;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use serde_json::json;
use std::net::SocketAddr;

/// Largest webhook body read whole; Cashfree's are a few KB.
pub const BODY_LIMIT: usize = 256 * 1024;
/// How much of a larger body is kept for the record.
const KEPT_PREFIX: usize = 64 * 1024;

/// The body, or (if it is larger than `BODY_LIMIT`) its first `KEPT_PREFIX` bytes, unread beyond the limit.
async fn read_body(body: Body) -> Result<Vec<u8>, Vec<u8>> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else { break }; // the client went away: process what arrived, which fails to parse
        if bytes.len() + chunk.len() > BODY_LIMIT {
            bytes.extend_from_slice(&chunk[..chunk.len().min(KEPT_PREFIX.saturating_sub(bytes.len()))]);
            bytes.truncate(KEPT_PREFIX);
            return Err(bytes);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The headers the webhook pipeline reads or keeps, and the address the delivery came from.
fn kept(http: &Http, peer: SocketAddr, headers: &HeaderMap) -> webhooks::Headers {
    webhooks::Headers::new(headers.iter().map(|(name, value)| (name.as_str(), value.as_bytes())))
        .from(http.limits.client(peer, headers))
}

/// Runs a delivery of `S` through the pipeline, the body read up to `BODY_LIMIT`.
async fn take<S: webhooks::Source>(http: &Http, peer: SocketAddr, headers: &HeaderMap, body: Body) -> Response {
    let headers = kept(http, peer, headers);
    let receipt = match read_body(body).await {
        Ok(body) => webhooks::receive::<S>(&http.state, &headers, &body).await,
        Err(prefix) => webhooks::receive_too_large(&http.state, &headers, &prefix, BODY_LIMIT).await,
    };
    answer(http, receipt)
}

/// Answers 200 for accepted and duplicate deliveries, 401 for a bad signature, 400 for a malformed body,
/// 413 (still recorded) for a body over the limit, 503 when no secret is configured, 5xx only when a retry
/// can help.
pub async fn cashfree(State(http): State<Http>, peer: Peer, headers: HeaderMap, body: Body) -> Response {
    take::<paydesk_core::services::payments::webhook::Payments>(&http, peer.0, &headers, body).await
}

/// `POST /api/webhooks/cashfree/payouts`: transfer outcomes, answered like payment webhooks.
pub async fn cashfree_payouts(State(http): State<Http>, peer: Peer, headers: HeaderMap, body: Body) -> Response {
    take::<crate::services::payouts::transfers::Transfers>(&http, peer.0, &headers, body).await
}

/// `POST /api/webhooks/cashfree/payouts/v1`: Payouts' V1 webhooks, form-encoded and signed in the body
/// (`LOW_BALANCE_ALERT` is acted on), answered like the others.
pub async fn cashfree_payouts_v1(State(http): State<Http>, peer: Peer, headers: HeaderMap, body: Body) -> Response {
    let headers = kept(&http, peer.0, &headers);
    let receipt = match read_body(body).await {
        Ok(body) => webhooks::payouts_v1::receive(&http.state, &headers, &body).await,
        Err(prefix) => webhooks::receive_too_large(&http.state, &headers, &prefix, BODY_LIMIT).await,
    };
    answer(&http, receipt)
}

/// The connection's peer (the front door always gives it; a caller without one is taken as the local host).
pub struct Peer(SocketAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        Ok(Peer(peer.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))))
    }
}

/// The receipt as JSON, its status and code from the verdict, counted by outcome.
fn answer(http: &Http, receipt: webhooks::Receipt) -> Response {
    use webhooks::Verdict;
    // The stored name ("processed") labels the metric; the API's enum value ("PROCESSED") goes in the reply.
    let stored = serde_json::to_value(receipt.outcome).unwrap_or_default();
    let stored = stored.as_str().unwrap_or_default();
    let labels = crate::metrics::OutcomeLabels { outcome: stored.to_owned() };
    http.state.metrics.webhooks.get_or_create(&labels).inc();
    let outcome = stored.to_ascii_uppercase();
    let (status, code) = match receipt.verdict {
        Verdict::Accepted => (StatusCode::OK, None),
        Verdict::BadSignature => (StatusCode::UNAUTHORIZED, Some("INVALID_SIGNATURE")),
        Verdict::Malformed => (StatusCode::BAD_REQUEST, Some("BAD_USER_INPUT")),
        Verdict::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, Some("BAD_USER_INPUT")),
        Verdict::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, Some("RATE_LIMITED")),
        Verdict::Unconfigured | Verdict::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, Some("UNAVAILABLE")),
        Verdict::Failed => (StatusCode::INTERNAL_SERVER_ERROR, Some("INTERNAL")),
    };
    let (id, message) = (receipt.webhook_id, receipt.message);
    let body = match code {
        None => json!({ "outcome": outcome, "webhookId": id, "message": message }),
        Some(code) => json!({ "error": { "code": code, "message": message }, "outcome": outcome, "webhookId": id }),
    };
    let mut response = (status, Json(body)).into_response();
    if let Verdict::Throttled(secs) = receipt.verdict {
        response.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
    response
}
