//! Serving the routes over TCP: what `axum::serve` does, plus the limits it has no setting for.
//!
//! - A connection must send each request's headers within `PAYDESK_HEADER_TIMEOUT_MS`, the wait after a
//!   keep-alive response included: a client that opens connections and trickles bytes (slowloris), or opens them
//!   and sends nothing, no longer holds them (and their file descriptors) for good.
//! - A request must arrive whole and be answered within `PAYDESK_REQUEST_TIMEOUT_MS` and a second, or it is
//!   answered 408: the GraphQL timeout starts only once the body is read, which a client could trickle in.
//! - At most `PAYDESK_MAX_CONNECTIONS` HTTP connections are served at once; further ones wait in the listen
//!   backlog. A flood of connections then cannot take the file descriptors that database connections and calls
//!   to Cashfree need. A WebSocket stops counting here once upgraded (`PAYDESK_MAX_SOCKETS` caps those).

use crate::state::AppState;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Method};
use futures_util::future::{Either, FutureExt};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::Service;

/// The header that names a request in the logs, taken from the caller or made here, and echoed in the response.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How long requests under way may take to finish once the server is stopping.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves every route on `listener` until `stopping` completes, then lets requests under way finish (WebSockets
/// are closed by their own tasks).
pub async fn serve(listener: TcpListener, state: AppState, stopping: impl Future<Output = ()>) {
    let (settings, metrics) = (state.settings.clone(), state.metrics.clone());
    let http = super::Http::new(state);
    let router = super::router(http.clone());
    // Without CORS, nothing the router adds touches `POST /graphql`: the hottest route goes straight to its handler
    // (`graphql::execute_direct`, which caps the body the same way), skipping the router's matching, boxed
    // services and extractors: 6k of a one-row read's 128k instructions, and a tenth of its time at one connection.
    let direct = matches!(settings.cors, crate::state::Cors::Off).then_some(http);
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(settings.max_connections));
    // GraphQL stops its own execution at the request timeout with a GraphQL error; this backstop a second later
    // also bounds reading the body, which a client could otherwise trickle in a byte at a time for as long as it
    // liked.
    let deadline = settings.request_timeout + Duration::from_secs(1);
    // HTTP/1.1 only, as before: `hyper_util`'s auto builder would first sniff each connection for HTTP/2's preface.
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(settings.header_timeout);
    // Told when the server stops: each connection finishes the request it is on and closes.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let connections = tokio_util::task::TaskTracker::new();
    tokio::pin!(stopping);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut stopping => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was taken: try again shortly.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stopping => break,
        };
        // Responses go out at once: with Nagle's algorithm a multi-segment answer waits for the client's delayed
        // ACK (about 40 ms), which was the p99 of every list read.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let (router, direct, metrics) = (router.clone(), direct.clone(), metrics.clone());
        let service = hyper::service::service_fn(move |mut req: axum::http::Request<hyper::body::Incoming>| {
            // The caller's `x-request-id`, or a new one: every log line of the request carries it, and so does the
            // response.
            let id = match req.headers().get(REQUEST_ID) {
                Some(id) => id.clone(),
                None => {
                    let made =
                        HeaderValue::try_from(uuid::Uuid::new_v4().to_string()).expect("a UUID is a header value");
                    req.headers_mut().insert(REQUEST_ID, made.clone());
                    made
                }
            };
            let span = tracing::info_span!("request", method = %req.method(), path = %req.uri().path(),
                request_id = %id.to_str().unwrap_or("-"));
            let labels = super::metrics::labels(req.method(), req.uri().path());
            let started = std::time::Instant::now();
            let answer = match &direct {
                Some(http) if req.method() == Method::POST && req.uri().path() == "/graphql" => {
                    Either::Left(super::graphql::execute_direct(http.clone(), req).map(Ok))
                }
                _ => {
                    // WebSocket caps are per client address.
                    req.extensions_mut().insert(ConnectInfo(peer));
                    Either::Right(router.clone().call(req))
                }
            };
            let answer = tracing::Instrument::instrument(answer, span.clone());
            let metrics = metrics.clone();
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
                    if status.is_server_error() {
                        tracing::error!(parent: &span, %status, latency_ms = took.as_millis() as u64, "request failed");
                    }
                    response.headers_mut().insert(REQUEST_ID, id);
                }
                answered
            }
        });
        let connection = builder.serve_connection(TokioIo::new(tcp), service).with_upgrades();
        let mut stopped = stopped.clone();
        connections.spawn(async move {
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = async { stopped.wait_for(|stop| *stop).await.map(|_| ()) } => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    connections.close();
    if tokio::time::timeout(DRAIN, connections.wait()).await.is_err() {
        tracing::warn!("requests still under way after {DRAIN:?}; stopping anyway");
    }
}

/// The answer to a request that did not arrive and get answered within `deadline`.
fn too_slow(deadline: Duration) -> axum::response::Response {
    use axum::response::IntoResponse;
    let message = format!(
        "the request took longer than {} ms to arrive and be answered; send the body at once",
        deadline.as_millis()
    );
    let body = serde_json::json!({ "error": { "code": "TIMEOUT", "message": message } });
    (axum::http::StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
}
