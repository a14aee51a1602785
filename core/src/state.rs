//! `AppState`: what every handler shares. Nothing in it is per-process truth: all state lives in the database.

use crate::auth::JwtKeys;
use crate::config::Config;
use entity::Money;
use rust_decimal::Decimal;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// Settings the services read, parsed and checked once at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether HS256 tokens signed with `JWT_SECRET` sign callers in: always without an identity provider; with
    /// one, only if `JWT_SECRET` is set.
    pub hs256: bool,
    /// The identity provider whose tokens sign callers in, if one is configured.
    pub oidc: Option<crate::auth::oidc::Settings>,
    /// Requests a minute per client address, per signed-in caller, and money-moving mutations a minute per caller
    /// (`0`: none), and how many proxies' `X-Forwarded-For` entries to trust.
    pub rate_per_address: u32,
    pub rate_per_caller: u32,
    pub rate_money: u32,
    pub trusted_proxy_hops: usize,
    /// The operations callers other than admins may run, when a manifest is configured.
    pub trusted_documents: Option<Arc<crate::domain::trusted::Trusted>>,
    /// The reserve each wallet keeps, by its currency.
    pub reserves: crate::domain::money::Reserves,
    pub platform_fee_percent: Decimal,
    pub webhook_secrets: Vec<String>,
    pub webhook_tolerance_secs: u64,
    pub max_batch: usize,
    pub dataloader_delay: std::time::Duration,
    pub request_timeout: std::time::Duration,
    pub max_response_bytes: usize,
    pub header_timeout: std::time::Duration,
    pub max_connections: usize,
    pub max_sockets: usize,
    pub max_sockets_per_ip: usize,
    pub ws_init_timeout: std::time::Duration,
    /// `None`: sockets are not pinged.
    pub ws_ping: Option<std::time::Duration>,
    pub max_operations_per_socket: usize,
    pub metrics_token: Option<String>,
    pub transfer_poll: std::time::Duration,
    pub cors: Cors,
    pub risk: crate::domain::risk::RiskRules,
    /// The marketplace's callback for notifications, if configured.
    pub notify: Option<Callback>,
    /// How often each instance looks for notifications to deliver (or, without a callback, to mark skipped).
    pub notify_poll: std::time::Duration,
    /// How long events and idempotency keys are kept (`None`: for good).
    pub event_retention: Option<chrono::Duration>,
    pub idempotency_retention: Option<chrono::Duration>,
    /// How long a persisted document is kept after its last use (`None`: for good).
    pub persisted_retention: Option<chrono::Duration>,
    /// How long a refused webhook delivery is kept (`None`: for good).
    pub rejected_webhook_retention: Option<chrono::Duration>,
    /// Refused webhook deliveries one address may have stored a minute (0: no limit).
    pub webhook_rejects_per_minute: u32,
    /// How long a payment's credit waits before it is available (`PAYDESK_FUNDS_HOLD`), unless its wallet says.
    pub funds_hold: std::time::Duration,
    /// Whether a lost dispute returns the platform's fee on it to the wallet (`PAYDESK_DISPUTE_FEE_POLICY=return`).
    pub dispute_returns_fee: bool,
    /// The key that signs the history's checkpoints and erasures (`PAYDESK_HISTORY_SIGNING_KEY`), if set.
    pub history_signer: Option<crate::domain::signing::Signer>,
    /// What the history's signatures are checked with: the signing key's public key and the retired ones
    /// (`PAYDESK_HISTORY_RETIRED_KEYS`), if any.
    pub history_keys: Option<crate::domain::signing::PublicKeys>,
    /// How often a signed checkpoint is taken.
    pub history_checkpoint: std::time::Duration,
    /// The longest a token may still have to live when used (`PAYDESK_JWT_MAX_TTL`).
    pub jwt_max_ttl: std::time::Duration,
    /// How often settlements are fetched from Cashfree (`PAYDESK_SETTLEMENT_POLL`); none: only on demand.
    pub settlement_poll: Option<std::time::Duration>,
    /// How long after it was paid a payment Cashfree has not settled is MISSING_AT_PROVIDER.
    pub settlement_grace: chrono::Duration,
    /// Below this Payouts balance a WARNING `payout_balance_low` alert is raised (`PAYDESK_PAYOUT_BALANCE_LOW`).
    pub payout_balance_low: Option<Money>,
}

