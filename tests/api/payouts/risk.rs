//! Suspicious activity and four-eyes: payouts trip the configured rules (flags with reasons, an alert each), a
//! payout above the four-eyes limit needs two different admins, and every pending payout says whether you could
//! approve it now and, if not, why.

use crate::helpers::*;
use entity::status::Role;
use serde_json::{json, Value};
use uuid::Uuid;

const FLAGS: &str = "query($id: UUID!) { payoutRequest(id: $id) { riskFlags { rule reason } } }";
const APPROVE: &str =
    "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { status firstApprovedBy approvalsNeeded } }";
const GATE: &str = "query($id: UUID!) { payoutRequest(id: $id) { approvable notApprovableReason approvalsNeeded } }";

async fn flags(app: &TestApp, id: &Value) -> Vec<(String, String)> {
    let d = app.gql_ok(&app.admin(), FLAGS, json!({ "id": id })).await;
    let list = d["payoutRequest"]["riskFlags"].as_array().unwrap().clone();
    list.iter().map(|f| (f["rule"].as_str().unwrap().to_owned(), f["reason"].as_str().unwrap().to_owned())).collect()
}

async fn ask(app: &TestApp, f: Uuid, amount: &str) -> Value {
    let r = app.request_payout(f, amount).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"]["requestPayout"]["id"].clone()
}

/// Pays `freelancer` through an order from `client` and a signed webhook with `status`.
async fn pay(app: &TestApp, freelancer: Uuid, client: &str, gross: &str, status: &str) {
    let order_id = format!("ord_{}", Uuid::new_v4().simple());
    let q = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id } }";
    let vars = json!({ "i": { "freelancerId": freelancer, "amount": gross, "orderId": order_id, "clientId": client } });
    app.gql_ok(&app.admin(), q, vars).await;
    let kind = if status == "SUCCESS" { "PAYMENT_SUCCESS_WEBHOOK" } else { "PAYMENT_FAILED_WEBHOOK" };
    let body = payment_body(kind, &order_id, &format!("cf{}", rand_digits()), status, gross);
    assert_eq!(app.deliver_signed(&body).await.0, 200);
}

#[tokio::test]
async fn too_many_requests_in_an_hour_are_flagged_and_alerted() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "10000.00").await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(ask(&app, f, "100.00").await);
    }
    assert!(flags(&app, &ids[2]).await.is_empty(), "three an hour are the default allowance");
    let fourth = flags(&app, &ids[3]).await;
    assert_eq!(fourth.len(), 1, "{fourth:?}");
    assert_eq!(fourth[0].0, "VELOCITY");
    assert!(fourth[0].1.contains("4 payout requests"), "{fourth:?}");
    let q = "{ alerts(first: 1) { nodes { kind severity payoutRequestId message } } }";
    let alert = app.gql_ok(&app.admin(), q, json!({})).await["alerts"]["nodes"][0].clone();
    assert_eq!((alert["kind"].as_str(), alert["severity"].as_str()), (Some("payout_risk"), Some("WARNING")));
    assert_eq!(alert["payoutRequestId"], ids[3]);
    // A flag informs; it does not refuse.
    let approved = app.gql_ok(&app.admin(), APPROVE, json!({ "i": { "payoutRequestId": ids[3] } })).await;
    assert_eq!(approved["approvePayout"]["status"], "PAID");
}

#[tokio::test]
async fn a_payout_far_above_the_usual_and_money_from_risky_clients_are_flagged() {
    let app = TestApp::spawn_with(|c| c.risk_requests_per_hour = 0).await;
    let f = Uuid::new_v4();
    pay(&app, f, "client-steady", "5000.00", "SUCCESS").await;
    for _ in 0..3 {
        ask(&app, f, "100.00").await;
    }
    let big = ask(&app, f, "600.00").await;
    let rules: Vec<String> = flags(&app, &big).await.into_iter().map(|(r, _)| r).collect();
    assert!(rules.contains(&"ABOVE_MEDIAN".to_owned()), "600 > 5 x the median 100: {rules:?}");
    assert!(rules.contains(&"NEW_CLIENT_FUNDS".to_owned()), "client-steady paid for the first time today: {rules:?}");
    assert!(!rules.contains(&"CLIENT_FAILED_PAYMENTS".to_owned()), "{rules:?}");

    let g = Uuid::new_v4();
    pay(&app, g, "client-flaky", "2000.00", "SUCCESS").await;
    for _ in 0..3 {
        pay(&app, Uuid::new_v4(), "client-flaky", "300.00", "FAILED").await;
    }
    let from_flaky = ask(&app, g, "100.00").await;
    let found = flags(&app, &from_flaky).await;
    let failed = found.iter().find(|(r, _)| r == "CLIENT_FAILED_PAYMENTS").unwrap_or_else(|| panic!("{found:?}"));
    assert!(failed.1.contains("client-flaky (3 failed)"), "{failed:?}");
}

