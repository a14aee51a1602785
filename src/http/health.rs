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
    let unready = |status: &str, extra: Value| {
        let mut body = json!({ "status": status, "cashfree": cashfree.clone() });
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        (StatusCode::SERVICE_UNAVAILABLE, Json(body))
    };
    match tokio::time::timeout(READY_WITHIN, check).await {
        Ok(Ok(pending)) if pending.is_empty() => {
            (StatusCode::OK, Json(json!({ "status": "ready", "cashfree": cashfree })))
        }
        Ok(Ok(pending)) => unready("migrations pending", json!({ "pending": pending })),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            unready("database unreachable", json!({}))
        }
        Err(_) => unready("database did not answer within 1 s", json!({})),
    }
}
