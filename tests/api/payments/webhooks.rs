//! Cashfree webhooks through HTTP: signatures, recording, idempotency, outcomes, crediting.

use crate::helpers::*;
use entity::status::Role;
use serde_json::{json, Value};
use uuid::Uuid;

const WEBHOOKS: &str = "{ paymentWebhooks { totalCount nodes { outcome signatureValid error eventType orderId rawBody payment { orderId } } } }";

async fn webhooks(app: &TestApp) -> Value {
    app.gql_ok(&app.admin(), WEBHOOKS, json!({})).await["paymentWebhooks"].clone()
}

fn sample_success() -> &'static str {
    SAMPLE_SUCCESS.trim_end_matches('\n')
}

#[tokio::test]
async fn the_documented_sample_with_its_documented_signature_credits_the_wallet_net_of_fee() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.create_order(f, "1500.00", "order_ms_1001").await;
    let headers = [
        ("x-webhook-timestamp", "1741935031000".to_owned()),
        ("x-webhook-signature", "uESDnfZ3Oa/rzubqQ2gscirM2xqOLW6RwQ8WDm+4W/M=".to_owned()),
    ];
    let (status, reply) = app.deliver(sample_success(), &headers).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["outcome"], "PROCESSED");

    let d = app
        .gql_ok(
            &app.admin(),
            "query($f: UUID!) {
               payments { nodes { status platformFee netAmount cfPaymentId paymentMethod paidAt } }
               wallet(freelancerId: $f) { balance transactions { kind amount balanceAfter reference } }
               notifications { nodes { recipientId kind title } }
               auditLog(filter: { action: \"payment.succeeded\" }) { totalCount nodes { actorRole after } }
             }",
            json!({ "f": f }),
        )
        .await;
    let p = &d["payments"]["nodes"][0];
    assert_eq!(p["status"], "SUCCESS");
    assert_eq!(p["platformFee"], "150.00");
    assert_eq!(p["netAmount"], "1350.00");
    assert_eq!(p["cfPaymentId"], "5114910733441");
    assert_eq!(p["paymentMethod"], "upi");
    assert_eq!(p["paidAt"], "2025-03-14T06:50:29Z", "RFC 3339 in UTC with a Z, as REST writes it");
    assert_eq!(d["wallet"]["balance"], "1350.00");
    let ledger = &d["wallet"]["transactions"];
    assert_eq!(ledger.as_array().unwrap().len(), 1);
    assert_eq!(ledger[0]["kind"], "PAYMENT_CREDIT");
    assert_eq!(ledger[0]["amount"], "1350.00");
    assert_eq!(ledger[0]["balanceAfter"], "1350.00");
    assert_eq!(d["notifications"]["nodes"][0]["recipientId"], f.to_string());
    assert_eq!(d["notifications"]["nodes"][0]["kind"], "payment_received");
    assert_eq!(d["auditLog"]["totalCount"], 1);
    assert_eq!(d["auditLog"]["nodes"][0]["actorRole"], "SYSTEM");

    let w = webhooks(&app).await;
    assert_eq!(w["nodes"][0]["rawBody"], sample_success(), "the body is stored byte for byte");
    assert_eq!(w["nodes"][0]["payment"]["orderId"], "order_ms_1001");
}

#[tokio::test]
async fn a_repeated_delivery_credits_once_and_is_answered_200() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.create_order(f, "1500.00", "order_ms_1001").await;
    for expected in ["PROCESSED", "DUPLICATE", "DUPLICATE"] {
        let (status, reply) = app.deliver_signed(sample_success()).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["outcome"], expected);
    }
    assert_eq!(app.balance(f).await, "1350.00");
    assert_eq!(webhooks(&app).await["totalCount"], 3, "every delivery is recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicate_deliveries_credit_exactly_once() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let f = Uuid::new_v4();
    app.create_order(f, "1500.00", "order_ms_1001").await;
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.deliver_signed(sample_success()).await })
        })
        .collect();
    let mut processed = 0;
    for t in tasks {
        let (status, reply) = t.await.unwrap();
        assert_eq!(status, 200, "{reply}");
        processed += usize::from(reply["outcome"] == "PROCESSED");
    }
    assert_eq!(processed, 1);
    assert_eq!(app.balance(f).await, "1350.00");
}

