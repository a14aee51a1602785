//! Payouts that move money through Cashfree (our double): the whole loop from order to PAID, failed and
//! reversed transfers that return the money, a transfer whose creation went unanswered paid exactly once,
//! concurrent approvals that make one transfer, and Cashfree's health as operators see it.

use crate::helpers::*;
use cashfree_double::Fault;
use entity::status::Role;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const APPROVE: &str = "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) \
    { id status cfTransferId transferStatus failureReason } }";
const REGISTER: &str = "mutation($i: RegisterBeneficiaryInput!) { registerBeneficiary(input: $i) { kind masked } }";
const PAYOUT: &str =
    "query($id: UUID!) { payoutRequest(id: $id) { status transferStatus cfTransferId failureReason } }";

async fn request(app: &TestApp, f: Uuid, amount: &str) -> String {
    let body = app.request_payout(f, amount).await;
    body["data"]["requestPayout"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

async fn approve(app: &TestApp, id: &str) -> Value {
    app.gql(Some(&app.admin()), APPROVE, json!({ "i": { "payoutRequestId": id } })).await
}

async fn payout(app: &TestApp, id: &str) -> Value {
    app.gql_ok(&app.admin(), PAYOUT, json!({ "id": id })).await["payoutRequest"].clone()
}

/// Waits until the payout reaches `status` (the sweep runs every second in these tests).
async fn until(app: &TestApp, id: &str, status: &str) -> Value {
    for _ in 0..100 {
        let p = payout(app, id).await;
        if p["status"] == status {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("payout {id} never became {status}: {}", payout(app, id).await);
}

#[tokio::test]
async fn order_pay_credit_request_approve_transfer_paid() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    assert_eq!(app.balance(f).await, "900.00");
    let id = request(&app, f, "300.00").await;
    let approved = approve(&app, &id).await;
    let p = &approved["data"]["approvePayout"];
    assert_eq!(p["status"], "PROCESSING", "{approved}");
    assert_eq!(p["transferStatus"], "RECEIVED");
    assert_eq!(app.balance(f).await, "600.00", "debited when approved, under the reserve check");
    let sent = double.transfer(&Uuid::parse_str(&id).unwrap().simple().to_string()).expect("a transfer");
    assert_eq!(sent["transfer_amount"].to_string(), "300.00");
    assert_eq!(double.traceparents("POST /payout/transfers"), vec![None], "no trace context while traces are off");
    assert_eq!(double.complete_transfer(sent["transfer_id"].as_str().unwrap(), "SUCCESS").await, Ok(200));
    let done = payout(&app, &id).await;
    assert_eq!((done["status"].as_str(), done["transferStatus"].as_str()), (Some("PAID"), Some("SUCCESS")));
    assert_eq!(app.balance(f).await, "600.00");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn approval_needs_a_beneficiary_and_debits_nothing_without_one() {
    let (app, _double) = spawn_with_double(|_| {}).await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let id = request(&app, f, "100.00").await;
    let refused = approve(&app, &id).await;
    assert_eq!(code(&refused), "INVALID_STATE", "{refused}");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("beneficiary"), "{refused}");
    assert_eq!(app.balance(f).await, "900.00");
    assert_eq!(payout(&app, &id).await["status"], "PENDING");
}

#[tokio::test]
async fn failed_and_reversed_transfers_return_the_money_and_alert() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let mut alerts = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    alerts
        .subscribe("a", "subscription { alerts(minSeverity: WARNING) { kind severity payoutRequestId } }", json!({}))
        .await;
    let f = funded_freelancer(&app, &double).await;
    let failed = request(&app, f, "200.00").await;
    approve(&app, &failed).await;
    assert_eq!(app.balance(f).await, "700.00");
    double.complete_transfer(&Uuid::parse_str(&failed).unwrap().simple().to_string(), "FAILED").await.unwrap();
    let p = payout(&app, &failed).await;
    assert_eq!(p["status"], "FAILED", "{p}");
    assert!(p["failureReason"].as_str().unwrap().contains("declined"), "{p}");
    assert_eq!(app.balance(f).await, "900.00", "credited back by a ledger row");
    let (_, a) = alerts.event(Duration::from_secs(10)).await.expect("an alert");
    assert_eq!(
        (a["data"]["alerts"]["kind"].as_str(), a["data"]["alerts"]["severity"].as_str()),
        (Some("payout_failed"), Some("WARNING"))
    );

    let reversed = request(&app, f, "250.00").await;
    approve(&app, &reversed).await;
    let tid = Uuid::parse_str(&reversed).unwrap().simple().to_string();
    double.complete_transfer(&tid, "SUCCESS").await.unwrap();
    assert_eq!(payout(&app, &reversed).await["status"], "PAID");
    assert_eq!(app.balance(f).await, "650.00");
    double.complete_transfer(&tid, "REVERSED").await.unwrap();
    assert_eq!(payout(&app, &reversed).await["status"], "REVERSED");
    assert_eq!(app.balance(f).await, "900.00");
    let (_, a) = alerts.event(Duration::from_secs(10)).await.expect("an alert");
    assert_eq!(a["data"]["alerts"]["kind"], "payout_reversed", "{a}");
    assert_eq!(a["data"]["alerts"]["severity"], "CRITICAL");
    assert_eq!(a["data"]["alerts"]["payoutRequestId"], reversed);
    // A repeated webhook changes nothing.
    double.complete_transfer(&tid, "REVERSED").await.unwrap();
    assert_eq!(app.balance(f).await, "900.00");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");

    use sea_orm::ConnectionTrait;
    let sql = format!(
        "DELETE FROM wallet_transactions WHERE kind = 'payout_return' AND payout_request_id = {}",
        uuid_literal(Uuid::parse_str(&reversed).unwrap())
    );
    app.state.db.execute_unprepared(&sql).await.unwrap();
    let (clean, report) = app.reconcile();
    assert!(!clean && report.contains(&format!("payout {reversed}: REVERSED with 1 debits and 0 returns")), "{report}");
}

#[tokio::test]
async fn an_unanswered_transfer_is_looked_up_not_resent_and_paid_once() {
    let (app, double) = spawn_with_double(|c| c.transfer_poll_secs = 1).await;
    let f = funded_freelancer(&app, &double).await;
    // Cashfree takes the transfer but the answer is a 500: paydesk cannot know, so it must not send again.
    double.fail_next("/payout/transfers", Fault::StatusAfter(500), 1);
    let id = request(&app, f, "100.00").await;
    let p = &approve(&app, &id).await["data"]["approvePayout"];
    assert_eq!(p["status"], "PROCESSING");
    assert!(p["transferStatus"].as_str().unwrap().starts_with("UNKNOWN"), "{p}");
    let tid = Uuid::parse_str(&id).unwrap().simple().to_string();
    for _ in 0..50 {
        if payout(&app, &id).await["transferStatus"] == "RECEIVED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(payout(&app, &id).await["transferStatus"], "RECEIVED", "the sweep looked it up");
    double.complete_transfer(&tid, "SUCCESS").await.unwrap();
    until(&app, &id, "PAID").await;
    assert_eq!(double.calls("POST /payout/transfers"), 1, "never resent");
    assert_eq!(app.balance(f).await, "800.00");

    // A 500 before Cashfree took it: the sweep finds no such transfer and sends it, once.
    double.fail_next("/payout/transfers", Fault::Status(500), 1);
    let second = request(&app, f, "50.00").await;
    approve(&app, &second).await;
    let tid = Uuid::parse_str(&second).unwrap().simple().to_string();
    for _ in 0..50 {
        if double.transfer(&tid).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(double.transfer(&tid).is_some(), "the sweep sent the transfer Cashfree never got");
    double.complete_transfer(&tid, "SUCCESS").await.unwrap();
    until(&app, &second, "PAID").await;
    assert_eq!(double.calls("POST /payout/transfers"), 3);
    assert_eq!(app.balance(f).await, "750.00");
}

#[tokio::test]
async fn concurrent_approvals_of_one_payout_make_one_transfer() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    let id = request(&app, f, "100.00").await;
    let answers = futures_util::future::join_all((0..8).map(|_| approve(&app, &id))).await;
    let won = answers.iter().filter(|a| a["data"]["approvePayout"]["status"] == "PROCESSING").count();
    assert_eq!(won, 1, "{answers:?}");
    assert!(answers.iter().filter(|a| a.get("errors").is_some()).all(|a| code(a) == "INVALID_STATE"), "{answers:?}");
    assert_eq!(double.calls("POST /payout/transfers"), 1);
    assert_eq!(app.balance(f).await, "800.00");
}

#[tokio::test]
async fn operators_see_when_cashfree_goes_down_and_comes_back() {
    let (app, double) = spawn_with_double(|c| c.cashfree_breaker_secs = 1).await;
    let mut alerts = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    alerts.subscribe("a", "subscription { alerts { kind severity message } }", json!({})).await;
    double.fail_next("/pg/orders", Fault::Status(503), 3);
    let q = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id } }";
    let i = json!({ "freelancerId": Uuid::new_v4(), "amount": "10.00", "customerPhone": "9999912345" });
    assert_eq!(code(&app.gql(Some(&app.admin()), q, json!({ "i": i.clone() })).await), "UNAVAILABLE");
    let (_, down) = alerts.event(Duration::from_secs(10)).await.expect("an alert");
    assert_eq!(
        (down["data"]["alerts"]["kind"].as_str(), down["data"]["alerts"]["severity"].as_str()),
        (Some("cashfree_down"), Some("CRITICAL"))
    );
    let status = "{ cashfreeStatus { paymentGateway { configured up consecutiveFailures lastError } payouts { configured up } } }";
    let ops = app.token(Role::Ops, Uuid::new_v4());
    let s = app.gql_ok(&ops, status, json!({})).await["cashfreeStatus"].clone();
    assert_eq!((s["paymentGateway"]["up"].as_bool(), s["payouts"]["up"].as_bool()), (Some(false), Some(true)), "{s}");
    let ready: Value = app.http.get(app.url("/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["cashfree"]["pg"]["up"], false, "{ready}");
    let metrics = app.http.get(app.url("/metrics")).bearer_auth(&ops).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("paydesk_cashfree_up{api=\"pg\"} 0"), "{metrics}");
    // After the breaker's second, the next call goes through and Cashfree answers again.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    app.gql_ok(&app.admin(), q, json!({ "i": i })).await;
    let (_, up) = alerts.event(Duration::from_secs(10)).await.expect("an alert");
    assert_eq!(
        (up["data"]["alerts"]["kind"].as_str(), up["data"]["alerts"]["severity"].as_str()),
        (Some("cashfree_up"), Some("INFO"))
    );
    assert_eq!(app.gql_ok(&ops, status, json!({})).await["cashfreeStatus"]["paymentGateway"]["up"], true);
}

/// `cashfree-double`, run as a person would beside a server: the link is paid through the double's control route,
/// and the transfer ends by itself. The `paydesk` binary, which production runs, does not carry it.
#[tokio::test]
async fn the_cashfree_double_binary_runs_the_whole_loop() {
    let in_paydesk = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk")).arg("cashfree-double").output().unwrap();
    assert!(!in_paydesk.status.success(), "paydesk has no cashfree-double subcommand");
    let bin = env!("CARGO_BIN_EXE_cashfree-double");
    let refused = std::process::Command::new(bin)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("CASHFREE_CLIENT_ID")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("CASHFREE_CLIENT_ID is not set"));

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let app = TestApp::spawn_with(|c| {
        c.cashfree_client_id = Some(CF_CLIENT_ID.into());
        c.cashfree_payout_client_id = Some(CF_PAYOUT_ID.into());
        c.cashfree_payout_client_secret = vec![CF_PAYOUT_SECRET.into()];
        c.cashfree_base_url = Some(base.clone());
        c.cashfree_breaker_secs = 1;
    })
    .await;
    let child = std::process::Command::new(bin)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--paydesk-url", &app.url("")])
        .args(["--complete-transfers-after", "200ms"])
        .env("CASHFREE_CLIENT_ID", CF_CLIENT_ID)
        .env("CASHFREE_CLIENT_SECRET", CF_SECRET)
        .env("CASHFREE_PAYOUT_CLIENT_ID", CF_PAYOUT_ID)
        .env("CASHFREE_PAYOUT_CLIENT_SECRET", CF_PAYOUT_SECRET)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _double = Kill(child);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let f = Uuid::new_v4();
    let q = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { orderId linkUrl } }";
    let i = json!({ "freelancerId": f, "amount": "500.00", "customerPhone": "9999912345", "paymentLink": true });
    let order = app.gql_ok(&app.admin(), q, json!({ "i": i })).await["createPaymentOrder"].clone();
    let link = order["linkUrl"].as_str().unwrap();
    assert!(link.starts_with(&base), "{order}");
    let page = app.http.get(link).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("500.00"), "{page}");
    let paid = app
        .http
        .post(format!("{base}/__double/orders/{}/pay?status=SUCCESS", order["orderId"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.json::<Value>().await.unwrap()["webhook_answer"], 200);
    assert_eq!(app.balance(f).await, "450.00");

    // Three 503s outlast the client's retries and open the breaker; once it closes, calls go through.
    let fault = json!({ "path": "/payout/beneficiary", "status": 503, "times": 3 });
    let told = app.http.post(format!("{base}/__double/faults")).json(&fault).send().await.unwrap();
    assert_eq!(told.status(), 200);
    let me = app.token(Role::Freelancer, f);
    let i = json!({ "name": "Asha Rao", "vpa": "asha@okbank" });
    let first = app.gql(Some(&me), REGISTER, json!({ "i": i })).await;
    assert_eq!(code(&first), "UNAVAILABLE", "the injected 503s: {first}");
    let fast = app.gql(Some(&me), REGISTER, json!({ "i": i })).await;
    assert!(fast["errors"][0]["message"].as_str().unwrap().contains("calls resume in 1 s"), "{fast}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.gql_ok(&me, REGISTER, json!({ "i": i })).await;

    let id = request(&app, f, "200.00").await;
    assert_eq!(approve(&app, &id).await["data"]["approvePayout"]["status"], "PROCESSING");
    until(&app, &id, "PAID").await;
    assert_eq!(app.balance(f).await, "250.00");
}

#[tokio::test]
async fn a_signed_transfer_webhook_with_a_negative_amount_is_malformed_and_settles_nothing() {
    let Processing { app, mut alerts, f, id, transfer, .. } = processing_payout().await;
    let body = json!({ "data": { "transfer_id": transfer, "cf_transfer_id": "cf_tr_1", "status": "REVERSED",
                                  "transfer_amount": -300.00, "transfer_currency": "INR" },
                       "type": "TRANSFER_REVERSED" })
    .to_string();
    let (status, reply) = deliver_transfer(&app, body).await;
    assert_eq!((status, reply["outcome"].as_str()), (400, Some("MALFORMED")), "{reply}");
    assert!(reply["error"]["message"].as_str().unwrap().contains("data.transfer_amount must be greater than zero"));
    let (_, alert) = alerts.event(Duration::from_secs(10)).await.expect("a CRITICAL alert");
    assert_eq!(alert["data"]["alerts"]["kind"], "webhook_malformed", "{alert}");
    assert_eq!(payout(&app, &id).await["status"], "PROCESSING", "nothing was settled");
    assert_eq!(app.balance(f).await, "600.00", "nothing was credited back");
}

#[tokio::test]
async fn a_transfer_of_another_amount_than_its_payout_settles_nothing_and_is_critical() {
    let Processing { app, mut alerts, f, id, transfer, .. } = processing_payout().await;
    for (amount, currency, end) in [("250.00", "INR", "SUCCESS"), ("300.00", "USD", "REVERSED")] {
        let body = json!({ "data": { "transfer_id": transfer, "cf_transfer_id": "cf_tr_1", "status": end,
                                      "transfer_amount": amount, "transfer_currency": currency },
                           "type": format!("TRANSFER_{end}") })
        .to_string();
        let (status, reply) = deliver_transfer(&app, body).await;
        assert_eq!((status, reply["outcome"].as_str()), (200, Some("UNMATCHED")), "{reply}");
        assert!(reply["message"].as_str().unwrap().contains("not settled"), "{reply}");
        let (_, alert) = alerts.event(Duration::from_secs(10)).await.expect("a CRITICAL alert");
        assert_eq!(alert["data"]["alerts"]["kind"], "webhook_unmatched", "{alert}");
        assert!(alert["data"]["alerts"]["message"].as_str().unwrap().contains(&format!("{amount} {currency}")));
    }
    assert_eq!(payout(&app, &id).await["status"], "PROCESSING", "nothing was settled");
    assert_eq!(app.balance(f).await, "600.00", "nothing was paid out or credited back");
}

/// A server with the Cashfree double, a subscriber to CRITICAL alerts, and a payout of 300.00 from a wallet of
/// 900.00, approved and PROCESSING: its transfer is under way.
struct Processing {
    app: TestApp,
    _double: std::sync::Arc<cashfree_double::Double>,
    alerts: Subscriber,
    f: Uuid,
    id: String,
    transfer: String,
}

async fn processing_payout() -> Processing {
    let (app, double) = spawn_with_double(|_| {}).await;
    let mut alerts = Subscriber::connect(&app, &app.admin(), "graphql-transport-ws").await;
    alerts.subscribe("c", crate::payments::provider_amounts::CRITICAL, json!({})).await;
    let f = funded_freelancer(&app, &double).await;
    let id = request(&app, f, "300.00").await;
    assert_eq!(approve(&app, &id).await["data"]["approvePayout"]["status"], "PROCESSING");
    let transfer = Uuid::parse_str(&id).unwrap().simple().to_string();
    Processing { app, _double: double, alerts, f, id, transfer }
}
