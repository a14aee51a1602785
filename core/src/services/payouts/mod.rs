//! Payout requests: asking (within the available balance − reserve − pending requests), approving (`approve.rs`:
//! debit, never taking the available balance below the reserve) and rejecting, and what stands in a payout's way
//! (`gates`). Each decision is one transaction with its ledger row and journal entry, notification and audit entry.

use crate::auth::roles;
use crate::auth::Principal;
use crate::services::books::ledger;
use crate::services::evidence::audit::{self, Action, Actor, Subject};
use crate::{idempotency, notifications};

use crate::domain::text;
use crate::error::{AppError, AppResult};
use crate::events::{Alert, AlertKind, Event};
use crate::state::AppState;
use entity::status::{PayoutStatus, Role, Severity};
use entity::{freelancer_wallet as wallet, payout_request as payout, Money};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use uuid::Uuid;

mod approve;
pub mod beneficiaries;
pub mod holds;
pub mod payout_account;
pub mod risk;
pub mod transfers;
pub use approve::{approve, approve_many, Bulk, BULK_MAX};

/// A request to be paid out.
pub struct NewRequest {
    /// Whose wallet; a freelancer may only name themselves.
    pub freelancer_id: Uuid,
    pub amount: Money,
    pub note: Option<String>,
    /// The caller's idempotency key: a repeat of the same request returns the first one's payout request.
    pub idempotency_key: Option<String>,
}

fn snapshot(p: &payout::Model) -> serde_json::Value {
    serde_json::json!({ "status": p.status, "amount": p.amount.to_string(), "decisionNote": p.decision_note })
}

/// Sum of the wallet's pending requests.
async fn pending_total(db: &impl ConnectionTrait, wallet_id: Uuid) -> AppResult<Money> {
    let total: Option<Option<i64>> = payout::Entity::find()
        .select_only()
        .expr_as(ledger::sum_minor(payout::Column::Amount), "total")
        .filter(payout::Column::WalletId.eq(wallet_id))
        .filter(payout::Column::Status.eq(PayoutStatus::Pending))
        .into_tuple()
        .one(db)
        .await?;
    Ok(Money::from_minor(total.flatten().unwrap_or(0)))
}

/// Files a payout request if the wallet can cover it on top of its reserve and its other pending requests. With
/// an idempotency key, a repeat (even one racing the first) returns the first request as it is now.
#[tracing::instrument(skip(state, req), fields(freelancer = %req.freelancer_id, amount = %req.amount))]
pub async fn request(state: &AppState, who: Principal, mut req: NewRequest) -> AppResult<payout::Model> {
    who.require(roles::ADMIN_OR_FREELANCER)?;
    req.note = text::note("note", req.note.take())?;
    if who.role == Role::Freelancer && who.id != req.freelancer_id {
        return Err(AppError::Forbidden("freelancers may request payouts only from their own wallet".into()));
    }
    let parts = [req.freelancer_id.to_string(), req.amount.to_string(), req.note.clone().unwrap_or_default()];
    let key = idempotency::Key::new("requestPayout", req.idempotency_key.take(), &parts)?;
    let work = request_once(state, who, req, key.as_ref());
    let ran = idempotency::once(&state.db, who, key.as_ref(), work, |id| existing(&state.db, id)).await?;
    Ok(ran.into_inner())
}

async fn existing(db: &impl ConnectionTrait, id: Uuid) -> AppResult<payout::Model> {
    payout::Entity::find_by_id(id).one(db).await?.ok_or_else(|| AppError::not_found("payout request", id))
}

