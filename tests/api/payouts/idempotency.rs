//! Idempotency keys on requestPayout and createPaymentOrder: a retried request (header or input field, in a row or
//! racing) returns the first result and moves nothing twice; a key reused for another request is refused.

use crate::helpers::*;
use entity::status::Role;
use serde_json::{json, Value};
use uuid::Uuid;

const REQUEST: &str = "mutation($i: RequestPayoutInput!) { requestPayout(input: $i) { id status amount } }";
const ORDER: &str = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id orderId amount } }";

/// Posts `query` with an `Idempotency-Key` header.
async fn with_header(app: &TestApp, token: &str, key: &str, query: &str, variables: Value) -> Value {
    let res = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    res.json().await.unwrap()
}

async fn pending_count(app: &TestApp, freelancer: Uuid) -> usize {
    let q = "query($f: UUID!) { payoutRequests(filter: { freelancerId: $f }) { nodes { id } } }";
    app.gql_ok(&app.admin(), q, json!({ "f": freelancer })).await["payoutRequests"]["nodes"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_repeated_payout_request_returns_the_first_and_files_nothing_new() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let t = app.token(Role::Freelancer, f);
    let vars = json!({ "i": { "amount": "500.00" } });

    let first = with_header(&app, &t, "retry-7f3a", REQUEST, vars.clone()).await;
    let again = with_header(&app, &t, "retry-7f3a", REQUEST, vars.clone()).await;
    assert!(first.get("errors").is_none(), "{first}");
    assert_eq!(again["data"]["requestPayout"]["id"], first["data"]["requestPayout"]["id"], "{again}");
    // Without the key the same request would have been refused: 900 less the reserve leaves 800, 500 pending.
    assert_eq!(pending_count(&app, f).await, 1);

    // The input field works the same way, and agrees with the header.
    let by_field = json!({ "i": { "amount": "500.00", "idempotencyKey": "retry-7f3a" } });
    let third = app.gql(Some(&t), REQUEST, by_field.clone()).await;
    assert_eq!(third["data"]["requestPayout"]["id"], first["data"]["requestPayout"]["id"], "{third}");
    let both = with_header(&app, &t, "another", REQUEST, by_field).await;
    assert_eq!(code(&both), "BAD_USER_INPUT", "{both}");

    // The same key for a different amount is a mistake, said as such; keys are the caller's own.
    let other = with_header(&app, &t, "retry-7f3a", REQUEST, json!({ "i": { "amount": "100.00" } })).await;
    assert_eq!(code(&other), "INVALID_STATE", "{other}");
    assert!(other["errors"][0]["message"].as_str().unwrap().contains("different requestPayout"), "{other}");
    let bad = with_header(&app, &t, "has space", REQUEST, vars).await;
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
    assert_eq!(pending_count(&app, f).await, 1);
}

#[tokio::test]
async fn racing_repeats_of_one_key_file_one_request() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "10000.00").await;
    let t = app.token(Role::Freelancer, f);
    let vars = json!({ "i": { "amount": "100.00", "idempotencyKey": "race-1" } });
    let answers = futures_util::future::join_all((0..8).map(|_| app.gql(Some(&t), REQUEST, vars.clone()))).await;
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .map(|a| a["data"]["requestPayout"]["id"].as_str().unwrap_or_else(|| panic!("{a}")).into())
        .collect();
    assert_eq!(ids.len(), 1, "every repeat answers with the one request: {answers:?}");
    assert_eq!(pending_count(&app, f).await, 1);
}

#[tokio::test]
async fn a_repeated_order_returns_the_first_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let f = Uuid::new_v4();
    let vars = json!({ "i": { "freelancerId": f, "amount": "250.00", "customerPhone": "9999912345" } });
    let first = with_header(&app, &admin, "order-key-1", ORDER, vars.clone()).await;
    let again = with_header(&app, &admin, "order-key-1", ORDER, vars.clone()).await;
    assert!(first.get("errors").is_none(), "{first}");
    assert_eq!(again["data"]["createPaymentOrder"], first["data"]["createPaymentOrder"]);
    let listed = app
        .gql_ok(&admin, "query($f: UUID!) { payments(filter: { freelancerId: $f }) { totalCount } }", json!({ "f": f }))
        .await;
    assert_eq!(listed["payments"]["totalCount"], 1);

    // Another admin's identical key is theirs alone: a new order.
    let other = with_header(&app, &app.admin(), "order-key-1", ORDER, vars).await;
    assert_ne!(other["data"]["createPaymentOrder"]["id"], first["data"]["createPaymentOrder"]["id"], "{other}");
}

/// A key is remembered for `PAYDESK_IDEMPOTENCY_RETENTION_DAYS` (30 by default); once retention has deleted it (here:
/// a second instance, sweeping as it starts), the same request with the same key is a new request.
#[tokio::test]
async fn a_key_older_than_its_retention_is_forgotten() {
    use sea_orm::{sea_query::Expr, EntityTrait, PaginatorTrait};
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let t = app.token(Role::Freelancer, f);
    let vars = json!({ "i": { "amount": "100.00" } });
    let first = with_header(&app, &t, "monthly-1", REQUEST, vars.clone()).await;
    let again = with_header(&app, &t, "monthly-1", REQUEST, vars.clone()).await;
    assert_eq!(again["data"]["requestPayout"]["id"], first["data"]["requestPayout"]["id"], "{again}");

    let long_ago = chrono::Utc::now() - chrono::Duration::days(31);
    let keys = entity::idempotency_key::Entity::update_many()
        .col_expr(entity::idempotency_key::Column::CreatedAt, Expr::value(long_ago))
        .exec(&app.state.db)
        .await
        .unwrap();
    assert_eq!(keys.rows_affected, 1);
    let _second = app.spawn_second().await;
    for _ in 0..100 {
        if entity::idempotency_key::Entity::find().count(&app.state.db).await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let later = with_header(&app, &t, "monthly-1", REQUEST, vars.clone()).await;
    assert!(later.get("errors").is_none(), "{later}");
    assert_ne!(later["data"]["requestPayout"]["id"], first["data"]["requestPayout"]["id"], "a new request: {later}");
    assert_eq!(pending_count(&app, f).await, 2);
    let repeat = with_header(&app, &t, "monthly-1", REQUEST, vars).await;
    assert_eq!(repeat["data"]["requestPayout"]["id"], later["data"]["requestPayout"]["id"], "remembered again");
}
