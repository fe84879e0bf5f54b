use reqwest::StatusCode;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::images;

async fn get_finds_a_user_by_percent_encoded_email_in_any_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("Ann", "ann+tag@example.com", images::png())
        .await;
    for path in [
        "/user/ann+tag@example.com",
        "/user/ann%2Btag%40example.com",
        "/user/ANN%2BTAG@EXAMPLE.COM",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let user: Value = response.json().await.unwrap();
        assert_eq!(user["email"], "ann+tag@example.com", "{path}");
        assert_eq!(user.as_object().unwrap().len(), 3);
    }
}

async fn an_email_with_a_slash_round_trips_through_location(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .create_user("Slash", "a/b@example.com", images::png())
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/user/a%2Fb@example.com");
    let found = app.get(&location).await;
    assert_eq!(found.status(), StatusCode::OK);
}

async fn get_of_an_unknown_user_is_404_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in ["/user/nobody@example.com", "/user/not-an-email"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], 404);
    }
}

async fn delete_removes_the_user_and_the_avatar(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("Gone", "gone@example.com", images::png())
        .await;
    app.create_user("Stays", "stays@example.com", images::png())
        .await;
    assert_eq!(app.stored_avatar_count().await, 2);

    let response = app.delete("/user/Gone%40Example.com").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());
    assert_eq!(
        app.get("/user/gone@example.com").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.stored_avatar_count().await, 1);
    assert_eq!(
        app.get("/user/stays@example.com").await.status(),
        StatusCode::OK
    );
}

async fn delete_of_a_missing_user_is_404_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("Stays", "stays@example.com", images::png())
        .await;
    let response = app.delete("/user/nobody@example.com").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(app.stored_avatar_count().await, 1);
    let users: Vec<Value> = app.get("/users").await.json().await.unwrap();
    assert_eq!(users.len(), 1);
}

async fn an_email_freed_by_delete_can_be_used_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("First", "reuse@example.com", images::png())
        .await;
    app.delete("/user/reuse@example.com").await;
    let again = app
        .create_user("Second", "reuse@example.com", images::png())
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
}

both_backends!(
    get_finds_a_user_by_percent_encoded_email_in_any_case,
    an_email_with_a_slash_round_trips_through_location,
    get_of_an_unknown_user_is_404_problem,
    delete_removes_the_user_and_the_avatar,
    delete_of_a_missing_user_is_404_and_changes_nothing,
    an_email_freed_by_delete_can_be_used_again,
);
