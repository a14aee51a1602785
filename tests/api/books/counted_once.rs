//! Money counted once, in any order Cashfree speaks: a refund Cashfree makes slowly is never undone by a look-up
//! that races its creation, a refund Cashfree pays after paydesk gave up on it is booked (and loud), a refund
//! webhook without paydesk's own id still finds the refund started here, a decided dispute is not reopened by a
//! late report, a settlement books each Cashfree payment once (matched by that payment, never by its order), and
//! every entry that books a step of a Cashfree object names it, so the database itself refuses a second.

use crate::helpers::*;
use cashfree_double::Fault;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const REFUND: &str = "mutation($i: CreateRefundInput!) { createRefund(input: $i) { refundId status } }";
const PAYMENT: &str = "query($o: String!) { payments(filter: { orderIdPrefix: $o }) { nodes { id status \
    refundedAmount refundingAmount refunds { refundId status } } } }";
const ALERTS: &str = "{ alerts(first: 50) { nodes { kind severity message } } }";
const DISPUTES: &str = "{ disputes { nodes { cfDisputeId status held } } }";
const RECONCILE: &str =
    "mutation($i: ReconcileSettlementsInput!) { reconcileSettlements(input: $i) { fetched recorded discrepancies } }";
const LINES: &str = "query($f: DateTime!, $t: DateTime!) { settlementReconciliation(from: $f, to: $t) { lines { \
    orderId cfPaymentId status } } }";

async fn payment(app: &TestApp, order: &str) -> Value {
    app.gql_ok(&app.admin(), PAYMENT, json!({ "o": order })).await["payments"]["nodes"][0].clone()
}

async fn alerts_of(app: &TestApp, kind: &str) -> Vec<Value> {
    let d = app.gql_ok(&app.admin(), ALERTS, json!({})).await;
    d["alerts"]["nodes"].as_array().unwrap().iter().filter(|a| a["kind"] == kind).cloned().collect()
}

/// A freelancer paid 1000.00 (900.00 net) through the double: the freelancer, the order and its payment.
async fn paid(app: &TestApp, double: &cashfree_double::Double) -> (Uuid, String, Value) {
    let f = funded_freelancer(app, double).await;
    let order = format!("ord_{}", f.simple());
    let p = payment(app, &order).await;
    (f, order, p)
}

/// The order's refund of 100.00 SUCCEEDED and was booked once: the wallet at 810.00.
async fn refunded_once(app: &TestApp, f: Uuid, order: &str, why: &str) {
    let now = payment(app, order).await;
    assert_eq!(
        (now["refunds"][0]["status"].as_str(), now["refundedAmount"].as_str()),
        (Some("SUCCEEDED"), Some("100.00"))
    );
    assert_eq!(app.balance(f).await, "810.00", "{why}");
}

/// Cashfree's REFUND_STATUS_WEBHOOK saying the refund `made` (as the double holds it) was paid, without paydesk's
/// `refund_id`: Cashfree knows the refund by its own id.
fn paid_without_our_id(made: &Value) -> String {
    let mut refund = made.clone();
    refund["refund_status"] = json!("SUCCESS");
    refund.as_object_mut().unwrap().remove("refund_id");
    json!({ "data": { "refund": refund }, "event_time": chrono::Utc::now().to_rfc3339(), "type": "REFUND_STATUS_WEBHOOK" })
        .to_string()
}

async fn refund(app: &TestApp, payment_id: &Value, amount: &str) -> Value {
    let i = json!({ "paymentId": payment_id, "amount": amount, "reason": "work not delivered" });
    app.gql_ok(&app.admin(), REFUND, json!({ "i": i })).await["createRefund"].clone()
}

#[tokio::test]
async fn a_refund_cashfree_makes_slowly_is_never_undone_by_a_racing_look_up() {
    let (app, double) = spawn_with_double(|c| {
        c.transfer_poll_secs = 1;
        c.cashfree_timeout_ms = 8_000;
    })
    .await;
    let (f, order, p) = paid(&app, &double).await;
    // Cashfree takes 4 s to answer Create Refund: the sweep (every second, after 2 s quiet) asks meanwhile and
    // hears 404, since Cashfree has not made it yet.
    double.fail_next("/pg/orders/", Fault::Delay(Duration::from_secs(4)), 1);
    let started = refund(&app, &p["id"], "100.00").await;
    assert!(double.calls(&format!("GET /pg/orders/{order}/refunds/")) > 0, "the sweep raced the create call");
    assert_eq!(started["status"], "PENDING", "{started}");
    assert_eq!(payment(&app, &order).await["refunds"][0]["status"], "PENDING", "not undone while in flight");
    assert_eq!(double.complete_refund(started["refundId"].as_str().unwrap(), "SUCCESS").await, Ok(200));
    refunded_once(&app, f, &order, "the freelancer's share of the refund, once").await;
    assert_books_whole(&app);
}

