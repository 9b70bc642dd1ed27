//! Logs and traces: tracing to stderr (text or JSON) and, when an endpoint is
//! configured, OpenTelemetry spans exported over OTLP/gRPC.
//!
//! OpenTelemetry's batch processor exports from its own OS thread, where no
//! Tokio reactor runs, while the tonic exporter needs one; [`RuntimeExporter`]
//! gives the exporter a small runtime of its own.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The log filter does not parse.
    #[error("bad log filter {filter:?}: {message}")]
    Filter {
        /// The filter given.
        filter: String,
        /// The parser's complaint.
        message: String,
    },
    /// The exporter's runtime could not start.
    #[error("starting the trace exporter runtime: {0}")]
    Runtime(#[from] std::io::Error),
    /// The OTLP exporter could not be built.
    #[error("building the OTLP exporter: {0}")]
    Exporter(String),
    /// A global subscriber was already installed.
    #[error("installing the log subscriber: {0}")]
    Install(String),
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Keeps the exporter alive; flushes pending spans when shut down.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes and stops the span exporter (if any).
    pub fn shutdown(self) {
        if let Some(provider) = self.provider {
            if let Err(error) = provider.shutdown() {
                eprintln!("trace exporter shutdown: {error}");
            }
        }
    }
}

/// A span exporter driven on its own Tokio runtime.
#[derive(Debug)]
struct RuntimeExporter {
    inner: opentelemetry_otlp::SpanExporter,
    runtime: tokio::runtime::Runtime,
}

impl SpanExporter for RuntimeExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let result = self.runtime.block_on(self.inner.export(batch));
        std::future::ready(result)
    }

    fn shutdown_with_timeout(&mut self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&mut self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

fn otlp_provider(endpoint: &str, service_name: &str) -> Result<SdkTracerProvider, TelemetryError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("otlp-export")
        .enable_all()
        .build()?;
    let inner = {
        let _entered = runtime.enter();
        opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .with_timeout(Duration::from_secs(5))
            .build()
            .map_err(|error| TelemetryError::Exporter(error.to_string()))?
    };
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service_name.to_string())
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(RuntimeExporter { inner, runtime })
        .with_resource(resource)
        .build())
}

/// Installs the global subscriber: logs on stderr in `format`, filtered by
/// `filter`, plus OTLP span export to `otlp_endpoint` when given.
pub fn init(
    format: LogFormat,
    filter: &str,
    otlp_endpoint: Option<&str>,
) -> Result<Telemetry, TelemetryError> {
    let env_filter = EnvFilter::try_new(filter).map_err(|error| TelemetryError::Filter {
        filter: filter.to_string(),
        message: error.to_string(),
    })?;
    let log_layer = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let provider = otlp_endpoint
        .map(|endpoint| otlp_provider(endpoint, "dialogwatch"))
        .transpose()?;
    let trace_layer = provider
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer("dialogwatch")));
    tracing_subscriber::registry()
        .with(env_filter)
        .with(log_layer)
        .with(trace_layer)
        .try_init()
        .map_err(|error| TelemetryError::Install(error.to_string()))?;
    Ok(Telemetry { provider })
}
