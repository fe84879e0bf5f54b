//! Every row of the SPEC's input table, on both backends, each refusal leaving nothing.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::images;

/// Asserts a problem+json answer with the given status and exactly the four members.
async fn assert_problem(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    let mut keys: Vec<&str> = problem
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["detail", "status", "title", "type"]);
    assert_eq!(problem["status"], status.as_u16());
    problem
}

async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(
        app.stored_avatar_count().await,
        0,
        "a refused create left an avatar"
    );
    let users: Vec<Value> = app.get("/users").await.json().await.unwrap();
    assert!(users.is_empty(), "a refused create stored {users:?}");
}

fn form(fields: &[(&str, &str)], avatar: Option<Vec<u8>>) -> Form {
    let mut form = Form::new();
    for (name, value) in fields {
        form = form.text((*name).to_owned(), (*value).to_owned());
    }
    if let Some(avatar) = avatar {
        form = form.part("avatar", Part::bytes(avatar).file_name("a.png"));
    }
    form
}

async fn a_body_that_is_not_multipart_is_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let json = app
        .client
        .post(app.url("/user"))
        .json(&serde_json::json!({"name": "A", "email": "a@example.com"}))
        .send()
        .await
        .unwrap();
    assert_problem(json, StatusCode::BAD_REQUEST).await;
    let no_type = app
        .client
        .post(app.url("/user"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_problem(no_type, StatusCode::BAD_REQUEST).await;
    let broken = app
        .client
        .post(app.url("/user"))
        .header("content-type", "multipart/form-data; boundary=zzz")
        .body("this is not multipart")
        .send()
        .await
        .unwrap();
    assert_problem(broken, StatusCode::BAD_REQUEST).await;
    assert_nothing_stored(&app).await;
}

async fn a_missing_or_repeated_field_is_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        form(&[("email", "a@example.com")], Some(images::png())),
        form(&[("name", "A")], Some(images::png())),
        form(&[("name", "A"), ("email", "a@example.com")], None),
        form(
            &[("name", "A"), ("name", "B"), ("email", "a@example.com")],
            Some(images::png()),
        ),
        form(
            &[
                ("name", "A"),
                ("email", "a@example.com"),
                ("email", "b@example.com"),
            ],
            Some(images::png()),
        ),
        form(
            &[("name", "A"), ("email", "a@example.com")],
            Some(images::png()),
        )
        .part("avatar", Part::bytes(images::png()).file_name("b.png")),
    ];
    for case in cases {
        let problem = assert_problem(app.post_form(case).await, StatusCode::BAD_REQUEST).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("field"),
            "{problem}"
        );
    }
    assert_nothing_stored(&app).await;
}

async fn invalid_names_are_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let too_long = "n".repeat(101);
    for name in ["", "   ", too_long.as_str(), "Bad\u{0}Name", "Line\nBreak"] {
        let response = app.create_user(name, "a@example.com", images::png()).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    assert_nothing_stored(&app).await;
    let at_limit = "n".repeat(100);
    let response = app
        .create_user(&at_limit, "a@example.com", images::png())
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// `u@` and four 60-letter labels, with the top-level label sized to reach `length`.
fn email_of_length(length: usize) -> String {
    let label = "a".repeat(60);
    let stem = format!("u@{label}.{label}.{label}.{label}.");
    let top_level = "z".repeat(length - stem.len());
    format!("{stem}{top_level}")
}

async fn invalid_emails_are_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let too_long = email_of_length(255);
    for email in [
        "not-an-email",
        "a@",
        "@example.com",
        "a b@example.com",
        too_long.as_str(),
    ] {
        let response = app.create_user("A", email, images::png()).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    assert_nothing_stored(&app).await;
    let at_limit = email_of_length(254);
    let response = app.create_user("A", &at_limit, images::png()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

async fn an_empty_avatar_is_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.create_user("A", "a@example.com", Vec::new()).await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_nothing_stored(&app).await;
}

async fn an_avatar_over_the_byte_limit_is_413_and_at_the_limit_is_accepted(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("ROSTER_MAX_AVATAR_BYTES", "2048")]).await;
    let mut at_limit = images::png();
    at_limit.resize(2048, 0);
    let mut over = at_limit.clone();
    over.push(0);
    let response = app.create_user("A", "over@example.com", over).await;
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_nothing_stored(&app).await;
    let response = app.create_user("A", "limit@example.com", at_limit).await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

async fn a_large_chunked_upload_is_refused_with_413(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("ROSTER_MAX_AVATAR_BYTES", "65536")]).await;
    // 64 MiB offered in 64 KiB chunks with no Content-Length: the server must answer
    // once the limit is passed instead of reading (or buffering) it all.
    let chunk = bytes::Bytes::from(vec![0u8; 64 * 1024]);
    let head = "--B\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n\r\n";
    let mut chunks: Vec<Result<bytes::Bytes, std::io::Error>> = vec![Ok(bytes::Bytes::from(head))];
    chunks.extend(std::iter::repeat_n(chunk, 1024).map(Ok));
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let result = app
        .client
        .post(app.url("/user"))
        .header("content-type", "multipart/form-data; boundary=B")
        .body(body)
        .send()
        .await;
    // The server may close the connection while the client still sends, and then the
    // client sees a reset instead of the answer; it must never wait for a timeout.
    match result {
        Ok(response) => {
            assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
        }
        Err(error) => assert!(!error.is_timeout(), "the upload hung: {error}"),
    }
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_nothing_stored(&app).await;
}

