//! One payment as Cashfree settled it (or did not), matched to paydesk's records.

#[allow(unused_imports)]
use crate::money::Money;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settlement_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Cashfree's `event_id`, or `missing:<payment id>` for a payment of ours Cashfree has not settled.
    #[sea_orm(unique)]
    pub event_id: String,
    /// `matched`, `missing_here`, `missing_at_provider`, `amount_mismatch` or `fee_mismatch`.
    pub status: String,
    pub cf_settlement_id: Option<String>,
    pub settlement_utr: Option<String>,
    pub settled_at: Option<DateTimeUtc>,
    pub cf_payment_id: Option<String>,
    pub order_id: Option<String>,
    /// Our payment, when there is one.
    pub payment_id: Option<Uuid>,
    /// When the payment was made (Cashfree's time, or ours for a payment it has not settled).
    pub paid_at: DateTimeUtc,
    pub currency: String,
    /// The payment's amount as Cashfree reports it (ours, for a missing one).
    pub amount: Money,
    /// Our amount, when it differs or Cashfree has none.
    pub expected_amount: Option<Money>,
    /// What reached the bank for it.
    pub settled_amount: Money,
    pub service_charge: Money,
    pub service_tax: Money,
    /// What was found, in words.
    pub detail: String,
    /// The journal entry that booked the settlement (gateway clearing to the bank), once booked.
    pub journal_entry_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
