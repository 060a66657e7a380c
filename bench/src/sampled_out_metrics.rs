//! `llmtrace_sampled_out_metrics`: a model call the head sampler drops while metrics are on. No
//! span is recorded, but the call still counts: its start and end are read, its usage is read
//! from the return value into a tally, and the tally goes to the export worker, which prices it
//! and records the metrics. Gated against an OpenTelemetry SDK span that is sampled out.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;

use crate::variants::DroppingExporter;

/// Receives the metrics and drops them.
struct DroppingMetrics;

impl PushMetricExporter for DroppingMetrics {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        black_box(metrics);
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

/// Installs llmtrace sampling nothing, with a metrics exporter.
pub(crate) fn install(delivered: &Arc<AtomicU64>, capacity: usize) -> llmtrace::Guard {
    llmtrace::init()
        .service_name("bench")
        .sampler(llmtrace::Sampler::AlwaysOff)
        .buffer_capacity(capacity)
        .with_exporter(DroppingExporter {
            received: delivered.clone(),
        })
        .metrics_exporter(DroppingMetrics, Duration::from_secs(3600))
        .install()
}

/// What the call returns: its usage, read as for a recorded span.
struct Completion {
    prompt_tokens: u64,
    completion_tokens: u64,
}

impl llmtrace::LlmResponse for Completion {
    fn usage(&self) -> Option<llmtrace::Usage> {
        Some(llmtrace::Usage::new(
            self.prompt_tokens,
            self.completion_tokens,
        ))
    }
}

/// The model call of the other variants, returning its response.
#[llmtrace::llm_call(
    provider = "openai",
    model = "gpt-4o",
    temperature = 0.3,
    skip_all,
    output = false
)]
#[inline(never)]
fn llm_response() -> Completion {
    Completion {
        prompt_tokens: black_box(1200),
        completion_tokens: black_box(80),
    }
}

/// One timed call.
pub(crate) fn call() -> u64 {
    black_box(llm_response()).completion_tokens
}
