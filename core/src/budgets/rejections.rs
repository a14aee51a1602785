//! Deliveries refused unread (a signature that does not hold, a body over the size limit), per sending address:
//! how many may still be stored this minute (`PAYDESK_WEBHOOK_REJECTS_PER_MINUTE`, kept by `governor`), and the
//! bursts they come in, so that a flood raises one alert with a count instead of one alert a delivery.

use crate::budgets::Keyed;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A burst ends after this long without a refusal from its address.
const QUIET: Duration = Duration::from_secs(300);
/// Within a burst, at most one alert this often, counting what came since the last.
pub const ALERT_EVERY: Duration = Duration::from_secs(60);

/// One address's refusals since its last alert.
#[derive(Debug)]
struct Burst {
    started: Instant,
    last_seen: Instant,
    last_alert: Instant,
    /// Refused since the last alert, and of those, answered 429 without being stored.
    refused: u64,
    unstored: u64,
    /// What the last one was refused for.
    why: String,
}

/// Refused deliveries, per address.
pub struct Rejections {
    stored: Option<Keyed<IpAddr>>,
    bursts: Mutex<HashMap<IpAddr, Burst>>,
}

/// What a refusal comes to: stored or not, and an alert to raise now, if one is due.
pub struct Noted {
    /// Seconds until the address may have one stored again, when this one may not be.
    pub throttled: Option<u64>,
    pub alert: Option<String>,
}

/// The address a delivery came from, or the unspecified address when it is not known (a caller in process).
fn key(from: Option<IpAddr>) -> IpAddr {
    from.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

impl Rejections {
    /// `per_minute` refused deliveries stored per address (0: every one).
    pub fn new(per_minute: u32) -> Arc<Self> {
        Arc::new(Rejections { stored: crate::budgets::keyed(per_minute), bursts: Mutex::default() })
    }

    /// A delivery from `from` refused for `why` (`source`: "webhook", "payout webhook"): whether it may be stored,
    /// and the alert it brings, once per burst and then at most once every minute with the count since.
    pub fn refused(&self, from: Option<IpAddr>, source: &str, why: &str) -> Noted {
        self.refused_at(Instant::now(), from, source, why)
    }

    fn refused_at(&self, now: Instant, from: Option<IpAddr>, source: &str, why: &str) -> Noted {
        let address = key(from);
        let throttled = crate::budgets::spend(&self.stored, &address).err();
        let mut bursts = self.bursts.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = bursts.get(&address).is_none_or(|b| now.duration_since(b.last_seen) > QUIET);
        if fresh {
            bursts.insert(
                address,
                Burst { started: now, last_seen: now, last_alert: now, refused: 0, unstored: 0, why: why.to_owned() },
            );
            let alert = format!("{source} from {address} refused: {why}");
            return Noted { throttled, alert: Some(alert) };
        }
        let burst = bursts.get_mut(&address).expect("present");
        burst.last_seen = now;
        burst.refused += 1;
        burst.unstored += u64::from(throttled.is_some());
        burst.why = why.to_owned();
        let alert = (now.duration_since(burst.last_alert) >= ALERT_EVERY).then(|| said(address, burst, now));
        Noted { throttled, alert }
    }

    /// The alerts of bursts with refusals not yet told of, whose last alert is a minute old; forgets bursts over.
    pub fn due(&self, now: Instant) -> Vec<String> {
        let mut bursts = self.bursts.lock().unwrap_or_else(|e| e.into_inner());
        let mut due = Vec::new();
        for (address, burst) in bursts.iter_mut() {
            if burst.refused > 0 && now.duration_since(burst.last_alert) >= ALERT_EVERY {
                due.push(said(*address, burst, now));
            }
        }
        bursts.retain(|_, b| now.duration_since(b.last_seen) <= QUIET || b.refused > 0);
        crate::budgets::forget_idle(&self.stored);
        due
    }
}

/// The alert for what `burst` refused since its last one; counts start again.
fn said(address: IpAddr, burst: &mut Burst, now: Instant) -> String {
    let minutes = now.duration_since(burst.started).as_secs().div_ceil(60).max(1);
    let unstored = match burst.unstored {
        0 => String::new(),
        n => format!(" ({n} of them over the address's budget, answered 429 and not stored)"),
    };
    let message = format!(
        "{} more webhook deliveries from {address} refused{unstored}, in a burst of {minutes} min so far; the last: {}",
        burst.refused, burst.why
    );
    burst.refused = 0;
    burst.unstored = 0;
    burst.last_alert = now;
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_told_of_once_then_by_counts_at_most_every_minute() {
        let r = Rejections::new(2);
        let (t, from) = (Instant::now(), Some(IpAddr::from([10, 0, 0, 1])));
        let at = |secs: u64| t + Duration::from_secs(secs);
        let first = r.refused_at(at(0), from, "webhook", "bad signature");
        assert!(first.throttled.is_none() && first.alert.unwrap().contains("from 10.0.0.1 refused: bad signature"));
        // Within the minute: stored while the budget lasts, then not, and nothing said.
        assert!(r.refused_at(at(1), from, "webhook", "bad signature").alert.is_none());
        let over = r.refused_at(at(2), from, "webhook", "bad signature");
        assert!(over.throttled.is_some_and(|s| s >= 1) && over.alert.is_none());
        // Another address is a burst of its own.
        assert!(r.refused_at(at(3), Some(IpAddr::from([10, 0, 0, 2])), "webhook", "x").alert.is_some());
        // A minute after the first alert, the count since (the budget runs on the real clock, which has not moved:
        // this one is over it too).
        let later = r.refused_at(at(61), from, "webhook", "too large").alert.unwrap();
        assert!(later.starts_with("3 more webhook deliveries from 10.0.0.1 refused (2 of them over"), "{later}");
        assert!(later.ends_with("the last: too large"), "{later}");
        // What came after the last alert is told of by the minute's sweep, once.
        r.refused_at(at(70), from, "webhook", "bad signature");
        assert!(r.due(at(100)).is_empty(), "not a minute since the last alert");
        let swept = r.due(at(125));
        assert_eq!(swept.len(), 1, "{swept:?}");
        assert!(swept[0].starts_with("1 more webhook deliveries from 10.0.0.1"), "{swept:?}");
        assert!(r.due(at(190)).is_empty());
        // After five quiet minutes a refusal starts a new burst, told of at once.
        assert!(r.refused_at(at(500), from, "webhook", "bad signature").alert.unwrap().contains("refused: bad"));
    }
}
