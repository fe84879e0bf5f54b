//! Careless and hostile clients: every connection and upload ends by its timeout (set short
//! here), slow senders cannot starve anyone, and connections past the cap wait outside.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, TestApp};
use crate::images;

/// The address of the app, for raw connections.
fn socket_address(app: &TestApp) -> String {
    app.base_url.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection; what it sent, and how long it took.
async fn read_until_closed(connection: &mut TcpStream, limit: Duration) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    tokio::time::timeout(limit, connection.read_to_end(&mut received))
        .await
        .expect("the server closed the connection in time")
        .expect("reading from the server");
    (received, started.elapsed())
}

async fn metric(app: &TestApp, series: &str) -> f64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0)
}

/// Opens a connection, sends `opening` (possibly nothing), and checks the server closes it
/// after its 1 s header timeout, without answering, and counts it.
async fn closed_by_the_header_timeout(opening: &[u8]) {
    let app = TestApp::spawn_with(Backend::Embedded, &[("ROSTER_HEADER_READ_TIMEOUT", "1s")]).await;
    let mut connection = TcpStream::connect(socket_address(&app)).await.unwrap();
    connection.write_all(opening).await.unwrap();
    let (received, waited) = read_until_closed(&mut connection, Duration::from_secs(10)).await;
    assert!(
        received.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&received)
    );
    assert!(
        waited >= Duration::from_millis(900),
        "closed after {waited:?}"
    );
    assert_eq!(
        metric(
            &app,
            r#"roster_connections_closed_total{reason="header_timeout"}"#
        )
        .await,
        1.0
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    closed_by_the_header_timeout(b"").await;
}

