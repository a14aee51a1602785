//! The evidence: the audit trail (one row for every decision and every movement of money) and the history that no
//! one can rewrite unseen (hash chains, signed checkpoints, erasures).

pub mod audit;
pub mod history;
