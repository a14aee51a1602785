//! Services: the only place with business logic and SQL. Handlers and resolvers parse and call one; each service
//! that changes state checks the caller's role itself.

pub mod audit;
pub mod batches;
pub mod beneficiaries;
pub mod delivery;
pub mod disputes;
pub mod funds;
pub mod gateway;
pub mod holds;
pub mod idempotency;
pub mod interventions;
pub mod journal;
pub mod ledger;
pub mod notifications;
pub mod payments;
pub mod payouts;
pub mod read;
pub mod reconcile;
pub mod refunds;
pub mod reports;
pub mod retention;
pub mod risk;
pub mod transfers;
pub mod wallets;
pub mod webhooks;

pub use crate::clock::{at_time, new_id, now};
