//! Disputes (chargebacks): Cashfree's dispute webhooks are verified, recorded and deduplicated like payment
//! webhooks; an opened dispute holds the money from the freelancer's wallet, won gives it back, lost is final (the
//! fee policy decides who bears the platform's fee on it); a refund and a dispute never take the same money twice;
//! the races with approvals and duplicate deliveries leave the books whole.

use crate::helpers::*;
use entity::status::Role;
use serde_json::{json, Value};
use uuid::Uuid;

const DISPUTES: &str = "query($f: DisputeFilter) { disputes(filter: $f) { totalCount nodes { cfDisputeId status \
    cfStatus type amount held currency reason respondBy closedAt } } }";
const ALERTS: &str = "{ alerts(first: 50) { nodes { kind severity message } } }";

/// A dispute webhook as Cashfree sends it (`amount` a JSON number).
fn dispute_body(kind: &str, order: &str, dispute_id: &str, status: &str, amount: &str) -> String {
    json!({
        "data": {
            "dispute": { "dispute_id": dispute_id, "dispute_type": "CHARGEBACK", "reason_code": "4855",
                         "reason_description": "Goods or services not provided",
                         "dispute_amount": serde_json::from_str::<Value>(amount).unwrap(),
                         "respond_by": "2026-12-20T23:59:59+05:30", "dispute_status": status },
            "order_details": { "order_id": order, "order_currency": "INR", "cf_payment_id": "77" },
        },
        "event_time": "2026-12-06T10:00:00+05:30",
        "type": kind,
    })
    .to_string()
}

/// The kinds of the alerts raised so far, newest first.
async fn alert_kinds(app: &TestApp) -> Vec<(String, String)> {
    let d = app.gql_ok(&app.admin(), ALERTS, json!({})).await;
    let nodes = d["alerts"]["nodes"].as_array().unwrap().iter();
    nodes.map(|a| (a["kind"].as_str().unwrap().to_owned(), a["severity"].as_str().unwrap().to_owned())).collect()
}

async fn disputes(app: &TestApp) -> Value {
    app.gql_ok(&app.admin(), DISPUTES, json!({})).await["disputes"].clone()
}

