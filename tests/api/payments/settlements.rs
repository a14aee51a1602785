//! Evidence against Cashfree: its settlements matched to paydesk's payments (each status from the double, booked
//! to the bank in the journal, alerted, reported and exported), the Payouts account's balance guarding approvals,
//! and what funded a payout, down to the settlement UTR.

use crate::helpers::*;
use entity::status::Role;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const RECONCILE: &str =
    "mutation($i: ReconcileSettlementsInput!) { reconcileSettlements(input: $i) { fetched recorded discrepancies } }";
const REPORT: &str = "query($from: DateTime!, $to: DateTime!, $s: [SettlementStatus!]) { \
    settlementReconciliation(from: $from, to: $to, status: $s) { \
      lines { status orderId paymentId amount expectedAmount settledAmount serviceCharge serviceTax settlementUtr detail journalEntryId } \
      totals { currency status count amount settledAmount charges } } }";

fn window() -> Value {
    let now = chrono::Utc::now();
    json!({ "from": (now - chrono::Duration::days(10)).to_rfc3339(), "to": (now + chrono::Duration::hours(1)).to_rfc3339() })
}

/// A paid order of `amount` for a new freelancer; returns (freelancer, order id).
async fn paid(app: &TestApp, double: &cashfree_double::Double, amount: &str) -> (Uuid, String) {
    let f = Uuid::new_v4();
    let order = format!("ord_{}", Uuid::new_v4().simple());
    let q = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id } }";
    let i = json!({ "freelancerId": f, "amount": amount, "orderId": order, "customerPhone": "9999912345" });
    app.gql_ok(&app.admin(), q, json!({ "i": i })).await;
    assert_eq!(double.pay(&order, "SUCCESS").await, Ok(200));
    (f, order)
}

fn line_of<'a>(report: &'a Value, order: &str) -> &'a Value {
    let lines = report["settlementReconciliation"]["lines"].as_array().unwrap();
    lines.iter().find(|l| l["orderId"] == order).unwrap_or_else(|| panic!("no line for {order}: {report}"))
}

