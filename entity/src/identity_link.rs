//! A subject of the identity provider linked to a freelancer's wallet by an admin.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_links")]
pub struct Model {
    /// The provider's issuer identifier.
    #[sea_orm(primary_key, auto_increment = false)]
    pub issuer: String,
    /// The subject as the provider's tokens carry it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    pub freelancer_id: Uuid,
    /// The admin who linked it.
    pub linked_by: Option<Uuid>,
    pub linked_at: DateTimeUtc,
}

crate::by_position!(issuer, subject, freelancer_id, linked_by, linked_at);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
