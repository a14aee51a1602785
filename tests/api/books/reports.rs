//! Every report figure against data whose answers were worked out by hand.

use crate::helpers::*;
use entity::status::Role;
use sea_orm::Value;
use serde_json::json;
use uuid::Uuid;

/// Runs fixture SQL with `$1`, `$2` placeholders (both databases take them; SQLite numbers them by first use).
/// Backdates the fixture's rows, journal entries included (past PostgreSQL's history triggers: this writes
/// history as if it had happened then).
async fn exec(app: &TestApp, sql: &str, values: Vec<Value>) {
    tamper(app, sql, values).await;
}

fn at(s: &str) -> Value {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc().into()
}

async fn order(app: &TestApp, freelancer: Uuid, amount: &str, id: &str, client: &str) {
    app.gql_ok(
        &app.admin(),
        "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id } }",
        json!({ "i": { "freelancerId": freelancer, "amount": amount, "orderId": id, "clientId": client } }),
    )
    .await;
}

async fn settle(app: &TestApp, id: &str, amount: &str, status: &str, method: &str) {
    let kind = if status == "SUCCESS" { "PAYMENT_SUCCESS_WEBHOOK" } else { "PAYMENT_FAILED_WEBHOOK" };
    let body = payment_body(kind, id, &rand_digits(), status, amount).replace("\"upi\"", &format!("\"{method}\""));
    let (code, reply) = app.deliver_signed(&body).await;
    assert_eq!(code, 200, "{reply}");
}

