//! The test harness: a real paydesk server on a free port, over a fresh database of its own (a temporary
//! SQLite file, or a new PostgreSQL database when `TEST_DATABASE_URL` is set), and clients that speak to it. Here
//! the server and its HTTP/GraphQL client; by concern beside it: `database`, `cashfree`, `sockets` and `commands`
//! (the binary), all re-exported, so a test needs only `use crate::helpers::*`.

use base64::Engine;
use entity::status::Role;
use hmac::{Hmac, Mac};
use paydesk::config::Config;
use paydesk::state::AppState;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use uuid::Uuid;

mod cashfree;
mod commands;
mod database;
mod sockets;

pub use cashfree::*;
pub use commands::*;
pub use database::*;
pub use sockets::*;

pub const JWT_SECRET: &str = "test-jwt-secret";
pub const CF_SECRET: &str = "cfsk_ma_test_dummy_secret_123";
pub const SAMPLE_SUCCESS: &str = include_str!("../../fixtures/payload_success.json");
pub const SAMPLE_FAILED: &str = include_str!("../../fixtures/payload_failed.json");

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub state: AppState,
    pub db_url: String,
    _scratch: Option<Scratch>,
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

/// The `extensions.code` of the first error.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<no code>")
}
