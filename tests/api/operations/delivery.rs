//! Notifications delivered to the marketplace's callback: signed, retried with backoff until answered 2xx,
//! FAILED (and alerted) after the last attempt, sent again on an admin's word, and every attempt visible.

use crate::helpers::*;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

const SECRET: &str = "callback-secret";

/// The marketplace's end: records every notification delivered and answers with the next status queued (200 once
/// empty). The history's checkpoints, which the same callback is sent whenever one is taken (a server may take one
/// as it starts), are answered 200 and not recorded, as a marketplace routing deliveries by kind would.
#[derive(Default)]
struct Receiver {
    got: Mutex<Vec<(HeaderMap, String)>>,
    answers: Mutex<Vec<u16>>,
}

async fn receiver(answers: Vec<u16>) -> (Arc<Receiver>, String) {
    let r = Arc::new(Receiver { answers: Mutex::new(answers), ..Default::default() });
    let shared = r.clone();
    let app = axum::Router::new().route(
        "/hooks/paydesk",
        post(move |headers: HeaderMap, body: String| {
            let r = shared.clone();
            async move {
                let sent: Value = serde_json::from_str(&body).unwrap_or_default();
                if sent["kind"].as_str().is_some_and(|k| k.starts_with("history.")) {
                    return StatusCode::OK;
                }
                r.got.lock().unwrap().push((headers, body));
                let mut answers = r.answers.lock().unwrap();
                let code = if answers.is_empty() { 200 } else { answers.remove(0) };
                StatusCode::from_u16(code).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/paydesk", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, url)
}

async fn app_calling(url: &str, max_attempts: u16) -> TestApp {
    let url = url.to_owned();
    TestApp::spawn_with(move |c| {
        c.notify_url = Some(url);
        c.notify_secret = Some(SECRET.into());
        c.notify_max_attempts = max_attempts;
        c.notify_retry_base_ms = 50;
        c.notify_poll_ms = 50;
    })
    .await
}

const DELIVERY: &str = "query($f: UUID!) { notifications(filter: { recipientId: $f }) { nodes { id kind
    delivery { status attempts lastAttemptAt nextAttemptAt deliveredAt delayMs lastError } } } }";

/// Waits until the freelancer's newest notification's delivery is `status`; returns the notification.
async fn delivered_as(app: &TestApp, f: Uuid, status: &str) -> Value {
    let admin = app.admin();
    for _ in 0..200 {
        let n = app.gql_ok(&admin, DELIVERY, json!({ "f": f })).await["notifications"]["nodes"][0].clone();
        if n["delivery"]["status"] == status {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the delivery never became {status}: {}", app.gql_ok(&admin, DELIVERY, json!({ "f": f })).await);
}

fn verify(headers: &HeaderMap, body: &str) -> bool {
    let ts = headers["x-paydesk-timestamp"].to_str().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{ts}.{body}").as_bytes());
    let expected = format!("v1={}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
    headers["x-paydesk-signature"] == expected.as_str()
}

#[tokio::test]
async fn a_notification_reaches_the_callback_signed_after_retries() {
    let (r, url) = receiver(vec![500, 503]).await;
    let app = app_calling(&url, 5).await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;

    let n = delivered_as(&app, f, "DELIVERED").await;
    let d = &n["delivery"];
    assert_eq!(d["attempts"], 3, "{n}");
    assert_eq!((&d["lastError"], &d["nextAttemptAt"]), (&Value::Null, &Value::Null), "{n}");
    assert!(d["delayMs"].as_i64().unwrap() >= 50, "two backoffs lie between creation and delivery: {n}");
    let got = r.got.lock().unwrap().clone();
    assert_eq!(got.len(), 3, "{got:?}");
    for (i, (headers, body)) in got.iter().enumerate() {
        assert!(verify(headers, body), "attempt {i} is signed");
        assert_eq!(headers["x-paydesk-delivery"], n["id"].as_str().unwrap(), "one id for the receiver to dedupe on");
        assert_eq!(headers["x-paydesk-attempt"], (i + 1).to_string().as_str());
        let sent: Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            (sent["kind"].as_str(), sent["recipientId"].as_str()),
            (Some("payment_received"), Some(&*f.to_string()))
        );
    }
}

#[tokio::test]
async fn an_undeliverable_notification_fails_alerts_and_can_be_sent_again() {
    let (r, url) = receiver(vec![500, 500, 500]).await;
    let app = app_calling(&url, 3).await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;

    let n = delivered_as(&app, f, "FAILED").await;
    assert_eq!(n["delivery"]["attempts"], 3);
    assert_eq!(n["delivery"]["lastError"], "the callback answered HTTP 500");
    let alert = app.gql_ok(&app.admin(), "{ alerts(first: 1) { nodes { kind message } } }", json!({})).await;
    assert_eq!(alert["alerts"]["nodes"][0]["kind"], "notification_undeliverable", "{alert}");
    let failed = "{ notifications(filter: { deliveryStatus: [FAILED] }) { totalCount } }";
    assert_eq!(app.gql_ok(&app.admin(), failed, json!({})).await["notifications"]["totalCount"], 1);

    let again = "mutation($i: RedeliverNotificationInput!) { redeliverNotification(input: $i) { delivery { status attempts } } }";
    let vars = json!({ "i": { "notificationId": n["id"], "reason": "marketplace fixed its endpoint" } });
    let ops = app.token(entity::status::Role::Ops, Uuid::new_v4());
    assert_eq!(code(&app.gql(Some(&ops), again, vars.clone()).await), "FORBIDDEN");
    let queued = app.gql_ok(&app.admin(), again, vars.clone()).await;
    assert_eq!(queued["redeliverNotification"]["delivery"]["attempts"], 0);
    let n = delivered_as(&app, f, "DELIVERED").await;
    assert_eq!(n["delivery"]["attempts"], 1);
    assert_eq!(r.got.lock().unwrap().len(), 4);
    let twice = app.gql(Some(&app.admin()), again, vars).await;
    assert_eq!(code(&twice), "INVALID_STATE", "a delivered notification is not sent again: {twice}");
}

#[tokio::test]
async fn without_a_callback_notifications_are_marked_skipped() {
    let app = TestApp::spawn_with(|c| c.notify_poll_ms = 50).await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let n = delivered_as(&app, f, "SKIPPED").await;
    assert_eq!(n["delivery"]["attempts"], 0);
}
