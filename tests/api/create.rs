use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::images;

async fn create_answers_201_with_location_and_exactly_the_user_keys(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .create_user("Test User", "test-user@example.com", images::png())
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()["location"],
        "/user/test-user@example.com"
    );
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let user: Value = response.json().await.unwrap();
    let keys: BTreeSet<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["name", "email", "avatar_url"]));
    assert_eq!(user["name"], "Test User");
    assert_eq!(user["email"], "test-user@example.com");
    let avatar_url = user["avatar_url"].as_str().unwrap();
    assert!(avatar_url.ends_with(".png"), "{avatar_url}");
    assert!(avatar_url.contains("/avatars/"), "{avatar_url}");
}

async fn the_avatar_behind_avatar_url_is_the_uploaded_image(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let upload = images::encoded(image::ImageFormat::Gif, 3, 2);
    let response = app
        .create_user("Gif Person", "gif@example.com", upload.clone())
        .await;
    let user: Value = response.json().await.unwrap();
    let (content_type, bytes) = app.fetch_avatar(user["avatar_url"].as_str().unwrap()).await;
    assert_eq!(content_type, "image/gif");
    assert_eq!(bytes, upload);
}

async fn names_are_trimmed_and_emails_lower_cased(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .create_user("  Zoë Ōtsuka  ", "Zoe.Otsuka@Example.COM", images::png())
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()["location"],
        "/user/zoe.otsuka@example.com"
    );
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["name"], "Zoë Ōtsuka");
    assert_eq!(user["email"], "zoe.otsuka@example.com");
}

async fn emails_are_unique_case_insensitively(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app
        .create_user("Foo", "Foo@Example.com", images::png())
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let second = app
        .create_user("Other Foo", "foo@example.com", images::png())
        .await;
    assert_eq!(second.status(), StatusCode::CONFLICT);
    assert_eq!(second.headers()["content-type"], "application/problem+json");
    assert_eq!(
        app.stored_avatar_count().await,
        1,
        "the refused create left an avatar"
    );
    let stored: Value = app.get("/user/foo@example.com").await.json().await.unwrap();
    assert_eq!(stored["name"], "Foo");
}

async fn every_accepted_format_is_stored_with_its_extension(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let formats = [
        (image::ImageFormat::Png, "png"),
        (image::ImageFormat::Jpeg, "jpg"),
        (image::ImageFormat::Gif, "gif"),
        (image::ImageFormat::WebP, "webp"),
    ];
    for (format, extension) in formats {
        let email = format!("{extension}@example.com");
        let response = app
            .create_user("Format", &email, images::encoded(format, 8, 8))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{extension}");
        let user: Value = response.json().await.unwrap();
        let avatar_url = user["avatar_url"].as_str().unwrap();
        assert!(
            avatar_url.ends_with(&format!(".{extension}")),
            "{avatar_url}"
        );
    }
}

async fn the_file_name_and_part_content_type_are_ignored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let form = reqwest::multipart::Form::new()
        .text("name", "Liar")
        .text("email", "liar@example.com")
        .part(
            "avatar",
            reqwest::multipart::Part::bytes(images::encoded(image::ImageFormat::WebP, 2, 2))
                .file_name("photo.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let response = app.post_form(form).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let user: Value = response.json().await.unwrap();
    assert!(user["avatar_url"].as_str().unwrap().ends_with(".webp"));
}

both_backends!(
    create_answers_201_with_location_and_exactly_the_user_keys,
    the_avatar_behind_avatar_url_is_the_uploaded_image,
    names_are_trimmed_and_emails_lower_cased,
    emails_are_unique_case_insensitively,
    every_accepted_format_is_stored_with_its_extension,
    the_file_name_and_part_content_type_are_ignored,
);
