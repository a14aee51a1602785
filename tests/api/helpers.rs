//! The test harness: a real paydesk server on a free port, over a fresh database of its own (a temporary
//! SQLite file, or a new PostgreSQL database when `TEST_DATABASE_URL` is set), and clients that speak to it.

use base64::Engine;
use entity::status::Role;
use hmac::{Hmac, Mac};
use paydesk::config::Config;
use paydesk::state::AppState;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use uuid::Uuid;

pub const JWT_SECRET: &str = "test-jwt-secret";
pub const CF_SECRET: &str = "cfsk_ma_test_dummy_secret_123";
pub const SAMPLE_SUCCESS: &str = include_str!("../fixtures/payload_success.json");
pub const SAMPLE_FAILED: &str = include_str!("../fixtures/payload_failed.json");

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub state: AppState,
    pub db_url: String,
    _scratch: Option<Scratch>,
}

/// Where a test's database lives, removed when the test ends: a temporary directory (SQLite) or a PostgreSQL
/// database of its own.
pub struct Scratch {
    dir: Option<tempfile::TempDir>,
    pg_database: Option<String>,
}

impl Scratch {
    /// The SQLite database's directory (none on PostgreSQL).
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(|d| d.path())
    }
}

impl Drop for Scratch {
    /// Drops the test's PostgreSQL database (its own thread and runtime: Drop cannot await).
    fn drop(&mut self) {
        let (Some(name), Ok(base)) = (self.pg_database.take(), std::env::var("TEST_DATABASE_URL")) else { return };
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                use sea_orm::ConnectionTrait;
                if let Ok(admin) = sea_orm::Database::connect(&base).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                    let _ = admin.close().await;
                }
            })
        })
        .join();
    }
}

pub const CF_CLIENT_ID: &str = "cf_test_client";
pub const CF_PAYOUT_ID: &str = "cf_test_payout_client";
pub const CF_PAYOUT_SECRET: &str = "cfsk_payout_test_secret";
/// The history's signing key every test server has (an Ed25519 seed, hex).
pub const HISTORY_KEY: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

/// The public key of [`HISTORY_KEY`], as `paydesk verify --public-key` takes it.
pub fn history_public_key() -> String {
    paydesk::services::evidence::history::Signer::from_setting(HISTORY_KEY).unwrap().public_hex()
}

/// A server wired to a Cashfree double of its own (Payment Gateway and Payouts credentials set); the double
/// sends its webhooks to the server.
pub async fn spawn_with_double(tweak: impl FnOnce(&mut Config)) -> (TestApp, std::sync::Arc<cashfree_double::Double>) {
    let double = double().await;
    let app = TestApp::spawn_with(|c| {
        wire_to(c, &double);
        tweak(c);
    })
    .await;
    double.send_webhooks_to(&app.url(""));
    (app, double)
}

/// Settings that point a server at `double` with the test credentials.
pub fn wire_to(c: &mut Config, double: &cashfree_double::Double) {
    c.cashfree_client_id = Some(CF_CLIENT_ID.into());
    c.cashfree_payout_client_id = Some(CF_PAYOUT_ID.into());
    c.cashfree_payout_client_secret = vec![CF_PAYOUT_SECRET.into()];
    c.cashfree_base_url = Some(double.url().to_owned());
    c.cashfree_timeout_ms = 1_000;
    // The double settles every payment at once; a test that wants the scheduled poll turns it on.
    c.settlement_poll = Duration::ZERO;
}

/// A Cashfree double that takes the test credentials; `send_webhooks_to` says where its webhooks go.
pub async fn double() -> std::sync::Arc<cashfree_double::Double> {
    let config = cashfree_double::DoubleConfig {
        pg_client_id: CF_CLIENT_ID.into(),
        pg_secret: CF_SECRET.into(),
        payout_client_id: CF_PAYOUT_ID.into(),
        payout_secret: CF_PAYOUT_SECRET.into(),
        paydesk_url: String::new(),
        complete_transfers_after: None,
    };
    cashfree_double::Double::start(config, "127.0.0.1:0".parse().unwrap()).await.expect("the double starts")
}

/// Whether this run is against PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

