//! The GenAI client metrics, recorded on the export worker from the records it drains: never on
//! the application's thread, and with no lock there. Each record passes this stage once, before
//! tail sampling, so a trace the tail sampler drops still counts; a call the head sampler drops
//! reaches it as a record made on the export worker from the call's tally ([`Stage::count`]).
//!
//! Names, units, bucket boundaries and attributes follow the GenAI conventions (semantic
//! conventions v1.41 for the client metrics; the GenAI repository for the tool and agent
//! metrics). Cost and unpriced calls are llmtrace's own counters, priced by the cost stage that
//! runs before this one, so the cost counter adds up to the spans' costs.

mod sets;

use std::time::Duration;

use opentelemetry::metrics::{Counter, Histogram, Meter, MeterProvider};
use opentelemetry_sdk::metrics::SdkMeterProvider;

use super::{Drain, Stage};
use crate::record::{Field, Kind, Record, Status, Value, clock};
use crate::semconv as derived;
use crate::semconv::keys::metric;
use crate::state::Counters;
use crate::state::summary::{self, CallSample};
use sets::{Part, Set, Sets, Slots};

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

/// The instruments, and the attribute sets bound to them (see [`sets`]).
pub(crate) struct MetricsStage {
    provider: SdkMeterProvider,
    /// Whether a flush of the stage exports the metrics (on the export worker); where the
    /// stages run on the thread that ends each span, the host's flush does.
    exports_on_flush: bool,
    /// The metrics export a flush started, until [`Stage::settle`] waits for it.
    exporting: Option<std::sync::mpsc::Receiver<()>>,
    instruments: Instruments,
    sets: Sets,
    /// The model calls of the batch in progress, counted in the summary at its end.
    calls: Vec<(usize, CallSample)>,
}

/// The instruments, made once from the meter provider.
struct Instruments {
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
        let instruments = Instruments {
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
        };
        MetricsStage {
            provider,
            exports_on_flush,
            exporting: None,
            instruments,
            sets: Sets::default(),
            calls: Vec::new(),
        }
    }

    fn record_all(&mut self, records: &[Record]) {
        for rec in records {
            self.record(rec);
        }
        if !self.calls.is_empty() {
            summary::add(&self.calls);
            self.calls.clear();
        }
    }

    fn record(&mut self, rec: &Record) {
        match rec.kind() {
            Kind::LlmCall | Kind::Embeddings => self.model_call(rec),
            Kind::Tool => self.tool_call(rec),
            Kind::Agent => self.agent(rec),
            _ => {}
        }
    }

    /// A model call: the client metrics, cost and unpriced calls, and the summary.
    fn model_call(&mut self, rec: &Record) {
        let operation = derived::operation(rec);
        let provider = string(rec, Field::Provider);
        let error = error_type(rec);
        let set = Set::Model {
            operation,
            provider,
            model: string(rec, Field::Model),
            response_model: string(rec, Field::ResponseModel),
            server: string(rec, Field::ServerAddress),
            port: rec.get(Field::ServerPort).and_then(int),
            error,
        };
        let mut slots = self.sets.get(&set);
        let ins = &self.instruments;
        // By reference: a closure holding a copy of the set (over a hundred bytes) would copy
        // it for every point, bound or not.
        let set = &set;
        let attrs = |part| move || set.attributes(part);

        if let (Some(latest), Kind::LlmCall) = (&ins.latest, rec.kind()) {
            if operation != "embeddings" {
                latest.record(rec, set, slots.as_deref_mut());
            }
        }
        if let Some(n) = rec.token(Field::InputTokens) {
            sets::measure(
                &ins.token_usage,
                slots.as_deref_mut().map(|s| &mut s.input_tokens),
                attrs(Part::TokenType("input")),
                n,
            );
        }
        if let Some(n) = rec.token(Field::OutputTokens) {
            sets::measure(
                &ins.token_usage,
                slots.as_deref_mut().map(|s| &mut s.output_tokens),
                attrs(Part::TokenType("output")),
                n,
            );
        }
        let ttfc = rec.get(Field::TimeToFirstChunk).and_then(float);
        if let Some(ttfc) = ttfc {
            sets::measure(
                &ins.time_to_first_chunk,
                slots.as_deref_mut().map(|s| &mut s.time_to_first_chunk),
                attrs(Part::Common),
                ttfc,
            );
        }
        if let Some(tpoc) = rec.get(Field::TimePerOutputChunk).and_then(float) {
            sets::measure(
                &ins.time_per_output_chunk,
                slots.as_deref_mut().map(|s| &mut s.time_per_output_chunk),
                attrs(Part::Common),
                tpoc,
            );
        }
        let seconds = duration(rec);
        sets::measure(
            &ins.duration,
            slots.as_deref_mut().map(|s| &mut s.duration),
            attrs(Part::Outcome),
            seconds,
        );
        let cost = rec.cost();
        if let Some(usd) = cost {
            sets::measure(
                &ins.cost,
                slots.as_deref_mut().map(|s| &mut s.cost),
                attrs(Part::Priced),
                usd,
            );
        }
        if matches!(rec.get(Field::Unpriced), Some(Value::Bool(true))) {
            sets::measure(
                &ins.unpriced,
                slots.as_deref_mut().map(|s| &mut s.unpriced),
                attrs(Part::Priced),
                1,
            );
        }

        let row = || {
            let model = string(rec, Field::ResponseModel).or_else(|| string(rec, Field::Model));
            summary::row(provider.unwrap_or_default(), model.unwrap_or_default())
        };
        let row = match slots {
            Some(slots) => *slots.summary_row.get_or_insert_with(row),
            None => row(),
        };
        if let Some(row) = row {
            self.calls.push((
                row,
                CallSample {
                    seconds,
                    ttft: ttfc,
                    error: error.is_some(),
                    rate_limited: error == Some("rate_limited"),
                    input_tokens: rec.token(Field::InputTokens),
                    output_tokens: rec.token(Field::OutputTokens),
                    cost,
                },
            ));
        }
    }

    fn tool_call(&mut self, rec: &Record) {
        let set = Set::Tool {
            name: match rec.get(Field::Name) {
                Some(name) => name.as_str().unwrap_or_default(),
                None => rec.callsite.fn_name,
            },
            tool_type: string(rec, Field::ToolType),
            agent: agent_name(rec),
            error: error_type(rec),
        };
        let slots = self.sets.get(&set);
        sets::measure(
            &self.instruments.tool_duration,
            slots.map(|s| &mut s.duration),
            || set.attributes(Part::Outcome),
            duration(rec),
        );
    }

    fn agent(&mut self, rec: &Record) {
        let set = Set::Agent {
            operation: derived::operation(rec),
            provider: string(rec, Field::Provider),
            agent: agent_name(rec),
            model: string(rec, Field::Model),
            error: error_type(rec),
        };
        let mut slots = self.sets.get(&set);
        let ins = &self.instruments;
        if let Some(n) = rec.get(Field::AgentInferenceCalls).and_then(int) {
            sets::measure(
                &ins.agent_inference_calls,
                slots.as_deref_mut().map(|s| &mut s.agent_inference_calls),
                || set.attributes(Part::Common),
                u64::try_from(n).unwrap_or(0),
            );
        }
        if let Some(n) = rec.get(Field::AgentToolCalls).and_then(int) {
            sets::measure(
                &ins.agent_tool_calls,
                slots.as_deref_mut().map(|s| &mut s.agent_tool_calls),
                || set.attributes(Part::Common),
                u64::try_from(n).unwrap_or(0),
            );
        }
        sets::measure(
            &ins.agent_duration,
            slots.map(|s| &mut s.duration),
            || set.attributes(Part::Outcome),
            duration(rec),
        );
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
    fn record(&self, rec: &Record, set: &Set<&str>, mut slots: Option<&mut Slots>) {
        sets::measure(
            &self.duration,
            slots.as_deref_mut().map(|s| &mut s.latest_duration),
            || set.attributes(Part::Outcome),
            duration(rec),
        );
        for (i, (field, counter)) in self.usage.iter().enumerate() {
            let always = matches!(field, Field::InputTokens | Field::OutputTokens);
            let n = match rec.token(*field) {
                Some(n) => n,
                None if always => 0,
                None => continue,
            };
            sets::measure(
                counter,
                slots.as_deref_mut().map(|s| &mut s.latest_usage[i]),
                || set.attributes(Part::Modality),
                n,
            );
        }
    }
}

