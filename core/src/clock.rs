//! The clock and new ids: the floor everything that writes a row stands on (services and the event log alike).

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

tokio::task_local! {
    /// A fixed "now" for the current task: only the demo seed sets one, to write history.
    static CLOCK: DateTime<Utc>;
}

/// Now, to the microsecond: what PostgreSQL keeps, so a value read back equals the one written.
pub fn now() -> DateTime<Utc> {
    CLOCK.try_with(|t| *t).unwrap_or_else(|_| Utc::now()).trunc_subsecs(6)
}

/// Runs `work` with `now()` reading `at`, so everything it writes (rows, ledger, audit) is dated then.
pub async fn at_time<F: std::future::Future>(at: DateTime<Utc>, work: F) -> F::Output {
    CLOCK.scope(at, work).await
}

/// A new time-ordered id.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
