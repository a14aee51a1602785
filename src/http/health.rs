//! Liveness and readiness (the database answers in time and its schema is current).

use super::Http;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// The process is up.
pub async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// How long readiness may take before it answers "not ready": a load balancer's probe must not hang.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

/// The database answers within a second and every migration is applied.
pub async fn ready(State(http): State<Http>) -> (StatusCode, Json<Value>) {
    let db = &http.state.db;
    let check = async {
        db.ping().await?;
        crate::db::pending_migrations(db).await
    };
    // Cashfree's reachability is detail: paydesk still serves (and records webhooks) while Cashfree is down.
    let cashfree = serde_json::to_value(http.state.cashfree.health.report()).unwrap_or_default();
    // The identity provider's keys: without any, none of its callers can sign in; with keys that could not be read
    // again lately (`stale`), those held still sign callers in.
    let mut detail = json!({ "cashfree": cashfree });
    let mut keys_held = true;
    if let Some((held, report)) = http.state.idp.as_ref().map(|idp| idp.health()) {
        keys_held = held;
        detail["identityProvider"] = report;
    }
    let answer = |code: StatusCode, status: &str, extra: Value| {
        let mut body = detail.clone();
        body["status"] = status.into();
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        (code, Json(body))
    };
    let unready = |status: &str, extra: Value| answer(StatusCode::SERVICE_UNAVAILABLE, status, extra);
    match tokio::time::timeout(READY_WITHIN, check).await {
        Ok(Ok(pending)) if pending.is_empty() && !keys_held => {
            unready("the identity provider's keys cannot be read", json!({}))
        }
        Ok(Ok(pending)) if pending.is_empty() => answer(StatusCode::OK, "ready", json!({})),
        Ok(Ok(pending)) => unready("migrations pending", json!({ "pending": pending })),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            unready("database unreachable", json!({}))
        }
        Err(_) => unready("database did not answer within 1 s", json!({})),
    }
}
