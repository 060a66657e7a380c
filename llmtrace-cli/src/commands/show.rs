//! `show` (one trace as the console's tree, or one span's details) and `diff` (two traces side
//! by side). Both keep the spans of the traces asked for, and only those.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, UNIX_EPOCH};

use llmtrace_runtime::export::SpanData;
use llmtrace_runtime::export::tree::{self, Node, Tree, TreeText};
use llmtrace_runtime::otel::opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use llmtrace_runtime::otel::opentelemetry::{
    Array, InstrumentationScope, KeyValue, StringValue, Value,
};
use llmtrace_runtime::otel::opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
use serde_json::{Value as Json, json};

use crate::otlp::AnyValue;
use crate::source::{self, Accumulator, Inputs, Problem, Reads, Report};
use crate::span::{OpKind, Raw, SpanFacts};
use crate::{DiffArgs, Outcome, ShowArgs, out};

/// One span of a trace asked for: what the tree needs, and the details `--span` prints.
#[derive(Debug, Clone)]
struct Kept {
    data: SpanData,
    model: Option<String>,
    response_model: Option<String>,
    provider: Option<String>,
    prompt: Option<String>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    cache_read: Option<i64>,
    cache_write: Option<i64>,
    reasoning: Option<i64>,
    cost: Option<f64>,
    usage_missing: bool,
    unpriced: bool,
    truncated: bool,
    ttft: Option<f64>,
    error: Option<String>,
    kind: OpKind,
    input_messages: Option<String>,
    output_messages: Option<String>,
    output_value: Option<String>,
    tool_arguments: Option<String>,
    tool_result: Option<String>,
    documents: Vec<Doc>,
    best_score: Option<f64>,
}

#[derive(Debug, Clone, serde::Serialize)]
struct Doc {
    id: Option<String>,
    score: Option<f64>,
    content: Option<String>,
}

/// The spans of the traces whose id starts with one of the prefixes.
#[derive(Debug)]
struct Matching {
    prefixes: Vec<String>,
    spans: Vec<Kept>,
}

impl Matching {
    fn takes(&self, trace_id: u128) -> bool {
        let id = out::full_id(trace_id);
        self.prefixes.iter().any(|p| id.starts_with(p.as_str()))
    }
}

impl Accumulator for Matching {
    fn add(&mut self, s: &SpanFacts<'_>) {
        // Spans come as written (`reads`), never from the cache alone.
        if let (true, Some(raw)) = (self.takes(s.trace_id), &s.raw) {
            self.spans.push(keep(s, raw));
        }
    }

    fn reads(&self) -> Reads {
        Reads::RawOfSomeTraces
    }

    fn takes_trace(&self, trace_id: u128) -> bool {
        self.takes(trace_id)
    }

    fn merge(&mut self, other: Self) {
        self.spans.extend(other.spans);
    }
}

fn otel_value(v: &AnyValue<'_>) -> Option<Value> {
    Some(match v {
        AnyValue::Str(s) => Value::String(StringValue::from(s.to_string())),
        AnyValue::Bool(b) => Value::Bool(*b),
        AnyValue::Int(i) => Value::I64(*i),
        AnyValue::Double(d) => Value::F64(*d),
        AnyValue::Array(items) => {
            let strings: Vec<StringValue> = items
                .iter()
                .map(|i| StringValue::from(i.to_text()))
                .collect();
            Value::Array(Array::String(strings))
        }
        AnyValue::KvList(_) | AnyValue::Bytes(_) => Value::String(StringValue::from(v.to_text())),
        AnyValue::Empty | AnyValue::Unknown(_) => return None,
    })
}