#[tokio::test]
async fn a_refund_cashfree_pays_after_paydesk_gave_up_is_booked_and_critical() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let (f, order, p) = paid(&app, &double).await;
    let started = refund(&app, &p["id"], "100.00").await;
    let id = started["refundId"].as_str().unwrap();
    assert_eq!(double.complete_refund(id, "FAILED").await, Ok(200));
    assert_eq!(app.balance(f).await, "900.00", "given back");
    assert_eq!(double.complete_refund(id, "SUCCESS").await, Ok(200));
    refunded_once(&app, f, &order, "the money left: the books follow").await;
    let loud = alerts_of(&app, "refund_paid_after_failure").await;
    assert_eq!((loud.len(), loud[0]["severity"].as_str()), (1, Some("CRITICAL")), "{loud:?}");
    assert_books_whole(&app);
}

#[tokio::test]
async fn a_refund_webhook_without_paydesks_id_settles_the_refund_started_here_once() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let (f, order, p) = paid(&app, &double).await;
    let started = refund(&app, &p["id"], "100.00").await;
    let id = started["refundId"].as_str().unwrap();
    // Cashfree's webhook for it, but without our refund_id (Cashfree knows the refund by its own id).
    let made = double.refund(id).expect("Cashfree made it");
    let (status, reply) = app.deliver_signed(&paid_without_our_id(&made)).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
    assert_eq!(double.complete_refund(id, "SUCCESS").await, Ok(200), "the same, with our id: a duplicate");
    refunded_once(&app, f, &order, "debited once").await;
    assert_books_whole(&app);
}

#[tokio::test]
async fn a_decided_dispute_is_not_reopened_by_a_late_report_only_by_arbitration() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    let order = format!("ord_{}", f.simple());
    let (_, dispute) = double.open_dispute(&order, "300.00").await.unwrap();
    assert_eq!(double.move_dispute(&dispute, "CHARGEBACK_MERCHANT_WON").await, Ok(200));
    assert_eq!(app.balance(f).await, "900.00");
    // Delayed deliveries of earlier steps, each under a key of its own.
    for (kind, status) in [("DISPUTE_UPDATED", "CHARGEBACK_UNDER_REVIEW"), ("DISPUTE_CREATED", "CHARGEBACK_CREATED")] {
        let mut late = double.dispute_webhook(kind, &dispute).unwrap();
        late["data"]["dispute"]["dispute_status"] = json!(status);
        let (code, reply) = app.deliver_signed(&late.to_string()).await;
        assert_eq!((code, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
    }
    assert_eq!(app.balance(f).await, "900.00", "nothing held again");
    let d = app.gql_ok(&app.admin(), DISPUTES, json!({})).await;
    assert_eq!(
        (d["disputes"]["nodes"][0]["status"].as_str(), d["disputes"]["nodes"][0]["held"].as_str()),
        (Some("WON"), Some("300.00"))
    );
    // The client's bank contests the decision: pre-arbitration reopens it.
    assert_eq!(double.move_dispute(&dispute, "PRE_ARBITRATION_CREATED").await, Ok(200));
    assert_eq!(app.balance(f).await, "600.00", "held again for pre-arbitration");
    assert_books_whole(&app);
}

#[tokio::test]
async fn a_settlement_books_each_cashfree_payment_once_and_never_by_its_order() {
    let (app, double) = spawn_with_double(|c| c.settlement_grace = Duration::from_secs(3600)).await;
    let f = Uuid::new_v4();
    let order = format!("ord_{}", Uuid::new_v4().simple());
    let q = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id } }";
    let i = json!({ "freelancerId": f, "amount": "1000.00", "orderId": order, "customerPhone": "9999912345" });
    app.gql_ok(&app.admin(), q, json!({ "i": i })).await;
    assert_eq!(double.pay(&order, "SUCCESS").await, Ok(200));
    assert_eq!(double.pay(&order, "SUCCESS").await, Ok(200), "the client is charged twice");
    double.settle_again(&order).unwrap();
    // A payment refunded in full and then settled was still paid.
    let (refunded_f, refunded) = (Uuid::new_v4(), format!("ord_{}", Uuid::new_v4().simple()));
    let i =
        json!({ "freelancerId": refunded_f, "amount": "500.00", "orderId": refunded, "customerPhone": "9999912345" });
    app.gql_ok(&app.admin(), q, json!({ "i": i })).await;
    assert_eq!(double.pay(&refunded, "SUCCESS").await, Ok(200));
    assert_eq!(app.deliver_signed(&refund_body(&refunded, &rand_digits(), "500.00", "INR")).await.0, 200);
    assert_eq!(payment(&app, &refunded).await["status"], "REFUNDED");
    let now = chrono::Utc::now();
    let window = json!({ "from": (now - chrono::Duration::days(1)).to_rfc3339(), "to": (now + chrono::Duration::hours(1)).to_rfc3339() });
    app.gql_ok(&app.admin(), RECONCILE, json!({ "i": window })).await;
    let lines = app.gql_ok(&app.admin(), LINES, json!({ "f": window["from"], "t": window["to"] })).await;
    let mut seen: Vec<(String, String)> = lines["settlementReconciliation"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["orderId"].as_str().unwrap().to_owned(), l["status"].as_str().unwrap().to_owned()))
        .collect();
    seen.sort();
    let mut expected = vec![
        (order.clone(), "MATCHED".to_owned()),
        (order.clone(), "MISSING_HERE".to_owned()),
        (order.clone(), "SETTLED_TWICE".to_owned()),
        (refunded.clone(), "MATCHED".to_owned()),
    ];
    expected.sort();
    assert_eq!(seen, expected, "{lines}");
    let entries = "query($k: JournalEntryKind!) { journal(first: 50, filter: { kinds: [$k] }) { totalCount } }";
    let d = app.gql_ok(&app.admin(), entries, json!({ "k": "SETTLEMENT" })).await;
    assert_eq!(d["journal"]["totalCount"], 2, "one settlement per payment paydesk credited");
    assert_books_whole(&app);
}

