//! Money out: payout requests, approvals and the reserve, transfers through Cashfree Payouts, holds, risk flags and
//! idempotency keys.

mod cashfree_payouts;
mod holds;
mod idempotency;
mod requests;
mod risk;
