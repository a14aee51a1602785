//! A freelancer's request to be paid out of their wallet, and the admin's decision on it.

#[allow(unused_imports)]
use crate::money::Money;
#[allow(unused_imports)]
use crate::status::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "payout_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub wallet_id: Uuid,
    pub freelancer_id: Uuid,
    pub amount: Money,
    pub currency: String,
    pub status: PayoutStatus,
    pub note: Option<String>,
    pub requested_by: Uuid,
    pub decided_by: Option<Uuid>,
    #[serde(default, deserialize_with = "crate::rfc3339::optional")]
    pub decided_at: Option<DateTimeUtc>,
    /// The admin's note on approval, or the reason for a rejection or cancellation.
    pub decision_note: Option<String>,
    /// Cashfree's id of the transfer that pays this request, and its last reported status.
    pub cf_transfer_id: Option<String>,
    pub transfer_status: Option<String>,
    /// Why the transfer failed or was reversed.
    pub failure_reason: Option<String>,
    /// The risk rules the request tripped when it was filed: a JSON array of `{"rule", "reason"}`.
    #[serde(default)]
    pub risk_flags: Option<String>,
    /// The first admin's approval of a payout that needs two (four-eyes); the second decides it.
    #[serde(default)]
    pub first_approved_by: Option<Uuid>,
    #[serde(default, deserialize_with = "crate::rfc3339::optional")]
    pub first_approved_at: Option<DateTimeUtc>,
    #[serde(deserialize_with = "crate::rfc3339::utc")]
    pub created_at: DateTimeUtc,
    #[serde(deserialize_with = "crate::rfc3339::utc")]
    pub updated_at: DateTimeUtc,
}

crate::by_position!(
    id,
    wallet_id,
    freelancer_id,
    amount,
    currency,
    status,
    note,
    requested_by,
    decided_by,
    decided_at,
    decision_note,
    cf_transfer_id,
    transfer_status,
    failure_reason,
    risk_flags,
    first_approved_by,
    first_approved_at,
    created_at,
    updated_at
);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
