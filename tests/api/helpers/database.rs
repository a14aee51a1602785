//! The test's own database: a fresh one per test (a temporary SQLite file, or a PostgreSQL database made and
//! dropped), read straight from, tampered with as someone holding it would, and cut off behind a proxy.

use super::*;

/// Where a test's database lives, removed when the test ends: a temporary directory (SQLite) or a PostgreSQL
/// database of its own.
pub struct Scratch {
    dir: Option<tempfile::TempDir>,
    pg_database: Option<String>,
}

impl Scratch {
    /// The SQLite database's directory (none on PostgreSQL).
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(|d| d.path())
    }
}

impl Drop for Scratch {
    /// Drops the test's PostgreSQL database (its own thread and runtime: Drop cannot await).
    fn drop(&mut self) {
        let (Some(name), Ok(base)) = (self.pg_database.take(), std::env::var("TEST_DATABASE_URL")) else { return };
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                use sea_orm::ConnectionTrait;
                if let Ok(admin) = sea_orm::Database::connect(&base).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                    let _ = admin.close().await;
                }
            })
        })
        .join();
    }
}

/// Whether this run is against PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

/// The one number `sql` answers, read straight from the app's database (a count, a sum).
pub async fn one_i64(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let db = &app.state.db;
    let row =
        db.query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap().unwrap();
    row.try_get_by_index(0).unwrap()
}

/// `id` as a literal in this run's SQL: text on PostgreSQL, the 16-byte blob SQLite keeps.
pub fn uuid_literal(id: Uuid) -> String {
    if on_postgres() {
        format!("'{id}'")
    } else {
        format!("X'{}'", id.simple())
    }
}

/// A fresh database: a temp SQLite file, or `CREATE DATABASE` on the server `TEST_DATABASE_URL` names.
pub async fn fresh_database() -> (String, Scratch) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            use sea_orm::{ConnectionTrait, Database};
            let admin = Database::connect(&base).await.expect("TEST_DATABASE_URL must point at a reachable PostgreSQL");
            drop_stale_databases(&admin).await;
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            let name = format!("paydesk_t_{now}_{}", Uuid::new_v4().simple());
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
            admin.close().await.ok();
            let (prefix, _) = base.rsplit_once('/').expect("TEST_DATABASE_URL ends in /DBNAME");
            (format!("{prefix}/{name}"), Scratch { dir: None, pg_database: Some(name) })
        }
        _ => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("paydesk.db").display());
            (url, Scratch { dir: Some(dir), pg_database: None })
        }
    }
}

/// Test databases older than an hour are left-overs of earlier runs.
async fn drop_stale_databases(admin: &sea_orm::DatabaseConnection) {
    use sea_orm::{ConnectionTrait, Statement};
    let cutoff = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 3600;
    let rows = admin
        .query_all_raw(Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'paydesk_t_%'",
        ))
        .await
        .unwrap_or_default();
    for row in rows {
        let name: String = row.try_get("", "datname").unwrap_or_default();
        let born: u64 = name.split('_').nth(2).and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
        if born < cutoff {
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok();
        }
    }
}

/// A TCP proxy in front of the database that can cut the server off it, as a failing network or a restarted
/// proxy would. `cut` closes every connection through it and refuses new ones until `restore`; `stall` leaves the
/// server's end of every connection open but silent for good (the database's end is closed, so nothing is held
/// there), as a NAT or load balancer that forgot its connections does, and lets new connections through.
pub struct Proxy {
    pub addr: SocketAddr,
    state: std::sync::Arc<tokio::sync::watch::Sender<ProxyState>>,
    generation: std::sync::atomic::AtomicU32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ProxyState {
    /// Forwarding; the number grows with each `stall`, which ends the connections opened before it.
    Up(u32),
    Cut,
}

impl Proxy {
    /// A proxy on a free port of 127.0.0.1 to `upstream`.
    pub async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = std::sync::Arc::new(tokio::sync::watch::channel(ProxyState::Up(0)).0);
        let watch = state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let ProxyState::Up(generation) = *watch.borrow() else {
                    drop(client); // refused: the client reads end of file at once
                    continue;
                };
                let (upstream, mut changes) = (upstream.clone(), watch.subscribe());
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else { return };
                    let mut client = client;
                    // Whether this connection is to stall (rather than close) once its generation ends.
                    let ended = async move {
                        let changed = changes.wait_for(|s| *s != ProxyState::Up(generation)).await;
                        matches!(changed.as_deref(), Ok(ProxyState::Up(_)))
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        stalled = ended => {
                            drop(server);
                            if stalled {
                                // Keep the client's end open and silent while the test runs.
                                tokio::time::sleep(Duration::from_secs(600)).await;
                            }
                        }
                    }
                });
            }
        });
        Proxy { addr, state, generation: std::sync::atomic::AtomicU32::new(0) }
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.state.send_replace(ProxyState::Cut);
    }

    /// Forwards new connections again.
    pub fn restore(&self) {
        let next = self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        self.state.send_replace(ProxyState::Up(next));
    }

    /// Silences every open connection for good; new ones are forwarded.
    pub fn stall(&self) {
        self.restore();
    }
}

/// Runs `sql` on the app's database as someone with direct write access would: on PostgreSQL with the history
/// triggers switched off for the transaction (as a superuser can), so that the chains, not the triggers, must tell.
pub async fn tamper(app: &TestApp, sql: &str, values: Vec<sea_orm::Value>) {
    tamper_all(app, &[(sql, values)]).await;
}

/// `tamper` with several statements in one transaction.
pub async fn tamper_all(app: &TestApp, statements: &[(&str, Vec<sea_orm::Value>)]) {
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
    let db = &app.state.db;
    let txn = db.begin().await.unwrap();
    if on_postgres() {
        txn.execute_unprepared("SET LOCAL session_replication_role = replica").await.unwrap();
    }
    for (sql, values) in statements {
        let statement = Statement::from_sql_and_values(db.get_database_backend(), *sql, values.clone());
        txn.execute_raw(statement).await.unwrap();
    }
    txn.commit().await.unwrap();
}
