//! Traces exported over OTLP, metrics after traffic, graceful shutdown under load, and an
//! AWS outage that the service rides out and recovers from by itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Route, Server, handler, post};
use prost::Message;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::{Backend, MotoServer, TestApp, free_port};
use crate::images;

type Exports = Arc<Mutex<Vec<ExportTraceServiceRequest>>>;

#[handler]
async fn receive_traces(body: poem::Body, exports: Data<&Exports>) -> poem::http::StatusCode {
    let Ok(bytes) = body.into_bytes().await else {
        return poem::http::StatusCode::BAD_REQUEST;
    };
    match ExportTraceServiceRequest::decode(bytes) {
        Ok(request) => {
            exports.lock().unwrap().push(request);
            poem::http::StatusCode::OK
        }
        Err(_) => poem::http::StatusCode::BAD_REQUEST,
    }
}

/// An OTLP/HTTP receiver on 127.0.0.1 that decodes every export with the real
/// opentelemetry-proto messages.
async fn start_otlp_receiver() -> (String, Exports) {
    let exports: Exports = Arc::default();
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let address = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    let app = Route::new()
        .at("/v1/traces", post(receive_traces))
        .data(Arc::clone(&exports));
    tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
    (format!("http://{address}"), exports)
}

fn string_attribute(
    attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<String> {
    attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(
            |attribute| match attribute.value.as_ref()?.value.as_ref()? {
                AnyValue::StringValue(value) => Some(value.clone()),
                _ => None,
            },
        )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// An OTLP/gRPC receiver on 127.0.0.1: the collector's trace service, from the same
/// opentelemetry-proto definitions.
struct GrpcReceiver {
    exports: Exports,
}

#[tonic::async_trait]
impl TraceService for GrpcReceiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.exports.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

async fn start_grpc_receiver() -> (String, Exports) {
    let exports: Exports = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = TraceServiceServer::new(GrpcReceiver {
        exports: Arc::clone(&exports),
    });
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    (format!("http://{address}"), exports)
}

#[tokio::test]
async fn traces_reach_an_otlp_http_receiver_with_the_callers_trace_and_store_children() {
    let (endpoint, exports) = start_otlp_receiver().await;
    check_exported_traces("http/protobuf", &endpoint, &exports).await;
}

#[tokio::test]
async fn traces_reach_an_otlp_grpc_receiver_with_the_callers_trace_and_store_children() {
    let (endpoint, exports) = start_grpc_receiver().await;
    check_exported_traces("grpc", &endpoint, &exports).await;
}

async fn check_exported_traces(protocol: &str, endpoint: &str, exports: &Exports) {
    let mut app = TestApp::spawn_with(
        Backend::Aws,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_SERVICE_NAME", "roster-under-test"),
        ],
    )
    .await;
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let form = Form::new()
        .text("name", "Traced")
        .text("email", "traced@example.com")
        .part("avatar", Part::bytes(images::png()).file_name("a.png"));
    let response = app
        .client
        .post(app.url("/user"))
        .header("traceparent", format!("00-{caller_trace}-{caller_span}-01"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    // Shutdown flushes what the batch exporter still holds. The wait is asynchronous: the
    // receiver runs on this test's runtime.
    app.send_sigterm();
    let exit = app.exit_status_within(Duration::from_secs(20)).await;
    assert!(exit.is_some_and(|status| status.success()), "{exit:?}");

    let exports = exports.lock().unwrap();
    let mut spans: Vec<Span> = Vec::new();
    for export in exports.iter() {
        for resource_spans in &export.resource_spans {
            let resource = resource_spans.resource.as_ref().expect("a resource");
            assert_eq!(
                string_attribute(&resource.attributes, "service.name").as_deref(),
                Some("roster-under-test")
            );
            for scope_spans in &resource_spans.scope_spans {
                spans.extend(scope_spans.spans.iter().cloned());
            }
        }
    }
    let request = spans
        .iter()
        .find(|span| span.name == "POST /user")
        .unwrap_or_else(|| {
            panic!(
                "no request span among {:?}",
                spans.iter().map(|span| &span.name).collect::<Vec<_>>()
            )
        });
    assert_eq!(
        hex(&request.trace_id),
        caller_trace,
        "the caller's trace is not continued"
    );
    assert_eq!(hex(&request.parent_span_id), caller_span);
    assert_eq!(
        string_attribute(&request.attributes, "http.route").as_deref(),
        Some("/user")
    );

    let by_id: HashMap<Vec<u8>, &Span> = spans
        .iter()
        .map(|span| (span.span_id.clone(), span))
        .collect();
    let descends_from_request = |span: &Span| {
        let mut parent = span.parent_span_id.clone();
        while let Some(ancestor) = by_id.get(&parent) {
            if ancestor.span_id == request.span_id {
                return true;
            }
            parent = ancestor.parent_span_id.clone();
        }
        false
    };
    for call in ["S3.PutObject", "DynamoDB.PutItem"] {
        let span = spans
            .iter()
            .find(|span| span.name == call)
            .unwrap_or_else(|| panic!("no {call} span"));
        assert_eq!(
            span.trace_id, request.trace_id,
            "{call} is in another trace"
        );
        assert!(
            descends_from_request(span),
            "{call} is not a child of the request span"
        );
    }
}

#[tokio::test]
async fn log_lines_of_a_request_carry_its_trace_id_and_request_id() {
    let app = TestApp::spawn(Backend::Embedded).await;
    let trace = "0af7651916cd43dd8448eb211c80319c";
    app.client
        .get(app.url("/users"))
        .header("traceparent", format!("00-{trace}-b7ad6b7169203331-01"))
        .header("x-request-id", "log-check-1")
        .send()
        .await
        .unwrap();
    // The log is read by a background thread: give it a moment to catch up.
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let logs = app.logs.lock().unwrap().clone();
        let found = logs
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|event| {
                event["message"] == "request finished"
                    && event["span"]["request_id"] == "log-check-1"
            });
        if let Some(line) = found {
            break line;
        }
        assert!(
            Instant::now() < deadline,
            "no request log line in {logs:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(line["span"]["trace_id"], trace);
}

#[tokio::test]
async fn metrics_show_requests_in_flight_store_operations_and_avatar_bytes() {
    let app = TestApp::spawn(Backend::Embedded).await;
    let avatar = images::png();
    app.create_user("M", "m@example.com", avatar.clone()).await;
    app.get("/user/m@example.com").await;
    app.delete("/user/nobody@example.com").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    for series in [
        "http_requests_in_flight 1".to_owned(),
        r#"roster_store_operation_duration_seconds_count{operation="create"} 1"#.to_owned(),
        r#"roster_store_operation_duration_seconds_count{operation="get"} 1"#.to_owned(),
        r#"roster_store_operation_duration_seconds_count{operation="delete"} 1"#.to_owned(),
        format!("roster_avatar_bytes_stored_total {}", avatar.len()),
        r#"http_request_duration_seconds_count{method="DELETE",route="/user/{email}",status="404"} 1"#.to_owned(),
    ] {
        assert!(text.contains(&series), "missing {series} in\n{text}");
    }
}

#[tokio::test]
async fn store_errors_are_counted_by_operation() {
    let app = TestApp::spawn(Backend::Aws).await;
    let aws = app.aws.as_ref().unwrap();
    aws.dynamodb
        .delete_table()
        .table_name(&aws.table)
        .send()
        .await
        .unwrap();
    app.get("/user/a@example.com").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    let series = r#"roster_store_errors_total{operation="get",kind="unavailable"} 1"#;
    assert!(text.contains(series), "missing {series} in\n{text}");
}

/// A request whose avatar arrives in two parts, the second held back until `release`.
fn held_upload(index: usize, release: Arc<tokio::sync::Notify>) -> reqwest::Body {
    let avatar = images::png();
    let (first, second) = avatar.split_at(avatar.len() / 2);
    let head = format!(
        "--B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nHeld {index}\r\n\
         --B\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nheld{index}@example.com\r\n\
         --B\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n\r\n"
    );
    let mut opening = head.into_bytes();
    opening.extend_from_slice(first);
    let mut closing = second.to_vec();
    closing.extend_from_slice(b"\r\n--B--\r\n");
    let chunks = futures_util::stream::unfold(0, move |step| {
        let release = Arc::clone(&release);
        let opening = opening.clone();
        let closing = closing.clone();
        async move {
            match step {
                0 => Some((Ok::<_, std::io::Error>(bytes::Bytes::from(opening)), 1)),
                1 => {
                    release.notified().await;
                    Some((Ok(bytes::Bytes::from(closing)), 2))
                }
                _ => None,
            }
        }
    });
    reqwest::Body::wrap_stream(chunks)
}

async fn in_flight(app: &TestApp) -> f64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("http_requests_in_flight "))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn sigterm_lets_thirty_uploads_in_flight_finish_then_exits_zero() {
    let mut app =
        TestApp::spawn_with(Backend::Embedded, &[("ROSTER_SHUTDOWN_TIMEOUT", "20s")]).await;
    let release = Arc::new(tokio::sync::Notify::new());
    let uploads: Vec<_> = (0..30)
        .map(|index| {
            let request = app
                .client
                .post(app.url("/user"))
                .header("content-type", "multipart/form-data; boundary=B")
                .body(held_upload(index, Arc::clone(&release)));
            tokio::spawn(async move { request.send().await.map(|response| response.status()) })
        })
        .collect();
    // Every upload is inside the server (the metrics request itself is the 31st).
    let deadline = Instant::now() + Duration::from_secs(20);
    while in_flight(&app).await < 31.0 {
        assert!(
            Instant::now() < deadline,
            "the uploads never all reached the server"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    app.send_sigterm();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = reqwest::Client::new().get(app.url("/healthz")).send().await;
    assert!(
        refused.is_err(),
        "a new connection was accepted after SIGTERM"
    );
    release.notify_waiters();

    for upload in uploads {
        let status = upload.await.unwrap().expect("the upload got an answer");
        assert_eq!(status, StatusCode::CREATED);
    }
    let exit = app
        .exit_status_within(Duration::from_secs(20))
        .await
        .expect("roster exits");
    assert!(exit.success(), "{exit:?}");
    app.restart();
    let users: Vec<Value> = app.get("/users").await.json().await.unwrap();
    assert_eq!(users.len(), 30);
}

#[tokio::test]
async fn an_outage_turns_into_503s_and_the_service_recovers_by_itself() {
    let port = free_port();
    let moto = MotoServer::start(port);
    let app = TestApp::spawn_on_moto(&moto.endpoint, &[]).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let create = |email: &str| {
        let form = Form::new()
            .text("name", "Outage")
            .text("email", email.to_owned())
            .part("avatar", Part::bytes(images::png()).file_name("a.png"));
        client.post(app.url("/user")).multipart(form).send()
    };
    assert_eq!(
        create("before@example.com").await.unwrap().status(),
        StatusCode::CREATED
    );

    moto.kill();
    let outage_started = Instant::now();
    loop {
        let ready = client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readiness answers within 15 s");
        if ready.status() == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        assert!(
            outage_started.elapsed() < Duration::from_secs(10),
            "/readyz still 200 after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let refused = create("during@example.com")
        .await
        .expect("the write is answered within 15 s");
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "5");
    let read = client
        .get(app.url("/users"))
        .send()
        .await
        .expect("the read is answered within 15 s");
    assert_eq!(read.status(), StatusCode::SERVICE_UNAVAILABLE);

    let moto_again = MotoServer::start(port);
    app.aws.as_ref().unwrap().create_table_and_bucket().await;
    let recovery_started = Instant::now();
    loop {
        let ready = client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readiness answers");
        if ready.status() == StatusCode::OK {
            break;
        }
        assert!(
            recovery_started.elapsed() < Duration::from_secs(30),
            "no recovery within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        create("after@example.com").await.unwrap().status(),
        StatusCode::CREATED
    );
    drop(moto_again);
}
