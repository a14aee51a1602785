//! Trace context beyond the server's own spans: whether traces are on (the server turns them on when an OTLP
//! endpoint is configured), the W3C `traceparent` that calls to Cashfree and to the marketplace's callback carry,
//! the one a notification keeps for its delivery later (maybe by another instance), and a span per SQL statement.
//! Off, each of these costs one relaxed atomic load.

use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::KeyValue;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};
use tracing_opentelemetry::OpenTelemetrySpanExt;

static ON: AtomicBool = AtomicBool::new(false);

/// Turns trace context on for this process (once its exporter and propagator are installed).
pub fn enable() {
    ON.store(true, Ordering::Relaxed);
}

/// Whether traces are exported.
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// The current span's W3C trace context as headers to send (`traceparent`, and `tracestate` if any); none when
/// traces are off.
pub fn headers() -> reqwest::header::HeaderMap {
    carrier()
        .into_iter()
        .filter_map(|(k, v)| Some((k.parse::<reqwest::header::HeaderName>().ok()?, v.parse().ok()?)))
        .collect()
}

/// The current span's `traceparent`, for work done later on its behalf.
pub fn traceparent() -> Option<String> {
    carrier().remove("traceparent")
}

fn carrier() -> HashMap<String, String> {
    let mut carrier = HashMap::new();
    if on() {
        let cx = tracing::Span::current().context();
        if cx.span().span_context().is_valid() {
            opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut carrier));
        }
    }
    carrier
}

/// Makes `span` part of the trace a received or kept `traceparent` names (nothing if traces are off or there is
/// none). A malformed value is ignored, as W3C asks: the span starts a trace of its own.
pub fn continue_trace<'a>(span: &tracing::Span, fields: impl IntoIterator<Item = (&'a str, &'a str)>) {
    if !on() {
        return;
    }
    let carrier: HashMap<String, String> = fields.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&carrier));
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
}

/// Sets an attribute on `span`'s exported span (nothing when traces are off).
pub fn attribute(span: &tracing::Span, key: &'static str, value: impl Into<opentelemetry::Value>) {
    if on() {
        span.set_attribute(key, value);
    }
}

/// Marks `span`'s exported span failed, saying why.
pub fn failed(span: &tracing::Span, why: impl Into<std::borrow::Cow<'static, str>>) {
    if on() {
        span.set_status(Status::error(why));
    }
}

/// Runs `work` inside `span`, and marks the span failed with the error when it fails: a call made on a trace's
/// behalf (to Cashfree, to the marketplace's callback).
pub async fn within<T, E: std::fmt::Display>(
    span: tracing::Span,
    work: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let outcome = tracing::Instrument::instrument(work, span.clone()).await;
    if let (Err(e), true) = (&outcome, on()) {
        failed(&span, e.to_string());
    }
    outcome
}

/// One SQL statement that has just ended after `elapsed`, as a client span under the current span. Statements
/// outside any sampled trace (the background sweeps' polling) make no span. The text is the statement with its
/// placeholders: values (amounts, names) never leave the process.
pub fn statement(system: &'static str, sql: &str, elapsed: Duration, failed: bool) {
    if !on() {
        return;
    }
    let parent = tracing::Span::current().context();
    if !parent.span().span_context().is_sampled() {
        return;
    }
    let end = SystemTime::now();
    let tracer = opentelemetry::global::tracer("paydesk");
    let mut span = tracer
        .span_builder(summary(sql))
        .with_kind(SpanKind::Client)
        .with_start_time(end.checked_sub(elapsed).unwrap_or(end))
        .with_attributes([KeyValue::new("db.system.name", system), KeyValue::new("db.query.text", sql.to_owned())])
        .start_with_context(&tracer, &parent);
    if failed {
        opentelemetry::trace::Span::set_status(&mut span, Status::error("the statement failed"));
    }
    opentelemetry::trace::Span::end_with_timestamp(&mut span, end);
}

/// A statement's span name: its operation and the table it works on (`SELECT payouts`, `INSERT audit_log`).
fn summary(sql: &str) -> String {
    let mut words = sql.split_whitespace();
    let operation = words.next().unwrap_or("SQL").to_ascii_uppercase();
    let table = sql
        .split_whitespace()
        .skip_while(|w| !matches!(w.to_ascii_uppercase().as_str(), "FROM" | "INTO" | "UPDATE"))
        .nth(1)
        .map(|t| t.trim_matches(|c: char| c == '"' || c == '`' || c == '(' || c == ','));
    match table {
        Some(t) if !t.is_empty() => format!("{operation} {t}"),
        _ => operation,
    }
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn a_statement_is_named_by_its_operation_and_table() {
        assert_eq!(summary(r#"SELECT "payouts"."id" FROM "payouts" WHERE "id" = $1"#), "SELECT payouts");
        assert_eq!(summary(r#"INSERT INTO "audit_log" ("id") VALUES ($1)"#), "INSERT audit_log");
        assert_eq!(summary(r#"UPDATE "notifications" SET "read_at" = $1"#), "UPDATE notifications");
        assert_eq!(summary("BEGIN IMMEDIATE"), "BEGIN");
        assert_eq!(summary("select 1"), "SELECT");
    }
}
