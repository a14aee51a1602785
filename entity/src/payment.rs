//! One client payment for a freelancer's work: created as an order, settled by Cashfree's webhook.

#[allow(unused_imports)]
use crate::money::Money;
#[allow(unused_imports)]
use crate::status::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Our order id, sent to Cashfree as `order_id`; unique.
    #[sea_orm(unique)]
    pub order_id: String,
    pub freelancer_id: Uuid,
    pub client_id: Option<String>,
    pub purpose: Option<String>,
    pub amount: Money,
    pub currency: String,
    pub status: PaymentStatus,
    /// Set when the payment succeeds: the platform fee kept and the net credited.
    pub platform_fee: Option<Money>,
    pub net_amount: Option<Money>,
    /// How much of the payment has been refunded to the client so far; never more than `amount`.
    pub refunded_amount: Money,
    /// Cashfree's id of the attempt that settled (or last touched) the order.
    pub cf_payment_id: Option<String>,
    pub payment_method: Option<String>,
    pub bank_reference: Option<String>,
    pub failure_reason: Option<String>,
    pub paid_at: Option<DateTimeUtc>,
    pub verified_at: Option<DateTimeUtc>,
    pub verified_by: Option<Uuid>,
    /// Cashfree's id of the order and the session a checkout opens with (when created through Cashfree).
    pub cf_order_id: Option<String>,
    pub payment_session_id: Option<String>,
    /// The Cashfree payment link for this order, if one was asked for.
    pub link_url: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// What open and lost disputes hold of this payment; refunds and disputes together never exceed `amount`.
    pub disputed_amount: Money,
    /// What refunds started from paydesk and still under way take of this payment.
    pub refunding_amount: Money,
    /// The Cashfree order it was paid on when that is not `order_id`: a payment link's payment arrives on an order
    /// Cashfree makes for it (`CFPay_…`), whose refunds and disputes name that order.
    #[sea_orm(unique)]
    pub paid_order_id: Option<String>,
}

impl Model {
    /// The Cashfree order its payment, refunds and disputes are under.
    pub fn cashfree_order(&self) -> &str {
        self.paid_order_id.as_deref().unwrap_or(&self.order_id)
    }
}

crate::by_position!(
    id,
    order_id,
    freelancer_id,
    client_id,
    purpose,
    amount,
    currency,
    status,
    platform_fee,
    net_amount,
    refunded_amount,
    cf_payment_id,
    payment_method,
    bank_reference,
    failure_reason,
    paid_at,
    verified_at,
    verified_by,
    cf_order_id,
    payment_session_id,
    link_url,
    created_at,
    updated_at,
    disputed_amount,
    refunding_amount,
    paid_order_id
);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
