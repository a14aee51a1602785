//! The `paydesk` binary run beside a test's server, as an operator would: reconcile, verify and the rest.

use super::*;

pub const CF_CLIENT_ID: &str = "cf_test_client";
pub const CF_PAYOUT_ID: &str = "cf_test_payout_client";
pub const CF_PAYOUT_SECRET: &str = "cfsk_payout_test_secret";
/// The history's signing key every test server has (an Ed25519 seed, hex).
pub const HISTORY_KEY: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

/// The public key of [`HISTORY_KEY`], as `paydesk verify --public-key` takes it.
pub fn history_public_key() -> String {
    paydesk::services::evidence::history::Signer::from_setting(HISTORY_KEY).unwrap().public_hex()
}

/// The books stay whole: `paydesk reconcile` and `paydesk verify` both pass over the server's database.
pub fn assert_books_whole(app: &TestApp) {
    let (clean, report) = app.reconcile();
    assert!(clean, "reconcile: {report}");
    let (whole, said) = paydesk(app, &["verify"]);
    assert!(whole, "verify: {said}");
}

/// Runs `paydesk` with `args` against the app's database: (exit success, stdout). On a multi-threaded test runtime
/// the server goes on working meanwhile, as it would beside an operator's command.
pub fn paydesk(app: &TestApp, args: &[&str]) -> (bool, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk"));
    command
        .args(args)
        .env("DATABASE_URL", &app.db_url)
        // What `verify` checks signed checkpoints and erasures with: the deployment's public key, kept apart.
        .env("PAYDESK_HISTORY_PUBLIC_KEY", history_public_key());
    let multi_threaded = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    let out = if multi_threaded { tokio::task::block_in_place(|| command.output()) } else { command.output() }.unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}
