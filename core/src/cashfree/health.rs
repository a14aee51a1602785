//! Whether this instance reaches each Cashfree API: a circuit breaker per API (after `TRIP_AFTER` failures in a
//! row, calls fail fast for `CASHFREE_BREAKER_SECS`, then one call at a time tries again), the `cashfree_up` gauge, and the
//! alerts when an API goes down (CRITICAL) and comes back (INFO).

use super::Api;
use crate::events::{Alert, AlertKind, EventBus};
use crate::metrics::{ApiLabels, Metrics};
use chrono::{DateTime, Utc};
use entity::status::Severity;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failures in a row that open the breaker (which then refuses calls for `CASHFREE_BREAKER_SECS`).
const TRIP_AFTER: u32 = 3;

/// One API's state as `cashfreeStatus` and `/readyz` report it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiHealth {
    pub configured: bool,
    /// Whether the last calls got answers (true until one fails).
    pub up: bool,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    /// While the breaker is open: when calls are tried again.
    pub retry_at: Option<DateTime<Utc>>,
}

/// Both APIs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HealthReport {
    pub pg: ApiHealth,
    pub payouts: ApiHealth,
}

struct State {
    report: ApiHealth,
    open_until: Option<Instant>,
}

/// The breakers and what they saw.
pub struct Health {
    pg: Mutex<State>,
    payouts: Mutex<State>,
    events: EventBus,
    db: sea_orm::DatabaseConnection,
    pub(super) metrics: Arc<Metrics>,
    open_for: Duration,
}

impl Health {
    pub(super) fn new(
        events: EventBus,
        db: sea_orm::DatabaseConnection,
        metrics: Arc<Metrics>,
        pg: bool,
        payouts: bool,
        open_for: Duration,
    ) -> Self {
        let fresh = |configured| {
            Mutex::new(State {
                report: ApiHealth {
                    configured,
                    up: true,
                    consecutive_failures: 0,
                    last_error: None,
                    last_success_at: None,
                    last_failure_at: None,
                    retry_at: None,
                },
                open_until: None,
            })
        };
        for (api, on) in [(Api::Pg, pg), (Api::Payouts, payouts)] {
            if on {
                metrics.cashfree_up.get_or_create(&ApiLabels { api: api.name().into() }).set(1);
            }
        }
        Health { pg: fresh(pg), payouts: fresh(payouts), events, db, metrics, open_for }
    }

    fn state(&self, api: Api) -> std::sync::MutexGuard<'_, State> {
        match api {
            Api::Pg => &self.pg,
            Api::Payouts => &self.payouts,
        }
        .lock()
        .unwrap_or_else(|e| e.into_inner())
    }

    /// Both APIs as they stand.
    pub fn report(&self) -> HealthReport {
        HealthReport { pg: self.state(Api::Pg).report.clone(), payouts: self.state(Api::Payouts).report.clone() }
    }

    /// Whether a call may be sent now; an open breaker lets one through once its time is up.
    pub(super) fn admit(&self, api: Api) -> Result<(), String> {
        let mut s = self.state(api);
        match s.open_until {
            Some(until) if Instant::now() < until => Err(format!(
                "Cashfree {} failed {} times in a row; calls resume in {} s",
                api.name(),
                s.report.consecutive_failures,
                until.saturating_duration_since(Instant::now()).as_secs().max(1)
            )),
            Some(_) => {
                s.open_until = Some(Instant::now() + self.open_for); // this caller tries; the others wait
                Ok(())
            }
            None => Ok(()),
        }
    }

    pub(super) async fn succeeded(&self, api: Api) {
        let came_back = {
            let mut s = self.state(api);
            let was_down = !s.report.up;
            s.report.up = true;
            s.report.consecutive_failures = 0;
            s.report.last_success_at = Some(Utc::now());
            s.report.retry_at = None;
            s.open_until = None;
            was_down
        };
        if came_back {
            self.metrics.cashfree_up.get_or_create(&ApiLabels { api: api.name().into() }).set(1);
            let msg = format!("Cashfree {} answers again", api.name());
            self.events.alert(&self.db, Alert::new(Severity::Info, AlertKind::CashfreeUp, msg)).await;
        }
    }

    pub(super) async fn failed(&self, api: Api, why: &str) {
        let went_down = {
            let mut s = self.state(api);
            s.report.consecutive_failures += 1;
            s.report.last_error = Some(why.to_owned());
            s.report.last_failure_at = Some(Utc::now());
            if s.report.consecutive_failures >= TRIP_AFTER {
                s.open_until = Some(Instant::now() + self.open_for);
                s.report.retry_at = chrono::Duration::from_std(self.open_for).ok().map(|d| Utc::now() + d);
            }
            let went_down = s.report.up && s.report.consecutive_failures >= TRIP_AFTER;
            if went_down {
                s.report.up = false;
            }
            went_down
        };
        if went_down {
            self.metrics.cashfree_up.get_or_create(&ApiLabels { api: api.name().into() }).set(0);
            let msg = format!("Cashfree {} is unreachable ({TRIP_AFTER} failures in a row): {why}", api.name());
            self.events.alert(&self.db, Alert::new(Severity::Critical, AlertKind::CashfreeDown, msg)).await;
        }
    }
}
