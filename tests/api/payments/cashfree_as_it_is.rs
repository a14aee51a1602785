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
    assert_books_whole(&app);
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
    assert_books_whole(&app);
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
    assert_books_whole(&app);
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
    assert_books_whole(&app);
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
    // The same incident delivered again is a duplicate: it does not hold what an admin released.
    let again = sent("BENEFICIARY_INCIDENT", json!({ "beneficiary_id": bene, "status": "UNRESOLVED", "mode": "IMPS" }));
    let (status, reply) = deliver_transfer(&app, again).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("DUPLICATE")), "{reply}");
    assert!(app.request_payout(f, "100.00").await["data"]["requestPayout"]["id"].is_string());
    assert_books_whole(&app);
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
    assert_books_whole(&app);
}

const CREATE: &str = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id orderId linkUrl } }";
const PAYMENT: &str = "query($id: UUID!) { payment(id: $id) { status amount platformFee netAmount refundedAmount } }";
const REFUND: &str = "mutation($i: CreateRefundInput!) { createRefund(input: $i) { refundId status } }";
const VERIFY: &str = "mutation($i: VerifyPaymentInput!) { verifyPayment(input: $i) { status } }";

/// An order of `amount` for `f` at Cashfree, with a payment link when `link`; its id and order id.
async fn order(app: &TestApp, f: Uuid, amount: &str, link: bool) -> (String, String) {
    let i = json!({ "freelancerId": f, "amount": amount, "customerPhone": "9999912345", "paymentLink": link });
    let d = app.gql_ok(&app.admin(), CREATE, json!({ "i": i })).await;
    let p = &d["createPaymentOrder"];
    (p["id"].as_str().unwrap().to_owned(), p["orderId"].as_str().unwrap().to_owned())
}

async fn payment(app: &TestApp, id: &str) -> Value {
    app.gql_ok(&app.admin(), PAYMENT, json!({ "id": id })).await["payment"].clone()
}

#[tokio::test]
async fn a_payment_through_a_link_is_credited_refunded_and_verified_on_the_order_cashfree_made() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = Uuid::new_v4();
    let (id, link) = order(&app, f, "1000.00", true).await;
    // Cashfree puts the link's payment on an order of its own, naming the link in order_tags.
    let (answer, cf_order) = double.pay_link(&link, "SUCCESS").await.unwrap();
    assert_eq!(answer, 200);
    assert!(cf_order.starts_with("CFPay_"), "{cf_order}");
    assert_eq!(payment(&app, &id).await["status"], "SUCCESS");
    assert_eq!(app.balance(f).await, "900.00", "credited net of the fee");
    // Its refund goes to that order, and Cashfree's refund webhook (which names that order) books it.
    let i = json!({ "paymentId": id, "amount": "100.00", "reason": "partial refund for a late delivery" });
    let r = app.gql_ok(&app.admin(), REFUND, json!({ "i": i })).await;
    assert_eq!(double.calls(&format!("POST /pg/orders/{cf_order}/refunds")), 1, "refunded on Cashfree's order");
    let refund_id = r["createRefund"]["refundId"].as_str().unwrap();
    assert_eq!(double.complete_refund(refund_id, "SUCCESS").await, Ok(200));
    assert_eq!(payment(&app, &id).await["refundedAmount"], "100.00");
    assert_eq!(app.balance(f).await, "810.00");
    // A second link whose payment's webhook never came: verifyPayment finds it through the link's orders.
    let (other, link) = order(&app, f, "500.00", true).await;
    let cf_order = double.link_order(&link).unwrap();
    double.record_payment(&cf_order, "SUCCESS").unwrap();
    let v =
        app.gql_ok(&app.admin(), VERIFY, json!({ "i": { "paymentId": other, "reason": "client sent proof" } })).await;
    assert_eq!(v["verifyPayment"]["status"], "SUCCESS", "{v}");
    assert_eq!(double.calls(&format!("GET /pg/links/{link}/orders")), 1);
    assert_eq!(app.balance(f).await, "1260.00");
    assert_books_whole(&app);
}

#[tokio::test]
async fn a_payment_with_an_offer_is_booked_at_what_the_client_paid() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let order_id = format!("order_OFR_{}", rand_digits());
    let id = app.create_order(f, "2.00", &order_id).await;
    // Cashfree's documented success sample (re-created with our values): an order of 2 paid with 1 under an offer.
    let mut body = crate::payments::conformance::sample("payment_success_offer.json");
    body["data"]["order"]["order_id"] = json!(order_id);
    let (status, reply) = app.deliver_signed(&body.to_string()).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
    let p = payment(&app, &id).await;
    assert_eq!((p["status"].as_str(), p["amount"].as_str()), (Some("SUCCESS"), Some("1.00")), "{p}");
    assert_eq!(p["netAmount"], "0.90", "the fee and the credit follow what was paid: {p}");
    assert_eq!(app.accounts().await["GATEWAY_CLEARING"], "1.00", "what Cashfree captured and will settle");
    // Less than the order without an offer is still money that matches no order.
    let short = format!("ord_{}", rand_digits());
    app.create_order(f, "2.00", &short).await;
    let (status, reply) =
        app.deliver_signed(&payment_body("PAYMENT_SUCCESS_WEBHOOK", &short, &rand_digits(), "SUCCESS", "1.00")).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("UNMATCHED")), "{reply}");
    assert_books_whole(&app);
}

