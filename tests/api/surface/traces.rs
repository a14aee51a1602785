//! OpenTelemetry traces, read by an OTLP receiver of the test's own (HTTP/protobuf, decoded with the protocol's
//! published messages) from a paydesk process started with the standard `OTEL_*` variables: an approval is one
//! trace from the caller's `traceparent` through the GraphQL operation, its SQL statements and the transfer at
//! Cashfree to the notification delivered to the marketplace's callback, and the JSON logs carry its trace id.

use crate::helpers::{fresh_database, CF_CLIENT_ID, CF_PAYOUT_ID, CF_PAYOUT_SECRET, CF_SECRET, JWT_SECRET};
use entity::status::Role;
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use prost::Message;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::BufRead;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// One span as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    trace_id: String,
    span_id: String,
    parent: String,
    name: String,
    /// OTLP's kind: 2 server, 3 client.
    kind: i32,
    attributes: HashMap<String, String>,
    service: String,
}

/// Starts an OTLP/HTTP receiver; returns its endpoint and what it has received.
async fn receiver() -> (String, Arc<Mutex<Vec<Received>>>) {
    let spans: Arc<Mutex<Vec<Received>>> = Default::default();
    let kept = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                assert_eq!(headers["content-type"], "application/x-protobuf");
                let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf request");
                let mut kept = kept.lock().unwrap();
                for resource in request.resource_spans {
                    let service = resource
                        .resource
                        .iter()
                        .flat_map(|r| &r.attributes)
                        .find(|a| a.key == "service.name")
                        .map(|a| text(a.value.as_ref()))
                        .unwrap_or_default();
                    for span in resource.scope_spans.into_iter().flat_map(|s| s.spans) {
                        kept.push(Received {
                            trace_id: hex::encode(&span.trace_id),
                            span_id: hex::encode(&span.span_id),
                            parent: hex::encode(&span.parent_span_id),
                            name: span.name,
                            kind: span.kind,
                            attributes: span
                                .attributes
                                .iter()
                                .map(|a| (a.key.clone(), text(a.value.as_ref())))
                                .collect(),
                            service: service.clone(),
                        });
                    }
                }
                ([("content-type", "application/x-protobuf")], ExportTraceServiceResponse::default().encode_to_vec())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, spans)
}

