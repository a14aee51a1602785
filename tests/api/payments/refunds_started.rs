//! Refunds an admin starts from paydesk (`createRefund`): asked of Cashfree (our double), the money waiting in
//! refunds payable until Cashfree's refund webhook pays or cancels it, never more than the payment has left however
//! many admins refund at once, and refused outright without Cashfree's Payment Gateway.

use crate::helpers::*;
use cashfree_double::Fault;
use entity::status::Role;
use serde_json::{json, Value};
use uuid::Uuid;

const CREATE: &str = "mutation($i: CreateRefundInput!) { createRefund(input: $i) { id refundId cfRefundId amount \
    feeShare status reason failureReason } }";
const PAYMENT: &str = "query($o: String) { payments(filter: { orderId: $o }) { nodes { id status refundedAmount \
    refundingAmount disputedAmount refunds { refundId status } } } }";

async fn payment(app: &TestApp, order: &str) -> Value {
    app.gql_ok(&app.admin(), PAYMENT, json!({ "o": order })).await["payments"]["nodes"][0].clone()
}

async fn refund(app: &TestApp, payment_id: &Value, amount: &str, key: Option<&str>) -> Value {
    refund_as(app, &app.admin(), payment_id, amount, key).await
}

/// As `refund`, by the admin whose token is `admin` (idempotency keys are each caller's own).
async fn refund_as(app: &TestApp, admin: &str, payment_id: &Value, amount: &str, key: Option<&str>) -> Value {
    let i = json!({ "paymentId": payment_id, "amount": amount, "reason": "work not delivered", "idempotencyKey": key });
    app.gql(Some(admin), CREATE, json!({ "i": i })).await
}

#[tokio::test]
async fn without_cashfree_a_refund_is_refused_and_nothing_moves() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let order = app.fund(f, "1000.00").await;
    let p = payment(&app, &order).await;
    let body = refund(&app, &p["id"], "100.00", None).await;
    assert_eq!(code(&body), "INVALID_STATE", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("CASHFREE_CLIENT_ID") && message.contains("nothing was refunded"), "{message}");
    assert_eq!(app.balance(f).await, "900.00");
    assert_eq!(payment(&app, &order).await["refundingAmount"], "0.00");
}

