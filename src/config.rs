//! Every setting, as a flag and an environment variable, parsed and checked before the
//! port opens. `roster --help` documents each one.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// 25 megapixels: above any phone camera's photo, far below what would make a client's
/// decoder struggle.
pub const DEFAULT_MAX_AVATAR_PIXELS: u64 = 25_000_000;

#[derive(Debug, Parser)]
#[command(
    name = "roster",
    version,
    about = "User-management service with avatar images"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default when no command is given).
    Serve,
    /// Print the OpenAPI document as JSON and exit, without serving.
    Openapi,
    /// Remove, once, the avatar objects no user points at that are older than the grace
    /// period, with the same settings as the server; print what was removed.
    SweepOrphans {
        /// Print what would be removed, remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// Only objects older than this are removed (default: ROSTER_ORPHAN_GRACE).
        #[arg(long, value_parser = humantime::parse_duration)]
        grace: Option<Duration>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// Users in a redb file and avatars as files under the data directory.
    Embedded,
    /// Users in DynamoDB and avatars in S3.
    Aws,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    /// One JSON object a line, with trace and span ids.
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to serve on.
    #[arg(
        long,
        env = "ROSTER_LISTEN",
        default_value = "0.0.0.0:8080",
        global = true
    )]
    pub listen: SocketAddr,

    /// Where users and avatars are kept.
    #[arg(long, env = "ROSTER_BACKEND", value_enum, default_value_t = Backend::Embedded, global = true)]
    pub backend: Backend,

    /// Directory of the embedded backend's database and avatar files.
    #[arg(long, env = "ROSTER_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// DynamoDB table of the aws backend.
    #[arg(long, env = "ROSTER_TABLE", default_value = "users", value_parser = parse_table_name, global = true)]
    pub table: String,

    /// S3 bucket of the aws backend.
    #[arg(long, env = "ROSTER_BUCKET", default_value = "roster-avatars", value_parser = parse_bucket_name, global = true)]
    pub bucket: String,

    /// Base of every avatar_url (a CDN, or the emulator's bucket URL). Unset or empty:
    /// the bucket's S3 URL for the aws backend, site-relative /avatars/… for embedded.
    #[arg(long, env = "ROSTER_AVATAR_BASE_URL", value_parser = parse_base_url, global = true)]
    avatar_base_url: Option<String>,

    /// Largest avatar accepted, in bytes; larger uploads get 413.
    #[arg(long, env = "ROSTER_MAX_AVATAR_BYTES", default_value_t = 5_242_880, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub max_avatar_bytes: u64,

    /// Most pixels (width × height, read from the image header) an avatar may declare.
    #[arg(long, env = "ROSTER_MAX_AVATAR_PIXELS", default_value_t = DEFAULT_MAX_AVATAR_PIXELS, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub max_avatar_pixels: u64,

    /// Most frames an animated avatar may have (every viewer decodes them all).
    #[arg(long, env = "ROSTER_MAX_AVATAR_FRAMES", default_value_t = roster_imaging::DEFAULT_MAX_FRAMES, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_avatar_frames: u32,

    /// Most pixels an animated avatar may have over all its frames together.
    #[arg(long, env = "ROSTER_MAX_AVATAR_TOTAL_PIXELS", default_value_t = roster_imaging::DEFAULT_MAX_TOTAL_PIXELS, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub max_avatar_total_pixels: u64,

    /// How long in-flight requests may finish after SIGTERM or SIGINT (e.g. 20s, 1m).
    #[arg(long, env = "ROSTER_SHUTDOWN_TIMEOUT", default_value = "20s", value_parser = humantime::parse_duration, global = true)]
    pub shutdown_timeout: Duration,

    /// Log line format.
    #[arg(long, env = "ROSTER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Users read from the store per step of a full GET /users listing.
    #[arg(long, env = "ROSTER_LIST_PAGE_SIZE", default_value_t = 500, value_parser = clap::value_parser!(u16).range(1..=1000), global = true)]
    pub list_page_size: u16,

    /// A connection must deliver a complete request head within this, from accept (or
    /// from the first byte of a later request on it); else it is closed.
    #[arg(long, env = "ROSTER_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = positive_duration, global = true)]
    pub header_read_timeout: Duration,

    /// An idle keep-alive connection is closed after this. Keep it longer than the load
    /// balancer's idle timeout (60 s on an ALB), so the balancer never reuses a connection
    /// the server is closing.
    #[arg(long, env = "ROSTER_KEEPALIVE_TIMEOUT", default_value = "75s", value_parser = positive_duration, global = true)]
    pub keepalive_timeout: Duration,

    /// A response the client stops reading is abandoned after this without progress.
    #[arg(long, env = "ROSTER_SEND_TIMEOUT", default_value = "30s", value_parser = positive_duration, global = true)]
    pub send_timeout: Duration,

    /// Longest silence while an upload's body is read; then 408.
    #[arg(long, env = "ROSTER_UPLOAD_STALL_TIMEOUT", default_value = "15s", value_parser = positive_duration, global = true)]
    pub upload_stall_timeout: Duration,

    /// The whole POST /user body must arrive within this (5 MiB in 60 s needs about
    /// 0.7 Mbit/s); then 408.
    #[arg(long, env = "ROSTER_UPLOAD_DEADLINE", default_value = "60s", value_parser = positive_duration, global = true)]
    pub upload_deadline: Duration,

    /// A create's work after its body arrived (stripping, store writes, undo); then 503
    /// and nothing stored.
    #[arg(long, env = "ROSTER_CREATE_TIMEOUT", default_value = "15s", value_parser = positive_duration, global = true)]
    pub create_timeout: Duration,

    /// Connections served at once (past their first byte). Up to 4 times as many more may
    /// wait silent in a lobby that holds no buffer; past that, new ones wait in the kernel's
    /// backlog.
    #[arg(long, env = "ROSTER_MAX_CONNECTIONS", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..=1_000_000), global = true)]
    pub max_connections: u32,

    /// Upload spool space, in full-size uploads: at most this × 2 × ROSTER_MAX_AVATAR_BYTES
    /// bytes of temporary disk, shared by the bytes clients actually sent.
    #[arg(long, env = "ROSTER_CONCURRENT_UPLOADS", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=100_000), global = true)]
    pub concurrent_uploads: u32,

    /// How often the server removes avatar objects no user points at; 0s turns it off.
    #[arg(long, env = "ROSTER_ORPHAN_SWEEP_INTERVAL", default_value = "1h", value_parser = humantime::parse_duration, global = true)]
    pub orphan_sweep_interval: Duration,

    /// Only avatar objects older than this are swept; at least 4 × ROSTER_CREATE_TIMEOUT.
    #[arg(long, env = "ROSTER_ORPHAN_GRACE", default_value = "15m", value_parser = humantime::parse_duration, global = true)]
    pub orphan_grace: Duration,

    /// Cache-Control max-age of stored avatars (S3 metadata and GET /avatars/{key}), so a
    /// CDN stops serving a deleted avatar within it.
    #[arg(long, env = "ROSTER_AVATAR_MAX_AGE", default_value = "300s", value_parser = humantime::parse_duration, global = true)]
    pub avatar_max_age: Duration,
}