#[tokio::test]
async fn a_half_sent_head_is_closed_after_the_header_timeout() {
    closed_by_the_header_timeout(b"GET /users HTTP/1.1\r\nhost: roster\r\n").await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_served_until_the_keepalive_timeout_then_closed() {
    let app = TestApp::spawn_with(
        Backend::Embedded,
        &[
            ("ROSTER_HEADER_READ_TIMEOUT", "1s"),
            ("ROSTER_KEEPALIVE_TIMEOUT", "3s"),
        ],
    )
    .await;
    let mut connection = TcpStream::connect(socket_address(&app)).await.unwrap();
    let request = b"GET /healthz HTTP/1.1\r\nhost: roster\r\n\r\n";
    let mut buffer = [0u8; 4096];
    for _ in 0..2 {
        connection.write_all(request).await.unwrap();
        let read = connection.read(&mut buffer).await.unwrap();
        assert!(buffer[..read].starts_with(b"HTTP/1.1 200"));
        // Idle for longer than the header timeout, shorter than the keep-alive timeout:
        // an idle connection is not a slow head.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
    }
    let (_, waited) = read_until_closed(&mut connection, Duration::from_secs(10)).await;
    assert!(
        waited >= Duration::from_millis(1_000),
        "closed after {waited:?}"
    );
    assert_eq!(
        metric(
            &app,
            r#"roster_connections_closed_total{reason="idle_timeout"}"#
        )
        .await,
        1.0
    );
}

/// A `POST /user` head and the start of its body; the rest never comes.
fn stalled_upload_opening() -> Vec<u8> {
    let body_start = "--B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nStalled\r\n\
                      --B\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n\r\n";
    let mut bytes = format!(
        "POST /user HTTP/1.1\r\nhost: roster\r\ncontent-type: multipart/form-data; boundary=B\r\n\
         content-length: 100000\r\n\r\n{body_start}"
    )
    .into_bytes();
    bytes.extend_from_slice(&images::png()[..20]);
    bytes
}

#[tokio::test]
async fn a_stalled_upload_is_answered_408_and_its_spool_space_freed() {
    let app =
        TestApp::spawn_with(Backend::Embedded, &[("ROSTER_UPLOAD_STALL_TIMEOUT", "1s")]).await;
    let mut connection = TcpStream::connect(socket_address(&app)).await.unwrap();
    connection
        .write_all(&stalled_upload_opening())
        .await
        .unwrap();
    let (received, _) = read_until_closed(&mut connection, Duration::from_secs(15)).await;
    let text = String::from_utf8_lossy(&received);
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(head.contains("application/problem+json"), "{head}");
    let problem: Value = serde_json::from_str(body).unwrap();
    assert_eq!(problem["status"], 408);
    assert_eq!(
        metric(&app, r#"roster_uploads_ended_total{reason="stalled"}"#).await,
        1.0
    );
    assert_eq!(metric(&app, "roster_upload_spool_bytes").await, 0.0);
    assert_eq!(app.stored_avatar_count().await, 0);
}

#[tokio::test]
async fn an_upload_that_trickles_past_the_deadline_is_answered_408() {
    let app = TestApp::spawn_with(
        Backend::Embedded,
        &[
            ("ROSTER_UPLOAD_STALL_TIMEOUT", "5s"),
            ("ROSTER_UPLOAD_DEADLINE", "2s"),
        ],
    )
    .await;
    let mut connection = TcpStream::connect(socket_address(&app)).await.unwrap();
    connection
        .write_all(&stalled_upload_opening())
        .await
        .unwrap();
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    // One byte every 200 ms never stalls; the deadline ends it anyway.
    while started.elapsed() < Duration::from_secs(15) {
        if connection.write_all(b"x").await.is_err() {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(200), connection.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(read)) => received.extend_from_slice(&buffer[..read]),
            Err(_) => {}
        }
    }
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert_eq!(
        metric(&app, r#"roster_uploads_ended_total{reason="deadline"}"#).await,
        1.0
    );
}

#[tokio::test]
async fn a_normal_create_succeeds_while_64_uploads_trickle() {
    let app = TestApp::spawn_with(
        Backend::Embedded,
        &[
            ("ROSTER_CONCURRENT_UPLOADS", "2"),
            ("ROSTER_UPLOAD_DEADLINE", "60s"),
        ],
    )
    .await;
    let mut tricklers = Vec::new();
    for _ in 0..64 {
        let mut connection = TcpStream::connect(socket_address(&app)).await.unwrap();
        connection
            .write_all(&stalled_upload_opening())
            .await
            .unwrap();
        tricklers.push(connection);
    }
    let response = app
        .create_user("Normal", "normal@example.com", images::png())
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        metric(&app, "http_requests_in_flight").await,
        65.0,
        "the 64 trickling uploads were all still being read"
    );
}

#[tokio::test]
async fn connections_past_the_cap_wait_until_one_is_closed() {
    let app = TestApp::spawn_with(
        Backend::Embedded,
        &[
            ("ROSTER_MAX_CONNECTIONS", "4"),
            ("ROSTER_UPLOAD_STALL_TIMEOUT", "1s"),
        ],
    )
    .await;
    // Four uploads that stall after their head take the four slots of served connections.
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let mut connection = TcpStream::connect(socket_address(&app)).await.unwrap();
        connection
            .write_all(&stalled_upload_opening())
            .await
            .unwrap();
        stalled.push(connection);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The fifth is served only once the stall timeout has ended one of them.
    let mut fifth = TcpStream::connect(socket_address(&app)).await.unwrap();
    fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: roster\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let (received, _) = read_until_closed(&mut fifth, Duration::from_secs(15)).await;
    assert!(received.starts_with(b"HTTP/1.1 200"));
    let ended = metric(&app, r#"roster_uploads_ended_total{reason="stalled"}"#).await;
    assert!(
        ended >= 1.0,
        "the fifth was served before any slot was free"
    );
    assert_eq!(metric(&app, "roster_connections_max").await, 4.0);
}

#[tokio::test]
async fn silent_connections_and_half_heads_wait_in_the_lobby_without_keeping_anyone_out() {
    let app = TestApp::spawn_with(
        Backend::Embedded,
        &[
            ("ROSTER_MAX_CONNECTIONS", "4"),
            ("ROSTER_HEADER_READ_TIMEOUT", "5s"),
        ],
    )
    .await;
    // Six silent connections and six half-sent heads: more than the served slots, fewer
    // than the lobby holds.
    let mut silent = Vec::new();
    for index in 0..12 {
        let mut connection = TcpStream::connect(socket_address(&app)).await.unwrap();
        if index % 2 == 0 {
            connection
                .write_all(b"GET /users HTTP/1.1\r\nhost: roster\r\n")
                .await
                .unwrap();
        }
        silent.push(connection);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut prober = TcpStream::connect(socket_address(&app)).await.unwrap();
    prober
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: roster\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let (received, _) = read_until_closed(&mut prober, Duration::from_secs(3)).await;
    assert!(
        received.starts_with(b"HTTP/1.1 200"),
        "a prober waited behind silent connections"
    );
    assert_eq!(
        metric(
            &app,
            r#"roster_connections_closed_total{reason="header_timeout"}"#
        )
        .await,
        0.0,
        "the prober was served while every one of them was still open"
    );
    assert_eq!(metric(&app, "roster_connections_waiting").await, 12.0);
}
