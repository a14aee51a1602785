//! The audit trail: one append-only row for every decision and every movement of money.

use crate::auth::Principal;
use crate::error::AppResult;
use entity::audit_log;
use entity::status::Role;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

/// Who acted: a person, or paydesk itself (webhooks).
#[derive(Debug, Clone, Copy)]
pub enum Actor {
    User(Principal),
    System,
}

impl Actor {
    fn parts(self) -> (Option<Uuid>, Role) {
        match self {
            Actor::User(p) => (Some(p.id), p.role),
            Actor::System => (None, Role::System),
        }
    }
}

/// One audit entry to write.
pub struct Entry<'a> {
    pub actor: Actor,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Uuid,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
}

/// Appends `entry`, inside the caller's transaction.
pub async fn record(db: &impl ConnectionTrait, entry: Entry<'_>) -> AppResult<audit_log::Model> {
    let (actor_id, actor_role) = entry.actor.parts();
    let row = audit_log::ActiveModel {
        id: Set(super::new_id()),
        actor_id: Set(actor_id),
        actor_role: Set(actor_role),
        action: Set(entry.action.to_owned()),
        entity_type: Set(entry.entity_type.to_owned()),
        entity_id: Set(entry.entity_id),
        before: Set(entry.before),
        after: Set(entry.after),
        reason: Set(entry.reason),
        created_at: Set(super::now()),
    };
    Ok(row.insert(db).await?)
}
