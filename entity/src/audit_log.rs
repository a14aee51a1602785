//! The append-only audit trail: who did what to which row, when, before and after, and why.

#[allow(unused_imports)]
use crate::money::Money;
#[allow(unused_imports)]
use crate::status::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub actor_id: Option<Uuid>,
    pub actor_role: Role,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Uuid,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub reason: Option<String>,
    pub created_at: DateTimeUtc,
    /// SHA-256 of the row's canonical content, as its writer computed it (none on rows written before it was kept):
    /// what the history chainer links. The verifier hashes the content afresh.
    pub content_hash: Option<Vec<u8>>,
}

crate::by_position!(
    id,
    actor_id,
    actor_role,
    action,
    entity_type,
    entity_id,
    before,
    after,
    reason,
    created_at,
    content_hash
);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
