//! Stored avatars are safe to publish: metadata removed, pixels, colour profile and
//! orientation kept, judged by readers independent of roster (Pillow and exiftool), on
//! fixtures those same tools make at test time (crates/imaging/tests/fixtures/).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

struct Fixture {
    name: String,
    kind: String,
    orientation: String,
    icc: String,
    must: String,
    bytes: Vec<u8>,
}

fn fixture_scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/imaging/tests/fixtures")
}

fn python() -> PathBuf {
    std::env::var_os("ROSTER_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"))
}

fn run(script: &str, argument: &Path) -> String {
    let output = Command::new(python())
        .arg(fixture_scripts().join(script))
        .arg(argument)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {script}: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Phone-like photos of every format (GPS, camera, dates, XMP, IPTC, comments, ICC
/// profiles, orientations 3, 6 and 8), clean images, and header-declared dimension bombs.
fn fixtures() -> &'static (TempDir, Vec<Fixture>) {
    static FIXTURES: OnceLock<(TempDir, Vec<Fixture>)> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let directory = TempDir::new().unwrap();
        run("make_fixtures.py", directory.path());
        let manifest = std::fs::read_to_string(directory.path().join("manifest.tsv")).unwrap();
        let fixtures = manifest
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let columns: Vec<&str> = line.split('\t').collect();
                Fixture {
                    name: columns[0].to_owned(),
                    kind: columns[4].to_owned(),
                    orientation: columns[5].to_owned(),
                    icc: columns[6].to_owned(),
                    must: columns.get(7).copied().unwrap_or_default().to_owned(),
                    bytes: std::fs::read(directory.path().join(columns[0])).unwrap(),
                }
            })
            .collect();
        (directory, fixtures)
    })
}

async fn stored_avatars_have_no_metadata_and_the_same_pixels_profile_and_orientation(
    backend: Backend,
) {
    let (fixture_directory, fixtures) = fixtures();
    let app = TestApp::spawn(backend).await;
    let stored = TempDir::new().unwrap();
    let mut pairs = String::new();
    let mut checked = 0;
    for (index, fixture) in fixtures
        .iter()
        .filter(|fixture| fixture.kind != "bomb")
        .enumerate()
    {
        let email = format!("photo{index}@example.com");
        let response = app
            .create_user("Photo", &email, fixture.bytes.clone())
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{}", fixture.name);
        let user: Value = response.json().await.unwrap();
        let (_, bytes) = app.fetch_avatar(user["avatar_url"].as_str().unwrap()).await;
        if fixture.kind == "clean" {
            assert!(
                bytes == fixture.bytes,
                "{} was not stored byte for byte",
                fixture.name
            );
        }
        let stored_path = stored.path().join(&fixture.name);
        std::fs::write(&stored_path, &bytes).unwrap();
        let original = fixture_directory.path().join(&fixture.name);
        pairs.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            original.display(),
            stored_path.display(),
            fixture.orientation,
            fixture.icc,
            fixture.must
        ));
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} fixtures");
    let pairs_file = stored.path().join("pairs.tsv");
    std::fs::write(&pairs_file, pairs).unwrap();
    run("verify.py", &pairs_file);
}

async fn header_declared_dimension_bombs_are_422_and_leave_nothing(backend: Backend) {
    let (_, fixtures) = fixtures();
    let app = TestApp::spawn(backend).await;
    let bombs: Vec<&Fixture> = fixtures
        .iter()
        .filter(|fixture| fixture.kind == "bomb")
        .collect();
    assert!(bombs.len() >= 4);
    for bomb in bombs {
        let response = app
            .create_user("Bomb", "bomb@example.com", bomb.bytes.clone())
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            bomb.name
        );
        let problem: Value = response.json().await.unwrap();
        assert!(
            problem["detail"].as_str().unwrap().contains("pixels"),
            "{problem}"
        );
    }
    assert_eq!(app.stored_avatar_count().await, 0);
}

both_backends!(
    stored_avatars_have_no_metadata_and_the_same_pixels_profile_and_orientation,
    header_declared_dimension_bombs_are_422_and_leave_nothing,
);
