//! paydesk's integration tests: each starts a real server over its own fresh database and uses only the
//! public surface (HTTP, GraphQL, WebSocket, the binary). Set `TEST_DATABASE_URL=postgres://…` to run them
//! all on PostgreSQL.

/// The servers these tests start in process allocate as the binary does (`src/main.rs`): through mimalloc, the
/// bundled SQLite's C code included (its `override` feature).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod books;
mod evidence;
mod helpers;
mod operations;
mod payments;
mod payouts;
mod surface;
