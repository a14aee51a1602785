//! Sign-in with the marketplace's identity provider: tokens signed with keys paydesk reads from the provider's
//! JWKS (found through OpenID discovery), checked for issuer, audience, expiry and key; roles mapped from the
//! provider's claim; subjects that are not UUIDs; a key rotation without a restart; a provider that is down.
//! The provider here is a small one of ours that serves discovery and a JWKS it can change and take down.

use crate::helpers::*;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// A signing key of the provider's, from `tests/fixtures/keys`.
struct Key {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
}

impl Key {
    fn load(file: &str, kid: &str, alg: Algorithm) -> Key {
        let der = std::fs::read(format!("{}/tests/fixtures/keys/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let encoding = match alg {
            Algorithm::ES256 => EncodingKey::from_ec_der(&der),
            Algorithm::EdDSA => EncodingKey::from_ed_der(&der),
            _ => EncodingKey::from_rsa_der(&der),
        };
        Key { kid: kid.to_owned(), alg, encoding }
    }

    /// The key as the provider publishes it.
    fn jwk(&self) -> Value {
        let mut jwk = Jwk::from_encoding_key(&self.encoding, self.alg).unwrap();
        jwk.common.key_id = Some(self.kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        serde_json::to_value(jwk).unwrap()
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_as(&self.kid, claims)
    }

    /// Signed, but naming key `kid` in the header.
    fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

/// An identity provider: OpenID discovery and a JWKS that the test changes, takes down and counts reads of.
struct Idp {
    issuer: String,
    keys: Arc<Mutex<Vec<Value>>>,
    down: Arc<AtomicBool>,
    reads: Arc<AtomicUsize>,
}

impl Idp {
    async fn start(keys: &[&Key]) -> Idp {
        use axum::routing::get;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let idp = Idp {
            issuer: issuer.clone(),
            keys: Arc::new(Mutex::new(keys.iter().map(|k| k.jwk()).collect())),
            down: Arc::default(),
            reads: Arc::default(),
        };
        let (published, down, reads) = (idp.keys.clone(), idp.down.clone(), idp.reads.clone());
        let discovery = json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/jwks"),
                                "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"] });
        let down_too = down.clone();
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || {
                    let (discovery, down) = (discovery.clone(), down_too.clone());
                    async move {
                        if down.load(Ordering::SeqCst) {
                            return Err(axum::http::StatusCode::SERVICE_UNAVAILABLE);
                        }
                        Ok(axum::Json(discovery))
                    }
                }),
            )
            .route(
                "/jwks",
                get(move || {
                    let (published, down, reads) = (published.clone(), down.clone(), reads.clone());
                    async move {
                        if down.load(Ordering::SeqCst) {
                            return Err(axum::http::StatusCode::SERVICE_UNAVAILABLE);
                        }
                        reads.fetch_add(1, Ordering::SeqCst);
                        Ok(axum::Json(json!({ "keys": *published.lock().unwrap() })))
                    }
                }),
            );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        idp
    }

    fn publish(&self, keys: &[&Key]) {
        *self.keys.lock().unwrap() = keys.iter().map(|k| k.jwk()).collect();
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    /// Claims as Keycloak puts them: roles under `realm_access.roles`, beside roles of no interest to paydesk.
    fn claims(&self, sub: &str, role: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({ "iss": self.issuer, "aud": ["account", "paydesk"], "sub": sub, "iat": now, "exp": now + 300,
                "realm_access": { "roles": ["offline_access", role] } })
    }
}

/// A server that takes `idp`'s tokens (and, as every test server, HS256 ones signed with the test secret).
async fn serving(idp: &Idp, tweak: impl FnOnce(&mut paydesk::config::Config)) -> TestApp {
    let issuer = idp.issuer.clone();
    TestApp::spawn_with(move |c| {
        c.oidc_issuer = Some(issuer);
        c.jwt_audience = Some("paydesk".into());
        c.role_claim = "realm_access.roles".into();
        c.role_map =
            vec!["paydesk-admin=admin".into(), "paydesk-ops=ops".into(), "paydesk-freelancer=freelancer".into()];
        c.jwks_min_refresh = Duration::from_millis(300);
        tweak(c);
    })
    .await
}

