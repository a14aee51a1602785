//! SeaORM entities for paydesk's tables. They carry no GraphQL derives: API types live in the server crate,
//! so a column never leaks into the API by accident.

pub mod audit_log;
pub mod beneficiary;
pub mod by_position;
pub mod dispute;
pub mod event;
pub mod freelancer_wallet;
pub mod history_checkpoint;
pub mod history_link;
pub mod history_signed_checkpoint;
pub mod idempotency_key;
pub mod identity_link;
pub mod journal_entry;
pub mod journal_posting;
pub mod money;
pub mod notification;
pub mod payment;
pub mod payment_webhook;
pub mod payout_hold;
pub mod payout_request;
pub mod pending_fund;
pub mod persisted_document;
pub mod refund;
pub mod retention_mark;
pub mod rfc3339;
pub mod settlement_line;
pub mod settlement_poll;
pub mod status;
pub mod wallet_transaction;

pub use by_position::{ByPosition, Columns, InOrder};
pub use money::Money;
