//! Currencies: ISO 4217 codes only (with at most two decimals), reports and metrics per currency (never summed
//! across), and a reserve per currency.

use crate::helpers::*;
use entity::status::Role;
use serde_json::{json, Value};
use uuid::Uuid;

const ORDER: &str = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id currency } }";

/// Pays an order of `amount` in `currency` to `freelancer` through a signed SUCCESS webhook.
async fn pay_in(app: &TestApp, freelancer: Uuid, amount: &str, currency: &str) {
    let order_id = format!("ord_{}", Uuid::new_v4().simple());
    let vars =
        json!({ "i": { "freelancerId": freelancer, "amount": amount, "currency": currency, "orderId": order_id } });
    app.gql_ok(&app.admin(), ORDER, vars).await;
    let body = format!(
        r#"{{"data":{{"order":{{"order_id":"{order_id}","order_amount":{amount},"order_currency":"{currency}"}},"payment":{{"cf_payment_id":"{}","payment_status":"SUCCESS","payment_amount":{amount},"payment_currency":"{currency}","payment_group":"card"}}}},"event_time":"2026-11-28T12:20:31+05:30","type":"PAYMENT_SUCCESS_WEBHOOK"}}"#,
        rand_digits()
    );
    let (status, reply) = app.deliver_signed(&body).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
}

#[tokio::test]
async fn only_real_currencies_paydesk_can_hold_exactly_are_accepted() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    for (currency, amount, why) in
        [("XYZ", "10.00", "ISO 4217"), ("BHD", "10.00", "two decimal places"), ("JPY", "1500.50", "JPY has")]
    {
        let vars = json!({ "i": { "freelancerId": f, "amount": amount, "currency": currency } });
        let body = app.gql(Some(&app.admin()), ORDER, vars).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{currency}: {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(why), "{body}");
    }
    let ok = app
        .gql_ok(&app.admin(), ORDER, json!({ "i": { "freelancerId": f, "amount": "1500", "currency": "jpy" } }))
        .await;
    assert_eq!(ok["createPaymentOrder"]["currency"], "JPY");
}

#[tokio::test]
async fn reports_and_metrics_keep_currencies_apart_and_reserves_are_per_currency() {
    let app = TestApp::spawn_with(|c| c.payout_reserves = vec!["USD:5.00".into()]).await;
    let (inr, usd) = (Uuid::new_v4(), Uuid::new_v4());
    pay_in(&app, inr, "1000.00", "INR").await;
    pay_in(&app, usd, "100.00", "USD").await;
    let admin = app.admin();
    let range = "from: \"2020-01-01T00:00:00Z\", to: \"2100-01-01T00:00:00Z\"";

    let mixed = app.gql(Some(&admin), &format!("{{ paymentStats({range}) {{ gross }} }}"), json!({})).await;
    assert_eq!(code(&mixed), "BAD_USER_INPUT", "{mixed}");
    assert!(mixed["errors"][0]["message"].as_str().unwrap().contains("INR, USD"), "{mixed}");
    let q = format!("{{ inr: paymentStats({range}, currency: \"INR\") {{ currency gross }} usd: paymentStats({range}, currency: \"usd\") {{ currency gross net }} }}");
    let stats = app.gql_ok(&admin, &q, json!({})).await;
    assert_eq!(stats["inr"], json!({ "currency": "INR", "gross": "1000.00" }));
    assert_eq!(stats["usd"], json!({ "currency": "USD", "gross": "100.00", "net": "90.00" }));
    let rows = app
        .gql_ok(&admin, &format!("{{ financialReport({range}, granularity: MONTH) {{ currency gross }} }}"), json!({}))
        .await;
    let rows: Vec<Value> = rows["financialReport"].as_array().unwrap().clone();
    assert_eq!(
        rows,
        [json!({ "currency": "INR", "gross": "1000.00" }), json!({ "currency": "USD", "gross": "100.00" })]
    );
    let top = app.gql(Some(&admin), &format!("{{ topFreelancers({range}) {{ id }} }}"), json!({})).await;
    assert_eq!(code(&top), "BAD_USER_INPUT", "{top}");

    // USD wallets keep 5.00, INR ones the default 100.00.
    let w = "query($f: UUID!) { wallet(freelancerId: $f) { currency reserve available } }";
    let usd_wallet = app.gql_ok(&admin, w, json!({ "f": usd })).await["wallet"].clone();
    assert_eq!(usd_wallet, json!({ "currency": "USD", "reserve": "5.00", "available": "85.00" }));
    let asked = app.request_payout(usd, "85.00").await;
    assert_eq!(asked["data"]["requestPayout"]["status"], "PENDING", "{asked}");
    let approve = "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { status } }";
    let id = asked["data"]["requestPayout"]["id"].clone();
    assert_eq!(
        app.gql_ok(&admin, approve, json!({ "i": { "payoutRequestId": id } })).await["approvePayout"]["status"],
        "PAID"
    );
    assert_eq!(app.balance(usd).await, "5.00");
    let (ok, report) = app.reconcile_with(&[("PAYOUT_RESERVES", "USD:5.00")]);
    assert!(ok, "reconcile holds USD to its own reserve: {report}");
    let (ok, report) = app.reconcile();
    assert!(!ok && report.contains("below the reserve of 100.00"), "with INR's reserve for USD it would not: {report}");

    let page =
        app.http.get(app.url("/metrics")).bearer_auth(app.token(Role::Ops, Uuid::new_v4())).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("paydesk_wallet_balance{currency=\"INR\"} 900.0"), "{page}");
    assert!(page.contains("paydesk_wallet_balance{currency=\"USD\"} 5.0"), "{page}");
}