fn attrs(list: &[crate::otlp::KeyValue<'_>]) -> Vec<KeyValue> {
    list.iter()
        .filter_map(|kv| Some(KeyValue::new(kv.key.to_string(), otel_value(&kv.value)?)))
        .collect()
}

fn keep(s: &SpanFacts<'_>, raw: &Raw<'_>) -> Kept {
    let mut events = SpanEvents::default();
    events.events = raw
        .events
        .iter()
        .map(|e| {
            llmtrace_runtime::otel::opentelemetry::trace::Event::new(
                e.name.to_string(),
                UNIX_EPOCH + Duration::from_nanos(e.time_unix_nano.0),
                attrs(&e.attributes),
                0,
            )
        })
        .collect();
    let mut links = SpanLinks::default();
    links.links = raw
        .links
        .iter()
        .filter_map(|l| {
            let trace = crate::otlp::hex_id::<16>(&l.trace_id)?;
            let span = crate::otlp::hex_id::<8>(&l.span_id)?;
            let context = SpanContext::new(
                TraceId::from(u128::from_be_bytes(trace)),
                SpanId::from(u64::from_be_bytes(span)),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            );
            Some(llmtrace_runtime::otel::opentelemetry::trace::Link::new(
                context,
                attrs(&l.attributes),
                0,
            ))
        })
        .collect();
    let data = SpanData {
        span_context: SpanContext::new(
            TraceId::from(s.trace_id),
            SpanId::from(s.span_id),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: SpanId::from(s.parent_id),
        // A parent in another tracing system of the process makes a root too, as in the
        // console: the tree model knows remote parents.
        parent_span_is_remote: s.parent_remote || s.parent_external,
        span_kind: SpanKind::Internal,
        name: s.name.to_owned().into(),
        start_time: UNIX_EPOCH + Duration::from_nanos(s.start),
        end_time: UNIX_EPOCH + Duration::from_nanos(s.end),
        attributes: attrs(raw.attributes),
        dropped_attributes_count: 0,
        events,
        links,
        status: if s.error {
            Status::error(s.status_message.to_owned())
        } else {
            Status::Unset
        },
        instrumentation_scope: InstrumentationScope::builder("llmtrace").build(),
    };
    let text = |key: &str| {
        raw.attributes
            .iter()
            .rev()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_str())
            .map(str::to_owned)
    };
    Kept {
        data,
        model: s.request_model.map(str::to_owned),
        response_model: s.response_model.map(str::to_owned),
        provider: s.provider.map(str::to_owned),
        prompt: s.prompt(),
        input_tokens: s.input_tokens,
        output_tokens: s.output_tokens,
        cache_read: s.cache_read_tokens,
        cache_write: s.cache_write_tokens,
        reasoning: s.reasoning_tokens,
        cost: s.cost,
        usage_missing: s.usage_missing,
        unpriced: s.unpriced,
        truncated: s.truncated,
        ttft: s.ttft,
        error: s.error_text(),
        kind: s.kind(),
        input_messages: raw.input_messages.map(str::to_owned),
        output_messages: raw.output_messages.map(str::to_owned),
        output_value: text("output.value"),
        tool_arguments: raw.tool_arguments.map(str::to_owned),
        tool_result: raw.tool_result.map(str::to_owned),
        documents: documents(raw),
        best_score: s.best_score,
    }
}

/// The retrieved documents: from OpenInference's flattened keys, else the GenAI JSON array.
fn documents(raw: &Raw<'_>) -> Vec<Doc> {
    let mut flat: BTreeMap<usize, Doc> = BTreeMap::new();
    for kv in raw.attributes {
        let Some(rest) = kv.key.strip_prefix("retrieval.documents.") else {
            continue;
        };
        let Some((i, field)) = rest.split_once(".document.") else {
            continue;
        };
        let Ok(i) = i.parse::<usize>() else { continue };
        let doc = flat.entry(i).or_insert(Doc {
            id: None,
            score: None,
            content: None,
        });
        match field {
            "id" => doc.id = Some(kv.value.to_text()),
            "score" => doc.score = kv.value.as_f64(),
            "content" => doc.content = kv.value.as_str().map(str::to_owned),
            _ => {}
        }
    }
    if !flat.is_empty() {
        return flat.into_values().collect();
    }
    let Some(json) = raw
        .attributes
        .iter()
        .find(|kv| kv.key == "gen_ai.retrieval.documents")
        .and_then(|kv| kv.value.as_str())
    else {
        return Vec::new();
    };
    let Ok(Json::Array(items)) = serde_json::from_str::<Json>(json) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|d| Doc {
            id: d.get("id").map(|v| match v {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            }),
            score: d.get("score").and_then(Json::as_f64),
            content: d.get("content").and_then(Json::as_str).map(str::to_owned),
        })
        .collect()
}

