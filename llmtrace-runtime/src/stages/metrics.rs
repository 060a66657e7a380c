//! The GenAI client metrics, recorded on the export worker from the records it drains: never on
//! the application's thread, and with no lock there. Each record passes this stage once, before
//! tail sampling, so a trace the tail sampler drops still counts; a call the head sampler drops
//! reaches it as a record made on the export worker from the call's tally ([`Stage::count`]).
//!
//! Names, units, bucket boundaries and attributes follow the GenAI conventions (semantic
//! conventions v1.41 for the client metrics; the GenAI repository for the tool and agent
//! metrics). Cost and unpriced calls are llmtrace's own counters, priced by the cost stage that
//! runs before this one, so the cost counter adds up to the spans' costs.

use std::borrow::Cow;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter, MeterProvider};
use opentelemetry_sdk::metrics::SdkMeterProvider;

use super::{Drain, Stage};
use crate::record::{Field, Kind, Record, Status, Value, clock};
use crate::semconv as derived;
use crate::semconv::keys::{gen_ai, metric, metric_attr};
use crate::state::Counters;
use crate::state::summary::{self, CallSample};

/// How long a flush waits for the metrics export.
const FLUSH_WAIT: Duration = Duration::from_secs(2);

/// Durations (`s`): the conventions' buckets for operation durations.
const DURATION_BUCKETS: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
/// Token counts: the conventions' buckets for `gen_ai.client.token.usage`.
const TOKEN_BUCKETS: [f64; 14] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];
/// Agent invocations: doubling from 0.1 s to 409.6 s.
const AGENT_DURATION_BUCKETS: [f64; 13] = [
    0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6,
];
/// Calls per agent invocation.
const CALL_COUNT_BUCKETS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

/// The instruments, made once from the meter provider.
pub(crate) struct MetricsStage {
    provider: SdkMeterProvider,
    /// Whether a flush of the stage exports the metrics (on the export worker); where the
    /// stages run on the thread that ends each span, the host's flush does.
    exports_on_flush: bool,
    /// The metrics export a flush started, until [`Stage::settle`] waits for it.
    exporting: Option<std::sync::mpsc::Receiver<()>>,
    token_usage: Histogram<u64>,
    duration: Histogram<f64>,
    time_to_first_chunk: Histogram<f64>,
    time_per_output_chunk: Histogram<f64>,
    tool_duration: Histogram<f64>,
    agent_duration: Histogram<f64>,
    agent_inference_calls: Histogram<u64>,
    agent_tool_calls: Histogram<u64>,
    cost: Counter<f64>,
    unpriced: Counter<u64>,
    /// The newer inference metrics, with `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`.
    latest: Option<Latest>,
}

/// The latest experimental set: inference duration and usage counters by modality.
struct Latest {
    duration: Histogram<f64>,
    /// Counters for input, output, cache read, cache write and reasoning tokens.
    usage: [(Field, Counter<u64>); 5],
}

impl std::fmt::Debug for MetricsStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsStage")
    }
}

fn seconds(meter: &Meter, name: &'static str, buckets: &[f64]) -> Histogram<f64> {
    meter
        .f64_histogram(name)
        .with_unit("s")
        .with_boundaries(buckets.to_vec())
        .build()
}

fn counts(
    meter: &Meter,
    name: &'static str,
    unit: &'static str,
    buckets: &[f64],
) -> Histogram<u64> {
    meter
        .u64_histogram(name)
        .with_unit(unit)
        .with_boundaries(buckets.to_vec())
        .build()
}

