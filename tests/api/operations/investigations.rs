//! Operations: manual interventions, payout investigation, reconciliation.

use crate::helpers::*;
use entity::status::Role;
use serde_json::json;
use std::process::Command;
use uuid::Uuid;

#[tokio::test]
async fn verifying_a_pending_payment_by_hand_settles_and_credits_it_once() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let id = app.create_order(f, "1000.00", "order_manual").await;
    let q =
        "mutation($i: VerifyPaymentInput!) { verifyPayment(input: $i) { status netAmount verifiedBy cfPaymentId } }";
    let admin_id = Uuid::new_v4();
    let admin = app.token(Role::Admin, admin_id);
    let body = app.gql(Some(&admin), q, json!({ "i": { "paymentId": id, "reason": " " } })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "a reason is required: {body}");
    let d = app
        .gql_ok(
            &admin,
            q,
            json!({ "i": { "paymentId": id, "reason": "seen on the Cashfree dashboard", "cfPaymentId": "cf_42" } }),
        )
        .await;
    assert_eq!(d["verifyPayment"]["status"], "SUCCESS");
    assert_eq!(d["verifyPayment"]["netAmount"], "900.00");
    assert_eq!(d["verifyPayment"]["verifiedBy"], admin_id.to_string());
    assert_eq!(d["verifyPayment"]["cfPaymentId"], "cf_42");
    assert_eq!(app.balance(f).await, "900.00");
    let again = app.gql(Some(&admin), q, json!({ "i": { "paymentId": id, "reason": "again" } })).await;
    assert_eq!(code(&again), "INVALID_STATE", "{again}");
    // The webhook arriving late changes nothing.
    let body = payment_body("PAYMENT_SUCCESS_WEBHOOK", "order_manual", "cf_42", "SUCCESS", "1000.00");
    assert_eq!(app.deliver_signed(&body).await.1["outcome"], "DUPLICATE");
    assert_eq!(app.balance(f).await, "900.00");
    let d = app
        .gql_ok(
            &admin,
            "{ auditLog(filter: { action: \"payment.verified\" }) { nodes { reason actorId } } }",
            json!({}),
        )
        .await;
    assert_eq!(d["auditLog"]["nodes"][0]["reason"], "seen on the Cashfree dashboard");
    let ops = app.token(Role::Ops, Uuid::new_v4());
    let body = app.gql(Some(&ops), q, json!({ "i": { "paymentId": id, "reason": "x" } })).await;
    assert_eq!(code(&body), "FORBIDDEN");
}

#[tokio::test]
async fn an_unmatched_delivery_can_be_reprocessed_once_its_order_exists() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let body = payment_body("PAYMENT_SUCCESS_WEBHOOK", "order_late", "cf_7", "SUCCESS", "500.00");
    let (_, reply) = app.deliver_signed(&body).await;
    assert_eq!(reply["outcome"], "UNMATCHED");
    let webhook_id = reply["webhookId"].clone();
    let q = "mutation($i: ReprocessWebhookInput!) { reprocessWebhook(input: $i) { id outcome payment { orderId status } } }";
    let admin = app.admin();
    let early = app.gql(Some(&admin), q, json!({ "i": { "webhookId": webhook_id, "reason": "retry" } })).await;
    assert!(early.get("errors").is_none(), "{early}");
    assert_eq!(early["data"]["reprocessWebhook"]["outcome"], "UNMATCHED", "still no order");
    let retry_of = early["data"]["reprocessWebhook"]["id"].clone();

    app.create_order(f, "500.00", "order_late").await;
    let d = app
        .gql_ok(&admin, q, json!({ "i": { "webhookId": retry_of, "reason": "order created after the payment" } }))
        .await;
    assert_eq!(d["reprocessWebhook"]["outcome"], "PROCESSED");
    assert_eq!(d["reprocessWebhook"]["payment"]["status"], "SUCCESS");
    assert_eq!(app.balance(f).await, "450.00");
    let processed = d["reprocessWebhook"]["id"].clone();
    let again = app.gql(Some(&admin), q, json!({ "i": { "webhookId": processed, "reason": "again" } })).await;
    assert_eq!(code(&again), "INVALID_STATE", "{again}");
    assert_eq!(app.deliver_signed(&body).await.1["outcome"], "DUPLICATE", "Cashfree's own retry still dedupes");
    assert_eq!(app.balance(f).await, "450.00");

    // Deliveries whose signature failed are never trusted.
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let (_, bad) = app
        .deliver(&body, &[("x-webhook-timestamp", ts.clone()), ("x-webhook-signature", sign("x", &ts, &body))])
        .await;
    let refused = app.gql(Some(&admin), q, json!({ "i": { "webhookId": bad["webhookId"], "reason": "try" } })).await;
    assert_eq!(code(&refused), "INVALID_STATE", "{refused}");
}

