//! Where a freelancer's payouts go: a bank account or a UPI handle, registered with Cashfree once and kept here
//! only masked.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "beneficiaries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub freelancer_id: Uuid,
    /// `bank` or `upi`.
    pub kind: String,
    pub name: String,
    /// The account as people may see it: `XXXXXX1234 (HDFC0000001)` or `ab***@okbank`.
    pub masked: String,
    /// The `beneficiary_id` transfers name.
    pub cf_beneficiary_id: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
