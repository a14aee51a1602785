//! Funds availability: a payment's credit can wait before it may be paid out (`PAYDESK_FUNDS_HOLD`, or a wallet's
//! own hold), as Cashfree has not settled it yet and the client may still dispute it. A waiting credit is booked to
//! the wallet's pending account and counted in `pending_balance`; payouts see only the rest (`available`). Its
//! release, when due, is one journal entry (pending to available) made once by whichever instance deletes its
//! `pending_funds` row first.
//!
//! Both the moment a credit becomes available and the moment a release looks for what is due are the database's
//! clock, never an instance's own: an instance whose clock runs behind can neither stamp a credit available early
//! nor release it early.

use crate::auth::{roles, Principal};
use crate::domain::hold as holds;
use crate::error::{AppError, AppResult};
use crate::services::books::journal::{self, Line};
use crate::services::evidence::audit::{self, Action, Actor, Subject};
use crate::state::{AppState, Settings};
use chrono::{DateTime, Utc};
use entity::status::{Account, EntryKind};
use entity::{freelancer_wallet as wallet, pending_fund as pending, Money};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Statement,
};
use std::collections::BTreeMap;
use std::time::Duration;
use uuid::Uuid;

/// Credits released per transaction: a backlog is worked off in bounded steps.
const BATCH: u64 = 200;
/// How often each instance looks for credits that are due.
const EVERY: Duration = Duration::from_secs(1);

/// How long `w`'s payment credits wait: its own hold, else the setting.
pub fn hold_of(settings: &Settings, w: &wallet::Model) -> Duration {
    hold(settings, w.funds_hold_secs)
}

/// A wallet's hold from its own (`funds_hold_secs`), else the setting.
pub fn hold(settings: &Settings, own_secs: Option<i64>) -> Duration {
    own_secs.map_or(settings.funds_hold, |s| Duration::from_secs(u64::try_from(s).unwrap_or(0)))
}

/// What `w` may be paid out of: its balance less what is still pending.
pub fn available(w: &wallet::Model) -> Money {
    available_of(w.balance, w.pending_balance)
}

/// A balance less what of it is still pending.
pub fn available_of(balance: Money, pending: Money) -> Money {
    Money::from_minor(balance.minor().saturating_sub(pending.minor()))
}

/// The database's clock (PostgreSQL's `CURRENT_TIMESTAMP`); on SQLite, which is one process's own file, this
/// process's clock.
pub async fn database_now(db: &impl ConnectionTrait) -> AppResult<DateTime<Utc>> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(crate::clock::now());
    }
    let row = db
        .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, "SELECT CURRENT_TIMESTAMP AS now"))
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the database did not tell its time")))?;
    let now: DateTime<Utc> = row.try_get("", "now")?;
    Ok(chrono::SubsecRound::trunc_subsecs(now, 6))
}

/// When a credit booked now on `w` becomes available, if it must wait at all.
pub async fn pending_until(
    db: &impl ConnectionTrait,
    settings: &Settings,
    w: &wallet::Model,
) -> AppResult<Option<DateTime<Utc>>> {
    let hold = hold_of(settings, w);
    if hold.is_zero() {
        return Ok(None);
    }
    let hold = chrono::Duration::from_std(hold).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Some(database_now(db).await? + hold))
}

/// The next of `wallet`'s credits to become available: when, and how much becomes available then.
pub async fn next_available(db: &impl ConnectionTrait, wallet_id: Uuid) -> AppResult<Option<(DateTime<Utc>, Money)>> {
    let first = pending::Entity::find()
        .filter(pending::Column::WalletId.eq(wallet_id))
        .order_by_asc(pending::Column::AvailableAt)
        .one(db)
        .await?;
    Ok(first.map(|p| (p.available_at, p.amount)))
}

/// The sentence a refusal ends with when funds of `w` are still pending: what becomes available next, and when.
pub async fn when_more(db: &impl ConnectionTrait, w: &wallet::Model) -> AppResult<String> {
    if w.pending_balance == Money::ZERO {
        return Ok(String::new());
    }
    let next = match next_available(db, w.id).await? {
        Some((at, amount)) => format!("; {amount} {} becomes available at {}", w.currency, at.to_rfc3339()),
        None => String::new(),
    };
    Ok(format!(" ({} {} of the balance is still pending{next})", w.pending_balance, w.currency))
}

/// Releases the credits that are due by the database's clock, at most a batch per transaction; returns how many.
pub async fn release_due(db: &DatabaseConnection) -> AppResult<u64> {
    let mut released = 0;
    loop {
        let now = database_now(db).await?;
        let batch = release_batch(db, now).await?;
        released += batch;
        if batch < BATCH {
            return Ok(released);
        }
    }
}

