//! A refund an admin started from paydesk (`createRefund`): asked of Cashfree, settled by its refund webhook.

#[allow(unused_imports)]
use crate::money::Money;
#[allow(unused_imports)]
use crate::status::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Ours, sent to Cashfree as `refund_id` (and its idempotency key): `pdr_` and this row's id.
    #[sea_orm(unique)]
    pub refund_id: String,
    /// Cashfree's, once it answered.
    pub cf_refund_id: Option<String>,
    pub payment_id: Uuid,
    pub freelancer_id: Uuid,
    pub wallet_id: Uuid,
    /// What goes back to the client.
    pub amount: Money,
    /// The platform's fee on it, which the platform gives up; the wallet gives the rest.
    pub fee_share: Money,
    pub currency: String,
    pub status: RefundStatus,
    /// Why the admin refunds (required; kept in the audit trail and sent to Cashfree as the note).
    pub reason: String,
    pub requested_by: Uuid,
    pub failure_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Until when its Create Refund call may still be under way (none once the call returned): a look-up that finds
    /// nothing before then may have raced the call, and undoes nothing.
    pub asked_until: Option<DateTimeUtc>,
}

crate::by_position!(
    id,
    refund_id,
    cf_refund_id,
    payment_id,
    freelancer_id,
    wallet_id,
    amount,
    fee_share,
    currency,
    status,
    reason,
    requested_by,
    failure_reason,
    created_at,
    updated_at,
    asked_until
);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
