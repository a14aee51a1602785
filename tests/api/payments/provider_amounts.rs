//! Amounts from Cashfree's payloads are believed only when they can be real: greater than zero and in whole minor
//! units of their currency. A correctly signed refund of -100.00 or 0 or a payment of -1500.00 is MALFORMED:
//! recorded, a CRITICAL alert raised, nothing booked (a transfer's: `cashfree_payouts`); and `reconcile` checks that
//! every stored ledger row moves its balance the way its kind says and that refunds lie between zero and the
//! payment.

use crate::helpers::*;
use crate::payments::refunds::payment;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

/// Every CRITICAL alert, with the delivery it names.
pub const CRITICAL: &str = "subscription { alerts(minSeverity: CRITICAL) { kind severity message webhookId } }";

async fn ledger_rows(app: &TestApp) -> u64 {
    let d = app.gql_ok(&app.admin(), "{ walletTransactions { totalCount } }", json!({})).await;
    d["walletTransactions"]["totalCount"].as_u64().unwrap()
}

/// Delivers `body` and expects it MALFORMED (400) with `why` in its message, and a CRITICAL alert naming its row.
async fn refused(app: &TestApp, alerts: &mut Subscriber, body: &str, why: &str) {
    let (status, reply) = app.deliver_signed(body).await;
    assert_eq!((status, reply["outcome"].as_str()), (400, Some("MALFORMED")), "{body}: {reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(message.contains(why), "{body}: {message}");
    let (_, alert) = alerts.event(Duration::from_secs(10)).await.expect("a CRITICAL alert");
    let alert = &alert["data"]["alerts"];
    assert_eq!(alert["kind"], "webhook_malformed", "{alert}");
    assert!(alert["message"].as_str().unwrap().contains(why), "{alert}");
    assert_eq!(alert["webhookId"], reply["webhookId"], "{alert}");
}

#[tokio::test]
async fn a_signed_refund_of_a_negative_zero_or_sub_paisa_amount_is_malformed_and_books_nothing() {
    let app = TestApp::spawn().await;
    let mut alerts = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    alerts.subscribe("c", CRITICAL, json!({})).await;
    let f = Uuid::new_v4();
    let order = app.fund(f, "1000.00").await; // 900.00 credited
    let rows = ledger_rows(&app).await;

    let must = "data.refund.refund_amount must be greater than zero";
    refused(&app, &mut alerts, &refund_body(&order, "rf_neg", "-100.00", "INR"), must).await;
    refused(&app, &mut alerts, &refund_body(&order, "rf_zero", "0", "INR"), must).await;
    refused(&app, &mut alerts, &refund_body(&order, "rf_zero_s", "\"0.00\"", "INR"), must).await;
    refused(&app, &mut alerts, &refund_body(&order, "rf_fine", "10.001", "INR"), "more than 2 decimal places").await;
    refused(&app, &mut alerts, &refund_body(&order, "rf_cur", "10.00", "RUPEES"), "data.refund.refund_currency").await;
    assert_eq!(app.balance(f).await, "900.00", "the wallet never went up");
    assert_eq!(ledger_rows(&app).await, rows, "no ledger row was written");
    let p = payment(&app).await;
    assert_eq!((p["status"].as_str(), p["refundedAmount"].as_str()), (Some("SUCCESS"), Some("0.00")), "{p}");

    // The payment's whole amount can still be refunded, and not one paisa more.
    let (_, full) = app.deliver_signed(&refund_body(&order, "rf_full", "1000.00", "INR")).await;
    assert_eq!(full["outcome"], "PROCESSED", "{full}");
    let (status, more) = app.deliver_signed(&refund_body(&order, "rf_more", "100.00", "INR")).await;
    assert_eq!((status, more["outcome"].as_str()), (200, Some("FAILED")), "{more}");
    let p = payment(&app).await;
    assert_eq!((p["status"].as_str(), p["refundedAmount"].as_str()), (Some("REFUNDED"), Some("1000.00")), "{p}");
    assert_eq!(app.balance(f).await, "0.00");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn a_refund_finer_than_its_currency_or_in_another_currency_books_nothing() {
    let app = TestApp::spawn().await;
    let mut alerts = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    alerts.subscribe("c", CRITICAL, json!({})).await;
    let f = Uuid::new_v4();
    let order = app.fund(f, "1000.00").await;
    refused(&app, &mut alerts, &refund_body(&order, "rf_yen", "10.50", "JPY"), "more decimal places than JPY has")
        .await;

    let (status, reply) = app.deliver_signed(&refund_body(&order, "rf_usd", "10.00", "USD")).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("UNMATCHED")), "{reply}");
    assert!(reply["message"].as_str().unwrap().contains("paid in INR"), "{reply}");
    let (_, alert) = alerts.event(Duration::from_secs(10)).await.expect("a CRITICAL alert");
    assert_eq!(alert["data"]["alerts"]["kind"], "webhook_unmatched", "{alert}");
    assert_eq!(app.balance(f).await, "900.00");
    assert_eq!(payment(&app).await["refundedAmount"], "0.00");
}

