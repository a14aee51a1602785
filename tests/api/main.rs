//! paydesk's integration tests: each starts a real server over its own fresh database and uses only the
//! public surface (HTTP, GraphQL, WebSocket, the binary). Set `TEST_DATABASE_URL=postgres://…` to run them
//! all on PostgreSQL.

/// The servers these tests start in process allocate as the binary does (`src/main.rs`): through mimalloc, the
/// bundled SQLite's C code included (its `override` feature).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod auth;
mod authorization;
mod cashfree_as_it_is;
mod cashfree_payments;
mod cashfree_payouts;
mod cli;
mod clients;
mod conformance;
mod connections;
mod console;
mod cors;
mod counted_once;
mod currencies;
mod dashboard;
mod delivery;
mod disputes;
mod event_log;
mod events;
mod export;
mod funds;
mod graphql_reads;
mod helpers;
mod history;
mod holds;
mod idempotency;
mod identity;
mod journal;
mod limits;
mod money;
mod operations;
mod ops_security;
mod payouts;
mod persisted;
mod pooler;
mod provider_amounts;
mod rate_limits;
mod refunds;
mod refunds_started;
mod reports;
mod risk;
mod runbook;
mod schema;
mod settlements;
mod simulator;
mod sockets;
mod subscriptions;
mod traces;
mod webhook_input;
mod webhooks;
