//! `Payment`: a client's payment for a freelancer's work.

use super::{loader_error, PaymentStatus, Wallet};
use crate::graphql::error::Result;
use crate::graphql::loaders::{Db, WalletOfFreelancer};
use crate::graphql::scalars::DateTime;
use crate::graphql::scalars::Decimal;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, SimpleObject};
use entity::payment;
use uuid::Uuid;

/// A client's payment for a freelancer's work, as an order and what Cashfree reported of it.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Payment {
    pub id: Uuid,
    /// The global id, for `node(id:)`.
    pub global_id: super::node::GlobalId,
    /// Our order id, as sent to Cashfree.
    pub order_id: String,
    /// The freelancer whose wallet is credited.
    pub freelancer_id: Uuid,
    /// The paying client's id in the marketplace.
    pub client_id: Option<String>,
    /// What the payment is for (a milestone, an invoice).
    pub purpose: Option<String>,
    /// Gross amount the client pays.
    pub amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
    pub status: PaymentStatus,
    /// The platform's share, set on success.
    pub platform_fee: Option<Decimal>,
    /// What the freelancer's wallet was credited, set on success.
    pub net_amount: Option<Decimal>,
    /// How much of the payment has been refunded to the client; never more than `amount`.
    pub refunded_amount: Decimal,
    /// Cashfree's id of the attempt that settled (or last touched) the order.
    pub cf_payment_id: Option<String>,
    /// upi, card, net_banking, …
    pub payment_method: Option<String>,
    pub bank_reference: Option<String>,
    /// Cashfree's explanation of the last failure.
    pub failure_reason: Option<String>,
    pub paid_at: Option<DateTime>,
    /// Set when an admin confirmed the payment by hand.
    pub verified_at: Option<DateTime>,
    pub verified_by: Option<Uuid>,
    /// Cashfree's id of the order, when it was created there.
    pub cf_order_id: Option<String>,
    /// What a Cashfree checkout opens with.
    pub payment_session_id: Option<String>,
    /// The Cashfree payment link to send to the client, if one was asked for.
    pub link_url: Option<String>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

impl super::PlainFields for Payment {
    const PLAIN: &'static [&'static str] = &[
        "id",
        "globalId",
        "orderId",
        "freelancerId",
        "clientId",
        "purpose",
        "amount",
        "currency",
        "status",
        "platformFee",
        "netAmount",
        "refundedAmount",
        "cfPaymentId",
        "paymentMethod",
        "bankReference",
        "failureReason",
        "paidAt",
        "verifiedAt",
        "verifiedBy",
        "cfOrderId",
        "paymentSessionId",
        "linkUrl",
        "createdAt",
        "updatedAt",
    ];
}

super::columns::columns_of!(Payment, payment::Model {
    "id" | "globalId" => [id],
    "orderId" => [order_id],
    "freelancerId" | "wallet" => [freelancer_id],
    "clientId" => [client_id],
    "purpose" => [purpose],
    "amount" => [amount],
    "currency" => [currency],
    "status" => [status],
    "platformFee" => [platform_fee],
    "netAmount" => [net_amount],
    "refundedAmount" => [refunded_amount],
    "cfPaymentId" => [cf_payment_id],
    "paymentMethod" => [payment_method],
    "bankReference" => [bank_reference],
    "failureReason" => [failure_reason],
    "paidAt" => [paid_at],
    "verifiedAt" => [verified_at],
    "verifiedBy" => [verified_by],
    "cfOrderId" => [cf_order_id],
    "paymentSessionId" => [payment_session_id],
    "linkUrl" => [link_url],
    "createdAt" => [created_at],
    "updatedAt" => [updated_at],
});

impl From<payment::Model> for Payment {
    fn from(m: payment::Model) -> Self {
        Self {
            global_id: super::node::GlobalId::new("Payment", m.id),
            id: m.id,
            order_id: m.order_id,
            freelancer_id: m.freelancer_id,
            client_id: m.client_id,
            purpose: m.purpose,
            amount: m.amount.into(),
            currency: m.currency,
            status: m.status.into(),
            platform_fee: m.platform_fee.map(|x| x.into()),
            net_amount: m.net_amount.map(|x| x.into()),
            refunded_amount: m.refunded_amount.into(),
            cf_payment_id: m.cf_payment_id,
            payment_method: m.payment_method,
            bank_reference: m.bank_reference,
            failure_reason: m.failure_reason,
            paid_at: m.paid_at.map(DateTime),
            verified_at: m.verified_at.map(DateTime),
            verified_by: m.verified_by,
            cf_order_id: m.cf_order_id,
            payment_session_id: m.payment_session_id,
            link_url: m.link_url,
            created_at: DateTime(m.created_at),
            updated_at: DateTime(m.updated_at),
        }
    }
}

#[ComplexObject]
impl Payment {
    /// The wallet this payment credits.
    async fn wallet(&self, ctx: &Context<'_>) -> Result<Option<Wallet>> {
        let loader = ctx.data_unchecked::<DataLoader<Db>>();
        Ok(loader.load_one(WalletOfFreelancer(self.freelancer_id)).await.map_err(loader_error)?.map(Wallet::from))
    }
}