/// The one number `sql` answers, read straight from the app's database (a count, a sum).
pub async fn one_i64(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let db = &app.state.db;
    let row =
        db.query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap().unwrap();
    row.try_get_by_index(0).unwrap()
}

/// `id` as a literal in this run's SQL: text on PostgreSQL, the 16-byte blob SQLite keeps.
pub fn uuid_literal(id: Uuid) -> String {
    if on_postgres() {
        format!("'{id}'")
    } else {
        format!("X'{}'", id.simple())
    }
}

/// A fresh database: a temp SQLite file, or `CREATE DATABASE` on the server `TEST_DATABASE_URL` names.
pub async fn fresh_database() -> (String, Scratch) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            use sea_orm::{ConnectionTrait, Database};
            let admin = Database::connect(&base).await.expect("TEST_DATABASE_URL must point at a reachable PostgreSQL");
            drop_stale_databases(&admin).await;
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            let name = format!("paydesk_t_{now}_{}", Uuid::new_v4().simple());
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
            admin.close().await.ok();
            let (prefix, _) = base.rsplit_once('/').expect("TEST_DATABASE_URL ends in /DBNAME");
            (format!("{prefix}/{name}"), Scratch { dir: None, pg_database: Some(name) })
        }
        _ => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("paydesk.db").display());
            (url, Scratch { dir: Some(dir), pg_database: None })
        }
    }
}

/// Test databases older than an hour are left-overs of earlier runs.
async fn drop_stale_databases(admin: &sea_orm::DatabaseConnection) {
    use sea_orm::{ConnectionTrait, Statement};
    let cutoff = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 3600;
    let rows = admin
        .query_all_raw(Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'paydesk_t_%'",
        ))
        .await
        .unwrap_or_default();
    for row in rows {
        let name: String = row.try_get("", "datname").unwrap_or_default();
        let born: u64 = name.split('_').nth(2).and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
        if born < cutoff {
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok();
        }
    }
}

impl TestApp {
    /// Runs `paydesk reconcile` against this server's database: (exit success, stdout).
    pub fn reconcile(&self) -> (bool, String) {
        self.reconcile_with(&[])
    }

