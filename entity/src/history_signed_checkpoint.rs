//! Every chain's head at one moment, signed with the history's Ed25519 key (kept outside the database): whoever
//! holds the database can delete a checkpoint but not make one, so the chains up to each head stay as signed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "history_signed_checkpoints")]
pub struct Model {
    /// The start of the period it was taken in (`PAYDESK_HISTORY_CHECKPOINT`): one a period, whichever instance
    /// takes it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: DateTimeUtc,
    pub taken_at: DateTimeUtc,
    /// Each chain's head then: `[{chain, seq, hash}]`, as signed.
    pub heads: Json,
    /// The public key that checks `signature`, in hex.
    pub public_key: String,
    /// Ed25519 over the checkpoint's message (`history::signed_message`).
    pub signature: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
