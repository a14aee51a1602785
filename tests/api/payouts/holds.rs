//! Emergency controls: a freeze on all payouts and a hold on one freelancer's, honoured by requests and
//! approvals (GraphQL and REST), needing a reason, audited and alerted, and lifted the same way.

use crate::helpers::*;
use entity::status::Role;
use serde_json::{json, Value};
use uuid::Uuid;

const HOLD: &str = "mutation($i: PayoutHoldInput!) { holdPayouts(input: $i) { freelancerId reason placedBy } }";
const RELEASE: &str = "mutation($i: PayoutHoldInput!) { releasePayouts(input: $i) { freelancerId reason } }";
const APPROVE: &str = "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { status } }";

async fn approve(app: &TestApp, id: &Value) -> Value {
    app.gql(Some(&app.admin()), APPROVE, json!({ "i": { "payoutRequestId": id } })).await
}

async fn newest_alert(app: &TestApp) -> Value {
    let q = "{ alerts(first: 1) { nodes { kind severity message } } }";
    app.gql_ok(&app.admin(), q, json!({})).await["alerts"]["nodes"][0].clone()
}

#[tokio::test]
async fn a_freeze_stops_every_request_and_approval_until_it_is_released() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let pending = app.request_payout(f, "100.00").await["data"]["requestPayout"]["id"].clone();

    let held = app.gql_ok(&app.admin(), HOLD, json!({ "i": { "reason": "bank incident INC-42" } })).await;
    assert_eq!(held["holdPayouts"]["freelancerId"], Value::Null);
    let alert = newest_alert(&app).await;
    assert_eq!((alert["kind"].as_str(), alert["severity"].as_str()), (Some("payouts_frozen"), Some("CRITICAL")));
    assert!(alert["message"].as_str().unwrap().contains("bank incident INC-42"), "{alert}");
    let listed = app.gql_ok(&app.admin(), "{ payoutHolds { freelancerId reason } }", json!({})).await;
    assert_eq!(listed["payoutHolds"].as_array().unwrap().len(), 1);

    let refused = approve(&app, &pending).await;
    assert_eq!(code(&refused), "PAYOUTS_ON_HOLD", "{refused}");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("bank incident INC-42"), "{refused}");
    let asked = app.request_payout(f, "50.00").await;
    assert_eq!(code(&asked), "PAYOUTS_ON_HOLD", "{asked}");
    let rest = app
        .http
        .post(app.url("/api/admin/approve-payout"))
        .bearer_auth(app.admin())
        .json(&json!({ "payoutRequestId": pending }))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 423);
    assert_eq!(rest.json::<Value>().await.unwrap()["error"]["code"], "PAYOUTS_ON_HOLD");
    assert_eq!(app.balance(f).await, "900.00", "nothing was paid during the freeze");

    let again = app.gql(Some(&app.admin()), HOLD, json!({ "i": { "reason": "twice" } })).await;
    assert_eq!(code(&again), "INVALID_STATE", "{again}");
    app.gql_ok(&app.admin(), RELEASE, json!({ "i": { "reason": "bank confirmed the fix" } })).await;
    assert_eq!(newest_alert(&app).await["kind"], "payouts_unfrozen");
    assert_eq!(approve(&app, &pending).await["data"]["approvePayout"]["status"], "PAID");
    assert_eq!(app.balance(f).await, "800.00");

    let q = "{ auditLog(filter: { entityType: \"payout_hold\" }) { nodes { action reason } } }";
    let log = app.gql_ok(&app.admin(), q, json!({})).await;
    let actions: Vec<(&str, &str)> = log["auditLog"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["action"].as_str().unwrap(), n["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(actions, [("payouts.released", "bank confirmed the fix"), ("payouts.held", "bank incident INC-42")]);
}

#[tokio::test]
async fn a_hold_on_one_freelancer_leaves_the_others_alone_and_needs_an_admin_with_a_reason() {
    let app = TestApp::spawn().await;
    let (held, free) = (Uuid::new_v4(), Uuid::new_v4());
    app.fund(held, "1000.00").await;
    app.fund(free, "1000.00").await;
    let pending = app.request_payout(held, "100.00").await["data"]["requestPayout"]["id"].clone();

    let ops = app.token(Role::Ops, Uuid::new_v4());
    let denied = app.gql(Some(&ops), HOLD, json!({ "i": { "freelancerId": held, "reason": "x" } })).await;
    assert_eq!(code(&denied), "FORBIDDEN", "{denied}");
    let blank = app.gql(Some(&app.admin()), HOLD, json!({ "i": { "freelancerId": held, "reason": " " } })).await;
    assert_eq!(code(&blank), "BAD_USER_INPUT", "{blank}");
    let i = json!({ "freelancerId": held, "reason": "payout right after a first-time client's payment" });
    app.gql_ok(&app.admin(), HOLD, json!({ "i": i })).await;
    assert_eq!(newest_alert(&app).await["kind"], "wallet_held");

    assert_eq!(code(&approve(&app, &pending).await), "PAYOUTS_ON_HOLD");
    assert_eq!(code(&app.request_payout(held, "10.00").await), "PAYOUTS_ON_HOLD");
    let other = app.request_payout(free, "10.00").await["data"]["requestPayout"]["id"].clone();
    assert_eq!(approve(&app, &other).await["data"]["approvePayout"]["status"], "PAID", "others are not held");

    let not_held = json!({ "i": { "freelancerId": free, "reason": "oops" } });
    assert_eq!(code(&app.gql(Some(&app.admin()), RELEASE, not_held).await), "INVALID_STATE");
    let released =
        app.gql_ok(&app.admin(), RELEASE, json!({ "i": { "freelancerId": held, "reason": "checked" } })).await;
    assert_eq!(released["releasePayouts"]["freelancerId"], held.to_string());
    assert_eq!(approve(&app, &pending).await["data"]["approvePayout"]["status"], "PAID");
    let holds = app.gql_ok(&app.admin(), "{ payoutHolds { reason } }", json!({})).await;
    assert_eq!(holds["payoutHolds"], json!([]));
}
