//! Money in: Cashfree's orders, payment links and webhooks, refunds, disputes and settlements, and the double held to
//! Cashfree's SDKs.

mod cashfree_as_it_is;
mod cashfree_payments;
pub mod conformance;
mod disputes;
pub mod provider_amounts;
pub mod refunds;
mod refunds_started;
mod settlements;
mod webhook_input;
mod webhooks;
