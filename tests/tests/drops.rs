//! A slow exporter never blocks instrumented code: full buffers drop spans and count them, and
//! the counters add up.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

#[derive(Debug, Clone, Default)]
struct SlowExporter {
    received: Arc<AtomicUsize>,
}

impl SpanExporter for SlowExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.received.fetch_add(batch.len(), Ordering::SeqCst);
        Ok(())
    }
}

#[llmtrace::tool(name = "busy")]
fn busy(i: u32) -> u32 {
    i
}

#[test]
fn full_buffers_drop_and_count_instead_of_blocking() {
    let exporter = SlowExporter::default();
    let _guard = llmtrace::init()
        .with_exporter(exporter.clone())
        .buffer_capacity(64)
        // No spill rings: the small rings themselves overflow.
        .buffer_budget(0)
        .max_batch(32)
        .install();

    for i in 0..5_000 {
        busy(i);
    }
    llmtrace::force_flush(Duration::from_secs(30)).unwrap();
    let stats = llmtrace::stats();
    assert_eq!(stats.produced, 5_000, "{stats:?}");
    assert!(stats.dropped_buffer_full > 0, "{stats:?}");
    assert_eq!(stats.dropped, stats.dropped_buffer_full, "{stats:?}");
    assert_eq!(stats.produced, stats.exported + stats.dropped, "{stats:?}");
    assert_eq!(
        stats.exported as usize,
        exporter.received.load(Ordering::SeqCst)
    );
}