#[tokio::test]
async fn a_dispute_holds_the_money_below_zero_and_winning_gives_it_back() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    let order = format!("ord_{}", f.simple());
    let (answer, dispute_id) = double.open_dispute(&order, "1000.00").await.unwrap();
    assert_eq!(answer, 200);
    assert_eq!(app.balance(f).await, "-100.00", "the whole disputed amount left the wallet");
    let d = disputes(&app).await;
    let opened = &d["nodes"][0];
    assert_eq!(
        (opened["status"].as_str(), opened["held"].as_str(), opened["type"].as_str()),
        (Some("OPEN"), Some("1000.00"), Some("CHARGEBACK")),
        "{d}"
    );
    assert_eq!(opened["cfDisputeId"], dispute_id.as_str());
    assert!(opened["respondBy"].is_string(), "{opened}");
    let kinds = alert_kinds(&app).await;
    assert!(kinds.contains(&("dispute_opened".into(), "WARNING".into())), "{kinds:?}");
    assert!(kinds.contains(&("wallet_overdrawn".into(), "CRITICAL".into())), "{kinds:?}");
    assert_eq!(app.accounts().await["DISPUTED_FUNDS"], "1000.00");
    let q = "query($o: String) { payments(filter: { orderId: $o }) { nodes { disputedAmount disputes { status } } } }";
    let p = app.gql_ok(&app.admin(), q, json!({ "o": order })).await;
    assert_eq!(p["payments"]["nodes"][0]["disputedAmount"], "1000.00", "{p}");
    assert_eq!(p["payments"]["nodes"][0]["disputes"][0]["status"], "OPEN");
    assert_eq!(code(&app.request_payout(f, "10.00").await), "RESERVE_VIOLATION", "no payout until covered");

    assert_eq!(double.move_dispute(&dispute_id, "CHARGEBACK_UNDER_REVIEW").await, Ok(200));
    assert_eq!(app.balance(f).await, "-100.00", "an update moves nothing");
    assert_eq!(double.move_dispute(&dispute_id, "CHARGEBACK_MERCHANT_WON").await, Ok(200));
    assert_eq!(app.balance(f).await, "900.00");
    let won = disputes(&app).await;
    assert_eq!(won["nodes"][0]["status"], "WON", "{won}");
    assert!(won["nodes"][0]["closedAt"].is_string());
    assert_eq!(app.accounts().await["DISPUTED_FUNDS"], "0.00");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn a_lost_dispute_is_final_and_the_fee_policy_decides_who_bears_the_fee() {
    for (policy, wallet_after, fee_revenue) in [("keep", "400.00", "100.00"), ("return", "450.00", "50.00")] {
        let (app, double) = spawn_with_double(|c| c.dispute_fee_policy = policy.into()).await;
        let f = funded_freelancer(&app, &double).await;
        let order = format!("ord_{}", f.simple());
        let (_, dispute_id) = double.open_dispute(&order, "500.00").await.unwrap();
        assert_eq!(app.balance(f).await, "400.00", "{policy}");
        assert_eq!(double.move_dispute(&dispute_id, "CHARGEBACK_MERCHANT_LOST").await, Ok(200));
        assert_eq!(app.balance(f).await, wallet_after, "{policy}");
        let b = app.accounts().await;
        assert_eq!(b["FEE_REVENUE"], fee_revenue, "{policy}: {b:?}");
        assert_eq!(b["DISPUTED_FUNDS"], "0.00", "{policy}");
        assert_eq!(b["GATEWAY_CLEARING"], "500.00", "{policy}: Cashfree gave 500.00 of the 1000.00 back to the client");
        assert_eq!(disputes(&app).await["nodes"][0]["status"], "LOST");
        // A late word that the merchant won changes nothing: lost is final.
        assert_eq!(double.move_dispute(&dispute_id, "CHARGEBACK_MERCHANT_WON").await, Ok(200));
        assert_eq!(app.balance(f).await, wallet_after, "{policy}");
        assert_eq!(disputes(&app).await["nodes"][0]["status"], "LOST");
        let (clean, report) = app.reconcile();
        assert!(clean, "{policy}: {report}");
    }
}

