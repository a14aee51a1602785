//! The HTTP surface: routes, shared handler state, and the layers every request passes.

mod admin;
mod console;
mod error;
mod front;
mod gate;
mod graphql;
mod health;
mod history;
mod metrics;
pub mod rate;
mod reports;
mod serve;
pub mod sockets;
mod webhooks;

use crate::error::AppError;
use crate::graphql::Gateway;
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
pub use error::{status, ApiError};
use std::sync::Arc;

pub use serve::serve;

/// What every handler gets.
#[derive(Clone)]
pub struct Http {
    pub state: AppState,
    /// Where GraphQL operations run: one gateway per audience.
    pub signed_in: Gateway,
    pub anonymous: Gateway,
    pub sockets: Arc<sockets::Sockets>,
    /// The rate limits' budgets.
    pub limits: Arc<rate::Limits>,
}

/// Largest request body accepted (GraphQL documents and webhook payloads are far smaller).
const BODY_LIMIT: usize = 1024 * 1024;

impl Http {
    /// The handlers' state: the schemas built and the socket caps set up.
    fn new(state: AppState) -> Self {
        let schemas = crate::graphql::build(state.clone());
        let signed_in = Gateway::new(schemas.clone(), state.metrics.clone(), true);
        let anonymous = Gateway::new(schemas, state.metrics.clone(), false);
        let sockets = sockets::Sockets::new(state.settings.max_sockets, state.settings.max_sockets_per_ip);
        let limits = rate::Limits::new(&state.settings);
        Http { state, signed_in, anonymous, sockets, limits }
    }
}

/// All routes of the contract, with the layers every route has. Without CORS, the front door (`front.rs`) hands
/// `POST /graphql` to the same handler itself.
fn router(http: Http) -> Router {
    let cors = cors(&http.state.settings.cors);
    Router::new()
        .route(
            "/graphql",
            get(graphql::get).post(|State(http): State<Http>, req: axum::extract::Request| graphql::execute(http, req)),
        )
        .route("/graphql/assets/{file}", get(graphql::asset))
        .route("/graphql/schema.graphql", get(graphql::sdl))
        .route("/graphql/ws", get(graphql::websocket))
        .route("/console", get(console::page))
        .route("/console/config.json", get(console::config))
        .route("/console/assets/{file}", get(console::asset))
        .route("/api/webhooks/cashfree", post(webhooks::cashfree))
        .route("/api/webhooks/cashfree/payouts", post(webhooks::cashfree_payouts))
        .route("/api/webhooks/cashfree/payouts/v1", post(webhooks::cashfree_payouts_v1))
        .route("/api/admin/approve-payout", post(admin::approve_payout))
        .route("/api/admin/reports/financial.csv", get(reports::financial_csv))
        .route("/api/admin/reports/settlements.csv", get(reports::settlements_csv))
        .route("/history/public-key", get(history::public_key))
        .route("/history/checkpoint", get(history::checkpoint))
        .route("/metrics", get(metrics::scrape))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // The request id, the request's log span, its deadline and its metrics are the front door's (`front.rs`).
        .layer(tower::ServiceBuilder::new().option_layer(cors))
        .with_state(http)
}

/// Every route as the router above matches it: the methods it takes and its path. The metrics' `route` label is the
/// path (`metrics::labels`; the assets, `/graphql/assets/{file}` and `/console/assets/{file}`, are matched by their
/// prefix there), and a request for another path or method is told these. Debug builds check that no request a
/// route answered is counted `unmatched`.
const ROUTES: [(&str, &str); 16] = [
    ("GET and POST", "/graphql"),
    ("GET", "/graphql/ws"),
    ("GET", "/graphql/schema.graphql"),
    ("GET", "/console"),
    ("GET", "/console/config.json"),
    ("POST", "/api/webhooks/cashfree"),
    ("POST", "/api/webhooks/cashfree/payouts"),
    ("POST", "/api/webhooks/cashfree/payouts/v1"),
    ("POST", "/api/admin/approve-payout"),
    ("GET", "/api/admin/reports/financial.csv"),
    ("GET", "/api/admin/reports/settlements.csv"),
    ("GET", "/history/public-key"),
    ("GET", "/history/checkpoint"),
    ("GET", "/metrics"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
];

/// The routes there are, in words, for a caller who asked for another.
fn routes_in_words() -> String {
    ROUTES.iter().map(|(methods, path)| format!("{methods} {path}")).collect::<Vec<_>>().join(", ")
}

/// A path that is not a route: a JSON error like every other REST error, naming the routes there are.
async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError(AppError::NotFound(format!(
        "there is no route {method} {}; the routes are {}",
        uri.path(),
        routes_in_words()
    )))
}

/// A route asked with a method it does not take (axum adds `Allow`): a JSON error saying so.
async fn wrong_method(method: Method, uri: Uri) -> Response {
    let message = format!("{} does not take {method}; the routes are {}", uri.path(), routes_in_words());
    let body = serde_json::json!({ "error": { "code": "METHOD_NOT_ALLOWED", "message": message } });
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}

/// Answers preflights and adds the CORS headers for the configured origins; `None` when cross-origin access is off.
fn cors(config: &crate::state::Cors) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{header, HeaderName, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins = match config {
        crate::state::Cors::Off => return None,
        crate::state::Cors::Any => AllowOrigin::any(),
        crate::state::Cors::Origins(list) => {
            AllowOrigin::list(list.iter().filter_map(|o| axum::http::HeaderValue::from_str(o).ok()))
        }
    };
    Some(
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([HeaderName::from_static("x-request-id")])
            .max_age(std::time::Duration::from_secs(3600)),
    )
}

/// The caller named by a request's `Authorization` header.
pub async fn caller(state: &AppState, headers: &axum::http::HeaderMap) -> crate::auth::Caller {
    let value = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    crate::services::operations::identities::session(state, value).await.0
}
