//! Persisted queries and trusted documents through the clients marketplace frontends use: Apollo Client and urql
//! from npm, run under Node by `tests/clients/clients.mjs` against servers started here, which reports what every
//! request carried and what each client got back. The manifest is the one Apollo's own generator writes from the
//! frontend's operations (`tests/clients/operations`).

use crate::helpers::TestApp;
use entity::status::Role;
use serde_json::Value;
use uuid::Uuid;

/// Runs `clients.mjs` with `args` and returns its report.
async fn clients(args: &[&str]) -> Value {
    let out = tokio::process::Command::new("node")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients"))
        .arg("clients.mjs")
        .args(args)
        .output()
        .await
        .expect("node runs (these tests need Node and `npm ci --prefix tests/clients`)");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "clients.mjs {args:?} failed: {said}{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&said).unwrap_or_else(|e| panic!("clients.mjs printed no report ({e}): {said}"))
}

/// What the requests of one client's step carried: (method, the text went along, the server's error codes).
fn carried(step: &Value) -> Vec<(String, bool, Vec<String>)> {
    let requests = step["requests"].as_array().unwrap_or_else(|| panic!("no requests: {step}"));
    let codes = |r: &Value| r["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    requests.iter().map(|r| (r["method"].as_str().unwrap().to_owned(), r["text"] == true, codes(r))).collect()
}

fn get(text: bool, codes: &[&str]) -> (String, bool, Vec<String>) {
    ("GET".into(), text, codes.iter().map(|c| c.to_string()).collect())
}

fn post(text: bool, codes: &[&str]) -> (String, bool, Vec<String>) {
    ("POST".into(), text, codes.iter().map(|c| c.to_string()).collect())
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci --prefix tests/clients`: .ci/run installs them and runs this with --include-ignored"]
async fn apollo_client_and_urql_persist_their_queries_once_for_every_instance() {
    let app = TestApp::spawn().await;
    let other = app.spawn_second().await;
    let report = clients(&["apq", &app.url(""), &other.url(""), &app.admin()]).await;

    for client in ["apollo", "urql"] {
        // The first query goes as a GET with its hash alone; told the hash is unknown, the client sends the text.
        let first = &report[format!("{client}First")];
        let retry = if client == "apollo" { post(true, &[]) } else { get(true, &[]) };
        assert_eq!(carried(first), vec![get(false, &["PERSISTED_QUERY_NOT_FOUND"]), retry], "{client}: {first}");
        // Another instance on the same database knows it from then on: one GET, the hash alone.
        let second = &report[format!("{client}Second")];
        assert_eq!(carried(second), vec![get(false, &[])], "{client}: {second}");
        assert_eq!(first["data"], second["data"], "{client}");
        // Mutations persist over POST alike, and run.
        let mutation = &report[format!("{client}Mutation")];
        let expected = vec![post(false, &["PERSISTED_QUERY_NOT_FOUND"]), post(true, &[])];
        assert_eq!(carried(mutation), expected, "{client}: {mutation}");
        assert_eq!(mutation["data"]["createPaymentOrder"]["status"], "PENDING", "{client}: {mutation}");
    }
    assert_eq!(report["apolloFirst"]["data"]["payoutRequests"]["totalCount"], 0);
    assert_eq!(report["urqlFirst"]["data"]["me"]["role"], "ADMIN");

    // The persisted mutation did its work: the order it opened is there.
    let order = report["urqlMutation"]["data"]["createPaymentOrder"]["orderId"].as_str().unwrap();
    let found = app
        .gql_ok(
            &app.admin(),
            "query($o: String!) { payments(filter: { orderId: $o }) { totalCount } }",
            serde_json::json!({ "o": order }),
        )
        .await;
    assert_eq!(found["payments"]["totalCount"], 1, "{found}");
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci --prefix tests/clients`: .ci/run installs them and runs this with --include-ignored"]
async fn with_apollos_generated_manifest_frontends_run_only_the_operations_they_ship() {
    let manifest = clients(&["manifest"]).await;
    assert_eq!(manifest["format"], "apollo-persisted-query-manifest", "{manifest}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("persisted-query-manifest.json");
    std::fs::write(&path, manifest.to_string()).unwrap();
    let app = TestApp::spawn_with(|c| c.trusted_documents = Some(path.clone())).await;
    let ops = app.token(Role::Ops, Uuid::new_v4());
    let report = clients(&["trusted", &app.url(""), &ops, path.to_str().unwrap()]).await;

    // Apollo sends the manifest's id alone, and the listed operation runs as the manifest has it.
    let listed = &report["apolloListed"];
    assert_eq!(carried(listed), vec![post(false, &[])], "{listed}");
    let id = manifest["operations"].as_array().unwrap().iter().find(|o| o["name"] == "PendingPayouts").unwrap()["id"]
        .clone();
    assert_eq!(listed["requests"][0]["hash"], id);
    assert_eq!(listed["data"]["payoutRequests"]["__typename"], "PayoutRequestConnection", "{listed}");

    // An operation the frontend did not ship is refused by hash, and again with its text; the client is told why.
    let unlisted = &report["apolloUnlisted"];
    let refused = vec![post(false, &["PERSISTED_QUERY_NOT_FOUND"]), post(true, &["DOCUMENT_NOT_TRUSTED"])];
    assert_eq!(carried(unlisted), refused, "{unlisted}");
    assert_eq!(unlisted["codes"], serde_json::json!(["DOCUMENT_NOT_TRUSTED"]), "{unlisted}");
    assert!(unlisted["error"].as_str().unwrap().contains("PAYDESK_TRUSTED_DOCUMENTS"), "{unlisted}");

    // urql, hashing by the manifest's ids and never sending text, runs its listed query over GET.
    let urql = &report["urqlListed"];
    assert_eq!(carried(urql), vec![get(false, &[])], "{urql}");
    assert_eq!(urql["data"]["me"]["role"], "OPS", "{urql}");
}

/// The GraphQL-over-HTTP spec's reference audit (`serverAudits` of npm `graphql-http`) against `url`, as `token`'s
/// holder or anonymously: the audits that did not pass, as (id, status, name, reason).
async fn audit(url: &str, token: Option<&str>) -> Vec<(String, String, String, String)> {
    let out = tokio::process::Command::new("node")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients"))
        .arg("audit.mjs")
        .arg(url)
        .args(token)
        .output()
        .await
        .expect("node runs (this test needs Node and `npm ci --prefix tests/clients`)");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "audit.mjs failed: {said}{}", String::from_utf8_lossy(&out.stderr));
    let results: Vec<Value> = said.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(results.len() > 50, "the whole audit ran: {said}");
    let text = |r: &Value, k: &str| r[k].as_str().unwrap_or_default().to_owned();
    results
        .iter()
        .filter(|r| r["status"] != "ok")
        .map(|r| (text(r, "id"), text(r, "status"), text(r, "name"), text(r, "reason")))
        .collect()
}

#[tokio::test]
#[ignore = "needs Node.js and `npm ci --prefix tests/clients`: .ci/run installs them and runs this with --include-ignored"]
async fn the_graphql_over_http_audit_passes_signed_in_and_anonymous_but_for_introspection() {
    let app = TestApp::spawn().await;
    let url = app.url("/graphql");
    // Signed in: no failure and no warning; the notices left are what the spec leaves to the server (a 400 for a
    // request without `query` or with parameters of the wrong type, which paydesk answers 200 with
    // BAD_USER_INPUT under application/json, as that type's clients expect).
    let signed_in = audit(&url, Some(&app.admin())).await;
    let kept: Vec<_> = signed_in.iter().filter(|(_, status, ..)| status != "notice").collect();
    assert!(kept.is_empty(), "{kept:#?}");
    // Anonymous callers may not introspect (docs/CONTRACT.md): the two audits that ask `__type` with variables
    // are told to sign in, and nothing else differs.
    let anonymous = audit(&url, None).await;
    let kept: Vec<_> = anonymous.iter().filter(|(_, status, ..)| status != "notice").collect();
    let ids: Vec<&str> = kept.iter().map(|(id, ..)| id.as_str()).collect();
    assert_eq!(ids, ["2EA1", "28B9"], "{kept:#?}");
    let body = app
        .gql(
            None,
            "query Type($name: String!) { __type(name: $name) { name } }",
            serde_json::json!({ "name": "Query" }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
}
