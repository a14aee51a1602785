//! Cashfree as its SDKs and documentation describe it, not as our double first guessed: transfer charges that come
//! on the acknowledgement, events paydesk does not act on, the Payouts secret during a rotation, beneficiaries
//! that already exist, orders Cashfree would refuse, payments through links, with offers, and refunds of a
//! client's second charge.

use crate::helpers::*;
use serde_json::{json, Value};
use uuid::Uuid;

const APPROVE: &str = "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) \
    { id status cfTransferId transferStatus failureReason } }";
const PAYOUT: &str = "query($id: UUID!) { payoutRequest(id: $id) { status transferStatus cfTransferId } }";
const ENTRIES: &str =
    "query($k: JournalEntryKind!) { journal(first: 50, filter: { kinds: [$k] }) { totalCount nodes { reference } } }";

/// Requests and approves a payout of `amount` for `f`; returns its transfer id at Cashfree.
async fn approved_transfer(app: &TestApp, f: Uuid, amount: &str) -> (String, String) {
    let body = app.request_payout(f, amount).await;
    let id = body["data"]["requestPayout"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    let d = app.gql_ok(&app.admin(), APPROVE, json!({ "i": { "payoutRequestId": id } })).await;
    assert_eq!(d["approvePayout"]["status"], "PROCESSING", "{d}");
    assert!(d["approvePayout"]["cfTransferId"].is_string(), "Cashfree's id is kept from RECEIVED on: {d}");
    (id.clone(), Uuid::parse_str(&id).unwrap().simple().to_string())
}

async fn payout(app: &TestApp, id: &str) -> Value {
    app.gql_ok(&app.admin(), PAYOUT, json!({ "id": id })).await["payoutRequest"].clone()
}

#[tokio::test]
async fn transfer_charges_come_on_the_acknowledgement_and_are_booked_once_in_either_order() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    // Acknowledged first (Payouts V2: "successful and debited from the account"), then sent to the beneficiary.
    let (first, tid) = approved_transfer(&app, f, "300.00").await;
    assert_eq!(double.transfer_event(&tid, "ACKNOWLEDGED").await, Ok(200));
    assert_eq!(payout(&app, &first).await["status"], "PAID", "an acknowledged transfer has left the account");
    assert_eq!(app.accounts().await["TRANSFER_COSTS"], "3.54", "3.00 charge and 0.54 tax");
    assert_eq!(double.transfer_event(&tid, "SUCCESS").await, Ok(200));
    let p = payout(&app, &first).await;
    assert_eq!(p["status"], "PAID", "{p}");
    // The other order: sent to the beneficiary, then acknowledged with the charges; then Cashfree repeats itself.
    let (second, tid) = approved_transfer(&app, f, "200.00").await;
    assert_eq!(double.transfer_event(&tid, "SUCCESS").await, Ok(200));
    assert_eq!(payout(&app, &second).await["status"], "PAID");
    assert_eq!(app.accounts().await["TRANSFER_COSTS"], "3.54", "no charges reported yet for the second");
    assert_eq!(double.transfer_event(&tid, "ACKNOWLEDGED").await, Ok(200));
    assert_eq!(double.transfer_event(&tid, "ACKNOWLEDGED").await, Ok(200), "a repeat under another key");
    let p = payout(&app, &second).await;
    assert_eq!((p["status"].as_str(), p["transferStatus"].as_str()), (Some("PAID"), Some("SUCCESS")), "{p}");
    let b = app.accounts().await;
    assert_eq!(b["TRANSFER_COSTS"], "7.08", "each transfer's charges once: {b:?}");
    assert_eq!(b["BANK"], "-507.08", "{b:?}");
    let d = app.gql_ok(&app.admin(), ENTRIES, json!({ "k": "TRANSFER_CHARGES" })).await;
    assert_eq!(d["journal"]["totalCount"], 2, "{d}");
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn during_a_payouts_key_rotation_webhooks_signed_with_the_older_key_are_taken() {
    const OLD: &str = "cfsk_payout_old_secret";
    let (app, double) = spawn_with_double(|c| c.cashfree_payout_client_secret.push(OLD.into())).await;
    let f = funded_freelancer(&app, &double).await;
    let (id, tid) = approved_transfer(&app, f, "300.00").await;
    // Cashfree signs with the oldest active key while both are active; paydesk calls with the first it is given.
    double.sign_payout_webhooks_with(OLD);
    assert_eq!(double.complete_transfer(&tid, "SUCCESS").await, Ok(200));
    assert_eq!(payout(&app, &id).await["status"], "PAID");
    // A key that is not (or no longer) configured is refused.
    double.sign_payout_webhooks_with("cfsk_payout_revoked");
    let (_, tid) = approved_transfer(&app, f, "100.00").await;
    assert_eq!(double.transfer_event(&tid, "FAILED").await, Ok(401));
}

#[tokio::test]
async fn a_beneficiary_cashfree_already_has_is_used_not_replaced_by_an_id_it_never_made() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    // The freelancer registers the same account again (a new id is made; Cashfree answers 409 for the account).
    let me = app.token(entity::status::Role::Freelancer, f);
    let i = json!({ "name": "Asha Rao", "bankAccountNumber": "026291800001191", "ifsc": "YESB0000262" });
    let register = "mutation($i: RegisterBeneficiaryInput!) { registerBeneficiary(input: $i) { kind masked } }";
    app.gql_ok(&me, register, json!({ "i": i })).await;
    let (id, tid) = approved_transfer(&app, f, "300.00").await;
    let sent = double.transfer(&tid).expect("the transfer reached Cashfree");
    assert_eq!(sent["status"], "RECEIVED", "sent to a beneficiary Cashfree has: {sent}");
    assert_eq!(double.complete_transfer(&tid, "SUCCESS").await, Ok(200));
    assert_eq!(payout(&app, &id).await["status"], "PAID");
    // A UPI handle Cashfree already has cannot be looked up by handle: refused, nothing stored.
    let other = Uuid::new_v4();
    let them = app.token(entity::status::Role::Freelancer, other);
    let upi = json!({ "name": "Ravi Kumar", "vpa": "ravi.k@okbank" });
    app.gql_ok(&them, register, json!({ "i": upi })).await;
    let again = app.gql(Some(&them), register, json!({ "i": upi })).await;
    assert_eq!(code(&again), "INVALID_STATE", "{again}");
    assert!(again["errors"][0]["message"].as_str().unwrap().contains("UPI handle"), "{again}");
}

