//! WebSockets cannot outlive their token, sit unauthenticated, or be opened without bound; refusals arrive as
//! the protocols specify.

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
    let mut ws = ws_open(&app, "graphql-transport-ws").await;
    ws_send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(ws_next(&mut ws, Duration::from_secs(5)).await["type"], "connection_ack");
    let closed = ws_next(&mut ws, Duration::from_secs(10)).await;
    assert_eq!(closed["closed"], 4403, "{closed}");
    assert!(closed["reason"].as_str().unwrap().contains("expired"), "{closed}");
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
    let url = format!("ws://{}/graphql/ws", app.addr);
    let refused = {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = url.clone().into_client_request().unwrap();
        req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
        tokio_tungstenite::connect_async(req).await.unwrap_err()
    };
    match refused {
        tokio_tungstenite::tungstenite::Error::Http(res) => assert_eq!(res.status(), 429),
        other => panic!("expected HTTP 429, got {other}"),
    }
    drop(b);
    // The place is freed once the server sees the socket gone.
    let mut reopened = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = url.clone().into_client_request().unwrap();
        req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
        if tokio_tungstenite::connect_async(req).await.is_ok() {
            reopened = true;
            break;
        }
    }
    assert!(reopened, "a closed socket frees its place");
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
