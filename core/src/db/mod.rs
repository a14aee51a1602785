//! Connecting to SQLite or PostgreSQL and running migrations.

mod reads;

pub use reads::Reads;

use migration::{Migrator, MigratorTrait};
use prometheus_client::metrics::counter::Counter;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};
use std::time::Duration;

/// PostgreSQL connections a server opens at most for reads (and as many for writes) unless told otherwise
/// (`PAYDESK_DB_POOL_SIZE`): four per core of this machine, at least 4 and at most 32. On a 2-core database server,
/// 20 served the benchmark's lists and nested reads at 8 and 32 clients 7-23% slower than 8: more connections than
/// the server has cores to run them only take turns inside PostgreSQL, and the pool hands out its idle
/// connections in turn, so each request also lands on a colder backend. paydesk usually runs on a machine the size
/// of the database's, so its own core count is the measure it has.
pub fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores * 4).unwrap_or(32).clamp(4, 32)
}

/// How long a connection may sit unused in a pool before it is closed, unless told otherwise
/// (`PAYDESK_DB_IDLE_CLOSE`): an instance with nothing to read gives its read connections back to the database, so
/// idle instances do not use up `max_connections`. (The write pool, which the background jobs share, hands its
/// connections out in turn, so its jobs keep most of them in use; it closes what even they leave.)
pub const IDLE_CLOSE: Duration = Duration::from_secs(60);

/// How long a request waits for a PostgreSQL connection, or for a new one to open, before it answers UNAVAILABLE:
/// a server that is down must be reported in seconds, not hang requests.
const PG_WAIT: Duration = Duration::from_secs(2);

/// A connection unused this long may have been dropped by a proxy or the server: it is pinged before it is used.
/// One in use is known to be alive: pinging it on every checkout (sqlx's default) doubled the round trips of a
/// one-statement read.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);

/// Opens the database at `url` (a pool of the default size), counting every statement it runs into `statements`.
pub async fn connect(url: &str, statements: Counter) -> anyhow::Result<DatabaseConnection> {
    Ok(connect_pair(url, default_pool_size(), IDLE_CLOSE, statements).await?.0)
}

/// What a server works through (see [`open`]).
pub struct Handles {
    /// For the work of requests: counts every statement it runs.
    pub db: DatabaseConnection,
    /// The same pool, counting nothing: for background work such as the event reader.
    pub background: DatabaseConnection,
    /// Where requests' reads go: on PostgreSQL a pool of their own, counted with `db`.
    pub reads: Reads,
}

/// How long PostgreSQL lets one of paydesk's sessions sit idle inside a transaction before ending it.
const IDLE_IN_TRANSACTION: &str = "15s";

/// Opens the database at `url` for a server, counting the statements of requests into `statements`. On
/// PostgreSQL, requests' writes and background work share a pool of at most `pool_size` (and one more connection
/// for the event listener), and reads get a pool of up to `pool_size` of their own, opened as they are needed.
pub async fn open(url: &str, pool_size: u32, idle_close: Duration, statements: Counter) -> anyhow::Result<Handles> {
    let (db, background) = connect_pair(url, pool_size, idle_close, statements.clone()).await?;
    let reads = Reads::new(db.clone(), url, pool_size, idle_close, statements)?;
    Ok(Handles { db, background, reads })
}

/// Opens the database at `url`: one handle that counts every statement it runs into `statements` (for the work
/// of requests), and one on the same pool that counts nothing (for background work such as the event reader).
///
/// SQLite gets one connection: it has one writer at a time, and a single connection turns would-be
/// `database is locked` failures into orderly waiting. PostgreSQL gets a pool of at most `pool_size` for requests
/// and background work, and one more for the event listener.
async fn connect_pair(
    url: &str,
    pool_size: u32,
    idle_close: Duration,
    statements: Counter,
) -> anyhow::Result<(DatabaseConnection, DatabaseConnection)> {
    let mut opts = ConnectOptions::new(url.to_owned());
    let sqlite = url.starts_with("sqlite:");
    // On PostgreSQL, one more than asked: the event listener keeps one connection for its LISTEN for good, and
    // without it a pool of one would have none left for requests.
    opts.max_connections(if sqlite { 1 } else { pool_size.max(1) + 1 })
        .min_connections(1)
        .idle_timeout(if sqlite { None } else { Some(idle_close) })
        // A SQLite file cannot be down, and its one connection may be busy with a queue of writes: it waits longer.
        .acquire_timeout(if sqlite { Duration::from_secs(10) } else { PG_WAIT })
        .connect_timeout(PG_WAIT)
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
        .sqlx_logging(false);
    // A session left in a transaction by a client that went silent (a network that stalls rather than closes)
    // would hold its locks for good: the event-order lock among them, which every movement of money takes last.
    // paydesk never waits between a transaction's statements, so PostgreSQL ends such a session after a while.
    opts.map_sqlx_postgres_opts(|pg| pg.options([("idle_in_transaction_session_timeout", IDLE_IN_TRANSACTION)]));
    let mut db = Database::connect(opts).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;")
            .await?;
    }
    let background = db.clone();
    let system = if sqlite { "sqlite" } else { "postgresql" };
    db.set_metric_callback(move |info| {
        statements.inc();
        crate::traces::statement(system, &info.statement.sql, info.elapsed, info.failed);
    });
    Ok((db, background))
}

