//! The double-entry journal: every movement of money is an entry whose lines sum to zero, account balances and the
//! trial balance explain every rupee, existing books are carried over by the migration, and reconciliation names
//! an entry or a wallet that no longer adds up.

use crate::helpers::*;
use entity::status::Role;
use migration::{Migrator, MigratorTrait};
use serde_json::{json, Value};
use uuid::Uuid;

const JOURNAL: &str = "query($f: JournalFilter, $n: Int) { journal(filter: $f, first: $n) { totalCount \
    nodes { kind reference paymentId payoutRequestId lines { line account walletId currency amount side } } } }";
const ACCOUNTS: &str = "{ accounts(currency: \"INR\") { account currency debits credits balance normalSide } }";
const APPROVE: &str = "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { status } }";
const ADJUST: &str = "mutation($i: AdjustLedgerInput!) { adjustLedger(input: $i) { amount } }";

/// The sum of an entry's lines, in minor units.
fn sum_of(entry: &Value) -> i64 {
    let lines = entry["lines"].as_array().unwrap();
    lines.iter().map(|l| minor(l["amount"].as_str().unwrap())).sum()
}

fn minor(amount: &str) -> i64 {
    let (whole, cents) = amount.trim_start_matches('-').split_once('.').unwrap();
    let m = whole.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap();
    if amount.starts_with('-') {
        -m
    } else {
        m
    }
}

/// A payment of 1000.00 (fee 100.00), a correction of +50.00, a payout of 300.00 paid by hand and a refund of
/// 200.00 (20.00 of it the platform's fee): the freelancer ends at 900 + 50 - 300 - 180 = 470.00.
async fn every_kind_of_movement(app: &TestApp) -> Uuid {
    let f = Uuid::new_v4();
    let order = app.fund(f, "1000.00").await;
    app.gql_ok(&app.admin(), ADJUST, json!({ "i": { "freelancerId": f, "amount": "50.00", "reason": "goodwill" } }))
        .await;
    let id = app.request_payout(f, "300.00").await["data"]["requestPayout"]["id"].as_str().unwrap().to_owned();
    let d = app.gql_ok(&app.admin(), APPROVE, json!({ "i": { "payoutRequestId": id } })).await;
    assert_eq!(d["approvePayout"]["status"], "PAID");
    let (status, reply) = app.deliver_signed(&refund_body(&order, "rf_1", "200.00", "INR")).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
    assert_eq!(app.balance(f).await, "470.00");
    f
}

#[tokio::test]
async fn every_movement_is_an_entry_whose_lines_sum_to_zero_and_the_accounts_explain_every_rupee() {
    let app = TestApp::spawn().await;
    let f = every_kind_of_movement(&app).await;
    let d = app.gql_ok(&app.admin(), JOURNAL, json!({ "n": 50 })).await;
    let entries = d["journal"]["nodes"].as_array().unwrap();
    let kinds: Vec<&str> = entries.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["REFUND", "PAYOUT_PAID", "ADJUSTMENT", "PAYMENT_RECEIVED"], "newest first: {d}");
    for e in entries {
        assert_eq!(sum_of(e), 0, "an entry's lines sum to zero: {e}");
    }
    let payment = &entries[3]["lines"];
    let lines: Vec<(&str, &str)> = payment
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["account"].as_str().unwrap(), l["amount"].as_str().unwrap()))
        .collect();
    assert_eq!(lines, [("WALLET", "900.00"), ("FEE_REVENUE", "100.00"), ("GATEWAY_CLEARING", "-1000.00")]);
    assert_eq!(payment[2]["side"], "DEBIT");
    let wallet =
        app.gql_ok(&app.admin(), "query($f: UUID!) { wallet(freelancerId: $f) { id } }", json!({ "f": f })).await;
    assert_eq!(payment[0]["walletId"], wallet["wallet"]["id"]);

    let b = app.accounts().await;
    assert_eq!(b["WALLET"], "470.00", "what freelancers are owed is the sum of their wallets");
    assert_eq!(b["FEE_REVENUE"], "80.00", "100.00 of fee less the 20.00 returned with the refund");
    assert_eq!(b["GATEWAY_CLEARING"], "800.00", "1000.00 captured less 200.00 refunded");
    assert_eq!(b["BANK"], "-300.00", "the payout left the bank");
    assert_eq!(b["ADJUSTMENTS"], "50.00", "the correction's other side");

    let t = app
        .gql_ok(
            &app.admin(),
            "{ trialBalance(currency: \"INR\") { total balanced totalDebits totalCredits } }",
            json!({}),
        )
        .await;
    assert_eq!(t["trialBalance"]["total"], "0.00", "{t}");
    assert_eq!(t["trialBalance"]["balanced"], true);
    assert_eq!(t["trialBalance"]["totalDebits"], t["trialBalance"]["totalCredits"]);
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
    assert!(report.contains("4 journal entries"), "{report}");
}