/// A: o1 1000.00 (cl_1, upi, paid Mon 2 Nov), o2 500.00 (cl_2, card, paid Tue 3 Nov), o5 250.00 pending.
/// B: o3 2000.00 (cl_1, upi, paid Fri 30 Oct), o4 300.00 failed (upi), o6 400.00 user-dropped (card).
/// Refund of 100.00 on o2 (debits 90.00) booked Tue 3 Nov. Payouts: A 200.00 paid (decided 1 h after request,
/// on 3 Nov), A 100.00 rejected (2 h after), B 500.00 pending, B 300.00 cancelled at once.
async fn fixture() -> (TestApp, Uuid, Uuid) {
    let app = TestApp::spawn().await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    for (f, amount, id, client) in [
        (a, "1000.00", "ord1", "cl_1"),
        (a, "500.00", "ord2", "cl_2"),
        (b, "2000.00", "ord3", "cl_1"),
        (b, "300.00", "ord4", "cl_2"),
        (a, "250.00", "ord5", "cl_1"),
        (b, "400.00", "ord6", "cl_2"),
    ] {
        order(&app, f, amount, id, client).await;
    }
    settle(&app, "ord1", "1000.00", "SUCCESS", "upi").await;
    settle(&app, "ord2", "500.00", "SUCCESS", "card").await;
    settle(&app, "ord3", "2000.00", "SUCCESS", "upi").await;
    settle(&app, "ord4", "300.00", "FAILED", "upi").await;
    settle(&app, "ord6", "400.00", "USER_DROPPED", "card").await;
    let refund = r#"{"data":{"refund":{"cf_refund_id":"rf_r","order_id":"ord2","refund_amount":100.00,"refund_currency":"INR","refund_status":"SUCCESS"}},"type":"REFUND_STATUS_WEBHOOK"}"#;
    assert_eq!(app.deliver_signed(refund).await.0, 200);

    let admin = app.admin();
    let id = |body: serde_json::Value| body["data"]["requestPayout"]["id"].as_str().unwrap().to_owned();
    let paid = id(app.request_payout(a, "200.00").await);
    let rejected = id(app.request_payout(a, "100.00").await);
    id(app.request_payout(b, "500.00").await);
    let cancelled = id(app.request_payout(b, "300.00").await);
    app.gql_ok(
        &admin,
        "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { id } }",
        json!({ "i": { "payoutRequestId": paid } }),
    )
    .await;
    app.gql_ok(
        &admin,
        "mutation($i: RejectPayoutInput!) { rejectPayout(input: $i) { id } }",
        json!({ "i": { "payoutRequestId": rejected, "reason": "r" } }),
    )
    .await;
    app.gql_ok(
        &admin,
        "mutation($i: CancelPayoutInput!) { cancelPayout(input: $i) { id } }",
        json!({ "i": { "payoutRequestId": cancelled, "reason": "c" } }),
    )
    .await;

    // Move the money to known days, and the decisions to known delays.
    for (order_id, when) in
        [("ord1", "2026-11-02T10:00:00Z"), ("ord2", "2026-11-03T10:00:00Z"), ("ord3", "2026-10-30T10:00:00Z")]
    {
        exec(&app, "UPDATE payments SET paid_at = $1 WHERE order_id = $2", vec![at(when), order_id.into()]).await;
    }
    exec(
        &app,
        "UPDATE wallet_transactions SET created_at = $1 WHERE kind = $2",
        vec![at("2026-11-03T15:00:00Z"), "refund_debit".into()],
    )
    .await;
    // Their journal entries with them.
    exec(
        &app,
        "UPDATE journal_entries SET created_at = (SELECT p.paid_at FROM payments p WHERE p.id = journal_entries.payment_id) \
         WHERE kind = $1",
        vec!["payment_received".into()],
    )
    .await;
    exec(
        &app,
        "UPDATE journal_entries SET created_at = $1 WHERE kind = $2",
        vec![at("2026-11-03T15:00:00Z"), "refund".into()],
    )
    .await;
    exec(
        &app,
        "UPDATE payout_requests SET decided_at = $1 WHERE id = $2",
        vec![at("2026-11-03T12:00:00Z"), paid.parse::<Uuid>().unwrap().into()],
    )
    .await;
    exec(
        &app,
        "UPDATE payout_requests SET created_at = $1 WHERE id = $2",
        vec![at("2026-11-03T11:00:00Z"), paid.parse::<Uuid>().unwrap().into()],
    )
    .await;
    exec(
        &app,
        "UPDATE payout_requests SET decided_at = $1 WHERE id = $2",
        vec![at("2026-11-03T14:00:00Z"), rejected.parse::<Uuid>().unwrap().into()],
    )
    .await;
    exec(
        &app,
        "UPDATE payout_requests SET created_at = $1 WHERE id = $2",
        vec![at("2026-11-03T12:00:00Z"), rejected.parse::<Uuid>().unwrap().into()],
    )
    .await;
    (app, a, b)
}

fn around_now() -> serde_json::Value {
    let now = chrono::Utc::now();
    json!({ "from": (now - chrono::Duration::days(1)).to_rfc3339(), "to": (now + chrono::Duration::days(1)).to_rfc3339() })
}

#[tokio::test]
async fn payment_stats_match_the_hand_computed_figures() {
    let (app, _, _) = fixture().await;
    let d = app
        .gql_ok(
            &app.token(Role::Ops, Uuid::new_v4()),
            "query($from: DateTime!, $to: DateTime!) { paymentStats(from: $from, to: $to) {
                total successRate gross fees net
                byStatus { status count amount }
                byMethod { method attempts succeeded gross successRate } } }",
            around_now(),
        )
        .await;
    let s = &d["paymentStats"];
    assert_eq!(s["total"], 6);
    assert_eq!(s["successRate"], "60.00", "3 of the 5 orders with an outcome succeeded");
    assert_eq!(
        (s["gross"].as_str(), s["fees"].as_str(), s["net"].as_str()),
        (Some("3500.00"), Some("350.00"), Some("3150.00"))
    );
    assert_eq!(
        s["byStatus"],
        json!([
            { "status": "FAILED", "count": 1, "amount": "300.00" },
            { "status": "PENDING", "count": 1, "amount": "250.00" },
            { "status": "SUCCESS", "count": 3, "amount": "3500.00" },
            { "status": "USER_DROPPED", "count": 1, "amount": "400.00" },
        ])
    );
    assert_eq!(
        s["byMethod"],
        json!([
            { "method": "upi", "attempts": 3, "succeeded": 2, "gross": "3000.00", "successRate": "66.67" },
            { "method": "card", "attempts": 2, "succeeded": 1, "gross": "500.00", "successRate": "50.00" },
        ])
    );
    let empty = app
        .gql_ok(&app.admin(), "{ paymentStats(from: \"2020-01-01T00:00:00Z\", to: \"2020-02-01T00:00:00Z\") { total successRate gross } }", json!({}))
        .await;
    assert_eq!(empty["paymentStats"], json!({ "total": 0, "successRate": null, "gross": "0.00" }));
}

