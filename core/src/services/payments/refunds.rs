//! Refunds started from paydesk: an admin refunds a client (`createRefund`) and paydesk asks Cashfree for it (Create
//! Refund, `POST /pg/orders/{order_id}/refunds`). The money leaves the freelancer's wallet (their share) and the
//! fee revenue (the platform's fee on it) for refunds payable at once, under the payment's row lock and never beyond
//! what the payment has left: its refunds, disputes and refunds under way together never pass its amount, however
//! many admins refund at once. Cashfree's refund webhook then settles it: paid out of gateway clearing, or, refused
//! or cancelled, back where it came from. Refunds Cashfree reports that paydesk did not start take the older way
//! (`payments::apply_refund`).

use crate::auth::{roles, Principal};
use crate::cashfree::{payloads, Api, CallError, Repeat};
use crate::domain::text;
use crate::error::{AppError, AppResult};
use crate::events::{Alert, AlertKind};
use crate::idempotency;
use crate::services::books::journal::{self, Booked, Line};
use crate::services::books::ledger;
use crate::services::evidence::audit::{self, Action, Actor, Subject};
use crate::state::AppState;
use entity::status::{Account, EntryKind, LedgerKind, PaymentStatus, RefundStatus, Severity};
use entity::{payment, refund, Money};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

/// A refund to start.
pub struct NewRefund {
    pub payment_id: Uuid,
    pub amount: Money,
    pub reason: String,
    pub idempotency_key: Option<String>,
}

/// Starts a refund: books it and asks Cashfree. With an idempotency key, a repeat returns the first refund.
/// Without the Payment Gateway configured it is refused: a refund recorded here that Cashfree never made would be
/// money the books say went back and the client never got.
#[tracing::instrument(skip(state, req), fields(payment = %req.payment_id, amount = %req.amount))]
pub async fn start(state: &AppState, who: Principal, req: NewRefund) -> AppResult<refund::Model> {
    who.require(roles::ADMIN)?;
    let reason = text::reason("reason", &req.reason)?;
    if !req.amount.is_positive() {
        return Err(AppError::BadInput("amount must be greater than zero".into()));
    }
    if !state.cashfree.configured(Api::Pg) {
        return Err(AppError::InvalidState(
            "refunds are started through Cashfree, and its Payment Gateway is not configured here \
             (CASHFREE_CLIENT_ID and CASHFREE_CLIENT_SECRET); nothing was refunded"
                .into(),
        ));
    }
    let parts = [req.payment_id.to_string(), req.amount.to_string(), reason.clone()];
    let key = idempotency::Key::new("createRefund", req.idempotency_key, &parts)?;
    let asked = Asked { payment_id: req.payment_id, amount: req.amount, reason };
    let work = start_once(state, who, asked, key.as_ref());
    let ran = idempotency::once(&state.db, who, key.as_ref(), work, |id| existing(&state.db, id)).await?;
    Ok(ran.into_inner())
}

async fn existing(db: &impl ConnectionTrait, id: Uuid) -> AppResult<refund::Model> {
    refund::Entity::find_by_id(id).one(db).await?.ok_or_else(|| AppError::not_found("refund", id))
}

/// A refund as asked, its reason checked.
struct Asked {
    payment_id: Uuid,
    amount: Money,
    reason: String,
}

