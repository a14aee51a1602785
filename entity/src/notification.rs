//! A message to one user about their money (payment received, payout decided).

#[allow(unused_imports)]
use crate::money::Money;
#[allow(unused_imports)]
use crate::status::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub recipient_id: Uuid,
    pub kind: String,
    pub severity: Severity,
    pub title: String,
    pub body: String,
    pub payment_id: Option<Uuid>,
    pub payout_request_id: Option<Uuid>,
    pub read_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// Where its delivery to the marketplace's callback stands.
    pub delivery_status: DeliveryStatus,
    pub delivery_attempts: i32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTimeUtc>,
    pub last_attempt_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    /// Why the last attempt failed.
    pub delivery_error: Option<String>,
    /// The W3C `traceparent` of the trace it was written in, which its delivery continues.
    pub traceparent: Option<String>,
}

crate::by_position!(
    id,
    recipient_id,
    kind,
    severity,
    title,
    body,
    payment_id,
    payout_request_id,
    read_at,
    created_at,
    delivery_status,
    delivery_attempts,
    next_attempt_at,
    last_attempt_at,
    delivered_at,
    delivery_error,
    traceparent
);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
