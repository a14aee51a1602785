//! Logging and traces. Logs: human-readable text by default, JSON lines for log pipelines
//! (`PAYDESK_LOG_FORMAT=json`); colours only when stdout is a terminal and `NO_COLOR` is unset. Traces:
//! OpenTelemetry over OTLP (HTTP/protobuf), on only when `OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (and `OTEL_SDK_DISABLED` is not `true`); the SDK reads the other
//! standard `OTEL_*` variables itself (headers, timeout, sampler, batch sizes, resource attributes). With traces on,
//! each JSON log line carries the `trace_id` and `span_id` it was written in.

use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::io::IsTerminal;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// What `init` started; `shutdown` sends the spans still queued before the process ends.
#[derive(Default)]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    pub fn shutdown(self) {
        if let Some(provider) = self.traces {
            if let Err(e) = provider.shutdown() {
                eprintln!("paydesk: sending the last traces failed: {e}");
            }
        }
    }
}

/// Installs the global subscriber; `RUST_LOG` overrides the default `info` level. Fails only on a trace setting
/// that cannot work, naming it.
pub fn init(format: &str) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let traces = exporter()?;
    let otel = traces.as_ref().map(|provider| {
        use opentelemetry::trace::TracerProvider;
        tracing_opentelemetry::layer().with_tracer(provider.tracer("paydesk"))
    });
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let result = if format == "json" {
        let lines = TraceIds(fmt::format().json().with_current_span(true).with_span_list(false));
        registry.with(fmt::layer().json().event_format(lines)).try_init()
    } else {
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        registry.with(fmt::layer().with_ansi(colour)).try_init()
    };
    // A second call (tests starting several servers) keeps the first subscriber.
    if let (Ok(()), Some(provider)) = (&result, &traces) {
        opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
        // The statements' spans (`paydesk_core::traces::statement`) are made with the global tracer.
        opentelemetry::global::set_tracer_provider(provider.clone());
        paydesk_core::traces::enable();
    }
    Ok(Telemetry { traces })
}

/// The trace provider, when an OTLP endpoint is configured.
fn exporter() -> anyhow::Result<Option<SdkTracerProvider>> {
    let set = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let endpoint = set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| set("OTEL_EXPORTER_OTLP_ENDPOINT"));
    let disabled = set("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || set("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"));
    let Some(endpoint) = endpoint.filter(|_| !disabled) else { return Ok(None) };
    for name in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
        if let Some(protocol) = set(name).filter(|p| p != "http/protobuf") {
            anyhow::bail!(
                "{name}={protocol}: paydesk sends traces as OTLP over HTTP/protobuf only; set it to http/protobuf \
                 (a collector's port 4318) or unset it"
            );
        }
    }
    anyhow::ensure!(
        endpoint.starts_with("http://"),
        "the OTLP endpoint {endpoint} is not an http:// URL: paydesk sends traces in plain HTTP/protobuf to a \
         collector or agent beside it (usually http://127.0.0.1:4318), which forwards them over TLS"
    );
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()
        .map_err(|e| anyhow::anyhow!("the OTLP exporter for {endpoint}: {e}"))?;
    let mut resource = opentelemetry_sdk::Resource::builder()
        .with_attribute(opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    if set("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("paydesk");
    }
    Ok(Some(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource.build()).build()))
}

/// JSON log lines with the `trace_id` and `span_id` of the span they were written in, when traces are on.
struct TraceIds<F>(F);

impl<S, N, F> FormatEvent<S, N> for TraceIds<F>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let context = paydesk_core::traces::on()
            .then(|| ctx.parent_span().map(|span| span.id()))
            .flatten()
            .and_then(|id| tracing::dispatcher::get_default(|d| tracing_opentelemetry::get_otel_context(&id, d)));
        let Some(context) = context.filter(|cx| cx.span().span_context().is_valid()) else {
            return self.0.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        let ids = context.span().span_context().clone();
        match line.strip_prefix('{') {
            Some(rest) => {
                write!(writer, "{{\"trace_id\":\"{}\",\"span_id\":\"{}\",{rest}", ids.trace_id(), ids.span_id())
            }
            None => writer.write_str(&line),
        }
    }
}
