//! Several instances through a connection pooler: PgBouncer (Debian's, 1.18) in front of PostgreSQL, each
//! instance's event listener on a direct connection. Session mode carries everything; transaction mode cannot
//! follow the driver's named prepared statements before PgBouncer 1.21, and paydesk says so with what to do.

use crate::helpers::*;
use entity::status::Role;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

/// A PgBouncer of this test's own, in `mode`, in front of the PostgreSQL that TEST_DATABASE_URL names.
struct Bouncer {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Bouncer {
    fn start(mode: &str, pool_size: u32) -> Bouncer {
        let exe = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("PgBouncer is needed for this test: apt-get install pgbouncer (.ci/run installs it)");
        let server = url::Url::parse(&std::env::var("TEST_DATABASE_URL").unwrap()).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        // PgBouncer refuses to run as root: it drops to `postgres`, who must read its files.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.path().join("users.txt"), format!("\"{}\" \"\"\n", server.username())).unwrap();
        let ini = dir.path().join("pgbouncer.ini");
        std::fs::write(
            &ini,
            format!(
                "[databases]\n* = host={} port={}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n\
                 unix_socket_dir =\nauth_type = trust\nauth_file = {}\npool_mode = {mode}\n\
                 default_pool_size = {pool_size}\nmax_client_conn = 500\n\
                 ignore_startup_parameters = extra_float_digits, options\nidle_transaction_timeout = 15\n",
                server.host_str().unwrap(),
                server.port().unwrap_or(5432),
                dir.path().join("users.txt").display()
            ),
        )
        .unwrap();
        let root = std::process::Command::new("id").arg("-u").output().unwrap().stdout.starts_with(b"0\n");
        let mut command = std::process::Command::new(exe);
        if root {
            command.args(["-u", "postgres"]);
        }
        let quiet = std::process::Stdio::null;
        let child = command.arg(&ini).stdout(quiet()).stderr(quiet()).spawn().unwrap();
        // Stopped (when dropped) whatever happens next.
        let bouncer = Bouncer { child, port, _dir: dir };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return bouncer;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("PgBouncer did not start on port {port}");
    }