    /// `reconcile` with settings in its environment (those the server was given, say).
    pub fn reconcile_with(&self, env: &[(&str, &str)]) -> (bool, String) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk"))
            .arg("reconcile")
            .env("DATABASE_URL", &self.db_url)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A server with the default settings, the test JWT secret and the Cashfree test secret.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A server whose settings `tweak` adjusts first.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let (db_url, scratch) = fresh_database().await;
        let mut app = Self::serve(db_url, tweak).await;
        app._scratch = Some(scratch);
        app
    }

    /// Another server process on this one's database (as a second instance behind a load balancer).
    pub async fn spawn_second(&self) -> Self {
        self.spawn_second_with(|_| {}).await
    }

    /// `spawn_second` with settings `tweak` adjusts first.
    pub async fn spawn_second_with(&self, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::serve(self.db_url.clone(), tweak).await
    }

    async fn serve(db_url: String, tweak: impl FnOnce(&mut Config)) -> Self {
        if std::env::var_os("PAYDESK_TEST_LOG").is_some() {
            let _ = paydesk::telemetry::init("text");
        }
        let mut config = Config::defaults();
        config.database_url = db_url;
        config.cashfree_client_secret = vec![CF_SECRET.into()];
        config.cashfree_webhook_tolerance_secs = 0;
        config.jwt_secret = Some(JWT_SECRET.into());
        // Tests send requests faster than any person; the rate limits' own tests set them.
        (config.rate_limit_per_address, config.rate_limit_per_caller, config.rate_limit_money) = (0, 0, 0);
        // Tests look at the chains soon after writing; a second is what a deployment waits at most five times over.
        config.history_link = Duration::from_secs(1);
        config.history_signing_key = Some(HISTORY_KEY.into());
        tweak(&mut config);
        let state =
            paydesk::build_state(&config, JWT_SECRET.as_bytes(), true, paydesk::Jobs::Run).await.expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(paydesk::http::serve(listener, state.clone(), std::future::pending()));
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        TestApp { addr, http, state, db_url: config.database_url, _scratch: None }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A valid token for `sub` in `role`.
    pub fn token(&self, role: Role, sub: Uuid) -> String {
        self.state.jwt.mint(sub, role, Duration::from_secs(600)).unwrap()
    }

    pub fn admin(&self) -> String {
        self.token(Role::Admin, Uuid::new_v4())
    }

    /// POSTs one GraphQL operation and returns the whole response body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self.http.post(self.url("/graphql")).json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        res.json().await.unwrap()
    }

    /// Like `gql`, but the operation must succeed; returns `data`.
    pub async fn gql_ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(Some(token), query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// Delivers a webhook body with the given timestamp and signature headers.
    pub async fn deliver(&self, body: &str, headers: &[(&str, String)]) -> (u16, Value) {
        let mut req = self.http.post(self.url("/api/webhooks/cashfree")).body(body.to_owned());
        req = req.header("content-type", "application/json").header("x-webhook-version", "2025-01-01");
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Delivers `body` signed with the Cashfree test secret, as Cashfree would.
    pub async fn deliver_signed(&self, body: &str) -> (u16, Value) {
        let ts = chrono::Utc::now().timestamp_millis().to_string();
        let sig = sign(CF_SECRET, &ts, body);
        self.deliver(body, &[("x-webhook-timestamp", ts), ("x-webhook-signature", sig)]).await
    }

    /// SQL statements the server has run so far.
    pub fn statements(&self) -> u64 {
        self.state.metrics.sql_statements.get()
    }

    /// Creates a payment order and returns its id.
    pub async fn create_order(&self, freelancer: Uuid, amount: &str, order_id: &str) -> String {
        let data = self
            .gql_ok(
                &self.admin(),
                "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id } }",
                json!({ "i": { "freelancerId": freelancer, "amount": amount, "currency": "INR", "orderId": order_id,
                                "customerPhone": "9999912345" } }),
            )
            .await;
        data["createPaymentOrder"]["id"].as_str().unwrap().to_owned()
    }

    /// Gives `freelancer` a wallet credited with `amount` net, through an order and a signed SUCCESS webhook.
    /// (With the default 10% fee, `gross` 1000.00 credits 900.00.)
    pub async fn fund(&self, freelancer: Uuid, gross: &str) -> String {
        let order_id = format!("ord_{}", Uuid::new_v4().simple());
        self.create_order(freelancer, gross, &order_id).await;
        let body =
            payment_body("PAYMENT_SUCCESS_WEBHOOK", &order_id, &format!("cf{}", rand_digits()), "SUCCESS", gross);
        let (status, reply) = self.deliver_signed(&body).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["outcome"], "PROCESSED", "{reply}");
        order_id
    }

    /// The freelancer's wallet balance as the API reports it.
    pub async fn balance(&self, freelancer: Uuid) -> String {
        let d = self
            .gql_ok(
                &self.admin(),
                "query($f: UUID!) { wallet(freelancerId: $f) { balance } }",
                json!({ "f": freelancer }),
            )
            .await;
        d["wallet"]["balance"].as_str().unwrap_or("none").to_owned()
    }

    /// Every journal account's INR balance on its normal side, by account name (`accounts`).
    pub async fn accounts(&self) -> std::collections::BTreeMap<String, String> {
        let d = self.gql_ok(&self.admin(), "{ accounts(currency: \"INR\") { account balance } }", json!({})).await;
        let rows = d["accounts"].as_array().unwrap().iter();
        rows.map(|a| (a["account"].as_str().unwrap().to_owned(), a["balance"].as_str().unwrap().to_owned())).collect()
    }

    /// Requests a payout as the freelancer; returns the response body.
    pub async fn request_payout(&self, freelancer: Uuid, amount: &str) -> Value {
        let t = self.token(Role::Freelancer, freelancer);
        self.gql(
            Some(&t),
            "mutation($i: RequestPayoutInput!) { requestPayout(input: $i) { id status amount } }",
            json!({ "i": { "amount": amount } }),
        )
        .await
    }
}

