//! Live events are rows first: no payload is too long to publish, and an instance whose LISTEN connection drops
//! catches up from the table instead of losing what was sent meanwhile.

use crate::helpers::*;
use entity::status::Role;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

const CHANGED: &str = "subscription { payoutStatusChanged { id status note decisionNote } }";
const REQUESTED: &str = "subscription { payoutRequested { id } }";

#[tokio::test]
async fn notes_as_long_as_allowed_are_published_on_every_database() {
    let app = TestApp::spawn().await;
    let mut sub = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    sub.subscribe("1", CHANGED, json!({})).await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    // 1,000 four-byte characters each: two notes alone are 8,000 bytes, NOTIFY's whole limit.
    let long = "💸".repeat(1000);
    let t = app.token(Role::Freelancer, f);
    let req = app
        .gql_ok(
            &t,
            "mutation($i: RequestPayoutInput!) { requestPayout(input: $i) { id } }",
            json!({ "i": { "amount": "10.00", "note": long } }),
        )
        .await;
    let id = req["requestPayout"]["id"].as_str().unwrap().to_owned();
    let approved = app
        .gql(
            Some(&app.admin()),
            "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { status } }",
            json!({ "i": { "payoutRequestId": id, "note": long } }),
        )
        .await;
    assert_eq!(approved["data"]["approvePayout"]["status"], "PAID", "{approved}");
    let (_, event) = sub.event(Duration::from_secs(10)).await.expect("the decision is published");
    let p = &event["data"]["payoutStatusChanged"];
    assert_eq!(p["id"], id);
    assert_eq!(p["decisionNote"], long);
    assert_eq!(p["note"], long);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run with TEST_DATABASE_URL=postgres://… and --include-ignored"]
async fn a_listener_that_reconnects_catches_up_and_misses_nothing() {
    assert!(on_postgres(), "set TEST_DATABASE_URL to a PostgreSQL server");
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let mut sub = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    sub.subscribe("1", REQUESTED, json!({})).await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let admin = sea_orm::Database::connect(std::env::var("TEST_DATABASE_URL").unwrap()).await.unwrap();
    let db = app.db_url.rsplit('/').next().unwrap().to_owned();
    let kill = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}' AND query LIKE 'LISTEN%'"
    );
    let mut sent = Vec::new();
    for i in 0..43 {
        if i == 10 || i == 25 {
            // The listener reconnects in its own time; cut it once it is back.
            let mut killed = 0;
            for _ in 0..100 {
                let stmt = sea_orm::Statement::from_string(admin.get_database_backend(), kill.clone());
                killed = admin.query_all_raw(stmt).await.unwrap().len();
                if killed > 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(killed, 1, "the server's LISTEN connection was cut");
        }
        let body = app.request_payout(f, "1.00").await;
        sent.push(body["data"]["requestPayout"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned());
    }
    let mut heard = Vec::new();
    while heard.len() < sent.len() {
        let Some((_, event)) = sub.event(Duration::from_secs(15)).await else { break };
        assert!(event.get("errors").is_none(), "nothing is missed, so nothing is reported missed: {event}");
        heard.push(event["data"]["payoutRequested"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(heard, sent, "every request, once, in order");
}