#[tokio::test]
async fn payout_stats_match_the_hand_computed_figures() {
    let (app, _, _) = fixture().await;
    let range =
        json!({ "from": "2026-11-01T00:00:00Z", "to": (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339() });
    let d = app
        .gql_ok(
            &app.admin(),
            "query($from: DateTime!, $to: DateTime!) { payoutStats(from: $from, to: $to) {
                requested { count amount } paid { count amount } rejected { count amount }
                cancelled { count amount } failed { count } pendingBacklog { count amount }
                averageDecisionSeconds maxDecisionSeconds } }",
            range,
        )
        .await;
    let s = &d["payoutStats"];
    assert_eq!(s["requested"], json!({ "count": 4, "amount": "1100.00" }));
    assert_eq!(s["paid"], json!({ "count": 1, "amount": "200.00" }));
    assert_eq!(s["rejected"], json!({ "count": 1, "amount": "100.00" }));
    assert_eq!(s["cancelled"], json!({ "count": 1, "amount": "300.00" }));
    assert_eq!(s["failed"]["count"], 0);
    assert_eq!(s["pendingBacklog"], json!({ "count": 1, "amount": "500.00" }));
    assert_eq!(s["averageDecisionSeconds"], 3600, "(3600 + 7200 + ~0) / 3");
    assert_eq!(s["maxDecisionSeconds"], 7200);
}

const FINANCIAL: &str = "query($g: Granularity!) { financialReport(from: \"2026-10-01T00:00:00Z\", to: \"2026-12-01T00:00:00Z\", granularity: $g) {
    periodStart payments gross fees net refunds payouts payoutsPaid } }";

/// One expected period, written as its CSV row with spaces: start payments gross fees net refunds payouts paid.
fn period(row: &str) -> serde_json::Value {
    let f: Vec<&str> = row.split_whitespace().collect();
    json!({ "periodStart": f[0], "payments": f[1].parse::<u64>().unwrap(), "gross": f[2], "fees": f[3], "net": f[4],
            "refunds": f[5], "payouts": f[6].parse::<u64>().unwrap(), "payoutsPaid": f[7] })
}