async fn a_declared_length_over_the_limit_is_413_at_once(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn_with(backend, &[("ROSTER_MAX_AVATAR_BYTES", "1024")]).await;
    // Only the head is sent: the answer must come without the server waiting for a byte
    // of the 512 KiB body it was promised.
    let address = app.base_url.trim_start_matches("http://");
    let mut connection = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /user HTTP/1.1\r\nhost: roster\r\ncontent-type: multipart/form-data; boundary=B\r\n\
         content-length: {}\r\n\r\n",
        512 * 1024
    );
    connection.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        connection.read_to_end(&mut answer),
    )
    .await
    .expect("answered and closed without the body")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(answer.starts_with("http/1.1 413"), "{answer}");
    assert!(
        answer.contains("content-type: application/problem+json"),
        "{answer}"
    );
    assert!(answer.contains("connection: close"), "{answer}");
    assert_nothing_stored(&app).await;
}

async fn content_that_is_not_an_accepted_image_is_415(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // A BMP header (BITMAPFILEHEADER and the start of BITMAPINFOHEADER): an image, but
    // not one of the accepted formats.
    let bmp = b"BM\x46\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00".to_vec();
    for avatar in [b"%PDF-1.7\n".to_vec(), b"just text".to_vec(), bmp] {
        let response = app.create_user("A", "a@example.com", avatar).await;
        assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    }
    assert_nothing_stored(&app).await;
}

async fn an_avatar_declaring_too_many_pixels_is_422(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("ROSTER_MAX_AVATAR_PIXELS", "10000")]).await;
    let response = app
        .create_user(
            "A",
            "bomb@example.com",
            images::png_declaring(100_000, 100_000),
        )
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("pixels"),
        "{problem}"
    );
    let response = app
        .create_user(
            "A",
            "over@example.com",
            images::encoded(image::ImageFormat::Png, 101, 100),
        )
        .await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_nothing_stored(&app).await;
    let response = app
        .create_user(
            "A",
            "limit@example.com",
            images::encoded(image::ImageFormat::Png, 100, 100),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

async fn an_animation_over_the_frame_or_total_pixel_budget_is_422(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("ROSTER_MAX_AVATAR_FRAMES", "3"),
            ("ROSTER_MAX_AVATAR_TOTAL_PIXELS", "1000"),
        ],
    )
    .await;
    let too_long = app
        .create_user("A", "long@example.com", images::animated_gif(4, 4, 4))
        .await;
    let problem = assert_problem(too_long, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("frames"),
        "{problem}"
    );
    // Three frames of 20 × 20 are 1,200 pixels together: each frame is small, all of them
    // are not.
    let too_heavy = app
        .create_user("A", "heavy@example.com", images::animated_gif(3, 20, 20))
        .await;
    let problem = assert_problem(too_heavy, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("all frames together"),
        "{problem}"
    );
    assert_nothing_stored(&app).await;
    let within = app
        .create_user("A", "fine@example.com", images::animated_gif(3, 10, 10))
        .await;
    assert_eq!(within.status(), StatusCode::CREATED);
}

async fn an_accepted_type_with_an_unreadable_structure_is_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let png = images::png();
    for avatar in [
        png[..12].to_vec(),
        b"\xff\xd8\xff\xe0\x00\x10JFIF".to_vec(),
        b"GIF89a\x01".to_vec(),
        b"RIFF\x00\x00\x00\x00WEBPVP8 ".to_vec(),
    ] {
        let response = app.create_user("A", "a@example.com", avatar).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    assert_nothing_stored(&app).await;
}

async fn unknown_routes_and_methods_answer_problems(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_problem(app.get("/nope").await, StatusCode::NOT_FOUND).await;
    let put = app.client.put(app.url("/users")).send().await.unwrap();
    assert_eq!(put.headers()["allow"], "GET");
    assert_problem(put, StatusCode::METHOD_NOT_ALLOWED).await;
}

both_backends!(
    a_body_that_is_not_multipart_is_400,
    a_missing_or_repeated_field_is_400,
    invalid_names_are_422,
    invalid_emails_are_422,
    an_empty_avatar_is_422,
    an_avatar_over_the_byte_limit_is_413_and_at_the_limit_is_accepted,
    a_large_chunked_upload_is_refused_with_413,
    a_declared_length_over_the_limit_is_413_at_once,
    content_that_is_not_an_accepted_image_is_415,
    an_avatar_declaring_too_many_pixels_is_422,
    an_animation_over_the_frame_or_total_pixel_budget_is_422,
    an_accepted_type_with_an_unreadable_structure_is_422,
    unknown_routes_and_methods_answer_problems,
);