/// A freelancer paid 1000.00 gross (900.00 net) through a Cashfree order, with a bank account registered.
pub async fn funded_freelancer(app: &TestApp, double: &cashfree_double::Double) -> Uuid {
    let f = Uuid::new_v4();
    let order = format!("ord_{}", f.simple());
    let q = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id } }";
    let i = json!({ "freelancerId": f, "amount": "1000.00", "orderId": order, "customerPhone": "9999912345" });
    app.gql_ok(&app.admin(), q, json!({ "i": i })).await;
    assert_eq!(double.pay(&order, "SUCCESS").await, Ok(200));
    let me = app.token(entity::status::Role::Freelancer, f);
    let i = json!({ "name": "Asha Rao", "bankAccountNumber": "026291800001191", "ifsc": "YESB0000262" });
    let register = "mutation($i: RegisterBeneficiaryInput!) { registerBeneficiary(input: $i) { kind masked } }";
    let b = app.gql_ok(&me, register, json!({ "i": i })).await;
    assert_eq!(b["registerBeneficiary"]["masked"], "XXXXXX1191 (YESB0000262)", "stored masked only");
    f
}

/// Cashfree's signature: Base64(HMAC-SHA256(secret, timestamp ‖ body)).
pub fn sign(secret: &str, ts: &str, body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(ts.as_bytes());
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Delivers a payout webhook signed with the Payouts secret; the answer's status and body.
pub async fn deliver_transfer(app: &TestApp, body: String) -> (u16, Value) {
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let res = app
        .http
        .post(app.url("/api/webhooks/cashfree/payouts"))
        .header("content-type", "application/json")
        .header("x-webhook-timestamp", &ts)
        .header("x-webhook-signature", sign(CF_PAYOUT_SECRET, &ts, &body))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// A compact Cashfree payment webhook body (amount written as a JSON number, as Cashfree does).
pub fn payment_body(kind: &str, order_id: &str, cf_payment_id: &str, status: &str, amount: &str) -> String {
    format!(
        r#"{{"data":{{"order":{{"order_id":"{order_id}","order_amount":{amount},"order_currency":"INR"}},"payment":{{"cf_payment_id":"{cf_payment_id}","payment_status":"{status}","payment_amount":{amount},"payment_currency":"INR","payment_message":"msg","payment_group":"upi"}}}},"event_time":"2025-03-14T12:20:31+05:30","type":"{kind}"}}"#
    )
}

/// A compact Cashfree refund webhook body for `order` (`amount` written as it comes: a JSON number or a string).
pub fn refund_body(order: &str, cf_refund_id: &str, amount: &str, currency: &str) -> String {
    format!(
        r#"{{"data":{{"refund":{{"cf_refund_id":"{cf_refund_id}","refund_id":"{cf_refund_id}","order_id":"{order}","refund_amount":{amount},"refund_currency":"{currency}","refund_status":"SUCCESS"}}}},"type":"REFUND_STATUS_WEBHOOK"}}"#
    )
}

/// Digits for unique Cashfree ids.
pub fn rand_digits() -> String {
    (Uuid::new_v4().as_u128() % 10_000_000_000).to_string()
}

/// The `extensions.code` of the first error.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<no code>")
}

/// A GraphQL-over-WebSocket client speaking `graphql-transport-ws` or the legacy `graphql-ws`.
pub struct Subscriber {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    legacy: bool,
}

impl Subscriber {
    /// Connects with `token` and waits for `connection_ack`.
    pub async fn connect(app: &TestApp, token: &str, protocol: &str) -> Self {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
        let mut req = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
        req.headers_mut().insert("sec-websocket-protocol", protocol.parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("websocket upgrade");
        let mut s = Subscriber { ws, legacy: protocol == "graphql-ws" };
        let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
        s.ws.send(Message::text(init.to_string())).await.unwrap();
        let ack = s.raw(Duration::from_secs(10)).await.expect("an answer to connection_init");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        s
    }

    /// Starts operation `id` and gives the server a moment to register it.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        let kind = if self.legacy { "start" } else { "subscribe" };
        let msg = json!({ "type": kind, "id": id, "payload": { "query": query, "variables": variables } });
        self.ws.send(Message::text(msg.to_string())).await.unwrap();
        // The protocol acknowledges no subscribe; let the server poll the new stream before events fire.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    /// Ends operation `id` (`complete`, or `stop` on the legacy protocol).
    pub async fn complete(&mut self, id: &str) {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        let kind = if self.legacy { "stop" } else { "complete" };
        self.ws.send(Message::text(json!({ "type": kind, "id": id }).to_string())).await.unwrap();
    }

    /// The next protocol message that is not a keep-alive, or None after `wait`.
    pub async fn raw(&mut self, wait: Duration) -> Option<Value> {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next()).await.ok()??.ok()?;
            let text = match msg {
                Message::Text(t) => t.to_string(),
                Message::Close(frame) => {
                    return Some(json!({ "type": "closed", "code": frame.map(|f| u16::from(f.code)) }))
                }
                _ => continue,
            };
            let v: Value = serde_json::from_str(&text).unwrap();
            match v["type"].as_str() {
                Some("ka") | Some("pong") => continue,
                Some("ping") => {
                    self.ws.send(Message::text(json!({ "type": "pong" }).to_string())).await.ok();
                    continue;
                }
                _ => return Some(v),
            }
        }
    }

    /// The next event's payload (`{"data": …}` or `{"errors": …}`) with the operation id, or None after `wait`.
    pub async fn event(&mut self, wait: Duration) -> Option<(String, Value)> {
        let mut v = self.raw(wait).await?;
        while v["type"] == "complete" {
            v = self.raw(wait).await?;
        }
        let id = v["id"].as_str().unwrap_or_default().to_owned();
        match v["type"].as_str() {
            Some("next") | Some("data") => Some((id, v["payload"].clone())),
            Some("error") => Some((id, json!({ "errors": v["payload"] }))),
            _ => Some((id, v)),
        }
    }
}

