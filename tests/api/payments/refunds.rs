//! Money rules that cannot be bent: refunds never exceed the payment, a fully refunded payment is REFUNDED, a
//! refund for an unpaid order or a second charge on a paid one books nothing and raises a CRITICAL alert, a refund
//! of money already paid out is booked below zero and raises one too, and `reconcile` checks all of it.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const CRITICAL: &str = "subscription { alerts(minSeverity: CRITICAL) { kind severity message paymentId } }";

fn refund(order: &str, cf_refund_id: &str, amount: &str) -> String {
    refund_body(order, cf_refund_id, amount, "INR")
}

/// The (only) payment as the API shows it.
pub async fn payment(app: &TestApp) -> Value {
    let d = app.gql_ok(&app.admin(), "{ payments { nodes { status amount refundedAmount } } }", json!({})).await;
    d["payments"]["nodes"][0].clone()
}

#[tokio::test]
async fn refunds_add_up_to_the_payment_and_never_beyond_it() {
    let app = TestApp::spawn().await;
    let mut alerts = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    alerts.subscribe("c", CRITICAL, json!({})).await;
    let f = Uuid::new_v4();
    let order = app.fund(f, "1500.00").await; // 1350.00 credited
    let (_, first) = app.deliver_signed(&refund(&order, "rf_a", "500.00")).await;
    assert_eq!(first["outcome"], "PROCESSED", "{first}");
    assert_eq!(payment(&app).await["status"], "SUCCESS", "partly refunded is still paid");
    let (_, second) = app.deliver_signed(&refund(&order, "rf_b", "1000.00")).await;
    assert_eq!(second["outcome"], "PROCESSED", "{second}");
    let p = payment(&app).await;
    assert_eq!((p["status"].as_str(), p["refundedAmount"].as_str()), (Some("REFUNDED"), Some("1500.00")));
    assert_eq!(app.balance(f).await, "0.00", "1350.00 less 450.00 less 900.00");

    let (status, third) = app.deliver_signed(&refund(&order, "rf_c", "1.00")).await;
    assert_eq!(status, 200, "recorded and answered, so Cashfree does not retry it: {third}");
    assert_eq!(third["outcome"], "FAILED", "{third}");
    assert!(third["message"].as_str().unwrap().contains("more than the 1500.00 paid"), "{third}");
    assert_eq!(app.balance(f).await, "0.00", "nothing was booked");
    let (_, alert) = alerts.event(Duration::from_secs(10)).await.expect("a CRITICAL alert");
    assert_eq!(alert["data"]["alerts"]["kind"], "over_refund", "{alert}");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn concurrent_refunds_cannot_add_up_to_more_than_the_payment() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let order = app.fund(f, "1500.00").await;
    let bodies: Vec<String> = (0..6).map(|i| refund(&order, &format!("rf_race_{i}"), "1000.00")).collect();
    let replies = futures_util::future::join_all(bodies.iter().map(|b| app.deliver_signed(b))).await;
    let booked = replies.iter().filter(|(_, r)| r["outcome"] == "PROCESSED").count();
    assert_eq!(booked, 1, "{replies:?}");
    assert_eq!(payment(&app).await["refundedAmount"], "1000.00");
    assert_eq!(app.balance(f).await, "450.00");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn a_refund_for_an_unpaid_order_books_nothing_and_is_critical() {
    let app = TestApp::spawn().await;
    let mut alerts = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    alerts.subscribe("c", CRITICAL, json!({})).await;
    app.create_order(Uuid::new_v4(), "700.00", "order_unpaid").await;
    let (_, reply) = app.deliver_signed(&refund("order_unpaid", "rf_u", "700.00")).await;
    assert_eq!(reply["outcome"], "FAILED", "{reply}");
    assert!(reply["message"].as_str().unwrap().contains("never paid"), "{reply}");
    let (_, alert) = alerts.event(Duration::from_secs(10)).await.expect("a CRITICAL alert");
    assert_eq!(alert["data"]["alerts"]["kind"], "refund_unpaid", "{alert}");
    assert_eq!(payment(&app).await["refundedAmount"], "0.00");
}

#[tokio::test]
async fn a_second_successful_payment_on_one_order_is_a_double_charge_not_a_second_credit() {
    let app = TestApp::spawn().await;
    let mut alerts = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    alerts.subscribe("c", CRITICAL, json!({})).await;
    let f = Uuid::new_v4();
    let order = app.fund(f, "1000.00").await;
    let again = payment_body("PAYMENT_SUCCESS_WEBHOOK", &order, "cf_second_charge", "SUCCESS", "1000.00");
    let (status, reply) = app.deliver_signed(&again).await;
    assert_eq!(status, 200);
    assert_eq!(reply["outcome"], "UNMATCHED", "{reply}");
    assert!(reply["message"].as_str().unwrap().contains("second charge"), "{reply}");
    assert_eq!(app.balance(f).await, "900.00", "credited once");
    let (_, alert) = alerts.event(Duration::from_secs(10)).await.expect("a CRITICAL alert");
    let a = &alert["data"]["alerts"];
    assert_eq!(a["kind"], "double_charge", "{alert}");
    assert!(a["message"].as_str().unwrap().contains("cf_second_charge"), "{alert}");
}

#[tokio::test]
async fn reconcile_flags_a_payment_refunded_beyond_its_amount() {
    let app = TestApp::spawn().await;
    let order = app.fund(Uuid::new_v4(), "1000.00").await;
    use sea_orm::ConnectionTrait;
    app.state
        .db
        .execute_unprepared(&format!("UPDATE payments SET refunded_amount = 100001 WHERE order_id = '{order}'"))
        .await
        .unwrap();
    let (clean, report) = app.reconcile();
    assert!(!clean, "{report}");
    assert!(report.contains(&format!("payment {order}: refunded 1000.01, more than the 1000.00 paid")), "{report}");
}

#[tokio::test]
async fn a_refund_of_money_already_paid_out_overdraws_the_wallet_and_raises_a_critical_alert() {
    let app = TestApp::spawn().await;
    let mut alerts = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    alerts.subscribe("c", CRITICAL, json!({})).await;
    let f = Uuid::new_v4();
    let order = app.fund(f, "1500.00").await; // 1350.00 credited
    let id = app.request_payout(f, "1250.00").await["data"]["requestPayout"]["id"].clone();
    let approve = "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { status } }";
    app.gql_ok(&app.admin(), approve, json!({ "i": { "payoutRequestId": id } })).await;
    assert_eq!(app.balance(f).await, "100.00");

    // Cashfree has refunded the client: the books follow, below zero, and ops hear of it.
    let (status, reply) = app.deliver_signed(&refund(&order, "rf_late", "1500.00")).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
    assert_eq!(app.balance(f).await, "-1250.00", "100.00 less the 1350.00 credited");
    let (_, alert) = alerts.event(Duration::from_secs(10)).await.expect("a CRITICAL alert");
    let alert = &alert["data"]["alerts"];
    assert_eq!(alert["kind"], "wallet_overdrawn", "{alert}");
    let paid = app.gql_ok(&app.admin(), "{ payments { nodes { id } } }", json!({})).await;
    assert_eq!(alert["paymentId"], paid["payments"]["nodes"][0]["id"], "{alert}");
    let message = alert["message"].as_str().unwrap();
    assert!(message.contains("rf_late") && message.contains(&f.to_string()) && message.contains("-1250.00"), "{alert}");
    let more = app.request_payout(f, "1.00").await;
    assert_eq!(code(&more), "RESERVE_VIOLATION", "{more}");
    let (clean, report) = app.reconcile();
    assert!(clean, "an overdrawn wallet is still sound books: {report}");
}