async fn start_once(
    state: &AppState,
    who: Principal,
    asked: Asked,
    key: Option<&idempotency::Key>,
) -> AppResult<refund::Model> {
    let (started, order_id) = book(state, who, asked, key).await?;
    let body = payloads::CreateRefund {
        refund_amount: payloads::Amount(started.amount.to_decimal()),
        refund_id: started.refund_id.clone(),
        refund_note: note(&started.reason),
        refund_speed: "STANDARD",
    };
    let body = serde_json::to_value(&body).map_err(|e| AppError::Internal(e.into()))?;
    let path = format!("/orders/{order_id}/refunds");
    let answer =
        state.cashfree.call(Api::Pg, reqwest::Method::POST, &path, Some(&body), Some(&started.refund_id), Repeat::Safe);
    let answer = answer.await;
    // The call has returned: a look-up from now on sees what Cashfree made of it.
    refund::Entity::update_many()
        .col_expr(refund::Column::AskedUntil, Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None))
        .filter(refund::Column::Id.eq(started.id))
        .exec(&state.db)
        .await?;
    match answer {
        Ok(json) => {
            let r: payloads::Refund = payloads::read(json).unwrap_or_default();
            let cf = crate::cashfree::fields::id("", r.cf_refund_id.as_ref()).ok();
            let status = crate::cashfree::fields::id("", r.refund_status.as_ref()).ok();
            let txn = crate::db::begin(&state.db).await?;
            refund::Entity::update_many()
                .col_expr(refund::Column::CfRefundId, Expr::value(cf.clone()))
                .col_expr(refund::Column::UpdatedAt, Expr::value(crate::clock::now()))
                .filter(refund::Column::Id.eq(started.id))
                .exec(&txn)
                .await?;
            let mut now = existing(&txn, started.id).await?;
            if let Some(s) = status.as_deref() {
                if let Some((settled, _)) = settle(&txn, &now, s, cf).await? {
                    now = settled;
                }
            }
            txn.commit().await?;
            Ok(now)
        }
        // Cashfree refused, or the call never left: no refund exists there, so the money goes back now and the
        // refund answers FAILED with Cashfree's reason (a repeat with the same idempotency key says the same).
        Err(e @ (CallError::Refused { .. } | CallError::NotSent(_))) => {
            let txn = crate::db::begin(&state.db).await?;
            undo(&txn, &started, &format!("{e}; nothing was refunded")).await?;
            let failed = existing(&txn, started.id).await?;
            txn.commit().await?;
            Ok(failed)
        }
        // No clear answer: Cashfree may have made it. It stays PENDING until its refund webhook says, or the sweep
        // asks (`sweep`).
        Err(CallError::Unknown(why)) => {
            tracing::warn!(refund = %started.refund_id, %why, "Cashfree did not answer a refund clearly; waiting for its webhook");
            Ok(started)
        }
    }
}

/// Cashfree's `refund_note`: 3 to 100 characters.
fn note(reason: &str) -> String {
    let mut n: String = reason.chars().take(100).collect();
    while n.chars().count() < 3 {
        n.push('.');
    }
    n
}

