//! Rate limits: each signed-in caller, each client address (as the trusted proxy saw it) and each caller's
//! money-moving mutations have a budget a minute; over it, 429 with `Retry-After` and `RATE_LIMITED`, and nobody
//! else is slowed.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const READ: &str = "{ payoutHolds { reason } }";

/// POSTs `query` with `token` and extra `headers`: (status, Retry-After, body).
async fn post(app: &TestApp, token: Option<&str>, query: &str, headers: &[(&str, &str)]) -> (u16, Option<u64>, Value) {
    let mut req = app.http.post(app.url("/graphql")).json(&json!({ "query": query }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let retry = res.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    (res.status().as_u16(), retry, res.json().await.unwrap())
}

#[tokio::test]
async fn a_caller_over_its_budget_is_told_when_to_come_back_and_no_one_else_is_slowed() {
    let app = TestApp::spawn_with(|c| c.rate_limit_per_caller = 5).await;
    let (busy, other) = (app.admin(), app.admin());
    for _ in 0..5 {
        assert_eq!(post(&app, Some(&busy), READ, &[]).await.0, 200);
    }
    let (status, retry, body) = post(&app, Some(&busy), READ, &[]).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("too many requests from this caller"), "{body}");
    let retry = retry.expect("Retry-After");
    assert!((1..=12).contains(&retry), "a budget of 5 a minute refills one every 12 s: {retry}");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], retry);
    assert_eq!(post(&app, Some(&other), READ, &[]).await.0, 200, "another caller keeps its own budget");
    // REST routes count against the same budget.
    let res = app.http.get(app.url("/api/admin/reports/financial.csv")).bearer_auth(&busy).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "RATE_LIMITED", "{body}");
}

#[tokio::test]
async fn money_moving_mutations_have_a_smaller_budget_of_their_own() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_per_caller = 100;
        c.rate_limit_money = 2;
    })
    .await;
    let f = Uuid::new_v4();
    app.fund(f, "5000.00").await;
    for _ in 0..2 {
        let p = app.request_payout(f, "100.00").await;
        assert_eq!(p["data"]["requestPayout"]["status"], "PENDING", "{p}");
    }
    let token = app.token(entity::status::Role::Freelancer, f);
    let request =
        format!("mutation {{ requestPayout(input: {{ freelancerId: \"{f}\", amount: \"100.00\" }}) {{ id }} }}");
    let (status, retry, body) = post(&app, Some(&token), &request, &[]).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].as_str()), (429, Some("RATE_LIMITED")), "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("too many payouts"), "{body}");
    assert!(retry.is_some_and(|r| r >= 1));
    let pending = "{ payoutRequests(filter: { status: PENDING }) { totalCount } }";
    let d = app.gql_ok(&app.admin(), pending, json!({})).await;
    assert_eq!(d["payoutRequests"]["totalCount"], 2, "the refused request wrote nothing");
    // Reads by the same caller go on.
    assert_eq!(post(&app, Some(&token), "{ me { role } }", &[]).await.0, 200);
}

#[tokio::test]
async fn the_client_address_is_the_trusted_proxys_entry_and_probes_and_webhooks_are_never_limited() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_per_address = 3;
        c.trusted_proxy_hops = 1;
    })
    .await;
    let via = |client: &'static str| [("x-forwarded-for", client)];
    for _ in 0..3 {
        assert_eq!(post(&app, None, "{ __typename }", &via("6.6.6.6, 10.0.0.1")).await.0, 200);
    }
    let (status, _, body) = post(&app, None, "{ __typename }", &via("6.6.6.6, 10.0.0.1")).await;
    assert_eq!(status, 429, "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("10.0.0.1"), "{body}");
    // What the client wrote to the left of the proxy's entry is not read: changing it changes nothing.
    assert_eq!(post(&app, None, "{ __typename }", &via("7.7.7.7, 10.0.0.1")).await.0, 429);
    // Another client behind the same proxy has its own budget.
    assert_eq!(post(&app, None, "{ __typename }", &via("10.0.0.2")).await.0, 200);
    // Probes and Cashfree's deliveries are never turned away.
    let ready = app.http.get(app.url("/healthz")).header("x-forwarded-for", "10.0.0.1").send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let order = format!("ord_{}", Uuid::new_v4().simple());
    let (status, _) =
        app.deliver_signed(&payment_body("PAYMENT_SUCCESS_WEBHOOK", &order, "cf1", "SUCCESS", "10.00")).await;
    assert_eq!(status, 200);

    // Without trusted hops the header is ignored: the peer is the client, whatever it claims.
    let direct = TestApp::spawn_with(|c| c.rate_limit_per_address = 2).await;
    for claimed in ["1.1.1.1", "2.2.2.2"] {
        assert_eq!(post(&direct, None, "{ __typename }", &via(claimed)).await.0, 200);
    }
    let (status, retry, _) = post(&direct, None, "{ __typename }", &via("3.3.3.3")).await;
    assert_eq!(status, 429);
    assert!(retry.is_some_and(|r| (1..=30).contains(&r)), "{retry:?}");
}

