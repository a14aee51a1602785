//! Every Cashfree webhook delivery as received, valid or not, with what became of it.

#[allow(unused_imports)]
use crate::money::Money;
#[allow(unused_imports)]
use crate::status::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_webhooks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub received_at: DateTimeUtc,
    pub event_type: Option<String>,
    /// The key deliveries are deduplicated on; unique among the ones that were processed.
    #[sea_orm(unique)]
    pub idempotency_key: Option<String>,
    pub signature_valid: bool,
    pub outcome: WebhookOutcome,
    pub error: Option<String>,
    pub order_id: Option<String>,
    pub cf_payment_id: Option<String>,
    pub payment_id: Option<Uuid>,
    /// For payout (transfer) webhooks: the payout request it is about.
    pub payout_request_id: Option<Uuid>,
    /// The request headers that matter (`x-webhook-*`), as a JSON object.
    pub headers: Json,
    /// The body exactly as it arrived: the signature covers these bytes.
    pub raw_body: Vec<u8>,
    /// SHA-256 of the row's canonical content, as its writer computed it (none on rows written before it was kept):
    /// what the history chainer links. The verifier hashes the content afresh.
    pub content_hash: Option<Vec<u8>>,
}

crate::by_position!(
    id,
    received_at,
    event_type,
    idempotency_key,
    signature_valid,
    outcome,
    error,
    order_id,
    cf_payment_id,
    payment_id,
    payout_request_id,
    headers,
    raw_body,
    content_hash
);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
