//! Browsers on another origin: preflights answered for the configured origins only, and a real page in headless
//! Chromium that can query the API once its origin is allowed (and is blocked by the browser otherwise).

use crate::helpers::*;
use reqwest::header::{ACCESS_CONTROL_ALLOW_ORIGIN, ORIGIN};
use reqwest::Method;

const DASHBOARD: &str = "https://admin.example.com";

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.http
        .request(Method::OPTIONS, app.url("/graphql"))
        .header(ORIGIN, origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn preflights_are_answered_for_configured_origins_only() {
    let app = TestApp::spawn_with(|c| c.cors_origins = vec![DASHBOARD.into(), "http://localhost:5173".into()]).await;
    let ok = preflight(&app, DASHBOARD).await;
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(ok.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], DASHBOARD);
    let allowed = ok.headers()["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");
    assert!(ok.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));

    let other = preflight(&app, "https://evil.example.net").await;
    assert!(other.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none(), "an unlisted origin gets no grant");

    let answer = app
        .http
        .post(app.url("/graphql"))
        .header(ORIGIN, DASHBOARD)
        .bearer_auth(app.admin())
        .json(&serde_json::json!({ "query": "{ me { role } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], DASHBOARD);
    assert!(answer.headers()["access-control-expose-headers"].to_str().unwrap().contains("x-request-id"));

    let closed = TestApp::spawn().await;
    let none = preflight(&closed, DASHBOARD).await;
    assert!(none.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none(), "off by default");
}

#[tokio::test]
async fn origins_that_are_not_origins_stop_the_server_from_starting() {
    for bad in ["admin.example.com", "https://admin.example.com/", "https://admin.example.com/app", "*,https://a.b"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk"))
            .arg("serve")
            .env("DATABASE_URL", "sqlite::memory:")
            .env("PAYDESK_ADDR", "127.0.0.1:0")
            .env("PAYDESK_CORS_ORIGINS", bad)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("PAYDESK_CORS_ORIGINS"), "{bad}: {err}");
    }
}

/// Serves one page on `listener` (its own origin); the page queries `api` and writes what happened into its body.
fn dashboard_page(listener: tokio::net::TcpListener, api: String, token: String) -> String {
    let html = format!(
        r#"<!doctype html><html><body><pre id="out">pending</pre><script>
fetch("{api}/graphql", {{ method: "POST",
  headers: {{ "content-type": "application/json", "authorization": "Bearer {token}" }},
  body: JSON.stringify({{ query: "{{ me {{ role }} }}" }}) }})
  .then(r => r.json()).then(j => {{ document.getElementById("out").textContent = "ANSWER " + JSON.stringify(j); }})
  .catch(e => {{ document.getElementById("out").textContent = "BLOCKED " + e; }});
</script></body></html>"#
    );
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let page = axum::Router::new().route("/", axum::routing::get(move || async move { axum::response::Html(html) }));
    tokio::spawn(async move { axum::serve(listener, page).await });
    origin
}

/// What headless Chromium shows of `url` once its script has run.
fn chromium_dom(url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .output()
        .expect("chromium runs (apt-get install chromium; .ci/run installs it)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
#[ignore = "needs Chromium (apt-get install chromium): .ci/run installs it and runs this with --include-ignored"]
async fn a_dashboard_on_another_origin_queries_the_api_from_a_real_browser() {
    let bind = || async { tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap() };

    let closed = TestApp::spawn().await;
    let page = dashboard_page(bind().await, closed.url(""), closed.admin());
    let dom = tokio::task::spawn_blocking(move || chromium_dom(&page)).await.unwrap();
    assert!(dom.contains("BLOCKED"), "without CORS the browser refuses the answer: {dom}");

    let listener = bind().await;
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let app = TestApp::spawn_with(|c| c.cors_origins = vec![origin]).await;
    let page = dashboard_page(listener, app.url(""), app.admin());
    let dom = tokio::task::spawn_blocking(move || chromium_dom(&page)).await.unwrap();
    assert!(dom.contains(r#"ANSWER {"data":{"me":{"role":"ADMIN"}}}"#), "{dom}");
}

#[tokio::test]
#[ignore = "needs Chromium (apt-get install chromium): .ci/run installs it and runs this with --include-ignored"]
async fn graphiql_starts_in_a_real_browser_under_its_policy() {
    let app = TestApp::spawn().await;
    let url = app.url("/graphql");
    let dom = tokio::task::spawn_blocking(move || chromium_dom(&url)).await.unwrap();
    assert!(dom.contains("graphiql-container") && !dom.contains("Loading GraphiQL"), "GraphiQL did not start: {dom}");
}