/// Where and how notifications are delivered (`PAYDESK_NOTIFY_*`).
#[derive(Debug, Clone)]
pub struct Callback {
    pub url: url::Url,
    pub secret: String,
    pub max_attempts: i32,
    pub retry_base: std::time::Duration,
    pub timeout: std::time::Duration,
}

/// Which browser origins may call the API (`PAYDESK_CORS_ORIGINS`).
#[derive(Debug, Clone, PartialEq)]
pub enum Cors {
    /// No cross-origin access (the default).
    Off,
    /// Any origin (`*`); tokens travel in headers, never cookies, so no credentials are allowed.
    Any,
    /// Exactly these origins, each `scheme://host[:port]`.
    Origins(Vec<String>),
}

impl Cors {
    /// Parses the configured origins; each must be `scheme://host[:port]` with nothing after it.
    pub fn parse(origins: &[String]) -> anyhow::Result<Cors> {
        let origins: Vec<&str> = origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()).collect();
        if origins.is_empty() {
            return Ok(Cors::Off);
        }
        if origins.contains(&"*") {
            anyhow::ensure!(origins.len() == 1, "PAYDESK_CORS_ORIGINS: `*` cannot be combined with other origins");
            return Ok(Cors::Any);
        }
        let parsed = origins
            .iter()
            .map(|o| {
                let uri: http::Uri = o.parse().map_err(|_| anyhow::anyhow!("PAYDESK_CORS_ORIGINS: `{o}` is not an origin"))?;
                let exact = uri.scheme().is_some()
                    && uri.host().is_some()
                    && matches!(uri.path_and_query().map(|p| p.as_str()), None | Some("/") | Some(""))
                    && !o.ends_with('/');
                anyhow::ensure!(
                    exact && matches!(uri.scheme_str(), Some("http" | "https")),
                    "PAYDESK_CORS_ORIGINS: `{o}` is not an origin; write scheme://host[:port], e.g. https://admin.example.com"
                );
                http::HeaderValue::from_str(o)?;
                Ok(o.to_string())
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Cors::Origins(parsed))
    }
}

