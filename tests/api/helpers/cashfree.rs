//! Cashfree in the tests: the test credentials, a double wired to a server, and webhook bodies signed as
//! Cashfree signs them.

use super::*;

/// A server wired to a Cashfree double of its own (Payment Gateway and Payouts credentials set); the double
/// sends its webhooks to the server.
pub async fn spawn_with_double(tweak: impl FnOnce(&mut Config)) -> (TestApp, std::sync::Arc<cashfree_double::Double>) {
    let double = double().await;
    let app = TestApp::spawn_with(|c| {
        wire_to(c, &double);
        tweak(c);
    })
    .await;
    double.send_webhooks_to(&app.url(""));
    (app, double)
}

/// Settings that point a server at `double` with the test credentials.
pub fn wire_to(c: &mut Config, double: &cashfree_double::Double) {
    c.cashfree_client_id = Some(CF_CLIENT_ID.into());
    c.cashfree_payout_client_id = Some(CF_PAYOUT_ID.into());
    c.cashfree_payout_client_secret = vec![CF_PAYOUT_SECRET.into()];
    c.cashfree_base_url = Some(double.url().to_owned());
    c.cashfree_timeout_ms = 1_000;
    // The double settles every payment at once; a test that wants the scheduled poll turns it on.
    c.settlement_poll = Duration::ZERO;
}

/// A Cashfree double that takes the test credentials; `send_webhooks_to` says where its webhooks go.
pub async fn double() -> std::sync::Arc<cashfree_double::Double> {
    let config = cashfree_double::DoubleConfig {
        pg_client_id: CF_CLIENT_ID.into(),
        pg_secret: CF_SECRET.into(),
        payout_client_id: CF_PAYOUT_ID.into(),
        payout_secret: CF_PAYOUT_SECRET.into(),
        paydesk_url: String::new(),
        complete_transfers_after: None,
    };
    cashfree_double::Double::start(config, "127.0.0.1:0".parse().unwrap()).await.expect("the double starts")
}

/// A freelancer paid 1000.00 gross (900.00 net) through a Cashfree order, with a bank account registered.
pub async fn funded_freelancer(app: &TestApp, double: &cashfree_double::Double) -> Uuid {
    let f = Uuid::new_v4();
    let order = format!("ord_{}", f.simple());
    let q = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id } }";
    let i = json!({ "freelancerId": f, "amount": "1000.00", "orderId": order, "customerPhone": "9999912345" });
    app.gql_ok(&app.admin(), q, json!({ "i": i })).await;
    assert_eq!(double.pay(&order, "SUCCESS").await, Ok(200));
    let me = app.token(entity::status::Role::Freelancer, f);
    let i = json!({ "name": "Asha Rao", "bankAccountNumber": "026291800001191", "ifsc": "YESB0000262" });
    let register = "mutation($i: RegisterBeneficiaryInput!) { registerBeneficiary(input: $i) { kind masked } }";
    let b = app.gql_ok(&me, register, json!({ "i": i })).await;
    assert_eq!(b["registerBeneficiary"]["masked"], "XXXXXX1191 (YESB0000262)", "stored masked only");
    f
}

/// Cashfree's signature: Base64(HMAC-SHA256(secret, timestamp ‖ body)).
pub fn sign(secret: &str, ts: &str, body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(ts.as_bytes());
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Delivers a payout webhook signed with the Payouts secret; the answer's status and body.
pub async fn deliver_transfer(app: &TestApp, body: String) -> (u16, Value) {
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let res = app
        .http
        .post(app.url("/api/webhooks/cashfree/payouts"))
        .header("content-type", "application/json")
        .header("x-webhook-timestamp", &ts)
        .header("x-webhook-signature", sign(CF_PAYOUT_SECRET, &ts, &body))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// A compact Cashfree payment webhook body (amount written as a JSON number, as Cashfree does).
pub fn payment_body(kind: &str, order_id: &str, cf_payment_id: &str, status: &str, amount: &str) -> String {
    format!(
        r#"{{"data":{{"order":{{"order_id":"{order_id}","order_amount":{amount},"order_currency":"INR"}},"payment":{{"cf_payment_id":"{cf_payment_id}","payment_status":"{status}","payment_amount":{amount},"payment_currency":"INR","payment_message":"msg","payment_group":"upi"}}}},"event_time":"2025-03-14T12:20:31+05:30","type":"{kind}"}}"#
    )
}

/// A compact Cashfree refund webhook body for `order` (`amount` written as it comes: a JSON number or a string).
pub fn refund_body(order: &str, cf_refund_id: &str, amount: &str, currency: &str) -> String {
    format!(
        r#"{{"data":{{"refund":{{"cf_refund_id":"{cf_refund_id}","refund_id":"{cf_refund_id}","order_id":"{order}","refund_amount":{amount},"refund_currency":"{currency}","refund_status":"SUCCESS"}}}},"type":"REFUND_STATUS_WEBHOOK"}}"#
    )
}

/// Digits for unique Cashfree ids.
pub fn rand_digits() -> String {
    (Uuid::new_v4().as_u128() % 10_000_000_000).to_string()
}
