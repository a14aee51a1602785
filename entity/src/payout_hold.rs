//! An emergency stop on payouts: on all of them (key `all`) or on one freelancer's (key `wallet:<freelancer id>`).
//! While it stands, payouts can be neither requested nor approved.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payout_holds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Whose payouts are held; `None`: everyone's.
    pub freelancer_id: Option<Uuid>,
    pub reason: String,
    pub placed_by: Uuid,
    pub placed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
