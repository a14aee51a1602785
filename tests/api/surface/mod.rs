//! The surface every client meets: the schema, HTTP and WebSocket limits, sign-in and roles, persisted documents,
//! real clients, CORS and traces.

mod auth;
mod authorization;
mod clients;
mod connections;
mod cors;
mod dashboard;
mod graphql_reads;
pub mod identity;
mod limits;
mod persisted;
mod rate_limits;
mod schema;
mod sockets;
mod traces;
