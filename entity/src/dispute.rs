//! A dispute (chargeback) a client's bank raised on a payment, as Cashfree reports it, and what it held of the
//! freelancer's wallet.

#[allow(unused_imports)]
use crate::money::Money;
#[allow(unused_imports)]
use crate::status::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "disputes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Cashfree's `dispute_id`.
    #[sea_orm(unique)]
    pub cf_dispute_id: String,
    pub payment_id: Uuid,
    pub freelancer_id: Uuid,
    pub wallet_id: Uuid,
    /// Cashfree's `dispute_type`: DISPUTE, CHARGEBACK, RETRIEVAL, PRE_ARBITRATION, ARBITRATION.
    pub dispute_type: String,
    pub status: DisputeStatus,
    /// Cashfree's `dispute_status` as last reported (`CHARGEBACK_UNDER_REVIEW`, …).
    pub cf_status: String,
    /// What the client disputes.
    pub amount: Money,
    /// What the dispute took from the wallet into disputed funds when it last opened: the amount, or less when
    /// refunds had already returned part of the payment.
    pub held: Money,
    /// How many times it opened (a won dispute can open again, in pre-arbitration).
    pub holds: i32,
    pub currency: String,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    /// When evidence is due at Cashfree.
    pub respond_by: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
}

crate::by_position!(
    id,
    cf_dispute_id,
    payment_id,
    freelancer_id,
    wallet_id,
    dispute_type,
    status,
    cf_status,
    amount,
    held,
    holds,
    currency,
    reason_code,
    reason,
    respond_by,
    created_at,
    updated_at,
    closed_at
);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
