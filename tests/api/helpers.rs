//! Runs the real `roster` binary, one process per test, on 127.0.0.1 and a port the
//! system picks, against a fresh data directory or a fresh DynamoDB table and S3 bucket
//! in a moto server shared by the whole test binary.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use reqwest::multipart::{Form, Part};
use tempfile::TempDir;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Aws,
}

pub const REGION: &str = "us-east-1";

pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    pub data_dir: TempDir,
    pub aws: Option<AwsResources>,
    pub logs: Arc<Mutex<Vec<String>>>,
    extra_env: Vec<(String, String)>,
    child: Child,
}

pub struct AwsResources {
    pub endpoint: String,
    pub table: String,
    pub bucket: String,
    /// What the roster process runs with.
    pub roster_credentials: Credentials,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// Starts roster with extra settings (`("ROSTER_MAX_AVATAR_BYTES", "1024")`, …).
    pub async fn spawn_with(backend: Backend, extra_env: &[(&str, &str)]) -> Self {
        let aws = match backend {
            Backend::Embedded => None,
            Backend::Aws => Some(AwsResources::create(moto_endpoint()).await),
        };
        Self::start(backend, aws, extra_env)
    }

    /// Starts roster on the AWS backend against the table and bucket the environment names
    /// (see [`AwsResources::provided_or_fresh`]).
    pub async fn spawn_provisioned() -> Self {
        let aws = AwsResources::provided_or_fresh().await;
        Self::start(Backend::Aws, Some(aws), &[])
    }

    /// Starts roster on the AWS backend against a moto of the test's own.
    pub async fn spawn_on_moto(endpoint: &str, extra_env: &[(&str, &str)]) -> Self {
        let aws = AwsResources::create(endpoint).await;
        Self::start(Backend::Aws, Some(aws), extra_env)
    }

