//! `PaymentWebhook`: one Cashfree delivery as received.

use super::{loader_error, Payment, WebhookOutcome};
use crate::graphql::error::Result;
use crate::graphql::loaders::{Db, PaymentById};
use crate::graphql::scalars::DateTime;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Json, SimpleObject};
use entity::payment_webhook as webhook;
use uuid::Uuid;

/// A Cashfree webhook delivery, valid or not, with what became of it.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct PaymentWebhook {
    pub id: Uuid,
    /// The global id, for `node(id:)`.
    pub global_id: super::node::GlobalId,
    pub received_at: DateTime,
    /// Cashfree's `type`, e.g. PAYMENT_SUCCESS_WEBHOOK.
    pub event_type: Option<String>,
    /// The key deliveries were deduplicated on (null when not processed).
    pub idempotency_key: Option<String>,
    pub signature_valid: bool,
    pub outcome: WebhookOutcome,
    /// Why it was rejected, ignored or failed.
    pub error: Option<String>,
    pub order_id: Option<String>,
    pub cf_payment_id: Option<String>,
    pub payment_id: Option<Uuid>,
    /// The `x-webhook-*` headers as received.
    pub headers: Json<serde_json::Value>,
    /// The body as received (invalid UTF-8 replaced).
    pub raw_body: String,
}

impl super::PlainFields for PaymentWebhook {
    const PLAIN: &'static [&'static str] = &[
        "id",
        "globalId",
        "receivedAt",
        "eventType",
        "idempotencyKey",
        "signatureValid",
        "outcome",
        "error",
        "orderId",
        "cfPaymentId",
        "paymentId",
        "headers",
        "rawBody",
    ];
}

super::columns::columns_of!(PaymentWebhook, webhook::Model {
    "id" | "globalId" => [id],
    "receivedAt" => [received_at],
    "eventType" => [event_type],
    "idempotencyKey" => [idempotency_key],
    "signatureValid" => [signature_valid],
    "outcome" => [outcome],
    "error" => [error],
    "orderId" => [order_id],
    "cfPaymentId" => [cf_payment_id],
    "paymentId" | "payment" => [payment_id],
    "headers" => [headers],
    "rawBody" => [raw_body],
});

impl From<webhook::Model> for PaymentWebhook {
    fn from(m: webhook::Model) -> Self {
        Self {
            global_id: super::node::GlobalId::new("PaymentWebhook", m.id),
            id: m.id,
            received_at: DateTime(m.received_at),
            event_type: m.event_type,
            idempotency_key: m.idempotency_key,
            signature_valid: m.signature_valid,
            outcome: m.outcome.into(),
            error: m.error,
            order_id: m.order_id,
            cf_payment_id: m.cf_payment_id,
            payment_id: m.payment_id,
            headers: Json(m.headers),
            raw_body: String::from_utf8_lossy(&m.raw_body).into_owned(),
        }
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
