//! Approving payouts, one or many: the reserve, holds, the four-eyes rule and the Payouts account checked, the
//! wallet debited with its ledger row and journal entry, the notification, the audit entry and the event in one
//! transaction, then the transfer sent; a refusal is audited and a reserve violation alerted.

use super::{decide, existing, no_beneficiary, short_of_reserve, snapshot};
use crate::auth::roles;
use crate::auth::Principal;
use crate::domain::text;
use crate::error::{AppError, AppResult};
use crate::events::{Alert, AlertKind, Event};
use crate::notifications;
use crate::services::books::journal::{Booked, Line};
use crate::services::books::ledger;
use crate::services::evidence::audit::{self, Action, Actor, Subject};
use crate::state::AppState;
use entity::status::{Account, EntryKind, LedgerKind, PayoutStatus, Severity};
use entity::{freelancer_wallet as wallet, payout_request as payout, Money};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Approves and pays a pending request: debits the wallet, which must keep at least `reserve`.
/// A reserve violation is also raised as an alert (after the rollback, so nothing else changed).
#[tracing::instrument(skip(state))]
pub async fn approve(
    state: &AppState,
    who: Principal,
    id: Uuid,
    note: Option<String>,
    force: bool,
) -> AppResult<payout::Model> {
    who.require(roles::ADMIN)?;
    let note = text::note("note", note)?;
    decide_one(state, Approval { who, note, force, batch: None }, id).await
}

/// The most payouts one bulk approval takes.
pub const BULK_MAX: usize = 100;

/// A bulk approval: its id (in each payout's audit entries) and each payout's outcome, in the order asked.
pub struct Bulk {
    pub batch: Uuid,
    pub outcomes: Vec<(Uuid, AppResult<payout::Model>)>,
}

/// Approves each of `ids` (a repeated id once) exactly as `approve` would, each in its own transaction, so one
/// refusal stops none of the others; `admit` is asked before each (the caller's budget of money-moving calls).
#[tracing::instrument(skip(state, admit))]
pub async fn approve_many(
    state: &AppState,
    who: Principal,
    ids: Vec<Uuid>,
    note: Option<String>,
    admit: impl Fn() -> AppResult<()>,
) -> AppResult<Bulk> {
    who.require(roles::ADMIN)?;
    if ids.is_empty() || ids.len() > BULK_MAX {
        return Err(AppError::BadInput(format!(
            "ids names {} payout requests: approve between 1 and {BULK_MAX} at once",
            ids.len()
        )));
    }
    let note = text::note("note", note)?;
    let batch = crate::clock::new_id();
    let mut seen = std::collections::HashSet::new();
    let mut outcomes = Vec::with_capacity(ids.len());
    for id in ids.into_iter().filter(|id| seen.insert(*id)) {
        let approval = Approval { who, note: note.clone(), force: false, batch: Some(batch) };
        let outcome = match admit() {
            Ok(()) => decide_one(state, approval, id).await,
            Err(e) => Err(e),
        };
        outcomes.push((id, outcome));
    }
    Ok(Bulk { batch, outcomes })
}

/// One admin's approval of one payout: who, the note, whether a short Payouts account is overridden, and the bulk
/// approval it is part of.
#[derive(Debug, Clone)]
struct Approval {
    who: Principal,
    note: Option<String>,
    force: bool,
    batch: Option<Uuid>,
}

impl Approval {
    /// An audit entry's `after`, with the bulk approval's id when it is part of one.
    fn marked(&self, mut after: serde_json::Value) -> serde_json::Value {
        if let Some(batch) = self.batch {
            after["batchId"] = serde_json::json!(batch);
        }
        after
    }
}