#[tokio::test]
async fn the_idempotency_key_header_wins_over_the_payload_key() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.create_order(f, "1500.00", "order_ms_1001").await;
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let sig = sign(CF_SECRET, &ts, sample_success());
    let with_key = |k: &str| {
        [("x-webhook-timestamp", ts.clone()), ("x-webhook-signature", sig.clone()), ("x-idempotency-key", k.to_owned())]
    };
    let (_, first) = app.deliver(sample_success(), &with_key("evt-1")).await;
    let (_, again) = app.deliver(sample_success(), &with_key("evt-1")).await;
    assert_eq!(first["outcome"], "PROCESSED");
    assert_eq!(again["outcome"], "DUPLICATE");
    // A different key for the same payment is a new delivery, but the payment is already final: still one credit.
    let (_, other) = app.deliver(sample_success(), &with_key("evt-2")).await;
    assert_eq!(other["outcome"], "DUPLICATE", "{other}");
    assert_eq!(app.balance(f).await, "1350.00");
}

#[tokio::test]
async fn bad_signatures_are_refused_401_and_still_recorded() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.create_order(f, "1500.00", "order_ms_1001").await;
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let cases = vec![
        vec![("x-webhook-timestamp", ts.clone()), ("x-webhook-signature", sign("wrong-secret", &ts, sample_success()))],
        vec![("x-webhook-timestamp", ts.clone())],
        vec![("x-webhook-signature", sign(CF_SECRET, &ts, sample_success()))],
        // Signed with the literal "." separator the PHP docs suggest: not Cashfree's scheme.
        vec![
            ("x-webhook-timestamp", ts.clone()),
            ("x-webhook-signature", sign(CF_SECRET, &format!("{ts}."), sample_success())),
        ],
    ];
    let n = cases.len();
    for headers in cases {
        let (status, reply) = app.deliver(sample_success(), &headers).await;
        assert_eq!(status, 401, "{reply}");
        assert_eq!(reply["error"]["code"], "INVALID_SIGNATURE");
    }
    // A body altered after signing (170.00 re-serialised as 170) no longer verifies.
    let sig = sign(CF_SECRET, &ts, sample_success());
    let altered = sample_success().replace("1500.00", "1500");
    let (status, _) = app.deliver(&altered, &[("x-webhook-timestamp", ts.clone()), ("x-webhook-signature", sig)]).await;
    assert_eq!(status, 401);

    let w = webhooks(&app).await;
    assert_eq!(w["totalCount"], n + 1);
    assert!(w["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["outcome"] == "REJECTED_SIGNATURE" && r["signatureValid"] == false));
    assert_eq!(app.balance(f).await, "0.00", "nothing credited");
}

#[tokio::test]
async fn stale_timestamps_are_refused_when_a_window_is_set() {
    let app = TestApp::spawn_with(|c| c.cashfree_webhook_tolerance_secs = 300).await;
    let f = Uuid::new_v4();
    app.create_order(f, "1500.00", "order_ms_1001").await;
    let old = (chrono::Utc::now().timestamp_millis() - 3_600_000).to_string();
    let sig = sign(CF_SECRET, &old, sample_success());
    let (status, reply) =
        app.deliver(sample_success(), &[("x-webhook-timestamp", old), ("x-webhook-signature", sig)]).await;
    assert_eq!(status, 401);
    assert!(reply["error"]["message"].as_str().unwrap().contains("at most 300 s"), "{reply}");
    let (status, _) = app.deliver_signed(sample_success()).await;
    assert_eq!(status, 200, "a fresh timestamp passes");
}

#[tokio::test]
async fn during_a_key_rotation_both_secrets_verify() {
    let app = TestApp::spawn_with(|c| c.cashfree_client_secret = vec!["old-secret".into(), CF_SECRET.into()]).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    app.create_order(a, "100.00", "order_old").await;
    app.create_order(b, "100.00", "order_new").await;
    for (secret, order) in [("old-secret", "order_old"), (CF_SECRET, "order_new")] {
        let body = payment_body("PAYMENT_SUCCESS_WEBHOOK", order, &rand_digits(), "SUCCESS", "100.00");
        let ts = chrono::Utc::now().timestamp_millis().to_string();
        let sig = sign(secret, &ts, &body);
        let (status, reply) = app.deliver(&body, &[("x-webhook-timestamp", ts), ("x-webhook-signature", sig)]).await;
        assert_eq!(status, 200, "{secret}: {reply}");
    }
    assert_eq!(app.balance(a).await, "90.00");
    assert_eq!(app.balance(b).await, "90.00");
}

#[tokio::test]
async fn without_a_configured_secret_deliveries_get_503_and_are_recorded() {
    let app = TestApp::spawn_with(|c| c.cashfree_client_secret = vec![]).await;
    let (status, reply) = app.deliver_signed(sample_success()).await;
    assert_eq!(status, 503, "{reply}");
    assert!(reply["error"]["message"].as_str().unwrap().contains("CASHFREE_CLIENT_SECRET"));
    let w = webhooks(&app).await;
    assert_eq!(w["totalCount"], 1);
    assert_eq!(w["nodes"][0]["outcome"], "FAILED");
}

#[tokio::test]
async fn malformed_bodies_get_400_and_are_recorded() {
    let app = TestApp::spawn().await;
    for body in ["not json", r#"{"type":"PAYMENT_SUCCESS_WEBHOOK","data":{}}"#, r#"{"data":{}}"#] {
        let (status, reply) = app.deliver_signed(body).await;
        assert_eq!(status, 400, "{body}: {reply}");
        assert_eq!(reply["outcome"], "MALFORMED");
    }
    let w = webhooks(&app).await;
    assert_eq!(w["totalCount"], 3);
    assert!(w["nodes"].as_array().unwrap().iter().all(|r| r["outcome"] == "MALFORMED" && r["signatureValid"] == true));
}

#[tokio::test]
async fn a_failed_payment_is_recorded_and_credits_nothing() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.create_order(f, "2500.00", "order_ms_1002").await;
    let (status, reply) = app.deliver_signed(SAMPLE_FAILED.trim_end_matches('\n')).await;
    assert_eq!(status, 200, "{reply}");
    let d = app.gql_ok(&app.admin(), "{ payments { nodes { status failureReason paymentMethod } } }", json!({})).await;
    let p = &d["payments"]["nodes"][0];
    assert_eq!(p["status"], "FAILED");
    assert!(p["failureReason"].as_str().unwrap().contains("remitter bank"));
    assert_eq!(p["paymentMethod"], "net_banking");
    assert_eq!(app.balance(f).await, "0.00");
}