#[tokio::test]
async fn a_refund_started_here_waits_in_refunds_payable_until_cashfree_pays_it() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    let order = format!("ord_{}", f.simple());
    let p = payment(&app, &order).await;
    let started = refund(&app, &p["id"], "300.00", None).await;
    let r = &started["data"]["createRefund"];
    assert_eq!((r["status"].as_str(), r["feeShare"].as_str()), (Some("PENDING"), Some("30.00")), "{started}");
    let refund_id = r["refundId"].as_str().unwrap().to_owned();
    assert!(refund_id.starts_with("pdr_") && r["cfRefundId"].is_string(), "{r}");
    let at_cashfree = double.refund(&refund_id).expect("Cashfree was asked");
    assert_eq!(at_cashfree["refund_note"], "work not delivered");
    assert_eq!(app.balance(f).await, "630.00", "the freelancer's 270.00 share left at once");
    let b = app.accounts().await;
    assert_eq!((b["REFUNDS_PAYABLE"].as_str(), b["FEE_REVENUE"].as_str()), ("300.00", "70.00"), "{b:?}");
    assert_eq!(payment(&app, &order).await["refundingAmount"], "300.00");

    assert_eq!(double.complete_refund(&refund_id, "SUCCESS").await, Ok(200));
    let now = payment(&app, &order).await;
    assert_eq!((now["refundedAmount"].as_str(), now["refundingAmount"].as_str()), (Some("300.00"), Some("0.00")));
    assert_eq!(now["refunds"], json!([{ "refundId": refund_id, "status": "SUCCEEDED" }]));
    let b = app.accounts().await;
    assert_eq!((b["REFUNDS_PAYABLE"].as_str(), b["GATEWAY_CLEARING"].as_str()), ("0.00", "700.00"));
    // The same webhook again is a duplicate and moves nothing.
    assert_eq!(double.complete_refund(&refund_id, "SUCCESS").await, Ok(200));
    assert_eq!(payment(&app, &order).await["refundedAmount"], "300.00");

    let rest = refund(&app, &p["id"], "700.00", None).await;
    let rest_id = rest["data"]["createRefund"]["refundId"].as_str().unwrap_or_else(|| panic!("{rest}")).to_owned();
    assert_eq!(double.complete_refund(&rest_id, "SUCCESS").await, Ok(200));
    let now = payment(&app, &order).await;
    assert_eq!((now["status"].as_str(), now["refundedAmount"].as_str()), (Some("REFUNDED"), Some("1000.00")));
    assert_eq!(app.balance(f).await, "0.00");
    let audit = "{ auditLog(filter: { action: \"refund.requested\" }) { nodes { reason actorId } } }";
    let d = app.gql_ok(&app.admin(), audit, json!({})).await;
    assert_eq!(d["auditLog"]["nodes"][0]["reason"], "work not delivered");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn a_refund_cashfree_cancels_or_refuses_gives_the_money_back() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    let order = format!("ord_{}", f.simple());
    let p = payment(&app, &order).await;
    let started = refund(&app, &p["id"], "200.00", None).await;
    let refund_id = started["data"]["createRefund"]["refundId"].as_str().unwrap().to_owned();
    assert_eq!(app.balance(f).await, "720.00");
    assert_eq!(double.complete_refund(&refund_id, "CANCELLED").await, Ok(200));
    assert_eq!(app.balance(f).await, "900.00", "cancelled: the money is back");
    let now = payment(&app, &order).await;
    assert_eq!(now["refunds"][0]["status"], "FAILED");
    assert_eq!((now["refundingAmount"].as_str(), now["refundedAmount"].as_str()), (Some("0.00"), Some("0.00")));

    double.fail_next("/pg/orders/", Fault::Status(400), 1);
    let refused = refund(&app, &p["id"], "100.00", None).await;
    let r = &refused["data"]["createRefund"];
    assert_eq!(r["status"], "FAILED", "{refused}");
    assert!(r["failureReason"].as_str().unwrap().contains("Cashfree refused (400"), "{r}");
    assert_eq!(app.balance(f).await, "900.00", "refused at once: nothing left the wallet for good");
    assert_eq!(app.accounts().await["REFUNDS_PAYABLE"], "0.00");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn concurrent_refunds_never_take_more_than_the_payment_has_left() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    let order = format!("ord_{}", f.simple());
    let p = payment(&app, &order).await;
    let tries = (0..10).map(|_| refund(&app, &p["id"], "150.00", None));
    let answers = futures_util::future::join_all(tries).await;
    let started = answers.iter().filter(|a| a["data"]["createRefund"]["status"] == "PENDING").count();
    assert_eq!(started, 6, "six of 150.00 fit in 1000.00: {answers:?}");
    for refused in answers.iter().filter(|a| a.get("errors").is_some()) {
        assert_eq!(code(refused), "INVALID_STATE", "{refused}");
        let message = refused["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("at most 100.00 INR") && message.contains("refunds under way 900.00"), "{message}");
    }
    assert_eq!(payment(&app, &order).await["refundingAmount"], "900.00");
    // A dispute now can hold only what the refunds left.
    let (answer, _) = double.open_dispute(&order, "1000.00").await.unwrap();
    assert_eq!(answer, 200);
    assert_eq!(payment(&app, &order).await["disputedAmount"], "100.00");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn a_repeat_with_the_same_key_is_the_same_refund_and_only_admins_refund() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    let order = format!("ord_{}", f.simple());
    let p = payment(&app, &order).await;
    let admin = app.admin();
    let first = refund_as(&app, &admin, &p["id"], "100.00", Some("refund-order-1")).await;
    let again = refund_as(&app, &admin, &p["id"], "100.00", Some("refund-order-1")).await;
    assert_eq!(first["data"]["createRefund"]["id"], again["data"]["createRefund"]["id"], "{again}");
    assert_eq!(payment(&app, &order).await["refunds"].as_array().unwrap().len(), 1);
    let other = refund_as(&app, &admin, &p["id"], "200.00", Some("refund-order-1")).await;
    assert_eq!(code(&other), "INVALID_STATE", "the key of another refund: {other}");

    let i = json!({ "paymentId": p["id"], "amount": "10.00", "reason": "mine" });
    for role in [Role::Freelancer, Role::Ops] {
        let body = app.gql(Some(&app.token(role, f)), CREATE, json!({ "i": i })).await;
        assert_eq!(code(&body), "FORBIDDEN", "{role:?}: {body}");
    }
    for (amount, reason, says) in [("0", "r", "greater than zero"), ("10.00", " ", "reason"), ("1.001", "r", "decimal")]
    {
        let i = json!({ "paymentId": p["id"], "amount": amount, "reason": reason });
        let body = app.gql(Some(&app.admin()), CREATE, json!({ "i": i })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{amount} {reason:?}: {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(says), "{body}");
    }
    let body = refund(&app, &json!(Uuid::new_v4()), "10.00", None).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    assert_eq!(app.balance(f).await, "810.00", "only the one refund moved money");
}

#[tokio::test]
async fn a_refund_whose_ask_got_no_answer_is_looked_up_and_undone_when_cashfree_has_none() {
    let (app, double) = spawn_with_double(|c| {
        c.transfer_poll_secs = 1;
        c.cashfree_breaker_secs = 1; // the three 503s open the breaker; the look-up waits it out
    })
    .await;
    let f = funded_freelancer(&app, &double).await;
    let order = format!("ord_{}", f.simple());
    let p = payment(&app, &order).await;
    // Every try of the ask answers 503 without doing anything: paydesk cannot tell whether Cashfree made it.
    double.fail_next("/pg/orders/", Fault::Status(503), 3);
    let started = refund(&app, &p["id"], "100.00", None).await;
    assert_eq!(started["data"]["createRefund"]["status"], "PENDING", "{started}");
    assert_eq!(app.balance(f).await, "810.00");
    // The sweep asks Cashfree, which has no such refund: the money goes back.
    for _ in 0..100 {
        if payment(&app, &order).await["refunds"][0]["status"] == "FAILED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let now = payment(&app, &order).await;
    assert_eq!(now["refunds"][0]["status"], "FAILED", "{now}");
    assert_eq!((now["refundingAmount"].as_str(), app.balance(f).await.as_str()), (Some("0.00"), "900.00"));
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}
