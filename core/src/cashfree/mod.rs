//! Calls to Cashfree: the Payment Gateway (orders, links, an order's payments) and Payouts V2 (beneficiaries,
//! transfers). Every call has a timeout; calls that are safe to repeat are retried a bounded number of times with
//! backoff, as is any call Cashfree refused with 429; a call that is not safe to repeat (creating a transfer) is
//! never resent blindly: an unanswered one is `Unknown` and must be looked up. Each API has a circuit breaker:
//! after repeated failures calls fail fast for a while, a CRITICAL alert says Cashfree is down, and an INFO
//! alert says when it answers again.

pub mod fields;
mod health;
pub mod payloads;

use crate::config::Config;
use crate::events::EventBus;
use crate::metrics::{CashfreeLabels, Metrics};
pub use health::{ApiHealth, HealthReport};
use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// The `x-api-version` paydesk speaks to the Payment Gateway and to Payouts.
const PG_VERSION: &str = "2025-01-01";
const PAYOUT_VERSION: &str = "2024-01-01";
/// Attempts of a call that may be repeated (the first included).
const ATTEMPTS: u32 = 3;
/// The longest wait between two attempts (Cashfree's `retry-after` included).
const MAX_WAIT: Duration = Duration::from_secs(5);

/// Which of Cashfree's APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Pg,
    Payouts,
}

impl Api {
    pub fn name(self) -> &'static str {
        match self {
            Api::Pg => "pg",
            Api::Payouts => "payouts",
        }
    }
}

/// A client id and secret.
#[derive(Clone)]
struct Credentials {
    id: String,
    secret: String,
}

/// Why a call did not succeed.
#[derive(Debug, Clone)]
pub enum CallError {
    /// Cashfree answered and refused (4xx other than 429): definitive, the call had no effect.
    Refused { status: u16, code: String, message: String },
    /// No definitive answer (timeout, connection error, 5xx): the call may or may not have taken effect.
    Unknown(String),
    /// Not sent: the API is not configured, or its circuit breaker is open.
    NotSent(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Refused { status, code, message } => write!(f, "Cashfree refused ({status} {code}): {message}"),
            CallError::Unknown(why) => write!(f, "Cashfree did not answer definitively: {why}"),
            CallError::NotSent(why) => write!(f, "not sent to Cashfree: {why}"),
        }
    }
}

/// Whether a call may be sent again after an unclear outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Safe to repeat (reads, or writes Cashfree deduplicates by our id).
    Safe,
    /// Never resent after an unclear outcome (a transfer): only a 429, which Cashfree did not act on.
    Once,
}

/// The Cashfree client of this instance.
pub struct Cashfree {
    http: reqwest::Client,
    base: String,
    pg: Option<Credentials>,
    payouts: Option<Credentials>,
    /// Every Payouts secret set (the first is `payouts`' own), for verifying payout webhooks during a rotation.
    payout_secrets: Vec<String>,
    /// The longest one call may take, every attempt and the waits between them included.
    longest: Duration,
    pub health: health::Health,
    /// The Payouts account's balance as last read (`read_payout_balance`).
    balance: std::sync::Mutex<Option<PayoutBalance>>,
}

/// The Cashfree Payouts account's balance: `available` is the ledger balance less transfers under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayoutBalance {
    pub balance: entity::Money,
    pub available: entity::Money,
    pub read_at: chrono::DateTime<chrono::Utc>,
}

impl Cashfree {
    /// From the configuration; an API without credentials stays unconfigured (local orders, manual payouts).
    pub fn new(config: &Config, events: EventBus, db: sea_orm::DatabaseConnection, metrics: Arc<Metrics>) -> Self {
        let base = config.cashfree_base_url.clone().unwrap_or_else(|| {
            if config.cashfree_env == "production" {
                "https://api.cashfree.com"
            } else {
                "https://sandbox.cashfree.com"
            }
            .to_owned()
        });
        let pg_secret = config.webhook_secrets().into_iter().next();
        let pg = match (config.cashfree_client_id.clone(), pg_secret) {
            (Some(id), Some(secret)) if !id.trim().is_empty() => Some(Credentials { id, secret }),
            _ => None,
        };
        let payout_secrets = config.payout_secrets();
        let payouts = match (config.cashfree_payout_client_id.clone(), payout_secrets.first().cloned()) {
            (Some(id), Some(secret)) if !id.trim().is_empty() => Some(Credentials { id, secret }),
            _ => None,
        };
        let timeout = Duration::from_millis(config.cashfree_timeout_ms.max(1));
        // Each attempt is bounded by the timeout, and each wait between attempts by `MAX_WAIT`.
        let longest = timeout * ATTEMPTS + MAX_WAIT * (ATTEMPTS - 1);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("a TLS-capable HTTP client");
        let open_for = Duration::from_secs(config.cashfree_breaker_secs.max(1));
        let health = health::Health::new(events, db, metrics, pg.is_some(), payouts.is_some(), open_for);
        let base = base.trim_end_matches('/').to_owned();
        let payout_secrets = if payouts.is_some() { payout_secrets } else { Vec::new() };
        Cashfree { http, base, pg, payouts, payout_secrets, longest, health, balance: Default::default() }
    }

