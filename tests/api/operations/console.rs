//! The ops console at `/console`, in a real browser: Debian's headless Chromium driven by `tests/console/console.mjs`
//! (playwright-core) against a server started here, with data made through the API. What the browser saw comes back
//! as a report; what it did is checked through the API. Screenshots at 1440 and 390 px are kept under
//! `target/console-shots`.

use crate::helpers::TestApp;
use entity::status::Role;
use serde_json::{json, Value};
use uuid::Uuid;

/// A freelancer with 900.00 in their wallet and a pending request for `amount`.
async fn pending(app: &TestApp, amount: &str) -> (Uuid, String) {
    let f = Uuid::new_v4();
    app.fund(f, "1000.00").await;
    let asked = app.request_payout(f, amount).await;
    (f, asked["data"]["requestPayout"]["id"].as_str().unwrap_or_else(|| panic!("{asked}")).to_owned())
}

/// Runs `script` (in `tests/console`) with `input` in headless Chromium and returns its report; fails the test if
/// the run stopped, printed no report, or took more than `within` seconds.
async fn browser(script: &str, input: &Value, within: u64) -> Value {
    let run = tokio::process::Command::new("node")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/console"))
        .arg(script)
        .arg(input.to_string())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(within), run)
        .await
        .unwrap_or_else(|_| panic!("{script} did not end within {within} s"))
        .expect("node runs (these tests need Node and `npm ci --prefix tests/console`)");
    let printed = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&printed)
        .unwrap_or_else(|e| panic!("no report ({e}): {printed}{}", String::from_utf8_lossy(&out.stderr)));
    assert!(report["failure"].is_null(), "the browser run stopped: {}\n{report:#}", report["failure"]);
    report
}

async fn status_of(app: &TestApp, id: &str) -> Value {
    let q = "query($id: UUID!) { payoutRequest(id: $id) { status decisionNote } }";
    app.gql_ok(&app.admin(), q, json!({ "id": id })).await["payoutRequest"].clone()
}

