//! Deliveries nobody should send still end well: a body over the limit is stored (its first 4 KiB) and answered 413,
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
    let error = row["error"].as_str().unwrap();
    assert!(error.contains("too large") && error.contains("65536 bytes, SHA-256 "), "{row}");
    // Anyone can send one: its first 4 KiB are kept, with the size and hash of what was read.
    let kept = row["rawBody"].as_str().unwrap();
    assert!(kept.starts_with(r#"{"type":"PAYMENT_SUCCESS_WEBHOOK""#) && kept.len() == 4 * 1024, "{}", kept.len());
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

/// Rows of `payment_webhooks` and the bytes of their bodies, read straight from the database.
async fn stored_bodies(app: &TestApp) -> (i64, i64) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = &app.state.db;
    let sql = "SELECT COUNT(*), COALESCE(SUM(LENGTH(raw_body)), 0) FROM payment_webhooks";
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    (row.try_get_by_index(0).unwrap(), row.try_get_by_index::<i64>(1).unwrap())
}

#[tokio::test]
async fn a_flood_of_unsigned_deliveries_is_capped_throttled_alerted_once_and_forgotten_in_time() {
    let app = TestApp::spawn_with(|c| c.webhook_rejects_per_minute = 5).await;
    // Forty deliveries of 190 KB with a signature that does not hold, from one address.
    let big = format!(r#"{{"type":"PAYMENT_SUCCESS_WEBHOOK","pad":"{}"}}"#, "x".repeat(190 * 1024));
    let mut answers = Vec::new();
    for _ in 0..40 {
        let ts = chrono::Utc::now().timestamp_millis().to_string();
        let res = app
            .http
            .post(app.url("/api/webhooks/cashfree"))
            .header("content-type", "application/json")
            .header("x-webhook-timestamp", ts)
            .header("x-webhook-signature", "bm90IGEgc2lnbmF0dXJl")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap();
        answers.push((status, retry, body["error"]["code"].as_str().unwrap_or_default().to_owned()));
    }
    let refused = answers.iter().filter(|(s, ..)| *s == 401).count();
    assert_eq!(refused, 5, "the address's budget of stored refusals: {answers:?}");
    assert!(
        answers[5..]
            .iter()
            .all(|(s, retry, code)| *s == 429 && retry.is_some_and(|r| r >= 1) && code == "RATE_LIMITED"),
        "beyond it, told when to come back and not stored: {answers:?}"
    );
    // Five rows, each holding the first 4 KiB of its body, with the size and hash of all of it.
    let (rows, bytes) = stored_bodies(&app).await;
    assert_eq!((rows, bytes), (5, 5 * 4096), "not 40 × 190 KB");
    let q =
        "{ paymentWebhooks(filter: { outcome: REJECTED_SIGNATURE }) { totalCount nodes { error signatureValid } } }";
    let stored = app.gql_ok(&app.admin(), q, json!({})).await["paymentWebhooks"].clone();
    assert_eq!(stored["totalCount"], 5, "{stored}");
    let error = stored["nodes"][0]["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("{} bytes, SHA-256 ", big.len())) && error.contains("its first 4096 kept"),
        "{error}"
    );
    // One alert for the burst, not one a delivery.
    let alerts = app.gql_ok(&app.admin(), "{ alerts(first: 50) { nodes { kind message } } }", json!({})).await;
    let rejected: Vec<&Value> =
        alerts["alerts"]["nodes"].as_array().unwrap().iter().filter(|a| a["kind"] == "signature_rejected").collect();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(rejected[0]["message"].as_str().unwrap().contains("from 127.0.0.1"), "{rejected:?}");

    // Cashfree itself, from the same address, is never turned away.
    let f = Uuid::new_v4();
    app.create_order(f, "100.00", "order_after_flood").await;
    let good = payment_body("PAYMENT_SUCCESS_WEBHOOK", "order_after_flood", "cf_af", "SUCCESS", "100.00");
    assert_eq!(app.deliver_signed(&good).await.0, 200);

    // Refused deliveries are not chained: only the good one is linked, and the history verifies.
    let checkpoint = "{ historyCheckpoint { chains { chain seq unlinked } } }";
    let mut webhooks = Value::Null;
    for _ in 0..100 {
        let c = app.gql_ok(&app.admin(), checkpoint, json!({})).await;
        webhooks = c["historyCheckpoint"]["chains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["chain"] == "WEBHOOKS")
            .unwrap()
            .clone();
        if webhooks["seq"] == 1 && webhooks["unlinked"] == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!((&webhooks["seq"], &webhooks["unlinked"]), (&json!(1), &json!(0)), "{webhooks}");

    // Past their retention (30 days by default) they are deleted; what was chained stays, and still verifies.
    let long_ago: sea_orm::Value = (chrono::Utc::now() - chrono::Duration::days(31)).into();
    tamper(&app, "UPDATE payment_webhooks SET received_at = $1 WHERE signature_valid = false", vec![long_ago]).await;
    let swept = paydesk::services::operations::retention::sweep(&app.state, &app.state.db).await.unwrap();
    assert_eq!(swept.refused_webhooks, 5, "{swept:?}");
    assert_eq!(stored_bodies(&app).await.0, 1);
    assert_books_whole(&app);
    // On PostgreSQL a delivery that was chained is still never deleted, whoever asks.
    if on_postgres() {
        use sea_orm::ConnectionTrait;
        let e = app.state.db.execute_unprepared("DELETE FROM payment_webhooks").await.expect_err("refused");
        assert!(e.to_string().contains("append-only"), "{e}");
    }
}
