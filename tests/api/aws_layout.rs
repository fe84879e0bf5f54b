//! The AWS backend's storage layout, read back through the SDK from moto.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Backend, TestApp};
use crate::images;

#[tokio::test]
async fn the_stored_item_holds_exactly_name_email_and_avatar_url_as_strings() {
    let app = TestApp::spawn(Backend::Aws).await;
    let response = app
        .create_user("Test User", "Test-User@Example.com", images::png())
        .await;
    let user: Value = response.json().await.unwrap();
    let aws = app.aws.as_ref().unwrap();
    let item = aws
        .dynamodb
        .get_item()
        .table_name(&aws.table)
        .key("email", AttributeValue::S("test-user@example.com".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the item is stored under the lower-cased email");
    let expected: HashMap<String, AttributeValue> = HashMap::from([
        ("name".into(), AttributeValue::S("Test User".into())),
        (
            "email".into(),
            AttributeValue::S("test-user@example.com".into()),
        ),
        (
            "avatar_url".into(),
            AttributeValue::S(user["avatar_url"].as_str().unwrap().into()),
        ),
    ]);
    assert_eq!(item, expected);
}

#[tokio::test]
async fn the_object_is_the_upload_under_avatars_with_its_content_type() {
    let app = TestApp::spawn(Backend::Aws).await;
    let upload = images::encoded(image::ImageFormat::Jpeg, 16, 16);
    let response = app
        .create_user("Jpeg", "jpeg@example.com", upload.clone())
        .await;
    let user: Value = response.json().await.unwrap();
    let aws = app.aws.as_ref().unwrap();
    let keys = aws.object_keys().await;
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    let file_name = key.strip_prefix("avatars/").expect("key under avatars/");
    let (id, extension) = file_name.split_once('.').unwrap();
    assert_eq!(extension, "jpg");
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|byte| byte.is_ascii_hexdigit()));
    assert_eq!(
        user["avatar_url"],
        format!("{}/{}/{key}", aws.endpoint, aws.bucket)
    );

    let object = aws
        .s3
        .get_object()
        .bucket(&aws.bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(object.content_type(), Some("image/jpeg"));
    let bytes = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(bytes.as_ref(), upload.as_slice());
}

#[tokio::test]
async fn without_a_base_url_avatar_urls_name_the_bucket_on_s3() {
    let app = TestApp::spawn_with(Backend::Aws, &[("ROSTER_AVATAR_BASE_URL", "")]).await;
    let response = app
        .create_user("Url", "url@example.com", images::png())
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let user: Value = response.json().await.unwrap();
    let bucket = &app.aws.as_ref().unwrap().bucket;
    let prefix = format!("https://{bucket}.s3.us-east-1.amazonaws.com/avatars/");
    assert!(
        user["avatar_url"].as_str().unwrap().starts_with(&prefix),
        "{user}"
    );
}

#[tokio::test]
async fn twenty_concurrent_creates_of_one_email_have_one_winner_and_one_object() {
    let app = TestApp::spawn(Backend::Aws).await;
    let attempts = (0..20).map(|index| {
        let app = &app;
        async move {
            app.create_user(&format!("Racer {index}"), "race@example.com", images::png())
                .await
                .status()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let created = statuses
        .iter()
        .filter(|status| **status == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|status| **status == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 19), "{statuses:?}");
    assert_eq!(app.stored_avatar_count().await, 1);
}

#[tokio::test]
async fn users_written_straight_into_the_table_are_listed_across_scan_pages() {
    let app = TestApp::spawn_with(Backend::Aws, &[("ROSTER_LIST_PAGE_SIZE", "50")]).await;
    let aws = app.aws.as_ref().unwrap();
    let mut expected = BTreeSet::new();
    for index in 0..230 {
        let email = format!("direct{index:04}@example.com");
        aws.dynamodb
            .put_item()
            .table_name(&aws.table)
            .item("email", AttributeValue::S(email.clone()))
            .item("name", AttributeValue::S(format!("Direct {index}")))
            .item(
                "avatar_url",
                AttributeValue::S(format!("https://cdn.example/avatars/{index:032x}.png")),
            )
            .send()
            .await
            .unwrap();
        expected.insert(email);
    }
    let users: Vec<Value> = app.get("/users").await.json().await.unwrap();
    let listed: Vec<&str> = users
        .iter()
        .map(|user| user["email"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 230);
    assert_eq!(
        listed
            .into_iter()
            .map(str::to_owned)
            .collect::<BTreeSet<_>>(),
        expected
    );
}

#[tokio::test]
async fn a_missing_table_makes_writes_503_with_retry_after_and_readiness_fail() {
    let app = TestApp::spawn(Backend::Aws).await;
    let aws = app.aws.as_ref().unwrap();
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    aws.dynamodb
        .delete_table()
        .table_name(&aws.table)
        .send()
        .await
        .unwrap();
    let response = app.create_user("A", "a@example.com", images::png()).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "5");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(
        app.stored_avatar_count().await,
        0,
        "the failed create left its object"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        app.get("/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn pages_stay_full_when_dynamodb_cuts_scans_at_one_megabyte() {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};

    let app = TestApp::spawn(Backend::Aws).await;
    let aws = app.aws.as_ref().unwrap();
    // 1,200 items of about 2 KB: 2.4 MB, more than one 1 MB scan page holds.
    let long_url = |index: usize| {
        format!(
            "https://cdn.example/{}/avatars/{index:032x}.png",
            "p".repeat(2000)
        )
    };
    for batch in (0..1200).collect::<Vec<_>>().chunks(25) {
        let writes = batch
            .iter()
            .map(|index| {
                let put = PutRequest::builder()
                    .item(
                        "email",
                        AttributeValue::S(format!("big{index:05}@example.com")),
                    )
                    .item("name", AttributeValue::S(format!("Big {index}")))
                    .item("avatar_url", AttributeValue::S(long_url(*index)))
                    .build()
                    .unwrap();
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        aws.dynamodb
            .batch_write_item()
            .request_items(&aws.table, writes)
            .send()
            .await
            .unwrap();
    }
    // The emulator really cuts a scan short, so the page below has to be filled from
    // several scans.
    let first_scan = aws
        .dynamodb
        .scan()
        .table_name(&aws.table)
        .limit(1001)
        .send()
        .await
        .unwrap();
    assert!(
        first_scan.count() < 1001,
        "the emulator returned {} items in one scan",
        first_scan.count()
    );
    assert!(first_scan.last_evaluated_key().is_some());

    let response = app.get("/users?limit=1000").await;
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    let first: Vec<Value> = response.json().await.unwrap();
    assert_eq!(first.len(), 1000);
    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    let response = app.get(&next).await;
    assert!(response.headers().get("link").is_none());
    let second: Vec<Value> = response.json().await.unwrap();
    assert_eq!(second.len(), 200);
    let all: BTreeSet<String> = first
        .iter()
        .chain(&second)
        .map(|user| user["email"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(all.len(), 1200);
}

/// The value of one counter series in a `/metrics` text, 0 if it is absent.
fn counter(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |value| value.parse().expect("a number"))
}

const ROSTER_DECODED: &str = r#"roster_dynamodb_scan_pages_total{decoder="roster"}"#;
const SDK_DECODED: &str = r#"roster_dynamodb_scan_pages_total{decoder="sdk"}"#;

#[tokio::test]
async fn scan_pages_are_read_by_roster_escapes_unicode_and_other_attributes_included() {
    let app = TestApp::spawn_with(Backend::Aws, &[("ROSTER_LIST_PAGE_SIZE", "2")]).await;
    let aws = app.aws.as_ref().unwrap();
    let names = [
        "Say \"hi\" \\ back/slash",
        "Zoë Ångström 日本語 😀",
        "tab\tand\nnewline \u{1}",
        "plain",
        "\u{2028}\u{fffd}\u{10ffff}",
    ];
    let mut expected = BTreeSet::new();
    for (index, name) in names.iter().enumerate() {
        let email = format!("odd{index}@example.com");
        aws.dynamodb
            .put_item()
            .table_name(&aws.table)
            .item("email", AttributeValue::S(email.clone()))
            .item("name", AttributeValue::S((*name).to_owned()))
            .item(
                "avatar_url",
                AttributeValue::S(format!("https://cdn.example/avatars/{index:032x}.png")),
            )
            .item("age", AttributeValue::N(index.to_string()))
            .item(
                "tags",
                AttributeValue::M(HashMap::from([(
                    "k".to_owned(),
                    AttributeValue::L(vec![AttributeValue::Bool(true)]),
                )])),
            )
            .send()
            .await
            .unwrap();
        expected.insert((email, (*name).to_owned()));
    }
    let users: Vec<Value> = app.get("/users").await.json().await.unwrap();
    let listed: BTreeSet<(String, String)> = users
        .iter()
        .map(|user| {
            (
                user["email"].as_str().unwrap().to_owned(),
                user["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(listed, expected);

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(counter(&metrics, ROSTER_DECODED) >= 1.0, "{metrics}");
    assert_eq!(counter(&metrics, SDK_DECODED), 0.0, "{metrics}");
}

#[tokio::test]
async fn an_item_roster_cannot_read_is_left_to_the_sdk_and_fails_the_listing_as_before() {
    let app = TestApp::spawn(Backend::Aws).await;
    let aws = app.aws.as_ref().unwrap();
    aws.dynamodb
        .put_item()
        .table_name(&aws.table)
        .item("email", AttributeValue::S("number@example.com".into()))
        .item("name", AttributeValue::N("7".into()))
        .item(
            "avatar_url",
            AttributeValue::S(format!("https://cdn.example/avatars/{:032x}.png", 7)),
        )
        .send()
        .await
        .unwrap();
    let response = app.get("/users").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert_eq!(counter(&metrics, ROSTER_DECODED), 0.0, "{metrics}");
    assert!(counter(&metrics, SDK_DECODED) >= 1.0, "{metrics}");
}
