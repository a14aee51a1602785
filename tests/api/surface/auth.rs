//! Authentication and authorization through the GraphQL endpoint.

use crate::helpers::*;
use base64::Engine;
use entity::status::Role;
use serde_json::json;
use uuid::Uuid;

fn b64(v: serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn requests_without_a_valid_token_are_unauthenticated() {
    let app = TestApp::spawn().await;
    let sub = Uuid::new_v4();
    let now = chrono::Utc::now().timestamp();
    let foreign = paydesk::auth::JwtKeys::new(b"someone else's secret")
        .mint(sub, Role::Admin, std::time::Duration::from_secs(600))
        .unwrap();
    let alg_none = format!(
        "{}.{}.",
        b64(json!({"alg":"none","typ":"JWT"})),
        b64(json!({"sub": sub, "role":"admin","exp": now + 600}))
    );
    let expired = {
        use jsonwebtoken::{encode, EncodingKey, Header};
        let claims = json!({ "sub": sub, "role": "admin", "exp": now - 120 });
        encode(&Header::default(), &claims, &EncodingKey::from_secret(JWT_SECRET.as_bytes())).unwrap()
    };
    let no_exp = {
        use jsonwebtoken::{encode, EncodingKey, Header};
        encode(
            &Header::default(),
            &json!({ "sub": sub, "role": "admin" }),
            &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
        )
        .unwrap()
    };
    // Correctly signed and in date, but its header names an extension it says must be understood (RFC 7515).
    let critical = {
        use jsonwebtoken::{encode, EncodingKey, Header};
        let header = Header { crit: Some(vec!["http://example.com/unknown-ext".into()]), ..Header::default() };
        let claims = json!({ "sub": sub, "role": "admin", "exp": now + 600 });
        encode(&header, &claims, &EncodingKey::from_secret(JWT_SECRET.as_bytes())).unwrap()
    };
    let cases = [
        (Some(critical), "critical extensions (`crit`)"),
        (None, "sign in"),
        (Some(foreign), "signature"),
        (Some(alg_none), "HS256"),
        (Some(expired), "expired"),
        (Some(no_exp), "exp"),
    ];
    for (token, says) in cases {
        let body = app.gql(token.as_deref(), "{ payments { totalCount } }", json!({})).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{token:?}: {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(says), "{body}");
        assert!(body["data"].is_null(), "no data may leak: {body}");
    }
}

#[tokio::test]
async fn ops_read_everything_but_change_nothing() {
    let app = TestApp::spawn().await;
    let ops = app.token(Role::Ops, Uuid::new_v4());
    for q in ["{ paymentWebhooks { totalCount } }", "{ auditLog { totalCount } }", "{ wallets { totalCount } }"] {
        let body = app.gql(Some(&ops), q, json!({})).await;
        assert!(body.get("errors").is_none(), "{q}: {body}");
    }
    // Every mutation there is, refused to ops before it touches anything.
    let id = "\"0193a000-0000-7000-8000-000000000001\"";
    let mutations = [
        format!("createPaymentOrder(input: {{ freelancerId: {id}, amount: \"10\" }}) {{ id }}"),
        format!("requestPayout(input: {{ freelancerId: {id}, amount: \"10\" }}) {{ id }}"),
        format!("approvePayout(input: {{ payoutRequestId: {id} }}) {{ id }}"),
        format!("rejectPayout(input: {{ payoutRequestId: {id}, reason: \"r\" }}) {{ id }}"),
        format!("cancelPayout(input: {{ payoutRequestId: {id}, reason: \"r\" }}) {{ id }}"),
        format!("verifyPayment(input: {{ paymentId: {id}, reason: \"r\" }}) {{ id }}"),
        format!("reprocessWebhook(input: {{ webhookId: {id}, reason: \"r\" }}) {{ id }}"),
        format!("adjustLedger(input: {{ freelancerId: {id}, amount: \"1\", reason: \"r\" }}) {{ id }}"),
        format!("markNotificationRead(id: {id}) {{ id }}"),
    ];
    for m in mutations {
        let body = app.gql(Some(&ops), &format!("mutation {{ {m} }}"), json!({})).await;
        assert_eq!(code(&body), "FORBIDDEN", "{m}: {body}");
    }
}

#[tokio::test]
async fn freelancers_cannot_read_webhooks_or_the_audit_log() {
    let app = TestApp::spawn().await;
    let me = app.token(Role::Freelancer, Uuid::new_v4());
    for q in ["{ paymentWebhooks { totalCount } }", "{ auditLog { totalCount } }"] {
        let body = app.gql(Some(&me), q, json!({})).await;
        assert_eq!(code(&body), "FORBIDDEN", "{q}: {body}");
    }
}

#[tokio::test]
async fn freelancers_see_only_their_own_rows() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    app.fund(alice, "1000.00").await;
    let bob_order = app.fund(bob, "2000.00").await;
    let bob_payout = app.request_payout(bob, "50.00").await;
    let bob_payout_id = bob_payout["data"]["requestPayout"]["id"].as_str().unwrap().to_owned();
    let bob_payment = app
        .gql_ok(
            &app.admin(),
            "query($o: String) { payments(filter: { orderId: $o }) { nodes { id } } }",
            json!({ "o": bob_order }),
        )
        .await["payments"]["nodes"][0]["id"]
        .clone();

    let t = app.token(Role::Freelancer, alice);
    let d = app
        .gql_ok(
            &t,
            "query($b: UUID!, $p: UUID!, $r: UUID!) {
               payments { totalCount nodes { freelancerId } }
               wallets { totalCount nodes { freelancerId } }
               payoutRequests { totalCount }
               notifications { totalCount nodes { recipientId } }
               other: payment(id: $p) { id }
               otherWallet: wallet(freelancerId: $b) { id }
               otherPayout: payoutRequest(id: $r) { id }
               me { role wallet { balance } }
             }",
            json!({ "b": bob, "p": bob_payment, "r": bob_payout_id }),
        )
        .await;
    assert_eq!(d["payments"]["totalCount"], 1);
    assert_eq!(d["payments"]["nodes"][0]["freelancerId"], alice.to_string());
    assert_eq!(d["wallets"]["totalCount"], 1);
    assert_eq!(d["payoutRequests"]["totalCount"], 0);
    assert_eq!(d["notifications"]["totalCount"], 1);
    assert_eq!(d["notifications"]["nodes"][0]["recipientId"], alice.to_string());
    assert!(d["other"].is_null() && d["otherWallet"].is_null() && d["otherPayout"].is_null(), "{d}");
    assert_eq!(d["me"]["role"], "FREELANCER");
    assert_eq!(d["me"]["wallet"]["balance"], "900.00");
}
