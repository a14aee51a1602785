//! Money is exact on both databases, and every amount is printed with two places.

use crate::helpers::*;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn large_amounts_round_trip_to_the_last_paisa() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let id = app.create_order(f, "12345678901234.56", "order_big").await;
    let d = app.gql_ok(&app.admin(), "query($id: UUID!) { payment(id: $id) { amount } }", json!({ "id": id })).await;
    assert_eq!(d["payment"]["amount"], "12345678901234.56");

    // What the database holds is an exact integer of minor units, and SQL can sum it exactly.
    let db = &app.state.db;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST(SUM(amount) AS BIGINT) AS s FROM payments",
        ))
        .await
        .unwrap()
        .unwrap();
    let sum: i64 = row.try_get("", "s").unwrap();
    assert_eq!(sum, 1_234_567_890_123_456);
}

#[tokio::test]
async fn a_large_payment_is_split_into_fee_and_net_exactly() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.create_order(f, "12345678901234.56", "order_huge").await;
    let body = payment_body("PAYMENT_SUCCESS_WEBHOOK", "order_huge", "9001", "SUCCESS", "12345678901234.56");
    let (status, reply) = app.deliver_signed(&body).await;
    assert_eq!(status, 200, "{reply}");
    let d = app.gql_ok(&app.admin(), "{ payments { nodes { amount platformFee netAmount } } }", json!({})).await;
    let p = &d["payments"]["nodes"][0];
    assert_eq!(p["platformFee"], "1234567890123.46", "10% rounded half away from zero");
    assert_eq!(p["netAmount"], "11111111011111.10");
    assert_eq!(app.balance(f).await, "11111111011111.10");
}

#[tokio::test]
async fn whole_amounts_print_with_two_places() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let id = app.create_order(f, "1500", "order_whole").await;
    let d = app.gql_ok(&app.admin(), "query($id: UUID!) { payment(id: $id) { amount } }", json!({ "id": id })).await;
    assert_eq!(d["payment"]["amount"], "1500.00");
}

#[tokio::test]
async fn amounts_that_are_not_money_are_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    let q = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id } }";
    for (amount, says) in [
        ("10.001", "more than 2 decimal places"),
        ("0", "greater than zero"),
        ("-5.00", "greater than zero"),
        ("abc", ""),
        ("99999999999999999999", "too large"),
    ] {
        let body =
            app.gql(Some(&app.admin()), q, json!({ "i": { "freelancerId": Uuid::new_v4(), "amount": amount } })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{amount}: {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(says), "{amount}: {body}");
    }
    let d = app.gql_ok(&app.admin(), "{ payments { totalCount } }", json!({})).await;
    assert_eq!(d["payments"]["totalCount"], 0, "nothing half-written");
}