    /// The longest one call may still be under way after it was sent (all its attempts): a look-up that finds
    /// nothing within this of a create call may have raced that call.
    pub fn longest_call(&self) -> Duration {
        self.longest
    }

    /// Whether calls to `api` are configured.
    pub fn configured(&self, api: Api) -> bool {
        self.credentials(api).is_some()
    }

    /// The secrets payout webhooks may be signed with (more than one during a key rotation); none unless Payouts
    /// is configured.
    pub fn payout_secrets(&self) -> &[String] {
        &self.payout_secrets
    }

    fn credentials(&self, api: Api) -> Option<&Credentials> {
        match api {
            Api::Pg => self.pg.as_ref(),
            Api::Payouts => self.payouts.as_ref(),
        }
    }

    /// Sends one call and returns Cashfree's JSON answer; `path` starts after `/pg` or `/payout`. The call is a
    /// span of the trace it is made in, and carries that trace's `traceparent`.
    pub async fn call(
        &self,
        api: Api,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
        repeat: Repeat,
    ) -> Result<Value, CallError> {
        let prefix = if api == Api::Pg { "/pg" } else { "/payout" };
        let span = client_span(&method, &format!("{prefix}{path}"));
        crate::traces::within(span, self.send(api, method, prefix, path, body, idempotency_key, repeat)).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        api: Api,
        method: Method,
        prefix: &str,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
        repeat: Repeat,
    ) -> Result<Value, CallError> {
        let creds =
            self.credentials(api).ok_or_else(|| CallError::NotSent(format!("{} is not configured", api.name())))?;
        if let Err(why) = self.health.admit(api) {
            self.count(api, "short_circuited");
            return Err(CallError::NotSent(why));
        }
        let url = format!("{}{prefix}{path}", self.base);
        let version = if api == Api::Pg { PG_VERSION } else { PAYOUT_VERSION };
        let mut last = CallError::Unknown("not tried".into());
        for attempt in 1..=ATTEMPTS {
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header("x-client-id", &creds.id)
                .header("x-client-secret", &creds.secret)
                .header("x-api-version", version)
                .header("x-request-id", uuid::Uuid::now_v7().to_string());
            if let Some(key) = idempotency_key {
                req = req.header("x-idempotency-key", key);
            }
            req = req.headers(crate::traces::headers());
            if let Some(b) = body {
                req = req.json(b);
            }
            let (outcome, retry_after) = match req.send().await {
                Ok(res) => {
                    let status = res.status().as_u16();
                    tracing::Span::current().record("http.response.status_code", status);
                    let retry_after = res
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let json: Value = res.json().await.unwrap_or(Value::Null);
                    (classify(status, json), retry_after)
                }
                Err(e) => (Err(CallError::Unknown(describe(e))), None),
            };
            let throttled = matches!(&outcome, Err(CallError::Refused { status: 429, .. }));
            match outcome {
                Ok(json) => {
                    self.count(api, "ok");
                    self.health.succeeded(api).await;
                    return Ok(json);
                }
                Err(e @ CallError::Refused { .. }) if !throttled => {
                    self.count(api, "ok"); // Cashfree answered: it is up
                    self.health.succeeded(api).await;
                    return Err(e);
                }
                Err(e) => {
                    if !throttled {
                        self.count(api, "failed");
                        self.health.failed(api, &e.to_string()).await;
                    }
                    last = e;
                }
            }
            let again = throttled || repeat == Repeat::Safe;
            if !again || attempt == ATTEMPTS || self.health.admit(api).is_err() {
                break;
            }
            let backoff = Duration::from_millis(200 * 2u64.pow(attempt - 1));
            tokio::time::sleep(retry_after.unwrap_or(backoff).min(MAX_WAIT)).await;
        }
        Err(last)
    }

    /// Where Payouts V1 (the balance) lives: its own host in production and sandbox, the same base elsewhere
    /// (the double).
    fn payouts_v1_base(&self) -> &str {
        match self.base.as_str() {
            "https://api.cashfree.com" => "https://payout-api.cashfree.com",
            "https://sandbox.cashfree.com" => "https://payout-gamma.cashfree.com",
            other => other,
        }
    }

