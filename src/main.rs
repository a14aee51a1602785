//! The `paydesk` binary: `serve` (default), `migrate`, `schema`, `token`, `seed-demo`.

use anyhow::Context;
use clap::Parser;
use entity::status::Role;
use migration::{Migrator, MigratorTrait};
use paydesk::config::{Cli, Command, Config, DoubleArgs, MigrateAction};
use rand::RngCore;
use std::time::Duration;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    paydesk::telemetry::init(&cli.config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config).await,
        Command::Migrate { action } => migrate(cli.config, action.unwrap_or(MigrateAction::Up)).await,
        Command::Schema => {
            print!("{}", paydesk::graphql::sdl());
            Ok(())
        }
        Command::Token(args) => {
            let secret = cli
                .config
                .jwt_secret
                .as_deref()
                .context("JWT_SECRET is not set: a token only works against a server that uses the same secret")?;
            let role = match args.role.as_str() {
                "admin" => Role::Admin,
                "ops" => Role::Ops,
                _ => Role::Freelancer,
            };
            println!("{}", paydesk::auth::JwtKeys::new(secret.as_bytes()).mint(args.sub, role, args.ttl)?);
            Ok(())
        }
        Command::Reconcile => {
            let state = paydesk::build_state(&cli.config, b"reconcile", false).await?;
            let report = paydesk::services::reconcile::run(&state.db, &state.settings.reserves).await?;
            print!("{report}");
            if !report.is_clean() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::CashfreeDouble(args) => cashfree_double(cli.config, args).await,
        Command::SeedDemo => {
            let state = paydesk::build_state(&cli.config, b"seed", true).await?;
            paydesk::seed::demo(&state).await
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
    let state = paydesk::build_state(&config, &secret, !config.no_migrate)
        .await
        .with_context(|| format!("opening the database at {}", paydesk::db::redact(&config.database_url)))?;
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
    if config.jwt_secret.as_deref().is_none_or(str::is_empty) {
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
    let (stop, sockets) = (state.shutdown.clone(), state.sockets.clone());
    let stopping = async move {
        shutdown().await;
        let _ = stop.send(true);
    };
    axum::serve(listener, paydesk::http::app(state)).with_graceful_shutdown(stopping).await?;
    // Give WebSocket subscribers a moment to receive their 1001 goodbye.
    sockets.close();
    let _ = tokio::time::timeout(Duration::from_secs(5), sockets.wait()).await;
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

async fn migrate(config: Config, action: MigrateAction) -> anyhow::Result<()> {
    let db = paydesk::db::connect(&config.database_url, Default::default()).await?;
    use paydesk::db::{applied_migrations, pending_migrations};
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

/// Runs the Cashfree double with the credentials paydesk is configured with, until Ctrl-C.
async fn cashfree_double(config: Config, args: DoubleArgs) -> anyhow::Result<()> {
    let need = |v: &Option<String>, name: &str| {
        v.clone()
            .filter(|s| !s.is_empty())
            .with_context(|| format!("{name} is not set: the double accepts the same credentials paydesk sends"))
    };
    let double = paydesk::cashfree::double::Double::start(
        paydesk::cashfree::double::DoubleConfig {
            pg_client_id: need(&config.cashfree_client_id, "CASHFREE_CLIENT_ID")?,
            pg_secret: need(&config.webhook_secrets().first().cloned(), "CASHFREE_CLIENT_SECRET")?,
            payout_client_id: need(&config.cashfree_payout_client_id, "CASHFREE_PAYOUT_CLIENT_ID")?,
            payout_secret: need(&config.cashfree_payout_client_secret, "CASHFREE_PAYOUT_CLIENT_SECRET")?,
            paydesk_url: args.paydesk_url.trim_end_matches('/').to_owned(),
            complete_transfers_after: (!args.complete_transfers_after.is_zero())
                .then_some(args.complete_transfers_after),
        },
        args.listen,
    )
    .await
    .with_context(|| format!("listening on {}", args.listen))?;
    println!(
        "Cashfree double at {url}; webhooks go to {paydesk}.\n\
         Start paydesk with CASHFREE_BASE_URL={url} and the same CASHFREE_* credentials.\n\
         Pay an order:      curl -X POST {url}/__double/orders/ORDER_ID/pay?status=SUCCESS\n\
         End a transfer:    curl -X POST {url}/__double/transfers/PAYOUT_ID/FAILED\n\
         Inject a fault:    curl -X POST {url}/__double/faults -H 'content-type: application/json' \\\n\
         \x20                    -d '{{\"path\":\"/payout/transfers\",\"status\":503}}'",
        url = double.url(),
        paydesk = args.paydesk_url,
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
