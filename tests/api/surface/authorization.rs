//! Each service that changes state checks the caller's role itself, so a caller other than GraphQL or REST (the
//! command line, a job) cannot skip the check: a caller without the role is FORBIDDEN and nothing changes.

use crate::helpers::*;
use entity::status::Role;
use entity::Money;
use paydesk::auth::Principal;
use paydesk::error::{AppError, AppResult};
use paydesk::notifications;
use paydesk::services::operations::{delivery, interventions};
use paydesk::services::payments::{self, gateway};
use paydesk::services::payouts::{self, beneficiaries, holds};
use serde_json::json;
use uuid::Uuid;

fn forbidden<T: std::fmt::Debug>(what: &str, result: AppResult<T>) {
    match result {
        Err(AppError::Forbidden(why)) => assert!(why.contains("role may not do this"), "{what}: {why}"),
        other => panic!("{what}: expected FORBIDDEN, got {other:?}"),
    }
}

#[tokio::test]
async fn a_caller_without_the_role_is_refused_by_the_service_itself() {
    let app = TestApp::spawn().await;
    let s = &app.state;
    let freelancer = Uuid::new_v4();
    app.fund(freelancer, "1000.00").await;
    let payout = app.request_payout(freelancer, "200.00").await;
    let payout: Uuid = payout["data"]["requestPayout"]["id"].as_str().expect("requested").parse().unwrap();
    let ops = Principal { id: Uuid::new_v4(), role: Role::Ops };
    let own = Principal { id: freelancer, role: Role::Freelancer };
    let amount = Money::from_decimal("10.00".parse().unwrap()).unwrap();

    forbidden("approve (ops)", payouts::approve(s, ops, payout, None, false).await);
    forbidden("approve (freelancer)", payouts::approve(s, own, payout, None, false).await);
    forbidden("reject", payouts::reject(s, ops, payout, "no".into(), false).await);
    forbidden("cancel", payouts::reject(s, own, payout, "no".into(), true).await);
    let req = payouts::NewRequest { freelancer_id: freelancer, amount, note: None, idempotency_key: None };
    forbidden("request (ops)", payouts::request(s, ops, req).await);
    forbidden("hold", holds::place(s, ops, None, "looking into it").await);
    forbidden("hold one", holds::place(s, own, Some(freelancer), "looking into it").await);
    forbidden("release", holds::release(s, ops, None, "done").await);
    forbidden("adjust", interventions::adjust_ledger(s, ops, freelancer, amount, "a gift").await);
    forbidden("verify", interventions::verify_payment(s, ops, Uuid::new_v4(), "checked", None).await);
    forbidden("reprocess", interventions::reprocess_webhook(s, ops, Uuid::new_v4(), "again").await);
    forbidden("redeliver", delivery::redeliver(s, ops, Uuid::new_v4(), "again").await);
    forbidden("mark read", notifications::mark_read(&s.db, ops, Uuid::new_v4()).await);
    let order = payments::NewOrder {
        freelancer_id: freelancer,
        amount,
        currency: "INR".into(),
        order_id: None,
        client_id: None,
        purpose: None,
    };
    let checkout = gateway::Checkout { customer_phone: None, link: false, idempotency_key: None };
    forbidden("open order", gateway::open_order(s, own, order, checkout).await);
    let bene = beneficiaries::NewBeneficiary {
        freelancer_id: freelancer,
        name: "A Freelancer".into(),
        bank_account_number: None,
        ifsc: None,
        vpa: Some("someone@upi".into()),
    };
    forbidden("register beneficiary", beneficiaries::register(s, ops, bene).await);

    // Nothing moved: the payout still waits, the wallet is whole, and no hold was placed.
    let d = app
        .gql_ok(
            &app.admin(),
            "query($id: UUID!) { payoutRequest(id: $id) { status } payoutHolds { freelancerId } }",
            json!({ "id": payout }),
        )
        .await;
    assert_eq!(d["payoutRequest"]["status"], "PENDING");
    assert_eq!(d["payoutHolds"], json!([]));
    assert_eq!(app.balance(freelancer).await, "900.00");
}