    fn start(backend: Backend, aws: Option<AwsResources>, extra_env: &[(&str, &str)]) -> Self {
        let data_dir = TempDir::new().expect("temporary data directory");
        let extra_env: Vec<(String, String)> = extra_env
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (child, address) = start_process(backend, &data_dir, aws.as_ref(), &extra_env, &logs);
        Self {
            base_url: format!("http://{address}"),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("HTTP client"),
            backend,
            data_dir,
            aws,
            logs,
            extra_env,
            child,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Stops the process with SIGTERM, waits for it, and starts it again on the same data.
    pub fn restart(&mut self) {
        self.terminate();
        let (child, address) = start_process(
            self.backend,
            &self.data_dir,
            self.aws.as_ref(),
            &self.extra_env,
            &self.logs,
        );
        self.child = child;
        self.base_url = format!("http://{address}");
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        if let Some(status) = self.child.try_wait().expect("roster's status") {
            return status;
        }
        self.send_sigterm();
        self.child.wait().expect("roster exits")
    }

    pub fn send_sigterm(&self) {
        signal(self.child.id(), "-TERM");
    }

    /// The exit status once the process has ended, waiting at most `limit`.
    pub async fn exit_status_within(
        &mut self,
        limit: Duration,
    ) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("roster's status") {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    pub async fn create_user(&self, name: &str, email: &str, avatar: Vec<u8>) -> reqwest::Response {
        let form = Form::new()
            .text("name", name.to_owned())
            .text("email", email.to_owned())
            .part("avatar", Part::bytes(avatar).file_name("avatar.bin"));
        self.post_form(form).await
    }

    pub async fn post_form(&self, form: Form) -> reqwest::Response {
        self.client
            .post(self.url("/user"))
            .multipart(form)
            .send()
            .await
            .expect("POST /user")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .send()
            .await
            .expect("DELETE")
    }

    /// The content type and bytes behind an `avatar_url`: over HTTP from the embedded
    /// backend, through the SDK from the bucket (moto keeps objects private, as AWS does).
    pub async fn fetch_avatar(&self, avatar_url: &str) -> (String, Vec<u8>) {
        match &self.aws {
            None => {
                let response = self.get(avatar_url).await;
                assert_eq!(response.status(), reqwest::StatusCode::OK, "{avatar_url}");
                let content_type = response.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .to_owned();
                (content_type, response.bytes().await.unwrap().to_vec())
            }
            Some(aws) => {
                let (_, key) = avatar_url
                    .split_once("/avatars/")
                    .unwrap_or_else(|| panic!("{avatar_url} names no avatar key"));
                let object = aws
                    .s3
                    .get_object()
                    .bucket(&aws.bucket)
                    .key(format!("avatars/{key}"))
                    .send()
                    .await
                    .expect("the avatar object exists");
                let content_type = object.content_type().unwrap_or_default().to_owned();
                let bytes = object
                    .body
                    .collect()
                    .await
                    .expect("object body")
                    .into_bytes();
                (content_type, bytes.to_vec())
            }
        }
    }

    /// How many avatar objects the backend holds.
    pub async fn stored_avatar_count(&self) -> usize {
        match &self.aws {
            None => std::fs::read_dir(self.data_dir.path().join("avatars"))
                .map(|entries| entries.count())
                .unwrap_or(0),
            Some(aws) => aws.object_keys().await.len(),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_process(
    backend: Backend,
    data_dir: &TempDir,
    aws: Option<&AwsResources>,
    extra_env: &[(String, String)],
    logs: &Arc<Mutex<Vec<String>>>,
) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
    command
        .env_clear()
        .env("ROSTER_LISTEN", "127.0.0.1:0")
        .env("ROSTER_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env("ROSTER_DATA_DIR", data_dir.path())
        .env("ROSTER_SHUTDOWN_TIMEOUT", "5s")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    match (backend, aws) {
        (Backend::Aws, Some(aws)) => {
            command
                .env("ROSTER_BACKEND", "aws")
                .env("ROSTER_TABLE", &aws.table)
                .env("ROSTER_BUCKET", &aws.bucket)
                .env(
                    "ROSTER_AVATAR_BASE_URL",
                    format!("{}/{}", aws.endpoint, aws.bucket),
                )
                .env("AWS_ENDPOINT_URL", &aws.endpoint)
                .env("AWS_REGION", REGION)
                .env("AWS_ACCESS_KEY_ID", &aws.roster_credentials.key_id)
                .env("AWS_SECRET_ACCESS_KEY", &aws.roster_credentials.secret);
        }
        _ => {
            command.env("ROSTER_BACKEND", "embedded");
        }
    }
    for (key, value) in extra_env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("start roster");
    let stderr = child.stderr.take().expect("roster's stderr");
    let address = wait_for_address(stderr, Arc::clone(logs));
    (child, address)
}

/// Reads roster's JSON log until it says where it serves, then keeps draining the log in
/// the background (a full pipe would block the server) into `logs`.
fn wait_for_address(stderr: impl Read + Send + 'static, logs: Arc<Mutex<Vec<String>>>) -> String {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sender = Some(sender);
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(address) = serving_address(&line)
                && let Some(sender) = sender.take()
            {
                let _ = sender.send(Ok(address));
            }
            logs.lock().expect("log buffer").push(line.clone());
            if line.starts_with("roster:")
                && let Some(sender) = sender.take()
            {
                let _ = sender.send(Err(line));
            }
        }
    });
    match receiver.recv_timeout(Duration::from_secs(30)) {
        Ok(Ok(address)) => address,
        Ok(Err(line)) => panic!("roster failed to start: {line}"),
        Err(_) => panic!("roster did not report its address within 30 s"),
    }
}

fn serving_address(line: &str) -> Option<String> {
    let event: serde_json::Value = serde_json::from_str(line).ok()?;
    (event.get("message")?.as_str()? == "serving")
        .then(|| event.get("address")?.as_str().map(str::to_owned))
        .flatten()
}

/// An access key, as `KEYID:SECRET` in the environment.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub key_id: String,
    pub secret: String,
}

impl Credentials {
    /// What moto accepts when it does not enforce IAM.
    pub fn emulator() -> Self {
        Self {
            key_id: "test".to_owned(),
            secret: "test".to_owned(),
        }
    }

    fn from_env(variable: &str) -> Option<Self> {
        let value = std::env::var(variable).ok()?;
        let (key_id, secret) = value
            .split_once(':')
            .unwrap_or_else(|| panic!("{variable} must be KEYID:SECRET"));
        Some(Self {
            key_id: key_id.to_owned(),
            secret: secret.to_owned(),
        })
    }
}

impl AwsResources {
    pub async fn create(endpoint: &str) -> Self {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let resources = Self::named(
            endpoint,
            format!("users-{unique}"),
            format!("avatars-{unique}"),
            Credentials::emulator(),
            Credentials::emulator(),
        )
        .await;
        resources.create_table_and_bucket().await;
        resources
    }

    /// The table and bucket the environment names, made by someone else (Terraform, in
    /// tests/deploy/terraform): `ROSTER_TEST_AWS_ENDPOINT`, `ROSTER_TEST_AWS_TABLE`,
    /// `ROSTER_TEST_AWS_BUCKET`, and the access keys `ROSTER_TEST_AWS_ADMIN_CREDENTIALS`
    /// (what the tests inspect with) and `ROSTER_TEST_AWS_ROSTER_CREDENTIALS` (what roster
    /// runs with), each `KEYID:SECRET`. Without them, a fresh table and bucket in the
    /// shared moto.
    pub async fn provided_or_fresh() -> Self {
        let named = |variable| std::env::var(variable).ok();
        match (
            named("ROSTER_TEST_AWS_ENDPOINT"),
            named("ROSTER_TEST_AWS_TABLE"),
            named("ROSTER_TEST_AWS_BUCKET"),
        ) {
            (Some(endpoint), Some(table), Some(bucket)) => {
                let admin = Credentials::from_env("ROSTER_TEST_AWS_ADMIN_CREDENTIALS")
                    .unwrap_or_else(Credentials::emulator);
                let roster = Credentials::from_env("ROSTER_TEST_AWS_ROSTER_CREDENTIALS")
                    .unwrap_or_else(|| admin.clone());
                Self::named(&endpoint, table, bucket, admin, roster).await
            }
            (None, None, None) => Self::create(moto_endpoint()).await,
            _ => panic!(
                "set all of ROSTER_TEST_AWS_ENDPOINT, ROSTER_TEST_AWS_TABLE and ROSTER_TEST_AWS_BUCKET, or none"
            ),
        }
    }

    async fn named(
        endpoint: &str,
        table: String,
        bucket: String,
        admin: Credentials,
        roster: Credentials,
    ) -> Self {
        let config = sdk_config_as(endpoint, &admin).await;
        Self {
            endpoint: endpoint.to_owned(),
            table,
            bucket,
            roster_credentials: roster,
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            s3: s3_client_from(&config),
        }
    }

    /// Makes the table and the bucket (again, after an emulator restart).
    pub async fn create_table_and_bucket(&self) {
        self.dynamodb
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("email")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute definition"),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("email")
                    .key_type(KeyType::Hash)
                    .build()
                    .expect("key schema"),
            )
            .send()
            .await
            .expect("create table in moto");
        self.s3
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .expect("create bucket in moto");
    }

    pub async fn object_keys(&self) -> Vec<String> {
        let listing = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .send()
            .await
            .expect("list objects");
        listing
            .contents()
            .iter()
            .filter_map(|object| object.key().map(str::to_owned))
            .collect()
    }
}

pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    sdk_config_as(endpoint, &Credentials::emulator()).await
}

