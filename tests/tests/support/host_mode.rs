//! Host-mode tests run each mode in a child process of their test binary: a process holds one
//! installation of llmtrace and one global `tracing` subscriber.

use std::collections::HashMap;
use std::process::Command;

use llmtrace_runtime as llmtrace;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;

/// The variable that tells a child test its mode (`provider` or `tracing`).
const MODE: &str = "LLMTRACE_TEST_HOST_MODE";

/// The mode the parent test asked this child for.
pub(crate) fn mode() -> String {
    std::env::var(MODE).expect("run by the other tests")
}

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

/// Runs the ignored test `child` of this binary in a child process in mode `mode`, and fails
/// unless it passed.
pub(crate) fn run_child(child: &str, mode: &str) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", child, "--ignored", "--nocapture"])
        .env(MODE, mode)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "mode {mode}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