#[tokio::test]
async fn an_order_cashfree_would_refuse_is_refused_here_and_never_sent() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let q = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id status } }";
    let f = Uuid::new_v4();
    for (amount, phone, client, why) in [
        ("100.00", "+919999912345", None, "10-digit"),
        ("100.00", "99999123", None, "10-digit"),
        ("0.50", "9999912345", None, "below 1.00"),
        ("100.00", "9999912345", Some("ab"), "3 to 50"),
    ] {
        let i = json!({ "freelancerId": f, "amount": amount, "customerPhone": phone, "clientId": client,
                        "orderId": format!("ord_{}", rand_digits()) });
        let body = app.gql(Some(&app.admin()), q, json!({ "i": i })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{amount} {phone}: {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(why), "{body}");
    }
    assert_eq!(double.calls("POST /pg/orders"), 0, "nothing Cashfree refuses is sent");
    let i = json!({ "freelancerId": f, "amount": "1.00", "customerPhone": "9999912345", "paymentLink": true });
    let made = app.gql_ok(&app.admin(), q, json!({ "i": i })).await;
    assert_eq!(made["createPaymentOrder"]["status"], "PENDING", "{made}");
}

const ALERTS: &str = "{ alerts(first: 50) { nodes { kind severity message webhookId } } }";
const HOLDS: &str = "{ payoutHolds { freelancerId reason placedBy } }";

/// The stored alerts of `kind`.
async fn alerts_of(app: &TestApp, kind: &str) -> Vec<Value> {
    let d = app.gql_ok(&app.admin(), ALERTS, json!({})).await;
    d["alerts"]["nodes"].as_array().unwrap().iter().filter(|a| a["kind"] == kind).cloned().collect()
}

