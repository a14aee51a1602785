//! Cashfree Payouts' version 1 webhooks (`POST /api/webhooks/cashfree/payouts/v1`), for the one event the V2
//! webhooks lack: `LOW_BALANCE_ALERT`, the Payouts account running low. They are form-encoded and signed in the body:
//! `signature` = Base64(HMAC-SHA256(Payouts client secret, the other fields' values concatenated in the order of
//! their names)). Every delivery is recorded like the others; a low-balance alert raises a WARNING
//! `payout_balance_low` and reads the balance at once. Transfer events arrive through the V2 webhooks; V1 ones are
//! recorded and not acted on.

use super::{record, rejected, row, unconfigured, Headers, Receipt, Verdict};
use crate::events::{Alert, AlertKind};
use crate::state::AppState;
use base64::Engine;
use entity::status::{Severity, WebhookOutcome};
use hmac::{Hmac, Mac};
use sea_orm::Set;

/// The event this route acts on.
const LOW_BALANCE: &str = "LOW_BALANCE_ALERT";

/// Whether `signature` signs `fields` (name, value; `signature` itself left out) with `secret`; constant time.
pub fn signed(secret: &str, fields: &[(String, String)], signature: &str) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else { return false };
    let mut sorted: Vec<&(String, String)> = fields.iter().filter(|(k, _)| k != "signature").collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    for (_, v) in sorted {
        mac.update(v.as_bytes());
    }
    mac.verify_slice(&expected).is_ok()
}

/// Takes one V1 delivery end to end.
pub async fn receive(state: &AppState, headers: &Headers, body: &[u8]) -> Receipt {
    let db = &state.db;
    let secrets = state.cashfree.payout_secrets();
    if secrets.is_empty() {
        let why = "CASHFREE_PAYOUT_CLIENT_SECRET is not set: Payouts webhooks cannot be verified".to_owned();
        return unconfigured(state, headers, body, why).await;
    }
    let fields: Vec<(String, String)> =
        url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned());
    let signature = get("signature").unwrap_or_default();
    if !secrets.iter().any(|secret| signed(secret, &fields, &signature)) {
        let why = "signature (V1: over the sorted fields' values) matches no Payouts client secret".to_owned();
        return rejected(state, headers, body, "payout webhook (V1)", why).await;
    }
    let event = get("event").unwrap_or_default();
    let mut stored = row(headers.to_json(), body, true);
    stored.event_type = Set(Some(event.chars().take(64).collect()));
    if event != LOW_BALANCE {
        let msg = format!("{event} is not acted on here: transfer outcomes arrive through the V2 webhooks");
        let id = record(db, stored, WebhookOutcome::Processed, msg.clone()).await;
        return Receipt::new(Verdict::Accepted, WebhookOutcome::Processed, id, msg);
    }
    let balance = get("currentBalance").unwrap_or_else(|| "?".into());
    let at = get("alertTime").unwrap_or_default();
    let msg =
        format!("Cashfree reports the Payouts account low: {balance} at {at}; add funds before approving more payouts");
    let id = record(db, stored, WebhookOutcome::Processed, msg.clone()).await;
    let mut alert = Alert::new(Severity::Warning, AlertKind::PayoutBalanceLow, msg.clone());
    alert.webhook_id = id;
    state.events.alert(db, alert).await;
    // What the account holds now, for `cashfreeStatus` and the approvals' check.
    if let Err(e) = state.cashfree.read_payout_balance().await {
        tracing::warn!(error = %e, "could not read the Payouts balance after a low-balance alert");
    }
    Receipt::new(Verdict::Accepted, WebhookOutcome::Processed, id, msg)
}
