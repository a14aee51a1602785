//! The `paydesk` binary: `serve` (default), `migrate`, `schema`, `token`, `seed-demo`.

use anyhow::Context;
use clap::Parser;
use entity::status::Role;
use migration::{Migrator, MigratorTrait};
use paydesk::config::{Cli, Command, Config, MigrateAction};
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
            let report = paydesk::services::reconcile::run(&state.db, state.settings.payout_reserve).await?;
            print!("{report}");
            if !report.is_clean() {
                std::process::exit(1);
            }
            Ok(())
        }
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
    println!("GraphiQL: http://{host}/graphql");
    if config.jwt_secret.as_deref().is_none_or(str::is_empty) {
        let token = state.jwt.mint(uuid::Uuid::now_v7(), Role::Admin, Duration::from_secs(3600))?;
        tracing::warn!("JWT_SECRET is not set: using a random secret for this run; tokens die with the process");
        println!(
            "\n!! JWT_SECRET is not set: a random secret signs tokens for this run only.\n\
             Dev admin token (1 h), for GraphiQL's Headers tab:\n\n  {{\"Authorization\": \"Bearer {token}\"}}\n"
        );
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
    match action {
        MigrateAction::Up => Migrator::up(&db, None).await?,
        MigrateAction::Down { n } => Migrator::down(&db, Some(n)).await?,
        MigrateAction::Status => Migrator::status(&db).await?,
    }
    Ok(())
}
