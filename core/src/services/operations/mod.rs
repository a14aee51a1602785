//! Operations: manual interventions (each with a reason), the identities the marketplace's provider names, the
//! delivery of notifications to the marketplace, and retention of what would otherwise grow forever.

pub mod delivery;
pub mod identities;
pub mod interventions;
pub mod retention;
