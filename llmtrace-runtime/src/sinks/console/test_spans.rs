//! Spans for the console's tests, built in one line each.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use crate::semconv::keys::{gen_ai, openinference as oi};

pub(super) const TRACE: u128 = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736;
pub(super) const OTHER_TRACE: u128 = 0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c;
pub(super) const THIRD_TRACE: u128 = 0x5b8e_fff7_9803_8103_d269_b633_813f_c60c;

pub(super) fn at(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

pub(super) fn span(
    trace: u128,
    id: u64,
    parent: u64,
    name: &str,
    start_ms: u64,
    end_ms: u64,
) -> SpanData {
    SpanData {
        span_context: SpanContext::new(
            TraceId::from(trace),
            SpanId::from(id),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: SpanId::from(parent),
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: Cow::Owned(name.to_owned()),
        start_time: at(start_ms),
        end_time: at(end_ms),
        attributes: Vec::new(),
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: InstrumentationScope::builder("llmtrace").build(),
    }
}

/// Attribute setters, so a test reads like the span it describes.
pub(super) trait Build: Sized {
    fn attr(self, key: &'static str, value: impl Into<Value>) -> Self;
    fn failed(self, error_type: &'static str, description: &'static str) -> Self;

    fn usage(self, input: i64, output: i64) -> Self {
        self.attr(gen_ai::USAGE_INPUT_TOKENS, input)
            .attr(gen_ai::USAGE_OUTPUT_TOKENS, output)
    }

    fn cost(self, usd: f64) -> Self {
        self.attr(oi::LLM_COST_TOTAL, usd)
    }

    fn workflow(self, name: &'static str) -> Self {
        self.attr(gen_ai::WORKFLOW_NAME, name)
    }
}

impl Build for SpanData {
    fn attr(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.attributes.push(KeyValue::new(key, value));
        self
    }

    fn failed(mut self, error_type: &'static str, description: &'static str) -> Self {
        self.status = Status::error(description);
        self.attr(gen_ai::ERROR_TYPE, error_type)
    }
}
