//! A GraphQL document a client registered by its SHA-256 (automatic persisted queries): every instance finds it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "persisted_documents")]
pub struct Model {
    /// SHA-256 of `body`, 64 lowercase hex digits.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    pub body: String,
    pub created_at: DateTimeUtc,
    /// When it was last run by its hash, as an instance noted it (at most hourly); none since it was registered.
    pub used_at: Option<DateTimeUtc>,
}

crate::by_position!(hash, body, created_at, used_at);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
