//! Logs and metrics. The subscriber is built separately from being installed, so tests can
//! run many apps in one process without fighting over the global default.

pub mod metrics;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt;
use tracing_subscriber::layer::SubscriberExt;

use crate::config::LogFormat;

/// Without `RUST_LOG`: info, except the SDK's warning that instance metadata has no
/// region, which is the normal case off EC2 and would bury start-up errors.
const DEFAULT_LOG_FILTER: &str = "info,aws_config::imds::region=error";

/// A subscriber writing to stderr in the chosen format, filtered by `RUST_LOG`.
pub fn subscriber(format: LogFormat) -> Box<dyn Subscriber + Send + Sync> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Text => Box::new(registry.with(fmt::layer().with_writer(std::io::stderr))),
        LogFormat::Json => Box::new(
            registry.with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            ),
        ),
    }
}

/// Installs the subscriber for the whole process; a second call changes nothing.
pub fn install(subscriber: Box<dyn Subscriber + Send + Sync>) {
    let _ = tracing::subscriber::set_global_default(subscriber);
}
