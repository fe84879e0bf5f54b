//! roster's AWS tests on a table and bucket someone else made: in the normal run, fresh
//! ones in the shared moto; under tests/deploy/terraform, the ones Terraform made, named
//! by its outputs, with roster running on the key that holds only the Terraform-made policy
//! (see `AwsResources::provided_or_fresh`). The tests share those resources, so each
//! cleans up after itself and counts only what it added; run them one at a time.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{AwsResources, TestApp};
use crate::images;

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

fn aws(app: &TestApp) -> &AwsResources {
    app.aws.as_ref().expect("the aws backend")
}

async fn item(app: &TestApp, email: &str) -> Option<HashMap<String, AttributeValue>> {
    let aws = aws(app);
    aws.dynamodb
        .get_item()
        .table_name(&aws.table)
        .key("email", AttributeValue::S(email.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem with the admin key")
        .item
}

#[tokio::test]
async fn a_user_is_created_stored_exactly_read_and_deleted_with_its_avatar() {
    let app = TestApp::spawn_provisioned().await;
    let email = format!("{}@example.com", unique("lifecycle"));
    let upload = images::encoded(image::ImageFormat::Jpeg, 16, 16);
    let objects_before: BTreeSet<String> = aws(&app).object_keys().await.into_iter().collect();

    let created = app
        .create_user("Provisioned User", &email, upload.clone())
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let user: Value = created.json().await.unwrap();
    let avatar_url = user["avatar_url"].as_str().unwrap().to_owned();

    let stored = item(&app, &email).await.expect("the item is stored");
    let expected: HashMap<String, AttributeValue> = HashMap::from([
        ("name".into(), AttributeValue::S("Provisioned User".into())),
        ("email".into(), AttributeValue::S(email.clone())),
        ("avatar_url".into(), AttributeValue::S(avatar_url.clone())),
    ]);
    assert_eq!(
        stored, expected,
        "exactly name, email and avatar_url, as strings"
    );

    let objects_after: BTreeSet<String> = aws(&app).object_keys().await.into_iter().collect();
    let added: Vec<&String> = objects_after.difference(&objects_before).collect();
    assert_eq!(added.len(), 1, "one object for one user: {added:?}");
    let key = added[0];
    assert!(
        avatar_url.ends_with(key.as_str()),
        "{avatar_url} names {key}"
    );
    let (content_type, bytes) = app.fetch_avatar(&avatar_url).await;
    assert_eq!(content_type, "image/jpeg");
    assert_eq!(bytes, upload);

    let found: Value = app
        .get(&format!("/user/{email}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found, user);

    assert_eq!(
        app.delete(&format!("/user/{email}")).await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(item(&app, &email).await.is_none(), "the item is gone");
    let objects_at_end: BTreeSet<String> = aws(&app).object_keys().await.into_iter().collect();
    assert_eq!(objects_at_end, objects_before, "the avatar object is gone");
    assert_eq!(
        app.get(&format!("/user/{email}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn users_are_listed_across_pages_and_in_full() {
    let app = TestApp::spawn_provisioned().await;
    let prefix = unique("page");
    let emails: BTreeSet<String> = (0..5)
        .map(|index| format!("{prefix}-{index}@example.com"))
        .collect();
    for email in &emails {
        let response = app.create_user("Paged", email, images::png()).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    let mut paged = BTreeSet::new();
    let mut next = Some("/users?limit=2".to_owned());
    let mut pages = 0;
    while let Some(path) = next.take() {
        let response = app.get(&path).await;
        assert_eq!(response.status(), StatusCode::OK);
        next = response
            .headers()
            .get("link")
            .and_then(|link| link.to_str().ok())
            .and_then(|link| link.strip_prefix('<'))
            .and_then(|link| link.split_once('>'))
            .map(|(target, _)| target.to_owned());
        let page: Vec<Value> = response.json().await.unwrap();
        assert!(page.len() <= 2);
        paged.extend(
            page.iter()
                .map(|user| user["email"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        assert!(pages <= 10_000, "the pages never end");
    }
    assert!(
        pages >= 3,
        "five users of two a page take three pages or more"
    );
    assert!(
        emails.is_subset(&paged),
        "paging missed some: {emails:?} vs {paged:?}"
    );

    let everyone: Vec<Value> = app.get("/users").await.json().await.unwrap();
    let listed: BTreeSet<String> = everyone
        .iter()
        .map(|user| user["email"].as_str().unwrap().to_owned())
        .collect();
    assert!(emails.is_subset(&listed));
    assert_eq!(listed.len(), everyone.len(), "each user once");

    for email in &emails {
        assert_eq!(
            app.delete(&format!("/user/{email}")).await.status(),
            StatusCode::NO_CONTENT
        );
    }
}

#[tokio::test]
async fn refused_creates_leave_no_object_behind() {
    let app = TestApp::spawn_provisioned().await;
    let email = format!("{}@example.com", unique("refused"));
    assert_eq!(
        app.create_user("First", &email, images::png())
            .await
            .status(),
        StatusCode::CREATED
    );
    let objects_before = aws(&app).object_keys().await.len();

    let duplicate = app.create_user("Second", &email, images::png()).await;
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    let not_an_image = app
        .create_user(
            "Third",
            &format!("{}@example.com", unique("pdf")),
            b"%PDF-1.7".to_vec(),
        )
        .await;
    assert_eq!(not_an_image.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let bad_name = app
        .create_user(
            "",
            &format!("{}@example.com", unique("noname")),
            images::png(),
        )
        .await;
    assert_eq!(bad_name.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        aws(&app).object_keys().await.len(),
        objects_before,
        "a refused create stored an object"
    );

    assert_eq!(
        app.delete(&format!("/user/{email}")).await.status(),
        StatusCode::NO_CONTENT
    );
}
