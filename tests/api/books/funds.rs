//! Funds availability: a payment's credit waits out its hold (`PAYDESK_FUNDS_HOLD`, or a wallet's own) before a
//! payout may take it; its release is one journal entry, made once by whichever instance gets there first, never
//! before its time by the database's clock, and approvals racing the releases never take a wallet below its reserve.

use crate::helpers::*;
use entity::status::Role;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const WALLET: &str = "query($f: UUID!) { wallet(freelancerId: $f) { balance pendingBalance availableBalance available \
    fundsHold fundsHoldIsOwn transactions(first: 5) { kind amount availableAt } } }";
const SET_HOLD: &str = "mutation($i: SetFundsHoldInput!) { setFundsHold(input: $i) { fundsHold fundsHoldIsOwn } }";
const APPROVE: &str = "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { status } }";
const RELEASES: &str = "{ journal(filter: { kinds: [FUNDS_RELEASED] }, first: 100) { totalCount \
    nodes { createdAt lines { account amount } } } }";

async fn wallet(app: &TestApp, f: Uuid) -> Value {
    app.gql_ok(&app.admin(), WALLET, json!({ "f": f })).await["wallet"].clone()
}

/// Waits until nothing of `f`'s balance is pending any more.
async fn until_available(app: &TestApp, f: Uuid) -> Value {
    for _ in 0..150 {
        let w = wallet(app, f).await;
        if w["pendingBalance"] == "0.00" {
            return w;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the credits of {f} never became available: {}", wallet(app, f).await);
}

async fn set_hold(app: &TestApp, f: Uuid, hold: Value) -> Value {
    let i = json!({ "freelancerId": f, "hold": hold, "reason": "new account, chargeback risk" });
    app.gql(Some(&app.admin()), SET_HOLD, json!({ "i": i })).await
}

#[tokio::test]
async fn a_held_credit_waits_and_payouts_see_only_what_is_available() {
    let app = TestApp::spawn_with(|c| c.funds_hold = Duration::from_secs(2)).await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let w = wallet(&app, f).await;
    assert_eq!(
        (w["balance"].as_str(), w["pendingBalance"].as_str(), w["availableBalance"].as_str(), w["available"].as_str()),
        (Some("900.00"), Some("900.00"), Some("0.00"), Some("0.00")),
        "{w}"
    );
    assert_eq!(w["fundsHold"], "2s");
    let available_at = w["transactions"][0]["availableAt"].as_str().expect("the credit says when").to_owned();
    let refused = app.request_payout(f, "100.00").await;
    assert_eq!(code(&refused), "RESERVE_VIOLATION", "{refused}");
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("900.00 INR of the balance is still pending"), "{message}");
    assert!(message.contains(&format!("900.00 INR becomes available at {}", &available_at[..19])), "{message}");
    let entry =
        app.gql_ok(&app.admin(), "{ journal(first: 1) { nodes { lines { account amount } } } }", json!({})).await;
    assert_eq!(entry["journal"]["nodes"][0]["lines"][0], json!({ "account": "WALLET_PENDING", "amount": "900.00" }));

    let w = until_available(&app, f).await;
    assert_eq!((w["balance"].as_str(), w["availableBalance"].as_str()), (Some("900.00"), Some("900.00")));
    let releases = app.gql_ok(&app.admin(), RELEASES, json!({})).await;
    assert_eq!(releases["journal"]["totalCount"], 1, "{releases}");
    let released = &releases["journal"]["nodes"][0];
    assert!(
        released["createdAt"].as_str().unwrap() >= available_at.as_str(),
        "never early: {released} vs {available_at}"
    );
    let lines = &released["lines"];
    assert_eq!(
        lines,
        &json!([{ "account": "WALLET_PENDING", "amount": "-900.00" }, { "account": "WALLET", "amount": "900.00" }])
    );
    let asked = app.request_payout(f, "100.00").await;
    assert_eq!(asked["data"]["requestPayout"]["status"], "PENDING", "{asked}");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn an_admin_sets_one_wallets_hold_and_only_that_wallet_waits() {
    let app = TestApp::spawn().await;
    let (f, g) = (Uuid::new_v4(), Uuid::new_v4());
    app.fund(f, "100.00").await;
    let set = set_hold(&app, f, json!("1h")).await;
    assert_eq!(set["data"]["setFundsHold"], json!({ "fundsHold": "1h", "fundsHoldIsOwn": true }), "{set}");
    app.fund(f, "1000.00").await;
    app.fund(g, "1000.00").await;
    let (wf, wg) = (wallet(&app, f).await, wallet(&app, g).await);
    assert_eq!((wf["balance"].as_str(), wf["pendingBalance"].as_str()), (Some("990.00"), Some("900.00")), "{wf}");
    assert_eq!(wf["transactions"][1]["availableAt"], Value::Null, "the credit from before the hold was at once");
    assert_eq!((wg["pendingBalance"].as_str(), wg["fundsHold"].as_str()), (Some("0.00"), Some("0s")), "{wg}");

    let audit = "{ auditLog(filter: { action: \"funds.hold_set\" }) { nodes { reason before after } } }";
    let d = app.gql_ok(&app.admin(), audit, json!({})).await;
    let entry = &d["auditLog"]["nodes"][0];
    assert_eq!(entry["reason"], "new account, chargeback risk");
    assert_eq!(entry["after"]["fundsHold"], "1h", "{entry}");

    let me = app.token(Role::Freelancer, f);
    let i = json!({ "freelancerId": f, "hold": "0s", "reason": "mine" });
    assert_eq!(code(&app.gql(Some(&me), SET_HOLD, json!({ "i": i })).await), "FORBIDDEN");
    for (hold, says) in [("soon", "not a duration"), ("400d", "366 days")] {
        let body = set_hold(&app, f, json!(hold)).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(says), "{body}");
    }
    let back = set_hold(&app, f, Value::Null).await;
    assert_eq!(back["data"]["setFundsHold"], json!({ "fundsHold": "0s", "fundsHoldIsOwn": false }), "{back}");
    assert_eq!(wallet(&app, f).await["pendingBalance"], "900.00", "a pending credit keeps its time");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn fifty_approvals_racing_the_releases_on_two_instances_never_break_the_reserve() {
    let app = TestApp::spawn().await;
    let second = app.spawn_second().await;
    let f = Uuid::new_v4();
    app.fund(f, "6000.00").await;
    let mut ids = Vec::new();
    for _ in 0..50 {
        let asked = app.request_payout(f, "100.00").await;
        ids.push(asked["data"]["requestPayout"]["id"].as_str().unwrap_or_else(|| panic!("{asked}")).to_owned());
    }
    let adjust = "mutation($i: AdjustLedgerInput!) { adjustLedger(input: $i) { amount } }";
    let i = json!({ "freelancerId": f, "amount": "-2000.00", "reason": "clawback" });
    app.gql_ok(&app.admin(), adjust, json!({ "i": i })).await;
    assert_eq!(set_hold(&app, f, json!("2s")).await["data"]["setFundsHold"]["fundsHold"], "2s");
    for _ in 0..3 {
        app.fund(f, "1000.00").await;
    }
    // 3400.00 available and 2700.00 pending: without the releases only 33 of the 50 payouts fit above the reserve.
    let w = wallet(&app, f).await;
    assert_eq!((w["availableBalance"].as_str(), w["pendingBalance"].as_str()), (Some("3400.00"), Some("2700.00")));
    let mut left = ids.clone();
    let mut refusals = Vec::new();
    for _ in 0..60 {
        let tries =
            left.iter().enumerate().map(|(n, id)| {
                let server = if n % 2 == 0 { &app } else { &second };
                let admin = app.admin();
                async move {
                    (id.clone(), server.gql(Some(&admin), APPROVE, json!({ "i": { "payoutRequestId": id } })).await)
                }
            });
        let answers = futures_util::future::join_all(tries).await;
        left.clear();
        for (id, answer) in answers {
            if answer["data"]["approvePayout"]["status"] == "PAID" {
                continue;
            }
            assert_eq!(code(&answer), "RESERVE_VIOLATION", "{answer}");
            refusals.push(answer["errors"][0]["message"].as_str().unwrap().to_owned());
            left.push(id);
        }
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(left.is_empty(), "{} payouts were never approved: {:?}", left.len(), refusals.last());
    assert!(!refusals.is_empty(), "some approvals came before the releases");
    assert!(refusals.iter().all(|r| r.contains("still pending") || r.contains("available balance")), "{refusals:?}");
    let w = until_available(&app, f).await;
    assert_eq!((w["balance"].as_str(), w["availableBalance"].as_str()), (Some("1100.00"), Some("1100.00")), "{w}");
    let releases = app.gql_ok(&app.admin(), RELEASES, json!({})).await;
    assert_eq!(releases["journal"]["totalCount"], 3, "each credit released once: {releases}");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}
