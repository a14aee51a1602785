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