/// Starts exporting the metrics recorded so far on a thread of its own, so that a stalled metrics
/// collector holds no one; the receiver hears when it is done (or that it never started: `None`).
pub(crate) fn export_in_background(
    provider: &SdkMeterProvider,
) -> Option<std::sync::mpsc::Receiver<()>> {
    let (done, exported) = std::sync::mpsc::channel();
    let provider = provider.clone();
    std::thread::Builder::new()
        .name("llmtrace-metrics-flush".into())
        .spawn(move || {
            let _ = provider.force_flush();
            let _ = done.send(());
        })
        .ok()
        .map(|_| exported)
}

/// The span's duration in seconds.
fn duration(rec: &Record) -> f64 {
    Duration::from_nanos(clock::nanos_between(rec.start, rec.end)).as_secs_f64()
}

fn string(rec: &Record, field: Field) -> Option<&str> {
    match rec.get(field)? {
        Value::Str(s) => Some(s),
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// The agent the span is part of: its own name, else its innermost agent's.
fn agent_name(rec: &Record) -> Option<&str> {
    string(rec, Field::AgentName).or_else(|| {
        rec.scope
            .as_ref()
            .and_then(|s| s.agent.as_ref())
            .and_then(|a| match &a.name {
                Some(Value::Str(s)) => Some(*s),
                Some(Value::String(s)) => Some(&**s),
                _ => None,
            })
    })
}

/// `error.type` of a failed operation: the error's type, `_OTHER` when it gave none.
fn error_type(rec: &Record) -> Option<&str> {
    (rec.status == Status::Error).then(|| string(rec, Field::ErrorType).unwrap_or("_OTHER"))
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
        self.record_all(records);
    }

    /// Sampled-out calls count like recorded ones.
    fn count(&mut self, records: &mut [Record]) {
        self.record_all(records);
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
        self.exporting = export_in_background(&self.provider);
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