async fn request_once(
    state: &AppState,
    who: Principal,
    req: NewRequest,
    key: Option<&idempotency::Key>,
) -> AppResult<payout::Model> {
    let db = &state.db;
    let txn = crate::db::begin(db).await?;
    // Touching the row takes its lock (PostgreSQL) so concurrent requests on one wallet queue up here and
    // each sees the others' pending amounts.
    let touched = wallet::Entity::update_many()
        .col_expr(wallet::Column::UpdatedAt, Expr::value(crate::clock::now()))
        .filter(wallet::Column::FreelancerId.eq(req.freelancer_id))
        .exec(&txn)
        .await?;
    if touched.rows_affected == 0 {
        return Err(AppError::NotFound(format!("freelancer {} has no wallet yet", req.freelancer_id)));
    }
    // After the wallet's lock, so a repeat waits for the first request and finds its key.
    if let Some(key) = key {
        if let Some(id) = idempotency::replayed(&txn, who, key).await? {
            return existing(&txn, id).await;
        }
    }
    crate::services::payouts::holds::check(&txn, req.freelancer_id).await?;
    let w = crate::services::books::wallets::by_freelancer(&txn, req.freelancer_id)
        .await?
        .ok_or_else(|| AppError::not_found("wallet of freelancer", req.freelancer_id))?;
    let reserve = state.settings.reserves.of(&w.currency);
    let pending = pending_total(&txn, w.id).await?;
    let free = crate::services::books::funds::available(&w);
    let available = free.checked_sub(reserve).and_then(|m| m.checked_sub(pending)).unwrap_or(Money::ZERO);
    if req.amount > available {
        return Err(AppError::ReserveViolation(format!(
            "at most {} {cur} can be requested: the available balance of {free} less the reserve of {reserve} and \
             {pending} already requested{}",
            available.max(Money::ZERO),
            crate::services::books::funds::when_more(&txn, &w).await?,
            cur = w.currency,
        )));
    }
    let flags = crate::services::payouts::risk::assess(&txn, &state.settings.risk, &w, req.amount).await?;
    let now = crate::clock::now();
    let created = payout::ActiveModel {
        id: Set(crate::clock::new_id()),
        wallet_id: Set(w.id),
        freelancer_id: Set(req.freelancer_id),
        amount: Set(req.amount),
        currency: Set(w.currency.clone()),
        status: Set(PayoutStatus::Pending),
        note: Set(req.note),
        requested_by: Set(who.id),
        decided_by: Set(None),
        decided_at: Set(None),
        decision_note: Set(None),
        cf_transfer_id: Set(None),
        transfer_status: Set(None),
        failure_reason: Set(None),
        risk_flags: Set(crate::domain::risk::encode(&flags)),
        first_approved_by: Set(None),
        first_approved_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    if let Some(key) = key {
        idempotency::remember(&txn, who, key, created.id).await?;
    }
    audit::record(
        &txn,
        audit::Entry {
            actor: Actor::User(who),
            action: Action::PayoutRequested,
            entity_type: Subject::PayoutRequest,
            entity_id: created.id,
            before: None,
            after: Some(snapshot(&created)),
            reason: created.note.clone(),
        },
    )
    .await?;
    if !flags.is_empty() {
        let reasons: Vec<&str> = flags.iter().map(|f| f.reason.as_str()).collect();
        let message =
            format!("payout {} of {} {} flagged: {}", created.id, created.amount, created.currency, reasons.join("; "));
        let mut alert = Alert::new(Severity::Warning, AlertKind::PayoutRisk, message);
        alert.payout_request_id = Some(created.id);
        state.events.stage(&txn, &Event::Alert(alert)).await?;
    }
    state.events.commit_with(txn, Event::PayoutRequested { payout: created.clone() }).await?;
    state.metrics.payout("requested");
    Ok(created)
}

/// Moves a pending request to `to` (conditionally, so two deciders cannot both win) and returns before/after: one
/// UPDATE … RETURNING; only a refusal reads the row again, to say why.
async fn decide(
    db: &impl ConnectionTrait,
    who: Principal,
    id: Uuid,
    to: PayoutStatus,
    note: Option<String>,
) -> AppResult<(payout::Model, payout::Model)> {
    debug_assert!(crate::domain::status::payout_can_move(PayoutStatus::Pending, to), "pending -> {to:?}");
    let now = crate::clock::now();
    let moved = payout::Entity::update_many()
        .col_expr(payout::Column::Status, Expr::value(to))
        .col_expr(payout::Column::DecidedBy, Expr::value(who.id))
        .col_expr(payout::Column::DecidedAt, Expr::value(now))
        .col_expr(payout::Column::DecisionNote, Expr::value(note))
        .col_expr(payout::Column::UpdatedAt, Expr::value(now))
        .filter(payout::Column::Id.eq(id))
        .filter(payout::Column::Status.eq(PayoutStatus::Pending))
        .exec_with_returning(db)
        .await?;
    let Some(after) = moved.into_iter().next() else {
        let current =
            payout::Entity::find_by_id(id).one(db).await?.ok_or_else(|| AppError::not_found("payout request", id))?;
        return Err(AppError::InvalidState(format!(
            "payout request {id} is already {}; only a pending request can be decided",
            crate::domain::status::api_name(&current.status)
        )));
    };
    // It was pending, undecided, a moment ago: that is the "before" the audit trail keeps.
    let before = payout::Model {
        status: PayoutStatus::Pending,
        decided_by: None,
        decided_at: None,
        decision_note: None,
        ..after.clone()
    };
    Ok((before, after))
}

/// Rejects (or, with `cancel`, withdraws) a pending request; `reason` is required and shown to the freelancer.
#[tracing::instrument(skip(state))]
pub async fn reject(
    state: &AppState,
    who: Principal,
    id: Uuid,
    reason: String,
    cancel: bool,
) -> AppResult<payout::Model> {
    who.require(roles::ADMIN)?;
    let reason = text::reason("reason", &reason)?;
    let (to, action, kind) = if cancel {
        (PayoutStatus::Cancelled, Action::PayoutCancelled, "payout_cancelled")
    } else {
        (PayoutStatus::Rejected, Action::PayoutRejected, "payout_rejected")
    };
    let txn = crate::db::begin(&state.db).await?;
    let (before, after) = decide(&txn, who, id, to, Some(reason.clone())).await?;
    notifications::notify(
        &txn,
        notifications::New {
            recipient_id: after.freelancer_id,
            kind,
            severity: Severity::Warning,
            title: format!(
                "Payout of {} {} {}",
                after.amount,
                after.currency,
                if cancel { "cancelled" } else { "rejected" }
            ),
            body: reason.clone(),
            payment_id: None,
            payout_request_id: Some(id),
        },
    )
    .await?;
    audit::record(
        &txn,
        audit::Entry {
            actor: Actor::User(who),
            action,
            entity_type: Subject::PayoutRequest,
            entity_id: id,
            before: Some(snapshot(&before)),
            after: Some(snapshot(&after)),
            reason: Some(reason),
        },
    )
    .await?;
    state.events.commit_with(txn, Event::PayoutStatusChanged { payout: after.clone() }).await?;
    state.metrics.payout(if cancel { "cancelled" } else { "rejected" });
    Ok(after)
}

/// Why a payout to `freelancer` cannot be sent through Cashfree yet.
fn no_beneficiary(freelancer: Uuid) -> String {
    format!("freelancer {freelancer} has no beneficiary: register their bank account or UPI handle before approving")
}

/// Why paying `amount` out of `w` would break the reserve, if it would: only available funds count.
fn short_of_reserve(w: &wallet::Model, amount: Money, reserve: Money) -> Option<String> {
    let free = crate::services::books::funds::available(w);
    free.checked_sub(amount).is_none_or(|left| left < reserve).then(|| {
        let pending = if w.pending_balance == Money::ZERO {
            String::new()
        } else {
            format!(" ({} {cur} more is pending, not yet available)", w.pending_balance, cur = w.currency)
        };
        format!(
            "paying {amount} {cur} would take the wallet's available balance of {free} {cur} below the reserve of \
             {reserve} {cur}{pending}",
            cur = w.currency
        )
    })
}

/// What stands between a pending payout and an approval, for a page of payouts at once.
#[derive(Clone)]
pub struct Gate {
    /// The hold on this freelancer's payouts (or all), as the refusal would say it.
    pub held: Option<String>,
    pub has_beneficiary: bool,
}

/// The gates of `freelancers`' payouts: holds in force and registered beneficiaries, in two statements.
pub async fn gates(
    db: &impl ConnectionTrait,
    freelancers: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, Gate>> {
    let holds = crate::services::payouts::holds::in_force(db, freelancers).await?;
    let with_beneficiary: std::collections::HashSet<Uuid> = entity::beneficiary::Entity::find()
        .select_only()
        .column(entity::beneficiary::Column::FreelancerId)
        .filter(entity::beneficiary::Column::FreelancerId.is_in(freelancers.iter().copied()))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(freelancers
        .iter()
        .map(|f| {
            let gate = Gate {
                held: holds.get(f).map(crate::services::payouts::holds::refusal),
                has_beneficiary: with_beneficiary.contains(f),
            };
            (*f, gate)
        })
        .collect())
}

/// Why `who` could not approve `p` now (the refusal approving would give), or `None` if they could.
pub fn blocker(
    state: &AppState,
    who: Principal,
    p: &payout::Model,
    w: Option<&wallet::Model>,
    gate: &Gate,
) -> Option<String> {
    if p.status != PayoutStatus::Pending {
        return Some(format!(
            "it is {}; only a pending request can be approved",
            crate::domain::status::api_name(&p.status)
        ));
    }
    if who.role != Role::Admin {
        return Some("only an admin approves payouts".into());
    }
    if let Some(held) = &gate.held {
        return Some(held.clone());
    }
    let Some(w) = w else { return Some("its wallet no longer exists".into()) };
    if let Some(why) = short_of_reserve(w, p.amount, state.settings.reserves.of(&w.currency)) {
        return Some(why);
    }
    if state.cashfree.configured(crate::cashfree::Api::Payouts) && !gate.has_beneficiary {
        return Some(no_beneficiary(p.freelancer_id));
    }
    if let Some(short) = crate::services::payouts::payout_account::short_for(state, p.amount) {
        return Some(short);
    }
    if p.first_approved_by == Some(who.id) {
        return Some("it needs a second admin: you gave the first approval".into());
    }
    None
}

/// How many admins' approvals `p` needs in all: two above the four-eyes limit, else one.
pub fn approvals_needed(state: &AppState, p: &payout::Model) -> u8 {
    match state.settings.risk.four_eyes_above {
        Some(limit) if p.amount > limit => 2,
        _ => 1,
    }
}
