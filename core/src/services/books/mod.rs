//! The books: the ledger (the one place a balance changes), the double-entry journal, funds availability, wallets,
//! what funded a payout, reconciliation and the journal's export for accountants.

pub mod export;
pub mod funding;
pub mod funds;
pub mod journal;
pub mod ledger;
pub mod reconcile;
pub mod wallets;