#[tokio::test]
async fn reconcile_finds_a_payment_settled_twice_and_a_refund_booked_twice() {
    let (app, double) = spawn_with_double(|c| c.settlement_grace = Duration::from_secs(3600)).await;
    let (_, order, p) = paid(&app, &double).await;
    let started = refund(&app, &p["id"], "100.00").await;
    let id = started["refundId"].as_str().unwrap();
    assert_eq!(double.complete_refund(id, "SUCCESS").await, Ok(200));
    let now = chrono::Utc::now();
    let window = json!({ "from": (now - chrono::Duration::days(1)).to_rfc3339(), "to": (now + chrono::Duration::hours(1)).to_rfc3339() });
    app.gql_ok(&app.admin(), RECONCILE, json!({ "i": window })).await;
    assert_books_whole(&app);
    // As an old database (or someone with write access) could hold them: the payment's settlement booked a second
    // time (the unique index dropped first), and Cashfree's refund booked again under Cashfree's own id.
    let at = |n: usize| if on_postgres() { format!("${n}") } else { "?".to_owned() };
    let copy = format!(
        "INSERT INTO settlement_lines (id, event_id, status, cf_settlement_id, settlement_utr, settled_at, \
         cf_payment_id, order_id, payment_id, paid_at, currency, amount, expected_amount, settled_amount, \
         service_charge, service_tax, detail, journal_entry_id, created_at) \
         SELECT {}, 'forged_PAYMENT', status, cf_settlement_id, settlement_utr, settled_at, cf_payment_id, order_id, \
         payment_id, paid_at, currency, amount, expected_amount, settled_amount, service_charge, service_tax, detail, \
         journal_entry_id, created_at FROM settlement_lines WHERE journal_entry_id IS NOT NULL",
        at(1)
    );
    let cf = double.refund(id).unwrap()["cf_refund_id"].as_str().unwrap().to_owned();
    let entry = Uuid::new_v4();
    let forged = format!(
        "INSERT INTO journal_entries (id, kind, reference, payment_id, payout_request_id, description, created_at) \
         VALUES ({}, 'refund', {}, NULL, NULL, 'refund to the client', {})",
        at(1),
        at(2),
        at(3)
    );
    let lines = format!(
        "INSERT INTO journal_postings (entry_id, line, account, wallet_id, currency, amount) \
         VALUES ({}, 1, 'fee_revenue', NULL, 'INR', -10000), ({}, 2, 'gateway_clearing', NULL, 'INR', 10000)",
        at(1),
        at(2)
    );
    tamper_all(
        &app,
        &[
            ("DROP INDEX ux_settlement_lines_booked_payment", vec![]),
            (&copy, vec![Uuid::new_v4().into()]),
            (&forged, vec![entry.into(), format!("refund:{cf}").into(), chrono::Utc::now().into()]),
            (&lines, vec![entry.into(), entry.into()]),
        ],
    )
    .await;
    let (clean, report) = app.reconcile();
    assert!(!clean, "{report}");
    assert!(report.contains(&format!("payment {order}: settlement booked 2 time(s)")), "{report}");
    assert!(
        report.contains(&format!("refund {id}: Cashfree's refund {cf} is booked as started here and again")),
        "{report}"
    );
}

