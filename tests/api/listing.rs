use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::images;

async fn create_users(app: &TestApp, count: usize) -> BTreeSet<String> {
    let mut emails = BTreeSet::new();
    for index in 0..count {
        let email = format!("user{index:03}@example.com");
        let response = app
            .create_user(&format!("User {index}"), &email, images::png())
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        emails.insert(email);
    }
    emails
}

fn emails_of(users: &[Value]) -> Vec<String> {
    users
        .iter()
        .map(|user| user["email"].as_str().unwrap().to_owned())
        .collect()
}

async fn an_empty_store_lists_an_empty_array(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.get("/users").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "[]");
}

async fn a_listing_spanning_many_store_pages_returns_every_user_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("ROSTER_LIST_PAGE_SIZE", "7")]).await;
    let created = create_users(&app, 25).await;
    let response = app.get("/users").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("link").is_none());
    let users: Vec<Value> = response.json().await.unwrap();
    let listed = emails_of(&users);
    assert_eq!(listed.len(), 25, "duplicates or losses: {listed:?}");
    assert_eq!(listed.into_iter().collect::<BTreeSet<_>>(), created);
    for user in &users {
        assert_eq!(user.as_object().unwrap().len(), 3);
    }
}

async fn pages_follow_link_headers_until_every_user_is_seen_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = create_users(&app, 11).await;
    let mut next = Some("/users?limit=4".to_owned());
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(path) = next.take() {
        pages += 1;
        assert!(pages <= 10, "paging does not end");
        let response = app.get(&path).await;
        assert_eq!(response.status(), StatusCode::OK);
        next = response.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            assert!(link.ends_with(">; rel=\"next\""), "{link}");
            link.trim_start_matches('<')
                .split('>')
                .next()
                .unwrap()
                .to_owned()
        });
        if let Some(path) = &next {
            assert!(path.starts_with("/users?limit=4&cursor="), "{path}");
        }
        let users: Vec<Value> = response.json().await.unwrap();
        assert!(users.len() <= 4);
        seen.extend(emails_of(&users));
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 11, "{seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), created);
}

async fn the_last_full_page_has_no_link(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_users(&app, 3).await;
    let response = app.get("/users?limit=3").await;
    assert!(response.headers().get("link").is_none());
    let users: Vec<Value> = response.json().await.unwrap();
    assert_eq!(users.len(), 3);
}

async fn limits_outside_1_to_1000_and_foreign_cursors_are_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in [
        "/users?limit=0",
        "/users?limit=1001",
        "/users?limit=-1",
        "/users?limit=ten",
        "/users?limit=5&cursor=%25%25",
        "/users?cursor=_w",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
    }
    assert_eq!(app.get("/users?limit=1000").await.status(), StatusCode::OK);
    assert_eq!(app.get("/users?limit=1").await.status(), StatusCode::OK);
}

async fn every_acknowledged_create_and_delete_shows_in_the_next_listing(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("ROSTER_LIST_PAGE_SIZE", "2")]).await;
    let mut expected: BTreeSet<String> = create_users(&app, 3).await;
    for round in 0..4 {
        for path in ["/users", "/users?limit=2", "/users?limit=1000"] {
            // Read each twice: a page served again must still be the current one.
            for _ in 0..2 {
                let mut listed = BTreeSet::new();
                let mut next = Some(path.to_owned());
                while let Some(page) = next.take() {
                    let response = app.get(&page).await;
                    assert_eq!(response.status(), StatusCode::OK);
                    next = response.headers().get("link").map(|link| {
                        let link = link.to_str().unwrap();
                        link.trim_start_matches('<')
                            .split('>')
                            .next()
                            .unwrap()
                            .to_owned()
                    });
                    let users: Vec<Value> = response.json().await.unwrap();
                    listed.extend(emails_of(&users));
                }
                assert_eq!(listed, expected, "round {round}, {path}");
            }
        }
        // One user more at the front of the listing, and one fewer further on.
        let email = format!("late{round}@example.com");
        let created = app.create_user("Late", &email, images::png()).await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let gone = expected.pop_last().unwrap();
        expected.insert(email);
        let deleted = app.delete(&format!("/user/{gone}")).await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    }
}

both_backends!(
    an_empty_store_lists_an_empty_array,
    a_listing_spanning_many_store_pages_returns_every_user_once,
    pages_follow_link_headers_until_every_user_is_seen_once,
    the_last_full_page_has_no_link,
    limits_outside_1_to_1000_and_foreign_cursors_are_400,
    every_acknowledged_create_and_delete_shows_in_the_next_listing,
);
