//! What dashboards build on: lists in the order asked for (the payout queue oldest first, by amount), payment
//! search, and the ledger as a pageable connection, top-level and per wallet, scoped to the caller.

use crate::helpers::*;
use entity::status::Role;
use serde_json::{json, Value};
use uuid::Uuid;

fn amounts(conn: &Value) -> Vec<String> {
    conn["nodes"].as_array().unwrap().iter().map(|n| n["amount"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_payout_queue_reads_oldest_first_or_by_amount_page_by_page() {
    let app = TestApp::spawn_with(|c| c.risk_requests_per_hour = 0).await;
    let f = Uuid::new_v4();
    app.fund(f, "10000.00").await;
    for amount in ["300.00", "100.00", "500.00", "200.00", "400.00"] {
        app.request_payout(f, amount).await;
    }
    let admin = app.admin();
    let q = "query($o: ListOrder, $after: String) {
        payoutRequests(filter: { status: [PENDING] }, first: 2, after: $after, orderBy: $o) {
          nodes { amount } pageInfo { hasNextPage endCursor } } }";
    let read_all = |order: Value| {
        let (app, admin, q) = (&app, admin.clone(), q);
        async move {
            let (mut seen, mut after) = (Vec::new(), Value::Null);
            loop {
                let d = app.gql_ok(&admin, q, json!({ "o": order, "after": after })).await["payoutRequests"].clone();
                seen.extend(amounts(&d));
                if d["pageInfo"]["hasNextPage"] != true {
                    return seen;
                }
                after = d["pageInfo"]["endCursor"].clone();
            }
        }
    };
    let oldest = read_all(json!({ "direction": "ASC" })).await;
    assert_eq!(oldest, ["300.00", "100.00", "500.00", "200.00", "400.00"]);
    assert_eq!(read_all(Value::Null).await, ["400.00", "200.00", "500.00", "100.00", "300.00"]);
    let largest = read_all(json!({ "field": "AMOUNT", "direction": "DESC" })).await;
    assert_eq!(largest, ["500.00", "400.00", "300.00", "200.00", "100.00"]);

    // A cursor belongs to the order it came from.
    let d = app.gql_ok(&admin, q, json!({ "o": { "field": "AMOUNT" } })).await;
    let cursor = d["payoutRequests"]["pageInfo"]["endCursor"].clone();
    let mixed = app.gql(Some(&admin), q, json!({ "o": null, "after": cursor })).await;
    assert_eq!(code(&mixed), "BAD_USER_INPUT", "{mixed}");
    let no_amount = app.gql(Some(&admin), "{ auditLog(orderBy: { field: AMOUNT }) { nodes { id } } }", json!({})).await;
    assert_eq!(code(&no_amount), "BAD_USER_INPUT", "{no_amount}");
}

/// A signed SUCCESS webhook for `order_id` carrying a UTR.
fn paid_with_utr(order_id: &str, cf_payment_id: &str, utr: &str, amount: &str) -> String {
    format!(
        r#"{{"data":{{"order":{{"order_id":"{order_id}","order_amount":{amount},"order_currency":"INR"}},"payment":{{"cf_payment_id":"{cf_payment_id}","payment_status":"SUCCESS","payment_amount":{amount},"payment_currency":"INR","payment_group":"upi","bank_reference":"{utr}"}}}},"event_time":"2025-03-14T12:20:31+05:30","type":"PAYMENT_SUCCESS_WEBHOOK"}}"#
    )
}

#[tokio::test]
async fn payments_can_be_found_by_utr_payment_id_order_prefix_amount_and_paid_time() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    for (order, amount, cf, utr) in [
        ("inv_2026_001", "150.00", "5550001", "UTR0001"),
        ("inv_2026_002", "900.00", "5550002", "UTR0002"),
        ("inv_2025_777", "450.00", "5550003", "UTR0003"),
    ] {
        app.create_order(f, amount, order).await;
        assert_eq!(app.deliver_signed(&paid_with_utr(order, cf, utr, amount)).await.0, 200);
    }
    app.create_order(f, "600.00", "inv_2026_003").await; // never paid
    let admin = app.admin();
    let find = |filter: Value| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let q =
                "query($f: PaymentFilter) { payments(filter: $f, orderBy: { direction: ASC }) { nodes { orderId } } }";
            let d = app.gql_ok(&admin, q, json!({ "f": filter })).await;
            d["payments"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["orderId"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(find(json!({ "bankReference": "UTR0002" })).await, ["inv_2026_002"]);
    assert_eq!(find(json!({ "cfPaymentId": "5550003" })).await, ["inv_2025_777"]);
    assert_eq!(find(json!({ "orderIdPrefix": "inv_2026_" })).await, ["inv_2026_001", "inv_2026_002", "inv_2026_003"]);
    assert_eq!(find(json!({ "orderIdPrefix": "INV_2026_" })).await, Vec::<String>::new(), "exact, on both databases");
    assert_eq!(
        find(json!({ "amountMin": "400.00", "amountMax": "900.00" })).await,
        ["inv_2026_002", "inv_2025_777", "inv_2026_003"]
    );
    let now = chrono::Utc::now();
    let paid = json!({ "paidFrom": (now - chrono::Duration::hours(1)).to_rfc3339(), "paidTo": (now + chrono::Duration::hours(1)).to_rfc3339() });
    assert_eq!(find(paid).await.len(), 3, "the unpaid order has no paidAt");
    let bad = app.gql(Some(&admin), "{ payments(filter: { amountMin: \"1.001\" }) { nodes { id } } }", json!({})).await;
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
}

#[tokio::test]
async fn the_ledger_pages_forward_and_back_and_a_freelancer_sees_only_their_own() {
    let app = TestApp::spawn_with(|c| c.risk_requests_per_hour = 0).await;
    let (f, other) = (Uuid::new_v4(), Uuid::new_v4());
    app.fund(f, "1000.00").await;
    app.fund(other, "1000.00").await;
    let admin = app.admin();
    let approve = "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { status } }";
    for amount in ["10.00", "20.00", "30.00"] {
        let id = app.request_payout(f, amount).await["data"]["requestPayout"]["id"].clone();
        app.gql_ok(&admin, approve, json!({ "i": { "payoutRequestId": id } })).await;
    }
    // f's ledger: the credit of 900.00, then three debits.
    let q = "query($f: UUID!, $first: Int, $after: String, $last: Int, $before: String) {
        wallet(freelancerId: $f) { ledger(first: $first, after: $after, last: $last, before: $before) {
          totalCount nodes { amount } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }";
    let page1 = app.gql_ok(&admin, q, json!({ "f": f, "first": 2 })).await["wallet"]["ledger"].clone();
    assert_eq!(amounts(&page1), ["-30.00", "-20.00"]);
    assert_eq!(page1["totalCount"], 4);
    let page2 = app.gql_ok(&admin, q, json!({ "f": f, "first": 2, "after": page1["pageInfo"]["endCursor"] })).await
        ["wallet"]["ledger"]
        .clone();
    assert_eq!(amounts(&page2), ["-10.00", "900.00"]);
    assert_eq!(page2["pageInfo"]["hasNextPage"], false);
    let back = app.gql_ok(&admin, q, json!({ "f": f, "last": 2, "before": page2["pageInfo"]["startCursor"] })).await
        ["wallet"]["ledger"]
        .clone();
    assert_eq!(amounts(&back), amounts(&page1));

    let top = "query($k: [LedgerKind!]) { walletTransactions(filter: { kind: $k }) { nodes { amount walletId } } }";
    let all = app.gql_ok(&admin, top, json!({ "k": null })).await["walletTransactions"].clone();
    assert_eq!(amounts(&all).len(), 5);
    let credits = app.gql_ok(&admin, top, json!({ "k": ["PAYMENT_CREDIT"] })).await["walletTransactions"].clone();
    assert_eq!(amounts(&credits), ["900.00", "900.00"]);
    let own =
        app.gql_ok(&app.token(Role::Freelancer, other), top, json!({ "k": null })).await["walletTransactions"].clone();
    assert_eq!(amounts(&own), ["900.00"], "only their own wallet's rows");
}

#[tokio::test]
async fn any_record_comes_back_by_its_global_id_to_those_who_may_see_it() {
    let app = TestApp::spawn().await;
    let (f, other) = (Uuid::new_v4(), Uuid::new_v4());
    app.fund(f, "1000.00").await;
    app.request_payout(f, "200.00").await;
    let admin = app.admin();
    let q = "query($f: UUID!) { wallet(freelancerId: $f) { globalId id
        payoutRequests { globalId id } payments { globalId id } transactions { globalId id } } }";
    let w = app.gql_ok(&admin, q, json!({ "f": f })).await["wallet"].clone();
    let node = "query($id: ID!) { node(id: $id) { globalId __typename
        ... on PayoutRequest { id amount } ... on Wallet { id balance } ... on Payment { id } ... on WalletTransaction { id } } }";
    for (item, typename) in [
        (&w, "Wallet"),
        (&w["payoutRequests"][0], "PayoutRequest"),
        (&w["payments"][0], "Payment"),
        (&w["transactions"][0], "WalletTransaction"),
    ] {
        let got = app.gql_ok(&admin, node, json!({ "id": item["globalId"] })).await["node"].clone();
        assert_eq!((got["__typename"].as_str(), &got["id"]), (Some(typename), &item["id"]), "{got}");
        let own = app.gql_ok(&app.token(Role::Freelancer, f), node, json!({ "id": item["globalId"] })).await;
        assert_eq!(own["node"]["id"], item["id"], "the freelancer sees their own {typename}");
        let stranger = app.gql_ok(&app.token(Role::Freelancer, other), node, json!({ "id": item["globalId"] })).await;
        assert_eq!(stranger["node"], Value::Null, "not another freelancer's {typename}");
    }
    let many = "query($ids: [ID!]!) { nodes(ids: $ids) { globalId } }";
    let ids = json!([
        w["payoutRequests"][0]["globalId"],
        "UGF5bWVudDowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA",
        w["globalId"]
    ]);
    let got = app.gql_ok(&admin, many, json!({ "ids": ids })).await["nodes"].clone();
    assert_eq!(got, json!([{ "globalId": ids[0] }, null, { "globalId": ids[2] }]));
    let bad = app.gql(Some(&admin), node, json!({ "id": "not-a-global-id" })).await;
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
}
