//! A history no one can rewrite unseen: audit entries, journal entries and webhook deliveries are chained as they
//! commit; `paydesk verify` (on the database or a backup, no server needed) and the server's background check
//! name the row edited, deleted or inserted out of order; PostgreSQL refuses the edits outright; an erasure on
//! an admin's word still verifies.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const CHECKPOINT: &str = "{ historyCheckpoint { at chains { chain seq hash rowId unlinked } } }";
const APPROVE: &str = "mutation($i: ApprovePayoutInput!) { approvePayout(input: $i) { status } }";

/// Waits until every chain has links and nothing recent is left unlinked; returns the checkpoint.
async fn linked(app: &TestApp) -> Value {
    for _ in 0..100 {
        let c = app.gql_ok(&app.admin(), CHECKPOINT, json!({})).await["historyCheckpoint"].clone();
        let chains = c["chains"].as_array().unwrap();
        if chains.iter().all(|h| h["seq"].as_i64().unwrap() > 0 && h["unlinked"] == 0) {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the chains never caught up");
}

/// Some history on every chain: a payment (webhook, journal, audit), a payout approved.
async fn some_history(app: &TestApp, double: &cashfree_double::Double) -> Uuid {
    let f = funded_freelancer(app, double).await;
    let p = app.request_payout(f, "300.00").await;
    let id = p["data"]["requestPayout"]["id"].as_str().unwrap().to_owned();
    let i = json!({ "i": { "payoutRequestId": id, "note": "ok" } });
    let status = app.gql_ok(&app.admin(), APPROVE, i).await["approvePayout"]["status"].clone();
    assert!(status == "APPROVED" || status == "PROCESSING", "{status}");
    f
}

async fn one_id(app: &TestApp, sql: &str) -> Uuid {
    use sea_orm::{ConnectionTrait, Statement};
    let db = &app.state.db;
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get_by_index(0).unwrap()
}

async fn alerts(app: &TestApp) -> Vec<Value> {
    let d = app.gql_ok(&app.admin(), "{ alerts(first: 50) { nodes { kind severity message } } }", json!({})).await;
    d["alerts"]["nodes"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_row_is_linked_and_verifies_offline_and_against_a_checkpoint() {
    let (app, double) = spawn_with_double(|c| c.history_checkpoint = Duration::from_secs(1)).await;
    some_history(&app, &double).await;
    let checkpoint = linked(&app).await;
    // The server has signed these heads.
    let audit_head = checkpoint["chains"][0]["seq"].clone();
    for _ in 0..100 {
        let res = app.http.get(app.url("/history/checkpoint")).bearer_auth(app.admin()).send().await.unwrap();
        if res.status() == 200 && res.json::<Value>().await.unwrap()["heads"][0]["seq"] == audit_head {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let chains = checkpoint["chains"].as_array().unwrap();
    let names: Vec<&str> = chains.iter().map(|c| c["chain"].as_str().unwrap()).collect();
    assert_eq!(names, ["AUDIT", "JOURNAL", "WEBHOOKS"]);
    assert!(chains.iter().all(|c| c["hash"].as_str().unwrap().len() == 64), "{checkpoint}");

    let (ok, out) = paydesk(&app, &["verify"]);
    assert!(ok, "{out}");
    assert!(out.contains("OK: every chain is whole"), "{out}");

    // The heads kept outside the database still hold.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), checkpoint.to_string()).unwrap();
    let (ok, out) = paydesk(&app, &["verify", "--checkpoint", file.path().to_str().unwrap()]);
    assert!(ok, "{out}");

    // An entry edited and its chain rebuilt from scratch (every link recomputed over the edited row, the hash its
    // writer kept dropped) holds together link by link, but not against the checkpoints signed before: those in
    // the database and the heads kept outside.
    let mut rebuild = vec![
        ("UPDATE audit_log SET reason = 'rewritten', content_hash = NULL", vec![]),
        ("DELETE FROM history_links WHERE chain = 'audit'", vec![]),
    ];
    if on_postgres() {
        // As the chainer would: holding its lock, so that no link it is adding lands between the two.
        rebuild.insert(0, ("SELECT pg_advisory_xact_lock(hashtext('paydesk.history.audit'))", vec![]));
    }
    tamper_all(&app, &rebuild).await;
    linked(&app).await;
    let (ok, out) = paydesk(&app, &["verify"]);
    assert!(!ok, "{out}");
    assert!(out.contains("audit chain, link") && out.contains("but the checkpoint at"), "{out}");
    assert!(!out.contains("was edited after"), "each link follows the one before: {out}");
    let (ok, out) = paydesk(&app, &["verify", "--checkpoint", file.path().to_str().unwrap()]);
    assert!(!ok, "{out}");
    assert!(out.contains("audit chain, link") && out.contains("the chain was rewritten"), "{out}");

    if !on_postgres() {
        // A backup verifies with no server and nothing but the file.
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("copy.db");
        let (app, double) = spawn_with_double(|_| {}).await;
        some_history(&app, &double).await;
        linked(&app).await;
        let (ok, out) = paydesk(&app, &["backup", "--to", copy.to_str().unwrap()]);
        assert!(ok, "{out}");
        let (ok, out) = paydesk(
            &app,
            &["verify", "--database-url", "sqlite://nowhere.db?mode=ro", "--file", copy.to_str().unwrap()],
        );
        assert!(ok, "{out}");
        assert!(out.contains("OK: every chain is whole"), "{out}");
    }
}

#[tokio::test]
async fn what_a_writer_hashed_verifies_as_stored_and_older_rows_are_hashed_from_their_content() {
    let (app, double) = spawn_with_double(|_| {}).await;
    // An audit entry as a version that kept no content hash wrote it (before any the writers sealed), with JSON
    // whose numbers and key order the database may hand back otherwise.
    let older = Uuid::now_v7();
    let now: sea_orm::Value = chrono::Utc::now().into();
    let before: sea_orm::Value = serde_json::from_str::<Value>(
        r#"{"z": [1, {"b": null, "a": "é"}], "amount": 1.50, "big": 12345678901234567890}"#,
    )
    .unwrap()
    .into();
    tamper(
        &app,
        "INSERT INTO audit_log (id, actor_role, action, entity_type, entity_id, before, created_at) \
         VALUES ($1, 'system', 'payment.succeeded', 'payment', $1, $2, $3)",
        vec![older.into(), before, now],
    )
    .await;
    some_history(&app, &double).await;
    // A note the hash must see exactly as the database keeps it: quotes, escapes, accents, symbols, a newline.
    let f = funded_freelancer(&app, &double).await;
    let p = app.request_payout(f, "200.00").await;
    let id = p["data"]["requestPayout"]["id"].as_str().unwrap().to_owned();
    let note = "l'avoir «payé» — ₹1.50 ✓\n\"quoted\" \\ back\u{1F4B8}";
    let reject = "mutation($i: RejectPayoutInput!) { rejectPayout(input: $i) { status } }";
    let i = json!({ "i": { "payoutRequestId": id, "reason": note } });
    assert_eq!(app.gql_ok(&app.admin(), reject, i).await["rejectPayout"]["status"], "REJECTED");

    // Linked like any other: nothing recent is left unlinked.
    linked(&app).await;
    link_of(&app, "audit", older).await;
    let (ok, out) = paydesk(&app, &["verify"]);
    assert!(ok && out.contains("OK: every chain is whole"), "{out}");
}

#[tokio::test]
async fn an_edited_deleted_or_inserted_row_is_named_by_verify_and_the_background_check() {
    let (app, double) = spawn_with_double(|c| c.history_verify = Duration::from_millis(200)).await;
    some_history(&app, &double).await;
    linked(&app).await;
    assert!(paydesk(&app, &["verify"]).0);

    // An audit entry's reason rewritten.
    let audit = one_id(&app, "SELECT id FROM audit_log WHERE action = 'payout.approved'").await;
    tamper(&app, "UPDATE audit_log SET reason = 'nothing to see' WHERE action = 'payout.approved'", vec![]).await;
    let (ok, out) = paydesk(&app, &["verify"]);
    assert!(!ok, "{out}");
    assert!(out.contains(&format!("audit entry {audit} was edited after it was written")), "{out}");

    // A journal line removed: its entry no longer is what was written.
    let entry = one_id(&app, "SELECT id FROM journal_entries WHERE kind = 'payout_approved'").await;
    tamper(&app, "DELETE FROM journal_postings WHERE entry_id IN (SELECT id FROM journal_entries WHERE kind = 'payout_approved') AND line = 2", vec![]).await;
    let (_, out) = paydesk(&app, &["verify"]);
    assert!(out.contains(&format!("journal entry {entry} was edited after it was written")), "{out}");
    assert!(out.contains("MISMATCH"), "the books no longer balance either: {out}");

    // A delivery deleted.
    let hook = one_id(&app, "SELECT id FROM payment_webhooks").await;
    tamper(&app, "DELETE FROM payment_webhooks", vec![]).await;
    let (_, out) = paydesk(&app, &["verify"]);
    assert!(out.contains(&format!("webhook delivery {hook} was deleted")), "{out}");

    // An audit entry slipped in, dated a day back.
    let forged = Uuid::now_v7();
    let day_ago: sea_orm::Value = (chrono::Utc::now() - chrono::Duration::days(1)).into();
    tamper(
        &app,
        "INSERT INTO audit_log (id, actor_role, action, entity_type, entity_id, created_at) \
         VALUES ($1, 'admin', 'payout.approved', 'payout_request', $1, $2)",
        vec![forged.into(), day_ago],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, out) = paydesk(&app, &["verify"]);
    assert!(out.contains(&format!("audit entry {forged}")) && out.contains("inserted out of order"), "{out}");
    // The first finding is the first thing changed, in chain order.
    let first = out.lines().find(|l| l.starts_with("  audit chain")).unwrap();
    assert!(first.contains(&audit.to_string()), "{out}");

    // The running server found them too, each as one CRITICAL alert.
    let mut seen = Vec::new();
    for _ in 0..150 {
        seen = tampered(&app).await;
        if seen.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(seen.iter().all(|a| a["severity"] == "CRITICAL"), "{seen:?}");
    for id in [audit, entry, hook, forged] {
        assert!(seen.iter().any(|a| a["message"].as_str().unwrap().contains(&id.to_string())), "{id} in {seen:?}");
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let again = tampered(&app).await.len();
    assert_eq!(again, seen.len(), "each finding is raised once");
}

#[tokio::test]
async fn a_finding_whose_alert_could_not_be_stored_is_raised_once_the_database_takes_it() {
    let (app, double) = spawn_with_double(|c| c.history_verify = Duration::from_millis(200)).await;
    some_history(&app, &double).await;
    linked(&app).await;
    // The event log out of reach (a full disk, a lost connection, a table being repaired) while a row is edited.
    tamper(&app, "ALTER TABLE events RENAME TO events_aside", vec![]).await;
    let audit = one_id(&app, "SELECT id FROM audit_log WHERE action = 'payout.approved'").await;
    tamper(&app, "UPDATE audit_log SET reason = 'nothing to see' WHERE action = 'payout.approved'", vec![]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    tamper(&app, "ALTER TABLE events_aside RENAME TO events", vec![]).await;
    let about =
        |a: &Value| a["kind"] == "history_tampered" && a["message"].as_str().unwrap().contains(&audit.to_string());
    let mut seen = Vec::new();
    for _ in 0..150 {
        seen = alerts(&app).await.into_iter().filter(about).collect();
        if !seen.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(seen.len(), 1, "raised when it could be, and once: {:?}", alerts(&app).await);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(alerts(&app).await.into_iter().filter(about).count(), 1, "and not again");
}

/// Waits until the latest signed checkpoint holds the heads there are now; returns it.
async fn signed_now(app: &TestApp) -> Value {
    let now = linked(app).await;
    for _ in 0..100 {
        let res = app.http.get(app.url("/history/checkpoint")).bearer_auth(app.admin()).send().await.unwrap();
        if res.status() == 200 {
            let c: Value = res.json().await.unwrap();
            if (0..3).all(|i| c["heads"][i]["seq"] == now["chains"][i]["seq"]) {
                return c;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no signed checkpoint of the heads now");
}

/// How many links `verify` says it checked.
fn links_checked(out: &str) -> i64 {
    let line = out.lines().find(|l| l.starts_with("history: checked ")).unwrap_or_else(|| panic!("{out}"));
    line["history: checked ".len()..].split(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn verify_since_a_checkpoint_it_verified_walks_only_what_came_after() {
    let (app, double) = spawn_with_double(|c| c.history_checkpoint = Duration::from_secs(1)).await;
    some_history(&app, &double).await;
    let first = signed_now(&app).await;
    let total: i64 = (0..3).map(|i| first["heads"][i]["seq"].as_i64().unwrap()).sum();
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("verified.json");
    let since = kept.to_str().unwrap();

    // The first run walks everything and keeps the checkpoint it verified.
    let (ok, out) = paydesk(&app, &["verify", "--since", since]);
    assert!(ok && links_checked(&out) == total, "{out}");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&kept).unwrap()).unwrap();
    assert_eq!((&file["heads"], &file["signature"]), (&first["heads"], &first["signature"]));

    // The next walks only what was written since.
    some_history(&app, &double).await;
    let second = signed_now(&app).await;
    let now: i64 = (0..3).map(|i| second["heads"][i]["seq"].as_i64().unwrap()).sum();
    let (ok, out) = paydesk(&app, &["verify", "--since", since]);
    assert!(ok && links_checked(&out) == now - total, "{out}");
    assert!(out.contains("after the checkpoint at"), "{out}");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&kept).unwrap()).unwrap();
    assert_eq!(file["heads"], second["heads"], "kept moves forward");

    // A row written after the kept checkpoint, edited: found.
    some_history(&app, &double).await;
    linked(&app).await;
    let newer = "SELECT id FROM audit_log WHERE action = 'payout.approved' ORDER BY created_at DESC LIMIT 1";
    let newer = one_id(&app, newer).await;
    tamper(&app, "UPDATE audit_log SET reason = 'approved twice' WHERE id = $1", vec![newer.into()]).await;
    let (ok, out) = paydesk(&app, &["verify", "--since", since]);
    assert!(!ok && out.contains(&format!("audit entry {newer} was edited after it was written")), "{out}");

    // The audit chain rewritten from the kept checkpoint's head on: found, naming the file, and every chain walked.
    let head = second["heads"][0]["seq"].as_i64().unwrap();
    tamper(&app, "DELETE FROM history_links WHERE chain = 'audit' AND seq >= $1", vec![head.into()]).await;
    let (ok, out) = paydesk(&app, &["verify", "--since", since]);
    assert!(!ok, "{out}");
    assert!(out.contains(since) && out.contains("the chain was"), "{out}");
    assert!(links_checked(&out) >= now - 1, "walked whole: {out}");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&kept).unwrap()).unwrap();
    assert_eq!(file["heads"], second["heads"], "a run that found something keeps the file as it was");

    // A kept file edited by hand vouches for nothing; without the public key there is nothing to check it with.
    let mut forged = file.clone();
    forged["heads"][0]["seq"] = json!(1);
    std::fs::write(&kept, forged.to_string()).unwrap();
    let (ok, out) = paydesk(&app, &["verify", "--since", since]);
    assert!(!ok && out.contains("is not signed by the history's key"), "{out}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk"))
        .args(["verify", "--since", since])
        .env("DATABASE_URL", &app.db_url)
        .env_remove("PAYDESK_HISTORY_PUBLIC_KEY")
        .env_remove("PAYDESK_HISTORY_SIGNING_KEY")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("--since needs the history's public key"), "{said}");
}

#[tokio::test]
async fn rows_written_without_a_hash_never_stop_the_chainer_however_many() {
    let (app, double) = spawn_with_double(|_| {}).await;
    some_history(&app, &double).await;
    linked(&app).await;
    // More than a chainer's batch of audit entries written now by something other than paydesk, with no hash.
    use sea_orm::EntityTrait;
    let now = chrono::Utc::now();
    let foreign = (0..1_100).map(|_| entity::audit_log::ActiveModel {
        id: sea_orm::Set(Uuid::now_v7()),
        actor_id: sea_orm::Set(None),
        actor_role: sea_orm::Set(entity::status::Role::System),
        action: sea_orm::Set("payment.succeeded".into()),
        entity_type: sea_orm::Set("payment".into()),
        entity_id: sea_orm::Set(Uuid::now_v7()),
        before: sea_orm::Set(None),
        after: sea_orm::Set(None),
        reason: sea_orm::Set(None),
        created_at: sea_orm::Set(now),
        content_hash: sea_orm::Set(None),
    });
    for part in foreign.collect::<Vec<_>>().chunks(100) {
        entity::audit_log::Entity::insert_many(part.to_vec()).exec(&app.state.db).await.unwrap();
    }
    // What paydesk writes after them is linked all the same.
    let f = some_history(&app, &double).await;
    let approved = format!(
        "SELECT a.id FROM audit_log a JOIN payout_requests p ON p.id = a.entity_id \
         WHERE a.action = 'payout.approved' AND p.freelancer_id = {}",
        uuid_literal(f)
    );
    let approved = one_id(&app, &approved).await;
    link_of(&app, "audit", approved).await;
    // Nor are they counted as waiting for a link: the checkpoint's `unlinked` comes back to 0.
    linked(&app).await;
}

#[tokio::test]
async fn two_instances_writing_at_once_keep_one_valid_chain() {
    let (app, double) = spawn_with_double(|_| {}).await;
    let second = app.spawn_second().await;
    let f = Uuid::new_v4();
    let mut work = Vec::new();
    for i in 0..30 {
        let target = if i % 2 == 0 { &app } else { &second };
        let order = format!("ord_two_{i}_{}", f.simple());
        work.push(async move {
            target.create_order(f, "10.00", &order).await;
            let body =
                payment_body("PAYMENT_SUCCESS_WEBHOOK", &order, &format!("cf{i}{}", rand_digits()), "SUCCESS", "10.00");
            let (status, _) = target.deliver_signed(&body).await;
            assert_eq!(status, 200);
        });
    }
    if on_postgres() {
        futures_util::future::join_all(work).await;
    } else {
        // Two processes on one SQLite file take turns (it has one writer); their chainers still race.
        for w in work {
            w.await;
        }
    }
    let _ = &double;
    let c = linked(&app).await;
    let (ok, out) = paydesk(&app, &["verify"]);
    assert!(ok, "{out}");
    for (chain, table) in [("AUDIT", "audit_log"), ("JOURNAL", "journal_entries"), ("WEBHOOKS", "payment_webhooks")] {
        let seq =
            c["chains"].as_array().unwrap().iter().find(|h| h["chain"] == chain).unwrap()["seq"].as_i64().unwrap();
        let rows = one_i64(&app, &format!("SELECT COUNT(*) FROM {table}")).await;
        assert!(seq >= 30 && seq <= rows, "{chain}: {seq} links of {rows} rows");
    }
    let rows = one_i64(&app, "SELECT COUNT(*) FROM payment_webhooks").await;
    let links = one_i64(&app, "SELECT COUNT(*) FROM history_links WHERE chain = 'webhooks'").await;
    assert_eq!(rows, links, "every delivery linked once");
}

#[tokio::test]
async fn postgres_refuses_edits_and_deletions_of_the_history() {
    if !on_postgres() {
        return;
    }
    use sea_orm::ConnectionTrait;
    let (app, double) = spawn_with_double(|_| {}).await;
    some_history(&app, &double).await;
    linked(&app).await;
    let db = &app.state.db;
    for sql in [
        "UPDATE audit_log SET reason = 'x'",
        "DELETE FROM audit_log",
        "UPDATE journal_entries SET description = 'x'",
        "DELETE FROM journal_postings",
        "UPDATE payment_webhooks SET raw_body = ''::bytea",
        "DELETE FROM payment_webhooks",
        "UPDATE history_links SET seq = seq + 100",
        "TRUNCATE audit_log",
    ] {
        let e = db.execute_unprepared(sql).await.expect_err(sql).to_string();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    // What became of a delivery is still written.
    db.execute_unprepared("UPDATE payment_webhooks SET error = 'noted'").await.unwrap();
    assert!(paydesk(&app, &["verify"]).0);

    // No session setting opens the way for an erasure, and the gate moves only with the signing key's next token,
    // which no one holding the database has: not a made-up one, nor one already spent.
    use sea_orm::TransactionTrait;
    let audit = one_id(&app, "SELECT id FROM audit_log WHERE action = 'payout.approved'").await;
    let refused = |sql: String| async move {
        let txn = db.begin().await.unwrap();
        let e = txn.execute_unprepared(&sql).await.expect_err(&sql).to_string();
        txn.rollback().await.unwrap();
        e
    };
    let settings = format!(
        "SELECT set_config('paydesk.erasure', '{audit}', true); UPDATE audit_log SET reason = NULL WHERE id = '{audit}'"
    );
    assert!(refused(settings).await.contains("append-only"));
    let made_up = format!(
        "UPDATE history_erasure_gate SET spent = '\\x00', erasing = '{audit}'; \
         UPDATE audit_log SET reason = NULL WHERE id = '{audit}'"
    );
    assert!(refused(made_up).await.contains("only an erasure made with the history's signing key moves it"));
    let erase = "mutation($i: EraseHistoryRecordInput!) { eraseHistoryRecord(input: $i) }";
    let hook = one_id(&app, "SELECT id FROM payment_webhooks").await;
    let i = json!({ "i": { "chain": "WEBHOOKS", "id": hook, "reason": "GDPR art. 17" } });
    assert_eq!(app.gql_ok(&app.admin(), erase, i).await["eraseHistoryRecord"], true);
    let replayed = format!(
        "UPDATE history_erasure_gate SET spent = spent, erasing = '{audit}'; \
         UPDATE audit_log SET reason = NULL WHERE id = '{audit}'"
    );
    assert!(refused(replayed).await.contains("only an erasure made with the history's signing key moves it"));
    for sql in ["DELETE FROM history_erasure_gate", "TRUNCATE history_erasure_gate"] {
        assert!(refused(sql.into()).await.contains("refused"), "{sql}");
    }
    let i = json!({ "i": { "chain": "AUDIT", "id": audit, "reason": "GDPR art. 17" } });
    assert_eq!(app.gql_ok(&app.admin(), erase, i).await["eraseHistoryRecord"], true, "the key still opens it");
    linked(&app).await;
    let (ok, out) = paydesk(&app, &["verify"]);
    assert!(ok, "{out}");

    // An instance with another key (a rotation) cannot open it until the owner hands the gate over.
    let rotated = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    let other = app.spawn_second_with(|c| c.history_signing_key = Some(rotated.into())).await;
    let second = one_id(&app, "SELECT id FROM audit_log WHERE action = 'payout.requested'").await;
    let i = json!({ "i": { "chain": "AUDIT", "id": second, "reason": "GDPR art. 17" } });
    let d = other.gql(Some(&other.admin()), erase, i.clone()).await;
    assert_eq!(code(&d), "INVALID_STATE");
    assert!(d.to_string().contains("the erasure gate answers to the history key"), "{d}");
    db.execute_unprepared(
        "BEGIN; ALTER TABLE history_erasure_gate DISABLE TRIGGER paydesk_history; DELETE FROM history_erasure_gate; \
         ALTER TABLE history_erasure_gate ENABLE TRIGGER paydesk_history; COMMIT",
    )
    .await
    .unwrap();
    assert_eq!(other.gql_ok(&other.admin(), erase, i).await["eraseHistoryRecord"], true);
}

#[tokio::test]
async fn an_erasure_redacts_one_record_and_the_history_still_verifies() {
    let (app, double) = spawn_with_double(|_| {}).await;
    some_history(&app, &double).await;
    linked(&app).await;
    let hook = one_id(&app, "SELECT id FROM payment_webhooks").await;
    let erase = "mutation($i: EraseHistoryRecordInput!) { eraseHistoryRecord(input: $i) }";
    let ops = app.token(entity::status::Role::Ops, Uuid::new_v4());
    let i = json!({ "i": { "chain": "WEBHOOKS", "id": hook, "reason": "GDPR art. 17 request #12" } });
    assert_eq!(code(&app.gql(Some(&ops), erase, i.clone()).await), "FORBIDDEN");
    let blank = json!({ "i": { "chain": "WEBHOOKS", "id": hook, "reason": " " } });
    assert_eq!(code(&app.gql(Some(&app.admin()), erase, blank).await), "BAD_USER_INPUT");
    let entry = one_id(&app, "SELECT id FROM journal_entries").await;
    let journal = json!({ "i": { "chain": "JOURNAL", "id": entry, "reason": "GDPR" } });
    assert_eq!(code(&app.gql(Some(&app.admin()), erase, journal).await), "INVALID_STATE");

    assert_eq!(app.gql_ok(&app.admin(), erase, i).await["eraseHistoryRecord"], true);
    let w = app.gql_ok(&app.admin(), "{ paymentWebhooks(first: 50) { nodes { id rawBody } } }", json!({})).await;
    let w = w["paymentWebhooks"]["nodes"].as_array().unwrap().iter().find(|n| n["id"] == json!(hook)).unwrap().clone();
    assert_eq!(w["rawBody"], "", "{w}");
    linked(&app).await;
    let (ok, out) = paydesk(&app, &["verify"]);
    assert!(ok, "{out}");
    let audit = app
        .gql_ok(
            &app.admin(),
            "query($id: UUID!) { auditLog(filter: { entityId: $id }) { nodes { action reason } } }",
            json!({ "id": hook }),
        )
        .await;
    assert!(audit.to_string().contains("history.erased") && audit.to_string().contains("GDPR art. 17"), "{audit}");
}

#[tokio::test]
async fn each_signed_checkpoint_and_each_days_heads_go_to_the_callback() {
    use axum::{routing::post, Router};
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let sink = got.clone();
    let receiver = Router::new().route(
        "/hooks",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let sink = sink.clone();
            async move {
                let signature = headers["x-paydesk-signature"].to_str().unwrap().to_owned();
                sink.lock().unwrap().push((signature, body));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
    let (app, double) = spawn_with_double(|c| {
        c.history_verify = Duration::from_millis(200);
        c.history_checkpoint = Duration::from_secs(1);
        c.notify_url = Some(url);
        c.notify_secret = Some("checkpoint-secret".into());
        c.notify_poll_ms = 50;
    })
    .await;
    let sent_of = |kind: &str| -> Vec<Value> {
        let got = got.lock().unwrap();
        let all = got.iter().map(|(_, b)| serde_json::from_str::<Value>(b).unwrap());
        all.filter(|n| n["kind"] == kind).collect()
    };
    some_history(&app, &double).await;
    let today = linked(&app).await;

    // Each signed checkpoint is sent as it is taken; once the heads stop moving, nothing more is signed or sent.
    let mut last = None;
    for _ in 0..100 {
        let signed = sent_of("history.checkpoint.signed");
        let body = signed.last().map(|n| serde_json::from_str::<Value>(n["body"].as_str().unwrap()).unwrap());
        let now = |b: &Value| (0..3).all(|i| b["heads"][i]["seq"] == today["chains"][i]["seq"]);
        if let Some(b) = body.filter(now) {
            last = Some((signed.len(), b));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (count, signed) = last.expect("the checkpoint with today's heads reached the callback");
    assert_eq!(signed["publicKey"], history_public_key().as_str(), "{signed}");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), signed.to_string()).unwrap();
    let (ok, out) = paydesk(&app, &["verify", "--checkpoint", file.path().to_str().unwrap()]);
    assert!(ok && out.contains("held against"), "{out}");
    let mut forged = signed.clone();
    forged["heads"][0]["seq"] = json!(1);
    std::fs::write(file.path(), forged.to_string()).unwrap();
    let (ok, out) = paydesk(&app, &["verify", "--checkpoint", file.path().to_str().unwrap()]);
    assert!(!ok && out.contains("is not signed by the history's key"), "{out}");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(sent_of("history.checkpoint.signed").len(), count, "no new heads, no new checkpoint");

    // Nothing is sent for a day that has not ended.
    assert!(sent_of("history.checkpoint").is_empty());
    // The links were made yesterday (as a server that ran then would have made them): yesterday's heads go out.
    let yesterday_noon: sea_orm::Value = (chrono::Utc::now() - chrono::Duration::days(1)).into();
    tamper(&app, "UPDATE history_links SET linked_at = $1", vec![yesterday_noon]).await;
    let mut sent = None;
    for _ in 0..100 {
        let day = |b: &str| serde_json::from_str::<Value>(b).unwrap()["kind"] == "history.checkpoint";
        if let Some(x) = got.lock().unwrap().iter().find(|(_, b)| day(b)) {
            sent = Some(x.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (signature, body) = sent.expect("the checkpoint reached the callback");
    assert!(signature.starts_with("v1="), "signed like every notification: {signature}");
    let n: Value = serde_json::from_str(&body).unwrap();
    let heads: Value = serde_json::from_str(n["body"].as_str().unwrap()).unwrap();
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    assert_eq!(heads["day"], yesterday.as_str(), "{heads}");
    for h in heads["heads"].as_array().unwrap() {
        let now = today["chains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["chain"].as_str().unwrap().to_lowercase() == h["chain"])
            .unwrap();
        assert_eq!((&h["seq"], &h["hash"]), (&now["seq"], &now["hash"]), "{heads}");
    }
    // And it verifies the database.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), heads.to_string()).unwrap();
    let (ok, out) = paydesk(&app, &["verify", "--checkpoint", file.path().to_str().unwrap()]);
    assert!(ok, "{out}");
}

/// The link (seq, content hash) of a row of `chain`, once the chainer has linked it.
async fn link_of(app: &TestApp, chain: &str, row: Uuid) -> (i64, Vec<u8>) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    for _ in 0..100 {
        let l = entity::history_link::Entity::find()
            .filter(entity::history_link::Column::Chain.eq(chain))
            .filter(entity::history_link::Column::RowId.eq(row))
            .one(&app.state.db)
            .await
            .unwrap();
        if let Some(l) = l {
            return (l.seq, l.content_hash);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{row} was never linked into the {chain} chain");
}

/// Writes an audit entry as someone holding the database would: its content hash computed (the format is no
/// secret), so the chainer links it like any other.
async fn forge_audit(app: &TestApp, action: &str, entity_id: Uuid, before: Value) -> Uuid {
    use sea_orm::ActiveModelTrait;
    let mut row = entity::audit_log::Model {
        id: Uuid::now_v7(),
        actor_id: Some(Uuid::new_v4()),
        actor_role: entity::status::Role::Admin,
        action: action.into(),
        entity_type: "audit_entry".into(),
        entity_id,
        before: Some(before),
        after: None,
        reason: Some("GDPR art. 17".into()),
        created_at: chrono::Utc::now(),
        content_hash: None,
    };
    row.content_hash = Some(paydesk::services::evidence::history::audit_content_hash(&row));
    entity::audit_log::ActiveModel::from(row.clone()).insert(&app.state.db).await.unwrap();
    row.id
}

/// An audit entry as it now stands, and the content hash it now has.
async fn audit_now(app: &TestApp, id: Uuid) -> Vec<u8> {
    use sea_orm::EntityTrait;
    let row = entity::audit_log::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap();
    paydesk::services::evidence::history::audit_content_hash(&row)
}

#[tokio::test]
async fn a_forged_erasure_hides_no_edit_and_an_erased_record_stays_as_erased() {
    let (app, double) = spawn_with_double(|c| c.history_verify = Duration::from_millis(200)).await;
    some_history(&app, &double).await;
    linked(&app).await;
    // An approval's audit entry rewritten, under an erasure record written by hand: the hashes all fit, the
    // signature cannot.
    let approval = one_id(&app, "SELECT id FROM audit_log WHERE action = 'payout.approved'").await;
    let (_, was) = link_of(&app, "audit", approval).await;
    tamper(&app, "UPDATE audit_log SET reason = 'approved by the CFO' WHERE action = 'payout.approved'", vec![]).await;
    let now = audit_now(&app, approval).await;
    let forged = json!({ "chain": "audit", "contentHash": hex::encode(&was), "erasedHash": hex::encode(&now),
                         "signature": "00".repeat(64), "publicKey": history_public_key() });
    let record = forge_audit(&app, "history.erased", approval, forged).await;
    link_of(&app, "audit", record).await;
    let (ok, out) = paydesk(&app, &["verify"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!(
            "audit entry {approval} was edited after it was written: its erasure record is not signed"
        )),
        "{out}"
    );
    // And a journal entry is never explained by an erasure, signed or not.
    let entry = one_id(&app, "SELECT id FROM journal_entries WHERE kind = 'payout_approved'").await;
    let (_, entry_was) = link_of(&app, "journal", entry).await;
    forge_audit(&app, "history.erased", entry, json!({ "chain": "journal", "contentHash": hex::encode(&entry_was) }))
        .await;
    tamper(&app, "UPDATE journal_entries SET description = 'moved' WHERE kind = 'payout_approved'", vec![]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, out) = paydesk(&app, &["verify"]);
    assert!(out.contains(&format!("journal entry {entry} was edited after it was written")), "{out}");
    // The running server says so too.
    let mut seen = Vec::new();
    for _ in 0..150 {
        seen = tampered(&app).await;
        if seen.iter().any(|a| a["message"].as_str().unwrap().contains("not signed")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(seen.iter().any(|a| a["message"].as_str().unwrap().contains(&approval.to_string())), "{seen:?}");

    // A lawful erasure, then its record edited beyond what was erased: found.
    let (app, double) = spawn_with_double(|_| {}).await;
    some_history(&app, &double).await;
    linked(&app).await;
    let approval = one_id(&app, "SELECT id FROM audit_log WHERE action = 'payout.approved'").await;
    let erase = "mutation($i: EraseHistoryRecordInput!) { eraseHistoryRecord(input: $i) }";
    let i = json!({ "i": { "chain": "AUDIT", "id": approval, "reason": "GDPR art. 17 request #7" } });
    assert_eq!(app.gql_ok(&app.admin(), erase, i).await["eraseHistoryRecord"], true);
    linked(&app).await;
    assert!(paydesk(&app, &["verify"]).0, "the erasure itself verifies");
    let (ok, out) = paydesk(&app, &["verify", "--public-key", &"11".repeat(32)]);
    assert!(
        !ok && out.contains("not signed by the history's key"),
        "another deployment's key vouches for nothing: {out}"
    );
    tamper(&app, "UPDATE audit_log SET action = 'payout.rejected' WHERE id = $1", vec![approval.into()]).await;
    let (ok, out) = paydesk(&app, &["verify"]);
    assert!(!ok, "{out}");
    assert!(out.contains(&format!("audit entry {approval} was edited after its erasure")), "{out}");
}

#[tokio::test]
async fn without_a_signing_key_nothing_is_erased() {
    let (app, double) = spawn_with_double(|c| c.history_signing_key = None).await;
    some_history(&app, &double).await;
    let hook = one_id(&app, "SELECT id FROM payment_webhooks").await;
    let erase = "mutation($i: EraseHistoryRecordInput!) { eraseHistoryRecord(input: $i) }";
    let i = json!({ "i": { "chain": "WEBHOOKS", "id": hook, "reason": "GDPR art. 17" } });
    let d = app.gql(Some(&app.admin()), erase, i).await;
    assert_eq!(code(&d), "INVALID_STATE");
    assert!(d.to_string().contains("PAYDESK_HISTORY_SIGNING_KEY"), "{d}");
    let res = app.http.get(app.url("/history/public-key")).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_checkpoints_find_a_chain_rewritten_with_fresh_hashes_or_cut() {
    let (app, double) = spawn_with_double(|c| {
        c.history_checkpoint = Duration::from_secs(1);
        c.history_verify = Duration::from_millis(200);
    })
    .await;
    some_history(&app, &double).await;
    linked(&app).await;
    let public: Value = app.http.get(app.url("/history/public-key")).send().await.unwrap().json().await.unwrap();
    assert_eq!(public["publicKey"], history_public_key().as_str());
    let signed = loop {
        let res = app.http.get(app.url("/history/checkpoint")).bearer_auth(app.admin()).send().await.unwrap();
        if res.status() == 200 {
            let c: Value = res.json().await.unwrap();
            if c["heads"].as_array().unwrap().iter().all(|h| h["seq"].as_i64().unwrap() > 0) {
                break c;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let freelancer = app.token(entity::status::Role::Freelancer, Uuid::new_v4());
    let res = app.http.get(app.url("/history/checkpoint")).bearer_auth(freelancer).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("latest.json"), signed.to_string()).unwrap();
    let kept = dir.path().to_str().unwrap().to_owned();
    assert!(paydesk(&app, &["verify", "--checkpoint", &kept]).0);
    // A forged copy of it does not pass for one.
    let mut forged = signed.clone();
    forged["heads"][0]["seq"] = json!(1);
    let file = dir.path().join("forged.json");
    std::fs::write(&file, forged.to_string()).unwrap();
    let (ok, out) = paydesk(&app, &["verify", "--checkpoint", file.to_str().unwrap()]);
    assert!(!ok && out.contains("is not signed by the history's key"), "{out}");
    std::fs::remove_file(&file).unwrap();

    // The approval's audit entry rewritten, its content hash removed and every link from it on deleted: the
    // chainer must not link it again from its content.
    let approval = one_id(&app, "SELECT id FROM audit_log WHERE action = 'payout.approved'").await;
    let (seq, _) = link_of(&app, "audit", approval).await;
    tamper_all(
        &app,
        &[
            (
                "UPDATE audit_log SET reason = 'approved by the CFO', content_hash = NULL WHERE id = $1",
                vec![approval.into()],
            ),
            ("DELETE FROM history_links WHERE chain = 'audit' AND seq >= $1", vec![seq.into()]),
        ],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let relinked = entity::history_link::Entity::find()
        .filter(entity::history_link::Column::RowId.eq(approval))
        .one(&app.state.db)
        .await
        .unwrap();
    assert!(relinked.is_none(), "a row whose hash was removed is never linked again");
    let (ok, out) = paydesk(&app, &["verify", "--checkpoint", &kept]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("audit chain") && (out.contains("the chain was rewritten") || out.contains("the chain was cut")),
        "{out}"
    );
    assert!(out.contains("signed"), "the checkpoint is named: {out}");

    // The newest delivery cut, row and link, so the chain itself is whole: only the checkpoint knows it was longer.
    let newest = "SELECT row_id FROM history_links WHERE chain = 'webhooks' ORDER BY seq DESC LIMIT 1";
    let hook = one_id(&app, newest).await;
    tamper_all(
        &app,
        &[
            ("DELETE FROM history_links WHERE chain = 'webhooks' AND row_id = $1", vec![hook.into()]),
            ("DELETE FROM payment_webhooks WHERE id = $1", vec![hook.into()]),
        ],
    )
    .await;
    let (ok, out) = paydesk(&app, &["verify"]);
    assert!(!ok, "{out}");
    assert!(out.contains("webhooks chain") && out.contains("which is gone: the chain was cut"), "{out}");
    // The running server finds the rewrite too, naming the checkpoint.
    let mut seen = Vec::new();
    for _ in 0..150 {
        seen = tampered(&app).await;
        if seen.iter().any(|a| a["message"].as_str().unwrap().contains("checkpoint at")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(seen.iter().any(|a| a["message"].as_str().unwrap().contains("checkpoint at")), "{:?}", alerts(&app).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_key_rotation_what_the_retired_key_signed_still_verifies() {
    // The first key signs checkpoints and an erasure; its own background check runs once, at start.
    let (app, double) = spawn_with_double(|c| {
        c.history_checkpoint = Duration::from_secs(3);
        c.history_verify = Duration::from_secs(3600);
    })
    .await;
    some_history(&app, &double).await;
    let approval = one_id(&app, "SELECT id FROM audit_log WHERE action = 'payout.approved'").await;
    let erase = "mutation($i: EraseHistoryRecordInput!) { eraseHistoryRecord(input: $i) }";
    let i = json!({ "i": { "chain": "AUDIT", "id": approval, "reason": "GDPR art. 17 request #9" } });
    assert_eq!(app.gql_ok(&app.admin(), erase, i).await["eraseHistoryRecord"], true);
    signed_now(&app).await;
    let old = history_public_key();

    // Rotated: an instance signs with a new key, the old one retired, and writes and signs more.
    let new = paydesk::services::evidence::history::Signer::from_seed([9; 32]);
    let rotated = |c: &mut paydesk::config::Config| {
        wire_to(c, &double);
        c.history_signing_key = Some(new.seed_hex());
        c.history_checkpoint = Duration::from_secs(1);
        c.history_verify = Duration::from_millis(200);
    };
    let second = app
        .spawn_second_with(|c| {
            rotated(c);
            c.history_retired_keys = vec![old.clone()];
        })
        .await;
    let public: Value = second.http.get(second.url("/history/public-key")).send().await.unwrap().json().await.unwrap();
    assert_eq!((&public["publicKey"], &public["retiredKeys"]), (&json!(new.public_hex()), &json!([old])), "{public}");
    some_history(&second, &double).await;
    // (The first instance, not restarted, still signs with the old key every third second: a rolling rotation.)
    let mut by_new = false;
    for _ in 0..100 {
        by_new = signed_now(&second).await["publicKey"] == new.public_hex().as_str();
        if by_new {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(by_new, "the rotated instance signed nothing");

    // The auditor given both keys: clean. Given only the new one: what the old key signed is vouched for by none.
    let both = format!("{},{old}", new.public_hex());
    let (ok, out) = paydesk(&second, &["verify", "--public-key", &both]);
    assert!(ok && out.contains("held against"), "{out}");
    let (ok, out) = paydesk(&second, &["verify", "--public-key", &new.public_hex()]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!(
            "audit entry {approval} was edited after it was written: its erasure record is not signed"
        )),
        "{out}"
    );
    assert!(out.contains("is not signed by the history's key: forged, or edited"), "the old checkpoints: {out}");

    // The rotated instance's background check has gone round the chains and found nothing; one not told of the
    // retired key finds the erasure.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(tampered(&second).await.len(), 0);
    let third = app.spawn_second_with(rotated).await;
    for _ in 0..100 {
        if !tampered(&third).await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("an instance that does not trust the retired key never said so");
}

/// The `history_tampered` alerts raised so far.
async fn tampered(app: &TestApp) -> Vec<Value> {
    alerts(app).await.into_iter().filter(|a| a["kind"] == "history_tampered").collect()
}