#[tokio::test]
async fn the_journal_filters_by_account_wallet_kind_and_time_and_the_trial_balance_looks_back() {
    let app = TestApp::spawn().await;
    let f = every_kind_of_movement(&app).await;
    let other = Uuid::new_v4();
    app.fund(other, "500.00").await;
    let w = app.gql_ok(&app.admin(), "query($f: UUID!) { wallet(freelancerId: $f) { id } }", json!({ "f": f })).await;
    let mine = json!({ "f": { "walletId": w["wallet"]["id"] } });
    assert_eq!(app.gql_ok(&app.admin(), JOURNAL, mine).await["journal"]["totalCount"], 4, "one wallet's entries");
    let bank = json!({ "f": { "account": "BANK" } });
    let d = app.gql_ok(&app.admin(), JOURNAL, bank).await;
    assert_eq!(d["journal"]["totalCount"], 1, "{d}");
    assert_eq!(d["journal"]["nodes"][0]["kind"], "PAYOUT_PAID");
    let payments = json!({ "f": { "kinds": ["PAYMENT_RECEIVED"] } });
    assert_eq!(app.gql_ok(&app.admin(), JOURNAL, payments).await["journal"]["totalCount"], 2);
    let future = json!({ "f": { "createdFrom": "2999-01-01T00:00:00Z" } });
    assert_eq!(app.gql_ok(&app.admin(), JOURNAL, future).await["journal"]["totalCount"], 0);

    let q = "query($at: DateTime) { trialBalance(currency: \"INR\", at: $at) { total accounts { account balance } } }";
    let past = app.gql_ok(&app.admin(), q, json!({ "at": "2000-01-01T00:00:00Z" })).await;
    assert_eq!(past["trialBalance"]["accounts"], json!([]), "nothing was booked in 2000");
    let now = app.gql_ok(&app.admin(), q, json!({})).await;
    let wallets =
        now["trialBalance"]["accounts"].as_array().unwrap().iter().find(|a| a["account"] == "WALLET").cloned();
    assert_eq!(wallets.unwrap()["balance"], "920.00", "470.00 + 450.00");
}

#[tokio::test]
async fn only_staff_read_the_books_and_a_bad_currency_is_refused() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "100.00").await;
    let me = app.token(Role::Freelancer, f);
    for q in [ACCOUNTS, "{ journal { totalCount } }", "{ trialBalance(currency: \"INR\") { total } }"] {
        let body = app.gql(Some(&me), q, json!({})).await;
        assert_eq!(code(&body), "FORBIDDEN", "{q}: {body}");
    }
    let ops = app.token(Role::Ops, Uuid::new_v4());
    assert_eq!(app.gql_ok(&ops, "{ journal { totalCount } }", json!({})).await["journal"]["totalCount"], 1);
    let body = app.gql(Some(&app.admin()), "{ trialBalance(currency: \"XYZ\") { total } }", json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("ISO 4217"), "{body}");
}

#[tokio::test]
async fn a_page_of_entries_reads_its_lines_in_one_statement() {
    let app = TestApp::spawn().await;
    for _ in 0..12 {
        app.fund(Uuid::new_v4(), "100.00").await;
    }
    let mut cost = Vec::new();
    for n in [2, 12] {
        let before = app.statements();
        let d = app.gql_ok(&app.admin(), JOURNAL, json!({ "n": n })).await;
        cost.push(app.statements() - before);
        let nodes = d["journal"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), n as usize);
        assert!(nodes.iter().all(|e| e["lines"].as_array().unwrap().len() == 3), "{d}");
    }
    assert_eq!(cost[0], cost[1], "statements for 2 entries vs 12: {cost:?}");
    assert!(cost[1] <= 3, "page, count and lines: {cost:?}");
}