#[tokio::test]
async fn a_dispute_of_more_than_was_paid_books_nothing() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    let order = format!("ord_{}", f.simple());
    let (answer, _) = double.open_dispute(&order, "5000.00").await.unwrap();
    assert_eq!(answer, 200, "taken, not refused: Cashfree signed it");
    assert_eq!(app.balance(f).await, "900.00", "nothing held");
    let unmatched = alerts_of(&app, "webhook_unmatched").await;
    assert!(unmatched.iter().any(|a| a["message"].as_str().unwrap().contains("was paid 1000.00")), "{unmatched:?}");
    let d = app.gql_ok(&app.admin(), DISPUTES, json!({})).await;
    assert_eq!(d["disputes"]["nodes"].as_array().unwrap().len(), 0, "{d}");
    assert_books_whole(&app);
}

#[tokio::test]
async fn a_delivery_with_another_deliverys_key_is_taken_by_what_it_says_and_is_critical() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let (first, second) = (format!("ord_{}", Uuid::new_v4().simple()), format!("ord_{}", Uuid::new_v4().simple()));
    app.create_order(f, "1000.00", &first).await;
    app.create_order(f, "500.00", &second).await;
    let keyed = |body: String| {
        let app = &app;
        async move {
            let ts = chrono::Utc::now().timestamp_millis().to_string();
            let headers = [
                ("x-webhook-signature", sign(CF_SECRET, &ts, &body)),
                ("x-webhook-timestamp", ts),
                ("x-idempotency-key", "whk_shared_key".to_owned()),
            ];
            app.deliver(&body, &headers).await
        }
    };
    let paid = payment_body("PAYMENT_SUCCESS_WEBHOOK", &first, &rand_digits(), "SUCCESS", "1000.00");
    assert_eq!(keyed(paid.clone()).await.1["outcome"], "PROCESSED");
    assert_eq!(keyed(paid).await.1["outcome"], "DUPLICATE", "Cashfree's retry of the same event");
    assert!(alerts_of(&app, "webhook_key_reused").await.is_empty());
    // Another event under the same key: not dropped, and someone is told.
    let other = payment_body("PAYMENT_SUCCESS_WEBHOOK", &second, &rand_digits(), "SUCCESS", "500.00");
    let (status, reply) = keyed(other).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
    assert_eq!(app.balance(f).await, "1350.00", "both payments credited");
    let loud = alerts_of(&app, "webhook_key_reused").await;
    assert_eq!((loud.len(), loud[0]["severity"].as_str()), (1, Some("CRITICAL")), "{loud:?}");
    assert_books_whole(&app);
}

const NAMED: &str = "query($p: String!) { journal(filter: { providerObjectPrefix: $p }) { nodes { kind reference \
    providerObject } } }";

/// The entries naming a provider object that begins with `prefix`: (kind, provider object), oldest first.
async fn named(app: &TestApp, prefix: &str) -> Vec<(String, String)> {
    let d = app.gql_ok(&app.admin(), NAMED, json!({ "p": prefix })).await;
    let mut found: Vec<(String, String)> = d["journal"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_owned(), e["providerObject"].as_str().unwrap().to_owned()))
        .collect();
    found.sort();
    found
}

