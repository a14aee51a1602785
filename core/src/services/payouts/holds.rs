//! Emergency controls (admin): hold every payout (a freeze) or one freelancer's. A hold needs a reason, is
//! audited and alerted, and while it stands `requestPayout` and `approvePayout` refuse with `PAYOUTS_ON_HOLD`.
//! Transfers already sent to Cashfree are not recalled: they finish as Cashfree reports.
//!
//! Every instance honours a hold the moment it commits: on PostgreSQL, requests and approvals check under a
//! shared advisory lock that placing a hold takes exclusively, so none that checked before the hold can commit
//! after it. (SQLite has one writer at a time, which does the same.)

use crate::auth::roles;
use crate::auth::Principal;
use crate::domain::text;
use crate::error::{AppError, AppResult};
use crate::events::{Alert, AlertKind};
use crate::services::evidence::audit::{self, Action, Actor, Subject};
use crate::state::AppState;
use entity::payout_hold as hold;
use entity::status::Severity;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Set, Statement,
};
use serde_json::json;
use uuid::Uuid;

/// The advisory lock that orders holds against payout requests and approvals ("payhold" in ASCII).
const HOLD_LOCK: i64 = 0x0070_6179_686f_6c64;

/// The row key of a hold on `freelancer`'s payouts, or on all of them.
fn key(freelancer: Option<Uuid>) -> String {
    freelancer.map_or_else(|| "all".to_owned(), |f| format!("wallet:{f}"))
}

fn describe(freelancer: Option<Uuid>) -> String {
    freelancer.map_or_else(|| "all payouts".to_owned(), |f| format!("the payouts of freelancer {f}"))
}

