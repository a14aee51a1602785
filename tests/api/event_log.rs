//! Alerts and events are a log: stored with a cursor, listed by query, and replayed to a subscriber that comes
//! back with the last cursor it saw; a slow alerts subscriber is caught up from the table instead of losing any.
//! Refused approvals are audited.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const ALERTS: &str = "query($b: String, $n: Int) { alerts(first: $n, before: $b) { \
    edges { cursor node { cursor kind severity message } } pageInfo { hasNextPage } } }";
const EVENTS: &str = "query($a: String, $n: Int, $k: [EventKind!]) { events(after: $a, first: $n, kinds: $k) { \
    edges { cursor node { cursor kind alert { message } payoutRequest { id status } } } \
    pageInfo { hasNextPage endCursor } } }";
const LIVE_ALERTS: &str = "subscription($a: String) { alerts(after: $a) { cursor kind message } }";

/// A delivery with a wrong signature: recorded, refused, and a WARNING `signature_rejected` alert.
async fn refused_delivery(app: &TestApp, n: usize) {
    let ts = chrono::Utc::now().timestamp().to_string();
    let body = format!(r#"{{"attempt": {n}}}"#);
    let (status, _) = app.deliver(&body, &[("x-webhook-timestamp", ts), ("x-webhook-signature", "bad".into())]).await;
    assert_eq!(status, 401);
}

fn messages(edges: &Value) -> Vec<String> {
    edges.as_array().unwrap().iter().map(|e| e["node"]["message"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn alerts_are_listed_newest_first_and_the_log_reads_forward_by_cursor() {
    let app = TestApp::spawn().await;
    for n in 0..3 {
        refused_delivery(&app, n).await;
    }
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let payout = app.request_payout(f, "10.00").await["data"]["requestPayout"]["id"].clone();

    let page = app.gql_ok(&app.admin(), ALERTS, json!({ "n": 2 })).await;
    let edges = &page["alerts"]["edges"];
    assert_eq!(edges.as_array().unwrap().len(), 2);
    assert_eq!(edges[0]["node"]["kind"], "signature_rejected");
    assert_eq!(edges[0]["node"]["severity"], "WARNING");
    assert_eq!(edges[0]["cursor"], edges[0]["node"]["cursor"]);
    assert_eq!(page["alerts"]["pageInfo"]["hasNextPage"], true);
    let older = app.gql_ok(&app.admin(), ALERTS, json!({ "n": 2, "b": edges[1]["cursor"] })).await;
    assert_eq!(older["alerts"]["edges"].as_array().unwrap().len(), 1, "three alerts in all");
    assert_eq!(older["alerts"]["pageInfo"]["hasNextPage"], false);

    // The whole log, forward, two at a time: three alerts, then the payout request, each once, in order.
    let (mut kinds, mut after) = (Vec::new(), Value::Null);
    loop {
        let page = app.gql_ok(&app.admin(), EVENTS, json!({ "a": after, "n": 2 })).await["events"].clone();
        for e in page["edges"].as_array().unwrap() {
            kinds.push(e["node"]["kind"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(kinds, ["ALERT", "ALERT", "ALERT", "PAYOUT_REQUESTED"]);
    let only = app.gql_ok(&app.admin(), EVENTS, json!({ "k": ["PAYOUT_REQUESTED"] })).await;
    assert_eq!(only["events"]["edges"][0]["node"]["payoutRequest"]["id"], payout);
    assert_eq!(only["events"]["edges"].as_array().unwrap().len(), 1);

    let bad = app.gql(Some(&app.admin()), EVENTS, json!({ "a": "yesterday" })).await;
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
    let freelancer = app.token(entity::status::Role::Freelancer, f);
    let denied = app.gql(Some(&freelancer), ALERTS, json!({})).await;
    assert_eq!(code(&denied), "FORBIDDEN", "{denied}");
}

#[tokio::test]
async fn a_bot_that_reconnects_with_its_last_cursor_gets_what_it_missed_then_live_alerts() {
    let app = TestApp::spawn().await;
    let mut bot = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    bot.subscribe("a", LIVE_ALERTS, json!({})).await;
    refused_delivery(&app, 0).await;
    let (_, first) = bot.event(Duration::from_secs(10)).await.expect("the first alert, live");
    let cursor = first["data"]["alerts"]["cursor"].as_str().unwrap().to_owned();
    drop(bot); // a network blip

    for n in 1..4 {
        refused_delivery(&app, n).await;
    }
    let mut bot = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    bot.subscribe("a", LIVE_ALERTS, json!({ "a": cursor })).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (_, e) = bot.event(Duration::from_secs(10)).await.expect("a missed alert, replayed");
        seen.push(e["data"]["alerts"]["message"].as_str().unwrap_or_else(|| panic!("{e}")).to_owned());
    }
    let stored = app.gql_ok(&app.admin(), ALERTS, json!({ "n": 3 })).await;
    let mut expected = messages(&stored["alerts"]["edges"]);
    expected.reverse();
    assert_eq!(seen, expected, "the three missed alerts, oldest first");
    refused_delivery(&app, 4).await;
    let (_, live) = bot.event(Duration::from_secs(10)).await.expect("then live ones");
    assert!(live["data"]["alerts"]["cursor"].as_str().unwrap().parse::<i64>().unwrap() > 0, "{live}");
    assert!(bot.event(Duration::from_millis(500)).await.is_none(), "nothing twice");

    let mut bad = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    bad.subscribe("b", LIVE_ALERTS, json!({ "a": "-1" })).await;
    let (_, refused) = bad.event(Duration::from_secs(5)).await.unwrap();
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
}

#[tokio::test]
async fn a_slow_alerts_subscriber_is_caught_up_from_the_table_and_misses_nothing() {
    let app = TestApp::spawn_with(|c| c.event_buffer = 2).await;
    let mut bot = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    bot.subscribe("a", LIVE_ALERTS, json!({})).await;
    // Twenty alerts committed at once: far more than the 2-event buffer holds.
    use sea_orm::TransactionTrait;
    let txn = app.state.db.begin().await.unwrap();
    for n in 0..20 {
        let alert = paydesk::events::Alert::new(entity::status::Severity::Critical, "test", format!("alert {n}"));
        app.state.events.stage(&txn, &paydesk::events::Event::Alert(alert)).await.unwrap();
    }
    txn.commit().await.unwrap();
    app.state.events.committed();
    let mut seen = Vec::new();
    while seen.len() < 20 {
        let (_, e) = bot.event(Duration::from_secs(10)).await.expect("every alert arrives");
        assert!(e.get("errors").is_none(), "no EVENTS_MISSED on alerts: {e}");
        seen.push(e["data"]["alerts"]["message"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen, (0..20).map(|n| format!("alert {n}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn refused_approvals_land_in_the_audit_log() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let id = app.request_payout(f, "100.00").await["data"]["requestPayout"]["id"].clone();
    let approve = "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { status } }";
    app.gql_ok(&app.admin(), approve, json!({ "i": { "payoutRequestId": id } })).await;
    let again = app.gql(Some(&app.admin()), approve, json!({ "i": { "payoutRequestId": id, "note": "twice" } })).await;
    assert_eq!(code(&again), "INVALID_STATE", "{again}");
    let q = "query($id: UUID) { auditLog(filter: { action: \"payout.approval_refused\", entityId: $id }) { \
             nodes { actorRole reason after } } }";
    let log = app.gql_ok(&app.admin(), q, json!({ "id": id })).await;
    let entry = &log["auditLog"]["nodes"][0];
    assert!(entry["reason"].as_str().unwrap().contains("already"), "{log}");
    assert_eq!(entry["after"]["code"], "INVALID_STATE", "{log}");
    assert_eq!(entry["after"]["note"], "twice", "{log}");
}
