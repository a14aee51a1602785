//! What one WebSocket may ask, checked before async-graphql reads a message.
//!
//! async-graphql keeps every operation a socket starts, without bound, and a second `subscribe` under an id in use
//! silently replaces the first. A client that subscribes before `connection_ack` is closed with 1011 (internal
//! error), and an oversized message ends the connection with no close frame at all. The gate sits on the socket's
//! incoming messages and answers as the protocols ask instead:
//! - more than the cap of operations at once: an `error` for the refused one, the others carry on;
//! - `graphql-transport-ws` only: an id in use, close 4409; `subscribe` before `connection_ack`, close 4401;
//! - a message over the size limit: close 1009 with the limit in the reason;
//! - `graphql-transport-ws` only: a message that is not one of the protocol's (a binary frame, text that is not
//!   JSON, an unknown `type`, a `subscribe` without its id or query), close 4400 with a short reason, where
//!   async-graphql would close 1002.
//!
//! It also notes when the client was last heard from (any frame, a pong included), so that a socket whose peer
//! is gone can be told apart from a quiet one.

use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One socket's operations in progress, and whether its `connection_init` was accepted.
#[derive(Debug)]
pub struct Gate {
    max_operations: usize,
    legacy: bool,
    admitted: AtomicBool,
    running: Mutex<HashSet<String>>,
    opened: Instant,
    /// When the client was last heard from, in milliseconds after `opened`.
    heard: AtomicU64,
}

/// What the gate does with one incoming message.
#[derive(Debug)]
enum Verdict {
    /// Hand it to async-graphql.
    Pass(Message),
    /// Answer it, and read on.
    Answer(Message),
    /// Close the socket with this frame.
    Close(Message),
}

/// The fields of a client message the gate reads.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
}

impl Gate {
    pub fn new(max_operations: usize, legacy: bool) -> Arc<Self> {
        Arc::new(Gate {
            max_operations,
            legacy,
            admitted: AtomicBool::new(false),
            running: Mutex::default(),
            opened: Instant::now(),
            heard: AtomicU64::new(0),
        })
    }

    /// How long the client has sent nothing at all, not even a pong.
    pub fn silent_for(&self) -> Duration {
        let heard = self.opened + Duration::from_millis(self.heard.load(Ordering::Relaxed));
        Instant::now().saturating_duration_since(heard)
    }

    /// `connection_init` was accepted: operations may start. Called before the acknowledgement is sent.
    pub fn admit(&self) {
        self.admitted.store(true, Ordering::Release);
    }

    /// A message on its way to the client: a `complete` frees its operation's place.
    pub fn sent(&self, msg: &Message) {
        let Message::Text(text) = msg else { return };
        if !text.as_str().starts_with("{\"type\":\"complete\"") {
            return;
        }
        if let Ok(Head { id: Some(id), .. }) = serde_json::from_str::<Head>(text.as_str()) {
            self.running.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
        }
    }

    /// Feeds `incoming` through the gate: what passes goes on to async-graphql, what the gate answers (an operation
    /// refused, or the frame that closes the socket) goes to `answers`. The stream ends after a closing answer.
    pub fn filter<S>(
        self: Arc<Self>,
        mut incoming: S,
        answers: tokio::sync::mpsc::Sender<Message>,
    ) -> impl Stream<Item = Result<Message, axum::Error>> + Send + 'static
    where
        S: Stream<Item = Result<Message, axum::Error>> + Unpin + Send + 'static,
    {
        async_stream::stream! {
            while let Some(item) = incoming.next().await {
                let since = self.opened.elapsed().as_millis();
                self.heard.store(u64::try_from(since).unwrap_or(u64::MAX), Ordering::Relaxed);
                let verdict = match item {
                    Ok(msg) => self.check(msg),
                    Err(e) => match too_big(&e) {
                        Some(reason) => Verdict::Close(close(1009, &reason)),
                        None => {
                            yield Err(e);
                            break;
                        }
                    },
                };
                match verdict {
                    Verdict::Pass(msg) => yield Ok(msg),
                    // A client that does not read its answers stops being read too.
                    Verdict::Answer(msg) => {
                        if answers.send(msg).await.is_err() {
                            break;
                        }
                    }
                    Verdict::Close(msg) => {
                        let _ = answers.send(msg).await;
                        break;
                    }
                }
            }
        }
    }

