//! The installation of llmtrace in each host mode, for tests that run each mode in a child
//! process (`child_process.rs`).

use std::collections::HashMap;

use llmtrace_runtime as llmtrace;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;

/// Installs `builder` (with an empty environment) in host mode `mode` over `provider`: as the
/// OTel provider, or behind a global `tracing` subscriber whose tracing-opentelemetry layer uses
/// it.
pub(crate) fn install(
    builder: llmtrace::Builder,
    mode: &str,
    provider: &SdkTracerProvider,
) -> llmtrace::Guard {
    let builder = builder.env(HashMap::<String, String>::new());
    match mode {
        "provider" => builder.otel_provider(provider.clone()).install(),
        "tracing" => {
            let layer = tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("app"))
                .with_location(false)
                .with_threads(false)
                .with_tracked_inactivity(false);
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::set_global_default(subscriber).unwrap();
            builder.tracing_mode().install()
        }
        other => panic!("unknown mode {other}"),
    }
}