#[tokio::test]
async fn ledger_adjustments_are_booked_audited_and_never_go_below_zero() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "100.00").await; // 90.00
    let q = "mutation($i: AdjustLedgerInput!) { adjustLedger(input: $i) { kind amount balanceAfter description } }";
    let admin = app.admin();
    let d = app
        .gql_ok(&admin, q, json!({ "i": { "freelancerId": f, "amount": "-40.00", "reason": "duplicate bonus" } }))
        .await;
    assert_eq!(d["adjustLedger"]["kind"], "ADJUSTMENT");
    assert_eq!(d["adjustLedger"]["amount"], "-40.00");
    assert_eq!(d["adjustLedger"]["balanceAfter"], "50.00");
    let too_much =
        app.gql(Some(&admin), q, json!({ "i": { "freelancerId": f, "amount": "-50.01", "reason": "x" } })).await;
    assert_eq!(code(&too_much), "RESERVE_VIOLATION", "{too_much}");
    assert!(too_much["errors"][0]["message"].as_str().unwrap().contains("below zero"), "{too_much}");
    let d = app.gql_ok(&admin, q, json!({ "i": { "freelancerId": f, "amount": "10.00", "reason": "goodwill" } })).await;
    assert_eq!(d["adjustLedger"]["balanceAfter"], "60.00");
    assert_eq!(app.balance(f).await, "60.00");
    let d = app.gql_ok(&admin, "{ auditLog(filter: { action: \"ledger.adjusted\" }) { totalCount } }", json!({})).await;
    assert_eq!(d["auditLog"]["totalCount"], 2);
}

#[tokio::test]
async fn a_payout_investigation_shows_the_request_its_wallet_ledger_audit_and_notifications() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let id = app.request_payout(f, "200.00").await["data"]["requestPayout"]["id"].clone();
    let admin = app.admin();
    app.gql_ok(
        &admin,
        "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { id } }",
        json!({ "i": { "payoutRequestId": id, "note": "ok" } }),
    )
    .await;
    let d = app
        .gql_ok(
            &app.token(Role::Ops, Uuid::new_v4()),
            "query($id: UUID!) { payoutInvestigation(id: $id) {
                payout { status amount } wallet { balance }
                ledger { kind amount } auditEntries { action } notifications { kind } } }",
            json!({ "id": id }),
        )
        .await;
    let inv = &d["payoutInvestigation"];
    assert_eq!(inv["payout"]["status"], "PAID");
    assert_eq!(inv["wallet"]["balance"], "700.00");
    assert_eq!(inv["ledger"][0]["kind"], "PAYOUT_DEBIT");
    assert_eq!(inv["ledger"][1]["kind"], "PAYMENT_CREDIT");
    let actions: Vec<&str> =
        inv["auditEntries"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["payout.requested", "payout.approved"]);
    assert_eq!(inv["notifications"][0]["kind"], "payout_paid");
    let body = app
        .gql(
            Some(&app.token(Role::Freelancer, f)),
            "query($id: UUID!) { payoutInvestigation(id: $id) { payout { id } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
}

#[tokio::test]
async fn cancelling_a_pending_payout_needs_a_reason_and_frees_the_amount() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let id = app.request_payout(f, "800.00").await["data"]["requestPayout"]["id"].clone();
    assert_eq!(code(&app.request_payout(f, "1.00").await), "RESERVE_VIOLATION");
    let d = app
        .gql_ok(
            &app.admin(),
            "mutation($i: CancelPayoutInput!) { cancelPayout(input: $i) { status decisionNote } }",
            json!({ "i": { "payoutRequestId": id, "reason": "duplicate request" } }),
        )
        .await;
    assert_eq!(d["cancelPayout"]["status"], "CANCELLED");
    assert!(app.request_payout(f, "1.00").await.get("errors").is_none(), "the cancelled amount is available again");
}

#[tokio::test]
async fn reconcile_passes_on_sound_books_and_fails_loudly_on_a_tampered_balance() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let id = app.request_payout(f, "300.00").await["data"]["requestPayout"]["id"].clone();
    app.gql_ok(
        &app.admin(),
        "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { id } }",
        json!({ "i": { "payoutRequestId": id } }),
    )
    .await;
    let bin = env!("CARGO_BIN_EXE_paydesk");
    let ok = Command::new(bin).arg("reconcile").env("DATABASE_URL", &app.db_url).output().unwrap();
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{text}");
    assert!(text.contains("checked 1 wallets, 2 ledger rows, 1 paid payouts") && text.contains("OK"), "{text}");

    use sea_orm::ConnectionTrait;
    app.state.db.execute_unprepared("UPDATE freelancer_wallets SET balance = balance + 1").await.unwrap();
    let bad = Command::new(bin).arg("reconcile").env("DATABASE_URL", &app.db_url).output().unwrap();
    let text = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("wallet of {f}: balance 600.01 but its ledger sums to 600.00")), "{text}");
}

