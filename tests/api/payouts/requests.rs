//! Payout requests and decisions: the reserve, state rules, the REST endpoint, and concurrency.

use crate::helpers::*;
use entity::status::Role;
use serde_json::{json, Value};
use uuid::Uuid;

const APPROVE: &str =
    "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { id status decidedBy decisionNote } }";
const REJECT: &str = "mutation($i: RejectPayoutInput!) { rejectPayout(input: $i) { id status decisionNote } }";

fn id_of(body: &Value) -> String {
    body["data"]["requestPayout"]["id"].as_str().unwrap_or_else(|| panic!("no payout: {body}")).to_owned()
}

/// Ledger rows of the wallet summed by SQL, as minor units, next to the stored balance.
async fn ledger_and_balance(app: &TestApp, freelancer: Uuid) -> (i64, i64) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = &app.state.db;
    let param = if on_postgres() { "$1" } else { "?" };
    let sql = format!(
        "SELECT (SELECT CAST(COALESCE(SUM(t.amount), 0) AS BIGINT) FROM wallet_transactions t WHERE t.wallet_id = w.id) AS ledger, \
         w.balance AS balance FROM freelancer_wallets w WHERE w.freelancer_id = {param}"
    );
    let stmt = Statement::from_sql_and_values(db.get_database_backend(), sql, [freelancer.into()]);
    let row = db.query_one_raw(stmt).await.unwrap().unwrap();
    (row.try_get("", "ledger").unwrap(), row.try_get("", "balance").unwrap())
}

#[tokio::test]
async fn a_request_may_take_the_balance_less_reserve_and_pending_requests() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await; // 900.00 after the fee; 800.00 above the reserve
    assert!(app.request_payout(f, "500.00").await.get("errors").is_none());
    let over = app.request_payout(f, "300.01").await;
    assert_eq!(code(&over), "RESERVE_VIOLATION", "{over}");
    assert!(over["errors"][0]["message"].as_str().unwrap().contains("at most 300.00"), "{over}");
    assert!(app.request_payout(f, "300.00").await.get("errors").is_none(), "exactly the rest is fine");

    let nobody = app.request_payout(Uuid::new_v4(), "1.00").await;
    assert_eq!(code(&nobody), "NOT_FOUND", "{nobody}");
}

