//! Budgets a minute per key (a client address, a caller, a sender of refused webhooks), kept by `governor` on each
//! instance: a budget refills evenly over the minute and may be spent at once.

pub mod rejections;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::hash::Hash;
use std::num::NonZeroU32;

/// A budget per key.
pub type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// `per_minute` for each key; none (no limit) for 0.
pub fn keyed<K: Hash + Eq + Clone>(per_minute: u32) -> Option<Keyed<K>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

/// Spends one of `key`'s budget, or says in how many seconds (at least one) the next may come.
pub fn spend<K: Hash + Eq + Clone>(limiter: &Option<Keyed<K>>, key: &K) -> Result<(), u64> {
    let Some(limiter) = limiter else { return Ok(()) };
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
    })
}

/// Forgets the keys whose budget is full again, and gives back the room they took.
pub fn forget_idle<K: Hash + Eq + Clone>(limiter: &Option<Keyed<K>>) {
    if let Some(l) = limiter {
        l.retain_recent();
        l.shrink_to_fit();
    }
}
