//! Subscriptions through a real WebSocket client: who hears what, only committed events, across instances.

use crate::helpers::*;
use entity::status::Role;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

const REQUESTED: &str = "subscription { payoutRequested { id amount status freelancerId } }";
const CHANGED: &str =
    "subscription($id: UUID) { payoutStatusChanged(payoutRequestId: $id) { id status freelancerId } }";
const ALERTS: &str =
    "subscription($min: Severity) { alerts(minSeverity: $min) { kind severity message webhookId payoutRequestId } }";
const APPROVE: &str = "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { id } }";
const WAIT: Duration = Duration::from_secs(10);

fn payout_id(body: &serde_json::Value) -> String {
    body["data"]["requestPayout"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

#[tokio::test]
async fn ops_hear_of_each_new_payout_request() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let mut sub = Subscriber::connect(&app, &app.token(Role::Ops, Uuid::new_v4()), "graphql-transport-ws").await;
    sub.subscribe("1", REQUESTED, json!({})).await;
    let id = payout_id(&app.request_payout(f, "50.00").await);
    let (op, payload) = sub.event(WAIT).await.expect("the request is delivered");
    assert_eq!(op, "1");
    let p = &payload["data"]["payoutRequested"];
    assert_eq!(p["id"], id);
    assert_eq!(p["amount"], "50.00");
    assert_eq!(p["status"], "PENDING");
    assert_eq!(p["freelancerId"], f.to_string());
}

#[tokio::test]
async fn alerts_arrive_over_the_legacy_protocol_filtered_by_severity() {
    let app = TestApp::spawn().await;
    let mut sub = Subscriber::connect(&app, &app.admin(), "graphql-ws").await;
    sub.subscribe("a", ALERTS, json!({ "min": "CRITICAL" })).await;
    // A refused signature is a WARNING: filtered out. Money for no known order is CRITICAL: delivered.
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let body = payment_body("PAYMENT_SUCCESS_WEBHOOK", "order_ghost", "77", "SUCCESS", "10.00");
    app.deliver(&body, &[("x-webhook-timestamp", ts.clone()), ("x-webhook-signature", sign("bad", &ts, &body))]).await;
    let (status, reply) = app.deliver_signed(&body).await;
    assert_eq!(status, 200);
    let (_, payload) = sub.event(WAIT).await.expect("an alert");
    let a = &payload["data"]["alerts"];
    assert_eq!(a["kind"], "webhook_unmatched", "{payload}");
    assert_eq!(a["severity"], "CRITICAL");
    assert_eq!(a["webhookId"], reply["webhookId"]);
    assert!(a["message"].as_str().unwrap().contains("order_ghost"));
}

#[tokio::test]
async fn a_freelancer_hears_only_of_their_own_payouts() {
    let app = TestApp::spawn().await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    app.fund(a, "1000.00").await;
    app.fund(b, "1000.00").await;
    let pa = payout_id(&app.request_payout(a, "10.00").await);
    let pb = payout_id(&app.request_payout(b, "10.00").await);
    let mut sub = Subscriber::connect(&app, &app.token(Role::Freelancer, a), "graphql-transport-ws").await;
    sub.subscribe("1", CHANGED, json!({})).await;
    for id in [&pb, &pa] {
        app.gql_ok(&app.admin(), APPROVE, json!({ "i": { "payoutRequestId": id } })).await;
    }
    let (_, payload) = sub.event(WAIT).await.expect("own payout's change");
    assert_eq!(payload["data"]["payoutStatusChanged"]["id"], pa, "B's payout must not reach A: {payload}");
    assert_eq!(payload["data"]["payoutStatusChanged"]["status"], "PAID");

    // Freelancers may not watch everyone's requests or the alerts.
    for (id, q) in [("2", REQUESTED), ("3", ALERTS)] {
        sub.subscribe(id, q, json!({})).await;
        let (op, payload) = sub.event(WAIT).await.expect("an error");
        assert_eq!(op, id);
        assert_eq!(payload["errors"][0]["extensions"]["code"], "FORBIDDEN", "{payload}");
    }
}

#[tokio::test]
async fn a_refused_approval_raises_an_alert_and_publishes_no_status_change() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let order = app.fund(f, "1000.00").await; // 900.00
    let big = payout_id(&app.request_payout(f, "700.00").await);
    let small = payout_id(&app.request_payout(f, "50.00").await);
    let refund = format!(
        r#"{{"data":{{"refund":{{"cf_refund_id":"rf_9","order_id":"{order}","refund_amount":500.00,"refund_currency":"INR","refund_status":"SUCCESS"}}}},"type":"REFUND_STATUS_WEBHOOK"}}"#
    );
    assert_eq!(app.deliver_signed(&refund).await.0, 200); // 450.00 left: 700.00 can no longer be paid

    let mut sub = Subscriber::connect(&app, &app.token(Role::Ops, Uuid::new_v4()), "graphql-transport-ws").await;
    sub.subscribe("changes", CHANGED, json!({})).await;
    sub.subscribe("alerts", ALERTS, json!({})).await;
    let refused = app.gql(Some(&app.admin()), APPROVE, json!({ "i": { "payoutRequestId": big } })).await;
    assert_eq!(code(&refused), "RESERVE_VIOLATION");
    app.gql_ok(&app.admin(), APPROVE, json!({ "i": { "payoutRequestId": small } })).await;

    let mut seen = Vec::new();
    while seen.len() < 2 {
        seen.push(sub.event(WAIT).await.expect("two events"));
    }
    let alert = seen.iter().find(|(op, _)| op == "alerts").expect("an alert");
    assert_eq!(alert.1["data"]["alerts"]["kind"], "reserve_violation");
    assert_eq!(alert.1["data"]["alerts"]["payoutRequestId"], big);
    let change = seen.iter().find(|(op, _)| op == "changes").expect("a status change");
    assert_eq!(change.1["data"]["payoutStatusChanged"]["id"], small, "the refused payout changed nothing");
    assert!(sub.event(Duration::from_millis(500)).await.is_none(), "nothing else was published");
}

