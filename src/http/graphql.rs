//! `/graphql`: queries and mutations over POST, GraphiQL (embedded, offline) over GET, subscriptions over
//! WebSocket at `/graphql/ws` with the token in `connection_init`.

use super::gate::{close, Gate};
use super::sockets::Slot;
use super::{caller, Http};
use crate::auth::Caller;
use crate::graphql::guards::IdempotencyHeader;
use crate::graphql::limits::{Budget, MAX_COMPLEXITY};
use async_graphql::{BatchRequest, Data, Executor};
use async_graphql_axum::GraphQLProtocol;
use axum::body::Bytes;
use axum::extract::ws::Message;
use axum::extract::{ConnectInfo, Path, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;

/// Largest `/graphql` body: ten documents of 16 KB with their variables fit many times over.
pub const BODY_LIMIT: usize = 256 * 1024;

/// A request-level error in GraphQL's response shape.
fn refuse(status: StatusCode, code: &str, message: String) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, axum::Json(body)).into_response()
}

/// A whole request refused with `e`, in GraphQL's shape: its status, and `Retry-After` when it is a rate limit.
pub fn refused(e: crate::error::AppError) -> Response {
    let body =
        serde_json::json!({ "errors": [crate::graphql::error::to_graphql(&e).into_server_error(Default::default())] });
    let mut response = (super::status(&e), axum::Json(body)).into_response();
    if let crate::error::AppError::RateLimited(_, secs) = e {
        response.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
    response
}

/// A body over [`BODY_LIMIT`].
fn too_large() -> Response {
    let msg = format!("the request body is larger than {} KiB; send smaller documents", BODY_LIMIT / 1024);
    refuse(StatusCode::PAYLOAD_TOO_LARGE, "BAD_USER_INPUT", msg)
}

/// A body that could not be read to its end (a malformed chunk, say), in the same words on both paths: the error
/// and its causes, each said once (wrappers repeat what they wrap).
fn unreadable(error: &(dyn std::error::Error + 'static)) -> Response {
    let mut said: Vec<String> = std::iter::successors(Some(error), |e| e.source()).map(ToString::to_string).collect();
    said.dedup();
    let msg = format!("the request body could not be read: {}", said.join(": "));
    refuse(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", msg)
}

/// `POST /graphql`, from the router or straight from the front door: the body read up to [`BODY_LIMIT`], then run.
pub async fn execute<B>(http: Http, req: axum::http::Request<B>) -> Response
where
    B: axum::body::HttpBody<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    use http_body_util::{BodyExt, LengthLimitError, Limited};
    let (parts, body) = req.into_parts();
    if let Some(refusal) = not_json(&parts.headers) {
        return refusal;
    }
    match Limited::new(body, BODY_LIMIT).collect().await {
        Ok(body) => run(&http, &parts.headers, body.to_bytes()).await,
        Err(e) if e.is::<LengthLimitError>() => too_large(),
        Err(e) => unreadable(&*e),
    }
}

/// A POST whose body is not declared JSON: refused before it is read (GraphQL over HTTP asks for
/// `application/json`; a form or text body is also what a page on another origin can send without asking).
fn not_json(headers: &HeaderMap) -> Option<Response> {
    let declared = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let essence = declared.and_then(|t| t.split(';').next()).map(|t| t.trim().to_ascii_lowercase());
    if essence.as_deref() == Some("application/json") {
        return None;
    }
    let said = match declared {
        Some(t) => format!("is `{t}`"),
        None => "is not given".to_owned(),
    };
    let msg = format!("a GraphQL request is sent as `content-type: application/json`; this one's content type {said}");
    Some(refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, "BAD_USER_INPUT", msg))
}

/// The media type of GraphQL's answer: `application/graphql-response+json` when the caller's `Accept` prefers it
/// (at least as much as `application/json`), else `application/json`, as a caller without `Accept` gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Json,
    GraphqlResponse,
}

