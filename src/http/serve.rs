//! Serving the routes over TCP: what `axum::serve` does, plus the limits it has no setting for. Each request is
//! answered by the front door (`front.rs`: request id, deadline, metrics, routing).
//!
//! - A connection must send each request's headers within `PAYDESK_HEADER_TIMEOUT_MS`, the wait after a
//!   keep-alive response included: a client that opens connections and trickles bytes (slowloris), or opens them
//!   and sends nothing, no longer holds them (and their file descriptors) for good.
//! - At most `PAYDESK_MAX_CONNECTIONS` HTTP connections are served at once; further ones wait in the listen
//!   backlog. A flood of connections then cannot take the file descriptors that database connections and calls
//!   to Cashfree need. A WebSocket stops counting here once upgraded (`PAYDESK_MAX_SOCKETS` caps those).

use crate::state::AppState;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long requests under way may take to finish once the server is stopping.
const DRAIN: Duration = Duration::from_secs(10);

/// How long WebSockets may take to say goodbye once the server is stopping.
const GOODBYES: Duration = Duration::from_secs(5);

/// Serves every route on `listener` until `stopping` completes; then every WebSocket is told to close (1001,
/// "reconnect"), requests under way may finish, and the sockets' goodbyes are waited for.
pub async fn serve(listener: TcpListener, state: AppState, stopping: impl Future<Output = ()>) {
    let settings = state.settings.clone();
    let http = super::Http::new(state);
    let sockets = http.sockets.clone();
    let front = super::front::Front::new(http);
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(settings.max_connections));
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
        // ACK (tens of milliseconds).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let front = front.clone();
        let service = hyper::service::service_fn(move |req| front.answer(req, peer));
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
    let goodbyes = sockets.close_all(GOODBYES);
    let _ = stop.send(true);
    connections.close();
    let drained = async {
        if tokio::time::timeout(DRAIN, connections.wait()).await.is_err() {
            tracing::warn!("requests still under way after {DRAIN:?}; stopping anyway");
        }
    };
    tokio::join!(goodbyes, drained);
}
