//! The journal as accountants check it: `paydesk export-journal` in Beancount's language, checked by Beancount's own
//! `bean-check` (PyPI `beancount`), a double-entry engine written apart from ours: every entry balances, every
//! account is opened, and each wallet's balance as its row holds it equals the sum of its lines. And as CSV.

use crate::helpers::*;
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

const APPROVE: &str = "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { id status } }";
const REFUND: &str = "mutation($i: CreateRefundInput!) { createRefund(input: $i) { refundId } }";
const PAYMENT: &str = "query($o: String!) { payments(filter: { orderIdPrefix: $o }) { nodes { id } } }";

/// Runs `paydesk export-journal ARGS` on the server's database: (exit success, what it wrote to standard output,
/// what it said on standard error).
fn export_journal(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk"))
        .arg("export-journal")
        .args(args)
        .env("DATABASE_URL", &app.db_url)
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// Runs `bean-check` on `text`: (passed, what it said).
fn bean_check(text: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("paydesk.beancount");
    std::fs::write(&file, text).unwrap();
    let out = std::process::Command::new("bean-check")
        .arg(&file)
        .output()
        .expect("bean-check runs (this test needs Beancount: pip install beancount)");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Movements of every kind through a running server and the double: payments, a link, fees, payouts paid, failed and
/// reversed with their charges, refunds started here and Cashfree's, a dispute won and one lost, a correction,
/// a settlement, and the demo data set besides.
async fn a_busy_day(app: &TestApp, double: &cashfree_double::Double) {
    let (ok, said) = paydesk(app, &["seed-demo"]);
    assert!(ok, "{said}");
    let f = funded_freelancer(app, double).await;
    let order = format!("ord_{}", f.simple());
    for (amount, end) in [("100.00", "SUCCESS"), ("50.00", "FAILED"), ("60.00", "REVERSED")] {
        let id = app.request_payout(f, amount).await["data"]["requestPayout"]["id"].as_str().unwrap().to_owned();
        app.gql_ok(&app.admin(), APPROVE, json!({ "i": { "payoutRequestId": id } })).await;
        let tid = Uuid::parse_str(&id).unwrap().simple().to_string();
        if end == "REVERSED" {
            double.complete_transfer(&tid, "SUCCESS").await.unwrap();
        }
        assert_eq!(double.complete_transfer(&tid, end).await, Ok(200));
    }
    let p = app.gql_ok(&app.admin(), PAYMENT, json!({ "o": order })).await["payments"]["nodes"][0]["id"].clone();
    let r = app
        .gql_ok(&app.admin(), REFUND, json!({ "i": { "paymentId": p, "amount": "40.00", "reason": "late work" } }))
        .await;
    double.complete_refund(r["createRefund"]["refundId"].as_str().unwrap(), "SUCCESS").await.unwrap();
    let r = app
        .gql_ok(&app.admin(), REFUND, json!({ "i": { "paymentId": p, "amount": "30.00", "reason": "more late" } }))
        .await;
    double.complete_refund(r["createRefund"]["refundId"].as_str().unwrap(), "CANCELLED").await.unwrap();
    let (_, won) = double.open_dispute(&order, "100.00").await.unwrap();
    double.move_dispute(&won, "CHARGEBACK_MERCHANT_WON").await.unwrap();
    let (_, lost) = double.open_dispute(&order, "80.00").await.unwrap();
    double.move_dispute(&lost, "CHARGEBACK_MERCHANT_LOST").await.unwrap();
    let adjust = "mutation($i: AdjustLedgerInput!) { adjustLedger(input: $i) { id } }";
    app.gql_ok(&app.admin(), adjust, json!({ "i": { "freelancerId": f, "amount": "12.34", "reason": "goodwill" } }))
        .await;
    let now = chrono::Utc::now();
    let window = json!({ "from": (now - chrono::Duration::days(60)).to_rfc3339(), "to": (now + chrono::Duration::hours(1)).to_rfc3339() });
    let reconcile = "mutation($i: ReconcileSettlementsInput!) { reconcileSettlements(input: $i) { recorded } }";
    app.gql_ok(&app.admin(), reconcile, json!({ "i": window })).await;
}

#[tokio::test]
#[ignore = "needs Beancount's bean-check (pip install beancount): .ci/run installs it and runs this with --include-ignored"]
async fn beancount_agrees_with_our_books_and_finds_a_wallet_that_drifted() {
    let (app, double) = spawn_with_double(|_| {}).await;
    a_busy_day(&app, &double).await;
    assert_books_whole(&app);
    let (ok, export, said) = export_journal(&app, &["--format", "beancount"]);
    assert!(ok, "{said}");
    assert!(said.contains("journal entries written"), "{said}");
    assert!(export.contains(" open Liabilities:Wallets:W") && export.contains(" balance Liabilities:Wallets:W"));
    for kind in [
        "payment_received",
        "payout_paid",
        "payout_returned",
        "transfer_charges",
        "refund_started",
        "refund_paid",
        "refund_failed",
        "dispute_opened",
        "dispute_won",
        "dispute_lost",
        "adjustment",
        "settlement",
    ] {
        assert!(export.contains(&format!("* \"{kind}\"")), "no {kind} entry exported");
    }
    let (passed, said) = bean_check(&export);
    assert!(passed, "bean-check refused the export:\n{said}");
    // From a date on: the balances before it open the file, and it still checks.
    let since = (chrono::Utc::now() - chrono::Duration::days(20)).format("%Y-%m-%d").to_string();
    let (ok, part, _) = export_journal(&app, &["--from", &since]);
    assert!(ok && part.contains("\"opening\""), "{part}");
    let (passed, said) = bean_check(&part);
    assert!(passed, "bean-check refused the export from {since}:\n{said}");
    // A wallet whose row no longer equals its lines: Beancount finds it, by its balance assertion.
    tamper(
        &app,
        "UPDATE freelancer_wallets SET balance = balance + 1 WHERE id = (SELECT id FROM freelancer_wallets ORDER BY id LIMIT 1)",
        vec![],
    )
    .await;
    let (_, drifted, _) = export_journal(&app, &[]);
    let (passed, said) = bean_check(&drifted);
    assert!(!passed, "a drifted wallet passed bean-check");
    assert!(said.contains("Balance failed"), "{said}");
}

#[tokio::test]
async fn the_journal_exports_as_csv_a_line_a_row_each_entry_summing_to_zero() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    let id = app.request_payout(f, "100.00").await["data"]["requestPayout"]["id"].as_str().unwrap().to_owned();
    app.gql_ok(&app.admin(), APPROVE, json!({ "i": { "payoutRequestId": id } })).await;
    double.complete_transfer(&Uuid::parse_str(&id).unwrap().simple().to_string(), "SUCCESS").await.unwrap();
    let (ok, csv, said) = export_journal(&app, &["--format", "csv"]);
    assert!(ok, "{said}");
    let mut rows = csv.lines();
    assert_eq!(
        rows.next(),
        Some("entry_id,created_at,kind,reference,provider_object,description,payment_id,payout_request_id,line,account,wallet_id,currency,amount")
    );
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    let (mut kinds, mut objects) = (Vec::new(), std::collections::BTreeSet::new());
    for row in rows {
        let cells: Vec<&str> = row.split(',').collect();
        let cents = cells.last().unwrap().replace('.', "").parse::<i64>().unwrap();
        *sums.entry(cells[0].to_owned()).or_default() += cents;
        kinds.push(cells[2].to_owned());
        objects.insert(cells[4].trim_matches('"').to_owned());
    }
    assert_eq!(sums.len(), 4, "payment, payout approved, paid, its charges: {kinds:?}");
    let transfer = Uuid::parse_str(&id).unwrap().simple().to_string();
    let named: Vec<String> =
        ["sent", "paid", "charged"].iter().map(|s| format!("transfer_id:{transfer}:{s}")).collect();
    assert!(named.iter().all(|n| objects.contains(n)), "each step of the transfer named once: {objects:?}");
    assert!(objects.iter().any(|o| o.starts_with("cf_payment_id:") && o.ends_with(":captured")), "{objects:?}");
    assert!(sums.values().all(|s| *s == 0), "each entry's lines sum to zero: {sums:?}");
    // A window: nothing before the first entry's day.
    let (ok, none, _) = export_journal(&app, &["--format", "csv", "--to", "2000-01-01"]);
    assert!(ok && none.lines().count() == 1, "only the header: {none}");
    let (ok, _, said) = export_journal(&app, &["--from", "yesterday"]);
    assert!(!ok && said.contains("neither an RFC 3339 instant nor a date"), "{said}");
}