#[tokio::test]
async fn a_dispute_on_a_refunded_payment_never_takes_the_same_money_twice_and_is_critical() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let order = app.fund(f, "1000.00").await;
    let (status, reply) = app.deliver_signed(&refund_body(&order, "rf_600", "600.00", "INR")).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
    assert_eq!(app.balance(f).await, "360.00", "900.00 less the 540.00 share of the refund");
    let body = dispute_body("DISPUTE_CREATED", &order, "9001", "CHARGEBACK_CREATED", "1000.00");
    let (status, reply) = app.deliver_signed(&body).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
    let d = disputes(&app).await;
    assert_eq!((d["nodes"][0]["amount"].as_str(), d["nodes"][0]["held"].as_str()), (Some("1000.00"), Some("400.00")));
    assert_eq!(app.balance(f).await, "-40.00", "only the 400.00 not refunded left the wallet");
    let kinds = alert_kinds(&app).await;
    assert!(kinds.contains(&("dispute_on_refunded".into(), "CRITICAL".into())), "{kinds:?}");
    // Refunds and the dispute now hold the whole payment: one more refund is refused, and says why.
    let (status, reply) = app.deliver_signed(&refund_body(&order, "rf_100", "100.00", "INR")).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("FAILED")), "{reply}");
    assert!(reply["message"].as_str().unwrap().contains("400.00 held by disputes"), "{reply}");
    let lost = dispute_body("DISPUTE_CLOSED", &order, "9001", "CHARGEBACK_MERCHANT_LOST", "1000.00");
    assert_eq!(app.deliver_signed(&lost).await.0, 200);
    let b = app.accounts().await;
    assert_eq!(b["DISPUTE_LOSSES"], "600.00", "what no wallet covered is the platform's own loss: {b:?}");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn duplicate_dispute_webhooks_in_parallel_move_the_money_once() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let order = app.fund(f, "1000.00").await;
    let body = dispute_body("DISPUTE_CREATED", &order, "9002", "CHARGEBACK_CREATED", "300.00");
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let headers = [("x-webhook-timestamp", ts.clone()), ("x-webhook-signature", sign(CF_SECRET, &ts, &body))];
    let sends = (0..10).map(|_| app.deliver(&body, &headers));
    let answers = futures_util::future::join_all(sends).await;
    let outcomes: Vec<&str> = answers
        .iter()
        .map(|(s, r)| {
            assert_eq!(*s, 200, "{r}");
            r["outcome"].as_str().unwrap()
        })
        .collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "PROCESSED").count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| **o == "DUPLICATE").count(), 9, "{outcomes:?}");
    assert_eq!(app.balance(f).await, "600.00");
    let q = "{ journal(filter: { kinds: [DISPUTE_OPENED] }) { totalCount } }";
    assert_eq!(app.gql_ok(&app.admin(), q, json!({})).await["journal"]["totalCount"], 1);
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn a_dispute_racing_a_payout_of_the_same_money_leaves_the_books_whole() {
    const APPROVE: &str = "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { status } }";
    for round in 0..3 {
        let app = TestApp::spawn().await;
        let f = Uuid::new_v4();
        let order = app.fund(f, "1000.00").await;
        let id = app.request_payout(f, "800.00").await["data"]["requestPayout"]["id"].as_str().unwrap().to_owned();
        let body = dispute_body("DISPUTE_CREATED", &order, &format!("93{round}"), "CHARGEBACK_CREATED", "1000.00");
        let admin = app.admin();
        let (approved, (status, reply)) = tokio::join!(
            app.gql(Some(&admin), APPROVE, json!({ "i": { "payoutRequestId": id } })),
            app.deliver_signed(&body)
        );
        assert_eq!((status, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
        let balance = app.balance(f).await;
        if approved["data"]["approvePayout"]["status"] == "PAID" {
            assert_eq!(balance, "-900.00", "paid first, then disputed: {approved}");
            let kinds = alert_kinds(&app).await;
            assert!(kinds.contains(&("wallet_overdrawn".into(), "CRITICAL".into())), "{kinds:?}");
        } else {
            assert_eq!(code(&approved), "RESERVE_VIOLATION", "{approved}");
            assert_eq!(balance, "-100.00", "disputed first: the payout was refused");
        }
        let (clean, report) = app.reconcile();
        assert!(clean, "{report}");
    }
}

#[tokio::test]
async fn disputes_are_scoped_to_their_freelancer_and_a_malformed_one_books_nothing() {
    let app = TestApp::spawn().await;
    let (f, g) = (Uuid::new_v4(), Uuid::new_v4());
    let order = app.fund(f, "1000.00").await;
    app.fund(g, "1000.00").await;
    let body = dispute_body("DISPUTE_CREATED", &order, "9100", "DISPUTE_CREATED", "100.00");
    assert_eq!(app.deliver_signed(&body).await.0, 200);
    let mine = app.gql_ok(&app.token(Role::Freelancer, f), DISPUTES, json!({})).await;
    assert_eq!(mine["disputes"]["totalCount"], 1);
    let theirs = app.gql_ok(&app.token(Role::Freelancer, g), DISPUTES, json!({})).await;
    assert_eq!(theirs["disputes"]["totalCount"], 0, "another freelancer's dispute is not theirs to see");
    let won = app.gql_ok(&app.admin(), DISPUTES, json!({ "f": { "status": ["WON"] } })).await;
    assert_eq!(won["disputes"]["totalCount"], 0);

    for (amount, says) in [("0", "greater than zero"), ("-5.00", "greater than zero"), ("1.005", "decimal places")] {
        let body = dispute_body("DISPUTE_CREATED", &order, "9101", "CHARGEBACK_CREATED", amount);
        let (status, reply) = app.deliver_signed(&body).await;
        assert_eq!((status, reply["outcome"].as_str()), (400, Some("MALFORMED")), "{amount}: {reply}");
        assert!(reply["error"]["message"].as_str().unwrap().contains(says), "{amount}: {reply}");
    }
    let body = dispute_body("DISPUTE_CREATED", "no_such_order", "9102", "CHARGEBACK_CREATED", "10.00");
    assert_eq!(app.deliver_signed(&body).await.1["outcome"], "UNMATCHED");
    assert_eq!(app.balance(f).await, "800.00", "only the one good dispute moved money");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}