/// The value of the sample `series` (name with labels, as exposed) in a Prometheus text page.
fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
}

#[tokio::test]
async fn metrics_count_requests_operations_webhooks_payouts_and_money() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let id = app.request_payout(f, "200.00").await["data"]["requestPayout"]["id"].clone();
    app.gql_ok(
        &app.admin(),
        "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { id } }",
        json!({ "i": { "payoutRequestId": id } }),
    )
    .await;
    app.request_payout(f, "50.00").await;
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    app.deliver("{}", &[("x-webhook-timestamp", ts), ("x-webhook-signature", "bad".into())]).await;
    app.gql(None, "{ me { id } }", json!({})).await;
    assert_eq!(app.http.get(app.url("/metrics")).send().await.unwrap().status(), 401, "money totals are not public");

    let ops = app.token(entity::status::Role::Ops, Uuid::new_v4());
    let res = app.http.get(app.url("/metrics")).bearer_auth(ops).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let expect = [
        ("paydesk_webhook_deliveries_total{outcome=\"processed\"}", 1.0),
        ("paydesk_webhook_deliveries_total{outcome=\"rejected_signature\"}", 1.0),
        ("paydesk_payouts_total{status=\"requested\"}", 2.0),
        ("paydesk_payouts_total{status=\"paid\"}", 1.0),
        ("paydesk_money_total{flow=\"payments_gross\",currency=\"INR\"}", 1000.0),
        ("paydesk_money_total{flow=\"platform_fees\",currency=\"INR\"}", 100.0),
        ("paydesk_money_total{flow=\"net_credited\",currency=\"INR\"}", 900.0),
        ("paydesk_money_total{flow=\"payouts_paid\",currency=\"INR\"}", 200.0),
        ("paydesk_wallet_balance{currency=\"INR\"}", 700.0),
        ("paydesk_pending_payouts_amount{currency=\"INR\"}", 50.0),
        ("paydesk_graphql_operations_total{operation=\"query\",outcome=\"error\"}", 1.0),
        ("paydesk_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"401\"}", 1.0),
        ("paydesk_http_requests_total{method=\"POST\",route=\"/api/webhooks/cashfree\",status=\"401\"}", 1.0),
    ];
    for (series, value) in expect {
        assert_eq!(sample(&page, series), Some(value), "{series} in:\n{page}");
    }
    assert!(sample(&page, "paydesk_graphql_operations_total{operation=\"mutation\",outcome=\"ok\"}").unwrap() >= 4.0);
    assert!(sample(&page, "paydesk_sql_statements_total").unwrap() > 10.0);
    assert!(page.contains("paydesk_http_request_duration_seconds_bucket{le="), "{page}");
}

/// `/metrics` shows how full this instance's database pools are: the main one (writes, background work) and, on
/// PostgreSQL, the one reads use, each with its limit from `PAYDESK_DB_POOL_SIZE`.
#[tokio::test]
async fn metrics_show_each_database_pool_in_use_idle_and_its_limit() {
    let app = TestApp::spawn_with(|c| c.db_pool_size = 3).await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    app.gql_ok(&app.admin(), "{ payoutRequests(first: 5) { nodes { id } } }", json!({})).await;
    let ops = app.token(Role::Ops, Uuid::new_v4());
    let page = app.http.get(app.url("/metrics")).bearer_auth(ops).send().await.unwrap().text().await.unwrap();
    let pools: &[(&str, f64)] = if on_postgres() { &[("main", 4.0), ("reads", 3.0)] } else { &[("main", 1.0)] };
    for &(pool, max) in pools {
        assert_eq!(sample(&page, &format!("paydesk_db_connections_max{{pool=\"{pool}\"}}")), Some(max), "{page}");
        let in_use = sample(&page, &format!("paydesk_db_connections{{pool=\"{pool}\",state=\"in_use\"}}"));
        let idle = sample(&page, &format!("paydesk_db_connections{{pool=\"{pool}\",state=\"idle\"}}"));
        let (in_use, idle) = (in_use.expect(&page), idle.expect(&page));
        assert!(in_use + idle >= 1.0 && in_use + idle <= max, "{pool}: {in_use} in use, {idle} idle of {max}");
    }
    if !on_postgres() {
        assert!(!page.contains("pool=\"reads\""), "reads share the main handle on SQLite: {page}");
    }
}
