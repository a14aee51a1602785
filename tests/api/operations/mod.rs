//! Operating paydesk: the command line, the console in a real browser, notification delivery, investigations, the
//! runbook and instances behind a pooler.

pub mod cli;
mod console;
mod delivery;
mod investigations;
mod ops_security;
mod pooler;
mod runbook;
