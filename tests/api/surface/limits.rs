//! What one request may cost: documents, fragments, complexity, batches, bodies, responses and time are all
//! bounded, and anonymous callers learn nothing about the schema.

use crate::helpers::*;
use entity::status::Role;
use serde_json::{json, Value};
use uuid::Uuid;

/// A 600-byte document whose fragments spread into 10^7 fields: `fragment F7 { ...F6 ×10 }`, seven levels.
fn fragment_bomb() -> String {
    let mut doc = String::from("query { ...F7 }\nfragment F0 on Query { me { id } }\n");
    for level in 1..=7 {
        doc.push_str(&format!("fragment F{level} on Query {{ {} }}\n", format!("...F{} ", level - 1).repeat(10)));
    }
    doc
}

fn message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_fragment_bomb_is_refused_before_validation_and_the_server_keeps_answering() {
    let app = TestApp::spawn().await;
    let doc = fragment_bomb();
    assert!(doc.len() < 1000);
    for token in [None, Some(app.admin())] {
        let body = app.gql(token.as_deref(), &doc, json!({})).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert!(message(&body).contains("more than 2000 fields"), "{body}");
    }
    let body = app.gql(Some(&app.admin()), "{ me { role } }", json!({})).await;
    assert_eq!(body["data"]["me"]["role"], "ADMIN");
}

