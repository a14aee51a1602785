//! GraphQL over WebSocket: a subscriber speaking either protocol, and raw sockets for what a client may get
//! wrong.

use super::*;

/// A GraphQL-over-WebSocket client speaking `graphql-transport-ws` or the legacy `graphql-ws`.
pub struct Subscriber {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    legacy: bool,
}

impl Subscriber {
    /// Connects with `token` and waits for `connection_ack`.
    pub async fn connect(app: &TestApp, token: &str, protocol: &str) -> Self {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
        let mut req = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
        req.headers_mut().insert("sec-websocket-protocol", protocol.parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("websocket upgrade");
        let mut s = Subscriber { ws, legacy: protocol == "graphql-ws" };
        let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
        s.ws.send(Message::text(init.to_string())).await.unwrap();
        let ack = s.raw(Duration::from_secs(10)).await.expect("an answer to connection_init");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        s
    }

    /// Starts operation `id` and gives the server a moment to register it.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        let kind = if self.legacy { "start" } else { "subscribe" };
        let msg = json!({ "type": kind, "id": id, "payload": { "query": query, "variables": variables } });
        self.ws.send(Message::text(msg.to_string())).await.unwrap();
        // The protocol acknowledges no subscribe; let the server poll the new stream before events fire.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    /// Ends operation `id` (`complete`, or `stop` on the legacy protocol).
    pub async fn complete(&mut self, id: &str) {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        let kind = if self.legacy { "stop" } else { "complete" };
        self.ws.send(Message::text(json!({ "type": kind, "id": id }).to_string())).await.unwrap();
    }

    /// The next protocol message that is not a keep-alive, or None after `wait`.
    pub async fn raw(&mut self, wait: Duration) -> Option<Value> {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next()).await.ok()??.ok()?;
            let text = match msg {
                Message::Text(t) => t.to_string(),
                Message::Close(frame) => {
                    return Some(json!({ "type": "closed", "code": frame.map(|f| u16::from(f.code)) }))
                }
                _ => continue,
            };
            let v: Value = serde_json::from_str(&text).unwrap();
            match v["type"].as_str() {
                Some("ka") | Some("pong") => continue,
                Some("ping") => {
                    self.ws.send(Message::text(json!({ "type": "pong" }).to_string())).await.ok();
                    continue;
                }
                _ => return Some(v),
            }
        }
    }

    /// The next event's payload (`{"data": …}` or `{"errors": …}`) with the operation id, or None after `wait`.
    pub async fn event(&mut self, wait: Duration) -> Option<(String, Value)> {
        let mut v = self.raw(wait).await?;
        while v["type"] == "complete" {
            v = self.raw(wait).await?;
        }
        let id = v["id"].as_str().unwrap_or_default().to_owned();
        match v["type"].as_str() {
            Some("next") | Some("data") => Some((id, v["payload"].clone())),
            Some("error") => Some((id, json!({ "errors": v["payload"] }))),
            _ => Some((id, v)),
        }
    }
}

/// Opens a WebSocket on `protocol`, sends `connection_init` with `payload`, and returns the first answer:
/// the message, or `{"closed": code, "reason": …}`.
pub async fn ws_init(app: &TestApp, protocol: &str, payload: Value) -> Value {
    let mut ws = ws_open(app, protocol).await;
    ws_send(&mut ws, json!({ "type": "connection_init", "payload": payload })).await;
    ws_next(&mut ws, Duration::from_secs(5)).await
}

/// Signs a socket in with `token` (which expires within seconds) and asserts the server closes it 4403 once the
/// token expires.
pub async fn assert_closed_when_token_expires(app: &TestApp, token: &str) {
    let mut ws = ws_open(app, "graphql-transport-ws").await;
    ws_send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(ws_next(&mut ws, Duration::from_secs(5)).await["type"], "connection_ack");
    let closed = ws_next(&mut ws, Duration::from_secs(10)).await;
    assert_eq!(closed["closed"], 4403, "{closed}");
    assert!(closed["reason"].as_str().unwrap().contains("expired"), "{closed}");
}

/// A raw WebSocket to `/graphql/ws` on `protocol`.
pub async fn ws_open(app: &TestApp, protocol: &str) -> RawSocket {
    ws_try_open(app, protocol).await.expect("websocket upgrade")
}

/// A raw WebSocket to `/graphql/ws` on `protocol`, or why the upgrade failed (a refusal's HTTP status among them).
pub async fn ws_try_open(app: &TestApp, protocol: &str) -> Result<RawSocket, tokio_tungstenite::tungstenite::Error> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", protocol.parse().unwrap());
    Ok(tokio_tungstenite::connect_async(req).await?.0)
}

pub type RawSocket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn ws_send(ws: &mut RawSocket, msg: Value) {
    use futures_util::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::text(msg.to_string())).await.unwrap();
}

/// The next message (keep-alives skipped) or `{"closed": code, "reason": …}`, within `wait`.
pub async fn ws_next(ws: &mut RawSocket, wait: Duration) -> Value {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] != "ka" {
                    return v;
                }
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                let (code, reason) = frame.map(|f| (u16::from(f.code), f.reason.to_string())).unwrap_or_default();
                return json!({ "closed": code, "reason": reason });
            }
            Ok(Some(Ok(_))) => continue,
            other => return json!({ "other": format!("{other:?}") }),
        }
    }
}

/// Everything the server sends until it closes the connection, or `None` if it is still open after `wait`.
pub async fn until_closed(tcp: &mut tokio::net::TcpStream, wait: std::time::Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        loop {
            match tokio::io::AsyncReadExt::read(tcp, &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.ok().map(|()| String::from_utf8_lossy(&got).into_owned())
}
