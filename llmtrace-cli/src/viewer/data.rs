//! What the viewer's page reads: each trace's summary (the `ls` columns, the models it used,
//! the explorer's badges) and its spans, every attribute, event and link as written, with the
//! facts the explorer reads from them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value as Json, json};

use crate::commands::{anomalies, loops};
use crate::otlp::{AnyValue, KeyValue};
use crate::out;
use crate::source::{Accumulator, Reads};
use crate::span::{OpKind, SpanFacts};
use crate::traces::TraceSummary;

/// A badge on a span, and on its trace: a loop, a low-score retrieval, missing usage, no price,
/// truncated content.
#[derive(Debug, Clone)]
struct Badge {
    kind: &'static str,
    text: String,
}

/// One span, as the page shows it; times are kept absolute until the trace's start is known.
#[derive(Debug)]
struct SpanView {
    span_id: u64,
    start: u64,
    end: u64,
    json: Map<String, Json>,
    badges: Vec<Badge>,
}

/// The spans of the traces a view shows (and only those), gathered from a scan.
#[derive(Debug)]
pub(crate) struct TraceSpans {
    /// The traces to keep; `None`: all of them.
    takes: Option<Arc<HashSet<u128>>>,
    spans: HashMap<u128, Vec<SpanView>>,
    calls: HashMap<u128, Vec<loops::Call>>,
}

impl TraceSpans {
    /// Gathers the spans of the traces in `takes`, or of every trace.
    pub(crate) fn new(takes: Option<Arc<HashSet<u128>>>) -> Self {
        TraceSpans {
            takes,
            spans: HashMap::new(),
            calls: HashMap::new(),
        }
    }
}

impl Accumulator for TraceSpans {
    fn add(&mut self, s: &SpanFacts<'_>) {
        if !self.takes_trace(s.trace_id) {
            return;
        }
        // Spans come as written (`reads`): the attributes are there.
        let Some(raw) = &s.raw else { return };
        let mut badges: Vec<Badge> = anomalies::span_findings(s, anomalies::DEFAULT_MIN_SCORE)
            .into_iter()
            .map(|(kind, text, _)| Badge { kind, text })
            .collect();
        badges.dedup_by_key(|b| b.kind);
        let mut j = Map::new();
        j.insert("id".into(), json!(out::span_id(s.span_id)));
        j.insert(
            "parent".into(),
            if s.parent_id == 0 {
                Json::Null
            } else {
                json!(out::span_id(s.parent_id))
            },
        );
        j.insert("name".into(), json!(s.name));
        j.insert("op".into(), json!(s.operation));
        j.insert(
            "kind".into(),
            json!(match s.kind() {
                OpKind::Model => "model",
                OpKind::Retrieval => "retrieval",
                OpKind::Tool => "tool",
                OpKind::Other => match s.operation {
                    Some("invoke_agent") => "agent",
                    Some("invoke_workflow") => "workflow",
                    _ => "other",
                },
            }),
        );
        j.insert("error".into(), json!(s.error_text()));
        j.insert("cancelled".into(), json!(s.cancelled));
        j.insert("model".into(), json!(s.request_model));
        j.insert("response_model".into(), json!(s.response_model));
        j.insert("provider".into(), json!(s.provider));
        j.insert("service".into(), json!(s.service));
        j.insert("session".into(), json!(s.session));
        j.insert("user".into(), json!(s.user));
        j.insert(
            "usage".into(),
            json!({
                "input": s.input_tokens,
                "output": s.output_tokens,
                "cache_read": s.cache_read_tokens,
                "cache_write": s.cache_write_tokens,
                "reasoning": s.reasoning_tokens,
                "missing": s.usage_missing,
            }),
        );
        j.insert("cost".into(), json!(s.cost));
        j.insert("unpriced".into(), json!(s.unpriced));
        j.insert("ttft_s".into(), json!(s.ttft));
        j.insert("attrs".into(), attributes(raw.attributes));
        j.insert("resource".into(), attributes(raw.resource));
        j.insert(
            "events".into(),
            Json::Array(
                raw.events
                    .iter()
                    .map(|e| {
                        json!({
                            "name": e.name,
                            "time_unix_nano": e.time_unix_nano.0,
                            "attrs": attributes(&e.attributes),
                        })
                    })
                    .collect(),
            ),
        );
        j.insert(
            "links".into(),
            Json::Array(
                raw.links
                    .iter()
                    .map(|l| {
                        json!({
                            "trace": l.trace_id,
                            "span": l.span_id,
                            "attrs": attributes(&l.attributes),
                        })
                    })
                    .collect(),
            ),
        );
        self.spans.entry(s.trace_id).or_default().push(SpanView {
            span_id: s.span_id,
            start: s.start,
            end: s.end,
            json: j,
            badges,
        });
        if let Some(call) = loops::Call::of(s) {
            self.calls.entry(s.trace_id).or_default().push(call);
        }
    }