/// Traces read back: each trace id with its spans.
type Loaded = Vec<(u128, Vec<Kept>)>;

/// Reads the spans of the traces `ids` name (ids or prefixes); each must name exactly one trace.
fn load(ids: &[&str], inputs: &Inputs, problems: Vec<Problem>) -> (Result<Loaded, String>, Report) {
    let prefixes: Vec<String> = ids.iter().map(|i| i.trim().to_lowercase()).collect();
    for p in &prefixes {
        if p.len() < 4 || !p.chars().all(|c| c.is_ascii_hexdigit()) {
            return (
                Err(format!(
                    "{p:?}: give a trace id or at least its first 4 hex digits"
                )),
                Report {
                    problems,
                    ..Default::default()
                },
            );
        }
    }
    let (matching, report) = source::scan(inputs, problems, || Matching {
        prefixes: prefixes.clone(),
        spans: Vec::new(),
    });
    let mut by_trace: HashMap<u128, Vec<Kept>> = HashMap::new();
    for k in matching.spans {
        by_trace
            .entry(u128::from_be_bytes(
                k.data.span_context.trace_id().to_bytes(),
            ))
            .or_default()
            .push(k);
    }
    let mut result = Vec::new();
    for p in &prefixes {
        let mut found: Vec<u128> = by_trace
            .keys()
            .copied()
            .filter(|id| out::full_id(*id).starts_with(p.as_str()))
            .collect();
        found.sort_unstable();
        match found.as_slice() {
            [] => return (Err(format!("no trace {p} in the input")), report),
            [id] => {
                let mut spans = by_trace.get(id).cloned().unwrap_or_default();
                // Input order decides between duplicates in the tree; make it the file order
                // whatever the parallel read did.
                spans
                    .sort_by_key(|k| (k.data.start_time, k.data.span_context.span_id().to_bytes()));
                result.push((*id, spans));
            }
            many => {
                let list: Vec<String> = many.iter().take(5).map(|id| out::full_id(*id)).collect();
                return (
                    Err(format!(
                        "{p} names {} traces ({}{}): give more digits",
                        many.len(),
                        list.join(", "),
                        if many.len() > 5 { ", ..." } else { "" }
                    )),
                    report,
                );
            }
        }
    }
    (Ok(result), report)
}

pub(super) fn show(
    args: &ShowArgs,
    json: bool,
    inputs: &Inputs,
    problems: Vec<Problem>,
) -> (Outcome, Report) {
    let (loaded, report) = load(&[&args.trace], inputs, problems);
    let (trace_id, spans) = match loaded {
        Ok(mut v) => v.remove(0),
        Err(e) => return (Outcome::NotFound(e), report),
    };
    let data: Vec<SpanData> = spans.iter().map(|k| k.data.clone()).collect();
    let trees = tree::build(&data);
    if let Some(which) = &args.span {
        let w = which.to_lowercase();
        let chosen: Vec<&Kept> = spans
            .iter()
            .filter(|k| {
                k.data.name == which.as_str()
                    || (w.len() >= 4
                        && out::span_id(u64::from_be_bytes(
                            k.data.span_context.span_id().to_bytes(),
                        ))
                        .starts_with(w.as_str()))
            })
            .collect();
        if chosen.is_empty() {
            return (
                Outcome::NotFound(format!(
                    "no span named or with id {which:?} in trace {}",
                    out::full_id(trace_id)
                )),
                report,
            );
        }
        for (i, k) in chosen.iter().enumerate() {
            if json {
                out::json_line(&span_json(k, true));
            } else {
                if i > 0 {
                    println!();
                }
                print_details(k, i + 1, chosen.len());
            }
        }
        return (Outcome::Ok, report);
    }
    if json {
        let by_id: HashMap<[u8; 8], &Kept> = spans
            .iter()
            .map(|k| (k.data.span_context.span_id().to_bytes(), k))
            .collect();
        for t in &trees {
            walk(t, &mut |node, depth| {
                if let Some(k) = by_id.get(&node.span_id().to_bytes()) {
                    let mut v = span_json(k, false);
                    v["depth"] = json!(depth);
                    v["slowest"] = json!(node.is_slowest());
                    v["orphan"] = json!(node.is_orphan());
                    out::json_line(&v);
                }
            });
        }
    } else {
        for t in &trees {
            let mut text = TreeText::new(t);
            if let Some(root) = t.root() {
                if root_is_foreign(&spans, root) {
                    text = text.note("(foreign parent)");
                }
            }
            print!("{text}");
        }
    }
    (Outcome::Ok, report)
}