#[tokio::test]
async fn documents_over_16_kb_are_refused() {
    let app = TestApp::spawn().await;
    let doc = format!("{{ me {{ role }} }} # {}", "x".repeat(17 * 1024));
    let body = app.gql(Some(&app.admin()), &doc, json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(message(&body).contains("at most 16384"), "{body}");
}

#[tokio::test]
async fn an_empty_document_or_batch_is_refused_in_words_not_with_a_parser_trace() {
    let app = TestApp::spawn().await;
    let body = app.gql(Some(&app.admin()), "  \n ", json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(message(&body).contains("the document is empty"), "{body}");
    // A list of strings is no batch either (serde would read its first one as the query).
    for batch in [json!([]), json!(["{ me { role } }"])] {
        let res = app.http.post(app.url("/graphql")).bearer_auth(app.admin()).json(&batch).send().await.unwrap();
        assert_eq!(res.status(), 400, "{batch}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert!(
            message(&body).contains("at least 1 and at most 10 requests") && message(&body).contains("holds 0"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn complexity_multiplies_by_page_size() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let huge =
        "{ wallets(first: 100) { nodes { payoutRequests(first: 100) { wallet { payments(first: 100) { id } } } } } }";
    let body = app.gql(Some(&admin), huge, json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(message(&body).contains("too complex"), "{body}");
    let dashboard = "{ wallets(first: 50) { nodes { id balance transactions(first: 10) { id amount kind } } } }";
    app.gql_ok(&admin, dashboard, json!({})).await;
}

#[tokio::test]
async fn a_document_asked_again_is_checked_again_with_its_own_variables() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    // Without variables, the second asking is validated only for its limits and answers the same.
    let fixed = "{ payoutRequests(first: 5) { totalCount } }";
    for _ in 0..3 {
        let body = app.gql_ok(&admin, fixed, json!({})).await;
        assert_eq!(body["payoutRequests"]["totalCount"], 0, "{body}");
    }
    // A wrong document stays wrong however often it is sent, for every caller.
    let wrong = "{ payoutRequests(first: 5) { totalCount nope } }";
    for token in [Some(admin.as_str()), Some(admin.as_str()), None] {
        let body = app.gql(token, wrong, json!({})).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert!(body["data"].is_null(), "{body}");
    }
    // With variables, every request's values are validated: a good one first does not let a bad one through.
    let doc = "query($first: Int!) { payoutRequests(first: $first) { totalCount } }";
    app.gql_ok(&admin, doc, json!({ "first": 5 })).await;
    let body = app.gql(Some(&admin), doc, json!({ "first": "five" })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(message(&body).contains("first"), "{body}");
    assert!(body["data"].is_null(), "{body}");
    // And their limits: with these values the same text is too complex.
    let nested =
        "query($n: Int!) { wallets(first: $n) { nodes { payoutRequests(first: $n) { wallet { payments(first: $n) \
                  { id } } } } } }";
    app.gql_ok(&admin, nested, json!({ "n": 2 })).await;
    let body = app.gql(Some(&admin), nested, json!({ "n": 100 })).await;
    assert!(message(&body).contains("too complex"), "{body}");
}

#[tokio::test]
async fn a_batch_shares_one_complexity_budget() {
    let app = TestApp::spawn().await;
    // About 5,300 each: one fits the budget of 10,000, two do not.
    let op = json!({ "query": "{ wallets(first: 100) { nodes { id payments(first: 50) { id } } } }" });
    let one = app.http.post(app.url("/graphql")).bearer_auth(app.admin()).json(&json!([op])).send().await.unwrap();
    let one: Vec<Value> = one.json().await.unwrap();
    assert!(one[0].get("errors").is_none(), "{one:?}");
    let two = app.http.post(app.url("/graphql")).bearer_auth(app.admin()).json(&json!([op, op])).send().await.unwrap();
    let two: Vec<Value> = two.json().await.unwrap();
    let refused = two.iter().filter(|r| code(r) == "BAD_USER_INPUT").count();
    assert_eq!(refused, 1, "exactly one of the two exceeds what is left: {two:?}");
    assert!(two.iter().any(|r| message(r).contains("is left")), "{two:?}");
}

#[tokio::test]
async fn anonymous_callers_get_no_introspection_and_no_suggestions() {
    let app = TestApp::spawn().await;
    let intro = app.gql(None, "{ __schema { queryType { name } } }", json!({})).await;
    assert!(intro["data"]["__schema"].is_null(), "{intro}");
    assert_eq!(code(&intro), "UNAUTHENTICATED", "{intro}");
    let typo = "{ paymnts { totalCount } }";
    let anonymous = app.gql(None, typo, json!({})).await;
    assert_eq!(code(&anonymous), "BAD_USER_INPUT", "{anonymous}");
    assert!(!message(&anonymous).contains("Did you mean"), "{anonymous}");
    let signed_in = app.gql(Some(&app.token(Role::Ops, Uuid::new_v4())), typo, json!({})).await;
    assert!(message(&signed_in).contains("Did you mean"), "signed-in callers keep suggestions: {signed_in}");
    let intro = app.gql(Some(&app.admin()), "{ __schema { queryType { name } } }", json!({})).await;
    assert_eq!(intro["data"]["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn unknown_directives_are_refused_wherever_they_stand() {
    let app = TestApp::spawn().await;
    for doc in [
        "query @evil { me { role } }",
        "query($a: Int @evil) { me { role } }",
        "{ me { role @evil } }",
        "{ ...F } fragment F on Query @evil { me { role } }",
    ] {
        let body = app.gql(Some(&app.admin()), doc, json!({ "a": 1 })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{doc}: {body}");
        assert!(message(&body).contains("@evil"), "{doc}: {body}");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413_before_it_is_read_whole() {
    // Without CORS the accept loop hands `/graphql` to its handler itself; with CORS the router does: both cap alike.
    for app in
        [TestApp::spawn().await, TestApp::spawn_with(|c| c.cors_origins = vec!["https://a.example".into()]).await]
    {
        let body = json!({ "query": "{ me { role } }", "variables": { "pad": "x".repeat(30 * 1024 * 1024) } });
        let res = app.http.post(app.url("/graphql")).json(&body).send().await.unwrap();
        assert_eq!(res.status(), 413);
        let json: Value = res.json().await.unwrap();
        assert_eq!(code(&json), "BAD_USER_INPUT", "{json}");
        assert!(message(&json).contains("256 KiB"), "{json}");
        let just_under = json!({ "query": "{ me { role } }", "variables": { "pad": "x".repeat(250 * 1024) } });
        let res = app.http.post(app.url("/graphql")).bearer_auth(app.admin()).json(&just_under).send().await.unwrap();
        let json: Value = res.json().await.unwrap();
        assert_eq!(json["data"]["me"]["role"], "ADMIN", "{json}");
    }
}

#[tokio::test]
async fn a_body_that_cannot_be_read_is_refused_in_the_same_words_on_both_paths() {
    use tokio::io::AsyncWriteExt;
    // Without CORS the accept loop reads the body itself; with CORS axum's extractor does.
    for app in
        [TestApp::spawn().await, TestApp::spawn_with(|c| c.cors_origins = vec!["https://a.example".into()]).await]
    {
        let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        // "zz" is not a chunk size: the body breaks off where it starts.
        let request = "POST /graphql HTTP/1.1\r\nHost: paydesk\r\nContent-Type: application/json\r\n\
                       Transfer-Encoding: chunked\r\n\r\nzz\r\n{\"query\": \"{ __typename }\"}\r\n0\r\n\r\n";
        tcp.write_all(request.as_bytes()).await.unwrap();
        let answer = until_closed(&mut tcp, std::time::Duration::from_secs(10)).await;
        let answer = answer.expect("the connection was neither answered nor closed");
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or_default()).unwrap();
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert!(message(&body).starts_with("the request body could not be read: "), "{body}");
        assert!(!message(&body).contains("Failed to buffer"), "{body}");
        assert!(message(&body).to_lowercase().contains("chunk"), "the cause is named: {body}");
        // The server is none the worse for it.
        let res = app.gql_ok(&app.admin(), "{ me { role } }", json!({})).await;
        assert_eq!(res["me"]["role"], "ADMIN");
    }
}

#[tokio::test]
async fn a_response_over_the_cap_is_replaced_by_an_error_that_says_to_ask_for_less() {
    let app = TestApp::spawn_with(|c| c.max_response_bytes = 2_000).await;
    let big = app.gql(Some(&app.admin()), "{ __schema { types { name description } } }", json!({})).await;
    assert_eq!(code(&big), "BAD_USER_INPUT", "{big}");
    assert!(message(&big).contains("at most 2000 are sent"), "{big}");
    assert!(big["data"].is_null());
    app.gql_ok(&app.admin(), "{ me { role } }", json!({})).await;
}

#[tokio::test]
async fn a_request_that_runs_too_long_is_stopped_with_timeout() {
    // The loaders wait 3 s for keys, the request may take 300 ms: the nested read cannot finish in time.
    let app = TestApp::spawn_with(|c| {
        c.request_timeout_ms = 300;
        c.dataloader_delay_ms = 3_000;
    })
    .await;
    let f = Uuid::new_v4();
    app.create_order(f, "10.00", "order_slow").await;
    let res = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(app.admin())
        .json(&json!({ "query": "{ payments { nodes { wallet { balance } } } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(code(&body), "TIMEOUT", "{body}");
    assert!(message(&body).contains("300 ms"), "{body}");
}

/// graphql-cop's three denial-of-service probes, as it sends them: 101 aliases, 500 repeats of one field, and a
/// batch of ten. Each reads as a finding when the data it asks for comes back.
fn cop_probes() -> (String, String, Value) {
    let aliases: String = (0..101).map(|i| format!("alias{i}:__typename \n")).collect();
    let repeats = format!("query {{ {}}} ", "__typename \n".repeat(500));
    let batch = Value::Array(vec![json!({ "query": "query cop { __typename }" }); 10]);
    (format!("query {{ {aliases} }}"), repeats, batch)
}

#[tokio::test]
async fn anonymous_callers_cannot_batch_overload_aliases_or_duplicate_fields() {
    let app = TestApp::spawn().await;
    let (aliases, repeats, batch) = cop_probes();
    let body = app.gql(None, &aliases, json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert!(message(&body).contains("at most 10 aliases") && body["data"].is_null(), "{body}");
    let body = app.gql(None, &repeats, json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert!(message(&body).contains("at most 10 times") && body["data"].is_null(), "{body}");
    let res = app.http.post(app.url("/graphql")).json(&batch).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert!(message(&body).contains("only a signed-in caller may send a batch"), "{body}");
    // A token that does not hold says why, batch or not.
    let res = app.http.post(app.url("/graphql")).bearer_auth("not.a.jwt").json(&batch).send().await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert!(message(&body).contains("not a valid JWT"), "{body}");
    // Within the caps an anonymous document still gets its answer.
    let body = app.gql(None, "{ a: __typename b: __typename __typename __typename }", json!({})).await;
    assert_eq!(body["data"], json!({ "a": "Query", "b": "Query", "__typename": "Query" }), "{body}");
}

#[tokio::test]
async fn signed_in_callers_keep_their_limits_for_aliases_repeats_and_batches() {
    let app = TestApp::spawn().await;
    let (aliases, repeats, batch) = cop_probes();
    let token = app.token(Role::Ops, Uuid::new_v4());
    let body = app.gql(Some(&token), &aliases, json!({})).await;
    assert_eq!(body["data"]["alias100"], "Query", "{body}");
    let body = app.gql(Some(&token), &repeats, json!({})).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    let res = app.http.post(app.url("/graphql")).bearer_auth(&token).json(&batch).send().await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body.as_array().map(Vec::len), Some(10), "{body}");
}