#[tokio::test]
async fn freelancers_request_only_from_their_own_wallet_and_admins_must_name_one() {
    let app = TestApp::spawn().await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    app.fund(b, "1000.00").await;
    let q = "mutation($i: RequestPayoutInput!) { requestPayout(input: $i) { id freelancerId requestedBy } }";
    let as_a = app.token(Role::Freelancer, a);
    let body = app.gql(Some(&as_a), q, json!({ "i": { "freelancerId": b, "amount": "10.00" } })).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = app.gql(Some(&app.admin()), q, json!({ "i": { "amount": "10.00" } })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let admin_id = Uuid::new_v4();
    let d = app
        .gql_ok(&app.token(Role::Admin, admin_id), q, json!({ "i": { "freelancerId": b, "amount": "10.00" } }))
        .await;
    assert_eq!(d["requestPayout"]["freelancerId"], b.to_string());
    assert_eq!(d["requestPayout"]["requestedBy"], admin_id.to_string());
    let ops = app.token(Role::Ops, Uuid::new_v4());
    let body = app.gql(Some(&ops), q, json!({ "i": { "freelancerId": b, "amount": "10.00" } })).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test]
async fn approving_pays_debits_notifies_and_audits_once() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let id = id_of(&app.request_payout(f, "400.00").await);
    let admin_id = Uuid::new_v4();
    let admin = app.token(Role::Admin, admin_id);
    let d = app.gql_ok(&admin, APPROVE, json!({ "i": { "payoutRequestId": id, "note": "bank verified" } })).await;
    assert_eq!(d["approvePayout"]["status"], "PAID");
    assert_eq!(d["approvePayout"]["decidedBy"], admin_id.to_string());
    assert_eq!(app.balance(f).await, "500.00");

    let again = app.gql(Some(&admin), APPROVE, json!({ "i": { "payoutRequestId": id } })).await;
    assert_eq!(code(&again), "INVALID_STATE", "{again}");
    assert!(again["errors"][0]["message"].as_str().unwrap().contains("is already PAID"), "API names: {again}");
    let reject = app.gql(Some(&admin), REJECT, json!({ "i": { "payoutRequestId": id, "reason": "late" } })).await;
    assert_eq!(code(&reject), "INVALID_STATE", "{reject}");
    assert_eq!(app.balance(f).await, "500.00", "debited exactly once");

    let d = app
        .gql_ok(
            &admin,
            "query($id: UUID!, $f: UUID!) {
               auditLog(filter: { entityId: $id }) { nodes { action actorId before after reason } }
               notifications(filter: { recipientId: $f, kind: \"payout_paid\" }) { totalCount }
               wallet(freelancerId: $f) { transactions(first: 1) { kind amount balanceAfter payoutRequestId } }
             }",
            json!({ "id": id, "f": f }),
        )
        .await;
    let actions: Vec<&str> =
        d["auditLog"]["nodes"].as_array().unwrap().iter().map(|n| n["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["payout.approval_refused", "payout.approved", "payout.requested"],
        "approved once; the second try refused"
    );
    let approved = &d["auditLog"]["nodes"][1];
    assert_eq!(approved["actorId"], admin_id.to_string());
    assert_eq!(approved["before"]["status"], "pending");
    assert_eq!(approved["after"]["status"], "paid");
    assert_eq!(approved["after"]["walletBalance"], "500.00");
    assert_eq!(approved["reason"], "bank verified");
    assert_eq!(d["notifications"]["totalCount"], 1);
    let row = &d["wallet"]["transactions"][0];
    assert_eq!((row["kind"].as_str(), row["amount"].as_str()), (Some("PAYOUT_DEBIT"), Some("-400.00")));
    assert_eq!(row["payoutRequestId"], id);
}

#[tokio::test]
async fn an_approval_that_would_breach_the_reserve_changes_nothing() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let order = app.fund(f, "1000.00").await; // 900.00
    let id = id_of(&app.request_payout(f, "700.00").await);
    // A refund of 500.00 debits 450.00: the balance (450.00) no longer covers 700.00 above the reserve.
    let refund = format!(
        r#"{{"data":{{"refund":{{"cf_refund_id":"rf_1","order_id":"{order}","refund_amount":500.00,"refund_currency":"INR","refund_status":"SUCCESS"}}}},"type":"REFUND_STATUS_WEBHOOK"}}"#
    );
    assert_eq!(app.deliver_signed(&refund).await.0, 200);
    assert_eq!(app.balance(f).await, "450.00");
    let body = app.gql(Some(&app.admin()), APPROVE, json!({ "i": { "payoutRequestId": id } })).await;
    assert_eq!(code(&body), "RESERVE_VIOLATION", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("reserve of 100.00"), "{body}");
    assert_eq!(app.balance(f).await, "450.00");
    let d =
        app.gql_ok(&app.admin(), "query($id: UUID!) { payoutRequest(id: $id) { status } }", json!({ "id": id })).await;
    assert_eq!(d["payoutRequest"]["status"], "PENDING", "the request is untouched and can still be rejected");
    let (ledger, balance) = ledger_and_balance(&app, f).await;
    assert_eq!(ledger, balance);
}

#[tokio::test]
async fn rejecting_needs_a_reason_and_tells_the_freelancer() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let id = id_of(&app.request_payout(f, "100.00").await);
    let admin = app.admin();
    let body = app.gql(Some(&admin), REJECT, json!({ "i": { "payoutRequestId": id, "reason": "  " } })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let d = app.gql_ok(&admin, REJECT, json!({ "i": { "payoutRequestId": id, "reason": "KYC mismatch" } })).await;
    assert_eq!(d["rejectPayout"]["status"], "REJECTED");
    assert_eq!(d["rejectPayout"]["decisionNote"], "KYC mismatch");
    let mine = app.token(Role::Freelancer, f);
    let d = app
        .gql_ok(&mine, "{ notifications(filter: { kind: \"payout_rejected\" }) { nodes { body } } }", json!({}))
        .await;
    assert_eq!(d["notifications"]["nodes"][0]["body"], "KYC mismatch");
    assert_eq!(app.balance(f).await, "900.00");
    let missing = app.gql(Some(&admin), APPROVE, json!({ "i": { "payoutRequestId": Uuid::new_v4() } })).await;
    assert_eq!(code(&missing), "NOT_FOUND", "{missing}");
}

#[tokio::test]
async fn the_rest_endpoint_approves_with_the_contracts_statuses() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    let order = app.fund(f, "1000.00").await;
    let id = id_of(&app.request_payout(f, "300.00").await);
    let post = |token: Option<String>, body: String| {
        let mut req =
            app.http.post(app.url("/api/admin/approve-payout")).header("content-type", "application/json").body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let body = json!({ "payoutRequestId": id }).to_string();
    let (s, r) = post(None, body.clone()).await;
    assert_eq!((s, r["error"]["code"].as_str()), (401, Some("UNAUTHENTICATED")));
    let (s, r) = post(Some(app.token(Role::Freelancer, f)), body.clone()).await;
    assert_eq!((s, r["error"]["code"].as_str()), (403, Some("FORBIDDEN")));
    let (s, r) = post(Some(app.admin()), "{\"payoutRequestId\": 5}".into()).await;
    assert_eq!((s, r["error"]["code"].as_str()), (400, Some("BAD_USER_INPUT")));
    let (s, r) = post(Some(app.admin()), json!({ "payoutRequestId": Uuid::new_v4() }).to_string()).await;
    assert_eq!((s, r["error"]["code"].as_str()), (404, Some("NOT_FOUND")));
    let (s, r) = post(Some(app.admin()), body.clone()).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["payoutRequest"]["status"], "PAID");
    let (s, r) = post(Some(app.admin()), body.clone()).await;
    assert_eq!((s, r["error"]["code"].as_str()), (409, Some("INVALID_STATE")));
    assert_eq!(app.balance(f).await, "600.00");

    // 422: a second request whose approval the balance can no longer carry after a refund.
    let id2 = id_of(&app.request_payout(f, "400.00").await);
    let refund = format!(
        r#"{{"data":{{"refund":{{"cf_refund_id":"rf_2","order_id":"{order}","refund_amount":500.00,"refund_currency":"INR","refund_status":"SUCCESS"}}}},"type":"REFUND_STATUS_WEBHOOK"}}"#
    );
    assert_eq!(app.deliver_signed(&refund).await.0, 200);
    let (s, r) = post(Some(app.admin()), json!({ "payoutRequestId": id2 }).to_string()).await;
    assert_eq!((s, r["error"]["code"].as_str()), (422, Some("RESERVE_VIOLATION")), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_requests_and_approvals_never_breach_the_reserve() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let f = Uuid::new_v4();
    app.fund(f, "2000.00").await; // 1800.00: 1700.00 above the reserve
                                  // 40 concurrent requests of 100.00: at most 17 may be accepted.
    let requests: Vec<_> = (0..40)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.request_payout(f, "100.00").await })
        })
        .collect();
    let mut ids = Vec::new();
    for r in requests {
        let body = r.await.unwrap();
        match body["data"]["requestPayout"]["id"].as_str() {
            Some(id) => ids.push(id.to_owned()),
            None => assert_eq!(code(&body), "RESERVE_VIOLATION", "{body}"),
        }
    }
    assert_eq!(ids.len(), 17, "pending requests may never exceed what is above the reserve");

    // Every request approved twice, all at once: each is paid exactly once.
    let approvals: Vec<_> = ids
        .iter()
        .chain(ids.iter())
        .map(|id| {
            let app = app.clone();
            let id = id.clone();
            tokio::spawn(async move {
                app.gql(Some(&app.admin()), APPROVE, json!({ "i": { "payoutRequestId": id } })).await
            })
        })
        .collect();
    let mut paid = 0;
    for a in approvals {
        let body = a.await.unwrap();
        if body.get("errors").is_none() {
            paid += 1;
        } else {
            assert_eq!(code(&body), "INVALID_STATE", "{body}");
        }
    }
    assert_eq!(paid, 17);
    assert_eq!(app.balance(f).await, "100.00", "exactly the reserve is left");
    let (ledger, balance) = ledger_and_balance(&app, f).await;
    assert_eq!(ledger, balance, "the ledger sums to the balance");
    assert!(balance >= 10_000);
}

