//! The served surface itself: the schema file, GraphiQL, health, batching, the WebSocket endpoint.

use crate::helpers::*;
use serde_json::{json, Value};

#[tokio::test]
async fn schema_graphql_equals_the_schema_the_server_serves() {
    let app = TestApp::spawn().await;
    let served = app.http.get(app.url("/graphql/schema.graphql")).send().await.unwrap().text().await.unwrap();
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert!(
        served == file,
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql` and commit it with a migration note"
    );
    for name in
        ["type PaymentConnection", "type AuditEntryConnection", "scalar Decimal", "scalar UUID", "enum WebhookOutcome"]
    {
        assert!(served.contains(name), "served schema lacks {name}");
    }
}

#[tokio::test]
async fn graphiql_is_served_from_inside_the_binary() {
    let app = TestApp::spawn().await;
    let page = app.http.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for asset in ["graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js"] {
        let path = format!("/graphql/assets/{asset}");
        assert!(html.contains(&path), "page does not load {path}");
        let res = app.http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.bytes().await.unwrap().len() > 10_000, "{path} is not the real asset");
    }
    assert!(!html.contains("cdn") && !html.contains("https://"), "GraphiQL must not need the internet");
}

#[tokio::test]
async fn graphiql_runs_no_inline_script_in_no_frame_and_keeps_the_token_in_the_tab() {
    let app = TestApp::spawn().await;
    let page = app.http.get(app.url("/graphql")).header("accept", "text/html").send().await.unwrap();
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("script-src 'self';") && policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(policy.contains("connect-src 'self';"), "{policy}");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(!html.contains("<script>") && !html.contains("<style>"), "nothing inline: {html}");
    let start = app.http.get(app.url("/graphql/assets/start.js")).send().await.unwrap().text().await.unwrap();
    assert!(start.contains("storage: window.sessionStorage") && !start.contains("localStorage"), "{start}");
}

#[tokio::test]
async fn graphiql_introspection_passes_the_depth_limit() {
    let app = TestApp::spawn().await;
    let type_ref = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }";
    let q = format!("{{ __schema {{ queryType {{ name }} types {{ name fields(includeDeprecated: true) {{ name args {{ name type {{ {type_ref} }} }} type {{ {type_ref} }} }} }} }} }}");
    let body = app.gql(Some(&app.admin()), &q, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn liveness_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let live = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(live.status(), 200);
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn batches_run_up_to_the_limit_and_are_refused_beyond_it() {
    let app = TestApp::spawn().await;
    let op = json!({ "query": "{ me { role } }" });
    let ok = app.http.post(app.url("/graphql")).bearer_auth(app.admin()).json(&json!([op, op])).send().await.unwrap();
    let results: Vec<Value> = ok.json().await.unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[1]["data"]["me"]["role"], "ADMIN");

    let too_many: Vec<Value> = (0..11).map(|_| op.clone()).collect();
    let res = app.http.post(app.url("/graphql")).bearer_auth(app.admin()).json(&too_many).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("at most 10"));
}

#[tokio::test]
async fn syntax_errors_carry_bad_user_input() {
    let app = TestApp::spawn().await;
    let body = app.gql(Some(&app.admin()), "{ payments { nodes { id } ", json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let body = app.gql(Some(&app.admin()), "{ payments { nodes { nope } } }", json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
}

#[tokio::test]
async fn websocket_accepts_a_valid_token_on_both_subprotocols_and_refuses_others() {
    let app = TestApp::spawn().await;
    let bearer = json!({ "Authorization": format!("Bearer {}", app.admin()) });
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let ack = ws_init(&app, protocol, bearer.clone()).await;
        assert_eq!(ack["type"], "connection_ack", "{protocol}: {ack}");
    }
    let refused = ws_init(&app, "graphql-transport-ws", json!({})).await;
    assert_eq!(refused["closed"], 4403, "no token: Forbidden, per graphql-transport-ws: {refused}");
    let forged = ws_init(&app, "graphql-transport-ws", json!({ "Authorization": "Bearer not.a.jwt" })).await;
    assert_eq!(forged["closed"], 4403, "{forged}");
    let legacy = ws_init(&app, "graphql-ws", json!({ "Authorization": "Bearer not.a.jwt" })).await;
    assert_eq!(legacy["type"], "connection_error", "{legacy}");
    assert!(legacy["payload"]["message"].as_str().unwrap().contains("not a valid JWT"), "{legacy}");
}

#[tokio::test]
async fn a_body_that_is_not_graphql_gets_a_json_error_not_a_crash() {
    let app = TestApp::spawn().await;
    for (body, status) in [("not json", 400), ("", 400), ("{\"nope\": 1}", 200)] {
        let res = app
            .http
            .post(app.url("/graphql"))
            .bearer_auth(app.admin())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{body:?}");
        let json: Value = res.json().await.expect("a JSON error body");
        assert_eq!(code(&json), "BAD_USER_INPUT", "{body:?}: {json}");
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id_for_the_logs() {
    let app = TestApp::spawn().await;
    let given = app.http.get(app.url("/healthz")).header("x-request-id", "ops-ticket-42").send().await.unwrap();
    assert_eq!(given.headers()["x-request-id"], "ops-ticket-42");
    let made = app.http.get(app.url("/healthz")).send().await.unwrap();
    let id = made.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "a fresh UUID when none is sent: {id}");
}

#[tokio::test]
async fn absurdly_deep_queries_are_refused_before_they_run() {
    let app = TestApp::spawn().await;
    let mut q = String::from("id");
    for _ in 0..15 {
        q = format!("wallet {{ payments(first: 1) {{ {q} }} }}");
    }
    let body = app.gql(Some(&app.admin()), &format!("{{ payments(first: 1) {{ nodes {{ {q} }} }} }}"), json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("nested too deep"), "{body}");
}

/// What a table's first cells name in code spans (`GET /healthz` / `GET /readyz`, `A`, `B`): each span once.
fn first_cells(markdown: &str) -> Vec<String> {
    markdown
        .lines()
        .filter_map(|line| line.strip_prefix("| ")?.split(" |").next())
        .flat_map(|cell| cell.split('`').skip(1).step_by(2).map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

/// `GET and POST /graphql?x=…` as the routes it names: `GET /graphql`, `POST /graphql`.
fn routes(named: &str) -> Vec<String> {
    let Some((methods, path)) = named.rsplit_once(' ') else { return vec![] };
    let path = path.split('?').next().unwrap_or(path);
    methods.split(" and ").filter(|m| ["GET", "POST"].contains(m)).map(|m| format!("{m} {path}")).collect()
}

/// The route table is written once, in CONTRACT.md, and it is the server's: a path that is not a route is answered
/// with the routes there are (the router's own list), and the table names those and no others.
#[tokio::test]
async fn the_contracts_route_table_is_the_servers_list_of_routes() {
    let app = TestApp::spawn().await;
    let answer: Value = app.http.get(app.url("/no-such-route")).send().await.unwrap().json().await.unwrap();
    let message = answer["error"]["message"].as_str().unwrap();
    let served: std::collections::BTreeSet<String> =
        message.split("the routes are ").nth(1).unwrap().split(", ").flat_map(routes).collect();
    assert!(served.contains("POST /graphql") && served.contains("GET /readyz"), "{message}");
    let contract = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/CONTRACT.md")).unwrap();
    let documented: std::collections::BTreeSet<String> =
        first_cells(&contract).iter().flat_map(|cell| routes(cell)).collect();
    assert_eq!(documented, served, "docs/CONTRACT.md's route table and the server's routes differ");
}

/// The settings table is written once, in docs/CONFIGURATION.md, and it is the server's: every variable
/// `paydesk serve --help` reads is in it, and it names no other but those its libraries read.
#[test]
fn the_configuration_table_is_the_settings_serve_reads() {
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk")).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let read: std::collections::BTreeSet<String> =
        help.split("[env: ").skip(1).filter_map(|rest| rest.split(['=', ']']).next().map(str::to_owned)).collect();
    assert!(read.contains("DATABASE_URL") && read.contains("PAYDESK_ADDR"), "{help}");
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/CONFIGURATION.md")).unwrap();
    let table = doc.split("\n## ").next().unwrap();
    let documented: std::collections::BTreeSet<String> = first_cells(table)
        .into_iter()
        .filter(|name| name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .collect();
    let missing: Vec<_> = read.difference(&documented).collect();
    // Read by libraries rather than by a flag: the OpenTelemetry SDK's `OTEL_*` and tracing's `RUST_LOG`.
    let unknown: Vec<_> =
        documented.difference(&read).filter(|name| !name.starts_with("OTEL_") && *name != "RUST_LOG").collect();
    assert!(missing.is_empty(), "read by the server, missing from docs/CONFIGURATION.md's table: {missing:?}");
    assert!(unknown.is_empty(), "in docs/CONFIGURATION.md's table, not read by the server: {unknown:?}");
}

/// docs/GUARANTEES.md names, for each guarantee, the test that holds it (`books/journal.rs::name`, or `…::name` for
/// the file named before): each of those tests is there.
#[test]
fn every_test_the_guarantees_name_is_there() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/");
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/GUARANTEES.md")).unwrap();
    let (mut file, mut named) = (String::new(), 0);
    for span in doc.split('`').skip(1).step_by(2) {
        let Some((path, test)) = span.split_once("::").filter(|(path, _)| path.ends_with(".rs") || *path == "…")
        else {
            continue;
        };
        if path != "…" {
            file = path.to_owned();
        }
        let source = std::fs::read_to_string(format!("{root}{file}")).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(source.contains(&format!("fn {test}(")), "docs/GUARANTEES.md names {file}::{test}, which is not there");
        named += 1;
    }
    assert!(named > 20, "only {named} tests named");
}
