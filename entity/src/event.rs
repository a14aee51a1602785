//! One stored event (a payout requested or decided, an alert), in commit order: the log subscribers resume from.

#[allow(unused_imports)]
use crate::status::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    /// The event's place in the log; a subscriber's resume cursor.
    #[sea_orm(primary_key)]
    pub seq: i64,
    /// payout_requested, payout_status_changed, alert
    pub kind: String,
    /// The event as JSON.
    pub payload: String,
    /// Alerts only.
    pub severity: Option<Severity>,
    pub created_at: DateTimeUtc,
}

crate::by_position!(seq, kind, payload, severity, created_at);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