    /// The balance as last read, if it has been.
    pub fn payout_balance(&self) -> Option<PayoutBalance> {
        *self.balance.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the Payouts account's balance (Payouts V1: `POST /payout/v1/authorize` for a bearer token, then
    /// `GET /payout/v1/getBalance`) and keeps it for `payout_balance`.
    pub async fn read_payout_balance(&self) -> Result<PayoutBalance, CallError> {
        let creds = self.payouts.as_ref().ok_or_else(|| CallError::NotSent("payouts is not configured".into()))?;
        if let Err(why) = self.health.admit(Api::Payouts) {
            return Err(CallError::NotSent(why));
        }
        let base = self.payouts_v1_base();
        let v1 = |res: Result<reqwest::Response, reqwest::Error>| async move {
            let res = res.map_err(|e| CallError::Unknown(describe(e)))?;
            let status = res.status().as_u16();
            let json: Value = res.json().await.unwrap_or(Value::Null);
            // V1 answers 200 with `status: ERROR` and the HTTP-like code in `subCode`.
            match (status, json["status"].as_str()) {
                (200..=299, Some("SUCCESS")) => Ok(json),
                (500.., _) => Err(CallError::Unknown(format!("HTTP {status}: {}", message(&json)))),
                _ => Err(CallError::Refused {
                    status,
                    code: json["subCode"].as_str().unwrap_or("unknown").to_owned(),
                    message: message(&json),
                }),
            }
        };
        let span = client_span(&Method::GET, "/payout/v1/getBalance");
        let outcome = async {
            let trace = crate::traces::headers();
            let auth = self
                .http
                .post(format!("{base}/payout/v1/authorize"))
                .header("X-Client-Id", &creds.id)
                .header("X-Client-Secret", &creds.secret)
                .headers(trace.clone())
                .send()
                .await;
            let token = v1(auth).await?;
            let token = token["data"]["token"].as_str().unwrap_or_default().to_owned();
            let read = self.http.get(format!("{base}/payout/v1/getBalance")).bearer_auth(token).headers(trace);
            let read = read.send().await;
            let json = v1(read).await?;
            let amount = |field: &str| {
                let text =
                    json["data"][field].as_str().map(str::to_owned).unwrap_or_else(|| json["data"][field].to_string());
                text.trim()
                    .parse::<rust_decimal::Decimal>()
                    .ok()
                    .and_then(|d| entity::Money::from_decimal(d).ok())
                    .ok_or_else(|| CallError::Unknown(format!("getBalance: data.{field} is not an amount: {text}")))
            };
            Ok(PayoutBalance {
                balance: amount("balance")?,
                available: amount("availableBalance")?,
                read_at: crate::clock::now(),
            })
        };
        let outcome: Result<PayoutBalance, CallError> = crate::traces::within(span, outcome).await;
        match &outcome {
            Ok(b) => {
                self.count(Api::Payouts, "ok");
                self.health.succeeded(Api::Payouts).await;
                *self.balance.lock().unwrap_or_else(|e| e.into_inner()) = Some(*b);
                let gauge = self
                    .health
                    .metrics
                    .cashfree_payout_balance
                    .get_or_create(&crate::metrics::CurrencyLabels { currency: "INR".into() });
                gauge.set(b.available.to_decimal().try_into().unwrap_or(0.0));
            }
            Err(CallError::Refused { .. }) => self.count(Api::Payouts, "ok"),
            Err(e) => {
                self.count(Api::Payouts, "failed");
                self.health.failed(Api::Payouts, &e.to_string()).await;
            }
        }
        outcome
    }

    fn count(&self, api: Api, outcome: &str) {
        let labels = CashfreeLabels { api: api.name().into(), outcome: outcome.into() };
        self.health.metrics.cashfree_calls.get_or_create(&labels).inc();
    }
}

/// The span of one call to Cashfree (its retries included), named as OpenTelemetry names client calls.
fn client_span(method: &Method, path: &str) -> tracing::Span {
    tracing::info_span!("cashfree", otel.name = %format!("{method} {path}"), otel.kind = "client",
        http.request.method = %method, url.path = %path, http.response.status_code = tracing::field::Empty)
}

/// Cashfree's answer as success or a refusal; a 5xx is an unknown outcome.
fn classify(status: u16, json: Value) -> Result<Value, CallError> {
    match status {
        200..=299 => Ok(json),
        500.. => Err(CallError::Unknown(format!("HTTP {status}: {}", message(&json)))),
        _ => Err(CallError::Refused {
            status,
            code: json["code"].as_str().unwrap_or("unknown").to_owned(),
            message: message(&json),
        }),
    }
}

fn message(json: &Value) -> String {
    json["message"].as_str().unwrap_or("no message").chars().take(300).collect()
}

/// A transport error in a line, without the URL (it holds nothing secret, but it is noise).
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        e.without_url().to_string()
    }
}

/// A Cashfree call's failure as the caller should see it.
pub fn call_error(e: CallError) -> crate::error::AppError {
    match e {
        CallError::Refused { message, .. } => crate::error::AppError::BadInput(format!("Cashfree refused: {message}")),
        other => crate::error::AppError::Unavailable(format!("{other}; try again shortly")),
    }
}
