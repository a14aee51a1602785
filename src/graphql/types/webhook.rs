//! `PaymentWebhook`: one Cashfree delivery as received.

use super::{loader_error, Payment, WebhookOutcome};
use crate::graphql::error::Result;
use crate::graphql::loaders::{Db, PaymentById};
use crate::graphql::scalars::DateTime;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Json, SimpleObject};
use entity::payment_webhook as webhook;
use uuid::Uuid;

super::columns::object_of_rows! {
    /// A Cashfree webhook delivery, valid or not, with what became of it.
    #[derive(SimpleObject, Clone)]
    #[graphql(complex)]
    pub struct PaymentWebhook from webhook::Model as m {
        "id" id: Uuid = m.id, reads [id];
        /// The global id, for `node(id:)`.
        "globalId" global_id: super::node::GlobalId = super::node::GlobalId::new("PaymentWebhook", m.id), reads [id];
        "receivedAt" received_at: DateTime = DateTime(m.received_at), reads [received_at];
        /// Cashfree's `type`, e.g. PAYMENT_SUCCESS_WEBHOOK.
        "eventType" event_type: Option<String> = m.event_type, reads [event_type];
        /// The key deliveries were deduplicated on (null when not processed).
        "idempotencyKey" idempotency_key: Option<String> = m.idempotency_key, reads [idempotency_key];
        "signatureValid" signature_valid: bool = m.signature_valid, reads [signature_valid];
        "outcome" outcome: WebhookOutcome = m.outcome.into(), reads [outcome];
        /// Why it was rejected, ignored or failed.
        "error" error: Option<String> = m.error, reads [error];
        "orderId" order_id: Option<String> = m.order_id, reads [order_id];
        "cfPaymentId" cf_payment_id: Option<String> = m.cf_payment_id, reads [cf_payment_id];
        "paymentId" payment_id: Option<Uuid> = m.payment_id, reads [payment_id];
        /// The `x-webhook-*` headers as received.
        "headers" headers: Json<serde_json::Value> = Json(m.headers), reads [headers];
        /// The body as received (invalid UTF-8 replaced).
        "rawBody" raw_body: String = String::from_utf8_lossy(&m.raw_body).into_owned(), reads [raw_body];
    }
    reads {
        "payment" => [payment_id];
    }
}

#[ComplexObject]
impl PaymentWebhook {
    /// The payment this delivery was about, if it matched one.
    async fn payment(&self, ctx: &Context<'_>) -> Result<Option<Payment>> {
        let Some(id) = self.payment_id else { return Ok(None) };
        let loader = ctx.data_unchecked::<DataLoader<Db>>();
        Ok(loader.load_one(PaymentById(id)).await.map_err(loader_error)?.map(Payment::from))
    }
}
