//! The ledger: one signed row for every change of a wallet's balance.

#[allow(unused_imports)]
use crate::money::Money;
#[allow(unused_imports)]
use crate::status::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wallet_transactions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub wallet_id: Uuid,
    pub kind: LedgerKind,
    /// Signed: credits positive, debits negative.
    pub amount: Money,
    pub balance_after: Money,
    /// What moved the money (`payment:<id>`, `payout:<id>`, ...); unique, so nothing is booked twice.
    #[sea_orm(unique)]
    pub reference: String,
    pub payment_id: Option<Uuid>,
    pub payout_request_id: Option<Uuid>,
    pub description: String,
    pub created_at: DateTimeUtc,
    /// When a payment's credit becomes available to pay out; none: at once.
    pub available_at: Option<DateTimeUtc>,
}

crate::by_position!(
    id,
    wallet_id,
    kind,
    amount,
    balance_after,
    reference,
    payment_id,
    payout_request_id,
    description,
    created_at,
    available_at
);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
