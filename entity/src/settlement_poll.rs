//! A polling window of Cashfree's settlements, claimed by the one instance that fetches it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settlement_polls")]
pub struct Model {
    /// `poll:<period secs>:<window number>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub window: String,
    pub claimed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