/// How many create timeouts the orphan grace must span: a create that wrote an object is
/// over (finished, undone, or given up) long before its object can be swept.
pub const ORPHAN_GRACE_IN_CREATE_TIMEOUTS: u32 = 4;

/// Renders a clap failure as the single line start-up prints, naming both the flag and the
/// environment variable behind it. Help and version output pass through untouched.
pub fn explain(error: &clap::Error) -> Option<String> {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return None;
    }
    let context = |kind| match error.get(kind) {
        Some(ContextValue::String(value)) => Some(value.clone()),
        _ => None,
    };
    let first_line = error
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned();
    let Some(argument) = context(ContextKind::InvalidArg) else {
        return Some(format!("roster: {first_line}"));
    };
    let flag = argument.split_whitespace().next().unwrap_or(&argument);
    let variable = format!(
        "ROSTER_{}",
        flag.trim_start_matches('-')
            .replace('-', "_")
            .to_uppercase()
    );
    Some(format!(
        "roster: bad setting {variable} ({flag}): {first_line}"
    ))
}

impl Settings {
    /// The configured avatar base URL; an empty value counts as unset, so a deployment
    /// can clear it without removing the variable.
    pub fn avatar_base_url(&self) -> Option<&str> {
        self.avatar_base_url
            .as_deref()
            .filter(|base| !base.is_empty())
    }