/// Opens a WebSocket on `protocol`, sends `connection_init` with `payload`, and returns the first answer:
/// the message, or `{"closed": code, "reason": …}`.
pub async fn ws_init(app: &TestApp, protocol: &str, payload: Value) -> Value {
    let mut ws = ws_open(app, protocol).await;
    ws_send(&mut ws, json!({ "type": "connection_init", "payload": payload })).await;
    ws_next(&mut ws, Duration::from_secs(5)).await
}

/// Signs a socket in with `token` (which expires within seconds) and asserts the server closes it 4403 once the
/// token expires.
pub async fn assert_closed_when_token_expires(app: &TestApp, token: &str) {
    let mut ws = ws_open(app, "graphql-transport-ws").await;
    ws_send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(ws_next(&mut ws, Duration::from_secs(5)).await["type"], "connection_ack");
    let closed = ws_next(&mut ws, Duration::from_secs(10)).await;
    assert_eq!(closed["closed"], 4403, "{closed}");
    assert!(closed["reason"].as_str().unwrap().contains("expired"), "{closed}");
}

/// A raw WebSocket to `/graphql/ws` on `protocol`.
pub async fn ws_open(app: &TestApp, protocol: &str) -> RawSocket {
    ws_try_open(app, protocol).await.expect("websocket upgrade")
}

/// A raw WebSocket to `/graphql/ws` on `protocol`, or why the upgrade failed (a refusal's HTTP status among them).
pub async fn ws_try_open(app: &TestApp, protocol: &str) -> Result<RawSocket, tokio_tungstenite::tungstenite::Error> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", protocol.parse().unwrap());
    Ok(tokio_tungstenite::connect_async(req).await?.0)
}

pub type RawSocket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn ws_send(ws: &mut RawSocket, msg: Value) {
    use futures_util::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::text(msg.to_string())).await.unwrap();
}

/// The next message (keep-alives skipped) or `{"closed": code, "reason": …}`, within `wait`.
pub async fn ws_next(ws: &mut RawSocket, wait: Duration) -> Value {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] != "ka" {
                    return v;
                }
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                let (code, reason) = frame.map(|f| (u16::from(f.code), f.reason.to_string())).unwrap_or_default();
                return json!({ "closed": code, "reason": reason });
            }
            Ok(Some(Ok(_))) => continue,
            other => return json!({ "other": format!("{other:?}") }),
        }
    }
}

