//! `cashfree-double`: a local stand-in for Cashfree, for development (`cargo run --release --bin cashfree-double`).
//! A binary of its own, so the `paydesk` binary that production runs never carries it.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cashfree_double::run(cashfree_double::Args::parse()).await
}