    /// Checks what no single setting can: that they fit together. The error is the one
    /// line start-up prints.
    pub fn check(&self) -> Result<(), String> {
        let floor = self.create_timeout * ORPHAN_GRACE_IN_CREATE_TIMEOUTS;
        if self.orphan_grace < floor {
            return Err(format!(
                "roster: bad setting ROSTER_ORPHAN_GRACE (--orphan-grace): {} is less than \
                 {ORPHAN_GRACE_IN_CREATE_TIMEOUTS} × ROSTER_CREATE_TIMEOUT ({}), so the sweep \
                 could remove the avatar of a create in progress",
                humantime::format_duration(self.orphan_grace),
                humantime::format_duration(floor),
            ));
        }
        Ok(())
    }

    /// Bytes of temporary disk uploads may use at once.
    pub fn upload_spool_bytes(&self) -> u64 {
        u64::from(self.concurrent_uploads)
            .saturating_mul(2)
            .saturating_mul(self.max_avatar_bytes)
    }

    /// The `Cache-Control` of every stored avatar.
    pub fn avatar_cache_control(&self) -> String {
        format!("public, max-age={}", self.avatar_max_age.as_secs())
    }
}

fn positive_duration(raw: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(raw).map_err(|error| error.to_string())?;
    if duration.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(duration)
}

fn parse_table_name(raw: &str) -> Result<String, String> {
    let valid_length = (3..=255).contains(&raw.len());
    let valid_characters = raw
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'));
    if valid_length && valid_characters {
        Ok(raw.to_owned())
    } else {
        Err("a DynamoDB table name has 3 to 255 characters: letters, digits, _ - .".into())
    }
}

fn parse_bucket_name(raw: &str) -> Result<String, String> {
    let valid_length = (3..=63).contains(&raw.len());
    let valid_characters = raw.bytes().all(|byte| {
        byte.is_ascii_lowercase() || byte.is_ascii_digit() || matches!(byte, b'-' | b'.')
    });
    let valid_ends = raw
        .bytes()
        .next()
        .zip(raw.bytes().last())
        .is_some_and(|(first, last)| first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric());
    if valid_length && valid_characters && valid_ends && !raw.contains("..") {
        Ok(raw.to_owned())
    } else {
        Err("an S3 bucket name has 3 to 63 lowercase letters, digits, - or ., starting and ending with a letter or digit".into())
    }
}

