//! The journal: one row per movement of money, whose postings (`journal_posting`) sum to zero per currency.
//! Entries are never edited; a correction is a new entry.

#[allow(unused_imports)]
use crate::status::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "journal_entries")]
pub struct Model {
    /// The id of the wallet's ledger row, when the entry moves a wallet's balance (one row, one entry).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: EntryKind,
    /// What moved the money (`payment:<id>`, `payout-paid:<id>`, ...); unique, so nothing is booked twice.
    #[sea_orm(unique)]
    pub reference: String,
    pub payment_id: Option<Uuid>,
    pub payout_request_id: Option<Uuid>,
    pub description: String,
    pub created_at: DateTimeUtc,
    /// SHA-256 of the row's canonical content, as its writer computed it (none on rows written before it was kept):
    /// what the history chainer links. The verifier hashes the content afresh.
    pub content_hash: Option<Vec<u8>>,
    /// The provider's object this entry books and the step (`cf_payment_id:<id>:settled`, ...); unique, so the
    /// database refuses to book one object's step twice. None on paydesk's own movements and on older entries.
    #[sea_orm(unique)]
    pub provider_object: Option<String>,
}

crate::by_position!(
    id,
    kind,
    reference,
    payment_id,
    payout_request_id,
    description,
    created_at,
    content_hash,
    provider_object
);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