async fn decide_one(state: &AppState, approval: Approval, id: Uuid) -> AppResult<payout::Model> {
    let result = approve_in_txn(state, &approval, id).await;
    if let Err(e @ (AppError::ReserveViolation(_) | AppError::InvalidState(_) | AppError::OnHold(_))) = &result {
        refused(state, &approval, id, e).await;
    }
    if let Err(AppError::ReserveViolation(why)) = &result {
        let mut alert =
            Alert::new(Severity::Warning, AlertKind::ReserveViolation, format!("payout {id} refused: {why}"));
        alert.payout_request_id = Some(id);
        state.events.alert(&state.db, alert).await;
    }
    result
}

/// A refused approval lands in the audit log too (after the rollback, in a transaction of its own): who tried,
/// on what, and why it was refused. Failing to record it is logged, never hides the refusal.
async fn refused(state: &AppState, approval: &Approval, id: Uuid, why: &AppError) {
    let entry = audit::Entry {
        actor: Actor::User(approval.who),
        action: Action::PayoutApprovalRefused,
        entity_type: Subject::PayoutRequest,
        entity_id: id,
        before: None,
        after: Some(approval.marked(serde_json::json!({ "code": why.code(), "note": approval.note }))),
        reason: Some(why.to_string()),
    };
    if let Err(e) = audit::record(&state.db, entry).await {
        tracing::error!(error = %e, payout = %id, "could not audit a refused approval");
    }
}

/// Debits the wallet and decides the payout: PAID at once in manual mode, or PROCESSING with Cashfree Payouts
/// configured, after which the transfer is sent (outside the transaction: no network call holds a row lock).
async fn approve_in_txn(state: &AppState, approval: &Approval, id: Uuid) -> AppResult<payout::Model> {
    let Approval { who, ref note, force, .. } = *approval;
    let by_transfer = state.cashfree.configured(crate::cashfree::Api::Payouts);
    let four_eyes = state.settings.risk.four_eyes_above;
    let mut forced = None;
    if by_transfer || four_eyes.is_some() {
        let p = existing(&state.db, id).await?;
        if let Some(short) = crate::services::payouts::payout_account::short_for(state, p.amount)
            .filter(|_| p.status == PayoutStatus::Pending)
        {
            if !force {
                return Err(AppError::InvalidState(short));
            }
            forced = Some(short);
        }
        if let Some(limit) = four_eyes.filter(|l| p.amount > *l && p.status == PayoutStatus::Pending) {
            match p.first_approved_by {
                None => return first_approval(state, approval, p, limit).await,
                Some(first) if first == who.id => {
                    return Err(AppError::InvalidState(format!(
                        "payout request {id} is above {limit} {} and needs a second admin: you gave the first approval",
                        p.currency
                    )))
                }
                Some(_) => {}
            }
        }
        if by_transfer
            && crate::services::payouts::beneficiaries::by_freelancer(&state.db, p.freelancer_id).await?.is_none()
        {
            return Err(AppError::InvalidState(no_beneficiary(p.freelancer_id)));
        }
    }
    let to = if by_transfer { PayoutStatus::Processing } else { PayoutStatus::Paid };
    let txn = crate::db::begin(&state.db).await?;
    let (before, after) = decide(&txn, who, id, to, note.clone()).await?;
    crate::services::payouts::holds::check(&txn, after.freelancer_id).await?;
    let transfer = crate::services::payouts::transfers::transfer_id(id);
    let posted = ledger::post(
        &txn,
        ledger::Posting {
            wallet_id: after.wallet_id,
            pending_until: None,
            kind: LedgerKind::PayoutDebit,
            // Sent by transfer, the money waits in transit until Cashfree says; paid by hand, it is gone now.
            entry: if by_transfer { EntryKind::PayoutApproved } else { EntryKind::PayoutPaid },
            against: vec![Line::on(if by_transfer { Account::PayoutsInTransit } else { Account::Bank }, after.amount)],
            amount: after.amount.negate(),
            reference: format!("payout:{id}"),
            books: by_transfer.then_some(Booked::TransferSent { transfer_id: &transfer }),
            payment_id: None,
            payout_request_id: Some(id),
            description: "payout approved",
            floor: Some(state.settings.reserves.of(&after.currency)),
            floor_name: "the reserve",
        },
    )
    .await?;
    notifications::notify(
        &txn,
        notifications::New {
            recipient_id: after.freelancer_id,
            kind: if by_transfer { "payout_approved" } else { "payout_paid" },
            severity: Severity::Info,
            title: format!("Payout of {} {} approved", after.amount, after.currency),
            body: if by_transfer {
                format!(
                    "The transfer is under way. Your wallet balance is now {} {}.",
                    posted.wallet.balance, after.currency
                )
            } else {
                format!("Your wallet balance is now {} {}.", posted.wallet.balance, after.currency)
            },
            payment_id: None,
            payout_request_id: Some(id),
        },
    )
    .await?;
    audit::record(
        &txn,
        audit::Entry {
            actor: Actor::User(who),
            action: Action::PayoutApproved,
            entity_type: Subject::PayoutRequest,
            entity_id: id,
            before: Some(snapshot(&before)),
            after: Some(approval.marked(serde_json::json!({
                "status": after.status,
                "amount": after.amount.to_string(),
                "decisionNote": after.decision_note,
                "walletBalance": posted.wallet.balance.to_string(),
                "forced": forced,
            }))),
            reason: note.clone(),
        },
    )
    .await?;
    state.events.commit_with(txn, Event::PayoutStatusChanged { payout: after.clone() }).await?;
    if by_transfer {
        state.metrics.payout("approved");
        return crate::services::payouts::transfers::send(state, &after).await;
    }
    state.metrics.payout("paid");
    state.metrics.money_moved("payouts_paid", &after.currency, after.amount);
    Ok(after)
}

