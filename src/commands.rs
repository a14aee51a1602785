//! What each subcommand of the `paydesk` binary does: `serve` (default), `migrate`, `schema`, `token`, `seed-demo`,
//! `reconcile`, `verify`, `backup`. Here in the library rather than in `main.rs`, so the binary
//! instantiates no generic code of its own: an optimised build compiles the server once.

use crate::cli::{BackupArgs, Cli, Command, DbArgs, MigrateAction, VerifyArgs};
use crate::config::Config;
use anyhow::Context;
use entity::status::Role;
use migration::{Migrator, MigratorTrait};
use rand::Rng;
use std::time::Duration;

/// Telemetry starts before the runtime and ends after it, so the spans still queued at exit are sent.
pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse_args(std::env::args_os());
    let log_format = match &cli.command {
        Command::Serve(config) => config.log_format.clone(),
        // Other subcommands print what they did; their logs follow the same variable.
        _ => std::env::var("PAYDESK_LOG_FORMAT").unwrap_or_else(|_| "text".into()),
    };
    let telemetry = crate::telemetry::init(&log_format)?;
    let outcome = tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run(cli.command));
    // Whatever the command, a database behind a pooler it cannot work through is said so, with what to do.
    let outcome = outcome.map_err(|e| match crate::db::behind_transaction_pooler(&format!("{e:#}")) {
        Some(hint) => e.context(hint),
        None => e,
    });
    telemetry.shutdown();
    outcome
}

