//! The Cashfree Payouts account that funds every transfer: its balance read every minute (while Payouts is
//! configured), shown in `cashfreeStatus` and `/metrics`, a WARNING `payout_balance_low` alert when it falls below
//! `PAYDESK_PAYOUT_BALANCE_LOW` (once per fall), and the reason an approval is refused when the account cannot
//! cover the payout (an admin may still approve with `force`).

use crate::cashfree::{Api, PayoutBalance};
use crate::error::AppResult;
use crate::events::{Alert, AlertKind};
use crate::services::webhooks::{self, Receipt, Verdict};
use crate::state::AppState;
use entity::status::{Severity, WebhookOutcome};
use entity::{beneficiary, payment_webhook as webhook, Money};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use uuid::Uuid;

/// Takes a Payouts V2 event that is not a transfer's: recorded once (its key claimed) and answered 200 whatever it
/// is, then acted on where paydesk can. `LOW_BALANCE_ALERT` raises WARNING `payout_balance_low` and, like
/// `CREDIT_CONFIRMATION`, reads the balance now; `BENEFICIARY_INCIDENT` raises WARNING `beneficiary_incident` and
/// holds the payouts to every beneficiary it names until an admin releases them; `BULK_TRANSFER_REJECTED` concerns
/// batch transfers, which paydesk never sends; any other type raises WARNING `webhook_unknown_type`.
pub async fn on_event(
    state: &AppState,
    mut row: webhook::ActiveModel,
    kind: &str,
    key: &str,
    data: &Value,
) -> AppResult<Receipt> {
    let db = &state.db;
    // The holds and the delivery's claim commit together: a repeat of the delivery holds nothing again, and a
    // failure leaves nothing claimed, so Cashfree's retry is applied.
    let txn = crate::db::begin(db).await?;
    let held = match kind {
        INCIDENT => incident_holds(&txn, data).await?,
        _ => Vec::new(),
    };
    let (message, alert) = match kind {
        "LOW_BALANCE_ALERT" => (
            "Cashfree reports the Payouts account low: add funds before approving more payouts (its balance is read \
             now)"
                .to_owned(),
            Some(AlertKind::PayoutBalanceLow),
        ),
        "CREDIT_CONFIRMATION" => {
            ("Cashfree confirms a credit to the Payouts account; its balance is read now".into(), None)
        }
        "BULK_TRANSFER_REJECTED" => (
            "a batch transfer was rejected: paydesk sends single transfers only, so no payout of its own is affected"
                .into(),
            None,
        ),
        INCIDENT => (
            format!(
                "Cashfree reports an incident at a beneficiary's bank: {}; {}",
                summary(data),
                match held.len() {
                    0 => "it names no beneficiary of paydesk's, so no payout was held".to_owned(),
                    n => format!("the payouts of {n} freelancer(s) paid there are held until an admin releases them"),
                }
            ),
            Some(AlertKind::BeneficiaryIncident),
        ),
        other => (
            format!("{other} is a payout event paydesk has never seen: recorded, nothing was done"),
            Some(AlertKind::WebhookUnknownType),
        ),
    };
    row.idempotency_key = Set(Some(key.to_owned()));
    row.error = Set(Some(message.clone()));
    if !webhooks::claim(&txn, &row).await? {
        txn.rollback().await?;
        return Ok(webhooks::duplicate(db, row, "already received".into()).await);
    }
    txn.commit().await?;
    let id = row.id.clone().unwrap();
    if let Some(kind) = alert {
        let mut alert = Alert::new(Severity::Warning, kind, message.clone());
        alert.webhook_id = Some(id);
        state.events.alert(db, alert).await;
    }
    if matches!(kind, "LOW_BALANCE_ALERT" | "CREDIT_CONFIRMATION") {
        if let Err(e) = state.cashfree.read_payout_balance().await {
            tracing::warn!(error = %e, kind, "could not read the Payouts balance after Cashfree's event");
        }
    }
    Ok(Receipt::new(Verdict::Accepted, WebhookOutcome::Processed, Some(id), message))
}

