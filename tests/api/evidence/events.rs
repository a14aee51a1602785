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

/// The payout requests committed so far, in commit order, as the event log holds them.
async fn committed_requests(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let sql = "SELECT payload FROM events WHERE kind = 'payout_requested' ORDER BY seq";
    let rows = db.query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    rows.iter()
        .map(|r| {
            let payload: String = r.try_get("", "payload").unwrap();
            let v: serde_json::Value = serde_json::from_str(&payload).unwrap();
            v["payout"]["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run with TEST_DATABASE_URL=postgres://… and --include-ignored"]
async fn every_payout_committed_around_a_database_outage_reaches_a_live_subscriber() {
    assert!(on_postgres(), "set TEST_DATABASE_URL to a PostgreSQL server");
    let base = url::Url::parse(&std::env::var("TEST_DATABASE_URL").unwrap()).unwrap();
    let upstream = format!("{}:{}", base.host_str().unwrap(), base.port().unwrap_or(5432));
    let proxy = Proxy::start(upstream.clone()).await;
    let through = proxy.addr.to_string();
    let app = TestApp::spawn_with(|c| {
        c.database_url = c.database_url.replacen(&upstream, &through, 1);
        c.request_timeout_ms = 2_000;
        // Each connection the stall catches is lost to the pool for good (giving it back waits on a socket that
        // never answers), and background jobs (the history chainer and checks among them) hold some too: room for
        // them, so the outage tested is the database's, not the pool's.
        c.db_pool_size = 24;
    })
    .await;
    let direct = sea_orm::Database::connect(app.db_url.replacen(&through, &upstream, 1)).await.unwrap();
    let mut sub = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    sub.subscribe("1", REQUESTED, json!({})).await;
    let f = Uuid::new_v4();
    app.fund(f, "100000.00").await;

    // Three freelancers' worth of requests, one after another each, while the database comes and goes.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let app = std::sync::Arc::new(app);
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (app, stop) = (app.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = tokio::time::timeout(Duration::from_secs(5), app.request_payout(f, "1.00")).await;
                }
            })
        })
        .collect();
    let pause = |ms| tokio::time::sleep(Duration::from_millis(ms));
    pause(500).await;
    proxy.cut(); // every connection closed, new ones refused
    pause(3_000).await;
    proxy.restore();
    pause(1_500).await;
    proxy.stall(); // every open connection silent for good, the LISTEN one among them; new ones pass
    pause(3_000).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    // The last commit, with nothing after it to carry a late NOTIFY along. A pooled connection left silent by the
    // stall answers UNAVAILABLE or TIMEOUT until it is dropped, and a session the stall caught inside a transaction
    // holds its locks until PostgreSQL ends it (idle in transaction for 15 s): a client tries again, as this one does.
    let mut last = serde_json::Value::Null;
    for _ in 0..20 {
        last = app.request_payout(f, "1.00").await;
        if !matches!(code(&last), "UNAVAILABLE" | "TIMEOUT") {
            break;
        }
    }
    assert!(last["data"]["requestPayout"]["id"].is_string(), "{last}");

    let committed = committed_requests(&direct).await;
    assert!(committed.len() > 10, "requests went through around the outage: {}", committed.len());
    let mut heard = Vec::new();
    while heard.len() < committed.len() {
        let Some((_, event)) = sub.event(Duration::from_secs(10)).await else { break };
        assert!(event.get("errors").is_none(), "nothing is missed, so nothing is reported missed: {event}");
        heard.push(event["data"]["payoutRequested"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(heard.len(), committed.len(), "every committed request reached the subscriber");
    assert_eq!(heard, committed, "in commit order");
}
