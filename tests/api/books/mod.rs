//! The books: the journal and its reconciliation, money values, funds availability, reports, the export and the
//! seeded simulator.

mod counted_once;
mod currencies;
mod export;
mod funds;
mod journal;
mod money;
mod reports;
mod simulator;
