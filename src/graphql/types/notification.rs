//! `Notification` and `AuditEntry`: messages to users and the audit trail.

use super::{Role, Severity};
use crate::graphql::scalars::DateTime;
use async_graphql::{Enum, Json, SimpleObject};
use entity::{audit_log, notification};
use uuid::Uuid;

super::columns::object_of_rows! {
    /// A message to one user about their money.
    #[derive(SimpleObject, Clone)]
    pub struct Notification from notification::Model as m {
        "id" id: Uuid = m.id, reads [id];
        /// The global id, for `node(id:)`.
        "globalId" global_id: super::node::GlobalId = super::node::GlobalId::new("Notification", m.id), reads [id];
        "recipientId" recipient_id: Uuid = m.recipient_id, reads [recipient_id];
        /// payment_received, payout_paid, payout_rejected, …
        "kind" kind: String = m.kind, reads [kind];
        "severity" severity: Severity = m.severity.into(), reads [severity];
        "title" title: String = m.title, reads [title];
        "body" body: String = m.body, reads [body];
        "paymentId" payment_id: Option<Uuid> = m.payment_id, reads [payment_id];
        "payoutRequestId" payout_request_id: Option<Uuid> = m.payout_request_id, reads [payout_request_id];
        "readAt" read_at: Option<DateTime> = m.read_at.map(DateTime), reads [read_at];
        "createdAt" created_at: DateTime = DateTime(m.created_at), reads [created_at];
        /// How its delivery to the marketplace's callback stands.
        "delivery" delivery: NotificationDelivery = NotificationDelivery::of(
            m.delivery_status,
            m.delivery_attempts,
            (m.last_attempt_at, m.next_attempt_at, m.delivered_at),
            m.created_at,
            m.delivery_error,
        ), reads [
            delivery_status, delivery_attempts, next_attempt_at, last_attempt_at, delivered_at, created_at,
            delivery_error
        ];
    }
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

impl NotificationDelivery {
    /// From the row's delivery columns: its status and attempts, its last and next attempt and its delivery, when the
    /// notification was made (for the delay), and the last error.
    fn of(
        status: entity::status::DeliveryStatus,
        attempts: i32,
        (last_attempt_at, next_attempt_at, delivered_at): Times,
        created_at: chrono::DateTime<chrono::Utc>,
        last_error: Option<String>,
    ) -> Self {
        NotificationDelivery {
            status: status.into(),
            attempts,
            last_attempt_at: last_attempt_at.map(DateTime),
            next_attempt_at: next_attempt_at.map(DateTime),
            delivered_at: delivered_at.map(DateTime),
            delay_ms: delivered_at.map(|d| (d - created_at).num_milliseconds()),
            last_error,
        }
    }
}

/// A delivery's last attempt, next attempt and delivery.
type Times = (
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
);

super::columns::object_of_rows! {
    /// One entry of the append-only audit trail.
    #[derive(SimpleObject, Clone)]
    pub struct AuditEntry from audit_log::Model as m {
        "id" id: Uuid = m.id, reads [id];
        /// The global id, for `node(id:)`.
        "globalId" global_id: super::node::GlobalId = super::node::GlobalId::new("AuditEntry", m.id), reads [id];
        /// Who acted; null when paydesk itself did (webhooks).
        "actorId" actor_id: Option<Uuid> = m.actor_id, reads [actor_id];
        "actorRole" actor_role: Role = m.actor_role.into(), reads [actor_role];
        /// e.g. payout.approved, payment.succeeded.
        "action" action: String = m.action, reads [action];
        "entityType" entity_type: String = m.entity_type, reads [entity_type];
        "entityId" entity_id: Uuid = m.entity_id, reads [entity_id];
        "before" before: Option<Json<serde_json::Value>> = m.before.map(Json), reads [before];
        "after" after: Option<Json<serde_json::Value>> = m.after.map(Json), reads [after];
        "reason" reason: Option<String> = m.reason, reads [reason];
        "createdAt" created_at: DateTime = DateTime(m.created_at), reads [created_at];
    }
}
