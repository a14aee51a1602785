//! The Cashfree Payouts account that funds every transfer: its balance read every minute (while Payouts is
//! configured), shown in `cashfreeStatus` and `/metrics`, a WARNING `payout_balance_low` alert when it falls below
//! `PAYDESK_PAYOUT_BALANCE_LOW` (once per fall), and the reason an approval is refused when the account cannot
//! cover the payout (an admin may still approve with `force`).

use crate::cashfree::{Api, PayoutBalance};
use crate::error::AppResult;
use crate::events::{Alert, AlertKind};
use crate::state::AppState;
use entity::status::Severity;
use entity::Money;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
    super::every(EVERY, "payout balance alerts raised", move || {
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