#[tokio::test]
async fn a_transfer_waits_in_transit_until_cashfree_pays_it_and_a_failed_one_comes_back() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    let mut transfers = Vec::new();
    for amount in ["300.00", "200.00"] {
        let id = app.request_payout(f, amount).await["data"]["requestPayout"]["id"].as_str().unwrap().to_owned();
        let d = app.gql_ok(&app.admin(), APPROVE, json!({ "i": { "payoutRequestId": id } })).await;
        assert_eq!(d["approvePayout"]["status"], "PROCESSING");
        transfers.push(double.transfer(&Uuid::parse_str(&id).unwrap().simple().to_string()).expect("a transfer"));
    }
    let b = app.accounts().await;
    assert_eq!((b["PAYOUTS_IN_TRANSIT"].as_str(), b["WALLET"].as_str()), ("500.00", "400.00"), "{b:?}");
    assert!(!b.contains_key("BANK"), "nothing has left the bank yet: {b:?}");
    let paid = transfers[0]["transfer_id"].as_str().unwrap();
    assert_eq!(double.complete_transfer(paid, "SUCCESS").await, Ok(200));
    let failed = transfers[1]["transfer_id"].as_str().unwrap();
    assert_eq!(double.complete_transfer(failed, "FAILED").await, Ok(200));
    let b = app.accounts().await;
    assert_eq!(b["PAYOUTS_IN_TRANSIT"], "0.00", "{b:?}");
    assert_eq!(b["BANK"], "-303.54", "the paid transfer left the bank, with Cashfree's charge");
    assert_eq!(b["TRANSFER_COSTS"], "3.54", "3.00 charge and 0.54 tax, as the double reports");
    assert_eq!(b["WALLET"], "600.00", "the failed one came back");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn an_existing_database_is_carried_over_into_the_same_balances() {
    let app = TestApp::spawn().await;
    every_kind_of_movement(&app).await;
    app.fund(Uuid::new_v4(), "250.00").await;
    let booked = app.accounts().await;
    // Back to the schema before the journal, and forward again: the migration books the ledger it finds.
    let names: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
    let since = names.len() - names.iter().position(|n| n == "m20261206_000001_journal").unwrap();
    Migrator::down(&app.state.db, Some(since as u32)).await.unwrap();
    Migrator::up(&app.state.db, None).await.unwrap();
    // A payout paid by hand went straight from the wallet to the bank; carried over, it passes through transit
    // (which the migration cannot tell from a transfer), so that account appears, at zero.
    let mut carried = app.accounts().await;
    assert_eq!(carried.remove("PAYOUTS_IN_TRANSIT").as_deref(), Some("0.00"));
    assert_eq!(carried, booked, "the carried-over journal holds what the live one held");
    let d = app.gql_ok(&app.admin(), JOURNAL, json!({ "n": 50 })).await;
    for e in d["journal"]["nodes"].as_array().unwrap() {
        assert_eq!(sum_of(e), 0, "{e}");
    }
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn reconcile_names_an_entry_that_does_not_balance_and_a_wallet_that_left_its_journal() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    tamper(&app, "UPDATE journal_postings SET amount = amount + 1 WHERE account = 'fee_revenue'", vec![]).await;
    let (clean, report) = app.reconcile();
    assert!(!clean, "{report}");
    assert!(report.contains("journal entry payment:") && report.contains("sum to 0.01"), "{report}");
    tamper(&app, "UPDATE journal_postings SET amount = amount - 1 WHERE account = 'fee_revenue'", vec![]).await;
    assert!(app.reconcile().0, "mended");
    tamper(&app, "UPDATE freelancer_wallets SET balance = balance + 500", vec![]).await;
    let (clean, report) = app.reconcile();
    assert!(!clean);
    assert!(report.contains(&format!("wallet of {f}: balance 905.00 but its journal lines sum to 900.00")), "{report}");
}

#[tokio::test]
async fn the_financial_report_shows_what_the_platform_earned_and_what_it_cost() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    let id = app.request_payout(f, "300.00").await["data"]["requestPayout"]["id"].as_str().unwrap().to_owned();
    app.gql_ok(&app.admin(), APPROVE, json!({ "i": { "payoutRequestId": id } })).await;
    let sent = double.transfer(&Uuid::parse_str(&id).unwrap().simple().to_string()).expect("a transfer");
    assert_eq!(double.complete_transfer(sent["transfer_id"].as_str().unwrap(), "SUCCESS").await, Ok(200));
    let order = format!("ord_{}", f.simple());
    let (_, dispute) = double.open_dispute(&order, "200.00").await.unwrap();
    assert_eq!(double.move_dispute(&dispute, "CHARGEBACK_MERCHANT_LOST").await, Ok(200));
    let q = "query($from: DateTime!, $to: DateTime!) { financialReport(from: $from, to: $to, granularity: MONTH) { \
        gross fees feeRevenue transferCosts disputesLost netRevenue } }";
    let (from, to) = (chrono::Utc::now() - chrono::Duration::days(40), chrono::Utc::now() + chrono::Duration::days(1));
    let d = app.gql_ok(&app.admin(), q, json!({ "from": from.to_rfc3339(), "to": to.to_rfc3339() })).await;
    let rows = d["financialReport"].as_array().unwrap();
    let total = |field: &str| -> i64 { rows.iter().map(|r| minor(r[field].as_str().unwrap())).sum() };
    assert_eq!((total("gross"), total("fees")), (100_000, 10_000), "{d}");
    assert_eq!(total("feeRevenue"), 10_000, "the fee stays with the platform (keep): {d}");
    assert_eq!(total("transferCosts"), 354, "{d}");
    assert_eq!(total("disputesLost"), 20_000, "{d}");
    assert_eq!(total("netRevenue"), 10_000 - 354, "the freelancer bore the lost dispute: {d}");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}
