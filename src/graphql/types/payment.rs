//! `Payment`: a client's payment for a freelancer's work.

use super::{loader_error, Dispute, PaymentStatus, Refund, Wallet};
use crate::graphql::error::Result;
use crate::graphql::loaders::{Db, DisputesOfPayment, RefundsOfPayment, WalletOfFreelancer};
use crate::graphql::scalars::DateTime;
use crate::graphql::scalars::Decimal;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, SimpleObject};
use entity::payment;
use uuid::Uuid;

super::columns::object_of_rows! {
    /// A client's payment for a freelancer's work, as an order and what Cashfree reported of it.
    #[derive(SimpleObject, Clone)]
    #[graphql(complex)]
    pub struct Payment from payment::Model as m {
        "id" id: Uuid = m.id, reads [id];
        /// The global id, for `node(id:)`.
        "globalId" global_id: super::node::GlobalId = super::node::GlobalId::new("Payment", m.id), reads [id];
        /// Our order id, as sent to Cashfree.
        "orderId" order_id: String = m.order_id, reads [order_id];
        /// The freelancer whose wallet is credited.
        "freelancerId" freelancer_id: Uuid = m.freelancer_id, reads [freelancer_id];
        /// The paying client's id in the marketplace.
        "clientId" client_id: Option<String> = m.client_id, reads [client_id];
        /// What the payment is for (a milestone, an invoice).
        "purpose" purpose: Option<String> = m.purpose, reads [purpose];
        /// Gross amount the client pays.
        "amount" amount: Decimal = m.amount.into(), reads [amount];
        /// ISO 4217 code.
        "currency" currency: String = m.currency, reads [currency];
        "status" status: PaymentStatus = m.status.into(), reads [status];
        /// The platform's share, set on success.
        "platformFee" platform_fee: Option<Decimal> = m.platform_fee.map(|x| x.into()), reads [platform_fee];
        /// What the freelancer's wallet was credited, set on success.
        "netAmount" net_amount: Option<Decimal> = m.net_amount.map(|x| x.into()), reads [net_amount];
        /// How much of the payment has been refunded to the client; never more than `amount`.
        "refundedAmount" refunded_amount: Decimal = m.refunded_amount.into(), reads [refunded_amount];
        /// What open and lost disputes hold of the payment; with `refundedAmount`, never more than `amount`.
        "disputedAmount" disputed_amount: Decimal = m.disputed_amount.into(), reads [disputed_amount];
        /// What refunds started here and not yet paid by Cashfree take of the payment.
        "refundingAmount" refunding_amount: Decimal = m.refunding_amount.into(), reads [refunding_amount];
        /// Cashfree's id of the attempt that settled (or last touched) the order.
        "cfPaymentId" cf_payment_id: Option<String> = m.cf_payment_id, reads [cf_payment_id];
        /// upi, card, net_banking, …
        "paymentMethod" payment_method: Option<String> = m.payment_method, reads [payment_method];
        "bankReference" bank_reference: Option<String> = m.bank_reference, reads [bank_reference];
        /// Cashfree's explanation of the last failure.
        "failureReason" failure_reason: Option<String> = m.failure_reason, reads [failure_reason];
        "paidAt" paid_at: Option<DateTime> = m.paid_at.map(DateTime), reads [paid_at];
        /// Set when an admin confirmed the payment by hand.
        "verifiedAt" verified_at: Option<DateTime> = m.verified_at.map(DateTime), reads [verified_at];
        "verifiedBy" verified_by: Option<Uuid> = m.verified_by, reads [verified_by];
        /// Cashfree's id of the order, when it was created there.
        "cfOrderId" cf_order_id: Option<String> = m.cf_order_id, reads [cf_order_id];
        /// What a Cashfree checkout opens with.
        "paymentSessionId" payment_session_id: Option<String> = m.payment_session_id, reads [payment_session_id];
        /// The Cashfree payment link to send to the client, if one was asked for.
        "linkUrl" link_url: Option<String> = m.link_url, reads [link_url];
        "createdAt" created_at: DateTime = DateTime(m.created_at), reads [created_at];
        "updatedAt" updated_at: DateTime = DateTime(m.updated_at), reads [updated_at];
    }
    reads {
        "wallet" => [freelancer_id];
        "disputes" | "refunds" => [id];
    }
}

#[ComplexObject]
impl Payment {
    /// The wallet this payment credits.
    async fn wallet(&self, ctx: &Context<'_>) -> Result<Option<Wallet>> {
        let loader = ctx.data_unchecked::<DataLoader<Db>>();
        Ok(loader.load_one(WalletOfFreelancer(self.freelancer_id)).await.map_err(loader_error)?.map(Wallet::from))
    }

    /// The refunds started from paydesk on this payment, oldest first (refunds made at Cashfree's dashboard show
    /// only in `refundedAmount` and the ledger).
    async fn refunds(&self, ctx: &Context<'_>) -> Result<Vec<Refund>> {
        let loader = ctx.data_unchecked::<DataLoader<Db>>();
        let rows = loader.load_one(RefundsOfPayment(self.id)).await.map_err(loader_error)?;
        Ok(rows.unwrap_or_default().into_iter().map(Refund::from).collect())
    }

    /// The disputes of this payment, oldest first.
    async fn disputes(&self, ctx: &Context<'_>) -> Result<Vec<Dispute>> {
        let loader = ctx.data_unchecked::<DataLoader<Db>>();
        let rows = loader.load_one(DisputesOfPayment(self.id)).await.map_err(loader_error)?;
        Ok(rows.unwrap_or_default().into_iter().map(Dispute::from).collect())
    }
}