#[tokio::test]
async fn payouts_events_that_are_not_transfer_outcomes_are_taken_never_refused() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = funded_freelancer(&app, &double).await;
    let bene = double.beneficiary_ids().pop().expect("the freelancer's beneficiary at Cashfree");
    let now = chrono::Utc::now().to_rfc3339();
    let sent = |kind: &str, data: Value| json!({ "type": kind, "event_time": now, "data": data }).to_string();
    // Cashfree disables a Payouts V2 endpoint after more than five failed deliveries in a row: each is a 200.
    for (kind, data) in [
        ("BULK_TRANSFER_REJECTED", json!({ "batch_transfer_id": "batch_77", "status": "REJECTED" })),
        ("CREDIT_CONFIRMATION", json!({ "amount": 50000.00 })),
        ("LOW_BALANCE_ALERT", json!({ "current_balance": 800.00 })),
        ("BENEFICIARY_INCIDENT", json!({ "beneficiary_id": bene, "status": "UNRESOLVED", "mode": "IMPS" })),
        ("PAYOUT_SOMETHING_NEW", json!({ "note": "a type paydesk has never seen" })),
    ] {
        let (status, reply) = deliver_transfer(&app, sent(kind, data)).await;
        assert_eq!((status, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{kind}: {reply}");
    }
    let (status, reply) = deliver_transfer(&app, sent("LOW_BALANCE_ALERT", json!({}))).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
    // What each was, in the webhook log.
    let d = app
        .gql_ok(&app.admin(), "{ paymentWebhooks(first: 20) { nodes { eventType outcome error } } }", json!({}))
        .await;
    let log = d["paymentWebhooks"]["nodes"].as_array().unwrap().clone();
    let said = |kind: &str| log.iter().find(|w| w["eventType"] == kind).map(|w| w["error"].clone()).unwrap_or_default();
    assert!(said("BULK_TRANSFER_REJECTED").as_str().unwrap().contains("single transfers only"), "{log:?}");
    assert!(said("CREDIT_CONFIRMATION").as_str().unwrap().contains("balance is read now"), "{log:?}");
    // Alerts: the low balance, the incident, the unknown type; the incident holds the beneficiary's payouts.
    assert_eq!(alerts_of(&app, "payout_balance_low").await.len(), 2);
    let unknown = alerts_of(&app, "webhook_unknown_type").await;
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert!(unknown[0]["message"].as_str().unwrap().contains("PAYOUT_SOMETHING_NEW"));
    assert_eq!(unknown[0]["severity"], "WARNING");
    let incident = alerts_of(&app, "beneficiary_incident").await;
    assert!(incident[0]["message"].as_str().unwrap().contains("1 freelancer(s)"), "{incident:?}");
    let holds = app.gql_ok(&app.admin(), HOLDS, json!({})).await;
    let held = &holds["payoutHolds"][0];
    assert_eq!(held["freelancerId"], f.to_string(), "{holds}");
    assert_eq!(held["placedBy"], Uuid::nil().to_string(), "placed by paydesk itself: {holds}");
    assert!(held["reason"].as_str().unwrap().contains("incident"), "{holds}");
    let refused = app.request_payout(f, "100.00").await;
    assert_eq!(code(&refused), "PAYOUTS_ON_HOLD", "{refused}");
    let release = "mutation($i: PayoutHoldInput!) { releasePayouts(input: $i) { freelancerId } }";
    app.gql_ok(&app.admin(), release, json!({ "i": { "freelancerId": f, "reason": "bank is back up" } })).await;
    assert!(app.request_payout(f, "100.00").await["data"]["requestPayout"]["id"].is_string());
    let (clean, report) = app.reconcile();
    assert!(clean, "{report}");
}

#[tokio::test]
async fn a_signed_payment_webhook_of_a_type_paydesk_does_not_act_on_is_recorded_and_answered() {
    let app = TestApp::spawn().await;
    for (kind, known) in [("SETTLEMENT_INITIATED", true), ("PAYMENT_SOMETHING_NEW", false), ("HEALTH_ALERT", true)] {
        let body = json!({ "type": kind, "event_time": "2025-04-22T14:42:08+05:30", "data": { "x": 1 } }).to_string();
        let (status, reply) = app.deliver_signed(&body).await;
        assert_eq!((status, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{kind}: {reply}");
        let unknown = alerts_of(&app, "webhook_unknown_type").await;
        assert_eq!(unknown.iter().any(|a| a["message"].as_str().unwrap().contains(kind)), !known, "{unknown:?}");
    }
    // Still refused: a bad signature and an unreadable body.
    let (status, _) =
        app.deliver("{}", &[("x-webhook-timestamp", "1".into()), ("x-webhook-signature", "x".into())]).await;
    assert_eq!(status, 401);
    let (status, _) = app.deliver_signed("not json").await;
    assert_eq!(status, 400);
}
