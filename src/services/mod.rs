//! Services: the only place with business logic and SQL. Handlers and resolvers parse, authorize, and call one.

pub mod audit;
pub mod interventions;
pub mod ledger;
pub mod notifications;
pub mod payments;
pub mod payouts;
pub mod read;
pub mod reconcile;
pub mod reports;
pub mod wallets;
pub mod webhooks;

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

/// Now, to the microsecond: what PostgreSQL keeps, so a value read back equals the one written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A new time-ordered id.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
