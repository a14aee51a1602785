//! HTTP connections: a client that trickles its headers, or leaves a connection idle, loses it after the header
//! timeout, and no more than the cap are served at once, so a flood of connections cannot starve the server.

use crate::helpers::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: paydesk\r\n\r\n";

/// The first response on `tcp`: its head and whatever came with it, once the blank line has arrived.
async fn response(tcp: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.ok().filter(|()| !got.is_empty()).map(|()| String::from_utf8_lossy(&got).into_owned())
}

#[tokio::test]
async fn a_connection_that_trickles_its_headers_or_sits_idle_is_closed_after_the_header_timeout() {
    let app = TestApp::spawn_with(|c| c.header_timeout_ms = 500).await;
    let mut trickling = TcpStream::connect(app.addr).await.unwrap();
    trickling.write_all(b"POST /graphql HTTP/1.1\r\nHost: paydesk\r\n").await.unwrap();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = trickling.write_all(b"X-Slow: 1\r\n").await;
    }
    let said = until_closed(&mut trickling, Duration::from_secs(3)).await.expect("closed within the timeout");
    assert!(!said.contains("200 OK"), "no request was ever complete: {said}");

    // A connection that asked once and then keeps quiet is closed too, after its answer.
    let mut idle = TcpStream::connect(app.addr).await.unwrap();
    idle.write_all(HEALTH).await.unwrap();
    assert!(response(&mut idle, Duration::from_secs(3)).await.expect("an answer").starts_with("HTTP/1.1 200"));
    assert!(until_closed(&mut idle, Duration::from_secs(3)).await.is_some(), "an idle keep-alive connection is let go");

    // One that is quick is served as ever.
    let res = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let app = TestApp::spawn_with(|c| c.max_connections = 2).await;
    let first = TcpStream::connect(app.addr).await.unwrap();
    let mut second = TcpStream::connect(app.addr).await.unwrap();
    second.write_all(HEALTH).await.unwrap();
    assert!(response(&mut second, Duration::from_secs(3)).await.expect("served").starts_with("HTTP/1.1 200"));

    let mut third = TcpStream::connect(app.addr).await.unwrap(); // the kernel's backlog takes it
    third.write_all(HEALTH).await.unwrap();
    assert!(response(&mut third, Duration::from_millis(700)).await.is_none(), "two are served already");
    drop(first);
    let answer = response(&mut third, Duration::from_secs(3)).await.expect("served once a place is free");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_request_whose_body_trickles_in_is_cut_off_with_408() {
    let app = TestApp::spawn_with(|c| c.request_timeout_ms = 500).await;
    for path in ["/graphql", "/api/webhooks/cashfree", "/api/admin/approve-payout"] {
        let (mut read, mut write) = TcpStream::connect(app.addr).await.unwrap().into_split();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: paydesk\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"
        );
        write.write_all(head.as_bytes()).await.unwrap();
        let trickle = tokio::spawn(async move {
            for _ in 0..50 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if write.write_all(b" ").await.is_err() {
                    break;
                }
            }
        });
        let mut got = Vec::new();
        let answered = tokio::time::timeout(Duration::from_secs(3), async {
            let mut buf = [0u8; 4096];
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
        });
        assert!(answered.await.is_ok(), "{path}: still reading the body after 3 s");
        let said = String::from_utf8_lossy(&got);
        assert!(said.starts_with("HTTP/1.1 408"), "{path}: {said}");
        trickle.abort();
    }
    let page = app.http.get(app.url("/metrics")).bearer_auth(app.admin()).send().await.unwrap().text().await.unwrap();
    let counted = "paydesk_http_requests_total{method=\"POST\",route=\"/api/webhooks/cashfree\",status=\"408\"} 1";
    assert!(page.contains(counted), "the cut-off request is counted: {page}");
}
