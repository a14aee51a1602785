//! Persisted documents: automatic persisted queries as Apollo Client and urql send them (by hash, over GET and
//! POST, registered once and known to every instance), and trusted documents, outside which only an admin may run
//! anything.

use crate::helpers::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const QUERY: &str = "query Holds { payoutHolds { reason } }";

fn sha(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, token: &str, body: Value) -> Value {
    app.http.post(app.url("/graphql")).bearer_auth(token).json(&body).send().await.unwrap().json().await.unwrap()
}

/// `GET /graphql` as Apollo Client's persisted-query link sends it.
async fn get(app: &TestApp, token: &str, params: &[(&str, String)]) -> (u16, Value) {
    let res = app
        .http
        .get(app.url("/graphql"))
        .query(params)
        .bearer_auth(token)
        .header("accept", "application/graphql-response+json, application/json")
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn a_hash_not_known_yet_is_registered_once_and_then_known_to_every_instance() {
    let app = TestApp::spawn().await;
    let ops = app.token(entity::status::Role::Ops, uuid::Uuid::new_v4());
    let hash = sha(QUERY);

    // The hash alone, first: not found, in the words Apollo Client and urql look for.
    let body = post(&app, &ops, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND", "{body}");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");

    // Text and hash together register it and run it.
    let body = post(&app, &ops, json!({ "query": QUERY, "extensions": persisted(&hash) })).await;
    assert!(body["data"]["payoutHolds"].is_array(), "{body}");

    // From then on the hash is enough, over GET too, and on another instance of the same database.
    let params = |hash: &str| {
        vec![
            ("operationName", "Holds".to_owned()),
            ("variables", "{}".to_owned()),
            ("extensions", persisted(hash).to_string()),
        ]
    };
    let (status, body) = get(&app, &ops, &params(&hash)).await;
    assert_eq!(status, 200);
    assert!(body["data"]["payoutHolds"].is_array(), "{body}");
    let second = app.spawn_second().await;
    let (_, body) = get(&second, &ops, &params(&hash)).await;
    assert!(body["data"]["payoutHolds"].is_array(), "the other instance knows it: {body}");

    // A hash that is not the text's, and a mutation over GET, are refused by name.
    let wrong = sha("something else");
    let body = post(&app, &ops, json!({ "query": QUERY, "extensions": persisted(&wrong) })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("SHA-256"), "{body}");
    let mutation = "mutation { holdPayouts(input: { reason: \"x\" }) { reason } }";
    let (status, body) = get(&app, &app.admin(), &[("query", mutation.to_owned())]).await;
    assert_eq!(status, 405, "GraphQL over HTTP: a mutation by GET is not allowed: {body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("only queries may be sent with GET"), "{body}");
    let holds = app.gql_ok(&app.admin(), "{ payoutHolds { reason } }", json!({})).await;
    assert_eq!(holds["payoutHolds"], json!([]), "nothing was held");

    // A browser asking for the page still gets GraphiQL.
    let page =
        app.http.get(app.url("/graphql?query=%7B__typename%7D")).header("accept", "text/html").send().await.unwrap();
    assert!(page.text().await.unwrap().contains("graphiql"));
}

#[tokio::test]
async fn with_trusted_documents_only_listed_operations_run_except_for_admins() {
    let dir = tempfile::tempdir().unwrap();
    let listed = "query Holds { payoutHolds { reason } }";
    let manifest = json!({ "format": "apollo-persisted-query-manifest", "version": 1,
        "operations": [{ "id": sha(listed), "body": listed, "name": "Holds", "type": "query" }] });
    let path = dir.path().join("manifest.json");
    std::fs::write(&path, manifest.to_string()).unwrap();
    let app = TestApp::spawn_with(|c| c.trusted_documents = Some(path.clone())).await;
    let ops = app.token(entity::status::Role::Ops, uuid::Uuid::new_v4());

    // Listed: by its id alone (never registered), or by its exact text.
    let body = post(&app, &ops, json!({ "extensions": persisted(&sha(listed)) })).await;
    assert!(body["data"]["payoutHolds"].is_array(), "{body}");
    let body = post(&app, &ops, json!({ "query": listed })).await;
    assert!(body["data"]["payoutHolds"].is_array(), "{body}");

    // Anything else, sent as text or registered by hash, is refused; an admin may still run it.
    let other = "{ payoutHolds { reason placedAt } }";
    for body in [json!({ "query": other }), json!({ "query": other, "extensions": persisted(&sha(other)) })] {
        let answer = post(&app, &ops, body).await;
        assert_eq!(answer["errors"][0]["extensions"]["code"], "DOCUMENT_NOT_TRUSTED", "{answer}");
    }
    let body = post(&app, &ops, json!({ "extensions": persisted(&sha(other)) })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND", "{body}");
    let body = post(&app, &app.admin(), json!({ "query": other })).await;
    assert!(body["data"]["payoutHolds"].is_array(), "{body}");

    // The same rule on a WebSocket.
    let mut ws = ws_open(&app, "graphql-transport-ws").await;
    ws_send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {ops}") } }))
        .await;
    assert_eq!(ws_next(&mut ws, std::time::Duration::from_secs(5)).await["type"], "connection_ack");
    ws_send(&mut ws, json!({ "type": "subscribe", "id": "1", "payload": { "query": other } })).await;
    let answer = ws_next(&mut ws, std::time::Duration::from_secs(5)).await;
    assert!(answer.to_string().contains("DOCUMENT_NOT_TRUSTED"), "{answer}");

    // A manifest that cannot be read stops the server at start, naming it.
    std::fs::write(&path, "{\"operations\": 3}").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk"))
        .arg("serve")
        .env("DATABASE_URL", format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display()))
        .env("PAYDESK_ADDR", "127.0.0.1:0")
        .env("PAYDESK_TRUSTED_DOCUMENTS", &path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("PAYDESK_TRUSTED_DOCUMENTS") && said.contains("`operations` must be a list"), "{said}");
}

#[tokio::test]
async fn get_runs_only_the_query_it_names_however_many_operations_the_document_holds() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    // A query in front and the mutation named to run: refused every time, whatever order the document's map has.
    let doc = "query A { payoutHolds { reason } } query C { __typename } mutation B { holdPayouts(input: { reason: \
               \"by GET\" }) { reason } } query D { me { role } }";
    for name in ["operationName", "operation_name"] {
        for _ in 0..6 {
            let (status, body) = get(&app, &admin, &[("query", doc.to_owned()), (name, "B".to_owned())]).await;
            assert_eq!(status, 405, "{name}: {body}");
            assert!(
                body["errors"][0]["message"].as_str().unwrap_or_default().contains("only queries may be sent with GET"),
                "{name}: {body}"
            );
        }
    }
    // A named mutation alone, no name given: it is the one that would run.
    let alone = "mutation B { holdPayouts(input: { reason: \"by GET\" }) { reason } }";
    let (_, body) = get(&app, &admin, &[("query", alone.to_owned())]).await;
    assert!(body["errors"][0]["message"].as_str().unwrap_or_default().contains("only queries"), "{body}");
    let holds = app.gql_ok(&admin, "{ payoutHolds { reason } }", json!({})).await;
    assert_eq!(holds["payoutHolds"], json!([]), "nothing was held");
    // The query it names runs, by the documented `operationName`.
    let (status, body) = get(&app, &admin, &[("query", doc.to_owned()), ("operationName", "D".to_owned())]).await;
    assert_eq!((status, body["data"]["me"]["role"].as_str()), (200, Some("ADMIN")), "{body}");
    // Two names disagreeing is no request.
    let both = [("query", doc.to_owned()), ("operationName", "D".to_owned()), ("operation_name", "B".to_owned())];
    let (status, body) = get(&app, &admin, &both).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn only_a_document_that_parses_and_validates_is_kept() {
    let app = TestApp::spawn().await;
    let anonymous = |body: Value| {
        let app = &app;
        async move { app.http.post(app.url("/graphql")).json(&body).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    // An anonymous caller's 12 KB of prose, and a query of fields the schema lacks: refused, and kept by no one
    // (asked by its hash alone, nothing is found).
    let prose = "words ".repeat(2_000);
    let fields = "{ noSuchField { nodes { id } } }";
    for text in [prose.as_str(), fields] {
        let body = anonymous(json!({ "query": text, "extensions": persisted(&sha(text)) })).await;
        assert!(body["errors"].is_array(), "{body}");
        let again = anonymous(json!({ "extensions": persisted(&sha(text)) })).await;
        assert_eq!(again["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND", "{again}");
    }
    // A document that runs is kept as before.
    let ops = app.token(entity::status::Role::Ops, uuid::Uuid::new_v4());
    let body = post(&app, &ops, json!({ "query": QUERY, "extensions": persisted(&sha(QUERY)) })).await;
    assert!(body["data"]["payoutHolds"].is_array(), "{body}");
    let body = post(&app, &ops, json!({ "extensions": persisted(&sha(QUERY)) })).await;
    assert!(body["data"]["payoutHolds"].is_array(), "{body}");
}

#[tokio::test]
async fn a_document_nobody_runs_for_its_retention_is_forgotten_and_one_in_use_is_kept() {
    let app = TestApp::spawn().await;
    let ops = app.token(entity::status::Role::Ops, uuid::Uuid::new_v4());
    let (used, idle) = ("{ payoutHolds { reason } }", "{ me { role } }");
    for text in [used, idle] {
        let body = post(&app, &ops, json!({ "query": text, "extensions": persisted(&sha(text)) })).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    // Two more instances (each sweeps as it starts: nothing is old yet).
    let (second, third) = (app.spawn_second().await, app.spawn_second().await);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Both registered, and last run, longer ago than the retention (30 days by default).
    let long_ago: sea_orm::Value = (chrono::Utc::now() - chrono::Duration::days(31)).into();
    tamper(&app, "UPDATE persisted_documents SET created_at = $1, used_at = $1", vec![long_ago]).await;
    // One is run by its hash again, on an instance that has not noted its use yet.
    let by_hash = |text: &str| json!({ "extensions": persisted(&sha(text)) });
    let body = post(&second, &ops, by_hash(used)).await;
    assert!(body["data"]["payoutHolds"].is_array(), "{body}");
    let noted = async {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let recent = chrono::Utc::now() - chrono::Duration::days(1);
        for _ in 0..100 {
            let found = entity::persisted_document::Entity::find()
                .filter(entity::persisted_document::Column::UsedAt.gt(recent))
                .all(&app.state.db)
                .await
                .unwrap();
            if !found.is_empty() {
                return found.into_iter().map(|d| d.hash).collect::<Vec<_>>();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Vec::new()
    };
    assert_eq!(noted.await, [sha(used)], "its use is noted");
    let swept = paydesk::services::operations::retention::sweep(&app.state, &app.state.db).await.unwrap();
    assert_eq!(swept.persisted_documents, 1, "{swept:?}");
    // An instance that never ran them: the one in use is known, the idle one is asked for its text again.
    let body = post(&third, &ops, by_hash(used)).await;
    assert!(body["data"]["payoutHolds"].is_array(), "{body}");
    let body = post(&third, &ops, by_hash(idle)).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND", "{body}");
    let body = post(&third, &ops, json!({ "query": idle, "extensions": persisted(&sha(idle)) })).await;
    assert_eq!(body["data"]["me"]["role"], "OPS", "and registered again: {body}");
}
