//! Logs, traces and metrics. The subscriber is built separately from being installed, so
//! tests can run many apps in one process without fighting over the global default.
//!
//! Every span gets OpenTelemetry ids, whether or not anything is exported, so log lines
//! carry the trace id of their request and an incoming `traceparent` is always continued.
//! Spans leave the process only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

pub mod metrics;
mod otlp;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt;
use tracing_subscriber::layer::SubscriberExt;

pub use otlp::ExportError;

use crate::config::LogFormat;

/// Without `RUST_LOG`: info, except the SDK's warning that instance metadata has no
/// region, which is the normal case off EC2 and would bury start-up errors.
const DEFAULT_LOG_FILTER: &str = "info,aws_config::imds::region=error";

/// An error and every cause under it, on one line (`outer: inner: root`), for logs: the
/// client never sees this, the operator needs all of it.
pub struct ErrorChain<'a, E: ?Sized>(pub &'a E);

impl<E: std::error::Error + ?Sized> std::fmt::Display for ErrorChain<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}

/// The installed telemetry; [`Telemetry::shutdown`] flushes spans still buffered.
pub struct Telemetry {
    tracer_provider: SdkTracerProvider,
}

impl Telemetry {
    /// Builds the tracer provider from the standard `OTEL_*` variables and installs the
    /// subscriber and the W3C trace-context propagator for the whole process.
    pub fn install(format: LogFormat) -> Result<Self, ExportError> {
        let tracer_provider = otlp::tracer_provider_from_env()?;
        let subscriber = subscriber(format, &tracer_provider);
        let _ = tracing::subscriber::set_global_default(subscriber);
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        Ok(Self { tracer_provider })
    }

    /// Exports what is still buffered; called once the server has drained.
    pub fn shutdown(self) {
        if let Err(error) = self.tracer_provider.shutdown() {
            tracing::warn!(%error, "could not flush traces");
        }
    }
}

/// A subscriber writing to stderr in the chosen format, filtered by `RUST_LOG`, with
/// spans handed to `tracer_provider`.
pub fn subscriber(
    format: LogFormat,
    tracer_provider: &SdkTracerProvider,
) -> Box<dyn Subscriber + Send + Sync> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let traces = tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("roster"));
    let registry = tracing_subscriber::registry().with(filter).with(traces);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn an_error_chain_shows_every_cause() {
        let error = Outer(std::io::Error::other("root cause"));
        assert_eq!(ErrorChain(&error).to_string(), "outer: root cause");
    }
}
