//! Manual interventions (admin only): each needs a reason, and leaves an audit entry saying who, why,
//! before and after.

use crate::auth::roles;
use crate::auth::Principal;
use crate::domain::text;
use crate::error::{AppError, AppResult};
use crate::services::books::ledger;
use crate::services::evidence::audit::{self, Action, Actor, Subject};
use crate::services::payments;
use crate::state::AppState;
use entity::status::{Account, EntryKind, LedgerKind, PaymentStatus};
use entity::{freelancer_wallet as wallet, payment, payment_webhook as webhook, Money};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use serde_json::json;
use uuid::Uuid;

/// Marks a payment verified after a manual check (e.g. on Cashfree's dashboard). A payment not yet
/// successful is settled now, crediting the wallet exactly as a SUCCESS webhook would.
#[tracing::instrument(skip(state))]
pub async fn verify_payment(
    state: &AppState,
    who: Principal,
    id: Uuid,
    why: &str,
    cf_payment_id: Option<String>,
) -> AppResult<payment::Model> {
    who.require(roles::ADMIN)?;
    let why = text::reason("reason", why)?;
    // With Cashfree credentials, verification rests on what Cashfree reports, applied as a webhook would be.
    let evidence = if state.cashfree.configured(crate::cashfree::Api::Pg) {
        let p = crate::services::payments::gateway::reload(state, id).await?;
        if p.verified_at.is_none() {
            let reported = crate::services::payments::gateway::pull_payments(state, &p).await?;
            let now = crate::services::payments::gateway::reload(state, id).await?;
            if !matches!(now.status, PaymentStatus::Success | PaymentStatus::Refunded) {
                return Err(AppError::InvalidState(format!(
                    "Cashfree reports no successful payment for order {} ({}); nothing was verified",
                    p.order_id,
                    if reported.is_empty() { "no attempts".to_owned() } else { reported.join(", ") }
                )));
            }
            Some(reported)
        } else {
            None
        }
    } else {
        None
    };
    let txn = crate::db::begin(&state.db).await?;
    let p = payment::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| AppError::not_found("payment", id))?;
    if p.verified_at.is_some() {
        return Err(AppError::InvalidState(format!("payment {} was already verified", p.order_id)));
    }
    let settles = !matches!(p.status, PaymentStatus::Success | PaymentStatus::Refunded);
    if settles {
        let attempt = payments::Attempt {
            cf_payment_id: cf_payment_id.unwrap_or_else(|| format!("manual:{}", p.id.simple())),
            status: PaymentStatus::Success,
            amount: p.amount,
            currency: p.currency.clone(),
            method: p.payment_method.clone(),
            bank_reference: p.bank_reference.clone(),
            message: None,
            paid_at: None,
            paid_on: None,
            offers: None,
        };
        payments::apply_attempt(&txn, &state.settings, &p, &attempt).await?;
    }
    let mut row = payment::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("payment", id))?
        .into_active_model();
    row.verified_at = Set(Some(crate::clock::now()));
    row.verified_by = Set(Some(who.id));
    let after = row.update(&txn).await?;
    audit::record(
        &txn,
        audit::Entry {
            actor: Actor::User(who),
            action: Action::PaymentVerified,
            entity_type: Subject::Payment,
            entity_id: id,
            before: Some(json!({ "status": p.status, "verified": false })),
            after: Some(json!({
                "status": after.status, "verified": true, "credited": settles, "cashfreeReported": evidence,
            })),
            reason: Some(why),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Runs a stored webhook delivery again (e.g. once the order it named exists).
#[tracing::instrument(skip(state))]
pub async fn reprocess_webhook(state: &AppState, who: Principal, id: Uuid, why: &str) -> AppResult<webhook::Model> {
    who.require(roles::ADMIN)?;
    let why = text::reason("reason", why)?;
    let stored = webhook::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("webhook delivery", id))?;
    let reply = crate::services::payments::webhook::reprocess(state, &stored).await?;
    let new_id =
        reply.webhook_id.ok_or_else(|| AppError::Internal(anyhow::anyhow!("reprocessed delivery not recorded")))?;
    audit::record(
        &state.db,
        audit::Entry {
            actor: Actor::User(who),
            action: Action::WebhookReprocessed,
            entity_type: Subject::PaymentWebhook,
            entity_id: id,
            before: Some(json!({ "outcome": stored.outcome, "error": stored.error })),
            after: Some(json!({ "outcome": reply.outcome, "webhookId": new_id, "message": reply.message })),
            reason: Some(why),
        },
    )
    .await?;
    webhook::Entity::find_by_id(new_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("webhook delivery", new_id))
}

/// Corrects a wallet by a signed amount, with a ledger row of kind ADJUSTMENT. A debit may not take the
/// wallet below zero.
#[tracing::instrument(skip(state))]
pub async fn adjust_ledger(
    state: &AppState,
    who: Principal,
    freelancer_id: Uuid,
    amount: Money,
    why: &str,
) -> AppResult<entity::wallet_transaction::Model> {
    who.require(roles::ADMIN)?;
    let why = text::reason("reason", why)?;
    if amount == Money::ZERO {
        return Err(AppError::BadInput("amount must not be zero".into()));
    }
    let txn = crate::db::begin(&state.db).await?;
    let before: wallet::Model = crate::services::books::wallets::by_freelancer(&txn, freelancer_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("freelancer {freelancer_id} has no wallet")))?;
    let posted = ledger::post(
        &txn,
        ledger::Posting {
            wallet_id: before.id,
            pending_until: None,
            kind: LedgerKind::Adjustment,
            entry: EntryKind::Adjustment,
            against: vec![crate::services::books::journal::Line::on(Account::Adjustments, amount.negate())],
            amount,
            reference: format!("adjustment:{}", crate::clock::new_id()),
            books: None,
            payment_id: None,
            payout_request_id: None,
            description: &why,
            floor: (!amount.is_positive()).then_some(Money::ZERO),
            floor_name: "zero",
        },
    )
    .await?;
    audit::record(
        &txn,
        audit::Entry {
            actor: Actor::User(who),
            action: Action::LedgerAdjusted,
            entity_type: Subject::Wallet,
            entity_id: before.id,
            before: Some(json!({ "balance": before.balance })),
            after: Some(json!({ "balance": posted.wallet.balance, "amount": amount, "entryId": posted.entry.id })),
            reason: Some(why),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(posted.entry)
}
