//! paydesk: a GraphQL API server through which a freelance marketplace's admins and ops run payments
//! (Cashfree webhooks) and payouts (with a reserve), with a ledger and an audit trail.
//!
//! This crate is the server: HTTP (`http`), GraphQL (`graphql`), and the command line. The
//! business logic is `paydesk_core`, re-exported here under the same names.

pub use paydesk_core::{
    auth, budgets, build_state, cashfree, clock, config, db, domain, error, events, idempotency, jobs, metrics,
    notifications, services, state, traces, Jobs,
};

pub mod backup;
pub mod cli;
pub mod commands;
pub mod graphql;
pub mod http;
pub mod seed;
pub mod telemetry;
