//! paydesk's core: the business logic of a marketplace's payments (Cashfree orders and webhooks) and payouts
//! (with a reserve), with a ledger, an audit trail and live events. It knows no HTTP and no GraphQL: services take
//! and return domain types and `AppError`; the server (`src/`) maps them to statuses and codes.

pub mod auth;
pub mod budgets;
pub mod cashfree;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod idempotency;
pub mod jobs;
pub mod metrics;
pub mod notifications;
pub mod services;
pub mod state;
pub mod traces;

use std::sync::Arc;

/// Whether a process that builds the state does the background work every server instance does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jobs {
    /// A server: transfer and refund sweeps, retention, funds release, history chainer and verifier, settlement
    /// poll, payout balance, notification delivery.
    Run,
    /// A command that does one thing and exits (`reconcile`, `seed-demo`): it leaves that work to the servers.
    None,
}

/// Connects to the database (migrating unless told not to), assembles the shared state and, for a server
/// (`jobs`), starts the background work every instance does.
pub async fn build_state(
    config: &config::Config,
    jwt_secret: &[u8],
    migrate: bool,
    jobs: Jobs,
) -> anyhow::Result<state::AppState> {
    let settings = state::Settings::from_config(config)?;
    let settings_oidc = settings.oidc.clone();
    let metrics = Arc::new(metrics::Metrics::default());
    let db::Handles { db, background, reads } =
        db::open(&config.database_url, config.db_pool_size, config.db_idle_close, metrics.sql_statements.clone())
            .await?;
    if migrate {
        db::migrate(&db).await?;
    }
    let events = events::EventBus::new(db.get_database_backend(), config.event_buffer);
    events.listen(&background, config.database_listen_url.as_deref().filter(|u| !u.is_empty())).await?;
    let cashfree = Arc::new(cashfree::Cashfree::new(config, events.clone(), db.clone(), metrics.clone()));
    let rejections = budgets::rejections::Rejections::new(settings.webhook_rejects_per_minute);
    let state = state::AppState {
        cashfree,
        events,
        db,
        reads,
        settings: Arc::new(settings),
        jwt: Arc::new(auth::JwtKeys::new(jwt_secret)),
        idp: settings_oidc.map(auth::oidc::Provider::new),
        metrics,
        rejections,
    };
    if jobs == Jobs::None {
        return Ok(state);
    }
    if let Some(idp) = &state.idp {
        idp.start().await;
    }
    match &state.settings.history_signer {
        Some(signer) => {
            tracing::info!(public_key = %signer.public_hex(), "history checkpoints are signed");
            // The erasure gate answers to this key from the first start on (PostgreSQL).
            if let Err(e) = services::evidence::history::set_up_erasure_gate(&state.db, signer).await {
                tracing::warn!(error = %e, "could not set the erasure gate up; the first erasure will try again");
            }
        }
        None => tracing::warn!(
            "PAYDESK_HISTORY_SIGNING_KEY is not set: history checkpoints go unsigned and no record can be erased, so \
             whoever holds the database can rewrite history that only `paydesk verify --checkpoint` with heads kept \
             elsewhere would catch; `paydesk history-key` makes a key (docs/OPERATIONS.md)"
        ),
    }
    services::payouts::transfers::spawn_sweeper(state.clone());
    services::payments::refunds::spawn_sweeper(state.clone());
    services::operations::retention::spawn(state.clone(), background.clone());
    services::webhooks::spawn_bursts(state.clone());
    services::books::funds::spawn(background.clone());
    services::evidence::history::spawn_chainer(
        background.clone(),
        config.history_link.max(std::time::Duration::from_millis(50)),
    );
    services::payments::settlements::spawn_poller(state.clone());
    services::payouts::payout_account::spawn(state.clone());
    services::evidence::history::spawn_verifier(
        state.clone(),
        background.clone(),
        config.history_verify.max(std::time::Duration::from_millis(50)),
    );
    services::operations::delivery::spawn(state.clone(), background);
    Ok(state)
}
