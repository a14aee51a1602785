//! The `paydesk` binary as a newcomer uses it: start with nothing configured, mint tokens, seed, print the schema.

use crate::helpers::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_paydesk");

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `paydesk` on a free port; returns the child, the GraphiQL URL and the printed token (if any).
fn start(db_url: &str, jwt_secret: Option<&str>) -> (Killed, String, Option<String>) {
    start_with(db_url, jwt_secret, &[])
}

/// Like `start`, with extra arguments for `paydesk`.
fn start_with(db_url: &str, jwt_secret: Option<&str>, args: &[&str]) -> (Killed, String, Option<String>) {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    cmd.env("DATABASE_URL", db_url).env("PAYDESK_ADDR", "127.0.0.1:0").env_remove("CASHFREE_CLIENT_SECRET");
    match jwt_secret {
        Some(s) => cmd.env("JWT_SECRET", s),
        None => cmd.env_remove("JWT_SECRET"),
    };
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut url, mut token) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(u) = line.strip_prefix("GraphiQL: ") {
            url = Some(u.trim().to_owned());
            if jwt_secret.is_some() {
                break;
            }
        }
        if let Some((_, rest)) = line.split_once("Bearer ") {
            token = Some(rest.trim_end_matches(['"', '}', ' ']).to_owned());
            break;
        }
    }
    (Killed(child), url.expect("the server prints the GraphiQL URL"), token)
}

async fn query(url: &str, token: &str, q: &str) -> Value {
    reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": q }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_fresh_start_migrates_and_prints_a_working_admin_token() {
    let (db_url, _dir) = fresh_database().await;
    let (_child, url, token) = start(&db_url, None);
    let token = token.expect("with JWT_SECRET unset the server prints a dev admin token");
    let body = query(&url, &token, "{ me { role } payments { totalCount } }").await;
    assert_eq!(body["data"]["me"]["role"], "ADMIN", "{body}");
    assert_eq!(body["data"]["payments"]["totalCount"], 0);
    let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(page.contains("GraphiQL"));
}

#[tokio::test]
async fn seeded_demo_data_can_be_browsed_with_a_minted_token() {
    let (db_url, _dir) = fresh_database().await;
    for expect in ["seeded 6 freelancers", "already present"] {
        let out = Command::new(BIN).arg("seed-demo").env("DATABASE_URL", &db_url).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains(expect));
    }
    let minted = Command::new(BIN)
        .args(["token", "--role", "ops", "--sub", "0193a000-0000-7000-8000-0000000000aa", "--ttl", "10m"])
        .env("JWT_SECRET", "cli-secret")
        .output()
        .unwrap();
    assert!(minted.status.success());
    let token = String::from_utf8(minted.stdout).unwrap().trim().to_owned();
    let (_child, url, _) = start(&db_url, Some("cli-secret"));
    let body = query(
        &url,
        &token,
        "{ me { role } wallets { totalCount } payoutRequests(filter: { status: [PENDING] }) { totalCount }
           payments(filter: { status: [SUCCESS] }) { totalCount } }",
    )
    .await;
    assert_eq!(body["data"]["me"]["role"], "OPS", "{body}");
    assert_eq!(body["data"]["wallets"]["totalCount"], 6);
    assert_eq!(body["data"]["payoutRequests"]["totalCount"], 6);
    assert!(body["data"]["payments"]["totalCount"].as_u64().unwrap() >= 20);

    // The demo has history: money moved in most weeks of the last two months, and the books balance.
    let from = (chrono::Utc::now() - chrono::Duration::days(70)).to_rfc3339();
    let to = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let q =
        format!("{{ financialReport(from: \"{from}\", to: \"{to}\", granularity: WEEK) {{ periodStart payouts }} }}");
    let weeks = query(&url, &token, &q).await;
    let periods = weeks["data"]["financialReport"].as_array().unwrap_or_else(|| panic!("{weeks}"));
    assert!(periods.len() >= 8, "{weeks}");
    assert!(periods.iter().any(|p| p["payouts"].as_u64() > Some(0)), "{weeks}");
    let reconcile = Command::new(BIN).arg("reconcile").env("DATABASE_URL", &db_url).output().unwrap();
    assert!(reconcile.status.success(), "{}", String::from_utf8_lossy(&reconcile.stdout));
}

#[tokio::test]
async fn token_refuses_to_mint_without_a_secret_and_schema_prints_the_sdl() {
    let out = Command::new(BIN)
        .args(["token", "--role", "admin", "--sub", "0193a000-0000-7000-8000-0000000000aa"])
        .env_remove("JWT_SECRET")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("JWT_SECRET"));

    let out = Command::new(BIN).arg("schema").output().unwrap();
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert!(String::from_utf8(out.stdout).unwrap() == file, "`paydesk schema` differs from schema.graphql");
}

