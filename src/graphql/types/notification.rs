//! `Notification` and `AuditEntry`: messages to users and the audit trail.

use super::{Role, Severity};
use async_graphql::{Json, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{audit_log, notification};
use uuid::Uuid;

/// A message to one user about their money.
#[derive(SimpleObject, Clone)]
pub struct Notification {
    pub id: Uuid,
    /// The global id, for `node(id:)`.
    pub global_id: async_graphql::ID,
    pub recipient_id: Uuid,
    /// payment_received, payout_paid, payout_rejected, …
    pub kind: String,
    pub severity: Severity,
    pub title: String,
    pub body: String,
    pub payment_id: Option<Uuid>,
    pub payout_request_id: Option<Uuid>,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<notification::Model> for Notification {
    fn from(m: notification::Model) -> Self {
        Self {
            global_id: super::node::global_id("Notification", m.id),
            id: m.id,
            recipient_id: m.recipient_id,
            kind: m.kind,
            severity: m.severity.into(),
            title: m.title,
            body: m.body,
            payment_id: m.payment_id,
            payout_request_id: m.payout_request_id,
            read_at: m.read_at,
            created_at: m.created_at,
        }
    }
}

/// One entry of the append-only audit trail.
#[derive(SimpleObject, Clone)]
pub struct AuditEntry {
    pub id: Uuid,
    /// The global id, for `node(id:)`.
    pub global_id: async_graphql::ID,
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
    pub created_at: DateTime<Utc>,
}

impl From<audit_log::Model> for AuditEntry {
    fn from(m: audit_log::Model) -> Self {
        Self {
            global_id: super::node::global_id("AuditEntry", m.id),
            id: m.id,
            actor_id: m.actor_id,
            actor_role: m.actor_role.into(),
            action: m.action,
            entity_type: m.entity_type,
            entity_id: m.entity_id,
            before: m.before.map(Json),
            after: m.after.map(Json),
            reason: m.reason,
            created_at: m.created_at,
        }
    }
}
