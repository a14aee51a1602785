//! The HTTP surface: routes, shared handler state, and the layers every request passes.

mod admin;
mod graphql;
mod health;
mod metrics;
mod reports;
mod webhooks;

use crate::graphql::AppSchema;
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tower_http::trace::TraceLayer;

/// What every handler gets.
#[derive(Clone)]
pub struct Http {
    pub state: AppState,
    pub schema: AppSchema,
}

/// Largest request body accepted (GraphQL documents and webhook payloads are far smaller).
const BODY_LIMIT: usize = 1024 * 1024;

/// All routes of the contract.
pub fn router(state: AppState) -> Router {
    let schema = crate::graphql::build(state.clone());
    Router::new()
        .route("/graphql", get(graphql::graphiql).post(graphql::execute))
        .route("/graphql/assets/{file}", get(graphql::asset))
        .route("/graphql/schema.graphql", get(graphql::sdl))
        .route("/graphql/ws", get(graphql::websocket))
        .route("/api/webhooks/cashfree", post(webhooks::cashfree))
        .route("/api/admin/approve-payout", post(admin::approve_payout))
        .route("/api/admin/reports/financial.csv", get(reports::financial_csv))
        .route("/metrics", get(metrics::scrape))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::track))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(Http { state, schema })
}

/// The caller named by a request's `Authorization` header.
pub fn caller(state: &AppState, headers: &axum::http::HeaderMap) -> crate::auth::Caller {
    let value = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    state.jwt.caller(value)
}