impl Answer {
    const GRAPHQL_RESPONSE: &'static str = "application/graphql-response+json";

    fn of(headers: &HeaderMap) -> Answer {
        let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return Answer::Json };
        let weight = |wanted: &str| -> f32 {
            accept
                .split(',')
                .filter_map(|part| {
                    let mut params = part.split(';');
                    let essence = params.next()?.trim().to_ascii_lowercase();
                    (essence == wanted).then(|| {
                        params
                            .filter_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
                            .next()
                            .unwrap_or(1.0)
                    })
                })
                .fold(0.0, f32::max)
        };
        let graphql_response = weight(Self::GRAPHQL_RESPONSE);
        if graphql_response > 0.0 && graphql_response >= weight("application/json") {
            Answer::GraphqlResponse
        } else {
            Answer::Json
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Answer::Json => "application/json",
            Answer::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// Whether `response` is a request error (the document did not parse or validate, its variables did not fit, or
/// it was refused before it ran): no data, and no error on a field's path.
fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// Runs one operation or a batch (at most `PAYDESK_MAX_BATCH`, and only for a signed-in caller) within one
/// complexity budget, the request timeout and the response-size cap. Anonymous callers get the schema without
/// introspection.
async fn run(http: &Http, headers: &HeaderMap, body: Bytes) -> Response {
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            let msg = format!(
                "the request is not a GraphQL request: send JSON {{\"query\": \"…\", \"variables\": {{…}}}} ({e})"
            );
            return refuse(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", msg);
        }
    };
    let settings = &http.state.settings;
    let max = settings.max_batch;
    // serde reads `[]` (and a list of strings) as one request of its fields in order; only objects make a batch.
    let listed = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let count = match &batch {
        BatchRequest::Batch(ops) => ops.len(),
        BatchRequest::Single(_) if listed => 0,
        BatchRequest::Single(_) => 1,
    };
    if listed && !(1..=max).contains(&count) {
        let msg = format!(
            "a batch is a list of at least 1 and at most {max} requests such as {{\"query\": \"…\"}}; this one \
             holds {count}"
        );
        return refuse(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", msg);
    }
    answer(http, headers, batch, listed).await
}

/// `GET /graphql`: with a query string (`query`, `variables`, `operationName`, `extensions`, as Apollo Client and
/// urql send persisted queries), a query run like a POSTed one; from a browser page, or without one, GraphiQL.
pub async fn get(
    State(http): State<Http>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let browser = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    let query = query.filter(|q| !q.is_empty() && !browser);
    let Some(query) = query else { return graphiql() };
    match from_query_string(&query) {
        Ok(request) => {
            let request = request.data(crate::graphql::ViaGet);
            answer(&http, &headers, BatchRequest::Single(request), false).await
        }
        Err(e) => {
            refuse(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", format!("the query string is not a GraphQL request: {e}"))
        }
    }
}

/// A GraphQL request from a query string as GraphQL over HTTP has it: `query`, `operationName`, and `variables` and
/// `extensions` as JSON (async-graphql's own reader knows only `operation_name`, which is taken too, if it agrees).
fn from_query_string(query: &str) -> Result<async_graphql::Request, String> {
    let (mut text, mut names, mut variables, mut extensions) = (None, Vec::new(), None, None);
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "query" => text = Some(value.into_owned()),
            "operationName" | "operation_name" => names.push(value.into_owned()),
            "variables" => variables = Some(value.into_owned()),
            "extensions" => extensions = Some(value.into_owned()),
            _ => {}
        }
    }
    names.dedup();
    if names.len() > 1 {
        return Err(format!("it names two operations to run: {}", names.join(" and ")));
    }
    let json = |what: &str, v: Option<String>| -> Result<serde_json::Value, String> {
        match v.filter(|v| !v.is_empty()) {
            Some(v) => serde_json::from_str(&v).map_err(|e| format!("{what} is not JSON: {e}")),
            None => Ok(serde_json::Value::Object(Default::default())),
        }
    };
    let variables = json("variables", variables)?;
    let mut request =
        async_graphql::Request::new(text.unwrap_or_default()).variables(async_graphql::Variables::from_json(variables));
    request.operation_name = names.pop().filter(|n| !n.is_empty());
    let extensions = json("extensions", extensions)?;
    request.extensions = serde_json::from_value(extensions).map_err(|e| format!("extensions: {e}"))?;
    Ok(request)
}

/// Runs `batch` for the caller `headers` name: their budget, their audience's schema, the timeout and the caps.
async fn answer(http: &Http, headers: &HeaderMap, batch: BatchRequest, listed: bool) -> Response {
    let settings = &http.state.settings;
    let who = caller(&http.state, headers).await;
    let signed_in = matches!(who, Caller::User(_));
    if listed && !signed_in {
        // Nothing answers an anonymous caller but `__typename`: a batch from one only multiplies the work.
        let why = who.principal().err().map(|e| e.to_string()).unwrap_or_default();
        let msg = format!("only a signed-in caller may send a batch: {why}");
        return refuse(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", msg);
    }
    if let Caller::User(p) = &who {
        if let Err(e) = http.limits.caller(p.id) {
            return refused(e);
        }
    }
    let mut batch = batch.data(who).data(Budget::new(MAX_COMPLEXITY)).data(http.limits.clone());
    if let Some(key) = headers.get("idempotency-key") {
        // A key that is not visible ASCII is passed on as such and refused where it is used, by name.
        batch = batch.data(IdempotencyHeader(key.to_str().unwrap_or("\u{fffd}").to_owned()));
    }
    // Every operation of a batch charges one complexity budget.
    let gateway = if signed_in { &http.signed_in } else { &http.anonymous };
    let work = gateway.execute_batch(batch);
    // Dropping the execution (on timeout, or when the client goes away and the connection closes) stops it.
    let Ok(response) = tokio::time::timeout(settings.request_timeout, work).await else {
        let ms = settings.request_timeout.as_millis();
        let msg = format!("the request ran longer than {ms} ms and was stopped; ask for fewer rows or fields");
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "TIMEOUT", msg);
    };
    // A mutation over its caller's money budget makes the answer a 429, with when to come back, when nothing in it
    // ran; when some operations or aliases did run, a 200 (with `Retry-After`) whose errors name those that did
    // not, so that a client retrying on 429 never repeats what committed.
    let responses: &[async_graphql::Response] = match &response {
        async_graphql::BatchResponse::Single(r) => std::slice::from_ref(r),
        async_graphql::BatchResponse::Batch(rs) => rs,
    };
    let ran = |r: &async_graphql::Response| match &r.data {
        async_graphql::Value::Object(fields) => fields.values().any(|v| *v != async_graphql::Value::Null),
        _ => false,
    };
    let ran_any = responses.iter().any(ran);
    let retry_after = responses
        .iter()
        .flat_map(|r| r.errors.iter())
        .filter(|e| {
            e.extensions.as_ref().and_then(|x| x.get("code")) == Some(&async_graphql::Value::from("RATE_LIMITED"))
        })
        .filter_map(|e| match e.extensions.as_ref().and_then(|x| x.get("retryAfter")) {
            Some(async_graphql::Value::Number(n)) => n.as_u64(),
            _ => None,
        })
        .max();
    // Under `application/graphql-response+json` a request error is a 400 with no `data` (GraphQL over HTTP); under
    // `application/json` every well-formed request is a 200, as clients of that type expect.
    let media = Answer::of(headers);
    let request_error = match &response {
        async_graphql::BatchResponse::Single(r) => media == Answer::GraphqlResponse && is_request_error(r),
        async_graphql::BatchResponse::Batch(_) => false,
    };
    let encoded = match &response {
        async_graphql::BatchResponse::Single(r) if request_error => {
            #[derive(serde::Serialize)]
            struct Refused<'a> {
                errors: &'a [async_graphql::ServerError],
            }
            serde_json::to_vec(&Refused { errors: &r.errors })
        }
        // Written straight from the response, so that its fields keep the order they were asked in.
        _ => serde_json::to_vec(&response),
    };
    let bytes = match encoded {
        Ok(b) => b,
        Err(e) => return super::ApiError(crate::error::AppError::Internal(e.into())).into_response(),
    };
    if bytes.len() > settings.max_response_bytes {
        let msg = format!(
            "the response would be {} bytes; at most {} are sent: ask for fewer rows (`first`) or fields",
            bytes.len(),
            settings.max_response_bytes
        );
        return refuse(StatusCode::OK, "BAD_USER_INPUT", msg);
    }
    let content_type = media.content_type();
    // GraphQL over HTTP: a mutation asked for with GET is a 405, whatever the answer's media type.
    let by_get = matches!(&response, async_graphql::BatchResponse::Single(r)
        if r.errors.len() == 1 && r.errors[0].message == crate::graphql::GET_REFUSAL);
    if by_get {
        let headers = [(header::CONTENT_TYPE, content_type), (header::ALLOW, "POST")];
        return (StatusCode::METHOD_NOT_ALLOWED, headers, bytes).into_response();
    }
    match retry_after {
        Some(secs) => (
            if ran_any { StatusCode::OK } else { StatusCode::TOO_MANY_REQUESTS },
            [(header::CONTENT_TYPE, content_type), (header::RETRY_AFTER, &secs.to_string())],
            bytes,
        )
            .into_response(),
        None if request_error => {
            (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, content_type)], bytes).into_response()
        }
        None => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
    }
}