/// One transaction: takes the amount from what the payment has left (a conditional UPDATE: concurrent refunds queue
/// on the row and each sees the others), records the refund, moves the wallet's and the fee's shares to refunds
/// payable, audits. Returns the refund and the order id to ask Cashfree with.
async fn book(
    state: &AppState,
    who: Principal,
    asked: Asked,
    key: Option<&idempotency::Key>,
) -> AppResult<(refund::Model, String)> {
    let Asked { payment_id, amount, reason } = asked;
    let txn = crate::db::begin(&state.db).await?;
    let p = payment::Entity::find_by_id(payment_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("payment", payment_id))?;
    if p.status != PaymentStatus::Success {
        return Err(AppError::InvalidState(format!(
            "payment {} is {}; only a successful payment with money left can be refunded",
            p.order_id,
            crate::domain::status::api_name(&p.status)
        )));
    }
    crate::domain::money::fits_currency("amount", amount, &p.currency)?;
    let taken = Expr::col(payment::Column::RefundedAmount)
        .add(Expr::col(payment::Column::DisputedAmount))
        .add(Expr::col(payment::Column::RefundingAmount))
        .add(amount.minor());
    let now = crate::clock::now();
    let reserved = payment::Entity::update_many()
        .col_expr(payment::Column::RefundingAmount, Expr::col(payment::Column::RefundingAmount).add(amount.minor()))
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(p.id))
        .filter(payment::Column::Status.eq(PaymentStatus::Success))
        .filter(taken.lte(Expr::col(payment::Column::Amount)))
        .exec(&txn)
        .await?;
    if reserved.rows_affected != 1 {
        let now = payment::Entity::find_by_id(p.id).one(&txn).await?.unwrap_or(p);
        let left = now.amount.minor()
            - now.refunded_amount.minor()
            - now.disputed_amount.minor()
            - now.refunding_amount.minor();
        return Err(AppError::InvalidState(format!(
            "at most {} {} of order {} can be refunded: paid {}, refunded {}, held by disputes {}, refunds under way {}",
            Money::from_minor(std::cmp::max(left, 0)),
            now.currency,
            now.order_id,
            now.amount,
            now.refunded_amount,
            now.disputed_amount,
            now.refunding_amount
        )));
    }
    let wallet = crate::services::books::wallets::by_freelancer(&txn, p.freelancer_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("the freelancer of order {} has no wallet", p.order_id)))?;
    let fee_share = amount.percent(state.settings.platform_fee_percent).unwrap_or_default();
    let debit = Money::from_minor(amount.minor() - fee_share.minor());
    let id = crate::clock::new_id();
    let created = refund::ActiveModel {
        id: Set(id),
        refund_id: Set(format!("pdr_{}", id.simple())),
        cf_refund_id: Set(None),
        payment_id: Set(p.id),
        freelancer_id: Set(p.freelancer_id),
        wallet_id: Set(wallet.id),
        amount: Set(amount),
        fee_share: Set(fee_share),
        currency: Set(p.currency.clone()),
        status: Set(RefundStatus::Pending),
        reason: Set(reason.clone()),
        requested_by: Set(who.id),
        failure_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        asked_until: Set(chrono::Duration::from_std(state.cashfree.longest_call()).ok().map(|d| now + d)),
    };
    let created = sea_orm::ActiveModelTrait::insert(created, &txn).await?;
    let posted = ledger::post(
        &txn,
        ledger::Posting {
            wallet_id: wallet.id,
            kind: LedgerKind::RefundDebit,
            entry: EntryKind::RefundStarted,
            against: vec![Line::on(Account::FeeRevenue, fee_share.negate()), Line::on(Account::RefundsPayable, amount)],
            amount: debit.negate(),
            reference: format!("refund-start:{}", created.refund_id),
            books: Some(Booked::RefundAsked { refund_id: &created.refund_id }),
            payment_id: Some(p.id),
            payout_request_id: None,
            description: "refund to the client, started here",
            // No floor: the client is owed the money whatever the wallet holds; below zero it pays nothing out.
            floor: None,
            floor_name: "",
            pending_until: None,
        },
    )
    .await?;
    if let Some(key) = key {
        idempotency::remember(&txn, who, key, created.id).await?;
    }
    audit::record(
        &txn,
        audit::Entry {
            actor: Actor::User(who),
            action: Action::RefundRequested,
            entity_type: Subject::Payment,
            entity_id: p.id,
            before: Some(serde_json::json!({ "refunded": p.refunded_amount.to_string() })),
            after: Some(serde_json::json!({
                "refundId": created.refund_id, "amount": amount.to_string(), "walletShare": debit.to_string(),
                "feeShare": fee_share.to_string(), "walletBalance": posted.wallet.balance.to_string(),
            })),
            reason: Some(reason),
        },
    )
    .await?;
    txn.commit().await?;
    if crate::services::books::funds::available(&posted.wallet) < Money::ZERO {
        let message = format!(
            "refund {} of {amount} {} on order {} left the wallet of freelancer {} at {} {} available: the freelancer \
             owes that and can be paid out nothing until credits cover it",
            created.refund_id,
            p.currency,
            p.order_id,
            p.freelancer_id,
            crate::services::books::funds::available(&posted.wallet),
            p.currency
        );
        let mut alert = Alert::new(Severity::Critical, AlertKind::WalletOverdrawn, message);
        alert.payment_id = Some(p.id);
        state.events.alert(&state.db, alert).await;
    }
    // A link's payment is refunded on the order Cashfree made for it.
    Ok((created, p.cashfree_order().to_owned()))
}

/// The refund paydesk started under Cashfree's `refund_id`, if it is one of ours.
pub async fn ours(db: &impl ConnectionTrait, refund_id: &str) -> AppResult<Option<refund::Model>> {
    if !refund_id.starts_with("pdr_") {
        return Ok(None);
    }
    Ok(refund::Entity::find().filter(refund::Column::RefundId.eq(refund_id)).one(db).await?)
}

