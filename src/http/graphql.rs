//! `/graphql`: queries and mutations over POST, GraphiQL (embedded, offline) over GET, subscriptions over
//! WebSocket at `/graphql/ws` with the token in `connection_init`.

use super::{caller, Http};
use crate::auth::Caller;
use async_graphql::{BatchRequest, Data};
use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLBatchRequest, GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message};
use axum::extract::{Path, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};

/// A request-level error in GraphQL's response shape, with status 400.
fn bad_request(message: String) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_USER_INPUT" } }] });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// Runs one operation or a batch (at most `PAYDESK_MAX_BATCH`).
pub async fn execute(
    State(http): State<Http>,
    headers: HeaderMap,
    request: Result<GraphQLBatchRequest, GraphQLRejection>,
) -> Response {
    let batch = match request {
        Ok(r) => r.into_inner(),
        Err(rejection) => return bad_request(format!("the request is not a GraphQL request: {}", rejection.0)),
    };
    let max = http.state.settings.max_batch;
    if let BatchRequest::Batch(ops) = &batch {
        if ops.len() > max {
            return bad_request(format!("a batch may hold at most {max} operations, not {}", ops.len()));
        }
    }
    let batch = batch.data(caller(&http.state, &headers));
    GraphQLResponse::from(http.schema.execute_batch(batch).await).into_response()
}

const GRAPHIQL_HTML: &str = include_str!("../../assets/graphiql/index.html");

/// GraphiQL, served from assets inside the binary.
pub async fn graphiql() -> Html<&'static str> {
    Html(GRAPHIQL_HTML)
}

/// The served schema as SDL, for codegen and for diffing against `schema.graphql`.
pub async fn sdl(State(http): State<Http>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], http.schema.sdl()).into_response()
}

/// The embedded GraphiQL and React files.
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, mime): (&'static [u8], &str) = match file.as_str() {
        "graphiql.min.js" => (include_bytes!("../../assets/graphiql/graphiql.min.js"), "text/javascript"),
        "graphiql.min.css" => (include_bytes!("../../assets/graphiql/graphiql.min.css"), "text/css"),
        "react.production.min.js" => {
            (include_bytes!("../../assets/graphiql/react.production.min.js"), "text/javascript")
        }
        "react-dom.production.min.js" => {
            (include_bytes!("../../assets/graphiql/react-dom.production.min.js"), "text/javascript")
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "public, max-age=86400")], body).into_response()
}

/// Starts every refusal of `connection_init`, so the close frame can be told apart from protocol errors.
const REFUSED: &str = "unauthorized: ";

/// async-graphql closes a refused `graphql-transport-ws` connection with 1002 (protocol error); the protocol
/// says 4403 Forbidden, which clients act on (re-authenticate rather than report a bug).
fn forbidden_close(msg: Message) -> Message {
    match msg {
        Message::Close(Some(frame)) if frame.code == 1002 && frame.reason.starts_with(REFUSED) => {
            Message::Close(Some(CloseFrame { code: 4403, reason: frame.reason }))
        }
        other => other,
    }
}

/// Subscriptions over `graphql-transport-ws` or the legacy `graphql-ws`; the token comes in `connection_init`.
/// Without a valid one the connection is refused: close 4403, or `connection_error` on the legacy protocol.
/// When the server shuts down, every connection is closed with 1001 so clients reconnect (to another instance).
pub async fn websocket(State(http): State<Http>, protocol: GraphQLProtocol, upgrade: WebSocketUpgrade) -> Response {
    upgrade.protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |socket| {
        let sockets = http.state.sockets.clone();
        sockets.track_future(serve_socket(http, protocol, socket))
    })
}

/// async-graphql writes into a channel; this task owns the socket, so it can still say goodbye on shutdown.
async fn serve_socket(http: Http, protocol: GraphQLProtocol, socket: axum::extract::ws::WebSocket) {
    let (mut socket_sink, socket_stream) = socket.split();
    let (tx, mut rx) = futures_channel::mpsc::channel::<Message>(32);
    let jwt = http.state.jwt.clone();
    let graphql = GraphQLWebSocket::new_with_pair(tx, socket_stream, http.schema, protocol)
        .on_connection_init(move |payload| async move {
            let token = ["Authorization", "authorization"]
                .iter()
                .find_map(|k| payload.get(*k).and_then(|v| v.as_str()).map(str::to_owned));
            match jwt.caller(token.as_deref()) {
                Caller::Invalid(why) => Err(async_graphql::Error::new(format!("{REFUSED}{why}"))),
                Caller::Anonymous => Err(async_graphql::Error::new(format!(
                    "{REFUSED}send {{\"Authorization\": \"Bearer <JWT>\"}} in connection_init's payload"
                ))),
                user => {
                    let mut data = Data::default();
                    data.insert(user);
                    Ok(data)
                }
            }
        })
        .serve();
    let graphql = tokio::spawn(graphql);
    let mut shutdown = http.state.shutdown.subscribe();
    let stopping = async move {
        let _ = shutdown.wait_for(|down| *down).await.map(|_| ());
    };
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            msg = rx.next() => match msg {
                Some(m) => {
                    if socket_sink.send(forbidden_close(m)).await.is_err() {
                        break;
                    }
                }
                None => break, // the client went away and async-graphql finished
            },
            () = &mut stopping => {
                let bye = CloseFrame { code: 1001, reason: "server shutting down; reconnect".into() };
                let _ = socket_sink.send(Message::Close(Some(bye))).await;
                break;
            }
        }
    }
    graphql.abort();
}