/// `paydesk serve` logging in `format` to a pipe (colours as a terminal would get them stay off); its stdout lines.
fn serve_logging(
    db_url: &str,
    format: &str,
    jwt_secret: Option<&str>,
) -> (std::io::Lines<BufReader<std::process::ChildStdout>>, Killed) {
    let mut cmd = Command::new(BIN);
    cmd.env("DATABASE_URL", db_url).env("PAYDESK_ADDR", "127.0.0.1:0").env("PAYDESK_LOG_FORMAT", format);
    match jwt_secret {
        Some(secret) => cmd.env("JWT_SECRET", secret),
        None => cmd.env_remove("JWT_SECRET"),
    };
    let mut child = cmd.env_remove("NO_COLOR").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    (BufReader::new(child.stdout.take().unwrap()).lines(), Killed(child))
}

#[tokio::test]
async fn json_logs_are_one_json_object_per_line() {
    let (db_url, _dir) = fresh_database().await;
    let (lines, child) = serve_logging(&db_url, "json", Some("x"));
    let mut logged = None;
    for line in lines.take(20) {
        let line = line.unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("stdout carries only JSON: {line:?}"));
        if v["fields"]["message"].as_str().is_some_and(|m| m.contains("listening")) {
            logged = Some(v);
            break;
        }
    }
    drop(child);
    let v = logged.expect("a JSON log line announcing the listener");
    assert_eq!(v["level"], "INFO");
    assert!(v["timestamp"].is_string());
}

#[tokio::test]
async fn json_logs_without_a_jwt_secret_stay_json_and_text_logs_to_a_pipe_have_no_colours() {
    let (db_url, _dir) = fresh_database().await;
    for format in ["json", "text"] {
        let (lines, child) = serve_logging(&db_url, format, None);
        let mut token = None;
        for line in lines.take(30) {
            let line = line.unwrap();
            assert!(!line.contains('\u{1b}'), "{format}: no ANSI escapes when stdout is a pipe: {line:?}");
            if format == "json" {
                let v: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("only JSON: {line:?}"));
                token = v["fields"]["dev_admin_token"].as_str().map(str::to_owned).or(token);
            } else if let Some(t) = line.trim().strip_prefix("{\"Authorization\": \"Bearer ") {
                token = Some(t.trim_end_matches("\"}").to_owned());
            }
            if token.is_some() {
                break;
            }
        }
        drop(child);
        let token = token.unwrap_or_else(|| panic!("{format}: the dev admin token is shown"));
        assert_eq!(token.split('.').count(), 3, "{format}: a JWT: {token}");
    }
}

