//! Rate limits, kept on each instance ([`crate::budgets`]): a budget of requests a minute for each client address (every
//! route but health, metrics and Cashfree's webhooks, which are signed and deduplicated and must never be turned
//! away), one for each signed-in caller, and a smaller one for each caller's mutations that move money. A budget
//! refills evenly over the minute and may be spent at once. Over it: `429 Too Many Requests` with `Retry-After`
//! and code `RATE_LIMITED`.
//!
//! Behind proxies, the client address is the `X-Forwarded-For` entry `PAYDESK_TRUSTED_PROXY_HOPS` from the right:
//! the one the outermost trusted proxy appended. Entries further left are whatever the client wrote, and are never
//! read; without hops the header is ignored and the connection's peer is the client.

use crate::budgets::{forget_idle, keyed, Keyed};
use crate::error::AppError;
use crate::state::Settings;
use axum::http::HeaderMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use uuid::Uuid;

/// The budgets of this instance.
pub struct Limits {
    address: Option<Keyed<IpAddr>>,
    caller: Option<Keyed<Uuid>>,
    money: Option<Keyed<Uuid>>,
    hops: usize,
}

/// Spends one request of `key`'s budget, or says (`what`, made only then) when the next one may come.
fn spend<K: Hash + Eq + Clone>(
    limiter: &Option<Keyed<K>>,
    key: &K,
    what: impl FnOnce() -> String,
) -> Result<(), AppError> {
    crate::budgets::spend(limiter, key)
        .map_err(|secs| AppError::RateLimited(format!("{}; try again in {secs} s", what()), secs))
}

impl Limits {
    /// The budgets `settings` set, and a sweep that forgets callers idle for a while (so the tables stay small).
    pub fn new(settings: &Settings) -> Arc<Self> {
        let limits = Arc::new(Limits {
            address: keyed(settings.rate_per_address),
            caller: keyed(settings.rate_per_caller),
            money: keyed(settings.rate_money),
            hops: settings.trusted_proxy_hops,
        });
        let weak = Arc::downgrade(&limits);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(limits) = weak.upgrade() else { return };
                forget_idle(&limits.address);
                forget_idle(&limits.caller);
                forget_idle(&limits.money);
            }
        });
        limits
    }

    /// The client's address: the trusted proxies' `X-Forwarded-For` entry, else the connection's peer.
    pub fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        if self.hops == 0 {
            return peer.ip();
        }
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        entries.len().checked_sub(self.hops).and_then(|i| entries[i].parse().ok()).unwrap_or_else(|| peer.ip())
    }

    /// One request from `address`.
    pub fn address(&self, address: IpAddr) -> Result<(), AppError> {
        spend(&self.address, &address, || format!("too many requests from {address}"))
    }

    /// One request from the signed-in caller `id`.
    pub fn caller(&self, id: Uuid) -> Result<(), AppError> {
        spend(&self.caller, &id, || "too many requests from this caller".into())
    }

    /// One money-moving mutation by the caller `id`.
    pub fn money(&self, id: Uuid) -> Result<(), AppError> {
        spend(&self.money, &id, || "too many payouts, payments, refunds or ledger changes from this caller".into())
    }
}

/// Whether requests for `path` are spared the address budget: probes, metrics scrapes and Cashfree's deliveries.
pub fn exempt(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics") || path.starts_with("/api/webhooks/")
}