/// An attribute's value as text.
fn text(value: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    use opentelemetry_proto::tonic::common::v1::any_value::Value as V;
    match value.and_then(|v| v.value.as_ref()) {
        Some(V::StringValue(s)) => s.clone(),
        Some(V::IntValue(i)) => i.to_string(),
        Some(V::BoolValue(b)) => b.to_string(),
        Some(V::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

/// The marketplace's callback: answers 2xx and keeps each delivery's `traceparent`.
async fn callback() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Default::default();
    let kept = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let kept = kept.clone();
            async move {
                let parent = headers.get("traceparent").map(|v| v.to_str().unwrap().to_owned());
                kept.lock().unwrap().push(parent.unwrap_or_else(|| "none".into()));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

/// A paydesk process (killed when dropped) and the JSON lines it has logged.
struct Process {
    child: std::process::Child,
    url: String,
    logs: Arc<Mutex<Vec<Value>>>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    fn start(env: &[(&str, String)]) -> Process {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk"));
        command.arg("serve").env("PAYDESK_ADDR", "127.0.0.1:0").env("PAYDESK_LOG_FORMAT", "json");
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.stdout(std::process::Stdio::piped()).spawn().expect("paydesk starts");
        let logs: Arc<Mutex<Vec<Value>>> = Default::default();
        let (kept, out) = (logs.clone(), child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let parsed = serde_json::from_str(&line).unwrap_or_else(|_| panic!("a log line is JSON: {line}"));
                kept.lock().unwrap().push(parsed);
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let addr = loop {
            let found = logs.lock().unwrap().iter().find_map(|l| l["fields"]["addr"].as_str().map(str::to_owned));
            if let Some(addr) = found {
                break addr;
            }
            assert!(std::time::Instant::now() < deadline, "paydesk did not start: {:?}", child.try_wait());
            std::thread::sleep(Duration::from_millis(50));
        };
        Process { child, url: format!("http://{addr}"), logs }
    }

    async fn gql(&self, token: &str, query: &str, variables: Value, headers: &[(&str, &str)]) -> Value {
        let mut req = reqwest::Client::new()
            .post(format!("{}/graphql", self.url))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(body["errors"].is_null(), "{body}");
        body["data"].clone()
    }
}

/// Waits until `done` holds of what the receiver has, or fails after ten seconds saying what there was.
async fn until<T>(spans: &Mutex<Vec<Received>>, what: &str, done: impl Fn(&[Received]) -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(found) = done(&spans.lock().unwrap()) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let names: Vec<String> = spans.lock().unwrap().iter().map(|s| format!("{} {}", s.trace_id, s.name)).collect();
    panic!("no {what} among the spans received: {names:#?}");
}

#[tokio::test]
async fn an_approval_is_one_trace_from_the_caller_to_cashfree_and_the_callback() {
    let (otlp, spans) = receiver().await;
    let (hook, deliveries) = callback().await;
    let double = crate::helpers::double().await;
    let (db_url, _scratch) = fresh_database().await;
    let paydesk = Process::start(&[
        ("DATABASE_URL", db_url),
        ("JWT_SECRET", JWT_SECRET.into()),
        ("CASHFREE_CLIENT_ID", CF_CLIENT_ID.into()),
        ("CASHFREE_CLIENT_SECRET", CF_SECRET.into()),
        ("CASHFREE_PAYOUT_CLIENT_ID", CF_PAYOUT_ID.into()),
        ("CASHFREE_PAYOUT_CLIENT_SECRET", CF_PAYOUT_SECRET.into()),
        ("CASHFREE_BASE_URL", double.url().to_owned()),
        ("PAYDESK_NOTIFY_URL", hook),
        ("PAYDESK_NOTIFY_SECRET", "callback-secret".into()),
        ("PAYDESK_NOTIFY_POLL_MS", "100".into()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
        ("OTEL_SERVICE_NAME", "paydesk-under-test".into()),
    ]);
    double.send_webhooks_to(&paydesk.url);
    let keys = paydesk::auth::JwtKeys::new(JWT_SECRET.as_bytes());
    let admin = keys.mint(Uuid::new_v4(), Role::Admin, Duration::from_secs(600)).unwrap();
    let freelancer = Uuid::new_v4();
    let me = keys.mint(freelancer, Role::Freelancer, Duration::from_secs(600)).unwrap();

    // A freelancer paid through Cashfree, with a bank account, asks for a payout.
    let order = format!("ord_{}", freelancer.simple());
    let i = json!({ "freelancerId": freelancer, "amount": "1000.00", "orderId": order, "customerPhone": "9999912345" });
    let create = "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { id } }";
    paydesk.gql(&admin, create, json!({ "i": i }), &[]).await;
    assert_eq!(double.pay(&order, "SUCCESS").await, Ok(200));
    let i = json!({ "name": "Asha Rao", "bankAccountNumber": "026291800001191", "ifsc": "YESB0000262" });
    let register = "mutation($i: RegisterBeneficiaryInput!) { registerBeneficiary(input: $i) { kind } }";
    paydesk.gql(&me, register, json!({ "i": i }), &[]).await;
    let ask = "mutation($i: RequestPayoutInput!) { requestPayout(input: $i) { id } }";
    let asked = paydesk.gql(&me, ask, json!({ "i": { "amount": "200.00" } }), &[]).await;
    let payout = asked["requestPayout"]["id"].as_str().unwrap().to_owned();

    // The admin's frontend approves it inside a trace of its own.
    let (trace, caller) = (Uuid::new_v4().simple().to_string(), Uuid::new_v4().simple().to_string()[..16].to_owned());
    let traceparent = format!("00-{trace}-{caller}-01");
    let approve = "mutation Approve($i: ApprovePayoutInput!) { approvePayout(input: $i) { status } }";
    let i = json!({ "i": { "payoutRequestId": payout } });
    let approved = paydesk.gql(&admin, approve, i, &[("traceparent", &traceparent)]).await;
    assert_eq!(approved["approvePayout"]["status"], "PROCESSING");

    // The request is the caller's span's child, the operation the request's, and the statements the operation's.
    let server = until(&spans, "server span of the approval", |all| {
        all.iter().find(|s| s.trace_id == trace && s.parent == caller && s.kind == 2).cloned()
    })
    .await;
    assert_eq!(server.name, "POST /graphql");
    assert_eq!(server.attributes["http.response.status_code"], "200");
    assert_eq!(server.service, "paydesk-under-test");
    let operation = until(&spans, "GraphQL operation span", |all| {
        all.iter().find(|s| s.parent == server.span_id && s.name == "mutation Approve").cloned()
    })
    .await;
    assert_eq!(operation.attributes["graphql.operation.type"], "mutation");
    let statements = until(&spans, "SQL statement spans", |all| {
        let sql: Vec<Received> =
            all.iter().filter(|s| s.trace_id == trace && s.attributes.contains_key("db.query.text")).cloned().collect();
        (sql.iter().any(|s| s.name == "UPDATE payout_requests") && sql.iter().any(|s| s.name == "INSERT audit_log"))
            .then_some(sql)
    })
    .await;
    let system = if crate::helpers::on_postgres() { "postgresql" } else { "sqlite" };
    for s in &statements {
        assert_eq!((s.attributes["db.system.name"].as_str(), s.kind), (system, 3), "{s:#?}");
        let sql = &s.attributes["db.query.text"];
        assert!(!sql.contains("200.00") && !sql.contains(&payout), "values never leave the process: {sql}");
    }

    // The transfer at Cashfree is a client span, and Cashfree received the trace with that span as parent.
    let transfer = until(&spans, "Cashfree transfer span", |all| {
        all.iter().find(|s| s.trace_id == trace && s.name == "POST /payout/transfers").cloned()
    })
    .await;
    assert_eq!(transfer.kind, 3);
    let sent = double.traceparents("POST /payout/transfers");
    assert_eq!(sent, vec![Some(format!("00-{trace}-{}-01", transfer.span_id))]);

    // The notification written in the approval is delivered later, in the same trace.
    let delivery = until(&spans, "notification delivery span", |all| {
        all.iter().find(|s| s.trace_id == trace && s.name == "POST callback").cloned()
    })
    .await;
    assert_eq!(delivery.kind, 3);
    let delivered = deliveries.lock().unwrap().clone();
    assert!(delivered.contains(&format!("00-{trace}-{}-01", delivery.span_id)), "{delivered:?}");

    // A refused webhook's warning is logged with the trace it was sent in.
    let webhook_trace = Uuid::new_v4().simple().to_string();
    let answer = reqwest::Client::new()
        .post(format!("{}/api/webhooks/cashfree", paydesk.url))
        .header("traceparent", format!("00-{webhook_trace}-{caller}-01"))
        .header("x-webhook-signature", "forged")
        .header("x-webhook-timestamp", chrono::Utc::now().timestamp().to_string())
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    let logged = {
        let mut found = None;
        for _ in 0..100 {
            found = paydesk.logs.lock().unwrap().iter().find(|l| l["trace_id"] == webhook_trace.as_str()).cloned();
            if found.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        found.expect("a log line with the webhook's trace id")
    };
    assert_eq!(logged["fields"]["message"], "webhook signature rejected", "{logged}");
    assert_eq!(logged["span_id"].as_str().map(str::len), Some(16), "{logged}");

    // Background polling makes no spans of its own: every statement span belongs to a traced request or job.
    let orphans: Vec<Received> = spans
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.attributes.contains_key("db.query.text") && s.parent.is_empty())
        .cloned()
        .collect();
    assert!(orphans.is_empty(), "{orphans:#?}");
}

#[tokio::test]
async fn a_trace_setting_paydesk_cannot_honour_stops_it_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    for (endpoint, protocol, says) in [
        (
            "http://127.0.0.1:4318",
            "grpc",
            "OTEL_EXPORTER_OTLP_PROTOCOL=grpc: paydesk sends traces as OTLP over HTTP/protobuf",
        ),
        ("https://collector.example:4318", "http/protobuf", "is not an http:// URL"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk"))
            .arg("serve")
            .env("DATABASE_URL", &db)
            .env("PAYDESK_ADDR", "127.0.0.1:0")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{endpoint} over {protocol} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
    }
}
