//! Money counted once, in any order Cashfree speaks: a refund Cashfree makes slowly is never undone by a look-up
//! that races its creation, a refund Cashfree pays after paydesk gave up on it is booked (and loud), a refund
//! webhook without paydesk's own id still finds the refund started here, a decided dispute is not reopened by a
//! late report, and a settlement books each Cashfree payment once (matched by that payment, never by its order).

use crate::helpers::*;
use paydesk::double::Fault;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const REFUND: &str = "mutation($i: CreateRefundInput!) { createRefund(input: $i) { refundId status } }";
const PAYMENT: &str = "query($o: String!) { payments(filter: { orderIdPrefix: $o }) { nodes { id status \
    refundedAmount refundingAmount refunds { refundId status } } } }";
const ALERTS: &str = "{ alerts(first: 50) { nodes { kind severity message } } }";
const DISPUTES: &str = "{ disputes { nodes { cfDisputeId status held } } }";
const RECONCILE: &str =
    "mutation($i: ReconcileSettlementsInput!) { reconcileSettlements(input: $i) { fetched recorded discrepancies } }";
const LINES: &str = "query($f: DateTime!, $t: DateTime!) { settlementReconciliation(from: $f, to: $t) { lines { \
    orderId cfPaymentId status } } }";

async fn payment(app: &TestApp, order: &str) -> Value {
    app.gql_ok(&app.admin(), PAYMENT, json!({ "o": order })).await["payments"]["nodes"][0].clone()
}

async fn alerts_of(app: &TestApp, kind: &str) -> Vec<Value> {
    let d = app.gql_ok(&app.admin(), ALERTS, json!({})).await;
    d["alerts"]["nodes"].as_array().unwrap().iter().filter(|a| a["kind"] == kind).cloned().collect()
}

async fn refund(app: &TestApp, payment_id: &Value, amount: &str) -> Value {
    let i = json!({ "paymentId": payment_id, "amount": amount, "reason": "work not delivered" });
    app.gql_ok(&app.admin(), REFUND, json!({ "i": i })).await["createRefund"].clone()
}

#[tokio::test]
async fn a_decided_dispute_is_not_reopened_by_a_late_report_only_by_arbitration() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    let order = format!("ord_{}", f.simple());
    let (_, dispute) = double.open_dispute(&order, "300.00").await.unwrap();
    assert_eq!(double.move_dispute(&dispute, "CHARGEBACK_MERCHANT_WON").await, Ok(200));
    assert_eq!(app.balance(f).await, "900.00");
    // Delayed deliveries of earlier steps, each under a key of its own.
    for (kind, status) in [("DISPUTE_UPDATED", "CHARGEBACK_UNDER_REVIEW"), ("DISPUTE_CREATED", "CHARGEBACK_CREATED")] {
        let mut late = double.dispute_webhook(kind, &dispute).unwrap();
        late["data"]["dispute"]["dispute_status"] = json!(status);
        let (code, reply) = app.deliver_signed(&late.to_string()).await;
        assert_eq!((code, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
    }
    assert_eq!(app.balance(f).await, "900.00", "nothing held again");
    let d = app.gql_ok(&app.admin(), DISPUTES, json!({})).await;
    assert_eq!(
        (d["disputes"]["nodes"][0]["status"].as_str(), d["disputes"]["nodes"][0]["held"].as_str()),
        (Some("WON"), Some("300.00"))
    );
    // The client's bank contests the decision: pre-arbitration reopens it.
    assert_eq!(double.move_dispute(&dispute, "PRE_ARBITRATION_CREATED").await, Ok(200));
    assert_eq!(app.balance(f).await, "600.00", "held again for pre-arbitration");
    assert_books_whole(&app);
}