    /// `direct` (a database on the PostgreSQL server) reached through this PgBouncer.
    fn pooled(&self, direct: &str) -> String {
        let mut url = url::Url::parse(direct).unwrap();
        url.set_port(Some(self.port)).unwrap();
        url.to_string()
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `pooled` (a database reached through a PgBouncer) reached directly, on TEST_DATABASE_URL's server, under an
/// application name its sessions can be told by.
fn direct(pooled: &str) -> String {
    let server = url::Url::parse(&std::env::var("TEST_DATABASE_URL").unwrap()).unwrap();
    let mut url = url::Url::parse(pooled).unwrap();
    url.set_port(Some(server.port().unwrap_or(5432))).unwrap();
    url.query_pairs_mut().append_pair("application_name", "paydesk-listener");
    url.to_string()
}

const REQUESTED: &str = "subscription { payoutRequested { id amount } }";
const APPROVE: &str = "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { status } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run with TEST_DATABASE_URL=postgres://… and --include-ignored"]
async fn three_instances_through_pgbouncer_keep_the_books_and_hear_each_other() {
    assert!(on_postgres(), "set TEST_DATABASE_URL to a PostgreSQL server");
    // In session mode a client holds its server connection until it leaves: room for every instance's pools.
    let bouncer = Bouncer::start("session", 40);
    let (one, double) = spawn_with_double(|c| {
        c.database_url = bouncer.pooled(&c.database_url);
        c.database_listen_url = Some(direct(&c.database_url));
        c.db_pool_size = 2;
    })
    .await;
    assert!(one.db_url.contains(&format!(":{}/", bouncer.port)), "{}", one.db_url);
    let through = |c: &mut paydesk::config::Config| {
        wire_to(c, &double);
        c.database_listen_url = Some(direct(&c.database_url));
        c.db_pool_size = 2;
    };
    let two = one.spawn_second_with(through).await;
    let three = one.spawn_second_with(through).await;
    let apps = [&one, &two, &three];

    // Live events cross instances: a request made on one is heard on three.
    let mut sub = Subscriber::connect(&three, &three.token(Role::Ops, Uuid::new_v4()), "graphql-transport-ws").await;
    sub.subscribe("1", REQUESTED, json!({})).await;

    // Payments split across the instances, all at once.
    let f = Uuid::new_v4();
    let work = (0..30).map(|i| apps[i % 3].fund(f, "10.00"));
    futures_util::future::join_all(work).await;

    // Payouts requested on one instance, approved on another, paid through Cashfree's double.
    let mut payouts = Vec::new();
    for (i, app) in apps.iter().enumerate() {
        let freelancer = funded_freelancer(app, &double).await;
        let asked = apps[(i + 1) % 3].request_payout(freelancer, "300.00").await;
        payouts.push((i, asked["data"]["requestPayout"]["id"].as_str().unwrap().to_owned()));
    }
    let (_, heard) =
        sub.event(Duration::from_secs(10)).await.expect("instance three hears of a request made elsewhere");
    assert_eq!(heard["data"]["payoutRequested"]["amount"], "300.00");
    let approvals = payouts.iter().map(|(i, id)| {
        let app = apps[(i + 2) % 3];
        async move {
            let d = app.gql_ok(&app.admin(), APPROVE, json!({ "i": { "payoutRequestId": id, "note": "ok" } })).await;
            let status = d["approvePayout"]["status"].as_str().unwrap().to_owned();
            assert!(status == "APPROVED" || status == "PROCESSING" || status == "PAID", "{status}");
        }
    });
    futures_util::future::join_all(approvals).await;

    // Every delivery processed once, the wallet credited for each, and the background jobs (the history's chainer
    // among them) kept up: reconcile and verify are clean through the same pooler.
    assert_eq!(one.balance(f).await, "270.00", "30 payments of 10.00, less the 10% fee");
    for _ in 0..100 {
        let (ok, out) = paydesk(&one, &["verify"]);
        if ok && !out.contains("not linked yet") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (ok, out) = paydesk(&one, &["verify"]);
    assert!(ok, "{out}");
    let (ok, out) = paydesk(&one, &["reconcile"]);
    assert!(ok, "{out}");
    // Each instance LISTENs on its direct connection, the only sessions under that name.
    let listening = "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'paydesk-listener' \
                     AND query LIKE 'LISTEN%' AND datname = current_database()";
    assert_eq!(one_i64(&one, listening).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run with TEST_DATABASE_URL=postgres://… and --include-ignored"]
async fn behind_pgbouncer_in_transaction_mode_paydesk_says_what_to_change() {
    assert!(on_postgres(), "set TEST_DATABASE_URL to a PostgreSQL server");
    let app = TestApp::spawn().await;
    // One server connection, kept from one client to the next as transaction mode does, with the prepared
    // statements the first client left on it.
    let bouncer = Bouncer::start("transaction", 1);
    let pooled = bouncer.pooled(&app.db_url);
    let run = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk"))
            .args(["reconcile", "--database-url", &pooled])
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let _ = run();
    let (ok, said) = run();
    assert!(!ok, "a second client met the first one's statements: {said}");
    assert!(said.contains("PgBouncer before 1.21") && said.contains("session mode"), "{said}");
}

/// The connections PostgreSQL has open to `app`'s database (as seen from a session of its own).
async fn sessions(app: &TestApp) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let db = sea_orm::Database::connect(&app.db_url).await.unwrap();
    let sql = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    let n = row.try_get_by_index::<i64>(0).unwrap();
    db.close().await.unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run with TEST_DATABASE_URL=postgres://… and --include-ignored"]
async fn an_idle_instance_gives_its_connections_back() {
    assert!(on_postgres(), "set TEST_DATABASE_URL to a PostgreSQL server");
    let app = TestApp::spawn_with(|c| {
        c.db_pool_size = 6;
        c.db_idle_close = Duration::from_secs(2);
    })
    .await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    // Busy: reads and writes at once open the pools up.
    let q =
        "query($f: UUID!) { wallet(freelancerId: $f) { balance pendingPayouts } wallets(first: 5) { nodes { id } } }";
    let admin = app.admin();
    let reads = (0..40).map(|_| app.gql_ok(&admin, q, json!({ "f": f })));
    let writes = (0..6).map(|_| app.request_payout(f, "10.00"));
    let (_, _) = tokio::join!(futures_util::future::join_all(reads), futures_util::future::join_all(writes));
    let busy = sessions(&app).await;
    assert!(busy > 6 + 1, "both pools opened up: {busy}");
    // Idle: the read connections go back; the write pool (which the background jobs share) keeps at most its size,
    // the listener's beside it.
    let mut idle = busy;
    for _ in 0..50 {
        idle = sessions(&app).await;
        if idle <= 6 + 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{busy} connections when busy, still {idle} when idle");
}