#[tokio::test]
async fn a_subscriber_that_never_reads_or_walks_away_does_not_hold_up_mutations() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "100000.00").await;
    let ops = app.token(Role::Ops, Uuid::new_v4());
    let mut idle = Subscriber::connect(&app, &ops, "graphql-transport-ws").await;
    idle.subscribe("1", REQUESTED, json!({})).await;
    let mut gone = Subscriber::connect(&app, &ops, "graphql-transport-ws").await;
    gone.subscribe("1", REQUESTED, json!({})).await;
    drop(gone);
    for _ in 0..40 {
        let body = tokio::time::timeout(WAIT, app.request_payout(f, "1.00"))
            .await
            .expect("a mutation never waits on subscribers");
        assert!(body.get("errors").is_none(), "{body}");
    }
    let d = app.gql_ok(&app.admin(), "{ payoutRequests { totalCount } }", json!({})).await;
    assert_eq!(d["payoutRequests"]["totalCount"], 40);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run with TEST_DATABASE_URL=postgres://… and --include-ignored"]
async fn two_servers_on_one_database_hear_each_others_events() {
    assert!(on_postgres(), "set TEST_DATABASE_URL to a PostgreSQL server");
    let one = TestApp::spawn().await;
    let two = one.spawn_second().await;
    let f = Uuid::new_v4();
    one.fund(f, "1000.00").await;
    let mut sub = Subscriber::connect(&one, &one.token(Role::Admin, Uuid::new_v4()), "graphql-transport-ws").await;
    sub.subscribe("1", REQUESTED, json!({})).await;
    let id = payout_id(&two.request_payout(f, "25.00").await);
    let (_, payload) = sub.event(WAIT).await.expect("server one hears of a request made on server two");
    assert_eq!(payload["data"]["payoutRequested"]["id"], id);
    assert_eq!(payload["data"]["payoutRequested"]["amount"], "25.00");
}

#[tokio::test]
async fn an_operation_refused_on_a_socket_says_why_with_a_code_like_over_http() {
    let app = TestApp::spawn().await;
    let ops = app.token(Role::Ops, Uuid::new_v4());
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let mut sub = Subscriber::connect(&app, &ops, protocol).await;
        sub.subscribe("bad", "subscription { payoutRequested { nope } }", json!({})).await;
        let (id, payload) = sub.event(WAIT).await.expect("an answer to a document that does not validate");
        assert_eq!(id, "bad", "{protocol}: {payload}");
        assert_eq!(payload["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{protocol}: {payload}");
        let huge = format!("subscription {{ payoutRequested {{ id {} }} }}", "status ".repeat(3_000));
        sub.subscribe("big", &huge, json!({})).await;
        let (_, payload) = sub.event(WAIT).await.expect("an answer to a document over the limits");
        let message = payload["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("at most 16384 are accepted"), "{protocol}: {payload}");
        assert_eq!(payload["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{protocol}: {payload}");
    }
}