#[tokio::test]
#[ignore = "needs Chromium and `npm ci --prefix tests/console`: .ci/run installs them and runs this with --include-ignored"]
async fn admins_ops_and_freelancers_run_payouts_from_the_console_in_a_real_browser() {
    // One trusted proxy hop: the forged deliveries come from addresses of their own, each its own burst.
    let app = TestApp::spawn_with(|c| c.trusted_proxy_hops = 1).await;
    let (approved_wallet, approve) = pending(&app, "300.00").await;
    let (_, reject) = pending(&app, "200.00").await;
    let (bulk_wallet, bulk_ok) = pending(&app, "300.00").await;
    let (held_wallet, bulk_held) = pending(&app, "300.00").await;
    let (_, frozen) = pending(&app, "250.00").await;
    let hold = "mutation($i: PayoutHoldInput!) { holdPayouts(input: $i) { reason } }";
    app.gql_ok(&app.admin(), hold, json!({ "i": { "freelancerId": held_wallet, "reason": "KYC review" } })).await;
    let freelancer = Uuid::new_v4();
    app.fund(freelancer, "1000.00").await;
    let (unpaid, unpaid_order) = (Uuid::new_v4(), format!("ord_{}", Uuid::new_v4().simple()));
    app.create_order(unpaid, "500.00", &unpaid_order).await;

    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-shots");
    std::fs::create_dir_all(&shots).unwrap();
    let input = json!({
        "url": app.url(""),
        "admin": app.admin(),
        "ops": app.token(Role::Ops, Uuid::new_v4()),
        "freelancer": app.token(Role::Freelancer, freelancer),
        "shots": shots,
        "heldWallet": held_wallet,
        "pendingOrder": unpaid_order,
        "payouts": { "approve": approve, "reject": reject, "bulkOk": bulk_ok, "bulkHeld": bulk_held, "frozen": frozen },
    });
    let report = browser("console.mjs", &input, 240).await;
    let text = |key: &str| report[key].as_str().unwrap_or_else(|| panic!("no {key}: {report:#}")).to_owned();

    // Light, and locked down: the first screen in under 200 KB; only the server's own scripts may run.
    assert!(report["firstScreenBytes"].as_u64().unwrap() < 200_000, "{}", report["firstScreenBytes"]);
    assert!(text("csp").contains("script-src 'self'") && text("csp").contains("connect-src 'self'"), "{report:#}");
    assert_eq!(report["consoleErrors"], json!([]), "the browser reported errors (a refused script, say)");

    // The queue lists every pending payout, oldest first; approving one says what it will do, then does it.
    assert_eq!(report["queueRows"], 5, "{}", text("queueText"));
    let dialog = text("approveDialog");
    assert!(dialog.contains("₹300.00") && dialog.contains("₹900.00 to ₹600.00"), "{dialog}");
    assert_eq!(text("approved"), "ok: Approved: the payout is paid.");
    assert_eq!(app.balance(approved_wallet).await, "600.00", "the wallet changed");

    // A rejection needs a reason, which the freelancer is told.
    assert!(text("rejectWithoutReason").contains("required"), "{report:#}");
    assert_eq!(text("rejected"), "ok: Rejected.");
    assert_eq!(status_of(&app, &reject).await, json!({ "status": "REJECTED", "decisionNote": "Duplicate request" }));

    // Bulk approval: the held wallet's payout is refused in words, the other is paid.
    let results = report["bulkResults"].as_array().unwrap();
    assert!(results.iter().any(|r| r.as_str().unwrap().contains("paid")), "{results:?}");
    assert!(
        results.iter().any(|r| r.as_str().unwrap().contains("refused") && r.as_str().unwrap().contains("KYC review")),
        "{results:?}"
    );
    assert_eq!((app.balance(bulk_wallet).await, app.balance(held_wallet).await), ("600.00".into(), "900.00".into()));
    assert_eq!(status_of(&app, &bulk_ok).await["status"], "PAID");

    // Frozen: the freeze shows with its reason, and an approval is refused saying why.
    assert!(text("frozen").contains("Bank incident"), "{report:#}");
    let refused = text("approveWhileFrozen");
    assert!(
        refused.starts_with("error: Refused: all payouts are on hold") && refused.contains("Bank incident"),
        "{refused}"
    );
    assert_eq!(status_of(&app, &frozen).await["status"], "PENDING");

    // A forged webhook's alert appears on the open alerts page without a reload.
    assert_eq!(report["forgedStatus"], 401);
    assert!(text("liveAlert").contains("signature rejected"), "{report:#}");

    // The network between the browser and paydesk goes away under the open alerts page and comes back: the page
    // says it is reconnecting, and the alert raised meanwhile arrives once it is back, as the feed resumes after the
    // last alert it saw.
    assert!(text("whileCut").contains("Reconnecting"), "{report:#}");
    assert_eq!(report["forgedWhileCut"], 401);
    assert_eq!(
        (report["alertsWhileCut"].as_i64(), report["alertsAfterRestore"].as_i64()),
        (Some(0), Some(1)),
        "{report:#}"
    );
    assert!(text("missedAlert").contains("signature rejected"), "{report:#}");

    // The freeze is lifted with a reason; the one wallet's hold stays.
    assert_eq!(text("released"), "ok: Released.");
    assert!(
        !text("holdsAfter").contains("All payouts frozen") && text("holdsAfter").contains("KYC review"),
        "{report:#}"
    );

    // The held wallet's page shows the hold and its books; released there, its payouts may be approved again.
    let held = text("heldWallet");
    assert!(held.contains("KYC review") && held.contains("₹900.00") && held.contains("payment credit"), "{held}");
    assert_eq!(text("walletReleased"), "ok: Released.");
    let holds = app.gql_ok(&app.admin(), "{ payoutHolds { freelancerId } }", json!({})).await;
    assert_eq!(holds["payoutHolds"], json!([]), "no hold is left");

    // A payment found by its order id and verified by hand credits the wallet, less the fee.
    assert!(text("verifyDialog").contains("₹500.00"), "{report:#}");
    assert_eq!(text("verified"), "ok: Verified: the payment is success.");
    assert_eq!(app.balance(unpaid).await, "450.00");

    // The webhook log shows the forged delivery, refused, with its body as it arrived, indented.
    assert!(text("forgedDelivery").starts_with("rejected_signature"), "{report:#}");
    assert!(text("forgedBody").contains("\n  \"type\": \"PAYMENT_SUCCESS_WEBHOOK\""), "{report:#}");

    // Reports: three charts over the last two weeks (today's fees among the bars), and the same figures as CSV.
    assert_eq!(report["charts"], 3, "{report:#}");
    assert!(report["feeBars"].as_u64().unwrap() >= 1, "{report:#}");
    let rates = text("successRate");
    assert!(rates.ends_with("100") && !rates.contains("10000"), "every payment today succeeded: {rates}");
    let csv = text("csv");
    assert!(csv.starts_with("period_start,currency,payments,gross,fees"), "{csv}");
    assert!(csv.lines().any(|l| l.contains(",INR,7,6500.00,650.00,5850.00,0.00,2,600.00,")), "{csv}");
    assert!(text("csvName").starts_with("paydesk-financial-") && text("csvName").ends_with(".csv"));

    // Notifications with their delivery (no callback here: skipped), the approved payout investigated down to
    // the payment that funded it, and the audit log filtered to approvals.
    assert!(text("notifications").contains("skipped"), "{report:#}");
    let investigation = text("investigation");
    assert!(investigation.contains("₹300.00, paid") && investigation.contains("payout.approved"), "{investigation}");
    assert!(investigation.contains("from order ord_"), "{investigation}");
    assert!(report["approvals"].as_u64().unwrap() >= 2, "{report:#}");

    // Ops read, never act; a freelancer sees only their wallet, and asks for a payout.
    assert_eq!(report["opsApproveButtons"], 0);
    assert!(text("opsNote").contains("Read-only"), "{report:#}");
    assert_eq!(text("freelancerNav").trim(), "My wallet");
    assert!(
        text("requestDialog").contains("₹50.00") && text("requestDialog").contains("₹900.00 to ₹850.00"),
        "{report:#}"
    );
    assert_eq!(text("requested"), "ok: Requested: an admin will review it.");
    let mine = app
        .gql_ok(
            &app.token(Role::Freelancer, freelancer),
            "{ me { wallet { payoutRequests(first: 5) { amount status } } } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["me"]["wallet"]["payoutRequests"], json!([{ "amount": "50.00", "status": "PENDING" }]));

    // No serious accessibility violation on any page; the screenshots were taken at both widths.
    for (page, found) in report["axe"].as_object().unwrap() {
        assert_eq!(found, &json!([]), "axe-core on the {page} page");
    }
    for shot in ["queue-1440.png", "queue-390.png", "wallet-390.png", "reports-1440.png", "reports-390.png"] {
        let size = std::fs::metadata(shots.join(shot)).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{shot} is {size} bytes");
    }
}

#[tokio::test]
async fn the_console_is_served_offline_with_a_strict_policy() {
    let app = TestApp::spawn().await;
    let page = app.http.get(app.url("/console")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("default-src 'none'") && policy.contains("script-src 'self'"), "{policy}");
    let html = page.text().await.unwrap();
    // Every file the page and its modules name is served by the binary itself.
    let mut files: Vec<String> =
        html.split("/console/assets/").skip(1).map(|s| s.split('"').next().unwrap().to_owned()).collect();
    let app_js = app.http.get(app.url("/console/assets/app.js")).send().await.unwrap().text().await.unwrap();
    files.extend(app_js.split("import(\"./").skip(1).map(|s| s.split('"').next().unwrap().to_owned()));
    assert!(files.len() >= 6, "{files:?}");
    for file in files {
        let answer = app.http.get(app.url(&format!("/console/assets/{file}"))).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{file}");
        assert!(answer.headers()["content-security-policy"].to_str().unwrap().contains("'self'"));
    }
    let missing = app.http.get(app.url("/console/assets/nope.js")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
#[ignore = "needs Chromium, `npm ci --prefix tests/console` and `npm ci --prefix tests/oidc`: .ci/run runs it"]
async fn staff_sign_in_to_the_console_at_the_identity_provider_with_pkce() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let issuer = format!("http://127.0.0.1:{port}");
    let configured = issuer.clone();
    let app = TestApp::spawn_with(move |c| {
        c.oidc_issuer = Some(configured);
        c.jwt_audience = Some("paydesk".into());
        c.role_claim = "roles".into();
        c.role_map =
            vec!["paydesk-admin=admin".into(), "paydesk-ops=ops".into(), "paydesk-freelancer=freelancer".into()];
        c.console_client_id = Some("paydesk-console".into());
        c.console_scope = "openid payouts".into();
    })
    .await;
    let keys = tempfile::tempdir().unwrap();
    let console = app.url("/console");
    let provider = crate::surface::identity::RealProvider::start_for(port, keys.path(), "key-1", Some(&console)).await;
    assert_eq!(provider.issuer, issuer);
    pending(&app, "300.00").await;

    // The page may talk to the provider's origin, and to nothing else.
    let page = app.http.get(&console).send().await.unwrap();
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains(&format!("connect-src 'self' {issuer};")), "{policy}");

    let report = browser("signin.mjs", &json!({ "url": app.url(""), "login": "admin" }), 120).await;

    // The console sent the browser to the provider, and came back signed in as the role the provider gave.
    assert_eq!(report["button"], format!("Sign in at 127.0.0.1:{port}"));
    assert_eq!(report["providerPage"], issuer);
    assert_eq!(report["landed"], app.url("/console#/queue"), "the code is not left in the address");
    assert_eq!(report["role"], "admin");
    assert!(report["queue"].as_str().unwrap().contains("300.00"), "{report:#}");
    assert_eq!((report["tokenKept"].as_bool(), report["verifierGone"].as_bool()), (Some(true), Some(true)));
    assert_eq!(report["consoleErrors"], json!([]), "{report:#}");

    // Without an issuer the setting is refused at start, naming what it needs.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk"))
        .arg("serve")
        .env("DATABASE_URL", "sqlite::memory:")
        .env("PAYDESK_ADDR", "127.0.0.1:0")
        .env("PAYDESK_CONSOLE_CLIENT_ID", "paydesk-console")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PAYDESK_CONSOLE_CLIENT_ID needs PAYDESK_OIDC_ISSUER"));
}

#[tokio::test]
async fn the_console_may_reach_a_token_endpoint_the_provider_keeps_on_another_origin() {
    // A provider as Google and Cognito are: its issuer on one origin, its token endpoint on another.
    use axum::{routing::get, Json, Router};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let tokens = "http://127.0.0.1:9/oauth2/token";
    let discovery = json!({
        "issuer": issuer, "jwks_uri": format!("{issuer}/jwks"), "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": tokens,
    });
    let provider = Router::new()
        .route("/.well-known/openid-configuration", get(move || async move { Json(discovery) }))
        .route("/jwks", get(|| async { Json(json!({ "keys": [] })) }));
    tokio::spawn(async move { axum::serve(listener, provider).await.unwrap() });
    let configured = issuer.clone();
    let app = TestApp::spawn_with(move |c| {
        c.oidc_issuer = Some(configured);
        c.jwt_audience = Some("paydesk".into());
        c.console_client_id = Some("paydesk-console".into());
    })
    .await;
    let page = app.http.get(app.url("/console")).send().await.unwrap();
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains(&format!("connect-src 'self' {issuer} http://127.0.0.1:9;")), "{policy}");
    assert!(!policy.contains("/oauth2"), "origins only: {policy}");
}
