//! One line of a journal entry: an amount on one account, credit positive, debit negative.

#[allow(unused_imports)]
use crate::money::Money;
#[allow(unused_imports)]
use crate::status::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "journal_postings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub entry_id: Uuid,
    /// The line's place in its entry, from 1.
    #[sea_orm(primary_key, auto_increment = false)]
    pub line: i32,
    pub account: Account,
    /// The wallet, for an `Account::Wallet` line; none for the platform's accounts.
    pub wallet_id: Option<Uuid>,
    pub currency: String,
    /// Signed: a credit to the account is positive, a debit negative. An entry's lines sum to zero.
    pub amount: Money,
}

crate::by_position!(entry_id, line, account, wallet_id, currency, amount);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