#[tokio::test]
async fn the_financial_report_buckets_by_day_week_and_month() {
    let (app, _, _) = fixture().await;
    let admin = app.admin();
    let day = app.gql_ok(&admin, FINANCIAL, json!({ "g": "DAY" })).await;
    assert_eq!(
        day["financialReport"],
        json!([
            period("2026-10-30 1 2000.00 200.00 1800.00 0.00 0 0.00"),
            period("2026-11-02 1 1000.00 100.00 900.00 0.00 0 0.00"),
            period("2026-11-03 1 500.00 50.00 450.00 90.00 1 200.00"),
        ])
    );
    let week = app.gql_ok(&admin, FINANCIAL, json!({ "g": "WEEK" })).await;
    assert_eq!(
        week["financialReport"],
        json!([
            period("2026-10-26 1 2000.00 200.00 1800.00 0.00 0 0.00"),
            period("2026-11-02 2 1500.00 150.00 1350.00 90.00 1 200.00"),
        ])
    );
    let month = app.gql_ok(&admin, FINANCIAL, json!({ "g": "MONTH" })).await;
    assert_eq!(
        month["financialReport"],
        json!([
            period("2026-10-01 1 2000.00 200.00 1800.00 0.00 0 0.00"),
            period("2026-11-01 2 1500.00 150.00 1350.00 90.00 1 200.00"),
        ])
    );
    let backwards = app
        .gql(
            Some(&admin),
            "{ financialReport(from: \"2026-12-01T00:00:00Z\", to: \"2026-10-01T00:00:00Z\") { periodStart } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&backwards), "BAD_USER_INPUT");
}

#[tokio::test]
async fn top_freelancers_and_clients_rank_by_volume() {
    let (app, a, b) = fixture().await;
    let d = app
        .gql_ok(
            &app.admin(),
            "{ f: topFreelancers(from: \"2026-10-01T00:00:00Z\", to: \"2026-12-01T00:00:00Z\") { id payments amount }
               one: topFreelancers(from: \"2026-10-01T00:00:00Z\", to: \"2026-12-01T00:00:00Z\", limit: 1) { id }
               c: topClients(from: \"2026-10-01T00:00:00Z\", to: \"2026-12-01T00:00:00Z\") { id payments amount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        d["f"],
        json!([{ "id": b.to_string(), "payments": 1, "amount": "1800.00" }, { "id": a.to_string(), "payments": 2, "amount": "1350.00" }])
    );
    assert_eq!(d["one"], json!([{ "id": b.to_string() }]));
    assert_eq!(
        d["c"],
        json!([{ "id": "cl_1", "payments": 2, "amount": "3000.00" }, { "id": "cl_2", "payments": 1, "amount": "500.00" }])
    );
    let body = app
        .gql(
            Some(&app.token(Role::Freelancer, a)),
            "{ topClients(from: \"2026-10-01T00:00:00Z\", to: \"2026-12-01T00:00:00Z\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
}

#[tokio::test]
async fn the_financial_report_exports_as_csv_for_admins_and_ops() {
    let (app, _, _) = fixture().await;
    let get = |token: String, query: &str| {
        let req = app.http.get(app.url(&format!("/api/admin/reports/financial.csv?{query}"))).bearer_auth(token);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let kind = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            (status, kind, res.text().await.unwrap())
        }
    };
    let range = "from=2026-10-01T00:00:00Z&to=2026-12-01T00:00:00Z";
    let (status, kind, body) = get(app.admin(), &format!("{range}&granularity=month")).await;
    assert_eq!(status, 200, "{body}");
    assert!(kind.starts_with("text/csv"));
    assert_eq!(
        body,
        "period_start,currency,payments,gross,fees,net,refunds,payouts,payouts_paid,fee_revenue,transfer_costs,\
         disputes_lost,net_revenue\n\
         2026-10-01,INR,1,2000.00,200.00,1800.00,0.00,0,0.00,200.00,0.00,0.00,200.00\n\
         2026-11-01,INR,2,1500.00,150.00,1350.00,90.00,1,200.00,140.00,0.00,0.00,140.00\n"
    );
    let (status, _, body) = get(app.token(Role::Ops, Uuid::new_v4()), &format!("{range}&granularity=month")).await;
    assert_eq!(status, 200, "ops export too: {body}");
    assert!(body.starts_with("period_start,currency,"), "{body}");
    let (status, _, body) = get(app.token(Role::Freelancer, Uuid::new_v4()), range).await;
    assert_eq!(status, 403, "{body}");
    let (status, _, body) = get(app.admin(), &format!("{range}&granularity=year")).await;
    assert_eq!(status, 400);
    assert!(body.contains("day, week or month"), "{body}");
    let (status, _, body) = get(app.admin(), "to=2026-12-01T00:00:00Z").await;
    assert_eq!(status, 400);
    assert!(body.contains("`from` is required"), "{body}");
}