/// One transaction: deletes the due `pending_funds` rows (each instance's delete takes only rows still there, so
/// every credit is released once), books a release entry for each and lowers the wallets' pending balances.
async fn release_batch(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<u64> {
    let txn = crate::db::begin(db).await?;
    let mut due = Query::select();
    due.column(pending::Column::CreditId)
        .from(pending::Entity)
        .and_where(pending::Column::AvailableAt.lte(now))
        .order_by(pending::Column::AvailableAt, sea_orm::Order::Asc)
        .limit(BATCH);
    if db.get_database_backend() == DatabaseBackend::Postgres {
        // Another instance's release of the same rows is not waited for: it releases them.
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let taken = pending::Entity::delete_many()
        .filter(pending::Column::CreditId.in_subquery(due.to_owned()))
        .exec_with_returning(&txn)
        .await?;
    let mut by_wallet: BTreeMap<Uuid, Money> = BTreeMap::new();
    let at = crate::clock::now();
    for credit in &taken {
        journal::book(
            &txn,
            journal::Entry {
                id: crate::clock::new_id(),
                kind: EntryKind::FundsReleased,
                reference: format!("release:{}", credit.credit_id),
                books: None,
                currency: &credit.currency,
                payment_id: credit.payment_id,
                payout_request_id: None,
                description: "payment credit available",
                at,
                lines: vec![
                    Line {
                        account: Account::WalletPending,
                        wallet_id: Some(credit.wallet_id),
                        amount: credit.amount.negate(),
                    },
                    Line { account: Account::Wallet, wallet_id: Some(credit.wallet_id), amount: credit.amount },
                ],
            },
        )
        .await?;
        let sum = by_wallet.entry(credit.wallet_id).or_default();
        *sum = sum.checked_add(credit.amount).ok_or_else(|| AppError::BadInput("amount out of range".into()))?;
    }
    // In wallet order, so that two releases never wait on each other's wallets in opposite orders.
    for (wallet_id, amount) in by_wallet {
        wallet::Entity::update_many()
            .col_expr(wallet::Column::PendingBalance, Expr::col(wallet::Column::PendingBalance).sub(amount.minor()))
            .col_expr(wallet::Column::UpdatedAt, Expr::value(at))
            .filter(wallet::Column::Id.eq(wallet_id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(taken.len() as u64)
}

/// Releases what is due every second, on `background`.
pub fn spawn(background: DatabaseConnection) {
    crate::jobs::every(EVERY, "payment credits became available", move || {
        let db = background.clone();
        async move { release_due(&db).await }
    });
}

/// Sets how long `freelancer`'s payment credits wait (`None`: as `PAYDESK_FUNDS_HOLD` says), for credits from now
/// on; admin only, audited with the reason.
#[tracing::instrument(skip(state))]
pub async fn set_hold(
    state: &AppState,
    who: Principal,
    freelancer_id: Uuid,
    hold: Option<Duration>,
    reason: &str,
) -> AppResult<wallet::Model> {
    who.require(roles::ADMIN)?;
    let reason = crate::domain::text::reason("reason", reason)?;
    if let Some(h) = hold.filter(|h| *h > holds::MAX) {
        return Err(AppError::BadInput(format!("a hold of {} is longer than the longest, 366 days", holds::format(h))));
    }
    let txn = crate::db::begin(&state.db).await?;
    let before = crate::services::books::wallets::by_freelancer(&txn, freelancer_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("freelancer {freelancer_id} has no wallet")))?;
    let secs = hold.map(|h| h.as_secs() as i64);
    let after = wallet::Entity::update_many()
        .col_expr(wallet::Column::FundsHoldSecs, Expr::value(secs))
        .col_expr(wallet::Column::UpdatedAt, Expr::value(crate::clock::now()))
        .filter(wallet::Column::Id.eq(before.id))
        .exec_with_returning(&txn)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("wallet", before.id))?;
    let shown = |w: &wallet::Model| holds::format(hold_of(&state.settings, w));
    audit::record(
        &txn,
        audit::Entry {
            actor: Actor::User(who),
            action: Action::FundsHoldSet,
            entity_type: Subject::Wallet,
            entity_id: before.id,
            before: Some(serde_json::json!({ "fundsHold": shown(&before), "own": before.funds_hold_secs.is_some() })),
            after: Some(serde_json::json!({ "fundsHold": shown(&after), "own": after.funds_hold_secs.is_some() })),
            reason: Some(reason),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
