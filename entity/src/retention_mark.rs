//! How far retention has deleted a log: the last entry it deleted (for `events`, a sequence number).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retention_marks")]
pub struct Model {
    /// The log, e.g. `events`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// Every entry up to and including this one has been deleted.
    pub through: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