impl Settings {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let payout_reserve =
            Money::from_decimal(config.payout_reserve).map_err(|e| anyhow::anyhow!("PAYOUT_RESERVE: {e}"))?;
        anyhow::ensure!(!payout_reserve.to_decimal().is_sign_negative(), "PAYOUT_RESERVE must not be negative");
        let fee = config.platform_fee_percent;
        anyhow::ensure!(
            fee >= Decimal::ZERO && fee <= Decimal::ONE_HUNDRED,
            "PLATFORM_FEE_PERCENT must be between 0 and 100, not {fee}"
        );
        let reserves = crate::domain::money::Reserves::parse(payout_reserve, &config.payout_reserves)
            .map_err(|e| anyhow::anyhow!("PAYOUT_RESERVES: {e}"))?;
        let oidc = oidc(config)?;
        let history_signer = config
            .history_signing_key
            .as_deref()
            .filter(|k| !k.trim().is_empty())
            .map(crate::domain::signing::Signer::from_setting)
            .transpose()?;
        let history_keys = history_keys(history_signer.as_ref(), &config.history_retired_keys)?;
        Ok(Self {
            hs256: oidc.is_none() || config.jwt_secret.as_deref().is_some_and(|s| !s.is_empty()),
            oidc,
            rate_per_address: config.rate_limit_per_address,
            rate_per_caller: config.rate_limit_per_caller,
            rate_money: config.rate_limit_money,
            trusted_proxy_hops: config.trusted_proxy_hops,
            trusted_documents: match &config.trusted_documents {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| anyhow::anyhow!("PAYDESK_TRUSTED_DOCUMENTS {}: {e}", path.display()))?;
                    let manifest = crate::domain::trusted::Trusted::parse(&text)
                        .map_err(|e| anyhow::anyhow!("PAYDESK_TRUSTED_DOCUMENTS {}: {e}", path.display()))?;
                    Some(Arc::new(manifest))
                }
                None => None,
            },
            reserves,
            platform_fee_percent: fee,
            webhook_secrets: config.webhook_secrets(),
            webhook_tolerance_secs: config.cashfree_webhook_tolerance_secs,
            max_batch: config.max_batch.max(1),
            dataloader_delay: std::time::Duration::from_millis(config.dataloader_delay_ms),
            request_timeout: std::time::Duration::from_millis(config.request_timeout_ms.max(1)),
            max_response_bytes: config.max_response_bytes,
            max_sockets: config.max_sockets,
            max_sockets_per_ip: config.max_sockets_per_ip,
            ws_init_timeout: std::time::Duration::from_millis(config.ws_init_timeout_ms.max(1)),
            header_timeout: std::time::Duration::from_millis(config.header_timeout_ms.max(1)),
            max_connections: config.max_connections.max(1),
            ws_ping: (config.ws_ping_ms > 0).then(|| std::time::Duration::from_millis(config.ws_ping_ms)),
            max_operations_per_socket: config.max_operations_per_socket.max(1),
            metrics_token: config.metrics_token.clone().filter(|t| !t.trim().is_empty()),
            transfer_poll: std::time::Duration::from_secs(config.transfer_poll_secs.max(1)),
            cors: Cors::parse(&config.cors_origins)?,
            risk: crate::domain::risk::RiskRules {
                requests_per_hour: config.risk_requests_per_hour,
                new_client_hours: config.risk_new_client_hours,
                median_multiple: config.risk_median_multiple.max(Decimal::ZERO),
                failed_payments: config.risk_failed_payments,
                four_eyes_above: config
                    .four_eyes_above
                    .map(|d| Money::from_decimal(d).map_err(|e| anyhow::anyhow!("PAYDESK_FOUR_EYES_ABOVE: {e}")))
                    .transpose()?,
            },
            notify: callback(config)?,
            notify_poll: std::time::Duration::from_millis(config.notify_poll_ms.max(10)),
            event_retention: retention(config.event_retention_days),
            idempotency_retention: retention(config.idempotency_retention_days),
            rejected_webhook_retention: retention(config.rejected_webhook_retention_days),
            persisted_retention: retention(config.persisted_retention_days),
            webhook_rejects_per_minute: config.webhook_rejects_per_minute,
            funds_hold: config.funds_hold,
            dispute_returns_fee: config.dispute_fee_policy == "return",
            history_signer,
            history_keys,
            history_checkpoint: config.history_checkpoint.max(std::time::Duration::from_secs(1)),
            jwt_max_ttl: config.jwt_max_ttl,
            settlement_poll: (!config.settlement_poll.is_zero()).then_some(config.settlement_poll),
            settlement_grace: chrono::Duration::from_std(config.settlement_grace)
                .map_err(|e| anyhow::anyhow!("PAYDESK_SETTLEMENT_GRACE: {e}"))?,
            payout_balance_low: config
                .payout_balance_low
                .map(|d| Money::from_decimal(d).map_err(|e| anyhow::anyhow!("PAYDESK_PAYOUT_BALANCE_LOW: {e}")))
                .transpose()?,
        })
    }
}

/// The identity provider, if `PAYDESK_OIDC_ISSUER` names one.
fn oidc(config: &Config) -> anyhow::Result<Option<crate::auth::oidc::Settings>> {
    let set = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let jwks_url = set(&config.jwks_url);
    let console = set(&config.console_client_id);
    let Some(issuer) = set(&config.oidc_issuer) else {
        anyhow::ensure!(
            jwks_url.is_none(),
            "PAYDESK_JWKS_URL needs PAYDESK_OIDC_ISSUER too: the issuer its tokens must carry in `iss`"
        );
        anyhow::ensure!(
            console.is_none(),
            "PAYDESK_CONSOLE_CLIENT_ID needs PAYDESK_OIDC_ISSUER too: the provider the console signs in at"
        );
        return Ok(None);
    };
    let audience = set(&config.jwt_audience).ok_or_else(|| {
        anyhow::anyhow!(
            "PAYDESK_JWT_AUDIENCE is required with PAYDESK_OIDC_ISSUER: what tokens for paydesk carry in `aud`"
        )
    })?;
    http_url("PAYDESK_OIDC_ISSUER", &issuer)?;
    if let Some(url) = &jwks_url {
        http_url("PAYDESK_JWKS_URL", url)?;
    }
    Ok(Some(crate::auth::oidc::Settings {
        issuer,
        jwks_url,
        audience,
        role_claim: config.role_claim.trim().to_owned(),
        roles: crate::auth::oidc::Settings::parse_roles(&config.role_map)
            .map_err(|e| anyhow::anyhow!("PAYDESK_ROLE_MAP: {e}"))?,
        subject_claim: config.subject_claim.trim().to_owned(),
        keys_ttl: config.jwks_ttl.max(std::time::Duration::from_millis(100)),
        min_refresh: config.jwks_min_refresh,
        leeway: 10,
        console: console.map(|id| (id, config.console_scope.trim().to_owned())),
    }))
}