impl MetricsStage {
    /// The instruments on `provider`; with `latest`, the latest experimental set too. With
    /// `exports_on_flush`, a flush of the stage exports the metrics.
    pub(crate) fn new(provider: SdkMeterProvider, latest: bool, exports_on_flush: bool) -> Self {
        let meter = provider.meter_with_scope(
            opentelemetry::InstrumentationScope::builder("llmtrace")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        );
        MetricsStage {
            exports_on_flush,
            exporting: None,
            token_usage: counts(
                &meter,
                metric::CLIENT_TOKEN_USAGE,
                "{token}",
                &TOKEN_BUCKETS,
            ),
            duration: seconds(&meter, metric::CLIENT_OPERATION_DURATION, &DURATION_BUCKETS),
            time_to_first_chunk: seconds(
                &meter,
                metric::CLIENT_TIME_TO_FIRST_CHUNK,
                &DURATION_BUCKETS,
            ),
            time_per_output_chunk: seconds(
                &meter,
                metric::CLIENT_TIME_PER_OUTPUT_CHUNK,
                &DURATION_BUCKETS,
            ),
            tool_duration: seconds(&meter, metric::EXECUTE_TOOL_DURATION, &DURATION_BUCKETS),
            agent_duration: seconds(
                &meter,
                metric::INVOKE_AGENT_DURATION,
                &AGENT_DURATION_BUCKETS,
            ),
            agent_inference_calls: counts(
                &meter,
                metric::INVOKE_AGENT_INFERENCE_CALLS,
                "{inference_call}",
                &CALL_COUNT_BUCKETS,
            ),
            agent_tool_calls: counts(
                &meter,
                metric::INVOKE_AGENT_TOOL_CALLS,
                "{tool_call}",
                &CALL_COUNT_BUCKETS,
            ),
            cost: meter
                .f64_counter(metric::LLMTRACE_CLIENT_COST)
                .with_unit("USD")
                .build(),
            unpriced: meter
                .u64_counter(metric::LLMTRACE_CLIENT_UNPRICED_CALLS)
                .with_unit("{call}")
                .build(),
            latest: latest.then(|| Latest::new(&meter)),
            provider,
        }
    }

    fn record(&self, rec: &Record) {
        match rec.kind() {
            Kind::LlmCall | Kind::Embeddings => self.model_call(rec),
            Kind::Tool => self.tool_call(rec),
            Kind::Agent => self.agent(rec),
            _ => {}
        }
    }

    /// A model call: the client metrics, cost and unpriced calls.
    fn model_call(&self, rec: &Record) {
        let mut attrs = Vec::with_capacity(8);
        attrs.push(KeyValue::new(
            gen_ai::OPERATION_NAME,
            derived::operation(rec).to_owned(),
        ));
        // Required by the conventions; a call that names none is counted under `_OTHER`.
        attrs.push(KeyValue::new(
            gen_ai::PROVIDER_NAME,
            string(rec, Field::Provider).unwrap_or(Cow::Borrowed("_OTHER")),
        ));
        push_string(&mut attrs, rec, Field::Model, gen_ai::REQUEST_MODEL);
        push_string(
            &mut attrs,
            rec,
            Field::ResponseModel,
            gen_ai::RESPONSE_MODEL,
        );
        // The cost's attributes: provider, request and response model, operation.
        let priced = attrs.len();
        push_string(
            &mut attrs,
            rec,
            Field::ServerAddress,
            gen_ai::SERVER_ADDRESS,
        );
        if let Some(port) = rec.get(Field::ServerPort).and_then(int) {
            attrs.push(KeyValue::new(gen_ai::SERVER_PORT, port));
        }

        let common = attrs.len();
        if let (Some(latest), Kind::LlmCall) = (&self.latest, rec.kind()) {
            if derived::operation(rec) != "embeddings" {
                latest.record(rec, &mut attrs);
            }
        }
        for (field, token_type) in [
            (Field::InputTokens, "input"),
            (Field::OutputTokens, "output"),
        ] {
            if let Some(n) = rec.token(field) {
                attrs.push(KeyValue::new(metric_attr::TOKEN_TYPE, token_type));
                self.token_usage.record(n, &attrs);
                attrs.truncate(common);
            }
        }
        if let Some(ttfc) = rec.get(Field::TimeToFirstChunk).and_then(float) {
            self.time_to_first_chunk.record(ttfc, &attrs);
        }
        if let Some(tpoc) = rec.get(Field::TimePerOutputChunk).and_then(float) {
            self.time_per_output_chunk.record(tpoc, &attrs);
        }
        push_error(&mut attrs, rec);
        self.duration.record(duration(rec), &attrs);

        attrs.truncate(priced);
        let cost = rec.get(Field::CostTotal).and_then(float);
        if let Some(usd) = cost {
            self.cost.add(usd, &attrs);
        }
        if matches!(rec.get(Field::Unpriced), Some(Value::Bool(true))) {
            self.unpriced.add(1, &attrs);
        }
        summary::add(CallSample {
            provider: string(rec, Field::Provider)
                .unwrap_or_default()
                .into_owned(),
            model: string(rec, Field::ResponseModel)
                .or_else(|| string(rec, Field::Model))
                .unwrap_or_default()
                .into_owned(),
            seconds: duration(rec),
            ttft: rec.get(Field::TimeToFirstChunk).and_then(float),
            error_type: (rec.status == Status::Error).then(|| {
                string(rec, Field::ErrorType)
                    .unwrap_or(Cow::Borrowed("_OTHER"))
                    .into_owned()
            }),
            input_tokens: rec.token(Field::InputTokens),
            output_tokens: rec.token(Field::OutputTokens),
            cost,
        });
    }