    fn check(&self, msg: Message) -> Verdict {
        let head = if self.legacy {
            let Message::Text(text) = &msg else { return Verdict::Pass(msg) };
            // What does not parse is async-graphql's to refuse (close 1002, with its reason).
            let Ok(head) = serde_json::from_str::<Head>(text.as_str()) else { return Verdict::Pass(msg) };
            head
        } else {
            match transport_ws_head(&msg) {
                Ok(Some(head)) => head,
                Ok(None) => return Verdict::Pass(msg),
                Err(why) => return Verdict::Close(close(4400, &why)),
            }
        };
        let Some(id) = head.id else { return Verdict::Pass(msg) };
        match head.kind.as_str() {
            "subscribe" | "start" => {}
            "complete" | "stop" => {
                self.running.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                return Verdict::Pass(msg);
            }
            _ => return Verdict::Pass(msg),
        }
        if !self.admitted.load(Ordering::Acquire) {
            if self.legacy {
                return Verdict::Pass(msg); // async-graphql closes it (1011); the legacy protocol names no code
            }
            return Verdict::Close(close(4401, "Unauthorized: wait for connection_ack before subscribing"));
        }
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.contains(&id) {
            if self.legacy {
                return Verdict::Pass(msg); // the legacy protocol restarts an operation under the same id
            }
            return Verdict::Close(close(4409, &format!("Subscriber for {id} already exists")));
        }
        if running.len() >= self.max_operations {
            let message = format!(
                "this connection already runs {} operations, the most allowed; complete one first or open another \
                 connection",
                self.max_operations
            );
            let error = json!({ "message": message, "extensions": { "code": "TOO_MANY_OPERATIONS" } });
            // graphql-transport-ws sends a list of GraphQL errors; the legacy protocol one error.
            let payload = if self.legacy { error } else { json!([error]) };
            return Verdict::Answer(Message::text(
                json!({ "type": "error", "id": id, "payload": payload }).to_string(),
            ));
        }
        running.insert(id);
        Verdict::Pass(msg)
    }
}

/// The message types a `graphql-transport-ws` client may send.
const CLIENT_TYPES: [&str; 5] = ["connection_init", "ping", "pong", "subscribe", "complete"];

/// The head of a `graphql-transport-ws` client message (`None` for WebSocket pings, pongs and close frames, which
/// are the transport's), or why `msg` is not one: the protocol answers "a message of a type or format which is not
/// specified" with close 4400.
fn transport_ws_head(msg: &Message) -> Result<Option<Head>, String> {
    let text = match msg {
        Message::Text(text) => text.as_str(),
        Message::Binary(_) => return Err("binary frames are not part of graphql-transport-ws; send text".into()),
        _ => return Ok(None),
    };
    let head = serde_json::from_str::<Head>(text).map_err(|e| format!("invalid message: {e}"))?;
    if !CLIENT_TYPES.contains(&head.kind.as_str()) {
        return Err(format!("unknown message type {:?}", head.kind));
    }
    // The fields each type needs, read as async-graphql will read them.
    async_graphql::http::ClientMessage::from_bytes(text).map_err(|e| format!("invalid {} message: {e}", head.kind))?;
    Ok(Some(head))
}

/// The reason to give when `e` is a message or frame larger than the socket accepts.
fn too_big(e: &axum::Error) -> Option<String> {
    use std::error::Error as _;
    match e.source()?.downcast_ref::<tungstenite::Error>()? {
        tungstenite::Error::Capacity(detail) => Some(format!("message too big: {detail}")),
        _ => None,
    }
}

/// A close frame: the reason cut to the 123 bytes a close frame can carry (on a character boundary), so a long
/// reason never turns a refusal into a protocol error.
pub fn close(code: u16, reason: &str) -> Message {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame { code, reason: reason[..end].into() }))
}
