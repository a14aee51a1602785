//! The connections that reads run on.
//!
//! sqlx 0.9 hands each connection back to its pool through a task that first pings it
//! (`Floating::return_to_pool`): for every statement one more round trip to PostgreSQL, and one more wake-up of a
//! backend and of a worker thread, with no option to turn it off. A read is one statement outside any transaction,
//! and a statement that ran to its end leaves its connection ready for the next one, so on PostgreSQL reads get a
//! pool of their own ([`deadpool`]) that takes connections back as they are. A connection whose statement failed or
//! was interrupted (its request was dropped mid-read) is closed instead of taken back; one unused for
//! 30 s (`PING_IF_IDLE_FOR`) is pinged before it is handed out, as the main pool does. Writes, transactions and
//! background work keep SeaORM's pool. On SQLite, reads share the main handle's one connection.

use super::{PG_WAIT, PING_IF_IDLE_FOR};
use deadpool::managed::{Manager, Metrics, Object, Pool, PoolError, RecycleResult};
use prometheus_client::metrics::counter::Counter;
use sea_orm::sea_query::Values;
use sea_orm::sqlx::{self, postgres::PgConnectOptions, ConnectOptions as _, Connection as _, PgConnection};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr,
    Statement,
};
use sea_query_sqlx::SqlxValues;
use std::sync::Arc;
use std::time::Duration;

/// Where reads go: every query through the read pool on PostgreSQL, through the main handle otherwise. Cheap to
/// clone. Implements [`ConnectionTrait`], so every SeaORM select runs on it unchanged; statements it is asked to
/// execute (it never is, by paydesk's reads) go to the main handle.
#[derive(Clone)]
pub struct Reads {
    db: DatabaseConnection,
    postgres: Option<PgReads>,
}

#[derive(Clone)]
struct PgReads {
    pool: Pool<Connector>,
    /// The same counter the main handle counts its statements into.
    statements: Counter,
}

impl Reads {
    /// How full the read pool is now (on SQLite reads have no pool of their own: `None`).
    pub fn pool_use(&self) -> Option<super::PoolUse> {
        let status = self.postgres.as_ref()?.pool.status();
        Some(super::PoolUse::new(status.size as u64, status.available as u64, status.max_size as u64))
    }

    /// Reads beside `db` (the main handle, whose statements count into `statements`): on PostgreSQL, a pool of at
    /// most `pool_size` connections to `url` of their own, opened as they are first needed.
    pub(super) fn new(
        db: DatabaseConnection,
        url: &str,
        pool_size: u32,
        idle_close: Duration,
        statements: Counter,
    ) -> anyhow::Result<Self> {
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(Self { db, postgres: None });
        }
        let options = url.parse::<PgConnectOptions>()?.disable_statement_logging();
        let pool = Pool::builder(Connector { options })
            .max_size(pool_size.max(1) as usize)
            // The connection used last is the one most likely still in the backend's and the kernel's caches.
            .queue_mode(deadpool::managed::QueueMode::Lifo)
            .wait_timeout(Some(PG_WAIT))
            .create_timeout(Some(PG_WAIT))
            .recycle_timeout(Some(PG_WAIT))
            .runtime(deadpool::Runtime::Tokio1)
            .build()?;
        close_idle(pool.weak(), idle_close);
        Ok(Self { db, postgres: Some(PgReads { pool, statements }) })
    }
}

/// Closes the read connections unused for `idle_close`, for as long as the pool lives: an instance with nothing to
/// read holds none.
fn close_idle(pool: deadpool::managed::WeakPool<Connector>, idle_close: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(idle_close / 4);
        loop {
            tick.tick().await;
            let Some(pool) = pool.upgrade() else { return };
            let idle = pool.retain(|_, metrics| metrics.last_used() < idle_close).removed;
            drop(pool);
            for conn in idle {
                let _ = sqlx::Connection::close(conn).await;
            }
        }
    });
}

/// Opens and vets the read pool's connections.
struct Connector {
    options: PgConnectOptions,
}

impl Manager for Connector {
    type Type = PgConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgConnection, sqlx::Error> {
        self.options.connect().await
    }

    async fn recycle(&self, conn: &mut PgConnection, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if metrics.last_used() >= PING_IF_IDLE_FOR {
            conn.ping().await?;
        }
        Ok(())
    }
}

/// A connection out of the read pool, closed when dropped unless [`Borrowed::give_back`] says its statement ran
/// to the end: a statement interrupted half way may have left its answer unread on the socket.
struct Borrowed(Option<Object<Connector>>);

impl Borrowed {
    fn conn(&mut self) -> &mut PgConnection {
        self.0.as_mut().expect("a borrowed connection until given back")
    }

    fn give_back(mut self) {
        drop(self.0.take());
    }
}

impl Drop for Borrowed {
    fn drop(&mut self) {
        if let Some(object) = self.0.take() {
            drop(Object::take(object));
        }
    }
}

impl PgReads {
    async fn borrow(&self) -> Result<Borrowed, DbErr> {
        let object = self.pool.get().await.map_err(|e| match e {
            PoolError::Timeout(_) => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            PoolError::Closed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            PoolError::Backend(e) => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))),
            other => DbErr::Conn(RuntimeErr::Internal(format!("read pool: {other}"))),
        })?;
        Ok(Borrowed(Some(object)))
    }

    /// Runs `stmt`, for at most its first row if `one`. A read is safe to run twice: one that finds its
    /// connection cut (the server restarted, a proxy or an operator ended its session) runs again on a new
    /// connection, after the idle ones are let go, since whatever cut one has most likely cut them all.
    async fn fetch(&self, stmt: Statement, one: bool) -> Result<Vec<QueryResult>, DbErr> {
        self.statements.inc();
        let started = crate::traces::on().then(std::time::Instant::now);
        let values = stmt.values.unwrap_or_else(|| Values(Vec::new()));
        let rows = self.fetch_rows(&stmt.sql, values, one).await;
        if let Some(started) = started {
            crate::traces::statement("postgresql", &stmt.sql, started.elapsed(), rows.is_err());
        }
        rows
    }

    async fn fetch_rows(&self, sql: &str, values: Values, one: bool) -> Result<Vec<QueryResult>, DbErr> {
        let mut retried = false;
        loop {
            let mut conn = self.borrow().await?;
            let query = sqlx::query_with(sqlx::AssertSqlSafe(sql), SqlxValues(values.clone()));
            let rows = if one {
                query.fetch_optional(conn.conn()).await.map(|row| row.into_iter().collect())
            } else {
                query.fetch_all(conn.conn()).await
            };
            match rows {
                Ok(rows) => {
                    conn.give_back();
                    return Ok(rows.into_iter().map(QueryResult::from).collect());
                }
                Err(e) if !retried && super::connection_lost(&e) => {
                    tracing::warn!(error = %e, "a read found its connection cut; running it on a new one");
                    self.pool.retain(|_, _| false);
                    retried = true;
                }
                Err(e) => return Err(DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))),
            }
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Reads {
    fn get_database_backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.db.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.db.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.postgres {
            Some(pg) => Ok(pg.fetch(stmt, true).await?.pop()),
            None => self.db.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.postgres {
            Some(pg) => pg.fetch(stmt, false).await,
            None => self.db.query_all_raw(stmt).await,
        }
    }
}