/// The refund paydesk started that Cashfree knows as `cf_refund_id` (from its answer to the creation), if any.
pub async fn by_cf_refund_id(db: &impl ConnectionTrait, cf_refund_id: &str) -> AppResult<Option<refund::Model>> {
    Ok(refund::Entity::find().filter(refund::Column::CfRefundId.eq(cf_refund_id)).one(db).await?)
}

/// Applies Cashfree's `refund_status` to a refund paydesk started, inside the caller's transaction: `SUCCESS`
/// pays it (refunds payable to gateway clearing, the payment's refunded amount raised), `CANCELLED` or `FAILED`
/// undoes it; anything else waits. Once: a refund that is no longer PENDING changes no more. Returns the refund as it
/// stands and whether it moved, or `None` when the status moves nothing.
pub async fn settle(
    db: &impl ConnectionTrait,
    r: &refund::Model,
    cf_status: &str,
    cf_refund_id: Option<String>,
) -> AppResult<Option<(refund::Model, bool)>> {
    let to = match cf_status {
        "SUCCESS" => RefundStatus::Succeeded,
        "CANCELLED" | "FAILED" => RefundStatus::Failed,
        _ => return Ok(None),
    };
    let moved = refund::Entity::update_many()
        .col_expr(refund::Column::Status, Expr::value(to))
        .col_expr(refund::Column::CfRefundId, Expr::value(cf_refund_id.or_else(|| r.cf_refund_id.clone())))
        .col_expr(refund::Column::UpdatedAt, Expr::value(crate::clock::now()))
        .filter(refund::Column::Id.eq(r.id))
        .filter(refund::Column::Status.eq(RefundStatus::Pending))
        .exec_with_returning(db)
        .await?;
    let Some(after) = moved.into_iter().next() else {
        let now = existing(db, r.id).await?;
        if to == RefundStatus::Succeeded && now.status == RefundStatus::Failed {
            // Cashfree has paid a refund paydesk had given up on: the money left, so the books follow it.
            return Ok(Some((revive(db, &now, cf_status).await?, true)));
        }
        return Ok(Some((now, false)));
    };
    if to == RefundStatus::Failed {
        undo_money(db, &after, &format!("Cashfree reported the refund {cf_status}")).await?;
        return Ok(Some((after, true)));
    }
    crate::services::payments::refunded_by(after.amount)
        .col_expr(
            payment::Column::RefundingAmount,
            Expr::col(payment::Column::RefundingAmount).sub(after.amount.minor()),
        )
        .filter(payment::Column::Id.eq(after.payment_id))
        .exec(db)
        .await?;
    journal::book(
        db,
        journal::Entry {
            id: crate::clock::new_id(),
            kind: EntryKind::RefundPaid,
            reference: format!("refund-paid:{}", after.refund_id),
            // Cashfree names the refund it paid; a report without its id is still booked once, by our reference.
            books: after.cf_refund_id.as_deref().map(|cf_refund_id| Booked::RefundPaid { cf_refund_id }),
            currency: &after.currency,
            payment_id: Some(after.payment_id),
            payout_request_id: None,
            description: "refund paid by Cashfree",
            at: crate::clock::now(),
            lines: vec![
                Line::on(Account::RefundsPayable, after.amount.negate()),
                Line::on(Account::GatewayClearing, after.amount),
            ],
        },
    )
    .await?;
    record(db, &after, Action::PaymentRefunded, format!("Cashfree paid refund {}", after.refund_id)).await?;
    Ok(Some((after, true)))
}