/// GraphiQL, served from assets inside the binary.
const GRAPHIQL_HTML: &str = include_str!("../../assets/graphiql/index.html");

/// The served schema as SDL, for codegen and for diffing against `schema.graphql`.
pub async fn sdl() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], crate::graphql::sdl()).into_response()
}

/// The embedded GraphiQL and React files.
/// GraphiQL's page, under the console's guards: only this server's scripts (none inline), styles and connections,
/// never in a frame, never sniffed, never sending a referrer; the token pasted into it stays in the tab.
fn graphiql() -> Response {
    let mut response = Html(GRAPHIQL_HTML).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(GRAPHIQL_POLICY));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// GraphiQL's policy: its scripts and styles from here (it sets style attributes, and its fonts are data URIs),
/// connections to here only (its WebSocket included), no frames, no forms.
const GRAPHIQL_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, mime): (&'static [u8], &str) = match file.as_str() {
        "start.js" => (include_bytes!("../../assets/graphiql/start.js"), "text/javascript"),
        "page.css" => (include_bytes!("../../assets/graphiql/page.css"), "text/css"),
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
    let headers = [
        (header::CONTENT_TYPE, mime),
        (header::CACHE_CONTROL, "public, max-age=86400"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    (headers, body).into_response()
}

/// Starts every refusal of `connection_init`, so the close frame can be told apart from protocol errors.
const REFUSED: &str = "unauthorized: ";

/// Sends `msg`, or gives up (`false`) when the client has not taken it within `patience`: a peer that is gone.
async fn send_within(
    sink: &mut futures_util::stream::SplitSink<axum::extract::ws::WebSocket, Message>,
    msg: Message,
    patience: Option<std::time::Duration>,
) -> bool {
    match patience {
        Some(limit) => matches!(tokio::time::timeout(limit, sink.send(msg)).await, Ok(Ok(()))),
        None => sink.send(msg).await.is_ok(),
    }
}

/// async-graphql closes a refused `graphql-transport-ws` connection with 1002 (protocol error); the protocol
/// says 4403 Forbidden, which clients act on (re-authenticate rather than report a bug).
fn forbidden_close(msg: Message) -> Message {
    match msg {
        Message::Close(Some(frame)) if frame.code == 1002 && frame.reason.starts_with(REFUSED) => {
            close(4403, &frame.reason)
        }
        Message::Close(Some(frame)) => close(frame.code, &frame.reason),
        other => other,
    }
}

/// Whether `msg` is the legacy protocol's refusal, after which the connection must end.
fn is_connection_error(msg: &Message) -> bool {
    matches!(msg, Message::Text(t) if t.as_str().contains("\"connection_error\""))
}

/// Whether the client chose the legacy `graphql-ws` protocol (the first GraphQL protocol it offers wins).
fn is_legacy(headers: &HeaderMap) -> bool {
    let offered = headers.get(header::SEC_WEBSOCKET_PROTOCOL).and_then(|v| v.to_str().ok()).unwrap_or_default();
    offered.split(',').map(str::trim).find(|p| *p == "graphql-ws" || *p == "graphql-transport-ws") == Some("graphql-ws")
}

/// Subscriptions over `graphql-transport-ws` or the legacy `graphql-ws`; the token comes in `connection_init`.
/// Without a valid one the connection is refused: close 4403, or `connection_error` then close 4403 on the
/// legacy protocol. A socket that sends no `connection_init` in time is closed with 4408; one whose token
/// expires is closed with 4403 at that moment. Sockets are capped overall and per client address, and each
/// keeps small buffers; what one socket may ask is checked by its [`Gate`] (operations at once, ids in use,
/// message size). Sockets are pinged; one whose client stops answering is closed with 1001. When the server
/// shuts down, every connection is closed with 1001 so clients reconnect.
pub async fn websocket(
    State(http): State<Http>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let legacy = is_legacy(&headers);
    let slot = match http.sockets.open(peer.ip()) {
        Ok(slot) => slot,
        Err(why) => return refuse(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_SOCKETS", why),
    };
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        .on_upgrade(move |socket| {
            let sockets = http.sockets.clone();
            sockets.track(serve_socket(http, (protocol, legacy), socket, slot))
        })
}

/// async-graphql writes into a channel; this task owns the socket, so it can still say goodbye on shutdown,
/// on a token's expiry, or when `connection_init` never came.
async fn serve_socket(
    http: Http,
    (protocol, legacy): (GraphQLProtocol, bool),
    socket: axum::extract::ws::WebSocket,
    _slot: Slot,
) {
    let (mut socket_sink, socket_stream) = socket.split();
    let (tx, mut rx) = futures_channel::mpsc::channel::<Message>(32);
    let gate = Gate::new(http.state.settings.max_operations_per_socket, legacy);
    let (answers, mut answered) = tokio::sync::mpsc::channel::<Message>(8);
    let socket_stream = Box::pin(gate.clone().filter(socket_stream, answers));
    let admitted = gate.clone();
    let state = http.state.clone();
    let limits = http.limits.clone();
    let (expiry_tx, mut expiry) = tokio::sync::watch::channel::<Option<i64>>(None);
    let graphql =
        async_graphql_axum::GraphQLWebSocket::new_with_pair(tx, socket_stream, http.signed_in.clone(), protocol)
            .on_connection_init(move |payload| async move {
                let token = ["Authorization", "authorization"]
                    .iter()
                    .find_map(|k| payload.get(*k).and_then(|v| v.as_str()).map(str::to_owned));
                match crate::services::operations::identities::session(&state, token.as_deref()).await {
                    (Caller::Invalid(why), _) => Err(async_graphql::Error::new(format!("{REFUSED}{why}"))),
                    (Caller::Anonymous, _) => Err(async_graphql::Error::new(format!(
                        "{REFUSED}send {{\"Authorization\": \"Bearer <JWT>\"}} in connection_init's payload"
                    ))),
                    (Caller::User(p), _) if limits.caller(p.id).is_err() => {
                        Err(async_graphql::Error::new(format!("{REFUSED}too many requests from this caller")))
                    }
                    (user, exp) => {
                        admitted.admit();
                        let _ = expiry_tx.send(exp);
                        let mut data = Data::default();
                        data.insert(user);
                        // The same money budget as over HTTP: one per caller, whatever the transport.
                        data.insert(limits.clone());
                        Ok(data)
                    }
                }
            })
            .serve();
    let graphql = tokio::spawn(graphql);
    let mut shutdown = http.sockets.closing();
    let stopping = async move {
        let _ = shutdown.wait_for(|down| *down).await.map(|_| ());
    };
    tokio::pin!(stopping);
    // Until `connection_init` succeeds the deadline is the init timeout; afterwards, the token's expiry.
    let init_deadline = tokio::time::Instant::now() + http.state.settings.ws_init_timeout;
    let deadline = tokio::time::sleep_until(init_deadline);
    tokio::pin!(deadline);
    let (mut waiting_for_init, mut authenticated) = (true, false);
    // Pings find peers that are gone without a word (a dropped network, a suspended laptop): they would hold their
    // place until the token expires. A send that the client does not take within two pings means the same.
    let ping_every = http.state.settings.ws_ping;
    let patience = ping_every.map(|every| every * 2);
    let mut pings = tokio::time::interval(ping_every.unwrap_or(std::time::Duration::from_secs(3600)));
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    pings.reset();
    loop {
        tokio::select! {
            msg = rx.next() => match msg {
                Some(m) => {
                    gate.sent(&m);
                    let refused = legacy && is_connection_error(&m);
                    if !send_within(&mut socket_sink, forbidden_close(m), patience).await {
                        break;
                    }
                    if refused {
                        send_within(&mut socket_sink, close(4403, "unauthorized"), patience).await;
                        break;
                    }
                }
                None => {
                    // The client went away and async-graphql finished, or the gate ended the socket's stream
                    // after its closing answer: that answer still goes out.
                    while let Ok(m) = answered.try_recv() {
                        send_within(&mut socket_sink, m, patience).await;
                    }
                    break;
                }
            },
            Some(m) = answered.recv() => {
                let closing = matches!(m, Message::Close(_));
                if !send_within(&mut socket_sink, m, patience).await || closing {
                    break;
                }
            }
            changed = expiry.changed(), if waiting_for_init => {
                waiting_for_init = false;
                if changed.is_err() {
                    continue; // refused: async-graphql closes the socket itself
                }
                authenticated = true;
                let exp = expiry.borrow_and_update().unwrap_or(i64::MAX);
                let left = exp.saturating_sub(chrono::Utc::now().timestamp()).max(0) as u64;
                let left = std::time::Duration::from_secs(left.min(366 * 24 * 3600));
                deadline.as_mut().reset(tokio::time::Instant::now() + left);
            }
            () = &mut deadline => {
                let bye = if authenticated {
                    close(4403, "the token has expired; reconnect with a new one")
                } else {
                    close(4408, "connection initialisation timeout")
                };
                send_within(&mut socket_sink, bye, patience).await;
                break;
            }
            () = &mut stopping => {
                send_within(&mut socket_sink, close(1001, "server shutting down; reconnect"), patience).await;
                break;
            }
            _ = pings.tick(), if ping_every.is_some() => {
                if patience.is_some_and(|p| gate.silent_for() > p) {
                    let bye = close(1001, "no answer to pings; reconnect");
                    send_within(&mut socket_sink, bye, patience).await;
                    break;
                }
                if !send_within(&mut socket_sink, Message::Ping(Bytes::new()), patience).await {
                    break;
                }
            }
        }
    }
    graphql.abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_close_frame_and_stay_valid_utf8() {
        let Message::Close(Some(frame)) = close(4403, &"é".repeat(100)) else { panic!("not a close frame") };
        assert_eq!(frame.code, 4403);
        assert!(frame.reason.len() <= 123);
        assert_eq!(frame.reason.as_str(), "é".repeat(61));
    }
}