#[tokio::test]
async fn rules_set_to_zero_flag_nothing() {
    let app = TestApp::spawn_with(|c| {
        c.risk_requests_per_hour = 0;
        c.risk_new_client_hours = 0;
        c.risk_median_multiple = "0".parse().unwrap();
        c.risk_failed_payments = 0;
    })
    .await;
    let f = Uuid::new_v4();
    pay(&app, f, "client-new", "10000.00", "SUCCESS").await;
    for amount in ["100.00", "100.00", "100.00", "100.00", "5000.00"] {
        let id = ask(&app, f, amount).await;
        assert!(flags(&app, &id).await.is_empty());
    }
}

#[tokio::test]
async fn a_payout_above_the_four_eyes_limit_needs_two_different_admins() {
    let app = TestApp::spawn_with(|c| c.four_eyes_above = Some("1000".parse().unwrap())).await;
    let f = Uuid::new_v4();
    app.fund(f, "5000.00").await;
    let big = ask(&app, f, "2000.00").await;
    let (a, b) = (app.token(Role::Admin, Uuid::new_v4()), app.token(Role::Admin, Uuid::new_v4()));

    let first = app.gql_ok(&a, APPROVE, json!({ "i": { "payoutRequestId": big } })).await["approvePayout"].clone();
    assert_eq!(first["status"], "PENDING", "one approval moves no money: {first}");
    assert_eq!(first["approvalsNeeded"], 2);
    assert!(first["firstApprovedBy"].is_string());
    assert_eq!(app.balance(f).await, "4500.00");
    let gate = app.gql_ok(&a, GATE, json!({ "id": big })).await["payoutRequest"].clone();
    assert_eq!(gate["approvable"], false);
    assert!(gate["notApprovableReason"].as_str().unwrap().contains("second admin"), "{gate}");
    let again = app.gql(Some(&a), APPROVE, json!({ "i": { "payoutRequestId": big } })).await;
    assert_eq!(code(&again), "INVALID_STATE", "{again}");
    assert_eq!(app.balance(f).await, "4500.00");

    assert_eq!(app.gql_ok(&b, GATE, json!({ "id": big })).await["payoutRequest"]["approvable"], true);
    let second = app.gql_ok(&b, APPROVE, json!({ "i": { "payoutRequestId": big } })).await;
    assert_eq!(second["approvePayout"]["status"], "PAID");
    assert_eq!(app.balance(f).await, "2500.00");
    let q = "query($id: UUID!) { auditLog(filter: { entityId: $id }) { nodes { action } } }";
    let actions = app.gql_ok(&a, q, json!({ "id": big })).await["auditLog"]["nodes"].to_string();
    assert!(actions.contains("payout.first_approval") && actions.contains("payout.approved"), "{actions}");

    let small = ask(&app, f, "500.00").await;
    let one = app.gql_ok(&a, APPROVE, json!({ "i": { "payoutRequestId": small } })).await;
    assert_eq!(
        (one["approvePayout"]["status"].as_str(), one["approvePayout"]["approvalsNeeded"].as_i64()),
        (Some("PAID"), Some(1))
    );
}

#[tokio::test]
async fn pending_payouts_say_whether_they_can_be_approved_and_why_not() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let id = ask(&app, f, "500.00").await;
    let admin = app.admin();
    let gate = |t: String| {
        let app = &app;
        let id = id.clone();
        async move { app.gql_ok(&t, GATE, json!({ "id": id })).await["payoutRequest"].clone() }
    };
    let ok = gate(admin.clone()).await;
    assert_eq!((ok["approvable"].as_bool(), &ok["notApprovableReason"]), (Some(true), &Value::Null), "{ok}");
    let own = gate(app.token(Role::Freelancer, f)).await;
    assert_eq!(own["approvable"], false);

    let adjust = "mutation($i: AdjustLedgerInput!) { adjustLedger(input: $i) { amount } }";
    app.gql_ok(&admin, adjust, json!({ "i": { "freelancerId": f, "amount": "-400.00", "reason": "chargeback" } }))
        .await;
    let short = gate(admin.clone()).await;
    assert_eq!(short["approvable"], false);
    let why = short["notApprovableReason"].as_str().unwrap();
    assert!(why.contains("below the reserve of 100.00"), "{why}");
    let refused = app.gql(Some(&admin), APPROVE, json!({ "i": { "payoutRequestId": id } })).await;
    assert_eq!(code(&refused), "RESERVE_VIOLATION", "what the field said is what approving answers: {refused}");

    let hold = "mutation($i: PayoutHoldInput!) { holdPayouts(input: $i) { reason } }";
    app.gql_ok(&admin, hold, json!({ "i": { "reason": "INC-7 bank outage" } })).await;
    let held = gate(admin.clone()).await;
    assert!(held["notApprovableReason"].as_str().unwrap().contains("INC-7 bank outage"), "{held}");
}