    fn tool_call(&self, rec: &Record) {
        let mut attrs = Vec::with_capacity(5);
        attrs.push(KeyValue::new(gen_ai::OPERATION_NAME, "execute_tool"));
        attrs.push(KeyValue::new(
            gen_ai::TOOL_NAME,
            derived::name(rec).as_str().unwrap_or_default().to_owned(),
        ));
        push_string(&mut attrs, rec, Field::ToolType, gen_ai::TOOL_TYPE);
        push_agent_name(&mut attrs, rec);
        push_error(&mut attrs, rec);
        self.tool_duration.record(duration(rec), &attrs);
    }

    fn agent(&self, rec: &Record) {
        let mut attrs = Vec::with_capacity(5);
        attrs.push(KeyValue::new(
            gen_ai::OPERATION_NAME,
            derived::operation(rec).to_owned(),
        ));
        push_string(&mut attrs, rec, Field::Provider, gen_ai::PROVIDER_NAME);
        push_agent_name(&mut attrs, rec);
        push_string(&mut attrs, rec, Field::Model, gen_ai::REQUEST_MODEL);
        let common = attrs.len();
        if let Some(n) = rec.get(Field::AgentInferenceCalls).and_then(int) {
            self.agent_inference_calls
                .record(u64::try_from(n).unwrap_or(0), &attrs);
        }
        if let Some(n) = rec.get(Field::AgentToolCalls).and_then(int) {
            self.agent_tool_calls
                .record(u64::try_from(n).unwrap_or(0), &attrs);
        }
        push_error(&mut attrs, rec);
        self.agent_duration.record(duration(rec), &attrs);
        attrs.truncate(common);
    }
}

impl Latest {
    fn new(meter: &Meter) -> Self {
        let counter = |name: &'static str| meter.u64_counter(name).with_unit("{token}").build();
        Latest {
            duration: seconds(meter, metric::CLIENT_INFERENCE_DURATION, &DURATION_BUCKETS),
            usage: [
                (
                    Field::InputTokens,
                    counter(metric::CLIENT_INFERENCE_USAGE_INPUT_TOKENS),
                ),
                (
                    Field::OutputTokens,
                    counter(metric::CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS),
                ),
                (
                    Field::CacheReadTokens,
                    counter(metric::CLIENT_INFERENCE_USAGE_CACHE_READ_INPUT_TOKENS),
                ),
                (
                    Field::CacheWriteTokens,
                    counter(metric::CLIENT_INFERENCE_USAGE_CACHE_WRITE_INPUT_TOKENS),
                ),
                (
                    Field::ReasoningTokens,
                    counter(metric::CLIENT_INFERENCE_USAGE_REASONING_OUTPUT_TOKENS),
                ),
            ],
        }
    }