fn root_is_foreign(spans: &[Kept], root: Node<'_>) -> bool {
    root.parent_span_id() != SpanId::INVALID
        && spans
            .iter()
            .all(|k| k.data.span_context.span_id() != root.parent_span_id())
}

/// Every node of `t`, depth first in start order, with its depth (the root is 0).
fn walk<'a>(t: &'a Tree, f: &mut dyn FnMut(Node<'a>, usize)) {
    let mut stack: Vec<(Node<'a>, usize)> = Vec::new();
    match t.root() {
        Some(r) => stack.push((r, 0)),
        None => stack.extend(t.top_level().rev().map(|n| (n, 1))),
    }
    while let Some((n, d)) = stack.pop() {
        f(n, d);
        stack.extend(n.children().rev().map(|c| (c, d + 1)));
    }
}

fn parse_json(text: &Option<String>) -> Json {
    match text {
        Some(t) => serde_json::from_str(t).unwrap_or_else(|_| Json::String(t.clone())),
        None => Json::Null,
    }
}

fn span_json(k: &Kept, details: bool) -> Json {
    let d = &k.data;
    let start = out::unix_ns(d.start_time);
    let end = out::unix_ns(d.end_time);
    let mut v = json!({
        "trace_id": format!("{:032x}", d.span_context.trace_id()),
        "span_id": format!("{:016x}", d.span_context.span_id()),
        "parent_span_id": (d.parent_span_id != SpanId::INVALID).then(|| format!("{:016x}", d.parent_span_id)),
        "name": d.name,
        "start": out::time_nanos(start),
        "duration_ms": out::ms(end.saturating_sub(start)),
        "error": k.error,
        "model": k.model,
        "input_tokens": k.input_tokens,
        "output_tokens": k.output_tokens,
        "cost_usd": k.cost,
        "usage_missing": k.usage_missing,
        "cost_unpriced": k.unpriced,
    });
    if details {
        v["response_model"] = json!(k.response_model);
        v["provider"] = json!(k.provider);
        v["prompt"] = json!(k.prompt);
        v["cache_read_tokens"] = json!(k.cache_read);
        v["cache_write_tokens"] = json!(k.cache_write);
        v["reasoning_tokens"] = json!(k.reasoning);
        v["time_to_first_chunk_ms"] = json!(k.ttft.map(|s| (s * 1e6).round() / 1e3));
        v["content_truncated"] = json!(k.truncated);
        v["input_messages"] = parse_json(&k.input_messages);
        v["output_messages"] = parse_json(&k.output_messages);
        v["tool_arguments"] = parse_json(&k.tool_arguments);
        v["tool_result"] = parse_json(&k.tool_result);
        v["documents"] = json!(k.documents);
        v["events"] = Json::Array(
            d.events
                .iter()
                .map(|e| {
                    let attrs: serde_json::Map<String, Json> = e
                        .attributes
                        .iter()
                        .map(|kv| (kv.key.to_string(), json!(kv.value.to_string())))
                        .collect();
                    json!({"name": e.name, "time": out::time_nanos(out::unix_ns(e.timestamp)), "attributes": attrs})
                })
                .collect(),
        );
        let attrs: serde_json::Map<String, Json> = d
            .attributes
            .iter()
            .map(|kv| (kv.key.to_string(), json!(kv.value.to_string())))
            .collect();
        v["attributes"] = Json::Object(attrs);
    }
    v
}

/// One message per line: `[role] text`, tool calls and their results spelled out.
fn message_lines(json: &str) -> Vec<String> {
    let Ok(Json::Array(messages)) = serde_json::from_str::<Json>(json) else {
        return vec![out::excerpt(json, 200)];
    };
    let mut lines = Vec::new();
    for m in &messages {
        let role = m.get("role").and_then(Json::as_str).unwrap_or("?");
        let parts = m
            .get("parts")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        let mut texts = Vec::new();
        for p in &parts {
            let text = match p.get("type").and_then(Json::as_str) {
                Some("text") | Some("reasoning") => p
                    .get("content")
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .to_owned(),
                Some("tool_call") => format!(
                    "→ {}({})",
                    p.get("name").and_then(Json::as_str).unwrap_or("?"),
                    p.get("arguments").map(Json::to_string).unwrap_or_default()
                ),
                Some("tool_call_response") => format!(
                    "← {}",
                    p.get("response")
                        .map(|r| r.as_str().map_or_else(|| r.to_string(), str::to_owned))
                        .unwrap_or_default()
                ),
                Some(other) => format!("<{other}>"),
                None => p.to_string(),
            };
            texts.push(text);
        }
        let mut line = format!("[{role}] {}", texts.join(" "));
        if let Some(f) = m.get("finish_reason").and_then(Json::as_str) {
            line.push_str(&format!("  (finish: {f})"));
        }
        lines.push(out::excerpt(&line, 160));
    }
    lines
}

fn print_details(k: &Kept, n: usize, of: usize) {
    let d = &k.data;
    let start = out::unix_ns(d.start_time);
    let end = out::unix_ns(d.end_time);
    let which = if of > 1 {
        format!("  ({n} of {of})")
    } else {
        String::new()
    };
    println!(
        "{}  span {:016x}  trace {:032x}{which}",
        d.name,
        d.span_context.span_id(),
        d.span_context.trace_id()
    );
    let row = |label: &str, value: String| println!("  {label:<11} {value}");
    row(
        "start",
        format!(
            "{}  took {}",
            out::time(start),
            out::dur(end.saturating_sub(start))
        ),
    );
    match &k.error {
        Some(e) => row("status", format!("✗ {e}")),
        None => row("status", "ok".to_owned()),
    }
    if k.model.is_some() || k.response_model.is_some() {
        let mut m = k.model.clone().unwrap_or_else(|| "-".to_owned());
        if let Some(r) = &k.response_model {
            if k.model.as_ref() != Some(r) {
                m.push_str(&format!(" (answered by {r})"));
            }
        }
        if let Some(p) = &k.provider {
            m.push_str(&format!(", provider {p}"));
        }
        row("model", m);
    }
    if let Some(p) = &k.prompt {
        row("prompt", p.clone());
    }
    if k.kind == OpKind::Model || k.input_tokens.is_some() || k.usage_missing {
        let usage = if k.usage_missing && k.input_tokens.is_none() {
            "tokens ? (llmtrace.usage.missing: the call reported no usage)".to_owned()
        } else {
            let mut u = format!("{} in", k.input_tokens.map_or("-".to_owned(), out::count));
            let mut extra = Vec::new();
            if let Some(c) = k.cache_read {
                extra.push(format!("{} cache read", out::count(c)));
            }
            if let Some(c) = k.cache_write {
                extra.push(format!("{} cache write", out::count(c)));
            }
            if !extra.is_empty() {
                u.push_str(&format!(" ({})", extra.join(", ")));
            }
            u.push_str(&format!(
                " / {} out",
                k.output_tokens.map_or("-".to_owned(), out::count)
            ));
            if let Some(r) = k.reasoning {
                u.push_str(&format!(" ({} reasoning)", out::count(r)));
            }
            u + " tokens"
        };
        row("usage", usage);
        let cost = match (k.cost, k.unpriced) {
            (_, true) => "cost ? (llmtrace.cost.unpriced: no price for the model)".to_owned(),
            (Some(c), false) => out::cost(Some(c), false),
            (None, false) => "-".to_owned(),
        };
        row("cost", cost);
    }
    if let Some(t) = k.ttft {
        row("ttft", out::dur((t.max(0.0) * 1e9) as u64));
    }
    if k.truncated {
        row(
            "content",
            "truncated to the content limit (llmtrace.content.truncated)".to_owned(),
        );
    }
    let block = |label: &str, lines: Vec<String>| {
        println!("  {label}");
        for l in lines {
            println!("    {l}");
        }
    };
    if let Some(m) = &k.input_messages {
        block("messages in", message_lines(m));
    }
    if let Some(m) = &k.output_messages {
        block("messages out", message_lines(m));
    }
    if !k.documents.is_empty() || k.kind == OpKind::Retrieval {
        let lines = k
            .documents
            .iter()
            .map(|doc| {
                format!(
                    "{:<10} {:>6}  {}",
                    doc.id.as_deref().unwrap_or("-"),
                    doc.score.map_or("-".to_owned(), |s| format!("{s:.2}")),
                    out::excerpt(doc.content.as_deref().unwrap_or(""), 100)
                )
            })
            .collect();
        let best = k
            .best_score
            .map_or(String::new(), |b| format!(" (best score {b:.2})"));
        block(&format!("documents{best}"), lines);
    }
    if let Some(a) = &k.tool_arguments {
        row("arguments", out::excerpt(a, 160));
    }
    if let Some(r) = &k.tool_result {
        row("result", out::excerpt(r, 160));
    }
    if !d.events.is_empty() {
        let lines = d
            .events
            .iter()
            .map(|e| {
                let attrs: Vec<String> = e
                    .attributes
                    .iter()
                    .map(|kv| format!("{}={}", kv.key, out::excerpt(&kv.value.to_string(), 100)))
                    .collect();
                format!("{}  {}", e.name, attrs.join("  "))
            })
            .collect();
        block("events", lines);
    }
}

// ---- diff -----------------------------------------------------------------------------------

/// A span's place in its trace: the names from the root down, each with its index among
/// siblings of the same name (`support_answer/chat gpt-4o#2`).
fn paths(spans: &[Kept]) -> Vec<(String, Kept)> {
    let data: Vec<SpanData> = spans.iter().map(|k| k.data.clone()).collect();
    let by_id: HashMap<[u8; 8], &Kept> = spans
        .iter()
        .map(|k| (k.data.span_context.span_id().to_bytes(), k))
        .collect();
    let mut outv = Vec::new();
    for t in tree::build(&data) {
        let mut stack: Vec<(Node<'_>, String)> = Vec::new();
        let root_path = |n: Node<'_>| n.workflow_name().unwrap_or(n.name()).to_owned();
        match t.root() {
            Some(r) => stack.push((r, root_path(r))),
            None => stack.extend(t.top_level().map(|n| (n, format!("?/{}", n.name())))),
        }
        while let Some((n, path)) = stack.pop() {
            if let Some(k) = by_id.get(&n.span_id().to_bytes()) {
                outv.push((path.clone(), (*k).clone()));
            }
            let mut seen: HashMap<&str, usize> = HashMap::new();
            let children: Vec<(Node<'_>, String)> = n
                .children()
                .map(|c| {
                    let i = seen.entry(c.name()).or_insert(0);
                    *i += 1;
                    let p = if *i == 1 {
                        format!("{path}/{}", c.name())
                    } else {
                        format!("{path}/{}#{}", c.name(), i)
                    };
                    (c, p)
                })
                .collect();
            stack.extend(children.into_iter().rev());
        }
    }
    outv
}

fn output_of(k: &Kept) -> Option<&str> {
    k.output_messages
        .as_deref()
        .or(k.tool_result.as_deref())
        .or(k.output_value.as_deref())
}

pub(super) fn diff(
    args: &DiffArgs,
    json: bool,
    inputs: &Inputs,
    problems: Vec<Problem>,
) -> (Outcome, Report) {
    let (loaded, report) = load(&[&args.a, &args.b], inputs, problems);
    let traces = match loaded {
        Ok(v) => v,
        Err(e) => return (Outcome::NotFound(e), report),
    };
    let a = paths(&traces[0].1);
    let b = paths(&traces[1].1);
    let mut order: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for (p, _) in a.iter().chain(&b) {
        if seen.insert(p.clone()) {
            order.push(p.clone());
        }
    }
    let a: HashMap<String, Kept> = a.into_iter().collect();
    let b: HashMap<String, Kept> = b.into_iter().collect();
    let dur =
        |k: &Kept| out::unix_ns(k.data.end_time).saturating_sub(out::unix_ns(k.data.start_time));
    let tok = |k: &Kept| match (k.input_tokens, k.output_tokens) {
        (None, None) => None,
        (i, o) => Some(i.unwrap_or(0) + o.unwrap_or(0)),
    };
    if !json {
        println!(
            "A {}    B {}",
            out::full_id(traces[0].0),
            out::full_id(traces[1].0)
        );
    }
    let mut t = out::table(
        &[
            "span",
            "duration A → B",
            "tokens A → B",
            "cost A → B",
            "model",
            "prompt",
            "output",
        ],
        &[],
    );
    for p in &order {
        let (ka, kb) = (a.get(p), b.get(p));
        let change = |fa: Option<String>, fb: Option<String>| -> String {
            match (fa, fb) {
                (None, None) => String::new(),
                (x, y) if x == y => x.unwrap_or_default(),
                (x, y) => format!(
                    "{} → {}",
                    x.unwrap_or_else(|| "-".into()),
                    y.unwrap_or_else(|| "-".into())
                ),
            }
        };
        let output = match (ka, kb) {
            (Some(x), Some(y)) => match (output_of(x), output_of(y)) {
                (None, None) => "",
                (x, y) if x == y => "same",
                _ => "changed",
            },
            (Some(_), None) => "only in A",
            (None, Some(_)) => "only in B",
            (None, None) => "",
        };
        if json {
            let side = |k: Option<&Kept>| {
                k.map(|k| {
                    json!({
                        "span_id": format!("{:016x}", k.data.span_context.span_id()),
                        "duration_ms": out::ms(dur(k)),
                        "input_tokens": k.input_tokens,
                        "output_tokens": k.output_tokens,
                        "cost_usd": k.cost,
                        "model": k.model,
                        "prompt": k.prompt,
                        "error": k.error,
                    })
                })
            };
            let delta = match (ka, kb) {
                (Some(x), Some(y)) => Some(out::ms(dur(y)) - out::ms(dur(x))),
                _ => None,
            };
            out::json_line(&json!({
                "path": p,
                "a": side(ka),
                "b": side(kb),
                "duration_delta_ms": delta.map(|d| (d * 1000.0).round() / 1000.0),
                "output": output,
            }));
            continue;
        }
        let arrow = |fa: Option<&Kept>, fb: Option<&Kept>, f: &dyn Fn(&Kept) -> String| {
            format!(
                "{} → {}",
                fa.map_or("-".to_owned(), f),
                fb.map_or("-".to_owned(), f)
            )
        };
        let d = match (ka, kb) {
            (Some(x), Some(y)) => {
                let (dx, dy) = (dur(x) as f64, dur(y) as f64);
                let pct = if dx > 0.0 {
                    (dy - dx) / dx * 100.0
                } else {
                    0.0
                };
                format!("{} → {} ({pct:+.0}%)", out::dur(dur(x)), out::dur(dur(y)))
            }
            _ => arrow(ka, kb, &|k| out::dur(dur(k))),
        };
        t.add_row(vec![
            p.clone(),
            d,
            if ka.and_then(tok).is_none() && kb.and_then(tok).is_none() {
                String::new()
            } else {
                arrow(ka, kb, &|k| tok(k).map_or("-".to_owned(), out::count))
            },
            if ka.and_then(|k| k.cost).is_none() && kb.and_then(|k| k.cost).is_none() {
                String::new()
            } else {
                arrow(ka, kb, &|k| out::cost(k.cost, k.unpriced))
            },
            change(
                ka.and_then(|k| k.model.clone()),
                kb.and_then(|k| k.model.clone()),
            ),
            change(
                ka.and_then(|k| k.prompt.clone()),
                kb.and_then(|k| k.prompt.clone()),
            ),
            output.to_owned(),
        ]);
    }
    if !json {
        out::print_table(&t);
    }
    (Outcome::Ok, report)
}