/// A configuration for the subcommands that build the whole state: the defaults, on `db`.
fn on_database(db: DbArgs) -> Config {
    Config { database_url: db.database_url, ..Config::defaults() }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(config) => serve(config).await,
        Command::Migrate { db, action } => migrate(&db.database_url, action.unwrap_or(MigrateAction::Up)).await,
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::Token(args) => {
            let secret = args
                .jwt_secret
                .as_deref()
                .filter(|s| !s.is_empty())
                .context("JWT_SECRET is not set: a token only works against a server that uses the same secret")?;
            let role = match args.role.as_str() {
                "admin" => Role::Admin,
                "ops" => Role::Ops,
                _ => Role::Freelancer,
            };
            println!("{}", crate::auth::JwtKeys::new(secret.as_bytes()).mint(args.sub, role, args.ttl)?);
            Ok(())
        }
        Command::Reconcile(args) => {
            let config = Config {
                payout_reserve: args.payout_reserve,
                payout_reserves: args.payout_reserves,
                ..on_database(args.db)
            };
            let state = crate::build_state(&config, b"reconcile", false, crate::Jobs::None).await?;
            let report = crate::services::books::reconcile::run(&state.db, &state.settings.reserves).await?;
            print!("{report}");
            if !report.is_clean() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::SeedDemo(db) => {
            let state = crate::build_state(&on_database(db), b"seed", true, crate::Jobs::None).await?;
            crate::seed::demo(&state).await
        }
        Command::Backup(args) => backup(args).await,
        Command::ExportJournal(args) => {
            let state = crate::build_state(&on_database(args.db), b"export", false, crate::Jobs::None).await?;
            let format = match args.format.as_str() {
                "csv" => crate::services::books::export::Format::Csv,
                _ => crate::services::books::export::Format::Beancount,
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let n = crate::services::books::export::journal(&state.db, format, args.from, args.to, &mut out).await?;
            std::io::Write::flush(&mut out)?;
            eprintln!("{n} journal entries written");
            Ok(())
        }
        Command::Verify(args) => verify(args).await,
        Command::HistoryKey => {
            let key = crate::services::evidence::history::Signer::from_seed(rand::random());
            println!("PAYDESK_HISTORY_SIGNING_KEY={}", key.seed_hex());
            println!("public key: {}", key.public_hex());
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let secret = match &config.jwt_secret {
        Some(s) if !s.is_empty() => s.as_bytes().to_vec(),
        _ => {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            bytes.to_vec()
        }
    };
    let state = crate::build_state(&config, &secret, !config.no_migrate, crate::Jobs::Run)
        .await
        .with_context(|| format!("opening the database at {}", crate::db::redact(&config.database_url)))?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("listening on {} (set PAYDESK_ADDR to use another address)", config.addr))?;
    let addr = listener.local_addr()?;
    let host = if addr.ip().is_unspecified() { format!("localhost:{}", addr.port()) } else { addr.to_string() };
    tracing::info!(%addr, "paydesk listening; GraphiQL at http://{host}/graphql");
    // With JSON logs, stdout carries only JSON: the banner and the dev token go into log events instead.
    let json_logs = config.log_format == "json";
    if !json_logs {
        println!("GraphiQL: http://{host}/graphql");
    }
    if let Some(idp) = &state.settings.oidc {
        tracing::info!(issuer = %idp.issuer, audience = %idp.audience, hs256 = state.settings.hs256, "callers sign in with the identity provider's tokens");
    }
    if state.settings.hs256 && config.jwt_secret.as_deref().is_none_or(str::is_empty) {
        let token = state.jwt.mint(uuid::Uuid::now_v7(), Role::Admin, Duration::from_secs(3600))?;
        if json_logs {
            tracing::warn!(dev_admin_token = %token, "JWT_SECRET is not set: a random secret signs tokens for this run only");
        } else {
            tracing::warn!("JWT_SECRET is not set: using a random secret for this run; tokens die with the process");
            println!(
                "\n!! JWT_SECRET is not set: a random secret signs tokens for this run only.\n\
                 Dev admin token (1 h), for GraphiQL's Headers tab:\n\n  {{\"Authorization\": \"Bearer {token}\"}}\n"
            );
        }
    }
    if state.settings.webhook_secrets.is_empty() {
        tracing::warn!("CASHFREE_CLIENT_SECRET is not set: webhook deliveries are recorded and answered 503");
    }
    crate::http::serve(listener, state, shutdown()).await;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

async fn migrate(database_url: &str, action: MigrateAction) -> anyhow::Result<()> {
    let db = crate::db::connect(database_url, Default::default()).await?;
    use crate::db::{applied_migrations, pending_migrations};
    // Printed, not logged: what a migration did must show whatever RUST_LOG says.
    match action {
        MigrateAction::Up => {
            let pending = pending_migrations(&db).await?;
            Migrator::up(&db, None).await?;
            for name in &pending {
                println!("applied     {name}");
            }
            let applied = applied_migrations(&db).await?.len();
            println!("{} applied now, {applied} in all; none pending", pending.len());
        }
        MigrateAction::Status => {
            let pending = pending_migrations(&db).await?;
            for name in applied_migrations(&db).await? {
                println!("applied     {name}");
            }
            for name in &pending {
                println!("pending     {name}");
            }
            println!("{} pending{}", pending.len(), if pending.is_empty() { "" } else { " (run `paydesk migrate`)" });
        }
        MigrateAction::Down { n, all, yes } => {
            let applied = applied_migrations(&db).await?;
            let n = match (n, all, yes) {
                (Some(n), _, _) => n as usize,
                (None, true, true) => applied.len(),
                (None, true, false) => anyhow::bail!(
                    "`migrate down --all` drops every table and its data; add --yes if that is what you want"
                ),
                (None, false, _) => anyhow::bail!(
                    "say how many migrations to roll back (`paydesk migrate down 1`), or `--all --yes` for all of them; \
                     rolling back drops their tables and data"
                ),
            };
            let undone: Vec<String> = applied.iter().rev().take(n).cloned().collect();
            if !undone.is_empty() {
                Migrator::down(&db, Some(undone.len() as u32)).await?;
            }
            for name in &undone {
                println!("rolled back {name}");
            }
            println!("{} rolled back, {} still applied", undone.len(), applied.len() - undone.len());
        }
    }
    Ok(())
}

/// A checkpoint kept in `file` (as `signed_heads_of` reads it), named by the file in findings.
fn kept_checkpoint(file: &std::path::Path) -> anyhow::Result<crate::services::evidence::history::SignedHeads> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let mut heads = crate::services::evidence::history::signed_heads_of(&json)
        .with_context(|| format!("reading the heads in {}", file.display()))?;
    heads.kept_in = Some(file.display().to_string());
    Ok(heads)
}

/// `verify`: the history chains, the checkpoint if one is given, and the books; exit code 1 on any finding.
async fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let url = match &args.file {
        Some(file) => {
            anyhow::ensure!(file.is_file(), "{} is not a file", file.display());
            format!("sqlite://{}?mode=ro", file.display())
        }
        None => args.db.database_url.clone(),
    };
    let mut kept = Vec::new();
    for path in &args.checkpoint {
        let files: Vec<std::path::PathBuf> = if path.is_dir() {
            let mut found: Vec<_> = std::fs::read_dir(path)
                .with_context(|| format!("reading {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            found.sort();
            found
        } else {
            vec![path.clone()]
        };
        for file in files {
            kept.push(kept_checkpoint(&file)?);
        }
    }
    use crate::services::evidence::history::{PublicKey, PublicKeys, Signer};
    let public = PublicKey::parse_all(&args.public_key).context("--public-key")?;
    let key = match &args.signing_key {
        Some(secret) if public.is_empty() && !secret.trim().is_empty() => {
            Some(PublicKeys::from(Signer::from_setting(secret)?.public()))
        }
        _ => PublicKeys::of(public),
    };
    // The checkpoint an earlier clean run verified through: signed, or it vouches for nothing.
    if let Some(file) = &args.since {
        anyhow::ensure!(
            key.is_some(),
            "--since needs the history's public key (--public-key or PAYDESK_HISTORY_PUBLIC_KEY) to check the \
             checkpoints it keeps in {}",
            file.display()
        );
    }
    let since = match &args.since {
        Some(file) if file.exists() => {
            let heads = kept_checkpoint(file)?;
            anyhow::ensure!(heads.signature.is_some(), "{} holds no signed checkpoint", file.display());
            Some(heads)
        }
        _ => None,
    };
    let db = sea_orm::Database::connect(&url).await.with_context(|| format!("opening {}", crate::db::redact(&url)))?;
    let mut history = crate::services::evidence::history::verify(&db, key.as_ref(), since.as_ref()).await?;
    history.findings.extend(crate::services::evidence::history::against_signed(&db, &kept, key.as_ref()).await?);
    print!("{history}");
    let books = crate::services::books::reconcile::run(&db, &Default::default()).await?;
    print!("{books}");
    if !history.is_clean() || !books.is_clean() {
        std::process::exit(1);
    }
    if let (Some(file), Some(newest)) = (&args.since, &history.newest) {
        // Only ever forward: a run that began from a newer checkpoint keeps it.
        if since.as_ref().is_none_or(|s| newest.goes_past(s)) {
            let kept = serde_json::to_string_pretty(&newest.to_json())?;
            // Whole or not at all: a run stopped half way leaves the last one's file as it was.
            let part = file.with_extension("part");
            std::fs::write(&part, kept + "\n").with_context(|| format!("writing {}", part.display()))?;
            std::fs::rename(&part, file).with_context(|| format!("writing {}", file.display()))?;
            println!("verified through the checkpoint {}: kept in {}", newest.label, file.display());
        }
    }
    Ok(())
}

/// `backup`: writes a consistent copy of a SQLite database while the server runs (`VACUUM INTO`), then checks
/// the copy as a restore would; `--check` checks an existing copy. PostgreSQL is backed up with pg_dump.
async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let url = &args.db.database_url;
    if let Some(file) = &args.check {
        let report = crate::backup::check(file).await?;
        print!("{report}");
        if !report.is_clean() {
            std::process::exit(1);
        }
        return Ok(());
    }
    let to = args.to.context("--to FILE says where to write the backup")?;
    crate::backup::write(url, &to).await?;
    println!("wrote {}", to.display());
    let report = crate::backup::check(&to).await?;
    print!("{report}");
    if !report.is_clean() {
        std::process::exit(1);
    }
    Ok(())
}