fn parse_base_url(raw: &str) -> Result<String, String> {
    if raw.is_empty() {
        return Ok(String::new());
    }
    let trimmed = raw.trim_end_matches('/');
    let Some((scheme, rest)) = trimmed.split_once("://") else {
        return Err("must be an absolute http:// or https:// URL".into());
    };
    if !matches!(scheme, "http" | "https") || rest.is_empty() || rest.contains(char::is_whitespace)
    {
        return Err("must be an absolute http:// or https:// URL".into());
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(arguments: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("roster").chain(arguments.iter().copied()))
    }

    #[test]
    fn defaults_match_the_spec() {
        let settings = parse(&[]).unwrap().settings;
        assert_eq!(settings.listen, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(settings.backend, Backend::Embedded);
        assert_eq!(settings.data_dir, PathBuf::from("./data"));
        assert_eq!(settings.table, "users");
        assert_eq!(settings.bucket, "roster-avatars");
        assert_eq!(settings.avatar_base_url(), None);
        assert_eq!(settings.max_avatar_bytes, 5_242_880);
        assert_eq!(settings.max_avatar_pixels, DEFAULT_MAX_AVATAR_PIXELS);
        assert_eq!(settings.shutdown_timeout, Duration::from_secs(20));
        assert_eq!(settings.log_format, LogFormat::Text);
        assert_eq!(settings.header_read_timeout, Duration::from_secs(10));
        assert_eq!(settings.keepalive_timeout, Duration::from_secs(75));
        assert_eq!(settings.upload_deadline, Duration::from_secs(60));
        assert_eq!(settings.upload_spool_bytes(), 16 * 2 * 5_242_880);
        assert_eq!(settings.avatar_cache_control(), "public, max-age=300");
        assert!(settings.check().is_ok());
    }

    #[test]
    fn a_grace_too_short_for_the_create_timeout_is_refused_in_one_line() {
        let settings = parse(&["--create-timeout", "30s", "--orphan-grace", "1m"])
            .unwrap()
            .settings;
        let line = settings.check().unwrap_err();
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("ROSTER_ORPHAN_GRACE"), "{line}");
        assert!(line.contains("2m"), "{line}");
    }

    #[test]
    fn the_sweep_command_takes_a_dry_run_and_a_grace() {
        let cli = parse(&["sweep-orphans", "--dry-run", "--grace", "2h"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::SweepOrphans { dry_run: true, grace: Some(grace) }) if grace == Duration::from_secs(7200)
        ));
    }

    #[test]
    fn a_bad_value_is_explained_in_one_line_naming_the_variable() {
        let error = parse(&["--listen", "not-an-address"]).unwrap_err();
        let line = explain(&error).unwrap();
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("ROSTER_LISTEN"), "{line}");
        assert!(line.contains("--listen"), "{line}");
        assert!(line.contains("not-an-address"), "{line}");
    }

    #[test]
    fn rejects_zero_limits_and_bad_durations() {
        for arguments in [
            ["--max-avatar-bytes", "0"],
            ["--max-avatar-pixels", "0"],
            ["--shutdown-timeout", "soon"],
            ["--backend", "postgres"],
            ["--log-format", "xml"],
            ["--list-page-size", "1001"],
            ["--header-read-timeout", "0s"],
            ["--max-connections", "0"],
            ["--concurrent-uploads", "0"],
        ] {
            let error = parse(&arguments).unwrap_err();
            let line = explain(&error).unwrap();
            let variable = format!(
                "ROSTER_{}",
                arguments[0]
                    .trim_start_matches("--")
                    .replace('-', "_")
                    .to_uppercase()
            );
            assert!(line.contains(&variable), "{line}");
        }
    }

    #[test]
    fn validates_aws_resource_names() {
        assert!(parse(&["--table", "ab"]).is_err());
        assert!(parse(&["--table", "users table"]).is_err());
        assert!(parse(&["--table", "roster-users_v1.0"]).is_ok());
        assert!(parse(&["--bucket", "Roster"]).is_err());
        assert!(parse(&["--bucket", "-roster"]).is_err());
        assert!(parse(&["--bucket", "ro..ster"]).is_err());
        assert!(parse(&["--bucket", "roster-avatars.example"]).is_ok());
    }

    #[test]
    fn accepts_only_absolute_http_base_urls_and_drops_a_trailing_slash() {
        let settings = parse(&["--avatar-base-url", "http://127.0.0.1:5000/roster-avatars/"])
            .unwrap()
            .settings;
        assert_eq!(
            settings.avatar_base_url(),
            Some("http://127.0.0.1:5000/roster-avatars")
        );
        let cleared = parse(&["--avatar-base-url", ""]).unwrap().settings;
        assert_eq!(cleared.avatar_base_url(), None);
        assert!(parse(&["--avatar-base-url", "/avatars"]).is_err());
        assert!(parse(&["--avatar-base-url", "ftp://cdn.example"]).is_err());
    }

    #[test]
    fn openapi_is_a_subcommand() {
        assert!(matches!(
            parse(&["openapi"]).unwrap().command,
            Some(Command::Openapi)
        ));
    }
}
