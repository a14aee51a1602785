//! Domain rules that need no database: money parsing, holds, and the allowed status transitions.

pub mod hold;
pub mod money;
pub mod risk;
pub mod signature;
pub mod signing;
pub mod status;
pub mod text;
pub mod trusted;