/// How full a connection pool is, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    pub in_use: u64,
    pub idle: u64,
    pub max: u64,
}

impl PoolUse {
    /// A pool of `open` connections, `idle` of them waiting to be handed out, that opens at most `max`.
    pub fn new(open: u64, idle: u64, max: u64) -> Self {
        PoolUse { in_use: open.saturating_sub(idle), idle, max }
    }
}

/// How full the main handle's pool (writes, transactions, background work, the event listener) is now.
pub fn pool_use(db: &DatabaseConnection) -> Option<PoolUse> {
    fn of<DB: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<DB>) -> PoolUse {
        PoolUse::new(pool.size().into(), pool.num_idle() as u64, pool.options().get_max_connections().into())
    }
    match db.get_database_backend() {
        DbBackend::Postgres => Some(of(db.get_postgres_connection_pool())),
        DbBackend::Sqlite => Some(of(db.get_sqlite_connection_pool())),
        _ => None,
    }
}

/// Whether `e` says the connection is gone, not that a statement failed: the socket failed, or the server ended
/// the session (SQLSTATE class 08, or 57P01-57P03: an administrator or a shutdown terminated it).
pub fn connection_lost(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    match e {
        Sqlx::Io(_) => true,
        Sqlx::Database(d) => d.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P0")),
        _ => false,
    }
}

/// `url` with its password (if any) replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "<a database URL that does not parse>".to_owned(),
    }
}

/// The migrations not yet applied, by name.
pub async fn pending_migrations(db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    Ok(Migrator::get_pending_migrations(db).await?.iter().map(|m| m.name().to_owned()).collect())
}

/// The names of the migrations applied to `db`, oldest first.
pub async fn applied_migrations(db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    Ok(Migrator::get_applied_migrations(db).await?.iter().map(|m| m.name().to_owned()).collect())
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await?;
    Ok(())
}

/// What to do when an error's text (`said`) shows the connection goes through a pooler that hands out a session
/// per transaction (PgBouncer before 1.21 in transaction mode): the driver names its prepared statements
/// (`sqlx_s_1`, …) and keeps them for the session, so another client's statement of the same name is met ("already
/// exists") or one's own is gone ("does not exist").
pub fn behind_transaction_pooler(said: &str) -> Option<&'static str> {
    let named = said.contains("prepared statement \"sqlx_s_");
    (named && (said.contains("already exists") || said.contains("does not exist"))).then_some(
        "the database connection goes through a pooler in transaction mode that cannot follow prepared \
         statements (PgBouncer before 1.21): run it in session mode, or PgBouncer 1.21+ with \
         max_prepared_statements set; give the event listener a direct connection (PAYDESK_DATABASE_LISTEN_URL); \
         docs/CONFIGURATION.md, \"Connections\"",
    )
}

/// Begins a transaction that writes. On SQLite it takes the file's write lock at once (`BEGIN IMMEDIATE`): a
/// transaction that reads and then writes would otherwise fail at its first write, busy timeout or not, whenever
/// another process on the same file (a second instance, a command) committed in between; begun this way, it waits
/// its turn instead. PostgreSQL begins as usual.
pub async fn begin<T: sea_orm::TransactionTrait>(db: &T) -> Result<T::Transaction, sea_orm::DbErr> {
    let options = sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_leave_in_a_url() {
        let shown = super::redact("postgres://paydesk:s3cret@db.internal:5432/paydesk");
        assert_eq!(shown, "postgres://paydesk:***@db.internal:5432/paydesk");
        assert_eq!(super::redact("sqlite://paydesk.db?mode=rwc"), "sqlite://paydesk.db?mode=rwc");
    }
}