/// The first of the two approvals a payout above the four-eyes limit needs: checked as an approval would be (held,
/// reserve) but moving no money; the payout stays PENDING until another admin approves it.
async fn first_approval(
    state: &AppState,
    approval: &Approval,
    p: payout::Model,
    limit: Money,
) -> AppResult<payout::Model> {
    let who = approval.who;
    let txn = crate::db::begin(&state.db).await?;
    crate::services::payouts::holds::check(&txn, p.freelancer_id).await?;
    let w = wallet::Entity::find_by_id(p.wallet_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("wallet", p.wallet_id))?;
    if let Some(why) = short_of_reserve(&w, p.amount, state.settings.reserves.of(&w.currency)) {
        return Err(AppError::ReserveViolation(format!(
            "{why}{}",
            crate::services::books::funds::when_more(&txn, &w).await?
        )));
    }
    let now = crate::clock::now();
    let marked = payout::Entity::update_many()
        .col_expr(payout::Column::FirstApprovedBy, Expr::value(who.id))
        .col_expr(payout::Column::FirstApprovedAt, Expr::value(now))
        .col_expr(payout::Column::UpdatedAt, Expr::value(now))
        .filter(payout::Column::Id.eq(p.id))
        .filter(payout::Column::Status.eq(PayoutStatus::Pending))
        .filter(payout::Column::FirstApprovedBy.is_null())
        .exec(&txn)
        .await?;
    if marked.rows_affected != 1 {
        return Err(AppError::InvalidState(format!(
            "payout request {} was decided or first-approved by someone else just now; look at it again",
            p.id
        )));
    }
    audit::record(
        &txn,
        audit::Entry {
            actor: Actor::User(who),
            action: Action::PayoutFirstApproval,
            entity_type: Subject::PayoutRequest,
            entity_id: p.id,
            before: Some(snapshot(&p)),
            after: Some(approval.marked(serde_json::json!({ "status": p.status, "firstApprovedBy": who.id }))),
            reason: approval
                .note
                .clone()
                .or_else(|| Some(format!("above the four-eyes limit of {limit} {}", p.currency))),
        },
    )
    .await?;
    txn.commit().await?;
    existing(&state.db, p.id).await
}
