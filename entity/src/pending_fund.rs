//! A payment's credit that is not available yet: one row per credit, deleted by the release that makes it
//! available (that release is a journal entry).

#[allow(unused_imports)]
use crate::money::Money;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pending_funds")]
pub struct Model {
    /// The credit's ledger row (and journal entry).
    #[sea_orm(primary_key, auto_increment = false)]
    pub credit_id: Uuid,
    pub wallet_id: Uuid,
    pub payment_id: Option<Uuid>,
    pub amount: Money,
    pub currency: String,
    pub available_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
