//! `GET /metrics` (Prometheus text format) and the middleware that counts and times every request.

use super::Http;
use crate::metrics::{HttpLabels, Metrics, RouteLabels};
use axum::extract::State;
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Response};

/// A request's labels: its method (the standard seven by name, any other as `other`: a label per method a client
/// made up would grow the registry, and every scrape, without bound) and its route pattern (never the raw path: ids
/// would explode the labels).
pub fn labels(method: &Method, path: &str) -> (&'static str, &'static str) {
    let method = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        _ => "other",
    };
    let route = super::ROUTES.iter().find(|(_, r)| *r == path).map(|(_, r)| *r);
    let route = route
        .or_else(|| path.starts_with("/graphql/assets/").then_some("/graphql/assets/{file}"))
        .or_else(|| path.starts_with("/console/assets/").then_some("/console/assets/{file}"));
    (method, route.unwrap_or("unmatched"))
}

/// Counts and times one answered request. Done by the front door (`front.rs`), around the router, with static
/// labels: an axum `from_fn` layer would box every request's future and own its labels.
pub fn record(
    metrics: &Metrics,
    (method, route): (&'static str, &'static str),
    status: u16,
    took: std::time::Duration,
) {
    metrics.http_requests.get_or_create(&HttpLabels { method, route, status }).inc();
    metrics.http_seconds.get_or_create(&RouteLabels { route }).observe(took.as_secs_f64());
}

/// Whether the request may read the metrics (they show money totals): the `PAYDESK_METRICS_TOKEN` as a bearer
/// token, or a staff JWT.
async fn may_scrape(state: &crate::state::AppState, headers: &HeaderMap) -> bool {
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
    matches!(super::caller(state, headers).await, crate::auth::Caller::User(p) if p.is_staff())
}

/// The metrics, with the database-wide money totals and this instance's pools read now.
pub async fn scrape(State(http): State<Http>, headers: HeaderMap) -> Response {
    let s = &http.state;
    if !may_scrape(s, &headers).await {
        let why = "metrics need `Authorization: Bearer <PAYDESK_METRICS_TOKEN>` or an admin or ops JWT";
        return super::ApiError(crate::error::AppError::Unauthenticated(why.into())).into_response();
    }
    match crate::services::reads::reports::money_totals(&s.db).await {
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
