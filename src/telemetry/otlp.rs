//! The OTLP span exporter, configured only by OpenTelemetry's own variables:
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`) turns export on,
//! `OTEL_EXPORTER_OTLP_PROTOCOL` (or `…_TRACES_PROTOCOL`) picks `http/protobuf` (the
//! default) or `grpc`, `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` describe us.

use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

const DEFAULT_SERVICE_NAME: &str = "roster";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "bad setting OTEL_EXPORTER_OTLP_PROTOCOL: {0:?} is not supported; use http/protobuf or grpc"
    )]
    UnsupportedProtocol(String),
    #[error("cannot set up the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
}

#[derive(Debug, PartialEq, Eq)]
enum Protocol {
    HttpProtobuf,
    Grpc,
}

pub fn tracer_provider_from_env() -> Result<SdkTracerProvider, ExportError> {
    let builder = SdkTracerProvider::builder().with_resource(resource());
    let Some(protocol) = export_protocol()? else {
        // Nothing leaves the process, so nothing needs recording: spans still get ids
        // (for the logs and for continuing a caller's trace) but cost no span data.
        return Ok(builder.with_sampler(Sampler::AlwaysOff).build());
    };
    let exporter = match protocol {
        Protocol::HttpProtobuf => SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .build()?,
        Protocol::Grpc => SpanExporter::builder().with_tonic().build()?,
    };
    Ok(builder.with_batch_exporter(exporter).build())
}

/// The protocol to export with, or `None` when no endpoint is configured.
fn export_protocol() -> Result<Option<Protocol>, ExportError> {
    let configured = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    if configured("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .or_else(|| configured("OTEL_EXPORTER_OTLP_ENDPOINT"))
        .is_none()
    {
        return Ok(None);
    }
    let protocol = configured("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        .or_else(|| configured("OTEL_EXPORTER_OTLP_PROTOCOL"))
        .unwrap_or_else(|| "http/protobuf".to_owned());
    parse_protocol(&protocol).map(Some)
}

fn parse_protocol(raw: &str) -> Result<Protocol, ExportError> {
    match raw {
        "http/protobuf" => Ok(Protocol::HttpProtobuf),
        "grpc" => Ok(Protocol::Grpc),
        other => Err(ExportError::UnsupportedProtocol(other.to_owned())),
    }
}

/// The SDK reads `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` itself; without a
/// service name anywhere, we are `roster` rather than `unknown_service`.
fn resource() -> Resource {
    let named_by_environment = std::env::var_os("OTEL_SERVICE_NAME").is_some()
        || std::env::var("OTEL_RESOURCE_ATTRIBUTES")
            .is_ok_and(|attributes| attributes.contains("service.name="));
    let builder = Resource::builder().with_attribute(opentelemetry::KeyValue::new(
        "service.version",
        env!("CARGO_PKG_VERSION"),
    ));
    if named_by_environment {
        builder.build()
    } else {
        builder.with_service_name(DEFAULT_SERVICE_NAME).build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_two_supported_protocols_only() {
        assert_eq!(
            parse_protocol("http/protobuf").unwrap(),
            Protocol::HttpProtobuf
        );
        assert_eq!(parse_protocol("grpc").unwrap(), Protocol::Grpc);
        let refused = parse_protocol("http/json").unwrap_err().to_string();
        assert!(refused.contains("OTEL_EXPORTER_OTLP_PROTOCOL"), "{refused}");
    }
}