#[tokio::test]
async fn a_late_failure_never_undoes_a_success_and_a_retry_after_failure_can_succeed() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.create_order(f, "500.00", "order_retry").await;
    let fail = payment_body("PAYMENT_FAILED_WEBHOOK", "order_retry", "111", "FAILED", "500.00");
    let ok = payment_body("PAYMENT_SUCCESS_WEBHOOK", "order_retry", "222", "SUCCESS", "500.00");
    let dropped = payment_body("PAYMENT_USER_DROPPED_WEBHOOK", "order_retry", "111", "USER_DROPPED", "500.00");
    assert_eq!(app.deliver_signed(&fail).await.1["outcome"], "PROCESSED");
    assert_eq!(app.deliver_signed(&ok).await.1["outcome"], "PROCESSED");
    let (status, late) = app.deliver_signed(&dropped).await;
    assert_eq!(status, 200);
    assert!(late["message"].as_str().unwrap().contains("ignored"), "{late}");
    let d = app.gql_ok(&app.admin(), "{ payments { nodes { status cfPaymentId } } }", json!({})).await;
    assert_eq!(d["payments"]["nodes"][0]["status"], "SUCCESS");
    assert_eq!(d["payments"]["nodes"][0]["cfPaymentId"], "222");
    assert_eq!(app.balance(f).await, "450.00");
}