async fn lock(db: &impl ConnectionTrait, exclusive: bool) -> AppResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        let f = if exclusive { "pg_advisory_xact_lock" } else { "pg_advisory_xact_lock_shared" };
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT {f}($1)"),
            [HOLD_LOCK.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Inside a payout request's or approval's transaction: refuses if payouts, or `freelancer`'s, are held.
pub async fn check(txn: &impl ConnectionTrait, freelancer: Uuid) -> AppResult<()> {
    lock(txn, false).await?;
    match in_force(txn, &[freelancer]).await?.remove(&freelancer) {
        None => Ok(()),
        Some(h) => Err(AppError::OnHold(refusal(&h))),
    }
}

/// What a payout under hold `h` is told.
pub fn refusal(h: &hold::Model) -> String {
    format!(
        "{} are on hold since {} ({}); an admin must release the hold first",
        if h.freelancer_id.is_some() { "this freelancer's payouts" } else { "all payouts" },
        h.placed_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        h.reason
    )
}

/// The hold in force on each of `freelancers`' payouts (the freeze, else their own), if any.
pub async fn in_force(
    db: &impl ConnectionTrait,
    freelancers: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, hold::Model>> {
    let keys = std::iter::once(key(None)).chain(freelancers.iter().map(|f| key(Some(*f))));
    let rows = hold::Entity::find().filter(hold::Column::Key.is_in(keys)).all(db).await?;
    let freeze = rows.iter().find(|h| h.freelancer_id.is_none()).cloned();
    let mut out: std::collections::HashMap<Uuid, hold::Model> =
        rows.into_iter().filter_map(|h| h.freelancer_id.map(|f| (f, h))).collect();
    if let Some(all) = freeze {
        for f in freelancers {
            out.insert(*f, all.clone());
        }
    }
    Ok(out)
}

/// Every hold in force: the freeze first, if any, then per freelancer, oldest first.
pub async fn list(db: &impl ConnectionTrait) -> AppResult<Vec<hold::Model>> {
    Ok(hold::Entity::find().order_by_asc(hold::Column::Key).all(db).await?)
}

/// Holds all payouts (`freelancer` None) or one freelancer's.
#[tracing::instrument(skip(state))]
pub async fn place(state: &AppState, who: Principal, freelancer: Option<Uuid>, reason: &str) -> AppResult<hold::Model> {
    who.require(roles::ADMIN)?;
    let reason = text::reason("reason", reason)?;
    let txn = crate::db::begin(&state.db).await?;
    lock(&txn, true).await?;
    if hold::Entity::find_by_id(key(freelancer)).one(&txn).await?.is_some() {
        return Err(AppError::InvalidState(format!("{} are already on hold", describe(freelancer))));
    }
    let placed = hold::ActiveModel {
        key: Set(key(freelancer)),
        freelancer_id: Set(freelancer),
        reason: Set(reason.clone()),
        placed_by: Set(who.id),
        placed_at: Set(crate::clock::now()),
    }
    .insert(&txn)
    .await?;
    record(&txn, Actor::User(who), Action::PayoutsHeld, freelancer, None, Some(&placed), &reason).await?;
    let (severity, kind) = if freelancer.is_some() {
        (Severity::Warning, AlertKind::WalletHeld)
    } else {
        (Severity::Critical, AlertKind::PayoutsFrozen)
    };
    let alert = Alert::new(severity, kind, format!("{} put on hold by {}: {reason}", describe(freelancer), who.id));
    state.events.commit_with(txn, crate::events::Event::Alert(alert)).await?;
    Ok(placed)
}

/// Lifts the hold on all payouts (`freelancer` None) or on one freelancer's; returns the hold lifted.
#[tracing::instrument(skip(state))]
pub async fn release(
    state: &AppState,
    who: Principal,
    freelancer: Option<Uuid>,
    reason: &str,
) -> AppResult<hold::Model> {
    who.require(roles::ADMIN)?;
    let reason = text::reason("reason", reason)?;
    let txn = crate::db::begin(&state.db).await?;
    lock(&txn, true).await?;
    let Some(held) = hold::Entity::find_by_id(key(freelancer)).one(&txn).await? else {
        return Err(AppError::InvalidState(format!("{} are not on hold", describe(freelancer))));
    };
    hold::Entity::delete_by_id(key(freelancer)).exec(&txn).await?;
    record(&txn, Actor::User(who), Action::PayoutsReleased, freelancer, Some(&held), None, &reason).await?;
    let kind = if freelancer.is_some() { AlertKind::WalletReleased } else { AlertKind::PayoutsUnfrozen };
    let alert = Alert::new(Severity::Info, kind, format!("{} released by {}: {reason}", describe(freelancer), who.id));
    state.events.commit_with(txn, crate::events::Event::Alert(alert)).await?;
    Ok(held)
}

/// Holds each of `freelancers`' payouts for a reason paydesk found itself (a Cashfree beneficiary incident), inside
/// the caller's transaction, audited as the system; one already held keeps its hold, and an admin releases them as
/// any other. Returns the freelancers held now.
pub async fn place_by_system(txn: &impl ConnectionTrait, freelancers: &[Uuid], reason: &str) -> AppResult<Vec<Uuid>> {
    lock(txn, true).await?;
    let mut held = Vec::new();
    for &f in freelancers {
        if held.contains(&f) || hold::Entity::find_by_id(key(Some(f))).one(txn).await?.is_some() {
            continue;
        }
        let placed = hold::ActiveModel {
            key: Set(key(Some(f))),
            freelancer_id: Set(Some(f)),
            reason: Set(reason.to_owned()),
            placed_by: Set(Uuid::nil()),
            placed_at: Set(crate::clock::now()),
        }
        .insert(txn)
        .await?;
        record(txn, Actor::System, Action::PayoutsHeld, Some(f), None, Some(&placed), reason).await?;
        held.push(f);
    }
    Ok(held)
}

async fn record(
    txn: &impl ConnectionTrait,
    actor: Actor,
    action: Action,
    freelancer: Option<Uuid>,
    before: Option<&hold::Model>,
    after: Option<&hold::Model>,
    reason: &str,
) -> AppResult<()> {
    let snapshot = |h: &hold::Model| json!({ "scope": h.key, "reason": h.reason, "placedBy": h.placed_by });
    audit::record(
        txn,
        audit::Entry {
            actor,
            action,
            entity_type: Subject::PayoutHold,
            entity_id: freelancer.unwrap_or(Uuid::nil()),
            before: before.map(snapshot),
            after: after.map(snapshot),
            reason: Some(reason.to_owned()),
        },
    )
    .await?;
    Ok(())
}
