//! The server's settings: each has a flag, an environment variable and a default (the binary's command line
//! flattens `Config` into `paydesk serve`).

use clap::{Args, Parser};
use rust_decimal::Decimal;
use std::net::SocketAddr;

/// The server's settings.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database to use: `sqlite://FILE?mode=rwc` (embedded) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://paydesk.db?mode=rwc")]
    pub database_url: String,
    /// Where the event listener's one PostgreSQL connection goes, if not to `DATABASE_URL`: a direct address of
    /// the database when `DATABASE_URL` goes through a connection pooler (PgBouncer), since a LISTEN lives as long
    /// as its session.
    #[arg(long, env = "PAYDESK_DATABASE_LISTEN_URL", hide_env_values = true)]
    pub database_listen_url: Option<String>,
    /// PostgreSQL connections this instance opens at most for reads, and as many for writes and background work,
    /// plus one that listens for events (SQLite always has one): at most twice this and one per instance, and
    /// when idle this and one. A few per core of the database server: more only queue inside PostgreSQL.
    /// By default four per core of this machine (4 to 32).
    #[arg(long, env = "PAYDESK_DB_POOL_SIZE", default_value_t = crate::db::default_pool_size(),
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_pool_size: u32,
    /// How long a PostgreSQL connection may sit unused before this instance closes it, e.g. `1m`: an instance with
    /// nothing to read gives its read connections back.
    #[arg(long, env = "PAYDESK_DB_IDLE_CLOSE", default_value = "1m", value_parser = humantime::parse_duration)]
    pub db_idle_close: std::time::Duration,
    /// Address the HTTP server listens on.
    #[arg(long, env = "PAYDESK_ADDR", default_value = "0.0.0.0:3000")]
    pub addr: SocketAddr,
    /// HS256 secret that signs and verifies JWTs; unset, `serve` makes a random one for this run.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Cashfree client secret(s) that sign webhooks; comma-separated during a key rotation.
    #[arg(long, env = "CASHFREE_CLIENT_SECRET", value_delimiter = ',', hide_env_values = true)]
    pub cashfree_client_secret: Vec<String>,
    /// Cashfree Payment Gateway client id; with it (and `CASHFREE_CLIENT_SECRET`) orders are created at Cashfree.
    #[arg(long, env = "CASHFREE_CLIENT_ID")]
    pub cashfree_client_id: Option<String>,
    /// Cashfree Payouts client id; with it and its secret, approving a payout sends a transfer.
    #[arg(long, env = "CASHFREE_PAYOUT_CLIENT_ID")]
    pub cashfree_payout_client_id: Option<String>,
    /// Cashfree Payouts client secret(s): the first calls Cashfree and each verifies payout webhooks
    /// (comma-separated during a key rotation, when Cashfree signs with the oldest active key).
    #[arg(long, env = "CASHFREE_PAYOUT_CLIENT_SECRET", value_delimiter = ',', hide_env_values = true)]
    pub cashfree_payout_client_secret: Vec<String>,
    /// Which Cashfree: `sandbox` or `production`.
    #[arg(long, env = "CASHFREE_ENV", default_value = "sandbox", value_parser = ["sandbox", "production"])]
    pub cashfree_env: String,
    /// Cashfree's address, overriding `CASHFREE_ENV` (for the local double: `http://127.0.0.1:8787`).
    #[arg(long, env = "CASHFREE_BASE_URL")]
    pub cashfree_base_url: Option<String>,
    /// How long one call to Cashfree may take, in milliseconds.
    #[arg(long, env = "CASHFREE_TIMEOUT_MS", default_value_t = 10_000)]
    pub cashfree_timeout_ms: u64,
    /// How long calls to a Cashfree API fail fast after repeated failures, in seconds, before one tries again.
    #[arg(long, env = "CASHFREE_BREAKER_SECS", default_value_t = 15)]
    pub cashfree_breaker_secs: u64,
    /// How often payouts whose transfer is still PROCESSING are checked with Cashfree, in seconds.
    #[arg(long, env = "PAYDESK_TRANSFER_POLL_SECS", default_value_t = 30)]
    pub transfer_poll_secs: u64,
    /// Largest accepted age of `x-webhook-timestamp`, in seconds; 0 turns the check off.
    #[arg(long, env = "CASHFREE_WEBHOOK_TOLERANCE_SECS", default_value_t = 86_400)]
    pub cashfree_webhook_tolerance_secs: u64,
    /// The balance a payout may never take a wallet below, in the wallet's currency.
    #[arg(long, env = "PAYOUT_RESERVE", default_value = "100.00")]
    pub payout_reserve: Decimal,
    /// Per-currency reserves over PAYOUT_RESERVE, comma-separated `CUR:amount` (e.g. `USD:10.00,EUR:10.00`).
    #[arg(long, env = "PAYOUT_RESERVES", value_delimiter = ',')]
    pub payout_reserves: Vec<String>,
    /// The platform's share of each successful payment, in percent.
    #[arg(long, env = "PLATFORM_FEE_PERCENT", default_value = "10")]
    pub platform_fee_percent: Decimal,
    /// Log format: `text` for people, `json` for log pipelines.
    #[arg(long, env = "PAYDESK_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Extra time a DataLoader waits for keys before it queries, in milliseconds. At 0 it queries once the
    /// executor has finished the pass registering a page's keys, which already batches them.
    #[arg(long, env = "PAYDESK_DATALOADER_DELAY_MS", default_value_t = 0)]
    pub dataloader_delay_ms: u64,
    /// Events buffered per instance for the slowest subscriber; one that falls further behind is told what it missed.
    #[arg(long, env = "PAYDESK_EVENT_BUFFER", default_value_t = 1024)]
    pub event_buffer: usize,
    /// Do not run pending migrations when the server starts.
    #[arg(long)]
    pub no_migrate: bool,
    /// Largest number of operations in one batched GraphQL request.
    #[arg(long, env = "PAYDESK_MAX_BATCH", default_value_t = 10)]
    pub max_batch: usize,
    /// Longest a GraphQL request may run, in milliseconds; then its work is stopped and it answers TIMEOUT.
    #[arg(long, env = "PAYDESK_REQUEST_TIMEOUT_MS", default_value_t = 10_000)]
    pub request_timeout_ms: u64,
    /// Largest GraphQL response sent, in bytes; a larger one is replaced by an error asking for less.
    #[arg(long, env = "PAYDESK_MAX_RESPONSE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_response_bytes: usize,
    /// How long a connection may take to send a request's headers, in milliseconds, the wait after a keep-alive
    /// response included; then it is closed.
    #[arg(long, env = "PAYDESK_HEADER_TIMEOUT_MS", default_value_t = 30_000)]
    pub header_timeout_ms: u64,
    /// Most HTTP connections served at once on this instance (upgraded WebSockets count under
    /// `PAYDESK_MAX_SOCKETS` instead); more wait to be accepted.
    #[arg(long, env = "PAYDESK_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Most WebSocket connections open at once on this instance.
    #[arg(long, env = "PAYDESK_MAX_SOCKETS", default_value_t = 10_000)]
    pub max_sockets: usize,
    /// Most WebSocket connections open at once from one client address.
    #[arg(long, env = "PAYDESK_MAX_SOCKETS_PER_IP", default_value_t = 100)]
    pub max_sockets_per_ip: usize,
    /// Most operations (subscriptions, mostly) one WebSocket runs at once; one more is refused with an `error`.
    #[arg(long, env = "PAYDESK_MAX_OPERATIONS_PER_SOCKET", default_value_t = 100)]
    pub max_operations_per_socket: usize,
    /// How often a WebSocket is pinged, in milliseconds; one whose client answers nothing (not even a pong) for two
    /// of these is closed and its place freed. 0: no pings.
    #[arg(long, env = "PAYDESK_WS_PING_MS", default_value_t = 30_000)]
    pub ws_ping_ms: u64,
    /// How long a new WebSocket may take to send `connection_init`, in milliseconds; then it is closed (4408).
    #[arg(long, env = "PAYDESK_WS_INIT_TIMEOUT_MS", default_value_t = 10_000)]
    pub ws_init_timeout_ms: u64,
    /// Bearer token that `/metrics` requires (a staff JWT works too); unset, only a staff JWT opens it.
    #[arg(long, env = "PAYDESK_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Origins (`https://admin.example.com`, comma-separated) whose pages may call the API from a browser; `*` for
    /// any. Unset: no cross-origin access.
    #[arg(long, env = "PAYDESK_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Risk: a wallet's payout requests within an hour beyond this many are flagged (0: off).
    #[arg(long, env = "PAYDESK_RISK_REQUESTS_PER_HOUR", default_value_t = 3)]
    pub risk_requests_per_hour: u32,
    /// Risk: a payout requested while funds from a first-time client are this many hours old or less is flagged
    /// (0: off).
    #[arg(long, env = "PAYDESK_RISK_NEW_CLIENT_HOURS", default_value_t = 24)]
    pub risk_new_client_hours: u32,
    /// Risk: a payout above this many times the wallet's median payout is flagged (0: off).
    #[arg(long, env = "PAYDESK_RISK_MEDIAN_MULTIPLE", default_value = "5")]
    pub risk_median_multiple: Decimal,
    /// Risk: a wallet funded by a client with this many failed payments within 24 h is flagged (0: off).
    #[arg(long, env = "PAYDESK_RISK_FAILED_PAYMENTS", default_value_t = 3)]
    pub risk_failed_payments: u32,
    /// Four-eyes: a payout above this amount needs the approvals of two different admins. Unset: one suffices.
    #[arg(long, env = "PAYDESK_FOUR_EYES_ABOVE")]
    pub four_eyes_above: Option<Decimal>,
    /// The marketplace's callback URL: every notification is POSTed there, signed. Unset: notifications are only
    /// stored (their delivery reads SKIPPED).
    #[arg(long, env = "PAYDESK_NOTIFY_URL")]
    pub notify_url: Option<String>,
    /// The secret that signs callback deliveries (required with PAYDESK_NOTIFY_URL).
    #[arg(long, env = "PAYDESK_NOTIFY_SECRET", hide_env_values = true)]
    pub notify_secret: Option<String>,
    /// Attempts per notification before its delivery is FAILED (and alerted).
    #[arg(long, env = "PAYDESK_NOTIFY_MAX_ATTEMPTS", default_value_t = 10)]
    pub notify_max_attempts: u16,
    /// The first retry's wait; each further one doubles it, up to an hour.
    #[arg(long, env = "PAYDESK_NOTIFY_RETRY_BASE_MS", default_value_t = 2_000)]
    pub notify_retry_base_ms: u64,
    /// Longest wait for the callback's answer.
    #[arg(long, env = "PAYDESK_NOTIFY_TIMEOUT_MS", default_value_t = 5_000)]
    pub notify_timeout_ms: u64,
    /// How often each instance looks for notifications due.
    #[arg(long, env = "PAYDESK_NOTIFY_POLL_MS", default_value_t = 500)]
    pub notify_poll_ms: u64,
    /// Days the event log keeps an event (alerts and events, listed and replayed); older ones are deleted hourly,
    /// and a resume cursor from before what is kept is refused with EVENTS_MISSED. 0: keep every event; at most
    /// 36500.
    #[arg(long, env = "PAYDESK_EVENT_RETENTION_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(0..=36_500))]
    pub event_retention_days: u32,
    /// Days an idempotency key is remembered; a repeat after that is a new request. 0: remember every key; at most
    /// 36500.
    #[arg(long, env = "PAYDESK_IDEMPOTENCY_RETENTION_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(0..=36_500))]
    pub idempotency_retention_days: u32,
    /// Days a persisted document (automatic persisted queries) is kept after it was last run by its hash; older
    /// ones are deleted hourly, and a client that sends the hash again is asked for the text. 0: keep them; at most
    /// 36500.
    #[arg(long, env = "PAYDESK_PERSISTED_RETENTION_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(0..=36_500))]
    pub persisted_retention_days: u32,
    /// Webhook deliveries refused unread (a signature that does not hold, a body over the size limit) that one
    /// address may have stored a minute; beyond it they are answered 429 and only counted. 0: no limit.
    #[arg(long, env = "PAYDESK_WEBHOOK_REJECTS_PER_MINUTE", default_value_t = 30)]
    pub webhook_rejects_per_minute: u32,
    /// Days a refused webhook delivery (its headers, size, hash and first 4 KiB) is kept; older ones are deleted
    /// hourly. 0: keep them; at most 36500.
    #[arg(long, env = "PAYDESK_REJECTED_WEBHOOK_RETENTION_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(0..=36_500))]
    pub rejected_webhook_retention_days: u32,
    /// How long a payment's credit waits before it can be paid out (`0s`: at once; e.g. `7d`, `36h`); an admin
    /// may set another for one wallet (`setFundsHold`). At most 366 days.
    #[arg(long, env = "PAYDESK_FUNDS_HOLD", default_value = "0s", value_parser = crate::domain::hold::parse)]
    pub funds_hold: std::time::Duration,
    /// What a lost dispute does with the platform's fee on the disputed amount: `keep` it (the freelancer bears
    /// the whole disputed amount) or `return` it to the freelancer's wallet (the platform bears its fee).
    #[arg(long, env = "PAYDESK_DISPUTE_FEE_POLICY", default_value = "keep", value_parser = ["keep", "return"])]
    pub dispute_fee_policy: String,
    /// How often each instance checks the next slice of the history chains (audit, journal, webhooks) and raises
    /// `history_tampered` on what it finds, e.g. `1m`, `30s`.
    #[arg(long, env = "PAYDESK_HISTORY_VERIFY", default_value = "1m", value_parser = humantime::parse_duration)]
    pub history_verify: std::time::Duration,
    /// The longest a token may still have to live when it is used (`exp` at most this far ahead), however it was
    /// signed, e.g. `1d`, `12h`.
    #[arg(long, env = "PAYDESK_JWT_MAX_TTL", default_value = "1d", value_parser = humantime::parse_duration)]
    pub jwt_max_ttl: std::time::Duration,
    /// The Ed25519 key that signs the history's checkpoints and erasures: a file holding its 32-byte seed (hex or
    /// base64) or the seed itself (`paydesk history-key` makes one). Keep it outside the database; without it
    /// checkpoints are not signed and nothing can be erased.
    #[arg(long, env = "PAYDESK_HISTORY_SIGNING_KEY", hide_env_values = true)]
    pub history_signing_key: Option<String>,
    /// The public keys of signing keys used before a rotation (comma-separated, hex or base64): the checkpoints
    /// and erasures they signed still verify. A key that may have leaked is not retired but removed.
    #[arg(long, env = "PAYDESK_HISTORY_RETIRED_KEYS", value_delimiter = ',')]
    pub history_retired_keys: Vec<String>,
    /// How often one instance signs every chain's head (`history_signed_checkpoints`), e.g. `1m`.
    #[arg(long, env = "PAYDESK_HISTORY_CHECKPOINT", default_value = "1m", value_parser = humantime::parse_duration)]
    pub history_checkpoint: std::time::Duration,
    /// How often each instance links newly committed audit entries, journal entries and webhook deliveries into
    /// their history chains, e.g. `5s`: longer batches more rows into each link transaction (bench/README.md).
    #[arg(long, env = "PAYDESK_HISTORY_LINK", default_value = "5s", value_parser = humantime::parse_duration)]
    pub history_link: std::time::Duration,
    /// How often each instance fetches Cashfree's settlements of the last 7 days and reconciles them (`0s`: only
    /// on demand, `reconcileSettlements`); a window is fetched by one instance. Needs the Payment Gateway set.
    #[arg(long, env = "PAYDESK_SETTLEMENT_POLL", default_value = "1h", value_parser = humantime::parse_duration)]
    pub settlement_poll: std::time::Duration,
    /// How long after it was paid a payment Cashfree has not settled is reported MISSING_AT_PROVIDER.
    #[arg(long, env = "PAYDESK_SETTLEMENT_GRACE", default_value = "3d", value_parser = humantime::parse_duration)]
    pub settlement_grace: std::time::Duration,
    /// Raise a WARNING `payout_balance_low` alert when the Cashfree Payouts balance falls below this amount
    /// (e.g. `50000.00`); unset: never.
    #[arg(long, env = "PAYDESK_PAYOUT_BALANCE_LOW")]
    pub payout_balance_low: Option<rust_decimal::Decimal>,
    /// The identity provider whose tokens sign callers in: its issuer identifier (the `iss` of its tokens); its
    /// keys are found through `{issuer}/.well-known/openid-configuration` unless `PAYDESK_JWKS_URL` names them.
    /// With it, HS256 tokens are accepted only if `JWT_SECRET` is set.
    #[arg(long, env = "PAYDESK_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// Requests a minute each client address may send (every route but health, metrics and Cashfree's webhooks);
    /// `0`: no limit.
    #[arg(long, env = "PAYDESK_RATE_LIMIT_PER_ADDRESS", default_value_t = 1200)]
    pub rate_limit_per_address: u32,
    /// Requests a minute each signed-in caller may send (HTTP and GraphQL); `0`: no limit.
    #[arg(long, env = "PAYDESK_RATE_LIMIT_PER_CALLER", default_value_t = 600)]
    pub rate_limit_per_caller: u32,
    /// Mutations that move money (request, approve or cancel a payout, verify a payment, reprocess a webhook,
    /// adjust a ledger, refund) each signed-in caller may run a minute; `0`: no limit.
    #[arg(long, env = "PAYDESK_RATE_LIMIT_MONEY", default_value_t = 60)]
    pub rate_limit_money: u32,
    /// Proxies in front of paydesk that append to `X-Forwarded-For`: the client address is the entry this many from
    /// the right; `0` (no proxy): the connection's peer, and the header is ignored.
    #[arg(long, env = "PAYDESK_TRUSTED_PROXY_HOPS", default_value_t = 0)]
    pub trusted_proxy_hops: usize,
    /// A manifest of the operations the marketplace's frontends ship (Apollo's persisted-query manifest, or the map
    /// of id to text Relay and graphql-codegen write): callers other than admins may then run only those.
    #[arg(long, env = "PAYDESK_TRUSTED_DOCUMENTS")]
    pub trusted_documents: Option<std::path::PathBuf>,
    /// The provider's JWKS, read directly instead of through discovery (with `PAYDESK_OIDC_ISSUER`).
    #[arg(long, env = "PAYDESK_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// What the provider's tokens for paydesk carry in `aud`; required with a provider.
    #[arg(long, env = "PAYDESK_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Where a provider's token names the role: a claim's whole name (`https://paydesk/role`) or a dotted path
    /// (`realm_access.roles`); a string or a list of strings.
    #[arg(long, env = "PAYDESK_ROLE_CLAIM", default_value = "role")]
    pub role_claim: String,
    /// The provider's role names and the paydesk role each is, `name=role` comma-separated
    /// (`paydesk-admin=admin,paydesk-ops=ops,paydesk-freelancer=freelancer`); unset: `admin`, `ops` and
    /// `freelancer` as they are. A token naming several takes the highest.
    #[arg(long, env = "PAYDESK_ROLE_MAP", value_delimiter = ',')]
    pub role_map: Vec<String>,
    /// The claim (whole name or dotted path) that names a provider's subject: any string.
    #[arg(long, env = "PAYDESK_SUBJECT_CLAIM", default_value = "sub")]
    pub subject_claim: String,
    /// How long the provider's keys are used before they are read again, e.g. `10m`.
    #[arg(long, env = "PAYDESK_JWKS_TTL", default_value = "10m", value_parser = humantime::parse_duration)]
    pub jwks_ttl: std::time::Duration,
    /// The least time between two reads of the provider's keys prompted by tokens naming a key not held.
    #[arg(long, env = "PAYDESK_JWKS_MIN_REFRESH", default_value = "30s", value_parser = humantime::parse_duration)]
    pub jwks_min_refresh: std::time::Duration,
    /// The console's client at the identity provider (public: authorization code with PKCE, redirecting to
    /// `/console`); set, the console offers to sign in there. Needs PAYDESK_OIDC_ISSUER.
    #[arg(long, env = "PAYDESK_CONSOLE_CLIENT_ID")]
    pub console_client_id: Option<String>,
    /// The scopes the console asks the identity provider for (space-separated).
    #[arg(long, env = "PAYDESK_CONSOLE_SCOPE", default_value = "openid")]
    pub console_scope: String,
}