    /// An inference call (not embeddings): its duration, and its tokens under modality
    /// `unknown` (llmtrace records no per-modality breakdown). Input and output are counted for
    /// every call, 0 when no usage came back, as the conventions ask; the breakdowns only when
    /// reported.
    fn record(&self, rec: &Record, attrs: &mut Vec<KeyValue>) {
        let common = attrs.len();
        push_error(attrs, rec);
        self.duration.record(duration(rec), attrs);
        attrs.truncate(common);
        attrs.push(KeyValue::new(metric_attr::TOKEN_MODALITY, "unknown"));
        for (field, counter) in &self.usage {
            let always = matches!(field, Field::InputTokens | Field::OutputTokens);
            match rec.token(*field) {
                Some(n) => counter.add(n, attrs),
                None if always => counter.add(0, attrs),
                None => {}
            }
        }
        attrs.truncate(common);
    }
}

/// The span's duration in seconds.
fn duration(rec: &Record) -> f64 {
    Duration::from_nanos(clock::nanos_between(rec.start, rec.end)).as_secs_f64()
}

fn string(rec: &Record, field: Field) -> Option<Cow<'static, str>> {
    match rec.get(field)? {
        Value::Str(s) => Some(Cow::Borrowed(s)),
        Value::String(s) => Some(Cow::Owned(s.to_string())),
        _ => None,
    }
}

fn push_string(attrs: &mut Vec<KeyValue>, rec: &Record, field: Field, key: &'static str) {
    if let Some(v) = string(rec, field) {
        attrs.push(KeyValue::new(key, v));
    }
}

fn push_agent_name(attrs: &mut Vec<KeyValue>, rec: &Record) {
    let name = string(rec, Field::AgentName).or_else(|| {
        rec.scope
            .as_ref()
            .and_then(|s| s.agent.as_ref())
            .and_then(|a| match &a.name {
                Some(Value::Str(s)) => Some(Cow::Borrowed(*s)),
                Some(Value::String(s)) => Some(Cow::Owned(s.to_string())),
                _ => None,
            })
    });
    if let Some(name) = name {
        attrs.push(KeyValue::new(gen_ai::AGENT_NAME, name));
    }
}

/// `error.type` on a failed operation: the error's type, `_OTHER` when it gave none.
fn push_error(attrs: &mut Vec<KeyValue>, rec: &Record) {
    if rec.status == Status::Error {
        attrs.push(KeyValue::new(
            gen_ai::ERROR_TYPE,
            string(rec, Field::ErrorType).unwrap_or(Cow::Borrowed("_OTHER")),
        ));
    }
}

fn float(v: &Value) -> Option<f64> {
    match v {
        Value::F64(f) => Some(*f),
        Value::I64(i) => Some(*i as f64),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::I64(i) => Some(*i),
        _ => None,
    }
}

impl Stage for MetricsStage {
    fn process(&mut self, records: &mut Vec<Record>, _: &Drain, _: &Counters) {
        for rec in records.iter() {
            self.record(rec);
        }
    }

    /// Sampled-out calls count like recorded ones.
    fn count(&mut self, records: &mut [Record]) {
        for rec in records.iter() {
            self.record(rec);
        }
    }

    /// Nothing is held; the metrics recorded so far are exported, so that a flush of llmtrace
    /// delivers them too. The export runs on a thread of its own, started here and waited for
    /// in [`Stage::settle`] once the flush's spans are exported, at most [`FLUSH_WAIT`]: a
    /// stalled metrics collector must not hold back the spans.
    fn flush(&mut self, _: &mut Vec<Record>, _: &Counters) {
        if !self.exports_on_flush || self.exporting.is_some() {
            // The previous export has not been waited for: it still runs.
            return;
        }
        let (done, exported) = std::sync::mpsc::channel();
        let provider = self.provider.clone();
        let started = std::thread::Builder::new()
            .name("llmtrace-metrics-flush".into())
            .spawn(move || {
                let _ = provider.force_flush();
                let _ = done.send(());
            });
        if started.is_ok() {
            self.exporting = Some(exported);
        }
    }

    fn settle(&mut self, wait: Duration) {
        if let Some(exported) = &self.exporting {
            match exported.recv_timeout(wait.min(FLUSH_WAIT)) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                // Done (or its thread is gone): the next flush starts another export.
                _ => self.exporting = None,
            }
        }
    }
}