/// A server whose callers may move money `budget` times a minute, and a funded freelancer with a token.
async fn with_money_budget(budget: u32) -> (TestApp, Uuid, String) {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_per_caller = 100;
        c.rate_limit_money = budget;
    })
    .await;
    let f = Uuid::new_v4();
    app.fund(f, "5000.00").await;
    let token = app.token(entity::status::Role::Freelancer, f);
    (app, f, token)
}

#[tokio::test]
async fn the_money_budget_is_one_per_caller_over_http_and_the_socket_alike() {
    let (app, f, token) = with_money_budget(3).await;
    let request =
        format!("mutation {{ requestPayout(input: {{ freelancerId: \"{f}\", amount: \"100.00\" }}) {{ id }} }}");
    assert_eq!(post(&app, Some(&token), &request, &[]).await.0, 200, "one over HTTP");
    let mut ws = ws_open(&app, "graphql-transport-ws").await;
    ws_send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(ws_next(&mut ws, Duration::from_secs(5)).await["type"], "connection_ack");
    let mut codes = Vec::new();
    for n in 0..5 {
        let id = format!("m{n}");
        ws_send(&mut ws, json!({ "type": "subscribe", "id": id, "payload": { "query": request } })).await;
        let answer = ws_next(&mut ws, Duration::from_secs(5)).await;
        let code = answer["payload"]["errors"][0]["extensions"]["code"].as_str().map(str::to_owned);
        codes.push(code.unwrap_or_else(|| "OK".into()));
        if answer["type"] == "next" {
            assert_eq!(ws_next(&mut ws, Duration::from_secs(5)).await["type"], "complete");
        }
    }
    assert_eq!(codes, ["OK", "OK", "RATE_LIMITED", "RATE_LIMITED", "RATE_LIMITED"], "two more over the socket");
    let pending = "{ payoutRequests(filter: { status: PENDING }) { totalCount } }";
    let d = app.gql_ok(&app.admin(), pending, json!({})).await;
    assert_eq!(d["payoutRequests"]["totalCount"], 3, "three in all, whatever the transport");
}

#[tokio::test]
async fn when_the_money_budget_runs_out_part_way_the_answer_names_what_ran_and_is_no_429() {
    let (app, f, token) = with_money_budget(2).await;
    let one = |alias: &str| {
        format!("{alias}: requestPayout(input: {{ freelancerId: \"{f}\", amount: \"100.00\" }}) {{ id }}")
    };
    // Three aliases, a budget of two: two commit, the third is refused, and the status says not to retry it all.
    let request = format!("mutation {{ {} {} {} }}", one("a"), one("b"), one("c"));
    let (status, retry, body) = post(&app, Some(&token), &request, &[]).await;
    assert_eq!(status, 200, "two of them ran: a 429 would have a client send them again: {body}");
    assert!(retry.is_some_and(|r| r >= 1), "when to come back for the rest");
    assert!(body["data"]["a"]["id"].is_string() && body["data"]["b"]["id"].is_string(), "{body}");
    assert!(body["data"]["c"].is_null(), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["c"]), "the error names the one that did not run: {body}");
    // Nothing ran: a 429.
    let (status, _, body) = post(&app, Some(&token), &format!("mutation {{ {} }}", one("d")), &[]).await;
    assert_eq!(status, 429, "{body}");
    let pending = "{ payoutRequests(filter: { status: PENDING }) { totalCount } }";
    let d = app.gql_ok(&app.admin(), pending, json!({})).await;
    assert_eq!(d["payoutRequests"]["totalCount"], 2, "exactly what the answers said ran");
}
