//! A freelancer's wallet: the balance always equals the sum of its ledger rows; `pending_balance` of it is credits
//! that are not available yet.

#[allow(unused_imports)]
use crate::money::Money;
#[allow(unused_imports)]
use crate::status::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "freelancer_wallets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub freelancer_id: Uuid,
    pub currency: String,
    pub balance: Money,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The part of `balance` still waiting to become available (the sum of its `pending_funds`).
    pub pending_balance: Money,
    /// How long this wallet's payment credits wait before they are available, overriding `PAYDESK_FUNDS_HOLD`.
    pub funds_hold_secs: Option<i64>,
}

crate::by_position!(id, freelancer_id, currency, balance, created_at, updated_at, pending_balance, funds_hold_secs);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
