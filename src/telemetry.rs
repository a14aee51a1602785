//! Logging: human-readable text by default, JSON lines for log pipelines (`PAYDESK_LOG_FORMAT=json`). Colours
//! only when stdout is a terminal and `NO_COLOR` is unset, so files and pipes get plain text.

use std::io::IsTerminal;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Installs the global subscriber; `RUST_LOG` overrides the default `info` level.
pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if format == "json" {
        registry.with(fmt::layer().json().with_current_span(true).with_span_list(false)).try_init()
    } else {
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        registry.with(fmt::layer().with_ansi(colour)).try_init()
    };
    // A second call (tests starting several servers) keeps the first subscriber.
    let _ = result;
}
