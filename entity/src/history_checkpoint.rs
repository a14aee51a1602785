//! A day's chain heads, as sent to the marketplace's callback: a copy of the evidence outside the database.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "history_checkpoints")]
pub struct Model {
    /// The UTC day, `YYYY-MM-DD`: one checkpoint a day, whichever instance takes it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    /// Each chain's head then: `[{chain, seq, hash, rowId}]`.
    pub heads: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
