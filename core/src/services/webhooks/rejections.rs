//! The alerts of refused webhook deliveries: raised as a burst starts, then every minute with the counts since
//! (`crate::budgets::rejections` keeps the bursts).

use crate::budgets::rejections::ALERT_EVERY;
use crate::events::{Alert, AlertKind};
use crate::state::AppState;
use entity::status::Severity;
use std::time::Instant;

/// Raises a WARNING `signature_rejected` alert.
pub(crate) async fn raise(state: &AppState, message: String, webhook_id: Option<uuid::Uuid>) {
    let mut alert = Alert::new(Severity::Warning, AlertKind::SignatureRejected, message);
    alert.webhook_id = webhook_id;
    state.events.alert(&state.db, alert).await;
}

/// Every minute, the count of each burst's refusals not told of yet.
pub fn spawn_bursts(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(ALERT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            for message in state.rejections.due(Instant::now()) {
                raise(&state, message, None).await;
            }
        }
    });
}
