//! Notifications to freelancers about their money, and marking them read.

use crate::auth::roles;
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use entity::notification;
use entity::status::Severity;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Set};
use uuid::Uuid;

/// A notification to write.
pub struct New {
    pub recipient_id: Uuid,
    pub kind: &'static str,
    pub severity: Severity,
    pub title: String,
    pub body: String,
    pub payment_id: Option<Uuid>,
    pub payout_request_id: Option<Uuid>,
}

/// Writes `n`, inside the caller's transaction.
pub async fn notify(db: &impl ConnectionTrait, n: New) -> AppResult<notification::Model> {
    let now = crate::clock::now();
    Ok(notification::ActiveModel {
        id: Set(crate::clock::new_id()),
        recipient_id: Set(n.recipient_id),
        kind: Set(n.kind.to_owned()),
        severity: Set(n.severity),
        title: Set(n.title),
        body: Set(n.body),
        payment_id: Set(n.payment_id),
        payout_request_id: Set(n.payout_request_id),
        read_at: Set(None),
        created_at: Set(now),
        delivery_status: Set(entity::status::DeliveryStatus::Pending),
        delivery_attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        last_attempt_at: Set(None),
        delivered_at: Set(None),
        delivery_error: Set(None),
        traceparent: Set(crate::traces::traceparent()),
    }
    .insert(db)
    .await?)
}

/// Marks a notification read; only its recipient (or an admin) may.
#[tracing::instrument(skip(db))]
pub async fn mark_read(db: &impl ConnectionTrait, who: Principal, id: Uuid) -> AppResult<notification::Model> {
    who.require(roles::ADMIN_OR_FREELANCER)?;
    let found = notification::Entity::find_by_id(id).one(db).await?;
    let row = match found {
        Some(n) if n.recipient_id == who.id || who.role == entity::status::Role::Admin => n,
        _ => return Err(AppError::not_found("notification", id)),
    };
    if row.read_at.is_some() {
        return Ok(row);
    }
    let mut active = row.into_active_model();
    active.read_at = Set(Some(crate::clock::now()));
    Ok(active.update(db).await?)
}
