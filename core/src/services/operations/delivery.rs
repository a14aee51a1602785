//! Notifications delivered, not only stored: each new notification is POSTed to the marketplace's callback
//! (`PAYDESK_NOTIFY_URL`), signed with `PAYDESK_NOTIFY_SECRET`, and retried with exponential backoff until it is
//! answered 2xx or `PAYDESK_NOTIFY_MAX_ATTEMPTS` are spent (then FAILED and a WARNING alert). Every instance
//! sweeps; an attempt is claimed with a conditional update first, so two instances never send the same attempt.
//! Without a callback, new notifications are marked `skipped`.

use crate::auth::roles;
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::events::{Alert, AlertKind, Event};
use crate::services::evidence::audit::{Action, Subject};
use crate::state::{AppState, Callback};
use chrono::{DateTime, Duration, Utc};
use entity::notification;
use entity::status::{DeliveryStatus, Severity};
use futures_util::StreamExt;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// Notifications sent per sweep, and at once.
const BATCH: u64 = 50;
const AT_ONCE: usize = 8;
/// The longest wait between two attempts.
const MAX_BACKOFF_SECS: i64 = 3600;

/// The signature of a delivery: Base64(HMAC-SHA256(secret, timestamp "." body)), sent as `v1=<signature>`.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    format!("v1={}", crate::domain::signature::hmac_base64(secret, &[timestamp.as_bytes(), b".", body]))
}

/// The JSON a notification is delivered as.
fn payload(n: &notification::Model) -> serde_json::Value {
    serde_json::json!({
        "id": n.id, "kind": n.kind, "severity": crate::domain::status::api_name(&n.severity),
        "recipientId": n.recipient_id, "title": n.title, "body": n.body,
        "paymentId": n.payment_id, "payoutRequestId": n.payout_request_id,
        "createdAt": n.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    })
}

/// Waits before attempt `attempts + 1`: the base doubled per attempt so far, at most an hour.
fn backoff(base: std::time::Duration, attempts: i32) -> Duration {
    let base = Duration::from_std(base).unwrap_or(Duration::seconds(1));
    let factor = 1i32.checked_shl(attempts.saturating_sub(1).clamp(0, 20) as u32).unwrap_or(i32::MAX);
    (base * factor).min(Duration::seconds(MAX_BACKOFF_SECS))
}

/// One pass: without a callback, marks new notifications skipped; with one, sends those due. Returns how many
/// attempts it made.
pub async fn sweep(state: &AppState, http: &reqwest::Client) -> AppResult<usize> {
    let Some(cb) = &state.settings.notify else {
        notification::Entity::update_many()
            .col_expr(notification::Column::DeliveryStatus, Expr::value(DeliveryStatus::Skipped))
            .col_expr(notification::Column::NextAttemptAt, Expr::value(None::<DateTime<Utc>>))
            .filter(notification::Column::DeliveryStatus.eq(DeliveryStatus::Pending))
            .exec(&state.db)
            .await?;
        return Ok(0);
    };
    let now = crate::clock::now();
    let due = notification::Entity::find()
        .filter(notification::Column::DeliveryStatus.eq(DeliveryStatus::Pending))
        .filter(notification::Column::NextAttemptAt.lte(now))
        .order_by_asc(notification::Column::NextAttemptAt)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    let sent = futures_util::stream::iter(due)
        .map(|n| attempt(state, http, cb, n, now))
        .buffer_unordered(AT_ONCE)
        .filter(|r| std::future::ready(matches!(r, Ok(true))))
        .count()
        .await;
    Ok(sent)
}

/// Claims and makes one attempt; `Ok(false)` if another instance claimed it first.
async fn attempt(
    state: &AppState,
    http: &reqwest::Client,
    cb: &Callback,
    n: notification::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    // The claim pushes the due time past the attempt's timeout, so a crashed attempt is retried later.
    let lease = now + Duration::from_std(cb.timeout).unwrap_or(Duration::seconds(10)) + Duration::seconds(5);
    let claimed = notification::Entity::update_many()
        .col_expr(notification::Column::NextAttemptAt, Expr::value(lease))
        .filter(notification::Column::Id.eq(n.id))
        .filter(notification::Column::DeliveryStatus.eq(DeliveryStatus::Pending))
        .filter(notification::Column::DeliveryAttempts.eq(n.delivery_attempts))
        .filter(notification::Column::NextAttemptAt.lte(now))
        .exec(&state.db)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(false);
    }
    let attempts = n.delivery_attempts + 1;
    // A span of the trace the notification was written in, when there was one.
    let span = tracing::info_span!("notification delivery", otel.name = "POST callback", otel.kind = "client",
        notification = %n.id, attempt = attempts);
    crate::traces::continue_trace(&span, n.traceparent.as_deref().map(|t| ("traceparent", t)));
    let outcome = crate::traces::within(span, post(http, cb, &n, attempts)).await;
    let done = crate::clock::now();
    let mut update = notification::Entity::update_many()
        .col_expr(notification::Column::DeliveryAttempts, Expr::value(attempts))
        .col_expr(notification::Column::LastAttemptAt, Expr::value(done))
        .filter(notification::Column::Id.eq(n.id))
        .filter(notification::Column::DeliveryStatus.eq(DeliveryStatus::Pending));
    let gave_up = outcome.is_err() && attempts >= cb.max_attempts;
    update = match &outcome {
        Ok(()) => update
            .col_expr(notification::Column::DeliveryStatus, Expr::value(DeliveryStatus::Delivered))
            .col_expr(notification::Column::DeliveredAt, Expr::value(done))
            .col_expr(notification::Column::NextAttemptAt, Expr::value(None::<DateTime<Utc>>))
            .col_expr(notification::Column::DeliveryError, Expr::value(None::<String>)),
        Err(why) if gave_up => update
            .col_expr(notification::Column::DeliveryStatus, Expr::value(DeliveryStatus::Failed))
            .col_expr(notification::Column::NextAttemptAt, Expr::value(None::<DateTime<Utc>>))
            .col_expr(notification::Column::DeliveryError, Expr::value(why.clone())),
        Err(why) => update
            .col_expr(notification::Column::NextAttemptAt, Expr::value(done + backoff(cb.retry_base, attempts)))
            .col_expr(notification::Column::DeliveryError, Expr::value(why.clone())),
    };
    // The FAILED status and its alert land together.
    let txn = crate::db::begin(&state.db).await?;
    update.exec(&txn).await?;
    if let (Err(why), true) = (&outcome, gave_up) {
        let message =
            format!("notification {} to {} undeliverable after {attempts} attempts: {why}", n.id, cb.url.as_str());
        tracing::warn!(notification = %n.id, %message, "alert");
        let alert = Alert::new(Severity::Warning, AlertKind::NotificationUndeliverable, message);
        state.events.commit_with(txn, Event::Alert(alert)).await?;
    } else {
        txn.commit().await?;
    }
    let label = match (&outcome, gave_up) {
        (Ok(()), _) => "delivered",
        (Err(_), true) => "failed",
        (Err(_), false) => "retrying",
    };
    state.metrics.notification_delivery(label, (done - n.created_at).to_std().unwrap_or_default());
    Ok(true)
}