/// The setting `name`'s value `url`, which must be an http or https URL.
fn http_url(name: &str, url: &str) -> anyhow::Result<url::Url> {
    let parsed: url::Url = url.parse().map_err(|e| anyhow::anyhow!("{name} `{url}`: {e}"))?;
    anyhow::ensure!(matches!(parsed.scheme(), "http" | "https"), "{name} must be an http(s) URL, not {url}");
    Ok(parsed)
}

/// The notification callback: a URL (http or https) with its signing secret, or neither.
fn callback(config: &Config) -> anyhow::Result<Option<Callback>> {
    let url = config.notify_url.as_deref().map(str::trim).filter(|u| !u.is_empty());
    let Some(url) = url else { return Ok(None) };
    let url = http_url("PAYDESK_NOTIFY_URL", url)?;
    let secret = config.notify_secret.clone().filter(|s| !s.trim().is_empty());
    let secret = secret.ok_or_else(|| {
        anyhow::anyhow!("PAYDESK_NOTIFY_SECRET is required with PAYDESK_NOTIFY_URL: deliveries are signed")
    })?;
    Ok(Some(Callback {
        url,
        secret,
        max_attempts: i32::from(config.notify_max_attempts.max(1)),
        retry_base: std::time::Duration::from_millis(config.notify_retry_base_ms.max(1)),
        timeout: std::time::Duration::from_millis(config.notify_timeout_ms.max(1)),
    }))
}

/// Shared by every request; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Writes, transactions and background work.
    pub db: DatabaseConnection,
    /// Reads outside transactions (on PostgreSQL a pool of their own, `db::Reads`).
    pub reads: crate::db::Reads,
    pub settings: Arc<Settings>,
    pub jwt: Arc<JwtKeys>,
    /// The identity provider whose tokens sign callers in, with its cached keys, if one is configured.
    pub idp: Option<Arc<crate::auth::oidc::Provider>>,
    /// This instance's Prometheus metrics (SQL statements run, requests, money moved, …).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Calls to Cashfree, with their circuit breakers.
    pub cashfree: Arc<crate::cashfree::Cashfree>,
    /// Live events for subscriptions (fed by LISTEN/NOTIFY on PostgreSQL).
    pub events: crate::events::EventBus,
    /// Webhook deliveries refused unread, per address: what may still be stored, and the bursts to alert on.
    pub rejections: Arc<crate::budgets::rejections::Rejections>,
}

/// The history's public keys: the signing key's and the retired ones, each 32 bytes in hex or base64.
fn history_keys(
    signer: Option<&crate::domain::signing::Signer>,
    retired: &[String],
) -> anyhow::Result<Option<crate::domain::signing::PublicKeys>> {
    use crate::domain::signing::{PublicKey, PublicKeys, Signer};
    let retired = PublicKey::parse_all(retired).map_err(|e| anyhow::anyhow!("PAYDESK_HISTORY_RETIRED_KEYS: {e}"))?;
    Ok(PublicKeys::of(signer.map(Signer::public).into_iter().chain(retired)))
}

/// A retention setting in days: 0 keeps everything.
fn retention(days: u32) -> Option<chrono::Duration> {
    (days > 0).then(|| chrono::Duration::days(i64::from(days)))
}
