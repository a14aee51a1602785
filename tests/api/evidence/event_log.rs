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

/// A delivery with a wrong signature, from an address of its own (the server trusts one proxy hop): recorded,
/// refused, and a WARNING `signature_rejected` alert (one a burst from an address).
async fn refused_delivery(app: &TestApp, n: usize) {
    let ts = chrono::Utc::now().timestamp().to_string();
    let body = format!(r#"{{"attempt": {n}}}"#);
    let from = format!("10.9.{}.{}", n / 256, n % 256);
    let headers = [("x-webhook-timestamp", ts), ("x-webhook-signature", "bad".into()), ("x-forwarded-for", from)];
    let (status, _) = app.deliver(&body, &headers).await;
    assert_eq!(status, 401);
}

/// A server that takes the client's address from one trusted proxy hop.
async fn spawn_with(tweak: impl FnOnce(&mut paydesk::config::Config)) -> TestApp {
    TestApp::spawn_with(|c| {
        c.trusted_proxy_hops = 1;
        tweak(c);
    })
    .await
}

fn messages(edges: &Value) -> Vec<String> {
    edges.as_array().unwrap().iter().map(|e| e["node"]["message"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn alerts_are_listed_newest_first_and_the_log_reads_forward_by_cursor() {
    let app = spawn_with(|_| {}).await;
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

/// The alerts and events lists resolve their rows' plain fields in place (`types::Inline`): every field, asked in
/// any order, aliased, twice or beside nested objects, comes back as async-graphql's own path (a fragment) gives it.
#[tokio::test]
async fn alert_and_event_rows_answer_every_field_as_a_fragment_does() {
    let app = spawn_with(|_| {}).await;
    refused_delivery(&app, 0).await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    app.request_payout(f, "10.00").await;
    let alert = "webhookId message __typename cursor id severity k: kind kind paymentId payoutRequestId createdAt";
    let event = format!(
        "payoutRequest {{ id status amount }} cursor kind alert {{ {alert} }} createdAt __typename \
         payoutRequest {{ wallet {{ id }} }}"
    );
    for (list, fields, ty) in [("alerts", alert.to_owned(), "Alert"), ("events", event, "EventRecord")] {
        let inline = format!("{{ {list}(first: 10) {{ nodes {{ {fields} }} }} }}");
        let inline = app.gql_ok(&app.admin(), &inline, json!({})).await;
        let generic = format!("{{ {list}(first: 10) {{ nodes {{ ... on {ty} {{ {fields} }} }} }} }}");
        let generic = app.gql_ok(&app.admin(), &generic, json!({})).await;
        assert_eq!(inline, generic, "{list}: the same content as async-graphql's own resolution");
        let nodes = inline[list]["nodes"].as_array().unwrap();
        assert!(!nodes.is_empty(), "{inline}");
        assert_eq!(nodes[0]["__typename"], ty);
        if list == "alerts" {
            assert_eq!(
                (&nodes[0]["k"], &nodes[0]["kind"]),
                (&json!("signature_rejected"), &json!("signature_rejected"))
            );
            assert!(nodes[0]["webhookId"].is_string(), "{inline}");
        } else {
            let requested = nodes.iter().find(|n| n["kind"] == "PAYOUT_REQUESTED").expect("the payout's event");
            assert_eq!(requested["payoutRequest"]["amount"], "10.00", "{requested}");
            assert!(requested["payoutRequest"]["wallet"]["id"].is_string(), "both selections merged: {requested}");
        }
    }
}

#[tokio::test]
async fn a_bot_that_reconnects_with_its_last_cursor_gets_what_it_missed_then_live_alerts() {
    let app = spawn_with(|_| {}).await;
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
    let app = spawn_with(|c| c.event_buffer = 2).await;
    let mut bot = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    bot.subscribe("a", LIVE_ALERTS, json!({})).await;
    // Twenty alerts committed at once: far more than the 2-event buffer holds.
    use entity::status::Severity;
    use paydesk::events::{Alert, AlertKind};
    use sea_orm::TransactionTrait;
    let txn = app.state.db.begin().await.unwrap();
    for n in 0..20 {
        let alert = Alert::new(Severity::Critical, AlertKind::WebhookFailed, format!("alert {n}"));
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
    let app = spawn_with(|_| {}).await;
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

/// Retention deletes events older than `PAYDESK_EVENT_RETENTION_DAYS` (30 by default) as a prefix of the log, on
/// every instance (here: a second one, sweeping as it starts). A bot that resumes from a cursor before what was
/// kept is told it missed events, on the subscription and on the list, instead of a replay with a silent gap; one
/// that resumes from the last deleted cursor, or later, misses nothing and replays as before.
#[tokio::test]
async fn a_cursor_from_before_what_retention_kept_is_refused_not_replayed_with_a_gap() {
    let app = spawn_with(|_| {}).await;
    let admin = app.admin();
    for n in 0..4 {
        refused_delivery(&app, n).await;
    }
    let log = app.gql_ok(&admin, EVENTS, json!({ "n": 10 })).await;
    let cursors: Vec<String> =
        log["events"]["edges"].as_array().unwrap().iter().map(|e| e["cursor"].as_str().unwrap().to_owned()).collect();
    assert_eq!(cursors.len(), 4, "{log}");
    // The first three are 40 days old.
    age_events_through(&app, &cursors[2]).await;

    let _second = app.spawn_second().await;
    let mut left = Value::Null;
    for _ in 0..100 {
        left = app.gql_ok(&admin, EVENTS, json!({ "n": 10 })).await;
        if left["events"]["edges"].as_array().unwrap().len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left["events"]["edges"][0]["cursor"], cursors[3], "only the recent event is kept: {left}");

    let listed = app.gql(Some(&admin), EVENTS, json!({ "a": cursors[0], "n": 10 })).await;
    assert_eq!(code(&listed), "EVENTS_MISSED", "{listed}");
    assert!(listed["errors"][0]["message"].as_str().unwrap().contains("PAYDESK_EVENT_RETENTION_DAYS"), "{listed}");
    let mut late = Subscriber::connect(&app, &admin, "graphql-transport-ws").await;
    late.subscribe("a", LIVE_ALERTS, json!({ "a": cursors[1] })).await;
    let (_, refused) = late.event(Duration::from_secs(5)).await.expect("an answer");
    assert_eq!(code(&refused), "EVENTS_MISSED", "{refused}");

    let mut bot = Subscriber::connect(&app, &admin, "graphql-transport-ws").await;
    bot.subscribe("a", LIVE_ALERTS, json!({ "a": cursors[2] })).await;
    let (_, replayed) = bot.event(Duration::from_secs(10)).await.expect("the kept event, replayed");
    assert_eq!(replayed["data"]["alerts"]["cursor"], cursors[3], "{replayed}");
    let listed = app.gql_ok(&admin, EVENTS, json!({ "a": cursors[2], "n": 10 })).await;
    assert_eq!(listed["events"]["edges"].as_array().unwrap().len(), 1, "{listed}");

    // A later sweep moves the mark on: with a newer event kept, the fourth goes too, and its predecessor's cursor
    // is refused from then on.
    refused_delivery(&app, 4).await;
    age_events_through(&app, &cursors[3]).await;
    let _third = app.spawn_second().await;
    let mut listed = Value::Null;
    for _ in 0..100 {
        listed = app.gql(Some(&admin), EVENTS, json!({ "a": cursors[2], "n": 10 })).await;
        if code(&listed) == "EVENTS_MISSED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(code(&listed), "EVENTS_MISSED", "{listed}");
    let kept = app.gql_ok(&admin, EVENTS, json!({ "a": cursors[3], "n": 10 })).await;
    assert_eq!(kept["events"]["edges"].as_array().unwrap().len(), 1, "the newest, kept: {kept}");
}

/// Dates the events up to `cursor` 40 days back: past the default 30 days' retention.
async fn age_events_through(app: &TestApp, cursor: &str) {
    use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
    let long_ago = chrono::Utc::now() - chrono::Duration::days(40);
    entity::event::Entity::update_many()
        .col_expr(entity::event::Column::CreatedAt, Expr::value(long_ago))
        .filter(entity::event::Column::Seq.lte(cursor.parse::<i64>().unwrap()))
        .exec(&app.state.db)
        .await
        .unwrap();
}