#[tokio::test]
async fn each_step_of_a_cashfree_object_is_named_and_the_database_books_it_once() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let (f, order, p) = paid(&app, &double).await;
    let started = refund(&app, &p["id"], "100.00").await;
    let id = started["refundId"].as_str().unwrap().to_owned();
    assert_eq!(double.complete_refund(&id, "SUCCESS").await, Ok(200));
    refunded_once(&app, f, &order, "booked once").await;
    let made = double.refund(&id).expect("Cashfree made it");
    let cf = made["cf_refund_id"].as_str().unwrap().to_owned();
    let captured = named(&app, "cf_payment_id:").await;
    assert_eq!(captured.len(), 1, "{captured:?}");
    assert!(captured[0].0 == "PAYMENT_RECEIVED" && captured[0].1.ends_with(":captured"), "{captured:?}");
    assert_eq!(
        named(&app, &format!("refund_id:{id}:")).await,
        [("REFUND_STARTED".into(), format!("refund_id:{id}:asked"))]
    );
    let paid_step = format!("cf_refund_id:{cf}:paid");
    assert_eq!(named(&app, &format!("cf_refund_id:{cf}:")).await, [("REFUND_PAID".into(), paid_step.clone())]);
    // Were a path to miss that the refund is booked (here: the refund row made to forget Cashfree's id, so a report
    // without ours looks like one of Cashfree's own), the database refuses the second booking, and says why.
    tamper(&app, "UPDATE refunds SET cf_refund_id = NULL", vec![]).await;
    let (_, reply) = app.deliver_signed(&paid_without_our_id(&made)).await;
    assert_eq!(reply["outcome"], "FAILED", "{reply}");
    let said = reply.to_string();
    assert!(said.contains(&format!("{paid_step} is booked already")), "{said}");
    assert_eq!(app.balance(f).await, "810.00", "not debited again");
    let failed = alerts_of(&app, "webhook_failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(named(&app, &format!("cf_refund_id:{cf}:")).await.len(), 1);
}

#[tokio::test]
async fn reconcile_finds_an_object_booked_twice_more_returned_than_captured_and_stray_disputed_funds() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let (_, order, p) = paid(&app, &double).await;
    assert_books_whole(&app);
    let captured = named(&app, "cf_payment_id:").await[0].1.clone();
    let payment = Uuid::parse_str(p["id"].as_str().unwrap()).unwrap();
    let at = |n: usize| if on_postgres() { format!("${n}") } else { "?".to_owned() };
    let entry = |kind: &str| {
        format!(
            "INSERT INTO journal_entries (id, kind, reference, payment_id, payout_request_id, description, \
             created_at, provider_object) VALUES ({}, '{kind}', {}, {}, NULL, 'forged', {}, {})",
            at(1),
            at(2),
            at(3),
            at(4),
            at(5)
        )
    };
    let lines = |a: &str, b: &str, minor: i64| {
        format!(
            "INSERT INTO journal_postings (entry_id, line, account, wallet_id, currency, amount) \
             VALUES ({}, 1, '{a}', NULL, 'INR', {minor}), ({}, 2, '{b}', NULL, 'INR', {})",
            at(1),
            at(2),
            -minor
        )
    };
    let (lost, held) = (Uuid::new_v4(), Uuid::new_v4());
    let now = || sea_orm::Value::from(chrono::Utc::now());
    let (lost_entry, lost_lines) = (entry("refund"), lines("gateway_clearing", "fee_revenue", 200_000));
    let (held_entry, held_lines) = (entry("dispute_opened"), lines("disputed_funds", "adjustments", 5_000));
    tamper_all(
        &app,
        &[
            // As a database that lost its index (or someone with write access) could hold it: a refund of 2000.00
            // on a 1000.00 payment, naming the payment's capture as its provider object (booked twice).
            ("DROP INDEX ux_journal_entries_provider_object", vec![]),
            (&lost_entry, vec![lost.into(), "forged:1".into(), payment.into(), now(), Some(captured.clone()).into()]),
            (&lost_lines, vec![lost.into(), lost.into()]),
            // And 50.00 in disputed funds that no open dispute holds.
            (&held_entry, vec![held.into(), "forged:2".into(), payment.into(), now(), Option::<String>::None.into()]),
            (&held_lines, vec![held.into(), held.into()]),
        ],
    )
    .await;
    let (clean, report) = app.reconcile();
    assert!(!clean, "{report}");
    assert!(report.contains(&format!("{captured}: booked by 2 journal entries, not one")), "{report}");
    assert!(
        report.contains(&format!(
            "payment {order}: refunds and lost disputes returned 2000.00 to the client (0.00 of it the platform's \
             own dispute losses) of the 1000.00 captured"
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "payment {order}: its entries hold 50.00 in disputed funds, but its open disputes hold 0.00"
        )),
        "{report}"
    );
}
