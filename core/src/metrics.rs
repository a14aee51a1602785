//! Prometheus metrics of this instance, served at `GET /metrics`: HTTP requests, GraphQL operations, webhook
//! outcomes, payout decisions, money moved, SQL statements, its database pools' connections, and, read from the
//! database at each scrape (so every instance reports the same), the money held in wallets and the pending payout
//! backlog.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: &'static str,
    pub route: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// query, mutation or subscription; invalid for a document that did not parse or pass its limits.
    pub operation: &'static str,
    /// ok or error.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CurrencyLabels {
    pub currency: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FlowLabels {
    /// payments_gross, platform_fees, net_credited, payouts_paid.
    pub flow: String,
    pub currency: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CashfreeLabels {
    /// pg or payouts.
    pub api: String,
    /// ok (an answer, even a refusal), failed (no answer, 5xx, timeout) or short_circuited (breaker open).
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApiLabels {
    pub api: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// main (writes, transactions, background work) or reads (PostgreSQL only).
    pub pool: String,
    /// in_use or idle.
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolNameLabels {
    pub pool: String,
}

fn http_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 14))
}

/// The instance's metrics and the registry that encodes them.
pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub graphql_operations: Family<OperationLabels, Counter>,
    pub webhooks: Family<OutcomeLabels, Counter>,
    pub payouts: Family<StatusLabels, Counter>,
    pub money: Family<FlowLabels, Counter<f64, AtomicU64>>,
    pub sql_statements: Counter,
    pub wallet_balances: Family<CurrencyLabels, Gauge<f64, AtomicU64>>,
    pub pending_payouts: Family<CurrencyLabels, Gauge<f64, AtomicU64>>,
    pub cashfree_calls: Family<CashfreeLabels, Counter>,
    pub cashfree_up: Family<ApiLabels, Gauge>,
    pub cashfree_payout_balance: Family<CurrencyLabels, Gauge<f64, AtomicU64>>,
    pub notification_attempts: Family<OutcomeLabels, Counter>,
    pub notification_delay: Histogram,
    pub db_connections: Family<PoolLabels, Gauge>,
    pub db_connections_max: Family<PoolNameLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("paydesk");
        let m = Metrics {
            http_requests: Family::default(),
            http_seconds: Family::new_with_constructor(http_histogram as fn() -> Histogram),
            graphql_operations: Family::default(),
            webhooks: Family::default(),
            payouts: Family::default(),
            money: Family::default(),
            sql_statements: Counter::default(),
            wallet_balances: Family::default(),
            pending_payouts: Family::default(),
            cashfree_calls: Family::default(),
            cashfree_up: Family::default(),
            cashfree_payout_balance: Family::default(),
            notification_attempts: Family::default(),
            notification_delay: Histogram::new(exponential_buckets(0.05, 2.0, 16)),
            db_connections: Family::default(),
            db_connections_max: Family::default(),
            registry: Registry::default(),
        };
        registry.register("http_requests", "HTTP requests by method, route and status", m.http_requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency by route", m.http_seconds.clone());
        registry.register(
            "graphql_operations",
            "GraphQL queries and mutations by outcome",
            m.graphql_operations.clone(),
        );
        registry.register("webhook_deliveries", "Cashfree webhook deliveries by outcome", m.webhooks.clone());
        registry.register("payouts", "Payout requests and decisions by status", m.payouts.clone());
        registry.register(
            "money",
            "Money moved by this instance, in major units, by flow and currency",
            m.money.clone(),
        );
        registry.register("sql_statements", "SQL statements run", m.sql_statements.clone());
        registry.register(
            "wallet_balance",
            "Sum of wallet balances by currency (database-wide, at scrape)",
            m.wallet_balances.clone(),
        );
        registry.register(
            "pending_payouts_amount",
            "Sum of pending payout requests by currency (database-wide, at scrape)",
            m.pending_payouts.clone(),
        );
        registry.register("cashfree_calls", "Calls to Cashfree by API and outcome", m.cashfree_calls.clone());
        registry.register(
            "cashfree_up",
            "1 while this instance reaches the Cashfree API, 0 while not",
            m.cashfree_up.clone(),
        );
        registry.register(
            "cashfree_payout_balance",
            "The Cashfree Payouts account's available balance, as this instance last read it",
            m.cashfree_payout_balance.clone(),
        );
        registry.register(
            "notification_delivery_attempts",
            "Attempts to deliver notifications to the callback, by outcome (delivered, retrying, failed)",
            m.notification_attempts.clone(),
        );
        registry.register(
            "notification_delivery_delay_seconds",
            "From a notification's creation to its delivery",
            m.notification_delay.clone(),
        );
        registry.register(
            "db_connections",
            "This instance's open database connections by pool and state (at scrape)",
            m.db_connections.clone(),
        );
        registry.register(
            "db_connections_max",
            "The most connections each pool of this instance opens",
            m.db_connections_max.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// Counts money moved; `minor` is in minor units.
    pub fn money_moved(&self, flow: &str, currency: &str, amount: entity::Money) {
        let major = amount.minor() as f64 / 100.0;
        self.money.get_or_create(&FlowLabels { flow: flow.into(), currency: currency.into() }).inc_by(major);
    }

    /// Sets the database-wide totals of one currency, in major units.
    pub fn money_totals(&self, currency: &str, balances: entity::Money, pending: entity::Money) {
        let labels = CurrencyLabels { currency: currency.into() };
        self.wallet_balances.get_or_create(&labels).set(balances.minor() as f64 / 100.0);
        self.pending_payouts.get_or_create(&labels).set(pending.minor() as f64 / 100.0);
    }

    /// Counts a delivery attempt; a delivery also records how long after its creation it arrived.
    pub fn notification_delivery(&self, outcome: &str, since_created: std::time::Duration) {
        self.notification_attempts.get_or_create(&OutcomeLabels { outcome: outcome.into() }).inc();
        if outcome == "delivered" {
            self.notification_delay.observe(since_created.as_secs_f64());
        }
    }

    /// Sets a pool's connection gauges.
    pub fn pool(&self, pool: &str, now: crate::db::PoolUse) {
        let state = |state: &str| PoolLabels { pool: pool.into(), state: state.into() };
        self.db_connections.get_or_create(&state("in_use")).set(now.in_use as i64);
        self.db_connections.get_or_create(&state("idle")).set(now.idle as i64);
        self.db_connections_max.get_or_create(&PoolNameLabels { pool: pool.into() }).set(now.max as i64);
    }

    pub fn payout(&self, status: &str) {
        self.payouts.get_or_create(&StatusLabels { status: status.into() }).inc();
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "could not encode metrics");
        }
        out
    }
}
