//! Money is exact on both databases, and every amount is printed with two places.

use crate::helpers::*;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn large_amounts_round_trip_to_the_last_paisa() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let id = app.create_order(f, "987654321.99", "order_big").await;
    let d = app.gql_ok(&app.admin(), "query($id: UUID!) { payment(id: $id) { amount } }", json!({ "id": id })).await;
    assert_eq!(d["payment"]["amount"], "987654321.99");

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
    assert_eq!(sum, 98_765_432_199);
}

#[tokio::test]
async fn a_large_payment_is_split_into_fee_and_net_exactly() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.create_order(f, "987654321.99", "order_huge").await;
    let body = payment_body("PAYMENT_SUCCESS_WEBHOOK", "order_huge", "9001", "SUCCESS", "987654321.99");
    let (status, reply) = app.deliver_signed(&body).await;
    assert_eq!(status, 200, "{reply}");
    let d = app.gql_ok(&app.admin(), "{ payments { nodes { amount platformFee netAmount } } }", json!({})).await;
    let p = &d["payments"]["nodes"][0];
    assert_eq!(p["platformFee"], "98765432.20", "10% rounded half away from zero");
    assert_eq!(p["netAmount"], "888888889.79");
    assert_eq!(app.balance(f).await, "888888889.79");
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
        ("1000000000.01", "too large: at most 1000000000.00"),
        ("1e3", "string of digits"),
        ("1_000", "string of digits"),
        (" 10", "string of digits"),
    ] {
        let body =
            app.gql(Some(&app.admin()), q, json!({ "i": { "freelancerId": Uuid::new_v4(), "amount": amount } })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{amount}: {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(says), "{amount}: {body}");
    }
    let d = app.gql_ok(&app.admin(), "{ payments { totalCount } }", json!({})).await;
    assert_eq!(d["payments"]["totalCount"], 0, "nothing half-written");
}

#[tokio::test]
async fn json_numbers_are_refused_with_a_reason_wherever_they_come_from() {
    let app = TestApp::spawn().await;
    let q = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id } }";
    let variable = json!({ "i": { "freelancerId": Uuid::new_v4(), "amount": 10.5 } });
    let body = app.gql(Some(&app.admin()), q, variable).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("not JSON numbers"), "{body}");
    let f = Uuid::new_v4();
    let literal =
        format!("mutation {{ createPaymentOrder(input: {{ freelancerId: \"{f}\", amount: 10.5 }}) {{ id }} }}");
    let body = app.gql(Some(&app.admin()), &literal, json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("not JSON numbers"), "{body}");
}

#[tokio::test]
async fn text_with_control_characters_or_beyond_its_length_is_refused() {
    let app = TestApp::spawn().await;
    let q = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id purpose } }";
    let f = Uuid::new_v4();
    for (field, value, says) in [
        ("purpose", "logo\u{0}design".to_owned(), "control character"),
        ("purpose", "x".repeat(201), "at most 200"),
        ("clientId", "c".repeat(101), "at most 100"),
        ("clientId", "client\u{1b}[31m".to_owned(), "control character"),
    ] {
        let i = json!({ "freelancerId": f, "amount": "10.00", field: value });
        let body = app.gql(Some(&app.admin()), q, json!({ "i": i })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{field}: {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(says), "{field}: {body}");
    }
    app.fund(f, "1000.00").await;
    let t = app.token(entity::status::Role::Freelancer, f);
    let body = app
        .gql(
            Some(&t),
            "mutation($i: RequestPayoutInput!) { requestPayout(input: $i) { id } }",
            json!({ "i": { "amount": "10.00", "note": "pay\u{0}me" } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let d = app.gql_ok(&app.admin(), "{ payments { totalCount } payoutRequests { totalCount } }", json!({})).await;
    assert_eq!((d["payments"]["totalCount"].as_i64(), d["payoutRequests"]["totalCount"].as_i64()), (Some(1), Some(0)));
}
