//! Domain rules that need no database: money parsing and the allowed status transitions.

pub mod money;
pub mod risk;
pub mod signature;
pub mod status;
pub mod text;
