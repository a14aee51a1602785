//! `Notification` and `AuditEntry`: messages to users and the audit trail.

use super::{Role, Severity};
use crate::graphql::scalars::DateTime;
use async_graphql::{Enum, Json, SimpleObject};
use entity::{audit_log, notification};
use uuid::Uuid;

/// A message to one user about their money.
#[derive(SimpleObject, Clone)]
pub struct Notification {
    pub id: Uuid,
    /// The global id, for `node(id:)`.
    pub global_id: super::node::GlobalId,
    pub recipient_id: Uuid,
    /// payment_received, payout_paid, payout_rejected, …
    pub kind: String,
    pub severity: Severity,
    pub title: String,
    pub body: String,
    pub payment_id: Option<Uuid>,
    pub payout_request_id: Option<Uuid>,
    pub read_at: Option<DateTime>,
    pub created_at: DateTime,
    /// How its delivery to the marketplace's callback stands.
    pub delivery: NotificationDelivery,
}

/// Where a notification's delivery to the marketplace's callback (`PAYDESK_NOTIFY_URL`) stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::status::DeliveryStatus")]
pub enum DeliveryStatus {
    /// Not yet answered 2xx; `nextAttemptAt` says when it is tried (again).
    Pending,
    Delivered,
    /// Every attempt failed (a `notification_undeliverable` alert was raised); `redeliverNotification` retries.
    Failed,
    /// No callback was configured when it was written.
    Skipped,
}

/// A notification's delivery: status, attempts and timings, so delays can be checked.
#[derive(SimpleObject, Clone)]
pub struct NotificationDelivery {
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_attempt_at: Option<DateTime>,
    pub next_attempt_at: Option<DateTime>,
    pub delivered_at: Option<DateTime>,
    /// From the notification's creation to its delivery, in milliseconds.
    pub delay_ms: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

impl super::PlainFields for Notification {
    const PLAIN: &'static [&'static str] = &[
        "id",
        "globalId",
        "recipientId",
        "kind",
        "severity",
        "title",
        "body",
        "paymentId",
        "payoutRequestId",
        "readAt",
        "createdAt",
        "delivery",
    ];
}

super::columns::columns_of!(Notification, notification::Model {
    "id" | "globalId" => [id],
    "recipientId" => [recipient_id],
    "kind" => [kind],
    "severity" => [severity],
    "title" => [title],
    "body" => [body],
    "paymentId" => [payment_id],
    "payoutRequestId" => [payout_request_id],
    "readAt" => [read_at],
    "createdAt" => [created_at],
    "delivery" => [
        delivery_status,
        delivery_attempts,
        next_attempt_at,
        last_attempt_at,
        delivered_at,
        created_at,
        delivery_error
    ],
});

impl From<notification::Model> for Notification {
    fn from(m: notification::Model) -> Self {
        Self {
            global_id: super::node::GlobalId::new("Notification", m.id),
            id: m.id,
            recipient_id: m.recipient_id,
            kind: m.kind,
            severity: m.severity.into(),
            title: m.title,
            body: m.body,
            payment_id: m.payment_id,
            payout_request_id: m.payout_request_id,
            read_at: m.read_at.map(DateTime),
            created_at: DateTime(m.created_at),
            delivery: NotificationDelivery {
                status: m.delivery_status.into(),
                attempts: m.delivery_attempts,
                last_attempt_at: m.last_attempt_at.map(DateTime),
                next_attempt_at: m.next_attempt_at.map(DateTime),
                delivered_at: m.delivered_at.map(DateTime),
                delay_ms: m.delivered_at.map(|d| (d - m.created_at).num_milliseconds()),
                last_error: m.delivery_error,
            },
        }
    }
}

/// One entry of the append-only audit trail.
#[derive(SimpleObject, Clone)]
pub struct AuditEntry {
    pub id: Uuid,
    /// The global id, for `node(id:)`.
    pub global_id: super::node::GlobalId,
    /// Who acted; null when paydesk itself did (webhooks).
    pub actor_id: Option<Uuid>,
    pub actor_role: Role,
    /// e.g. payout.approved, payment.succeeded.
    pub action: String,
    pub entity_type: String,
    pub entity_id: Uuid,
    pub before: Option<Json<serde_json::Value>>,
    pub after: Option<Json<serde_json::Value>>,
    pub reason: Option<String>,
    pub created_at: DateTime,
}

impl super::PlainFields for AuditEntry {
    const PLAIN: &'static [&'static str] = &[
        "id",
        "globalId",
        "actorId",
        "actorRole",
        "action",
        "entityType",
        "entityId",
        "before",
        "after",
        "reason",
        "createdAt",
    ];
}

super::columns::columns_of!(AuditEntry, audit_log::Model {
    "id" | "globalId" => [id],
    "actorId" => [actor_id],
    "actorRole" => [actor_role],
    "action" => [action],
    "entityType" => [entity_type],
    "entityId" => [entity_id],
    "before" => [before],
    "after" => [after],
    "reason" => [reason],
    "createdAt" => [created_at],
});

impl From<audit_log::Model> for AuditEntry {
    fn from(m: audit_log::Model) -> Self {
        Self {
            global_id: super::node::GlobalId::new("AuditEntry", m.id),
            id: m.id,
            actor_id: m.actor_id,
            actor_role: m.actor_role.into(),
            action: m.action,
            entity_type: m.entity_type,
            entity_id: m.entity_id,
            before: m.before.map(Json),
            after: m.after.map(Json),
            reason: m.reason,
            created_at: DateTime(m.created_at),
        }
    }
}