fn rsa_a() -> Key {
    Key::load("rsa-a.der", "rsa-a", Algorithm::RS256)
}

/// The errors' codes and messages of an operation sent with `token`.
async fn refused(app: &TestApp, token: &str) -> (String, String) {
    let body = app.gql(Some(token), "{ auditLog(first: 1) { nodes { id } } }", json!({})).await;
    let e = &body["errors"][0];
    (
        e["extensions"]["code"].as_str().unwrap_or_default().to_owned(),
        e["message"].as_str().unwrap_or_default().to_owned(),
    )
}

const HOLD: &str = "mutation { holdPayouts(input: { reason: \"incident\" }) { reason } }";
const AUDIT: &str = "{ auditLog(first: 5) { nodes { action actorId } } }";

#[tokio::test]
async fn the_providers_tokens_sign_in_each_role_by_its_mapped_name_with_any_algorithm() {
    let (rsa, ec, ed) =
        (rsa_a(), Key::load("ec-p256.der", "ec", Algorithm::ES256), Key::load("ed25519.der", "ed", Algorithm::EdDSA));
    let idp = Idp::start(&[&rsa, &ec, &ed]).await;
    let app = serving(&idp, |_| {}).await;

    // An admin named by the provider's own kind of subject (not a UUID), RS256.
    let admin = rsa.sign(&idp.claims("auth0|5f1c-admin", "paydesk-admin"));
    app.gql_ok(&admin, HOLD, json!({})).await;
    let audit = app.gql_ok(&admin, AUDIT, json!({})).await;
    let actor = audit["auditLog"]["nodes"][0]["actorId"].as_str().unwrap().to_owned();
    // The same person each time: another token of the same subject acts as the same id.
    let again = ed.sign(&idp.claims("auth0|5f1c-admin", "paydesk-admin"));
    let audit = app.gql_ok(&again, AUDIT, json!({})).await;
    assert_eq!(audit["auditLog"]["nodes"][0]["actorId"], actor.as_str());

    // Ops, ES256: reads, may not act.
    let ops = ec.sign(&idp.claims("ops-7", "paydesk-ops"));
    app.gql_ok(&ops, AUDIT, json!({})).await;
    let body = app.gql(Some(&ops), HOLD, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");

    // A freelancer whose subject is their wallet's id, EdDSA: their own wallet only.
    let f = Uuid::new_v4();
    let freelancer = ed.sign(&idp.claims(&f.to_string(), "paydesk-freelancer"));
    let q = "query($f: UUID!) { wallet(freelancerId: $f) { freelancerId } }";
    let own = app.gql(Some(&freelancer), q, json!({ "f": f })).await;
    assert!(own.get("errors").is_none(), "{own}");
    let other = app.gql(Some(&freelancer), q, json!({ "f": Uuid::new_v4() })).await;
    assert!(other.get("errors").is_some() || other["data"]["wallet"].is_null(), "{other}");

    // A role the map does not name signs in no one; paydesk's own HS256 tokens still work beside the provider's.
    let (code, message) = refused(&app, &rsa.sign(&idp.claims("x", "offline_access"))).await;
    assert_eq!(code, "UNAUTHENTICATED");
    assert!(message.contains("names no role paydesk maps"), "{message}");
    app.gql_ok(&app.admin(), AUDIT, json!({})).await;

    // Without JWT_SECRET, a server with a provider takes the provider's tokens only: no one can mint an admin.
    let strict = serving(&idp, |c| c.jwt_secret = None).await;
    let (code, message) = refused(&strict, &strict.admin()).await;
    assert_eq!(code, "UNAUTHENTICATED");
    assert!(message.contains("takes the identity provider's tokens only"), "{message}");
    strict.gql_ok(&admin, AUDIT, json!({})).await;
}

#[tokio::test]
async fn a_token_that_does_not_hold_is_refused_saying_why_and_never_repeating_it() {
    let rsa = rsa_a();
    let idp = Idp::start(&[&rsa]).await;
    let other = Idp::start(&[&Key::load("rsa-b.der", "rsa-b", Algorithm::RS256)]).await;
    let app = serving(&idp, |_| {}).await;
    let now = chrono::Utc::now().timestamp();
    let mut cases: Vec<(String, &str)> = Vec::new();

    let mut c = idp.claims("a", "paydesk-admin");
    c["aud"] = json!("another-api");
    cases.push((rsa.sign(&c), "its `aud` lacks `paydesk`"));

    let mut c = idp.claims("a", "paydesk-admin");
    c["iss"] = json!(other.issuer);
    cases.push((rsa.sign(&c), &*Box::leak(format!("not issued by {}", idp.issuer).into_boxed_str())));

    // The second provider's own token: signed with a key this one never published.
    cases.push((
        Key::load("rsa-b.der", "rsa-b", Algorithm::RS256).sign(&other.claims("a", "paydesk-admin")),
        "key `rsa-b` is not among",
    ));

    let mut c = idp.claims("a", "paydesk-admin");
    c["exp"] = json!(now - 120);
    cases.push((rsa.sign(&c), "expired"));

    let mut c = idp.claims("a", "paydesk-admin");
    c["nbf"] = json!(now + 600);
    cases.push((rsa.sign(&c), "not valid yet"));

    // Signed by the right key but naming another: the signature does not verify.
    let forged = {
        let mut parts: Vec<String> =
            rsa.sign(&idp.claims("a", "paydesk-admin")).split('.').map(str::to_owned).collect();
        let evil = idp.claims("someone-else", "paydesk-admin");
        parts[1] = base64_url(&serde_json::to_vec(&evil).unwrap());
        parts.join(".")
    };
    cases.push((forged, "signature does not verify"));

    for (token, expected) in cases {
        let (code, message) = refused(&app, &token).await;
        assert_eq!(code, "UNAUTHENTICATED", "{message}");
        assert!(message.contains(expected), "{expected:?} in {message:?}");
        let payload = token.split('.').nth(1).unwrap();
        assert!(!message.contains(payload) && !message.contains(&token), "the token is never repeated: {message}");
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn a_key_rotation_at_the_provider_needs_no_restart_and_made_up_keys_cannot_hammer_it() {
    let (a, b) = (rsa_a(), Key::load("rsa-b.der", "rsa-b", Algorithm::RS256));
    let idp = Idp::start(&[&a]).await;
    let app = serving(&idp, |c| c.jwks_min_refresh = Duration::from_secs(2)).await;
    let old = a.sign(&idp.claims("admin-1", "paydesk-admin"));
    app.gql_ok(&old, AUDIT, json!({})).await;

    // The provider publishes a new key beside the old one and signs with it: read once, accepted.
    idp.publish(&[&a, &b]);
    let reads = idp.reads();
    let new = b.sign(&idp.claims("admin-1", "paydesk-admin"));
    app.gql_ok(&new, AUDIT, json!({})).await;
    assert_eq!(idp.reads(), reads + 1, "the JWKS was read again once, for the new key");
    // The old key is still honoured: its tokens keep working while they last.
    app.gql_ok(&old, AUDIT, json!({})).await;

    // Tokens naming keys that do not exist, all at once: refused, and the provider is read at most once more.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let reads = idp.reads();
    let made_up: Vec<_> = (0..40).map(|i| a.sign_as(&format!("kid-{i}"), &idp.claims("x", "paydesk-admin"))).collect();
    let answers = futures_util::future::join_all(made_up.iter().map(|t| refused(&app, t))).await;
    for (code, message) in answers {
        assert_eq!(code, "UNAUTHENTICATED");
        assert!(message.contains("is not among the identity provider's keys"), "{message}");
    }
    assert!(idp.reads() <= reads + 1, "{} reads for 40 unknown keys", idp.reads() - reads);
}

#[tokio::test]
async fn while_the_provider_is_down_known_keys_keep_working_and_readiness_says_so() {
    let a = rsa_a();
    let idp = Idp::start(&[&a]).await;
    idp.set_down(true);
    // Down from the start: no key is known, readiness says so, tokens are refused saying why.
    let app = serving(&idp, |c| c.jwks_ttl = Duration::from_millis(500)).await;
    let ready = |app: &TestApp| {
        let (http, url) = (app.http.clone(), app.url("/readyz"));
        async move {
            let res = http.get(url).send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = ready(&app).await;
    assert_eq!((status, body["identityProvider"]["status"].as_str()), (503, Some("unavailable")), "{body}");
    let token = a.sign(&idp.claims("admin-2", "paydesk-admin"));
    let (code, message) = refused(&app, &token).await;
    assert_eq!(code, "UNAUTHENTICATED");
    assert!(message.contains("cannot be read now"), "{message}");

    // Up again: the keys are read (on the next unknown key, or on the next scheduled read) and the token works.
    idp.set_down(false);
    tokio::time::sleep(Duration::from_millis(700)).await;
    app.gql_ok(&token, AUDIT, json!({})).await;
    let (status, body) = ready(&app).await;
    assert_eq!((status, body["identityProvider"]["status"].as_str()), (200, Some("ok")), "{body}");

    // Down while serving: the keys held keep working; readiness reports them stale but ready.
    idp.set_down(true);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let fresh = a.sign(&idp.claims("admin-3", "paydesk-admin"));
    app.gql_ok(&fresh, AUDIT, json!({})).await;
    let (status, body) = ready(&app).await;
    assert_eq!((status, body["identityProvider"]["status"].as_str()), (200, Some("stale")), "{body}");
    assert!(body["identityProvider"]["error"].as_str().unwrap().contains("503"), "{body}");
}

#[tokio::test]
async fn a_freelancer_the_provider_names_otherwise_acts_for_the_wallet_an_admin_linked() {
    let a = rsa_a();
    let idp = Idp::start(&[&a]).await;
    let app = serving(&idp, |_| {}).await;
    let f = Uuid::new_v4();
    let token = a.sign(&idp.claims("google-oauth2|1098", "paydesk-freelancer"));
    let q = "query($f: UUID!) { wallet(freelancerId: $f) { freelancerId } }";
    let body = app.gql(Some(&token), q, json!({ "f": f })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("no wallet is linked to subject `google-oauth2|1098`"), "{message}");

    let link = "mutation($i: LinkIdentityInput!) { linkIdentity(input: $i) { issuer subject freelancerId } }";
    let input = json!({ "i": { "subject": "google-oauth2|1098", "freelancerId": f } });
    let ops = a.sign(&idp.claims("ops-1", "paydesk-ops"));
    let body = app.gql(Some(&ops), link, input.clone()).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    let linked = app.gql_ok(&app.admin(), link, input).await;
    assert_eq!(linked["linkIdentity"]["issuer"], idp.issuer.as_str());
    assert_eq!(linked["linkIdentity"]["freelancerId"], f.to_string());

    let body = app.gql(Some(&token), q, json!({ "f": f })).await;
    assert!(body.get("errors").is_none(), "{body}");
    let audit = app.gql_ok(&app.admin(), "{ auditLog(first: 5) { nodes { action entityId after } } }", json!({})).await;
    let entry =
        audit["auditLog"]["nodes"].as_array().unwrap().iter().find(|e| e["action"] == "identity.linked").cloned();
    let entry = entry.expect("the link is audited");
    assert_eq!(entry["entityId"], f.to_string());
    assert!(entry["after"].to_string().contains("google-oauth2|1098"), "{entry}");

    // A blank subject is refused by name.
    let body = app.gql(Some(&app.admin()), link, json!({ "i": { "subject": "  ", "freelancerId": f } })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
}

#[tokio::test]
async fn a_websocket_takes_the_providers_token_and_closes_when_it_expires() {
    let a = rsa_a();
    let idp = Idp::start(&[&a]).await;
    let app = serving(&idp, |_| {}).await;
    let mut claims = idp.claims("admin-ws", "paydesk-admin");
    claims["exp"] = json!(chrono::Utc::now().timestamp() + 2);
    assert_closed_when_token_expires(&app, &a.sign(&claims)).await;

    let mut claims = idp.claims("admin-ws", "paydesk-admin");
    claims["aud"] = json!("another-api");
    let ws =
        ws_init(&app, "graphql-transport-ws", json!({ "Authorization": format!("Bearer {}", a.sign(&claims)) })).await;
    assert_eq!(ws["closed"], 4403, "{ws}");
    assert!(ws["reason"].as_str().unwrap().contains("`aud` lacks `paydesk`"), "{ws}");
}

/// The certified `oidc-provider` (npm) run under Node from `tests/oidc`, on a port of its own; killed when dropped.
pub struct RealProvider {
    child: std::process::Child,
    pub issuer: String,
}

impl RealProvider {
    /// Starts it on `port` (a free one when 0), publishing the keys `kids` from `keys` (the first signs).
    async fn start(port: u16, keys: &std::path::Path, kids: &str) -> RealProvider {
        Self::start_for(port, keys, kids, None).await
    }

    /// As `start`, with the console's public client redirecting to `console` (and the provider's development
    /// login and consent pages) when one is given.
    pub async fn start_for(port: u16, keys: &std::path::Path, kids: &str, console: Option<&str>) -> RealProvider {
        use std::io::BufRead;
        let port = if port == 0 {
            std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
        } else {
            port
        };
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc");
        let mut child = std::process::Command::new("node")
            .current_dir(dir)
            .args(["provider.mjs", &port.to_string(), keys.to_str().unwrap(), kids])
            .args(console)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("node runs (the OIDC tests need Node and `npm ci --prefix tests/oidc`)");
        let stdout = child.stdout.take().unwrap();
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await
        .unwrap()
        .unwrap();
        let issuer =
            line.trim().strip_prefix("ready ").unwrap_or_else(|| panic!("the provider said {line:?}")).to_owned();
        RealProvider { child, issuer }
    }

    fn port(&self) -> u16 {
        self.issuer.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// An access token for `client` by the client-credentials grant.
    async fn token(&self, client: &str) -> String {
        let res = reqwest::Client::new()
            .post(format!("{}/token", self.issuer))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client),
                ("client_secret", &format!("{client}-secret")),
            ])
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap_or_else(|| panic!("no token: {body}")).to_owned()
    }
}

impl Drop for RealProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server trusting `issuer` as a deployment would configure it for this provider: roles in `roles`.
async fn trusting(issuer: &str, audience: &str) -> TestApp {
    let (issuer, audience) = (issuer.to_owned(), audience.to_owned());
    TestApp::spawn_with(move |c| {
        c.oidc_issuer = Some(issuer);
        c.jwt_audience = Some(audience);
        c.role_claim = "roles".into();
        c.role_map =
            vec!["paydesk-admin=admin".into(), "paydesk-ops=ops".into(), "paydesk-freelancer=freelancer".into()];
        c.jwks_min_refresh = Duration::from_millis(200);
        c.jwt_secret = None;
    })
    .await
}

#[tokio::test]
#[ignore = "needs Node and the OpenID provider's packages: npm ci --prefix tests/oidc (CI installs them)"]
async fn a_real_openid_provider_signs_in_each_role_and_rotates_its_key_mid_test() {
    let keys = tempfile::tempdir().unwrap();
    let provider = RealProvider::start(0, keys.path(), "key-1").await;
    let app = trusting(&provider.issuer, "paydesk").await;

    let admin = provider.token("admin-app").await;
    app.gql_ok(&admin, HOLD, json!({})).await;
    let ops = provider.token("ops-app").await;
    app.gql_ok(&ops, AUDIT, json!({})).await;
    let body = app.gql(Some(&ops), HOLD, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");

    // The freelancer client is named `freelancer-app` by the provider: refused until an admin links it.
    let freelancer = provider.token("freelancer-app").await;
    let f = Uuid::new_v4();
    let q = "query($f: UUID!) { wallet(freelancerId: $f) { freelancerId } }";
    let body = app.gql(Some(&freelancer), q, json!({ "f": f })).await;
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("no wallet is linked"), "{body}");
    let link = "mutation($i: LinkIdentityInput!) { linkIdentity(input: $i) { issuer } }";
    app.gql_ok(&admin, link, json!({ "i": { "subject": "freelancer-app", "freelancerId": f } })).await;
    let body = app.gql(Some(&freelancer), q, json!({ "f": f })).await;
    assert!(body.get("errors").is_none(), "{body}");

    // A server expecting another audience, and a token of another provider, are refused by name.
    let elsewhere = trusting(&provider.issuer, "another-api").await;
    let (code, message) = refused(&elsewhere, &admin).await;
    assert_eq!(code, "UNAUTHENTICATED");
    assert!(message.contains("`aud` lacks `another-api`"), "{message}");
    let other_keys = tempfile::tempdir().unwrap();
    let other = RealProvider::start(0, other_keys.path(), "other-key").await;
    let (code, message) = refused(&app, &other.token("admin-app").await).await;
    assert_eq!(code, "UNAUTHENTICATED");
    assert!(message.contains("key `other-key` is not among"), "{message}");

    // The provider rotates: restarted with a new signing key, the old one still published. No restart here.
    let port = provider.port();
    drop(provider);
    let provider = RealProvider::start(port, keys.path(), "key-2,key-1").await;
    let rotated = provider.token("admin-app").await;
    let header = jsonwebtoken::decode_header(&rotated).unwrap();
    assert_eq!(header.kid.as_deref(), Some("key-2"));
    app.gql_ok(&rotated, AUDIT, json!({})).await;
    app.gql_ok(&admin, AUDIT, json!({})).await;
}

#[tokio::test]
async fn a_key_withdrawn_at_the_provider_revokes_tokens_already_seen_and_iss_is_one_string() {
    let (a, b) = (rsa_a(), Key::load("rsa-b.der", "rsa-b", Algorithm::RS256));
    let idp = Idp::start(&[&a, &b]).await;
    let app = serving(&idp, |c| c.jwks_ttl = Duration::from_millis(300)).await;
    let old = a.sign(&idp.claims("admin-1", "paydesk-admin"));
    app.gql_ok(&old, AUDIT, json!({})).await;
    // The provider withdraws key a (it leaked): once the keys are read again, a's tokens are refused, even one
    // that was taken a moment ago.
    idp.publish(&[&b]);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (code, message) = refused(&app, &old).await;
    assert_eq!(code, "UNAUTHENTICATED", "{message}");
    assert!(message.contains("is not among the identity provider's keys"), "{message}");
    app.gql_ok(&b.sign(&idp.claims("admin-1", "paydesk-admin")), AUDIT, json!({})).await;
    // `iss` as a list holding the issuer is not the issuer.
    let mut listed = idp.claims("admin-1", "paydesk-admin");
    listed["iss"] = json!([idp.issuer, "https://elsewhere.example"]);
    let (code, message) = refused(&app, &b.sign(&listed)).await;
    assert_eq!(code, "UNAUTHENTICATED", "{message}");
    assert!(message.contains("must be that string"), "{message}");
}

#[tokio::test]
async fn a_token_that_lives_longer_than_the_setting_allows_is_refused_however_signed() {
    let b = Key::load("rsa-b.der", "rsa-b", Algorithm::RS256);
    let idp = Idp::start(&[&b]).await;
    let app = serving(&idp, |c| c.jwt_max_ttl = Duration::from_secs(3600)).await;
    let mut decade = idp.claims("admin-1", "paydesk-admin");
    decade["exp"] = json!(chrono::Utc::now().timestamp() + 10 * 365 * 86_400);
    let (code, message) = refused(&app, &b.sign(&decade)).await;
    assert_eq!(code, "UNAUTHENTICATED", "{message}");
    assert!(message.contains("PAYDESK_JWT_MAX_TTL"), "{message}");
    let minted =
        app.state.jwt.mint(uuid::Uuid::new_v4(), entity::status::Role::Admin, Duration::from_secs(7200)).unwrap();
    let (code, message) = refused(&app, &minted).await;
    assert_eq!(code, "UNAUTHENTICATED", "an HS256 token too: {message}");
    app.gql_ok(&app.admin(), AUDIT, json!({})).await;
}
