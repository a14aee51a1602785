//! Deliveries nobody should send still end well: a body over the limit is stored (its prefix) and answered 413,
//! keys of any length and ids with NUL never turn into a 500 that Cashfree would retry for ever.

use crate::helpers::*;
use serde_json::{json, Value};
use uuid::Uuid;

async fn webhooks(app: &TestApp) -> Value {
    let q = "{ paymentWebhooks { totalCount nodes { outcome error rawBody idempotencyKey } } }";
    app.gql_ok(&app.admin(), q, json!({})).await["paymentWebhooks"].clone()
}

#[tokio::test]
async fn a_body_over_the_limit_is_stored_as_malformed_and_answered_413_in_json() {
    let app = TestApp::spawn().await;
    let body = format!(r#"{{"type":"PAYMENT_SUCCESS_WEBHOOK","pad":"{}"}}"#, "x".repeat(300 * 1024));
    let (status, reply) = app.deliver_signed(&body).await;
    assert_eq!(status, 413, "{reply}");
    assert_eq!(reply["outcome"], "MALFORMED", "{reply}");
    assert_eq!(reply["error"]["code"], "BAD_USER_INPUT", "{reply}");
    let stored = webhooks(&app).await;
    assert_eq!(stored["totalCount"], 1, "nothing is lost: {stored}");
    let row = &stored["nodes"][0];
    assert_eq!(row["outcome"], "MALFORMED");
    assert!(row["error"].as_str().unwrap().contains("too large"), "{row}");
    let kept = row["rawBody"].as_str().unwrap();
    assert!(kept.starts_with(r#"{"type":"PAYMENT_SUCCESS_WEBHOOK""#) && kept.len() == 64 * 1024, "{}", kept.len());
}

#[tokio::test]
async fn an_idempotency_key_of_any_length_dedupes_without_failing() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.create_order(f, "100.00", "order_longkey").await;
    let body = payment_body("PAYMENT_SUCCESS_WEBHOOK", "order_longkey", "cf_lk", "SUCCESS", "100.00");
    let key = "k".repeat(5_000);
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let headers = [
        ("x-webhook-timestamp", ts.clone()),
        ("x-webhook-signature", sign(CF_SECRET, &ts, &body)),
        ("x-idempotency-key", key),
    ];
    let (status, first) = app.deliver(&body, &headers).await;
    assert_eq!((status, first["outcome"].as_str()), (200, Some("PROCESSED")), "{first}");
    let (status, again) = app.deliver(&body, &headers).await;
    assert_eq!((status, again["outcome"].as_str()), (200, Some("DUPLICATE")), "{again}");
    assert_eq!(app.balance(f).await, "90.00");
    let stored = webhooks(&app).await;
    let kept: Vec<&str> =
        stored["nodes"].as_array().unwrap().iter().filter_map(|n| n["idempotencyKey"].as_str()).collect();
    assert!(kept.iter().all(|k| k.starts_with("sha256:") && k.len() < 100), "{kept:?}");
}

#[tokio::test]
async fn ids_with_control_characters_are_malformed_every_time_never_a_500() {
    let app = TestApp::spawn().await;
    let body = payment_body("PAYMENT_SUCCESS_WEBHOOK", "ord\\u0000evil", "cf_nul", "SUCCESS", "10.00");
    for _ in 0..2 {
        let (status, reply) = app.deliver_signed(&body).await;
        assert_eq!(status, 400, "{reply}");
        assert_eq!(reply["outcome"], "MALFORMED", "{reply}");
        assert!(
            reply["error"]["message"].as_str().unwrap().contains("data.order.order_id contains control characters"),
            "{reply}"
        );
    }
    let long = payment_body("PAYMENT_SUCCESS_WEBHOOK", &"o".repeat(500), "cf_long", "SUCCESS", "10.00");
    let (status, reply) = app.deliver_signed(&long).await;
    assert_eq!((status, reply["outcome"].as_str()), (400, Some("MALFORMED")), "{reply}");
    assert_eq!(webhooks(&app).await["totalCount"], 3, "each delivery is recorded");
}
