//! The `cashfree-double` command: the double on an address of its own, with the credentials paydesk is given, until
//! Ctrl-C.

use anyhow::Context;
use clap::Parser;
use std::net::SocketAddr;

/// A local stand-in for Cashfree; the credentials are the ones paydesk is given.
#[derive(Debug, Parser)]
#[command(name = "cashfree-double", version)]
pub struct Args {
    #[arg(long, env = "CASHFREE_CLIENT_ID")]
    pub cashfree_client_id: Option<String>,
    /// Signs the double's payment webhooks (the first, when several are given).
    #[arg(long, env = "CASHFREE_CLIENT_SECRET", value_delimiter = ',', hide_env_values = true)]
    pub cashfree_client_secret: Vec<String>,
    #[arg(long, env = "CASHFREE_PAYOUT_CLIENT_ID")]
    pub cashfree_payout_client_id: Option<String>,
    #[arg(long, env = "CASHFREE_PAYOUT_CLIENT_SECRET", hide_env_values = true)]
    pub cashfree_payout_client_secret: Option<String>,
    /// Address the double listens on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// paydesk's base URL, where the double sends its signed webhooks.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub paydesk_url: String,
    /// Transfers succeed by themselves this long after they are created (`0s`: only when told).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub complete_transfers_after: std::time::Duration,
}

/// Runs the Cashfree double with the credentials paydesk is configured with, until Ctrl-C.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let need = |v: &Option<String>, name: &str| {
        v.clone()
            .filter(|s| !s.is_empty())
            .with_context(|| format!("{name} is not set: the double accepts the same credentials paydesk sends"))
    };
    let double = crate::Double::start(
        crate::DoubleConfig {
            pg_client_id: need(&args.cashfree_client_id, "CASHFREE_CLIENT_ID")?,
            pg_secret: need(
                &args.cashfree_client_secret.first().map(|s| s.trim().to_owned()),
                "CASHFREE_CLIENT_SECRET",
            )?,
            payout_client_id: need(&args.cashfree_payout_client_id, "CASHFREE_PAYOUT_CLIENT_ID")?,
            payout_secret: need(&args.cashfree_payout_client_secret, "CASHFREE_PAYOUT_CLIENT_SECRET")?,
            paydesk_url: args.paydesk_url.trim_end_matches('/').to_owned(),
            complete_transfers_after: (!args.complete_transfers_after.is_zero())
                .then_some(args.complete_transfers_after),
        },
        args.listen,
    )
    .await
    .with_context(|| format!("listening on {}", args.listen))?;
    println!(
        "Cashfree double at {url}; webhooks go to {paydesk}.\n\
         Start paydesk with CASHFREE_BASE_URL={url} and the same CASHFREE_* credentials.\n\
         Pay an order:      curl -X POST {url}/__double/orders/ORDER_ID/pay?status=SUCCESS\n\
         End a transfer:    curl -X POST {url}/__double/transfers/PAYOUT_ID/FAILED\n\
         Inject a fault:    curl -X POST {url}/__double/faults -H 'content-type: application/json' \\\n\
         \x20                    -d '{{\"path\":\"/payout/transfers\",\"status\":503}}'",
        url = double.url(),
        paydesk = args.paydesk_url,
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
