//! What operators rely on: metrics are not public and cannot be grown by made-up requests, readiness answers
//! quickly and knows about migrations, the database password never reaches an error message, and a request for
//! a route there is not gets a JSON error like any other.

use crate::helpers::*;
use entity::status::Role;
use migration::{Migrator, MigratorTrait};
use uuid::Uuid;

#[tokio::test]
async fn metrics_need_the_metrics_token_or_a_staff_token() {
    let app = TestApp::spawn_with(|c| c.metrics_token = Some("scrape-me".into())).await;
    let get = |token: Option<String>| {
        let mut req = app.http.get(app.url("/metrics"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get(None).await, 401);
    assert_eq!(get(Some("wrong".into())).await, 401);
    assert_eq!(get(Some(app.token(Role::Freelancer, Uuid::new_v4()))).await, 401);
    assert_eq!(get(Some("scrape-me".into())).await, 200);
    assert_eq!(get(Some(app.token(Role::Ops, Uuid::new_v4()))).await, 200);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json_errors_and_add_no_metric_series() {
    let app = TestApp::spawn().await;
    let res = app.http.get(app.url("/api/nope")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "NOT_FOUND", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("GET /api/nope") && message.contains("POST /api/webhooks/cashfree"), "{body}");
    for method in ["DELETE", "PURGE", "MADEUP1", "MADEUP2"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let res = app.http.request(method.clone(), app.url("/healthz")).send().await.unwrap();
        assert_eq!(res.status(), 405, "{method}");
        assert_eq!(res.headers()["allow"], "GET,HEAD", "{method}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "METHOD_NOT_ALLOWED", "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(&format!("/healthz does not take {method}")));
    }
    let page = app.http.get(app.url("/metrics")).bearer_auth(app.admin()).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("MADEUP") && !page.contains("PURGE"), "{page}");
    let other = "paydesk_http_requests_total{method=\"other\",route=\"/healthz\",status=\"405\"} 3";
    assert!(page.contains(other), "{page}");
}

#[tokio::test]
async fn readiness_is_false_while_migrations_are_pending() {
    let app = TestApp::spawn().await;
    let ready = || async { app.http.get(app.url("/readyz")).send().await.unwrap() };
    assert_eq!(ready().await.status(), 200);
    Migrator::down(&app.state.db, Some(1)).await.unwrap();
    let res = ready().await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "migrations pending", "{body}");
    assert_eq!(body["pending"][0], crate::operations::cli::last_migration().as_str(), "{body}");
    Migrator::up(&app.state.db, None).await.unwrap();
    assert_eq!(ready().await.status(), 200);
}

#[tokio::test]
async fn the_database_password_never_appears_in_what_the_server_says() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk"))
        .env("DATABASE_URL", "postgres://paydesk:s3cr3t-pw@127.0.0.1:1/paydesk")
        .env("PAYDESK_ADDR", "127.0.0.1:0")
        .env("JWT_SECRET", "x")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("postgres://paydesk:***@127.0.0.1:1/paydesk"), "{said}");
    assert!(!said.contains("s3cr3t-pw"), "{said}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run with TEST_DATABASE_URL=postgres://… and --include-ignored"]
async fn a_pool_of_one_connection_still_serves_requests() {
    assert!(on_postgres(), "set TEST_DATABASE_URL to a PostgreSQL server");
    // PAYDESK_DB_POOL_SIZE=1: the event listener's own connection must not be the one requests wait for.
    let app = TestApp::spawn_with(|c| c.db_pool_size = 1).await;
    let f = Uuid::new_v4();
    app.fund(f, "100.00").await;
    assert_eq!(app.balance(f).await, "90.00");
}
