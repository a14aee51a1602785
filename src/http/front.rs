//! The front door: what every request passes before and after its route, in one place. Around every request: the
//! `x-request-id` (the caller's, or a new one, echoed in the response and carried by every log line), its log span,
//! the deadline by which it must have arrived whole and been answered (else 408), and the HTTP metrics. Then the
//! route: every request goes to the router (`super::router`, with its CORS and body-limit layers), except one
//! shortcut. Without CORS nothing the router adds applies to `POST /graphql`, so the hottest route goes straight to
//! its handler (the same function the router calls), skipping the router's matching and boxed services on every
//! read (bench/README.md keeps the figures).

use super::Http;
use crate::metrics::Metrics;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use axum::response::Response;
use futures_util::future::{Either, FutureExt};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower::Service;
use tracing::field::Empty;

/// The header that names a request in the logs, taken from the caller or made here, and echoed in the response.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Answers every request of every connection.
#[derive(Clone)]
pub struct Front {
    router: axum::Router,
    /// The handlers' state, when `POST /graphql` may skip the router (CORS is off).
    direct: Option<Http>,
    metrics: Arc<Metrics>,
    /// How long a request may take to arrive and be answered.
    deadline: Duration,
    limits: Arc<super::rate::Limits>,
}

impl Front {
    pub fn new(http: Http) -> Self {
        let settings = http.state.settings.clone();
        let metrics = http.state.metrics.clone();
        let limits = http.limits.clone();
        let router = super::router(http.clone());
        let direct = matches!(settings.cors, crate::state::Cors::Off).then_some(http);
        // GraphQL stops its own execution at the request timeout with a GraphQL error; this backstop a second later
        // also bounds reading the body, which a client could otherwise trickle in a byte at a time.
        let deadline = settings.request_timeout + Duration::from_secs(1);
        Front { router, direct, metrics, deadline, limits }
    }

    /// Answers `req`, which arrived from `peer`.
    pub fn answer(
        &self,
        mut req: Request<hyper::body::Incoming>,
        peer: SocketAddr,
    ) -> impl Future<Output = Result<Response, Infallible>> + Send + 'static {
        let id = match req.headers().get(REQUEST_ID) {
            Some(id) => id.clone(),
            None => {
                let made = HeaderValue::try_from(uuid::Uuid::new_v4().to_string()).expect("a UUID is a header value");
                req.headers_mut().insert(REQUEST_ID, made.clone());
                made
            }
        };
        let span = tracing::info_span!("request", method = %req.method(), path = %req.uri().path(),
            request_id = %id.to_str().unwrap_or("-"), otel.name = Empty, otel.kind = Empty);
        let labels = super::metrics::labels(req.method(), req.uri().path());
        if crate::traces::on() {
            server_span(&span, &req, labels);
        }
        let started = std::time::Instant::now();
        let over_budget = if super::rate::exempt(req.uri().path()) {
            None
        } else {
            self.limits.address(self.limits.client(peer, req.headers())).err()
        };
        let answer = match (&self.direct, over_budget) {
            (_, Some(refusal)) => Either::Left(Either::Left(std::future::ready(Ok(rate_limited(&req, refusal))))),
            (Some(http), None) if req.method() == Method::POST && req.uri().path() == "/graphql" => {
                Either::Left(Either::Right(super::graphql::execute(http.clone(), req).map(Ok)))
            }
            _ => {
                // WebSocket caps are per client address.
                req.extensions_mut().insert(ConnectInfo(peer));
                Either::Right(self.router.clone().call(req))
            }
        };
        let answer = tracing::Instrument::instrument(answer, span.clone());
        let (metrics, deadline) = (self.metrics.clone(), self.deadline);
        async move {
            let mut answered = match tokio::time::timeout(deadline, answer).await {
                Ok(answered) => answered,
                Err(_) => {
                    tracing::warn!(parent: &span, %peer, "a request was not in and answered within {deadline:?}: answered 408");
                    Ok(too_slow(deadline))
                }
            };
            if let Ok(response) = &mut answered {
                let (status, took) = (response.status(), started.elapsed());
                debug_assert!(
                    labels.1 != "unmatched" || matches!(status.as_u16(), 404 | 405 | 408),
                    "a route answered {status} but is missing from http::ROUTES, so its metrics say unmatched"
                );
                super::metrics::record(&metrics, labels, status.as_u16(), took);
                crate::traces::attribute(&span, "http.response.status_code", i64::from(status.as_u16()));
                if status.is_server_error() {
                    crate::traces::failed(&span, status.to_string());
                    tracing::error!(parent: &span, %status, latency_ms = took.as_millis() as u64, "request failed");
                }
                response.headers_mut().insert(REQUEST_ID, id);
            }
            answered
        }
    }
}

/// With traces on, a request's span is the server span of the caller's trace (its W3C `traceparent`, when it
/// sent one), named by its route as OpenTelemetry names HTTP server spans.
fn server_span<B>(span: &tracing::Span, req: &Request<B>, (method, route): (&'static str, &'static str)) {
    span.record("otel.name", format!("{method} {route}"));
    span.record("otel.kind", "server");
    let header = |name: &'static str| Some((name, req.headers().get(name)?.to_str().ok()?));
    crate::traces::continue_trace(span, [header("traceparent"), header("tracestate")].into_iter().flatten());
    crate::traces::attribute(span, "http.request.method", method);
    crate::traces::attribute(span, "http.route", route);
    crate::traces::attribute(span, "url.path", req.uri().path().to_owned());
}

/// The answer to a request over its address's budget: in GraphQL's shape on `/graphql`, else in REST's.
fn rate_limited<B>(req: &Request<B>, refusal: crate::error::AppError) -> Response {
    if req.uri().path().starts_with("/graphql") {
        return super::graphql::refused(refusal);
    }
    axum::response::IntoResponse::into_response(super::ApiError(refusal))
}

/// The answer to a request that did not arrive and get answered within `deadline`.
fn too_slow(deadline: Duration) -> Response {
    use axum::response::IntoResponse;
    let message = format!(
        "the request took longer than {} ms to arrive and be answered; send the body at once",
        deadline.as_millis()
    );
    let body = serde_json::json!({ "error": { "code": "TIMEOUT", "message": message } });
    (axum::http::StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
}