#[tokio::test]
async fn migrate_reports_status_rolls_back_and_reapplies() {
    let (db_url, _dir) = fresh_database().await;
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).env("DATABASE_URL", &db_url).env("RUST_LOG", "info").output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    let fails = |args: &[&str]| {
        let out = Command::new(BIN).args(args).env("DATABASE_URL", &db_url).env("RUST_LOG", "off").output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let quiet = |args: &[&str]| {
        let out = Command::new(BIN).args(args).env("DATABASE_URL", &db_url).env("RUST_LOG", "off").output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // What migrate did is printed whatever RUST_LOG says.
    let first = quiet(&["migrate"]);
    assert!(first.contains("applied     m20261124_000001_initial") && first.contains("none pending"), "{first}");
    assert!(quiet(&["migrate"]).starts_with("0 applied now"), "a second run applies nothing");
    let status = quiet(&["migrate", "status"]);
    assert!(status.contains("applied     m20261124_000001_initial") && status.ends_with("0 pending\n"), "{status}");
    // Rolling back drops data: never without saying how much.
    assert!(fails(&["migrate", "down"]).contains("say how many migrations to roll back"));
    assert!(fails(&["migrate", "down", "--all"]).contains("add --yes"));
    assert!(quiet(&["migrate", "status"]).ends_with("0 pending\n"), "the refusals changed nothing");
    let down = quiet(&["migrate", "down", "1"]);
    let last = last_migration();
    assert!(down.contains(&format!("rolled back {last}")), "{down}");
    let status = quiet(&["migrate", "status"]);
    assert!(status.contains(&format!("pending     {last}")) && status.contains("1 pending"), "{status}");
    run(&["migrate", "up"]);
    // The schema is whole again: a server starts on it without migrating and answers.
    let (_child, url, _) = start_with(&db_url, Some("s"), &["--no-migrate"]);
    let token = paydesk::auth::JwtKeys::new(b"s")
        .mint(uuid::Uuid::new_v4(), entity::status::Role::Admin, Duration::from_secs(60))
        .unwrap();
    let body = query(&url, &token, "{ payments { totalCount } }").await;
    assert_eq!(body["data"]["payments"]["totalCount"], 0, "{body}");
}

#[tokio::test]
async fn on_sigterm_subscribers_are_told_to_reconnect_and_the_server_exits() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
    let (db_url, _dir) = fresh_database().await;
    let (mut child, url, _) = start(&db_url, Some("term-secret"));
    let token = paydesk::auth::JwtKeys::new(b"term-secret")
        .mint(uuid::Uuid::new_v4(), entity::status::Role::Ops, Duration::from_secs(60))
        .unwrap();
    let ws_url = url.replace("http://", "ws://").replace("/graphql", "/graphql/ws");
    let mut req = ws_url.into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    ws.send(Message::text(init.to_string())).await.unwrap();
    assert!(matches!(ws.next().await, Some(Ok(Message::Text(_)))), "connection_ack");
    let sub = json!({ "type": "subscribe", "id": "1", "payload": { "query": "subscription { alerts { kind } }" } });
    ws.send(Message::text(sub.to_string())).await.unwrap();

    let pid = child.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let frame = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(msg) = ws.next().await {
            if let Ok(Message::Close(frame)) = msg {
                return frame;
            }
        }
        None
    })
    .await
    .expect("a close frame before the deadline")
    .expect("a close frame with a code");
    assert_eq!(u16::from(frame.code), 1001, "{frame:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the server did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn each_subcommand_lists_only_its_own_settings_and_ignores_the_servers() {
    let help = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let serve = help(&["serve", "--help"]);
    assert!(serve.contains("PAYDESK_ADDR") && serve.contains("--database-url"), "{serve}");
    let migrate = help(&["migrate", "--help"]);
    assert!(
        migrate.contains("--database-url") && !migrate.contains("PAYDESK_ADDR") && !migrate.contains("JWT"),
        "{migrate}"
    );
    let token = help(&["token", "--help"]);
    assert!(token.contains("--jwt-secret") && !token.contains("--database-url"), "{token}");
    let backup = help(&["backup", "--help"]);
    assert!(backup.contains("--to") && !backup.contains("CASHFREE"), "{backup}");
    // A server setting that does not parse troubles only the server.
    let out = Command::new(BIN).arg("schema").env("PAYDESK_ADDR", "not an address").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(BIN)
        .env("PAYDESK_ADDR", "not an address")
        .env("DATABASE_URL", "sqlite::memory:")
        .output()
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--addr"));
    // A pool that could hold no connection is refused by name, before anything starts.
    let out = Command::new(BIN)
        .arg("serve")
        .env("PAYDESK_DB_POOL_SIZE", "0")
        .env("DATABASE_URL", "sqlite::memory:")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("--db-pool-size") && said.contains("0"), "{said}");
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_to_the_same_books() {
    let (db_url, scratch) = fresh_database().await;
    let Some(dir) = scratch.dir() else {
        // PostgreSQL is backed up with pg_dump: the subcommand says so instead of half-working.
        let out =
            Command::new(BIN).args(["backup", "--to", "/tmp/never.db"]).env("DATABASE_URL", &db_url).output().unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump --format=custom"));
        return;
    };
    let seeded = Command::new(BIN).arg("seed-demo").env("DATABASE_URL", &db_url).output().unwrap();
    assert!(seeded.status.success());
    let (_server, url, token) = start(&db_url, None);
    let token = token.unwrap();
    let to = dir.join("backup.db");
    let out = Command::new(BIN).args(["backup", "--to"]).arg(&to).env("DATABASE_URL", &db_url).output().unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{printed}{}", String::from_utf8_lossy(&out.stderr));
    assert!(printed.contains("integrity:  ok") && printed.contains("restore check passed"), "{printed}");
    let again = Command::new(BIN).args(["backup", "--to"]).arg(&to).env("DATABASE_URL", &db_url).output().unwrap();
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("never overwrite"));

    // A server started on the copy answers as the original does.
    let books = "{ wallets(first: 100) { nodes { freelancerId balance } } payments { totalCount } }";
    let original = query(&url, &token, books).await;
    let restored_url = format!("sqlite://{}?mode=rwc", to.display());
    let (_restored, url2, token2) = start(&restored_url, None);
    assert_eq!(query(&url2, &token2.unwrap(), books).await, original);

    let garbage = dir.join("garbage.db");
    std::fs::write(&garbage, b"not a database at all, just bytes that look nothing like SQLite's header").unwrap();
    let out = Command::new(BIN).args(["backup", "--check"]).arg(&garbage).output().unwrap();
    assert!(!out.status.success(), "a damaged copy fails the check");
}

/// The newest migration's name.
pub fn last_migration() -> String {
    use migration::MigratorTrait;
    migration::Migrator::migrations().last().expect("migrations").name().to_owned()
}