#[tokio::test]
async fn a_signed_payment_of_a_negative_or_zero_amount_is_malformed_not_unmatched() {
    let app = TestApp::spawn().await;
    let mut alerts = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    alerts.subscribe("c", CRITICAL, json!({})).await;
    let f = Uuid::new_v4();
    app.create_order(f, "1500.00", "order_hostile").await;
    for (i, amount) in ["-1500.00", "0"].into_iter().enumerate() {
        let body = payment_body("PAYMENT_SUCCESS_WEBHOOK", "order_hostile", &format!("cf_h{i}"), "SUCCESS", amount);
        refused(&app, &mut alerts, &body, "data.payment.payment_amount must be greater than zero").await;
    }
    let body = payment_body("PAYMENT_SUCCESS_WEBHOOK", "order_hostile", "cf_h3", "SUCCESS", "1500.001");
    refused(&app, &mut alerts, &body, "more than 2 decimal places").await;
    assert_eq!(payment(&app).await["status"], "PENDING");
    assert_eq!(app.balance(f).await, "0.00");
}

#[tokio::test]
async fn reconcile_names_a_ledger_row_against_its_kind_and_refunds_below_zero() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let order = app.fund(f, "1000.00").await;
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
    use sea_orm::ConnectionTrait;
    // A credit turned into a debit, with the balance moved to match: the sums agree, the sign does not.
    let db = &app.state.db;
    db.execute_unprepared("UPDATE wallet_transactions SET amount = -amount, balance_after = -balance_after")
        .await
        .unwrap();
    db.execute_unprepared("UPDATE freelancer_wallets SET balance = -balance").await.unwrap();
    db.execute_unprepared(&format!("UPDATE payments SET refunded_amount = -10000 WHERE order_id = '{order}'"))
        .await
        .unwrap();
    let (clean, report) = app.reconcile();
    assert!(!clean, "{report}");
    let payment_id = payment_id(&app).await;
    let row = format!(
        "ledger row payment:{payment_id}: PAYMENT_CREDIT of -900.00, but a payment_credit row is a credit, so \
         greater than zero"
    );
    assert!(report.contains(&row), "{report}");
    assert!(report.contains(&format!("payment {order}: refunded -100.00, less than nothing")), "{report}");
    assert!(!report.contains("but its ledger sums to"), "the balance still equals its ledger: {report}");
    let journal = format!("ledger row payment:{payment_id}: no journal entry carries it as its wallet line");
    assert!(report.contains(&journal), "the journal still holds the credit as it was booked: {report}");
}

async fn payment_id(app: &TestApp) -> String {
    let d = app.gql_ok(&app.admin(), "{ payments { nodes { id } } }", json!({})).await;
    d["payments"]["nodes"][0]["id"].as_str().unwrap().to_owned()
}