impl Config {
    /// The defaults, as if no flag or variable were given: the environment is ignored (tests start from this).
    pub fn defaults() -> Self {
        use clap::{CommandFactory, FromArgMatches};
        /// `Config` alone, to read its defaults.
        #[derive(Parser)]
        struct Alone {
            #[command(flatten)]
            config: Config,
        }
        let matches = Alone::command().mut_args(|arg| arg.env(None::<&str>)).get_matches_from(["paydesk"]);
        Alone::from_arg_matches(&matches).expect("the defaults parse").config
    }

    /// The webhook secrets that are actually set (empty entries dropped).
    pub fn webhook_secrets(&self) -> Vec<String> {
        set(&self.cashfree_client_secret)
    }

    /// The Payouts secrets that are actually set (empty entries dropped): the first calls Cashfree.
    pub fn payout_secrets(&self) -> Vec<String> {
        set(&self.cashfree_payout_client_secret)
    }
}

/// The entries of a comma-separated secret setting that are set, trimmed.
fn set(secrets: &[String]) -> Vec<String> {
    secrets.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_contracts_whatever_the_environment() {
        let c = Config::defaults();
        assert_eq!(c.payout_reserve.to_string(), "100.00");
        assert_eq!(c.platform_fee_percent.to_string(), "10");
        assert_eq!(c.addr.to_string(), "0.0.0.0:3000");
        assert_eq!(c.database_url, "sqlite://paydesk.db?mode=rwc");
        assert_eq!(c.cashfree_webhook_tolerance_secs, 86_400);
        assert_eq!(c.funds_hold, std::time::Duration::ZERO, "credits are available at once unless told otherwise");
    }
}