/// Everything the server sends until it closes the connection, or `None` if it is still open after `wait`.
pub async fn until_closed(tcp: &mut tokio::net::TcpStream, wait: std::time::Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        loop {
            match tokio::io::AsyncReadExt::read(tcp, &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.ok().map(|()| String::from_utf8_lossy(&got).into_owned())
}

/// A TCP proxy in front of the database that can cut the server off it, as a failing network or a restarted
/// proxy would. `cut` closes every connection through it and refuses new ones until `restore`; `stall` leaves the
/// server's end of every connection open but silent for good (the database's end is closed, so nothing is held
/// there), as a NAT or load balancer that forgot its connections does, and lets new connections through.
pub struct Proxy {
    pub addr: SocketAddr,
    state: std::sync::Arc<tokio::sync::watch::Sender<ProxyState>>,
    generation: std::sync::atomic::AtomicU32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ProxyState {
    /// Forwarding; the number grows with each `stall`, which ends the connections opened before it.
    Up(u32),
    Cut,
}

impl Proxy {
    /// A proxy on a free port of 127.0.0.1 to `upstream`.
    pub async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = std::sync::Arc::new(tokio::sync::watch::channel(ProxyState::Up(0)).0);
        let watch = state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let ProxyState::Up(generation) = *watch.borrow() else {
                    drop(client); // refused: the client reads end of file at once
                    continue;
                };
                let (upstream, mut changes) = (upstream.clone(), watch.subscribe());
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else { return };
                    let mut client = client;
                    // Whether this connection is to stall (rather than close) once its generation ends.
                    let ended = async move {
                        let changed = changes.wait_for(|s| *s != ProxyState::Up(generation)).await;
                        matches!(changed.as_deref(), Ok(ProxyState::Up(_)))
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        stalled = ended => {
                            drop(server);
                            if stalled {
                                // Keep the client's end open and silent while the test runs.
                                tokio::time::sleep(Duration::from_secs(600)).await;
                            }
                        }
                    }
                });
            }
        });
        Proxy { addr, state, generation: std::sync::atomic::AtomicU32::new(0) }
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.state.send_replace(ProxyState::Cut);
    }

    /// Forwards new connections again.
    pub fn restore(&self) {
        let next = self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        self.state.send_replace(ProxyState::Up(next));
    }

    /// Silences every open connection for good; new ones are forwarded.
    pub fn stall(&self) {
        self.restore();
    }
}

/// Runs `sql` on the app's database as someone with direct write access would: on PostgreSQL with the history
/// triggers switched off for the transaction (as a superuser can), so that the chains, not the triggers, must tell.
pub async fn tamper(app: &TestApp, sql: &str, values: Vec<sea_orm::Value>) {
    tamper_all(app, &[(sql, values)]).await;
}

/// `tamper` with several statements in one transaction.
pub async fn tamper_all(app: &TestApp, statements: &[(&str, Vec<sea_orm::Value>)]) {
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
    let db = &app.state.db;
    let txn = db.begin().await.unwrap();
    if on_postgres() {
        txn.execute_unprepared("SET LOCAL session_replication_role = replica").await.unwrap();
    }
    for (sql, values) in statements {
        let statement = Statement::from_sql_and_values(db.get_database_backend(), *sql, values.clone());
        txn.execute_raw(statement).await.unwrap();
    }
    txn.commit().await.unwrap();
}

/// The books stay whole: `paydesk reconcile` and `paydesk verify` both pass over the server's database.
pub fn assert_books_whole(app: &TestApp) {
    let (clean, report) = app.reconcile();
    assert!(clean, "reconcile: {report}");
    let (whole, said) = paydesk(app, &["verify"]);
    assert!(whole, "verify: {said}");
}

/// Runs `paydesk` with `args` against the app's database: (exit success, stdout). On a multi-threaded test runtime
/// the server goes on working meanwhile, as it would beside an operator's command.
pub fn paydesk(app: &TestApp, args: &[&str]) -> (bool, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk"));
    command
        .args(args)
        .env("DATABASE_URL", &app.db_url)
        // What `verify` checks signed checkpoints and erasures with: the deployment's public key, kept apart.
        .env("PAYDESK_HISTORY_PUBLIC_KEY", history_public_key());
    let multi_threaded = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    let out = if multi_threaded { tokio::task::block_in_place(|| command.output()) } else { command.output() }.unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}
