//! WebSockets cannot outlive their token, sit unauthenticated, be opened or run operations without bound, or send
//! more than fits; refusals arrive as the protocols specify.

use crate::helpers::*;
use entity::status::Role;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

fn signed(claims: serde_json::Value) -> String {
    use jsonwebtoken::{encode, EncodingKey, Header};
    encode(&Header::default(), &claims, &EncodingKey::from_secret(JWT_SECRET.as_bytes())).unwrap()
}

#[tokio::test]
async fn an_open_socket_is_closed_with_4403_when_its_token_expires() {
    let app = TestApp::spawn().await;
    let token = app.state.jwt.mint(Uuid::new_v4(), Role::Admin, Duration::from_secs(2)).unwrap();
    assert_closed_when_token_expires(&app, &token).await;
}

#[tokio::test]
async fn a_token_that_is_not_valid_yet_is_refused_over_http_and_websocket() {
    let app = TestApp::spawn().await;
    let now = chrono::Utc::now().timestamp();
    let early = signed(json!({ "sub": Uuid::new_v4(), "role": "admin", "nbf": now + 3600, "exp": now + 7200 }));
    let body = app.gql(Some(&early), "{ me { role } }", json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("not valid yet"), "{body}");
    let ws = ws_init(&app, "graphql-transport-ws", json!({ "Authorization": format!("Bearer {early}") })).await;
    assert_eq!(ws["closed"], 4403, "{ws}");
}

#[tokio::test]
async fn auth_errors_explain_the_claims_without_echoing_the_decoder() {
    let app = TestApp::spawn().await;
    let now = chrono::Utc::now().timestamp();
    let odd = signed(json!({ "sub": "not-a-uuid", "role": "superuser", "exp": now + 600 }));
    let body = app.gql(Some(&odd), "{ me { role } }", json!({})).await;
    let msg = body["errors"][0]["message"].as_str().unwrap();
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert!(msg.contains("`role` (admin, ops or freelancer)"), "{msg}");
    assert!(!msg.contains("line") && !msg.contains("column") && !msg.contains("variant"), "{msg}");
    // The same reason over a WebSocket still arrives as 4403, whatever its length.
    let ws = ws_init(&app, "graphql-transport-ws", json!({ "Authorization": format!("Bearer {odd}") })).await;
    assert_eq!(ws["closed"], 4403, "{ws}");
    assert!(ws["reason"].as_str().unwrap().len() <= 123, "{ws}");
}

#[tokio::test]
async fn a_socket_that_never_sends_connection_init_is_closed_with_4408() {
    let app = TestApp::spawn_with(|c| c.ws_init_timeout_ms = 300).await;
    let mut ws = ws_open(&app, "graphql-transport-ws").await;
    let closed = ws_next(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(closed["closed"], 4408, "{closed}");
}

#[tokio::test]
async fn sockets_are_capped_per_client_address() {
    let app = TestApp::spawn_with(|c| c.max_sockets_per_ip = 2).await;
    let _a = ws_open(&app, "graphql-transport-ws").await;
    let b = ws_open(&app, "graphql-transport-ws").await;
    match ws_try_open(&app, "graphql-transport-ws").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 429),
        other => panic!("expected HTTP 429, got {:?}", other.map(|_| "a socket")),
    }
    drop(b);
    assert!(reopens_within(&app, Duration::from_secs(5)).await, "a closed socket frees its place");
}

/// Whether a new socket is let in within `wait` (tried every 100 ms).
async fn reopens_within(app: &TestApp, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if ws_try_open(app, "graphql-transport-ws").await.is_ok() {
            return true;
        }
    }
    false
}