#[tokio::test]
async fn each_settlement_status_is_found_booked_alerted_and_exported() {
    // Payments older than the grace are missing at the provider at once.
    let (app, double) = spawn_with_double(|c| {
        c.settlement_grace = Duration::ZERO;
        c.settlement_poll = Duration::ZERO;
    })
    .await;
    let (_, good) = paid(&app, &double, "1000.00").await;
    let (_, short) = paid(&app, &double, "500.00").await;
    let (_, fees) = paid(&app, &double, "200.00").await;
    let (_, unsettled) = paid(&app, &double, "300.00").await;
    double.tweak_settlement(&short, json!({ "amount": "450.00" }));
    double.tweak_settlement(&fees, json!({ "settled": "150.00" }));
    double.tweak_settlement(&unsettled, json!({ "withhold": true }));
    double.foreign_settlement("ord_not_ours", "700.00");

    let ops = app.token(Role::Ops, Uuid::new_v4());
    assert_eq!(code(&app.gql(Some(&ops), RECONCILE, json!({ "i": window() })).await), "FORBIDDEN");
    let run = app.gql_ok(&app.admin(), RECONCILE, json!({ "i": window() })).await;
    assert_eq!(run["reconcileSettlements"], json!({ "fetched": 4, "recorded": 5, "discrepancies": 4 }), "{run}");
    // Again: nothing is recorded twice.
    let again = app.gql_ok(&app.admin(), RECONCILE, json!({ "i": window() })).await;
    assert_eq!(again["reconcileSettlements"], json!({ "fetched": 4, "recorded": 0, "discrepancies": 0 }));

    let w = window();
    let r = app.gql_ok(&ops, REPORT, json!({ "from": w["from"], "to": w["to"] })).await;
    let matched = line_of(&r, &good);
    assert_eq!(matched["status"], "MATCHED", "{matched}");
    // 2% charge and 18% tax on it: 20.00 + 3.60; 976.40 reached the bank.
    assert_eq!((&matched["serviceCharge"], &matched["serviceTax"]), (&json!("20.00"), &json!("3.60")));
    assert_eq!(matched["settledAmount"], "976.40");
    assert!(matched["settlementUtr"].as_str().unwrap().starts_with("SETTLUTR"), "{matched}");
    assert!(matched["journalEntryId"].is_string(), "a settled payment is booked: {matched}");
    let l = line_of(&r, &short);
    assert_eq!(
        (&l["status"], &l["amount"], &l["expectedAmount"]),
        (&json!("AMOUNT_MISMATCH"), &json!("450.00"), &json!("500.00"))
    );
    assert_eq!(line_of(&r, &fees)["status"], "FEE_MISMATCH");
    let l = line_of(&r, &unsettled);
    assert_eq!((&l["status"], &l["settledAmount"]), (&json!("MISSING_AT_PROVIDER"), &json!("0.00")));
    let l = line_of(&r, "ord_not_ours");
    assert_eq!((&l["status"], &l["paymentId"]), (&json!("MISSING_HERE"), &Value::Null));

    // Totals per currency and status.
    let totals = r["settlementReconciliation"]["totals"].as_array().unwrap();
    let t = totals.iter().find(|t| t["status"] == "MATCHED").unwrap();
    assert_eq!(
        (&t["currency"], &t["count"], &t["amount"], &t["charges"]),
        (&json!("INR"), &json!(1), &json!("1000.00"), &json!("23.60"))
    );
    assert_eq!(totals.len(), 5, "{totals:?}");
    // The status filter.
    let only = app.gql_ok(&ops, REPORT, json!({ "from": w["from"], "to": w["to"], "s": ["FEE_MISMATCH"] })).await;
    assert_eq!(only["settlementReconciliation"]["lines"].as_array().unwrap().len(), 1);

    // The books: what reached the bank left gateway clearing; Cashfree's charges are an expense.
    // Charges: 23.60 + 4.72. The bank: 976.40 + 150.00. A settlement of another amount than the payment's is not
    // booked at all (someone must find out why first), so gateway clearing still holds the unsettled 300.00 and
    // the short one's 500.00; the 45.28 of the fee mismatch that no charge explains sits in adjustments.
    let l = line_of(&r, &short);
    assert!(l["journalEntryId"].is_null(), "an amount that is not the payment's is not booked: {l}");
    let accounts = app.accounts().await;
    assert_eq!(accounts["GATEWAY_CHARGES"], "28.32", "{accounts:?}");
    assert_eq!(accounts["BANK"], "1126.40", "{accounts:?}");
    assert_eq!(accounts["GATEWAY_CLEARING"], "800.00", "{accounts:?}");
    assert_eq!(accounts["ADJUSTMENTS"], "45.28", "{accounts:?}");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");

    // One CRITICAL alert per discrepancy, naming it.
    let alerts = app.gql_ok(&app.admin(), "{ alerts(first: 50) { nodes { kind severity message } } }", json!({})).await;
    let found: Vec<&Value> =
        alerts["alerts"]["nodes"].as_array().unwrap().iter().filter(|a| a["kind"] == "settlement_mismatch").collect();
    assert_eq!(found.len(), 4, "{found:?}");
    assert!(found.iter().all(|a| a["severity"] == "CRITICAL"));
    for status in ["AMOUNT_MISMATCH", "FEE_MISMATCH", "MISSING_AT_PROVIDER", "MISSING_HERE"] {
        assert!(found.iter().any(|a| a["message"].as_str().unwrap().contains(status)), "{status}: {found:?}");
    }

    // The run is audited.
    let audit = app
        .gql_ok(&app.admin(), "{ auditLog(filter: { action: \"settlements.reconciled\" }) { totalCount } }", json!({}))
        .await;
    assert_eq!(audit["auditLog"]["totalCount"], 2);

    // As CSV for ops.
    let url = app.url(&format!(
        "/api/admin/reports/settlements.csv?from={}&to={}",
        urlencode(w["from"].as_str().unwrap()),
        urlencode(w["to"].as_str().unwrap())
    ));
    let res = app.http.get(&url).bearer_auth(&ops).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    let mut rows = csv.lines();
    assert!(rows.next().unwrap().starts_with("paid_at,status,order_id,cf_payment_id,"), "{csv}");
    assert_eq!(rows.count(), 5, "{csv}");
    assert!(csv.contains(&format!("MATCHED,{good}")), "{csv}");
    let res = app.http.get(&url).bearer_auth(app.token(Role::Freelancer, Uuid::new_v4())).send().await.unwrap();
    assert_eq!(res.status(), 403);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn a_scheduled_poll_claims_each_window_once_across_instances() {
    let (app, double) = spawn_with_double(|c| c.settlement_poll = Duration::from_millis(300)).await;
    // A second instance polls the same windows (on PostgreSQL: SQLite is one instance's database).
    let _second = if on_postgres() { Some(app.spawn_second().await) } else { None };
    let (_, order) = paid(&app, &double, "1000.00").await;
    let w = window();
    let mut line = Value::Null;
    for _ in 0..50 {
        let r = app.gql_ok(&app.admin(), REPORT, json!({ "from": w["from"], "to": w["to"] })).await;
        if let Some(l) =
            r["settlementReconciliation"]["lines"].as_array().unwrap().iter().find(|l| l["orderId"] == order)
        {
            line = l.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(line["status"], "MATCHED", "the poller reconciled it: {line}");
    // Each window was fetched by one instance only: at most one call per 300 ms window.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let windows = one_i64(&app, "SELECT COUNT(*) FROM settlement_polls").await;
    let calls = double.calls("POST /pg/settlement/recon") as i64;
    assert!(calls <= windows, "{calls} fetches for {windows} windows");
    let entries = one_i64(&app, "SELECT COUNT(*) FROM journal_entries WHERE kind = 'settlement'").await;
    assert_eq!(entries, 1, "booked once");
}

#[tokio::test]
async fn a_settlement_webhook_reconciles_the_settlement_at_once() {
    let (app, double) = spawn_with_double(|c| c.settlement_poll = Duration::ZERO).await;
    let (_, order) = paid(&app, &double, "1000.00").await;
    assert_eq!(double.send_settlement_webhook().await, Ok(200));
    let w = window();
    let mut found = Value::Null;
    for _ in 0..50 {
        let r = app.gql_ok(&app.admin(), REPORT, json!({ "from": w["from"], "to": w["to"] })).await;
        if let Some(l) =
            r["settlementReconciliation"]["lines"].as_array().unwrap().iter().find(|l| l["orderId"] == order)
        {
            found = l.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(found["status"], "MATCHED", "{found}");
    let hooks = app
        .gql_ok(&app.admin(), "{ paymentWebhooks(first: 5) { nodes { eventType outcome error } } }", json!({}))
        .await;
    let hook = &hooks["paymentWebhooks"]["nodes"][0];
    assert_eq!((&hook["eventType"], &hook["outcome"]), (&json!("SETTLEMENT_SUCCESS"), &json!("PROCESSED")), "{hooks}");
}

const APPROVE: &str = "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { status } }";
const PENDING: &str = "query($id: UUID!) { payoutRequest(id: $id) { approvable notApprovableReason } }";

#[tokio::test]
async fn a_payout_the_cashfree_account_cannot_cover_needs_force() {
    let (app, double) = spawn_with_double(|c| c.payout_balance_low = Some("5000.00".parse().unwrap())).await;
    double.set_payout_balance("250.00");
    let f = funded_freelancer(&app, &double).await;
    let asked = app.request_payout(f, "300.00").await;
    let id = asked["data"]["requestPayout"]["id"].as_str().unwrap().to_owned();

    // The balance is read every minute, and at start: wait for the first reading.
    let mut status = Value::Null;
    for _ in 0..50 {
        status = app
            .gql_ok(&app.admin(), "{ cashfreeStatus { payoutBalance { balance available readAt } } }", json!({}))
            .await;
        if status["cashfreeStatus"]["payoutBalance"]["available"] == "250.00" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status["cashfreeStatus"]["payoutBalance"]["balance"], "250.00", "{status}");
    let metrics =
        app.http.get(app.url("/metrics")).bearer_auth(app.admin()).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("cashfree_payout_balance{currency=\"INR\"} 250"), "{metrics}");
    let alerts = app.gql_ok(&app.admin(), "{ alerts(first: 50) { nodes { kind severity message } } }", json!({})).await;
    let low: Vec<&Value> =
        alerts["alerts"]["nodes"].as_array().unwrap().iter().filter(|a| a["kind"] == "payout_balance_low").collect();
    assert_eq!(low.len(), 1, "{alerts}");
    assert_eq!(low[0]["severity"], "WARNING");

    let p = app.gql_ok(&app.admin(), PENDING, json!({ "id": id })).await;
    assert_eq!(p["payoutRequest"]["approvable"], false);
    let why = p["payoutRequest"]["notApprovableReason"].as_str().unwrap();
    assert!(why.contains("250.00 available") && why.contains("force: true"), "{why}");
    let refused = app.gql(Some(&app.admin()), APPROVE, json!({ "i": { "payoutRequestId": id } })).await;
    assert_eq!(code(&refused), "INVALID_STATE", "{refused}");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("250.00 available"), "{refused}");

    let forced = app
        .gql_ok(
            &app.admin(),
            APPROVE,
            json!({ "i": { "payoutRequestId": id, "note": "topped up by wire", "force": true } }),
        )
        .await;
    assert_eq!(forced["approvePayout"]["status"], "PROCESSING");
    let audit = app
        .gql_ok(
            &app.admin(),
            "query($id: UUID!) { auditLog(filter: { entityId: $id, action: \"payout.approved\" }) { nodes { after } } }",
            json!({ "id": id }),
        )
        .await;
    let after = audit["auditLog"]["nodes"][0]["after"].to_string();
    assert!(after.contains("forced") && after.contains("250.00 available"), "{audit}");
}

#[tokio::test]
async fn cashfrees_low_balance_webhook_warns_and_reads_the_balance() {
    let (app, double) = spawn_with_double(|_| {}).await;
    double.set_payout_balance("1200.00");
    assert_eq!(double.send_low_balance_alert("1200.00").await, Ok(200));
    let alerts = app.gql_ok(&app.admin(), "{ alerts(first: 50) { nodes { kind severity message } } }", json!({})).await;
    let low: Vec<&Value> =
        alerts["alerts"]["nodes"].as_array().unwrap().iter().filter(|a| a["kind"] == "payout_balance_low").collect();
    assert_eq!(low.len(), 1, "{alerts}");
    assert!(low[0]["message"].as_str().unwrap().contains("1200.00"), "{alerts}");
    let status = app.gql_ok(&app.admin(), "{ cashfreeStatus { payoutBalance { available } } }", json!({})).await;
    assert_eq!(status["cashfreeStatus"]["payoutBalance"]["available"], "1200.00", "read at once: {status}");
    let hooks = app
        .gql_ok(&app.admin(), "{ paymentWebhooks(first: 5) { nodes { eventType outcome signatureValid } } }", json!({}))
        .await;
    let hook = &hooks["paymentWebhooks"]["nodes"][0];
    assert_eq!((&hook["eventType"], &hook["outcome"]), (&json!("LOW_BALANCE_ALERT"), &json!("PROCESSED")), "{hooks}");

    // Forged: not signed with the Payouts secret. Recorded, refused, nothing raised beyond the signature alert.
    let forged = "event=LOW_BALANCE_ALERT&currentBalance=1.00&alertTime=2026-12-06+10%3A00%3A00&signature=bm9wZQ%3D%3D";
    let res = app
        .http
        .post(app.url("/api/webhooks/cashfree/payouts/v1"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["outcome"], "REJECTED_SIGNATURE", "{body}");
    let alerts = app.gql_ok(&app.admin(), "{ alerts(first: 50) { nodes { kind } } }", json!({})).await;
    let low =
        alerts["alerts"]["nodes"].as_array().unwrap().iter().filter(|a| a["kind"] == "payout_balance_low").count();
    assert_eq!(low, 1, "a forged alert raises no low-balance alert");
}

#[tokio::test]
async fn what_funded_a_payout_follows_the_rupee_to_its_payment_and_settlement() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = Uuid::new_v4();
    let me = app.token(Role::Freelancer, f);
    let i = json!({ "name": "Asha Rao", "bankAccountNumber": "026291800001191", "ifsc": "YESB0000262" });
    let register = "mutation($i: RegisterBeneficiaryInput!) { registerBeneficiary(input: $i) { kind } }";
    app.gql_ok(&me, register, json!({ "i": i })).await;
    let mut orders = Vec::new();
    for amount in ["100.00", "200.00", "300.00"] {
        let order = format!("ord_{}", Uuid::new_v4().simple());
        let q = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id } }";
        let i = json!({ "freelancerId": f, "amount": amount, "orderId": order, "customerPhone": "9999912345" });
        app.gql_ok(&app.admin(), q, json!({ "i": i })).await;
        assert_eq!(double.pay(&order, "SUCCESS").await, Ok(200));
        orders.push(order);
    }
    // Credits of 90.00, 180.00 and 270.00 (540.00); a first payout of 150.00 took the first credit and 60.00 of
    // the second; a second of 200.00 takes the other 120.00 of the second and 80.00 of the third.
    app.gql_ok(&app.admin(), RECONCILE, json!({ "i": window() })).await;
    let mut ids = Vec::new();
    for amount in ["150.00", "200.00"] {
        let asked = app.request_payout(f, amount).await;
        let id = asked["data"]["requestPayout"]["id"].as_str().unwrap_or_else(|| panic!("{asked}")).to_owned();
        ids.push(id);
    }
    let first = json!({ "i": { "payoutRequestId": ids[0] } });
    app.gql_ok(&app.admin(), APPROVE, first).await;
    let q = "query($id: UUID!) { payoutInvestigation(id: $id) { fundedBy { amount settlementUtr \
             credit { amount kind } payment { orderId amount } } } }";
    let inv = app.gql_ok(&app.admin(), q, json!({ "id": ids[1] })).await;
    let funded = inv["payoutInvestigation"]["fundedBy"].as_array().unwrap();
    let got: Vec<(&str, &str)> =
        funded.iter().map(|x| (x["amount"].as_str().unwrap(), x["payment"]["orderId"].as_str().unwrap())).collect();
    assert_eq!(got, [("120.00", orders[1].as_str()), ("80.00", orders[2].as_str())], "{inv}");
    assert!(funded.iter().all(|x| x["settlementUtr"].as_str().unwrap().starts_with("SETTLUTR")), "{inv}");
    let q = "query($id: UUID!) { payoutRequest(id: $id) { fundedBy { amount payment { orderId } } } }";
    let own = app.gql_ok(&me, q, json!({ "id": ids[0] })).await;
    let got: Vec<&str> =
        own["payoutRequest"]["fundedBy"].as_array().unwrap().iter().map(|x| x["amount"].as_str().unwrap()).collect();
    assert_eq!(got, ["90.00", "60.00"], "{own}");
}
