//! Subscription fan-out benchmark: holds `SUBSCRIBERS` (default 1000) `payoutRequested` subscriptions open over
//! as many WebSocket connections, fires `EVENTS` (default 50) payout requests one after another, and prints how
//! long each delivery took from the moment its mutation was sent (p50, p90, p99, max).
//!
//! `cargo bench --bench subscriptions` (SQLite in a temp dir); `BENCH_DATABASE_URL=postgres://…` for PostgreSQL
//! (the database must exist and be empty or migrated by paydesk).

use entity::status::Role;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
use uuid::Uuid;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let subscribers = env_usize("SUBSCRIBERS", 1000);
    let events = env_usize("EVENTS", 50);
    let dir = tempfile::tempdir()?;
    let mut config = paydesk::config::Config::defaults();
    config.database_url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()));
    config.cashfree_client_secret = vec!["bench".into()];
    config.event_buffer = 4096;
    config.max_sockets_per_ip = subscribers + 10; // every subscriber comes from 127.0.0.1
    let state = paydesk::build_state(&config, b"bench-secret", true, paydesk::Jobs::Run).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(paydesk::http::serve(listener, state.clone(), std::future::pending()));

    // One freelancer with enough money for every request.
    let admin = state.jwt.mint(Uuid::new_v4(), Role::Admin, Duration::from_secs(3600))?;
    let freelancer = Uuid::new_v4();
    let http = reqwest::Client::new();
    let gql = |token: String, query: &'static str, variables: serde_json::Value| {
        let http = http.clone();
        async move {
            let res = http
                .post(format!("http://{addr}/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": query, "variables": variables }))
                .send()
                .await?;
            anyhow::Ok(res.json::<serde_json::Value>().await?)
        }
    };
    let order = gql(
        admin.clone(),
        "mutation($i: CreatePaymentOrderInput!) { createPaymentOrder(input: $i) { orderId } }",
        json!({ "i": { "freelancerId": freelancer, "amount": "1000000.00" } }),
    )
    .await?;
    let order_id = order["data"]["createPaymentOrder"]["orderId"].as_str().unwrap().to_owned();
    let body = format!(
        r#"{{"data":{{"order":{{"order_id":"{order_id}"}},"payment":{{"cf_payment_id":"1","payment_status":"SUCCESS","payment_amount":1000000.00,"payment_currency":"INR"}}}},"type":"PAYMENT_SUCCESS_WEBHOOK"}}"#
    );
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let sig = {
        use base64::Engine;
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"bench")?;
        mac.update(ts.as_bytes());
        mac.update(body.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    };
    let res = http
        .post(format!("http://{addr}/api/webhooks/cashfree"))
        .header("x-webhook-timestamp", ts)
        .header("x-webhook-signature", sig)
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(res.status() == 200, "funding webhook refused: {}", res.text().await?);

    // Open the subscriptions.
    let ops = state.jwt.mint(Uuid::new_v4(), Role::Ops, Duration::from_secs(3600))?;
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Instant)>();
    let opened = Instant::now();
    for _ in 0..subscribers {
        let mut req = format!("ws://{addr}/graphql/ws").into_client_request()?;
        req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
        let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {ops}") } });
        ws.send(Message::text(init.to_string())).await?;
        ws.next().await.ok_or_else(|| anyhow::anyhow!("no ack"))??;
        let sub = json!({ "type": "subscribe", "id": "1", "payload": { "query": "subscription { payoutRequested { note } }" } });
        ws.send(Message::text(sub.to_string())).await?;
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                let now = Instant::now();
                let Message::Text(text) = msg else { continue };
                let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                if let Some(seq) = v["payload"]["data"]["payoutRequested"]["note"].as_str().and_then(|n| n.parse().ok())
                {
                    let _ = tx.send((seq, now));
                }
            }
        });
    }
    drop(tx);
    println!("opened {subscribers} subscriptions in {:.2?}", opened.elapsed());
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Fire the requests, one after another, noting when each was sent.
    let me = state.jwt.mint(freelancer, Role::Freelancer, Duration::from_secs(3600))?;
    let mut sent = Vec::with_capacity(events);
    let started = Instant::now();
    for seq in 0..events {
        sent.push(Instant::now());
        let r = gql(
            me.clone(),
            "mutation($i: RequestPayoutInput!) { requestPayout(input: $i) { id } }",
            json!({ "i": { "amount": "1.00", "note": seq.to_string() } }),
        )
        .await?;
        anyhow::ensure!(r.get("errors").is_none(), "request failed: {r}");
    }
    let sent = Arc::new(sent);
    let expected = subscribers * events;
    let mut latencies = Vec::with_capacity(expected);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while latencies.len() < expected {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((seq, at))) => latencies.push(at.duration_since(sent[seq])),
            _ => break,
        }
    }
    let total = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "delivered {}/{} events ({} requests × {} subscribers) in {:.2?}",
        latencies.len(),
        expected,
        events,
        subscribers,
        total
    );
    if !latencies.is_empty() {
        println!(
            "delivery latency: p50 {:.2?}  p90 {:.2?}  p99 {:.2?}  max {:.2?}",
            pct(0.50),
            pct(0.90),
            pct(0.99),
            latencies[latencies.len() - 1]
        );
        println!("deliveries per second: {:.0}", latencies.len() as f64 / total.as_secs_f64());
    }
    anyhow::ensure!(latencies.len() == expected, "some deliveries were lost");
    Ok(())
}
