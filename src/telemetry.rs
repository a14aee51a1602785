//! Logging: human-readable text by default, JSON lines for log pipelines (`PAYDESK_LOG_FORMAT=json`).

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Installs the global subscriber; `RUST_LOG` overrides the default `info` level.
pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if format == "json" {
        registry.with(fmt::layer().json().with_current_span(true).with_span_list(false)).try_init()
    } else {
        registry.with(fmt::layer()).try_init()
    };
    // A second call (tests starting several servers) keeps the first subscriber.
    let _ = result;
}