/// Books a refund marked FAILED that Cashfree reports paid after all: SUCCEEDED, the wallet's and the fee's shares
/// taken again and the payment's refunded amount raised (without the room check: the client has the money). The
/// caller raises the CRITICAL alert.
async fn revive(db: &impl ConnectionTrait, r: &refund::Model, cf_status: &str) -> AppResult<refund::Model> {
    let revived = refund::Entity::update_many()
        .col_expr(refund::Column::Status, Expr::value(RefundStatus::Succeeded))
        .col_expr(refund::Column::UpdatedAt, Expr::value(crate::clock::now()))
        .filter(refund::Column::Id.eq(r.id))
        .filter(refund::Column::Status.eq(RefundStatus::Failed))
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("refund", r.id))?;
    crate::services::payments::refunded_by(r.amount).filter(payment::Column::Id.eq(r.payment_id)).exec(db).await?;
    let reference = format!("refund-revived:{}", r.refund_id);
    let description = "refund paid by Cashfree after it was given up";
    let books = r.cf_refund_id.as_deref().map(|cf_refund_id| Booked::RefundPaid { cf_refund_id });
    let posting = crate::services::payments::refund_paid(
        r.wallet_id,
        r.payment_id,
        r.amount,
        r.fee_share,
        reference,
        books,
        description,
    );
    ledger::post(db, posting).await?;
    let why = format!("Cashfree reported refund {} {cf_status} after it was marked failed", r.refund_id);
    record(db, &revived, Action::PaymentRefunded, why).await?;
    Ok(revived)
}

/// Marks a refund that never reached Cashfree (or that it refused) FAILED and gives its money back.
async fn undo(db: &impl ConnectionTrait, r: &refund::Model, why: &str) -> AppResult<()> {
    let failed = refund::Entity::update_many()
        .col_expr(refund::Column::Status, Expr::value(RefundStatus::Failed))
        .col_expr(refund::Column::FailureReason, Expr::value(why.chars().take(500).collect::<String>()))
        .col_expr(refund::Column::UpdatedAt, Expr::value(crate::clock::now()))
        .filter(refund::Column::Id.eq(r.id))
        .filter(refund::Column::Status.eq(RefundStatus::Pending))
        .exec_with_returning(db)
        .await?;
    if let Some(after) = failed.into_iter().next() {
        undo_money(db, &after, why).await?;
    }
    Ok(())
}

/// The money of a failed refund, back: the wallet's share and the fee's, out of refunds payable, and the payment's
/// amount under way released.
async fn undo_money(db: &impl ConnectionTrait, r: &refund::Model, why: &str) -> AppResult<()> {
    payment::Entity::update_many()
        .col_expr(payment::Column::RefundingAmount, Expr::col(payment::Column::RefundingAmount).sub(r.amount.minor()))
        .col_expr(payment::Column::UpdatedAt, Expr::value(crate::clock::now()))
        .filter(payment::Column::Id.eq(r.payment_id))
        .exec(db)
        .await?;
    let debit = Money::from_minor(r.amount.minor() - r.fee_share.minor());
    ledger::post(
        db,
        ledger::Posting {
            wallet_id: r.wallet_id,
            kind: LedgerKind::RefundReturn,
            entry: EntryKind::RefundFailed,
            against: vec![
                Line::on(Account::FeeRevenue, r.fee_share),
                Line::on(Account::RefundsPayable, r.amount.negate()),
            ],
            amount: debit,
            reference: format!("refund-failed:{}", r.refund_id),
            books: Some(Booked::RefundFailed { refund_id: &r.refund_id }),
            payment_id: Some(r.payment_id),
            payout_request_id: None,
            description: "refund refused or cancelled: the money back",
            floor: None,
            floor_name: "",
            pending_until: None,
        },
    )
    .await?;
    record(db, r, Action::RefundFailed, why.to_owned()).await
}

async fn record(db: &impl ConnectionTrait, r: &refund::Model, action: Action, why: String) -> AppResult<()> {
    audit::record(
        db,
        audit::Entry {
            actor: Actor::System,
            action,
            entity_type: Subject::Payment,
            entity_id: r.payment_id,
            before: Some(serde_json::json!({ "refundId": r.refund_id, "status": "pending" })),
            after: Some(
                serde_json::json!({ "refundId": r.refund_id, "status": r.status, "amount": r.amount.to_string() }),
            ),
            reason: Some(why),
        },
    )
    .await?;
    Ok(())
}

