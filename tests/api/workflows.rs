//! The service's guarantees, on the real backends, with the application running in this
//! process so a store wrapper can pause a workflow where a crash or a disconnect hurts
//! most: between the avatar write and the user write.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clap::Parser;
use reqwest::StatusCode;
use roster::config::Cli;
use roster::domain::{
    Avatar, AvatarKey, AvatarLimits, AvatarUrls, ImageFormat, Spooled, UserEmail, UserRecord,
};
use roster::service::{Stores, SweepOptions, UserService};
use roster::startup::Application;
use roster::store::{
    AvatarStore, Insertion, ListPosition, ObjectPage, Page, StoreError, UserTable,
};
use roster::store::{aws as aws_store, embedded as embedded_store};
use tempfile::TempDir;
use tokio::sync::{Notify, oneshot};

use crate::both_backends;
use crate::helpers::{AwsResources, Backend, moto_endpoint, sdk_config};
use crate::images;

/// The real stores of one backend, in a fresh data directory or a fresh table and bucket.
struct RealStores {
    users: Arc<dyn UserTable>,
    avatars: Arc<dyn AvatarStore>,
    urls: AvatarUrls,
    _data_dir: TempDir,
}

async fn real_stores(backend: Backend) -> RealStores {
    let data_dir = TempDir::new().expect("data directory");
    match backend {
        Backend::Embedded => {
            let (users, avatars) = embedded_store::open(data_dir.path()).expect("embedded store");
            RealStores {
                users: Arc::new(users),
                avatars: Arc::new(avatars),
                urls: AvatarUrls::new(""),
                _data_dir: data_dir,
            }
        }
        Backend::Aws => {
            let resources = AwsResources::create(moto_endpoint()).await;
            let backend = aws_store::connect_with(
                &sdk_config(moto_endpoint()).await,
                aws_store::AwsSettings {
                    table: resources.table.clone(),
                    bucket: resources.bucket.clone(),
                    avatar_base_url: Some(format!("{}/{}", resources.endpoint, resources.bucket)),
                    avatar_cache_control: "public, max-age=300".to_owned(),
                },
            )
            .expect("aws backend");
            RealStores {
                users: Arc::new(backend.users),
                avatars: Arc::new(backend.avatars),
                urls: backend.urls,
                _data_dir: data_dir,
            }
        }
    }
}

impl RealStores {
    fn stores(&self, users: Arc<dyn UserTable>, avatars: Arc<dyn AvatarStore>) -> Stores {
        Stores {
            users,
            avatars,
            files: None,
            urls: self.urls.clone(),
        }
    }

    async fn object_keys(&self) -> Vec<AvatarKey> {
        let mut keys = Vec::new();
        let mut continuation = None;
        loop {
            let page = self.avatars.list(continuation).await.expect("list avatars");
            keys.extend(page.objects.iter().map(|object| object.key));
            continuation = page.next;
            if continuation.is_none() {
                return keys;
            }
        }
    }

    /// Stores an avatar object that no user points at, as a crash would leave it.
    async fn orphan(&self) -> AvatarKey {
        let key = AvatarKey::new(ImageFormat::Png);
        let bytes = Spooled::Memory(images::png().into());
        let limits = AvatarLimits {
            max_bytes: 1 << 20,
            max_pixels: 1 << 20,
            max_frames: 1,
            max_total_pixels: 1 << 20,
        };
        let avatar = Avatar::parse(bytes, limits).expect("a valid avatar");
        self.avatars.put(&key, &avatar).await.expect("put orphan");
        key
    }
}

/// An avatar store that, after a write, tells `reached` and waits for `release`; if the
/// workflow is dropped while it waits, it tells `cancelled`.
struct PausingAvatars {
    inner: Arc<dyn AvatarStore>,
    reached: Arc<Notify>,
    release: Arc<Notify>,
    cancelled: Arc<Notify>,
}

/// Tells `cancelled` when dropped before `completed` is set.
struct CancellationAlarm {
    cancelled: Arc<Notify>,
    completed: bool,
}

impl Drop for CancellationAlarm {
    fn drop(&mut self) {
        if !self.completed {
            self.cancelled.notify_one();
        }
    }
}

#[async_trait]
impl AvatarStore for PausingAvatars {
    async fn put(&self, key: &AvatarKey, avatar: &Avatar) -> Result<(), StoreError> {
        self.inner.put(key, avatar).await?;
        let mut alarm = CancellationAlarm {
            cancelled: Arc::clone(&self.cancelled),
            completed: false,
        };
        self.reached.notify_one();
        self.release.notified().await;
        alarm.completed = true;
        Ok(())
    }

    async fn delete(&self, key: &AvatarKey) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }

    async fn list(&self, continuation: Option<String>) -> Result<ObjectPage, StoreError> {
        self.inner.list(continuation).await
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        self.inner.check_ready().await
    }
}

/// A user table whose inserts take `delay` longer, widening the window between a create's
/// two writes.
struct SlowInserts {
    inner: Arc<dyn UserTable>,
    delay: Duration,
}

