//! paydesk: a GraphQL API server through which a freelance marketplace's admins and ops run payments
//! (Cashfree webhooks) and payouts (with a reserve), with a ledger and an audit trail.
//!
//! This crate is the server: HTTP (`http`), GraphQL (`graphql`), the command line and the Cashfree double. The
//! business logic is `paydesk_core`, re-exported here under the same names.

pub use paydesk_core::{
    auth, budgets, build_state, cashfree, clock, config, db, domain, error, events, metrics, services, state, traces,
    Jobs,
};

pub mod backup;
pub mod cli;
pub mod commands;
pub mod double;
pub mod graphql;
pub mod http;
pub mod seed;
pub mod telemetry;