    fn reads(&self) -> Reads {
        if self.takes.is_some() {
            Reads::RawOfSomeTraces
        } else {
            Reads::Raw
        }
    }

    fn takes_trace(&self, trace_id: u128) -> bool {
        self.takes.as_ref().is_none_or(|t| t.contains(&trace_id))
    }

    fn merge(&mut self, other: Self) {
        for (id, spans) in other.spans {
            self.spans.entry(id).or_default().extend(spans);
        }
        for (id, calls) in other.calls {
            self.calls.entry(id).or_default().extend(calls);
        }
    }
}

/// Attributes as `[key, value]` pairs, in the order written (a key may repeat).
fn attributes(list: &[KeyValue<'_>]) -> Json {
    Json::Array(
        list.iter()
            .map(|kv| json!([kv.key, value(&kv.value)]))
            .collect(),
    )
}

/// An attribute value as JSON: numbers stay numbers, lists and maps stay structured.
fn value(v: &AnyValue<'_>) -> Json {
    match v {
        AnyValue::Empty => Json::Null,
        AnyValue::Str(s) | AnyValue::Bytes(s) => json!(s),
        AnyValue::Bool(b) => json!(b),
        AnyValue::Int(i) => json!(i),
        AnyValue::Double(d) => {
            serde_json::Number::from_f64(*d).map_or(json!(d.to_string()), Json::Number)
        }
        AnyValue::Array(items) => Json::Array(items.iter().map(value).collect()),
        AnyValue::KvList(kvs) => {
            Json::Object(kvs.iter().map(|(k, v)| (k.to_string(), value(v))).collect())
        }
        AnyValue::Unknown(t) => json!(format!("<{t}>")),
    }
}

/// Repeats of a call that make a loop, as `llmtrace loops` counts them by default.
const LOOP_MIN_REPEATS: usize = 3;

/// The traces of `summaries` with their spans, as the page reads them: each trace's summary
/// with the models it used and its badges, and its spans in start order with times in
/// milliseconds from the trace's start.
pub(crate) fn traces_json(summaries: &[TraceSummary], mut spans: TraceSpans) -> Json {
    let mut out_traces = Vec::with_capacity(summaries.len());
    for t in summaries {
        let mut list = spans.spans.remove(&t.trace_id).unwrap_or_default();
        list.sort_by_key(|s| (s.start, s.span_id));
        let mut calls = spans.calls.remove(&t.trace_id).unwrap_or_default();
        loops::sort_calls(&mut calls);
        let mut found = Vec::new();
        loops::find_loops(
            t.trace_id,
            &t.root_name,
            &calls,
            LOOP_MIN_REPEATS,
            &mut found,
        );
        let loop_text = |l: &loops::Loop| format!("{} {}× ({})", l.what, l.count, l.kind);
        for l in &found {
            let text = loop_text(l);
            for s in list.iter_mut().filter(|s| l.span_ids.contains(&s.span_id)) {
                if !s.badges.iter().any(|b| b.kind == "loop") {
                    s.badges.push(Badge {
                        kind: "loop",
                        text: text.clone(),
                    });
                }
            }
        }
        let t0 = list
            .iter()
            .map(|s| s.start)
            .min()
            .unwrap_or(t.start)
            .min(t.start);
        let ms = |ns: u64| ns.saturating_sub(t0) as f64 / 1e6;
        let mut trace_badges: Vec<Json> = found
            .iter()
            .map(|l| json!({"kind": "loop", "text": loop_text(l)}))
            .collect();
        let mut span_json = Vec::with_capacity(list.len());
        for s in list {
            let mut j = s.json;
            for b in &s.badges {
                if b.kind != "loop" && !trace_badges.iter().any(|t| t["kind"] == b.kind) {
                    trace_badges.push(json!({"kind": b.kind, "text": b.text}));
                }
            }
            j.insert("start_ms".into(), json!(ms(s.start)));
            j.insert(
                "duration_ms".into(),
                json!(s.end.saturating_sub(s.start) as f64 / 1e6),
            );
            j.insert(
                "badges".into(),
                Json::Array(
                    s.badges
                        .iter()
                        .map(|b| json!({"kind": b.kind, "text": b.text}))
                        .collect(),
                ),
            );
            span_json.push(Json::Object(j));
        }
        let mut models: Vec<&str> = Vec::new();
        for s in &span_json {
            if let Some(m) = s["model"].as_str() {
                if !models.contains(&m) {
                    models.push(m);
                }
            }
        }
        let mut summary = crate::commands::trace_json(t);
        if let Json::Object(o) = &mut summary {
            o.insert("start_ms".into(), json!(t.start as f64 / 1e6));
            o.insert("origin_ms".into(), json!(t0 as f64 / 1e6));
            o.insert("models".into(), json!(models));
            o.insert("badges".into(), Json::Array(trace_badges));
            o.insert("spans_list".into(), Json::Array(span_json));
        }
        out_traces.push(summary);
    }
    Json::Array(out_traces)
}