/// The refunds paydesk started on these payments, oldest first (`Payment.refunds`).
pub async fn of_payments(db: &impl ConnectionTrait, payments: &[Uuid]) -> AppResult<Vec<refund::Model>> {
    Ok(refund::Entity::find()
        .filter(refund::Column::PaymentId.is_in(payments.iter().copied()))
        .order_by_asc(refund::Column::CreatedAt)
        .all(db)
        .await?)
}

/// How long a refund stays PENDING before the sweep asks Cashfree about it.
const QUIET: chrono::Duration = chrono::Duration::seconds(2);

/// Asks Cashfree about refunds still PENDING a while after they were asked for (Get Refund): settles those it has
/// finished, and undoes those it has no record of (its 404: the ask never reached it, so the money goes back). Safe on
/// every instance at once: settling and undoing each move a PENDING refund once.
pub async fn sweep(state: &AppState) -> AppResult<usize> {
    let quiet_since = crate::clock::now() - QUIET;
    let stuck = refund::Entity::find()
        .filter(refund::Column::Status.eq(RefundStatus::Pending))
        .filter(refund::Column::UpdatedAt.lt(quiet_since))
        .order_by_asc(refund::Column::UpdatedAt)
        .limit(100)
        .all(&state.db)
        .await?;
    for r in &stuck {
        look_up(state, r).await?;
    }
    Ok(stuck.len())
}

async fn look_up(state: &AppState, r: &refund::Model) -> AppResult<()> {
    let order_id = match payment::Entity::find_by_id(r.payment_id).one(&state.db).await? {
        Some(p) => p.cashfree_order().to_owned(),
        None => return Ok(()),
    };
    let path = format!("/orders/{order_id}/refunds/{}", r.refund_id);
    let answer = state.cashfree.call(Api::Pg, reqwest::Method::GET, &path, None, None, Repeat::Safe).await;
    let txn = crate::db::begin(&state.db).await?;
    match answer {
        Ok(json) => {
            let found: payloads::Refund = payloads::read(json).unwrap_or_default();
            let status = crate::cashfree::fields::id("", found.refund_status.as_ref()).unwrap_or_default();
            let cf = crate::cashfree::fields::id("", found.cf_refund_id.as_ref()).ok();
            if settle(&txn, r, &status, cf).await?.is_none() {
                // Still under way at Cashfree.
                ask_again(&txn, r).await?;
            }
        }
        // Its create call may still be under way (Cashfree answering slowly): not found yet is not never made, and
        // undoing it now would lose a refund Cashfree then pays.
        Err(CallError::Refused { status: 404, .. })
            if r.asked_until.is_some_and(|until| crate::clock::now() < until) =>
        {
            ask_again(&txn, r).await?;
        }
        Err(CallError::Refused { status: 404, .. }) => {
            let why = format!("Cashfree has no refund {}: the ask never reached it; nothing was refunded", r.refund_id);
            undo(&txn, r, &why).await?;
        }
        Err(e) => {
            tracing::warn!(refund = %r.refund_id, error = %e, "could not look a pending refund up; will try again");
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Leaves a refund still PENDING to be asked about again after another quiet spell.
async fn ask_again(db: &impl ConnectionTrait, r: &refund::Model) -> AppResult<()> {
    refund::Entity::update_many()
        .col_expr(refund::Column::UpdatedAt, Expr::value(crate::clock::now()))
        .filter(refund::Column::Id.eq(r.id))
        .filter(refund::Column::Status.eq(RefundStatus::Pending))
        .exec(db)
        .await?;
    Ok(())
}

/// Runs `sweep` every `PAYDESK_TRANSFER_POLL_SECS` while Cashfree's Payment Gateway is configured.
pub fn spawn_sweeper(state: AppState) {
    if !state.cashfree.configured(Api::Pg) {
        return;
    }
    let period = state.settings.transfer_poll;
    crate::jobs::every(period, "looked up refunds still pending", move || {
        let state = state.clone();
        async move { sweep(&state).await.map(|n| n as u64) }
    });
}
