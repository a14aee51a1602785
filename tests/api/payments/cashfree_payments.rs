//! Orders and links created at Cashfree (our double), payments that arrive by the double's webhooks, and manual
//! verification that rests on what Cashfree reports.

use crate::helpers::*;
use cashfree_double::Fault;
use serde_json::{json, Value};
use uuid::Uuid;

const CREATE: &str = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) \
    { id orderId status cfOrderId paymentSessionId linkUrl failureReason } }";
const VERIFY: &str = "mutation($i: VerifyPaymentInput!) { verifyPayment(input: $i) { status verifiedAt } }";

async fn create(app: &TestApp, input: Value) -> Value {
    app.gql(Some(&app.admin()), CREATE, json!({ "i": input })).await
}

#[tokio::test]
async fn an_order_with_a_link_is_created_at_cashfree_and_paid_through_its_webhook() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = Uuid::new_v4();
    let body = create(
        &app,
        json!({ "freelancerId": f, "amount": "1500.00", "orderId": "ord_cf_1", "customerPhone": "9999912345",
                "paymentLink": true, "purpose": "Logo design" }),
    )
    .await;
    let p = &body["data"]["createPaymentOrder"];
    assert_eq!(p["status"], "PENDING", "{body}");
    assert!(p["cfOrderId"].as_str().is_some_and(|s| !s.is_empty()), "{body}");
    assert!(p["paymentSessionId"].as_str().unwrap().starts_with("session_"), "{body}");
    let link = p["linkUrl"].as_str().unwrap();
    assert!(link.starts_with(double.url()) && link.ends_with("/links/ord_cf_1"), "{link}");
    // The client opens the link and pays; Cashfree (the double) tells paydesk by a signed webhook.
    let page = app.http.get(link).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("1500.00 INR"), "{page}");
    let paid = app.http.post(format!("{link}/pay")).send().await.unwrap().text().await.unwrap();
    assert!(paid.contains("200"), "{paid}");
    assert_eq!(app.balance(f).await, "1350.00");
}

#[tokio::test]
async fn cashfree_needs_a_customer_phone_and_a_refused_order_is_cancelled_here() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = Uuid::new_v4();
    let no_phone = create(&app, json!({ "freelancerId": f, "amount": "10.00" })).await;
    assert_eq!(code(&no_phone), "BAD_USER_INPUT", "{no_phone}");
    assert!(no_phone["errors"][0]["message"].as_str().unwrap().contains("customerPhone"), "{no_phone}");

    double.fail_next("/pg/orders", Fault::Status(400), 1);
    let refused = create(
        &app,
        json!({ "freelancerId": f, "amount": "10.00", "orderId": "ord_refused", "customerPhone": "9999912345" }),
    )
    .await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("Cashfree refused"), "{refused}");
    let d = app.gql_ok(&app.admin(), "{ payments { nodes { orderId status failureReason } } }", json!({})).await;
    let row = &d["payments"]["nodes"][0];
    assert_eq!((row["orderId"].as_str(), row["status"].as_str()), (Some("ord_refused"), Some("CANCELLED")), "{d}");
    assert!(row["failureReason"].as_str().unwrap().contains("not created at Cashfree"), "{d}");
}

#[tokio::test]
async fn a_cashfree_outage_answers_unavailable_after_bounded_retries() {
    let (app, double) = spawn_with_double(|_| {}).await;
    double.fail_next("/pg/orders", Fault::Status(503), 10);
    let body = create(
        &app,
        json!({ "freelancerId": Uuid::new_v4(), "amount": "10.00", "orderId": "ord_down", "customerPhone": "9999912345" }),
    )
    .await;
    assert_eq!(code(&body), "UNAVAILABLE", "{body}");
    assert_eq!(double.calls("POST /pg/orders"), 3, "three attempts, then give up");
}

#[tokio::test]
async fn verify_payment_applies_what_cashfree_reports_when_the_webhook_never_came() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = Uuid::new_v4();
    let made = create(
        &app,
        json!({ "freelancerId": f, "amount": "1000.00", "orderId": "ord_lost", "customerPhone": "9999912345" }),
    )
    .await;
    let id = made["data"]["createPaymentOrder"]["id"].clone();
    // Only a failed attempt so far: nothing to verify.
    double.record_payment("ord_lost", "FAILED").unwrap();
    let early =
        app.gql(Some(&app.admin()), VERIFY, json!({ "i": { "paymentId": id, "reason": "client says paid" } })).await;
    assert_eq!(code(&early), "INVALID_STATE", "{early}");
    assert!(early["errors"][0]["message"].as_str().unwrap().contains("FAILED"), "{early}");
    assert_eq!(app.balance(f).await, "0.00");
    // The client paid again; the webhook was lost. Verification pulls it from Cashfree and credits once.
    double.record_payment("ord_lost", "SUCCESS").unwrap();
    let d = app.gql_ok(&app.admin(), VERIFY, json!({ "i": { "paymentId": id, "reason": "client says paid" } })).await;
    assert_eq!(d["verifyPayment"]["status"], "SUCCESS");
    assert_eq!(app.balance(f).await, "900.00");
    let hooks =
        app.gql_ok(&app.admin(), "{ paymentWebhooks { nodes { outcome eventType headers } } }", json!({})).await;
    let pulled: Vec<&Value> = hooks["paymentWebhooks"]["nodes"].as_array().unwrap().iter().collect();
    assert!(pulled.iter().all(|h| h["headers"]["x-paydesk-source"].is_string()), "recorded as pulled: {hooks}");
    assert!(pulled.iter().any(|h| h["outcome"] == "PROCESSED" && h["eventType"] == "PAYMENT_SUCCESS_WEBHOOK"));
}

#[tokio::test]
async fn without_credentials_orders_stay_local_and_links_are_refused() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let local = create(&app, json!({ "freelancerId": f, "amount": "10.00" })).await;
    assert!(local["data"]["createPaymentOrder"]["cfOrderId"].is_null(), "{local}");
    let link = create(&app, json!({ "freelancerId": f, "amount": "10.00", "paymentLink": true })).await;
    assert_eq!(code(&link), "BAD_USER_INPUT", "{link}");
}
