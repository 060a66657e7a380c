//! The errors of installation, flush and shutdown tell their causes apart: a configuration that
//! cannot be used, an exporter that failed, a deadline that passed, a worker that has stopped.
//! One test, in order: llmtrace is installed once per process.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use llmtrace::Error;
use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData, SpanExporter};

#[llmtrace::tool(name = "lookup")]
fn lookup(id: u32) -> u32 {
    id + 1
}

/// Fails or stalls its exports on demand.
#[derive(Debug, Clone, Default)]
struct Faulty {
    fail: Arc<AtomicBool>,
    stall: Arc<AtomicBool>,
    seen: Arc<Mutex<usize>>,
}

impl SpanExporter for Faulty {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        *self.seen.lock().unwrap() += batch.len();
        if self.stall.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
        if self.fail.load(Ordering::Relaxed) {
            return Err(OTelSdkError::InternalFailure("collector said no".into()));
        }
        Ok(())
    }
}

#[test]
fn each_failure_has_its_own_error() {
    // An exporter given in code that cannot be built: `try_install` fails, and installs nothing.
    let err = llmtrace::init()
        .with_exporter(InMemorySpanExporter::default())
        .with_exporter_factory(|| Err::<InMemorySpanExporter, _>("no endpoint configured"))
        .try_install()
        .map(|_| ())
        .unwrap_err();
    let Error::Config(config) = &err else {
        panic!("expected a configuration error, got {err:?}");
    };
    assert!(
        err.to_string().contains("exporter 2 given to the builder")
            && err.to_string().contains("no endpoint configured"),
        "{err}"
    );
    assert_eq!(
        std::error::Error::source(config).map(ToString::to_string),
        Some("no endpoint configured".to_owned())
    );
    assert_eq!(
        llmtrace::force_flush(Duration::from_secs(1)),
        Err(Error::NotInstalled)
    );

    // `install` reports the same exporter and goes on with the others.
    let faulty = Faulty::default();
    let guard = llmtrace::init()
        .with_exporter(faulty.clone())
        .with_exporter_factory(|| Err::<InMemorySpanExporter, _>("no endpoint configured"))
        .export_timeout(Duration::from_millis(500))
        .install();
    assert_eq!(lookup(1), 2);
    assert_eq!(llmtrace::force_flush(Duration::from_secs(10)), Ok(()));
    assert_eq!(*faulty.seen.lock().unwrap(), 1);

    // The exporter fails: the flush says so, with the exporter's words.
    faulty.fail.store(true, Ordering::Relaxed);
    assert_eq!(lookup(2), 3);
    match llmtrace::force_flush(Duration::from_secs(10)) {
        Err(Error::Export(e)) => assert!(e.message().contains("collector said no"), "{e}"),
        other => panic!("expected an export error, got {other:?}"),
    }
    faulty.fail.store(false, Ordering::Relaxed);

    // The exporter stalls past the flush's deadline: a timeout, not a failure.
    faulty.stall.store(true, Ordering::Relaxed);
    assert_eq!(lookup(3), 4);
    assert_eq!(
        llmtrace::force_flush(Duration::from_millis(100)),
        Err(Error::Timeout {
            operation: llmtrace::Operation::Flush,
            limit: Duration::from_millis(100),
        })
    );
    faulty.stall.store(false, Ordering::Relaxed);

    // Shut down: the worker has stopped, and says so.
    assert_eq!(llmtrace::shutdown(Duration::from_secs(10)), Ok(()));
    assert_eq!(
        llmtrace::force_flush(Duration::from_secs(1)),
        Err(Error::Stopped)
    );
    drop(guard);
    let stats = llmtrace::stats();
    assert_eq!(stats.produced, 3, "{stats:?}");
    assert_eq!(stats.exported + stats.dropped, stats.produced, "{stats:?}");
}