/// POSTs `n` to the callback; a 2xx answer is a delivery, anything else an error to retry.
async fn post(http: &reqwest::Client, cb: &Callback, n: &notification::Model, attempt: i32) -> Result<(), String> {
    let body = serde_json::to_vec(&payload(n)).map_err(|e| e.to_string())?;
    let timestamp = Utc::now().timestamp().to_string();
    let sent = http
        .post(cb.url.clone())
        .timeout(cb.timeout)
        .header("content-type", "application/json")
        .header("x-paydesk-timestamp", &timestamp)
        .header("x-paydesk-signature", sign(&cb.secret, &timestamp, &body))
        .header("x-paydesk-delivery", n.id.to_string())
        .header("x-paydesk-attempt", attempt.to_string())
        .headers(crate::traces::headers())
        .body(body)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("the callback answered HTTP {}", r.status().as_u16())),
        Err(e) if e.is_timeout() => Err(format!("no answer within {} ms", cb.timeout.as_millis())),
        Err(e) => Err(format!("could not reach the callback: {}", e.without_url())),
    }
}

/// Sends notifications in the background on every instance (every `PAYDESK_NOTIFY_POLL_MS`), on `background`: a
/// handle whose statements are not counted as requests' work.
pub fn spawn(state: AppState, background: sea_orm::DatabaseConnection) {
    let state = AppState { db: background, ..state };
    let poll = state.settings.notify_poll;
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut tick = tokio::time::interval(poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = sweep(&state, &http).await {
                tracing::warn!(error = %e, "notification delivery sweep failed; will try again");
            }
        }
    });
}

/// Queues a failed (or skipped) notification for delivery again, from a fresh count of attempts (admin).
#[tracing::instrument(skip(state))]
pub async fn redeliver(state: &AppState, who: Principal, id: Uuid, reason: &str) -> AppResult<notification::Model> {
    who.require(roles::ADMIN)?;
    let reason = crate::domain::text::reason("reason", reason)?;
    if state.settings.notify.is_none() {
        return Err(AppError::InvalidState(
            "no notification callback is configured (PAYDESK_NOTIFY_URL); nothing can be delivered".into(),
        ));
    }
    let n = notification::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("notification", id))?;
    let now = crate::clock::now();
    let txn = crate::db::begin(&state.db).await?;
    let queued = notification::Entity::update_many()
        .col_expr(notification::Column::DeliveryStatus, Expr::value(DeliveryStatus::Pending))
        .col_expr(notification::Column::DeliveryAttempts, Expr::value(0))
        .col_expr(notification::Column::NextAttemptAt, Expr::value(now))
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::DeliveryStatus.is_in([DeliveryStatus::Failed, DeliveryStatus::Skipped]))
        .exec(&txn)
        .await?;
    if queued.rows_affected != 1 {
        return Err(AppError::InvalidState(format!(
            "notification {id} is {}; only a failed or skipped delivery can be sent again",
            crate::domain::status::api_name(&n.delivery_status)
        )));
    }
    crate::services::evidence::audit::record(
        &txn,
        crate::services::evidence::audit::Entry {
            actor: crate::services::evidence::audit::Actor::User(who),
            action: Action::NotificationRedelivered,
            entity_type: Subject::Notification,
            entity_id: id,
            before: Some(serde_json::json!({ "deliveryStatus": n.delivery_status, "attempts": n.delivery_attempts })),
            after: Some(serde_json::json!({ "deliveryStatus": DeliveryStatus::Pending })),
            reason: Some(reason),
        },
    )
    .await?;
    txn.commit().await?;
    // As queued (the sweeper may already be sending it).
    Ok(notification::Model {
        delivery_status: DeliveryStatus::Pending,
        delivery_attempts: 0,
        next_attempt_at: Some(now),
        ..n
    })
}
