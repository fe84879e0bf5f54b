//! Start-up, shutdown, persistence and the operational routes.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::images;

#[tokio::test]
async fn embedded_data_survives_a_restart() {
    let mut app = TestApp::spawn(Backend::Embedded).await;
    let created: Value = app
        .create_user("Kept", "kept@example.com", images::png())
        .await
        .json()
        .await
        .unwrap();
    app.restart();
    let found: Value = app
        .get("/user/kept@example.com")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found, created);
    let avatar = app.get(created["avatar_url"].as_str().unwrap()).await;
    assert_eq!(avatar.status(), StatusCode::OK);
    assert_eq!(
        avatar.bytes().await.unwrap().as_ref(),
        images::png().as_slice()
    );
    let again = app
        .create_user("Again", "KEPT@example.com", images::png())
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn sigterm_stops_the_server_with_exit_code_zero() {
    let mut app = TestApp::spawn(Backend::Embedded).await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    let status = app.terminate();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn avatars_route_refuses_keys_it_never_issued() {
    let app = TestApp::spawn(Backend::Embedded).await;
    for path in [
        "/avatars/..%2Froster.redb",
        "/avatars/0123456789abcdef0123456789abcdef.png",
        "/avatars/passwd",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
}

async fn health_and_readiness_answer_ok(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(
        health.json::<Value>().await.unwrap(),
        serde_json::json!({"status": "ok"})
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
}

async fn metrics_count_requests_by_route_template_and_status(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("M", "m@example.com", images::png()).await;
    app.get("/user/m@example.com").await;
    app.get("/user/nobody@example.com").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    for series in [
        r#"http_requests_total{method="POST",route="/user",status="201"} 1"#,
        r#"http_requests_total{method="GET",route="/user/{email}",status="200"} 1"#,
        r#"http_requests_total{method="GET",route="/user/{email}",status="404"} 1"#,
    ] {
        assert!(text.contains(series), "missing {series} in\n{text}");
    }
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(
        !text.contains("m@example.com"),
        "a raw path leaked into the labels"
    );
}

async fn the_request_id_is_echoed_or_made(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
    let made = app.get("/healthz").await;
    assert!(!made.headers()["x-request-id"].is_empty());
}

both_backends!(
    health_and_readiness_answer_ok,
    metrics_count_requests_by_route_template_and_status,
    the_request_id_is_echoed_or_made,
);

#[tokio::test]
async fn the_swagger_ui_and_both_documents_are_served() {
    let app = TestApp::spawn(Backend::Embedded).await;
    let docs = app.get("/docs").await;
    assert_eq!(docs.status(), StatusCode::OK);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    assert!(
        !html.contains("cdn."),
        "the Swagger UI must not load from a CDN"
    );
    let json: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(json["openapi"].as_str().unwrap().starts_with("3."));
    let yaml = app.get("/openapi.yaml").await.text().await.unwrap();
    assert!(yaml.contains("/user/{email}"));
    let printed = Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("openapi")
        .env_clear()
        .output()
        .unwrap();
    assert!(printed.status.success());
    let printed: Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert_eq!(printed, json, "`roster openapi` differs from /openapi.json");
}

#[tokio::test]
async fn the_document_declares_every_status_each_operation_answers() {
    let app = TestApp::spawn(Backend::Embedded).await;
    let document: Value = app.get("/openapi.json").await.json().await.unwrap();
    let statuses = |path: &str, method: &str| -> Vec<String> {
        let mut statuses: Vec<String> = document["paths"][path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} is not documented"))
            .keys()
            .cloned()
            .collect();
        statuses.sort();
        statuses
    };
    assert_eq!(
        statuses("/user", "post"),
        [
            "201", "400", "408", "409", "413", "415", "422", "500", "503"
        ]
    );
    assert_eq!(statuses("/users", "get"), ["200", "400", "500", "503"]);
    assert_eq!(
        statuses("/user/{email}", "get"),
        ["200", "404", "500", "503"]
    );
    assert_eq!(
        statuses("/user/{email}", "delete"),
        ["204", "404", "500", "503"]
    );
    assert_eq!(statuses("/readyz", "get"), ["200", "500", "503"]);
    let conflict = &document["paths"]["/user"]["post"]["responses"]["409"]["content"];
    assert!(
        conflict.get("application/problem+json").is_some(),
        "{conflict}"
    );
    let form = &document["paths"]["/user"]["post"]["requestBody"]["content"]["multipart/form-data"]
        ["schema"];
    assert_eq!(form["properties"]["avatar"]["format"], "binary");
    assert_eq!(
        form["required"],
        serde_json::json!(["name", "email", "avatar"])
    );
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_it() {
    for (variable, value) in [
        ("ROSTER_LISTEN", "nowhere"),
        ("ROSTER_MAX_AVATAR_BYTES", "lots"),
        ("ROSTER_BACKEND", "postgres"),
        ("ROSTER_SHUTDOWN_TIMEOUT", "-1"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_roster"))
            .env_clear()
            .env(variable, value)
            .env("ROSTER_DATA_DIR", std::env::temp_dir())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{variable}={value} started");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(variable), "{stderr}");
    }
}

#[test]
fn the_aws_backend_without_a_region_stops_start_up_with_one_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_roster"))
        .env_clear()
        .env("ROSTER_BACKEND", "aws")
        .env("ROSTER_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("AWS_REGION"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[tokio::test]
async fn sweep_orphans_prints_what_it_removes_and_exits_zero() {
    let mut app = TestApp::spawn(Backend::Embedded).await;
    let created = app
        .create_user("Kept", "kept@example.com", images::png())
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    // The database is locked by a running server: the command runs while it is stopped.
    assert!(app.terminate().success());
    let avatars = app.data_dir.path().join("avatars");
    let orphan = "0123456789abcdef0123456789abcdef.png";
    std::fs::write(avatars.join(orphan), images::png()).unwrap();
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(avatars.join(orphan))
        .unwrap()
        .set_modified(an_hour_ago)
        .unwrap();
    let sweep = |extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_roster"))
            .args(["sweep-orphans", "--grace", "30m"])
            .args(extra)
            .env("ROSTER_DATA_DIR", app.data_dir.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let files = || std::fs::read_dir(&avatars).unwrap().count();

    let dry_run = sweep(&["--dry-run"]);
    assert!(
        dry_run.contains(&format!("would remove avatars/{orphan}")),
        "{dry_run}"
    );
    assert!(
        dry_run.contains("1 orphan(s) older than 30m found, 0 removed"),
        "{dry_run}"
    );
    assert_eq!(files(), 2, "a dry run removes nothing");

    let swept = sweep(&[]);
    assert!(
        swept.contains(&format!("removed avatars/{orphan}")),
        "{swept}"
    );
    assert!(
        swept.contains("1 orphan(s) older than 30m found, 1 removed"),
        "{swept}"
    );
    assert_eq!(files(), 1, "the orphan is gone, the user's avatar kept");

    app.restart();
    let user: Value = app
        .get("/user/kept@example.com")
        .await
        .json()
        .await
        .unwrap();
    let (_, bytes) = app.fetch_avatar(user["avatar_url"].as_str().unwrap()).await;
    assert_eq!(bytes, images::png(), "the kept user's avatar is intact");
}