async fn sdk_config_as(endpoint: &str, credentials: &Credentials) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::v2026_01_12())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            &credentials.key_id,
            &credentials.secret,
            None,
            None,
            "tests",
        ))
        .load()
        .await
}

fn s3_client_from(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn signal(pid: u32, signal: &str) {
    let sent = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status();
    assert!(
        sent.is_ok_and(|status| status.success()),
        "could not signal {pid}"
    );
}

/// A moto server process: the shared one, or one a test starts, stops and restarts.
pub struct MotoServer {
    pub endpoint: String,
    // Held open while the server should live: moto exits when it closes.
    stdin: Mutex<Option<ChildStdin>>,
    process: Mutex<Child>,
}

impl MotoServer {
    /// Starts moto on `port` (0: any free port) with the project's venv
    /// (`ROSTER_TEST_PYTHON`, or `.venv/bin/python` made by scripts/test).
    pub fn start(port: u16) -> Self {
        start_moto(port)
    }

    /// Kills the process (an outage: every connection refused from now on).
    pub fn kill(&self) {
        let mut process = self.process.lock().expect("moto process");
        let _ = process.kill();
        let _ = process.wait();
        drop(self.stdin.lock().expect("moto stdin").take());
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The endpoint of the moto server this test binary shares, started on first use.
pub fn moto_endpoint() -> &'static str {
    static MOTO: OnceLock<MotoServer> = OnceLock::new();
    &MOTO.get_or_init(|| start_moto(0)).endpoint
}

/// A port that was free a moment ago, for a server that must come back on the same one.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn start_moto(port: u16) -> MotoServer {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("ROSTER_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv/bin/python"));
    assert!(
        python.exists(),
        "{} is missing: run ./scripts/test, which creates the venv with moto",
        python.display()
    );
    let mut child = Command::new(&python)
        .arg(root.join("tests/support/moto_server.py"))
        .args(["--port", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let stdout = child.stdout.take().expect("moto's stdout");
    let mut first_line = String::new();
    let started = Instant::now();
    BufReader::new(stdout)
        .read_line(&mut first_line)
        .expect("moto prints its port");
    let port = first_line
        .trim()
        .strip_prefix("PORT ")
        .unwrap_or_else(|| panic!("moto said {first_line:?} after {:?}", started.elapsed()));
    MotoServer {
        endpoint: format!("http://127.0.0.1:{port}"),
        stdin: Mutex::new(Some(child.stdin.take().expect("moto's stdin"))),
        process: Mutex::new(child),
    }
}

/// Runs a test body once per backend, as `embedded::name` and `aws::name`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Embedded).await;
                }
            )+
        }
        mod aws {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Aws).await;
                }
            )+
        }
    };
}
