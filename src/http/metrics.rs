//! `GET /metrics` (Prometheus text format) and the middleware that counts and times every request.

use super::Http;
use crate::metrics::{HttpLabels, Metrics, RouteLabels};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Instant;

/// Counts and times a request under its route pattern (never the raw path: ids would explode the labels).
pub async fn track(
    State(metrics): State<Arc<Metrics>>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let route = matched.map(|m| m.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    // A label per method a client made up would grow the registry (and every scrape) without bound.
    let method = match *req.method() {
        Method::GET | Method::POST | Method::HEAD | Method::OPTIONS | Method::PUT | Method::PATCH | Method::DELETE => {
            req.method().as_str()
        }
        _ => "other",
    }
    .to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16();
    metrics.http_requests.get_or_create(&HttpLabels { method, route: route.clone(), status }).inc();
    metrics.http_seconds.get_or_create(&RouteLabels { route }).observe(started.elapsed().as_secs_f64());
    res
}

/// Whether the request may read the metrics (they show money totals): the `PAYDESK_METRICS_TOKEN` as a bearer
/// token, or a staff JWT.
fn may_scrape(state: &crate::state::AppState, headers: &HeaderMap) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    if let (Some(expected), Some(given)) = (&state.settings.metrics_token, bearer) {
        if bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), given.as_bytes())) {
            return true;
        }
    }
    matches!(super::caller(state, headers), crate::auth::Caller::User(p) if p.is_staff())
}

/// The metrics, with the database-wide money totals and this instance's pools read now.
pub async fn scrape(State(http): State<Http>, headers: HeaderMap) -> Response {
    let s = &http.state;
    if !may_scrape(s, &headers) {
        let why = "metrics need `Authorization: Bearer <PAYDESK_METRICS_TOKEN>` or an admin or ops JWT";
        return crate::error::AppError::Unauthenticated(why.into()).into_response();
    }
    match crate::services::reports::money_totals(&s.db).await {
        Ok(totals) => {
            for t in totals {
                s.metrics.money_totals(&t.currency, t.balances, t.pending_payouts);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: could not read money totals"),
    }
    for (pool, now) in [("main", crate::db::pool_use(&s.db)), ("reads", s.reads.pool_use())] {
        if let Some(now) = now {
            s.metrics.pool(pool, now);
        }
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], s.metrics.encode())
        .into_response()
}