#[tokio::test]
async fn rest_and_graphql_write_instants_the_same_way() {
    let app = TestApp::spawn().await;
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let id = app.request_payout(f, "100.00").await["data"]["requestPayout"]["id"].clone();
    let rest = app
        .http
        .post(app.url("/api/admin/approve-payout"))
        .bearer_auth(app.admin())
        .json(&json!({ "payoutRequestId": id }))
        .send()
        .await
        .unwrap();
    let rest: Value = rest.json().await.unwrap();
    let q = "query($id: UUID!) { payoutRequest(id: $id) { decidedAt } }";
    let gql = app.gql_ok(&app.admin(), q, json!({ "id": id })).await;
    let at = gql["payoutRequest"]["decidedAt"].as_str().unwrap();
    assert!(at.ends_with('Z'), "{at}");
    assert_eq!(rest["payoutRequest"]["decidedAt"].as_str(), Some(at), "{rest}");
}

const APPROVE_MANY: &str = "mutation($i: ApprovePayoutsInput!) { approvePayouts(input: $i) { batchId \
    results { payoutRequestId payout { status } refusal { code message } } } }";

#[tokio::test]
async fn a_bulk_approval_approves_each_payout_on_its_own_and_says_why_it_refused_the_others() {
    let app = TestApp::spawn().await;
    let (paid, held, also) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for f in [paid, held, also] {
        app.fund(f, "1000.00").await;
    }
    let p = id_of(&app.request_payout(paid, "300.00").await);
    let h = id_of(&app.request_payout(held, "300.00").await);
    let a = id_of(&app.request_payout(also, "300.00").await);
    let hold = "mutation($i: PayoutHoldInput!) { holdPayouts(input: $i) { reason } }";
    app.gql_ok(&app.admin(), hold, json!({ "i": { "freelancerId": held, "reason": "KYC review" } })).await;
    let unknown = Uuid::new_v4();

    // One refusal among them: the others are approved, each result says what happened, in the order asked.
    let i = json!({ "ids": [p, h, a, p, unknown], "note": "weekly run" });
    let bulk = app.gql_ok(&app.admin(), APPROVE_MANY, json!({ "i": i })).await;
    let results = bulk["approvePayouts"]["results"].as_array().unwrap();
    let summary: Vec<(String, Value, Value)> = results
        .iter()
        .map(|r| {
            (
                r["payoutRequestId"].as_str().unwrap().to_owned(),
                r["payout"]["status"].clone(),
                r["refusal"]["code"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (p.clone(), json!("PAID"), Value::Null),
            (h.clone(), Value::Null, json!("PAYOUTS_ON_HOLD")),
            (a.clone(), json!("PAID"), Value::Null),
            (unknown.to_string(), Value::Null, json!("NOT_FOUND")),
        ],
        "{bulk}"
    );
    assert!(results[1]["refusal"]["message"].as_str().unwrap().contains("KYC review"), "{bulk}");
    assert_eq!(
        (app.balance(paid).await, app.balance(held).await, app.balance(also).await),
        ("600.00".into(), "900.00".into(), "600.00".into())
    );

    // Each payout is audited on its own, all with the bulk approval's id.
    let batch = bulk["approvePayouts"]["batchId"].clone();
    let audit = "query($a: String!) { auditLog(filter: { action: $a }) { nodes { entityId after reason } } }";
    let approved = app.gql_ok(&app.admin(), audit, json!({ "a": "payout.approved" })).await;
    let approved = approved["auditLog"]["nodes"].as_array().unwrap().clone();
    assert_eq!(approved.len(), 2, "{approved:?}");
    assert!(approved.iter().all(|e| e["after"]["batchId"] == batch && e["reason"] == "weekly run"), "{approved:?}");
    let refused = app.gql_ok(&app.admin(), audit, json!({ "a": "payout.approval_refused" })).await;
    let refused = refused["auditLog"]["nodes"].as_array().unwrap().clone();
    assert!(refused.iter().any(|e| e["entityId"] == h.as_str() && e["after"]["batchId"] == batch), "{refused:?}");

    // Sent again (a retry, a double click), nothing moves twice: the decided ones are refused as decided.
    let again = app.gql_ok(&app.admin(), APPROVE_MANY, json!({ "i": { "ids": [p, a] } })).await;
    let codes: Vec<&Value> =
        again["approvePayouts"]["results"].as_array().unwrap().iter().map(|r| &r["refusal"]["code"]).collect();
    assert_eq!(codes, vec!["INVALID_STATE", "INVALID_STATE"], "{again}");
    assert_eq!(app.balance(paid).await, "600.00");
}

#[tokio::test]
async fn a_bulk_approval_is_for_admins_takes_at_most_a_hundred_and_spends_the_money_budget_per_payout() {
    let app = TestApp::spawn_with(|c| c.rate_limit_money = 2).await;
    let ops = app.token(Role::Ops, Uuid::new_v4());
    let body = app.gql(Some(&ops), APPROVE_MANY, json!({ "i": { "ids": [Uuid::new_v4()] } })).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    for ids in [vec![], (0..101).map(|_| Uuid::new_v4()).collect::<Vec<_>>()] {
        let body = app.gql(Some(&app.admin()), APPROVE_MANY, json!({ "i": { "ids": ids } })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("between 1 and 100"), "{body}");
    }

    let admin = app.admin();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let f = Uuid::new_v4();
        app.fund(f, "1000.00").await;
        ids.push(id_of(&app.request_payout(f, "100.00").await));
    }
    let bulk = app.gql_ok(&admin, APPROVE_MANY, json!({ "i": { "ids": ids } })).await;
    let results = bulk["approvePayouts"]["results"].as_array().unwrap();
    assert_eq!(results[0]["payout"]["status"], "PAID", "{bulk}");
    assert_eq!(results[1]["payout"]["status"], "PAID", "{bulk}");
    assert_eq!(results[2]["refusal"]["code"], "RATE_LIMITED", "{bulk}");
    let pending =
        app.gql_ok(&admin, "query($id: UUID!) { payoutRequest(id: $id) { status } }", json!({ "id": ids[2] })).await;
    assert_eq!(pending["payoutRequest"]["status"], "PENDING");
}