/// The Payouts V2 event of an incident at a beneficiary's bank.
const INCIDENT: &str = "BENEFICIARY_INCIDENT";

/// Holds the payouts of the freelancers whose beneficiary the incident names (any `beneficiary_id` in its data).
async fn incident_holds(txn: &impl sea_orm::ConnectionTrait, data: &Value) -> AppResult<Vec<Uuid>> {
    let mut named = Vec::new();
    beneficiary_ids(data, &mut named);
    if named.is_empty() {
        return Ok(Vec::new());
    }
    let freelancers: Vec<Uuid> = beneficiary::Entity::find()
        .filter(beneficiary::Column::CfBeneficiaryId.is_in(named))
        .all(txn)
        .await?
        .into_iter()
        .map(|b| b.freelancer_id)
        .collect();
    let reason = format!("Cashfree reported an incident at this freelancer's bank: {}", summary(data));
    crate::services::payouts::holds::place_by_system(txn, &freelancers, &reason).await
}

/// Every `beneficiary_id` (the Payouts V2 name for Cashfree's id of a beneficiary) anywhere in `v`.
fn beneficiary_ids(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("beneficiary_id", Value::String(id)) if !id.is_empty() => out.push(id.clone()),
                    _ => beneficiary_ids(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| beneficiary_ids(v, out)),
        _ => {}
    }
}

/// What an event says, for people: its text fields, at most 300 characters.
fn summary(data: &Value) -> String {
    let Value::Object(map) = data else { return "no details".into() };
    let parts: Vec<String> = map.iter().filter_map(|(k, v)| v.as_str().map(|s| format!("{k} {s}"))).take(8).collect();
    let text = if parts.is_empty() { "no details".to_owned() } else { parts.join(", ") };
    text.chars().filter(|c| !c.is_control()).take(300).collect()
}

/// How often the balance is read.
const EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Reads the balance now; raises the low-balance alert when it has just fallen below the threshold.
pub async fn check(state: &AppState, was_low: &AtomicBool) -> AppResult<u64> {
    let b = match state.cashfree.read_payout_balance().await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the Cashfree Payouts balance");
            return Ok(0);
        }
    };
    let Some(low) = state.settings.payout_balance_low else { return Ok(0) };
    let is_low = b.available < low;
    if is_low && !was_low.swap(true, Ordering::SeqCst) {
        let message = format!(
            "the Cashfree Payouts account has {} available, below the {} of PAYDESK_PAYOUT_BALANCE_LOW: add funds \
             before approving more payouts",
            b.available, low
        );
        state.events.alert(&state.db, Alert::new(Severity::Warning, AlertKind::PayoutBalanceLow, message)).await;
        return Ok(1);
    }
    if !is_low {
        was_low.store(false, Ordering::SeqCst);
    }
    Ok(0)
}

/// Reads the balance every minute while Payouts is configured.
pub fn spawn(state: AppState) {
    if !state.cashfree.configured(Api::Payouts) {
        return;
    }
    let was_low = Arc::new(AtomicBool::new(false));
    crate::jobs::every(EVERY, "payout balance alerts raised", move || {
        let (state, was_low) = (state.clone(), was_low.clone());
        async move { check(&state, &was_low).await }
    });
}

/// Why the Payouts account cannot fund a payout of `amount` now, if it cannot (as last read).
pub fn short_for(state: &AppState, amount: Money) -> Option<String> {
    if !state.cashfree.configured(Api::Payouts) {
        return None;
    }
    let PayoutBalance { available, read_at, .. } = state.cashfree.payout_balance()?;
    (available < amount).then(|| {
        format!(
            "the Cashfree Payouts account has {available} available (read {}), less than this payout's {amount}: \
             add funds, or approve with force: true",
            read_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    })
}