#[tokio::test]
async fn the_legacy_protocol_closes_after_connection_error() {
    let app = TestApp::spawn().await;
    let mut ws = ws_open(&app, "graphql-ws").await;
    ws_send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": "Bearer not.a.jwt" } })).await;
    let error = ws_next(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(error["type"], "connection_error", "{error}");
    let closed = ws_next(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(closed["closed"], 4403, "{closed}");
}

const REQUESTED: &str = "subscription { payoutRequested { id } }";

#[tokio::test]
async fn a_socket_runs_at_most_its_cap_of_operations_and_a_finished_one_frees_its_place() {
    let app = TestApp::spawn_with(|c| c.max_operations_per_socket = 2).await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let wait = Duration::from_secs(10);
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let mut sub = Subscriber::connect(&app, &app.admin(), protocol).await;
        // A query over the socket ends by itself and gives its place back.
        sub.subscribe("q", "{ me { role } }", json!({})).await;
        assert_eq!(sub.event(wait).await.expect("the query's answer").1["data"]["me"]["role"], "ADMIN");
        assert_eq!(sub.raw(wait).await.expect("the query's end")["type"], "complete");
        sub.subscribe("a", REQUESTED, json!({})).await;
        sub.subscribe("b", REQUESTED, json!({})).await;
        sub.subscribe("c", REQUESTED, json!({})).await;
        let refused = sub.raw(wait).await.expect("an answer to the third subscription");
        assert_eq!((&refused["type"], &refused["id"]), (&json!("error"), &json!("c")), "{protocol}: {refused}");
        let error = if protocol == "graphql-ws" { &refused["payload"] } else { &refused["payload"][0] };
        assert_eq!(error["extensions"]["code"], "TOO_MANY_OPERATIONS", "{protocol}: {refused}");
        assert!(error["message"].as_str().unwrap().contains("runs 2 operations"), "{refused}");
        // The two running carry on.
        app.request_payout(f, "10.00").await;
        let mut heard = [sub.event(wait).await.expect("a hears").0, sub.event(wait).await.expect("b hears").0];
        heard.sort();
        assert_eq!(heard, ["a", "b"], "{protocol}");
        // One ended by the client gives its place to the next.
        sub.complete("a").await;
        sub.subscribe("c", REQUESTED, json!({})).await;
        app.request_payout(f, "10.00").await;
        let mut heard = [sub.event(wait).await.expect("b hears").0, sub.event(wait).await.expect("c hears").0];
        heard.sort();
        assert_eq!(heard, ["b", "c"], "{protocol}");
    }
}

#[tokio::test]
async fn subscribing_before_the_ack_closes_4401_and_reusing_a_running_id_closes_4409() {
    let app = TestApp::spawn().await;
    let subscribe = |id: &str| json!({ "type": "subscribe", "id": id, "payload": { "query": REQUESTED } });
    let mut early = ws_open(&app, "graphql-transport-ws").await;
    ws_send(&mut early, subscribe("1")).await;
    let closed = ws_next(&mut early, Duration::from_secs(5)).await;
    assert_eq!(closed["closed"], 4401, "{closed}");
    assert!(closed["reason"].as_str().unwrap().contains("connection_ack"), "{closed}");

    let mut ws = ws_open(&app, "graphql-transport-ws").await;
    ws_send(
        &mut ws,
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", app.admin()) } }),
    )
    .await;
    assert_eq!(ws_next(&mut ws, Duration::from_secs(5)).await["type"], "connection_ack");
    ws_send(&mut ws, subscribe("1")).await;
    ws_send(&mut ws, subscribe("1")).await;
    let closed = ws_next(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(closed["closed"], 4409, "{closed}");
    assert_eq!(closed["reason"], "Subscriber for 1 already exists", "{closed}");
}

#[tokio::test]
async fn a_message_outside_graphql_transport_ws_closes_4400_with_a_short_reason() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let app = TestApp::spawn().await;
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", app.admin()) } });
    let cases = [
        (Message::text("{not json"), "invalid message"),
        (Message::text(json!({ "type": "start", "id": "1" }).to_string()), "unknown message type \"start\""),
        (Message::text(json!({ "id": "1" }).to_string()), "missing field `type`"),
        (
            Message::text(json!({ "type": "subscribe", "payload": { "query": REQUESTED } }).to_string()),
            "missing field `id`",
        ),
        (Message::binary(br#"{"type":"ping"}"#.to_vec()), "binary frames are not part of graphql-transport-ws"),
    ];
    for (msg, says) in cases {
        let mut ws = ws_open(&app, "graphql-transport-ws").await;
        ws_send(&mut ws, init.clone()).await;
        assert_eq!(ws_next(&mut ws, Duration::from_secs(5)).await["type"], "connection_ack");
        ws.send(msg.clone()).await.unwrap();
        let closed = ws_next(&mut ws, Duration::from_secs(5)).await;
        assert_eq!(closed["closed"], 4400, "{msg:?}: {closed}");
        let reason = closed["reason"].as_str().unwrap();
        assert!(reason.contains(says) && reason.len() <= 123, "{msg:?}: {closed}");
    }
    // What the protocol does define still works on a fresh socket.
    let mut sub = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    sub.subscribe("ok", REQUESTED, json!({})).await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    app.request_payout(f, "10.00").await;
    assert_eq!(sub.event(Duration::from_secs(10)).await.expect("the subscription hears").0, "ok");
}

#[tokio::test]
async fn a_message_over_the_size_limit_closes_the_socket_with_1009_and_the_server_carries_on() {
    let app = TestApp::spawn().await;
    let mut ws = ws_open(&app, "graphql-transport-ws").await;
    let padding = "x".repeat(100 * 1024);
    ws_send(&mut ws, json!({ "type": "connection_init", "payload": { "padding": padding } })).await;
    let closed = ws_next(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(closed["closed"], 1009, "{closed}");
    assert!(closed["reason"].as_str().unwrap().contains("too big"), "{closed}");
    let fine =
        ws_init(&app, "graphql-transport-ws", json!({ "Authorization": format!("Bearer {}", app.admin()) })).await;
    assert_eq!(fine["type"], "connection_ack", "{fine}");
}

#[tokio::test]
async fn a_socket_whose_client_stops_answering_pings_is_closed_and_frees_its_place() {
    let app = TestApp::spawn_with(|c| {
        c.ws_ping_ms = 200;
        c.max_sockets_per_ip = 1;
    })
    .await;
    // A client that keeps reading answers every ping by itself and stays, however quiet it is.
    let mut quiet = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    assert!(quiet.raw(Duration::from_millis(1500)).await.is_none(), "nothing but pings arrives");
    quiet.subscribe("q", "{ me { role } }", json!({})).await;
    let (_, answer) = quiet.event(Duration::from_secs(5)).await.expect("still open after seven pings");
    assert_eq!(answer["data"]["me"]["role"], "ADMIN");
    drop(quiet);
    assert!(reopens_within(&app, Duration::from_secs(5)).await, "the quiet client's place is free once it left");

    // One that stops reading (as a peer that vanished) is closed within three pings, and its place is freed.
    let mut gone = loop {
        if let Ok(ws) = ws_try_open(&app, "graphql-transport-ws").await {
            break ws;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    ws_send(
        &mut gone,
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", app.admin()) } }),
    )
    .await;
    assert_eq!(ws_next(&mut gone, Duration::from_secs(5)).await["type"], "connection_ack");
    assert!(ws_try_open(&app, "graphql-transport-ws").await.is_err(), "the one place is taken");
    assert!(reopens_within(&app, Duration::from_secs(5)).await, "the silent socket's place is freed");
    // Read as a peer that is gone would, had it come back: the bytes as they arrived, without answering the pings
    // queued before the close (a WebSocket client would, and the server's reset could then drop the close frame).
    let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = gone.get_mut() else { panic!("a plain TCP socket") };
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tokio::io::AsyncReadExt::read_to_end(tcp, &mut bytes));
    let _ = read.await.expect("the server closes the connection");
    let (code, reason) = close_frame(&bytes).expect("a close frame after the pings");
    assert_eq!(code, 1001, "{reason}");
    assert!(reason.contains("no answer to pings"), "{reason}");
}

/// The code and reason of the close frame among a server's (unmasked, short) WebSocket frames.
fn close_frame(mut bytes: &[u8]) -> Option<(u16, String)> {
    while bytes.len() >= 2 {
        let (opcode, len) = (bytes[0] & 0x0f, usize::from(bytes[1] & 0x7f));
        let payload = bytes.get(2..2 + len)?;
        if opcode == 0x8 {
            let code = u16::from_be_bytes([*payload.first()?, *payload.get(1)?]);
            return Some((code, String::from_utf8_lossy(&payload[2..]).into_owned()));
        }
        bytes = &bytes[2 + len..];
    }
    None
}