#[async_trait]
impl UserTable for SlowInserts {
    async fn insert_if_absent(&self, user: &UserRecord) -> Result<Insertion, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.insert_if_absent(user).await
    }

    async fn get(&self, email: &UserEmail) -> Result<Option<UserRecord>, StoreError> {
        self.inner.get(email).await
    }

    async fn remove(&self, email: &UserEmail) -> Result<Option<UserRecord>, StoreError> {
        self.inner.remove(email).await
    }

    async fn list_page(
        &self,
        after: Option<&ListPosition>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        self.inner.list_page(after, limit).await
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        self.inner.check_ready().await
    }
}

/// The application on `stores`, serving on 127.0.0.1 until the returned sender is used or
/// dropped, and the task that runs it.
async fn serve(stores: Stores, settings: &[&str]) -> Running {
    let arguments = [
        "roster",
        "--listen",
        "127.0.0.1:0",
        "--orphan-sweep-interval",
        "0s",
    ]
    .into_iter()
    .chain(settings.iter().copied());
    let cli = Cli::try_parse_from(arguments).expect("settings");
    let application = Application::with_stores(&cli.settings, stores)
        .await
        .expect("application");
    let base_url = format!("http://{}", application.address());
    let service = application.service().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(application.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    Running {
        base_url,
        service,
        stop,
        task,
    }
}

struct Running {
    base_url: String,
    service: UserService,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

fn create_form(email: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("name", "Paused")
        .text("email", email.to_owned())
        .part(
            "avatar",
            reqwest::multipart::Part::bytes(images::png()).file_name("a.png"),
        )
}

async fn a_create_whose_client_disconnects_between_the_two_writes_still_finishes(backend: Backend) {
    let real = real_stores(backend).await;
    let reached = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let cancelled = Arc::new(Notify::new());
    let avatars = Arc::new(PausingAvatars {
        inner: Arc::clone(&real.avatars),
        reached: Arc::clone(&reached),
        release: Arc::clone(&release),
        cancelled: Arc::clone(&cancelled),
    });
    let Running {
        base_url,
        service,
        stop: _serving,
        ..
    } = serve(real.stores(Arc::clone(&real.users), avatars), &[]).await;
    let client = reqwest::Client::new();
    let request = client
        .post(format!("{base_url}/user"))
        .multipart(create_form("gone@example.com"))
        .send();
    let in_flight = tokio::spawn(request);
    tokio::time::timeout(Duration::from_secs(20), reached.notified())
        .await
        .expect("the create reached its avatar write");
    // The client goes away while the avatar is stored and the user is not. The server
    // notices within milliseconds and drops the request; a workflow tied to the request
    // would be dropped with it, which the pausing store would report.
    in_flight.abort();
    let _ = in_flight.await;
    let dropped = tokio::time::timeout(Duration::from_secs(2), cancelled.notified()).await;
    assert!(
        dropped.is_err(),
        "the create was dropped with its request, between its two writes"
    );
    release.notify_one();
    assert_eq!(service.finish_workflows(Duration::from_secs(20)).await, 0);

    let email = UserEmail::parse("gone@example.com").unwrap();
    let stored = real.users.get(&email).await.unwrap();
    let objects = real.object_keys().await;
    match stored {
        Some(user) => assert_eq!(objects, [user.avatar], "the user's avatar and nothing else"),
        None => assert!(
            objects.is_empty(),
            "no user, yet objects remain: {objects:?}"
        ),
    }
    assert!(
        real.users.get(&email).await.unwrap().is_some(),
        "the create ran to completion without its client"
    );
}

async fn a_create_caught_between_its_writes_by_the_shutdown_timeout_still_finishes(
    backend: Backend,
) {
    let real = real_stores(backend).await;
    let reached = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let avatars = Arc::new(PausingAvatars {
        inner: Arc::clone(&real.avatars),
        reached: Arc::clone(&reached),
        release: Arc::clone(&release),
        cancelled: Arc::new(Notify::new()),
    });
    let running = serve(
        real.stores(Arc::clone(&real.users), avatars),
        &["--shutdown-timeout", "1s"],
    )
    .await;
    let request = reqwest::Client::new()
        .post(format!("{}/user", running.base_url))
        .multipart(create_form("late@example.com"))
        .send();
    let in_flight = tokio::spawn(request);
    tokio::time::timeout(Duration::from_secs(20), reached.notified())
        .await
        .expect("the create reached its avatar write");
    running
        .stop
        .send(())
        .expect("the server listens for shutdown");
    // Past the shutdown timeout the server drops the connection and its request; the
    // create must not be dropped with it.
    let answer = tokio::time::timeout(Duration::from_secs(10), in_flight)
        .await
        .expect("the client is answered or cut off")
        .unwrap();
    assert!(
        answer.is_err(),
        "the request outlived the shutdown timeout: {answer:?}"
    );
    release.notify_one();
    tokio::time::timeout(Duration::from_secs(30), running.task)
        .await
        .expect("the server waits for the create, then stops")
        .unwrap()
        .unwrap();

    let email = UserEmail::parse("late@example.com").unwrap();
    let user = real
        .users
        .get(&email)
        .await
        .unwrap()
        .expect("the create finished");
    assert_eq!(real.object_keys().await, [user.avatar]);
}

async fn an_orphan_older_than_the_grace_is_swept_and_a_fresh_one_is_not(backend: Backend) {
    let real = real_stores(backend).await;
    let Running {
        base_url,
        service,
        stop: _serving,
        ..
    } = serve(
        real.stores(Arc::clone(&real.users), Arc::clone(&real.avatars)),
        &[],
    )
    .await;
    let created = reqwest::Client::new()
        .post(format!("{base_url}/user"))
        .multipart(create_form("kept@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let old = real.orphan().await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let fresh = real.orphan().await;
    let grace = Duration::from_secs(2);

    let dry_run = service
        .sweep_orphans(SweepOptions {
            grace,
            dry_run: true,
        })
        .await
        .unwrap();
    assert_eq!(dry_run.orphans, [old]);
    assert!(dry_run.removed.is_empty());
    assert_eq!(
        real.object_keys().await.len(),
        3,
        "a dry run removes nothing"
    );

    let report = service
        .sweep_orphans(SweepOptions {
            grace,
            dry_run: false,
        })
        .await
        .unwrap();
    assert_eq!(report.removed, [old]);
    let email = UserEmail::parse("kept@example.com").unwrap();
    let user = real.users.get(&email).await.unwrap().expect("the user");
    let mut remaining = real.object_keys().await;
    remaining.sort_by_key(AvatarKey::to_string);
    let mut expected = vec![user.avatar, fresh];
    expected.sort_by_key(AvatarKey::to_string);
    assert_eq!(
        remaining, expected,
        "the user's avatar and the fresh orphan stay"
    );
}

async fn a_sweep_racing_32_concurrent_creates_never_removes_an_avatar_a_user_points_at(
    backend: Backend,
) {
    let real = real_stores(backend).await;
    let mut old_orphans = Vec::new();
    for _ in 0..8 {
        old_orphans.push(real.orphan().await);
    }
    // The smallest grace start-up allows for this create timeout.
    let create_timeout = Duration::from_millis(1_500);
    let grace = create_timeout * 4;
    let users = Arc::new(SlowInserts {
        inner: Arc::clone(&real.users),
        delay: Duration::from_millis(400),
    });
    let Running {
        base_url,
        service,
        stop: _serving,
        ..
    } = serve(
        real.stores(users, Arc::clone(&real.avatars)),
        &["--create-timeout", "1500ms", "--orphan-grace", "6s"],
    )
    .await;
    tokio::time::sleep(grace + Duration::from_millis(100)).await;

    let client = reqwest::Client::new();
    let creates: Vec<_> = (0..32)
        .map(|index| {
            let request = client
                .post(format!("{base_url}/user"))
                .multipart(create_form(&format!("racer{index}@example.com")))
                .send();
            tokio::spawn(async move { request.await.map(|response| response.status()) })
        })
        .collect();
    // Sweep over and over for as long as the creates run, so sweeps land between their
    // two writes.
    let racing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sweeper = {
        let service = service.clone();
        let racing = Arc::clone(&racing);
        tokio::spawn(async move {
            let mut removed = Vec::new();
            let mut sweeps = 0;
            while racing.load(std::sync::atomic::Ordering::SeqCst) {
                let report = service
                    .sweep_orphans(SweepOptions {
                        grace,
                        dry_run: false,
                    })
                    .await
                    .expect("a sweep");
                removed.extend(report.removed);
                sweeps += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (removed, sweeps)
        })
    };
    for create in creates {
        let status = create.await.unwrap().expect("an answer");
        assert_eq!(status, StatusCode::CREATED);
    }
    racing.store(false, std::sync::atomic::Ordering::SeqCst);
    let (mut removed, sweeps) = sweeper.await.unwrap();
    assert!(sweeps >= 10, "only {sweeps} sweeps raced the creates");
    removed.sort_by_key(AvatarKey::to_string);
    old_orphans.sort_by_key(AvatarKey::to_string);
    assert_eq!(
        removed, old_orphans,
        "the sweep removed exactly the old orphans"
    );

    let objects = real.object_keys().await;
    for index in 0..32 {
        let email = UserEmail::parse(&format!("racer{index}@example.com")).unwrap();
        let user = real
            .users
            .get(&email)
            .await
            .unwrap()
            .expect("every racer was stored");
        assert!(
            objects.contains(&user.avatar),
            "racer{index}'s avatar was swept"
        );
    }
    assert_eq!(objects.len(), 32);
}

both_backends!(
    a_create_whose_client_disconnects_between_the_two_writes_still_finishes,
    a_create_caught_between_its_writes_by_the_shutdown_timeout_still_finishes,
    an_orphan_older_than_the_grace_is_swept_and_a_fresh_one_is_not,
    a_sweep_racing_32_concurrent_creates_never_removes_an_avatar_a_user_points_at,
);
