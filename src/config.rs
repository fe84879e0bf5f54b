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

    /// How long in-flight requests may finish after SIGTERM or SIGINT (e.g. 20s, 1m).
    #[arg(long, env = "ROSTER_SHUTDOWN_TIMEOUT", default_value = "20s", value_parser = humantime::parse_duration, global = true)]
    pub shutdown_timeout: Duration,

    /// Log line format.
    #[arg(long, env = "ROSTER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Users read from the store per step of a full GET /users listing.
    #[arg(long, env = "ROSTER_LIST_PAGE_SIZE", default_value_t = 500, value_parser = clap::value_parser!(u16).range(1..=1000), global = true)]
    pub list_page_size: u16,
}

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
