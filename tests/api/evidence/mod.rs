//! The evidence: the hash-chained history, its checkpoints and erasures, and the event log with its live
//! subscriptions.

mod event_log;
mod events;
mod history;
mod subscriptions;