#[tokio::test]
async fn unknown_orders_and_mismatched_amounts_are_recorded_not_credited() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.create_order(f, "1000.00", "order_known").await;
    let unknown = payment_body("PAYMENT_SUCCESS_WEBHOOK", "order_nobody", "1", "SUCCESS", "1000.00");
    let short = payment_body("PAYMENT_SUCCESS_WEBHOOK", "order_known", "2", "SUCCESS", "999.99");
    let wrong_currency =
        payment_body("PAYMENT_SUCCESS_WEBHOOK", "order_known", "3", "SUCCESS", "1000.00").replace("\"INR\"", "\"USD\"");
    for (body, says) in [(unknown, "no order order_nobody"), (short, "999.99"), (wrong_currency, "USD")] {
        let (status, reply) = app.deliver_signed(&body).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["outcome"], "UNMATCHED");
        assert!(reply["message"].as_str().unwrap().contains(says), "{reply}");
    }
    assert_eq!(app.balance(f).await, "0.00");
    let d = app
        .gql_ok(&app.admin(), "{ paymentWebhooks(filter: { outcome: [UNMATCHED] }) { totalCount } }", json!({}))
        .await;
    assert_eq!(d["paymentWebhooks"]["totalCount"], 3);
}

#[tokio::test]
async fn a_successful_refund_debits_the_freelancers_share_once() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let order = app.fund(f, "1000.00").await;
    let refund = |status: &str| {
        format!(
            r#"{{"data":{{"refund":{{"cf_refund_id":"rf_77","refund_id":"r1","order_id":"{order}","refund_amount":1000.00,"refund_currency":"INR","refund_status":"{status}"}}}},"event_time":"2025-03-15T10:00:00+05:30","type":"REFUND_STATUS_WEBHOOK"}}"#
        )
    };
    assert_eq!(app.deliver_signed(&refund("PENDING")).await.1["outcome"], "PROCESSED");
    assert_eq!(app.balance(f).await, "900.00", "a pending refund books nothing");
    assert_eq!(app.deliver_signed(&refund("SUCCESS")).await.1["outcome"], "PROCESSED");
    assert_eq!(app.deliver_signed(&refund("SUCCESS")).await.1["outcome"], "DUPLICATE");
    assert_eq!(app.balance(f).await, "0.00");
    let d = app.gql_ok(&app.token(Role::Ops, Uuid::new_v4()), "{ payments { nodes { status } } }", json!({})).await;
    assert_eq!(d["payments"]["nodes"][0]["status"], "REFUNDED");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run with TEST_DATABASE_URL=postgres://… and --include-ignored"]
async fn with_the_database_gone_deliveries_get_503_so_cashfree_retries() {
    assert!(on_postgres(), "set TEST_DATABASE_URL to a PostgreSQL server");
    let app = TestApp::spawn().await;
    app.create_order(Uuid::new_v4(), "1500.00", "order_ms_1001").await;
    // Pull the database out from under the running server.
    use sea_orm::ConnectionTrait;
    let base = std::env::var("TEST_DATABASE_URL").unwrap();
    let admin = sea_orm::Database::connect(&base).await.unwrap();
    let name = app.db_url.rsplit('/').next().unwrap().to_owned();
    admin.execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.unwrap();

    let (status, reply) = app.deliver_signed(sample_success()).await;
    assert_eq!(status, 503, "a retry can help, so Cashfree must retry: {reply}");
    assert_eq!(reply["error"]["code"], "UNAVAILABLE");
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body = app.gql(Some(&app.admin()), "{ payments { totalCount } }", json!({})).await;
    assert_eq!(code(&body), "UNAVAILABLE", "a code clients can retry on: {body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("try again"), "{body}");
}
