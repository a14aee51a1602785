//! Rate limits, kept by `governor` on each instance: a budget of requests a minute for each client address (every
//! route but health, metrics and Cashfree's webhooks, which are signed and deduplicated and must never be turned
//! away), one for each signed-in caller, and a smaller one for each caller's mutations that move money. A budget
//! refills evenly over the minute and may be spent at once. Over it: `429 Too Many Requests` with `Retry-After`
//! and code `RATE_LIMITED`.
//!
//! Behind proxies, the client address is the `X-Forwarded-For` entry `PAYDESK_TRUSTED_PROXY_HOPS` from the right:
//! the one the outermost trusted proxy appended. Entries further left are whatever the client wrote, and are never
//! read; without hops the header is ignored and the connection's peer is the client.

use crate::error::AppError;
use crate::state::Settings;
use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use uuid::Uuid;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// The budgets of this instance.
pub struct Limits {
    address: Option<Keyed<IpAddr>>,
    caller: Option<Keyed<Uuid>>,
    money: Option<Keyed<Uuid>>,
    hops: usize,
}

fn keyed<K: Hash + Eq + Clone>(per_minute: u32) -> Option<Keyed<K>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

/// Forgets the keys whose budget is full again, and gives back the room they took.
fn forget_idle<K: Hash + Eq + Clone>(limiter: &Option<Keyed<K>>) {
    if let Some(l) = limiter {
        l.retain_recent();
        l.shrink_to_fit();
    }
}

/// Spends one request of `key`'s budget, or says (`what`, made only then) when the next one may come.
fn spend<K: Hash + Eq + Clone>(
    limiter: &Option<Keyed<K>>,
    key: &K,
    what: impl FnOnce() -> String,
) -> Result<(), AppError> {
    let Some(limiter) = limiter else { return Ok(()) };
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        AppError::RateLimited(format!("{}; try again in {secs} s", what()), secs.max(1))
    })
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