#[tokio::test]
async fn refunding_a_clients_second_charge_takes_nothing_from_the_freelancer() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let f = Uuid::new_v4();
    let (id, order_id) = order(&app, f, "400.00", false).await;
    assert_eq!(double.pay(&order_id, "SUCCESS").await, Ok(200));
    assert_eq!(double.pay(&order_id, "SUCCESS").await, Ok(200), "the client is charged twice");
    assert_eq!(app.balance(f).await, "360.00");
    let second = alerts_of(&app, "double_charge").await;
    assert_eq!(second.len(), 1, "{second:?}");
    // The admin refunds the second charge at Cashfree, as the alert says; Cashfree's webhook names that charge.
    let charges = double.payments(&order_id);
    let charge = charges[1]["cf_payment_id"].as_str().unwrap();
    let body = json!({ "data": { "refund": {
        "cf_refund_id": rand_digits(), "cf_payment_id": charge, "refund_id": "dashboard_refund_1",
        "order_id": order_id, "refund_amount": 400.00, "refund_currency": "INR", "refund_status": "SUCCESS",
        "entity": "refund", "refund_type": "MERCHANT_INITIATED"
    } }, "event_time": "2025-03-14T12:20:31+05:30", "type": "REFUND_STATUS_WEBHOOK" });
    let (status, reply) = app.deliver_signed(&body.to_string()).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
    assert_eq!(app.balance(f).await, "360.00", "nothing taken from the freelancer");
    let p = payment(&app, &id).await;
    assert_eq!((p["status"].as_str(), p["refundedAmount"].as_str()), (Some("SUCCESS"), Some("0.00")), "{p}");
    // A refund naming the credited charge still books as before.
    let first = charges[0]["cf_payment_id"].as_str().unwrap();
    let mut body = body;
    body["data"]["refund"]["cf_payment_id"] = json!(first);
    body["data"]["refund"]["cf_refund_id"] = json!(rand_digits());
    body["data"]["refund"]["refund_amount"] = json!(100);
    let (status, _) = app.deliver_signed(&body.to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(app.balance(f).await, "270.00");
    assert_books_whole(&app);
}

const DISPUTES: &str = "{ disputes { nodes { cfDisputeId status type held } } }";

/// A dispute webhook body of `kind` for `order`, its dispute of `dispute_type` at `status` (documentation page
/// shape: `order_details` beside the dispute).
fn dispute(kind: &str, order: &str, id: &str, dispute_type: &str, status: &str) -> Value {
    json!({
        "data": {
            "dispute": { "dispute_id": id, "dispute_type": dispute_type, "reason_code": "1402",
                         "reason_description": "Duplicate Processing", "dispute_amount": 300.00,
                         "created_at": "2026-12-01T21:49:48+05:30", "updated_at": "2026-12-01T21:49:48+05:30",
                         "respond_by": "2026-12-18T23:59:59+05:30", "dispute_status": status,
                         "cf_dispute_remarks": "Dispute is created, please take action", "dispute_action_on": "MERCHANT" },
            "order_details": { "order_id": order, "order_amount": 1000.00, "order_currency": "INR",
                               "cf_payment_id": "1", "payment_amount": 1000.00, "payment_currency": "INR" },
        },
        "event_time": "2026-12-01T21:49:48+05:30", "type": kind
    })
}

#[tokio::test]
async fn disputes_close_on_insufficient_evidence_read_either_shape_and_retrievals_hold_nothing() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let order = app.fund(f, "1000.00").await;
    // Closed for insufficient evidence (an enum value of the SDK's DisputesEntity): lost, not held for ever.
    let id = rand_digits();
    for (kind, status) in
        [("DISPUTE_CREATED", "CHARGEBACK_CREATED"), ("DISPUTE_CLOSED", "CHARGEBACK_INSUFFICIENT_EVIDENCE")]
    {
        let (code, reply) = app.deliver_signed(&dispute(kind, &order, &id, "CHARGEBACK", status).to_string()).await;
        assert_eq!((code, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
    }
    let d = app.gql_ok(&app.admin(), DISPUTES, json!({})).await;
    let lost = d["disputes"]["nodes"].as_array().unwrap().iter().find(|n| n["cfDisputeId"] == id.as_str()).unwrap();
    assert_eq!(lost["status"], "LOST", "{d}");
    assert_eq!(app.balance(f).await, "600.00", "held, then lost for good");
    // The SDK's DisputesEntity carries order_details inside the dispute.
    let other = rand_digits();
    let mut inside = dispute("DISPUTE_CREATED", &order, &other, "CHARGEBACK", "CHARGEBACK_CREATED");
    let details = inside["data"].as_object_mut().unwrap().remove("order_details").unwrap();
    inside["data"]["dispute"]["order_details"] = details;
    let (code, reply) = app.deliver_signed(&inside.to_string()).await;
    assert_eq!((code, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
    assert_eq!(app.balance(f).await, "300.00");
    // A retrieval request asks for information: nothing is taken from the wallet.
    let asked = rand_digits();
    let retrieval = dispute("DISPUTE_CREATED", &order, &asked, "RETRIEVAL", "RETRIEVAL_CREATED").to_string();
    let (code, reply) = app.deliver_signed(&retrieval).await;
    assert_eq!((code, reply["outcome"].as_str()), (200, Some("PROCESSED")), "{reply}");
    assert!(reply["message"].as_str().unwrap().contains("nothing is held"), "{reply}");
    assert_eq!(app.balance(f).await, "300.00");
    let d = app.gql_ok(&app.admin(), DISPUTES, json!({})).await;
    let r = d["disputes"]["nodes"].as_array().unwrap().iter().find(|n| n["cfDisputeId"] == asked.as_str()).unwrap();
    assert_eq!(
        (r["status"].as_str(), r["held"].as_str(), r["type"].as_str()),
        (Some("OPEN"), Some("0.00"), Some("RETRIEVAL"))
    );
    assert_books_whole(&app);
}
