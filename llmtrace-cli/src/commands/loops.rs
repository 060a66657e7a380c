//! `loops`: agent loops in one trace. The same tool with the same arguments (or the same model
//! with the same input messages) N times or more; and ping-pong, two tools calling in turn.
//! Each loop says how often, from when to when, whether the repeats failed, and the tokens and
//! cost of the model calls made while it lasted.

use std::collections::HashMap;

use serde_json::json;

use crate::source::{self, Accumulator, Inputs, Problem, Report};
use crate::span::{OpKind, SpanFacts};
use crate::{LoopsArgs, Outcome, out};

/// A tool or model call, as much as loop detection needs.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    start: u64,
    end: u64,
    span_id: u64,
    /// What repeats: a hash of the tool (or model) and its input.
    key: Option<u64>,
    /// The tool's name or the model span's name.
    label: String,
    input: String,
    is_tool: bool,
    error: bool,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    cost: Option<f64>,
}

#[derive(Debug, Default)]
struct Calls {
    by_trace: HashMap<u128, (String, Vec<Call>)>,
}

impl Call {
    /// The call `s` is, when it is a tool or model call.
    pub(crate) fn of(s: &SpanFacts<'_>) -> Option<Call> {
        let kind = s.kind();
        if kind != OpKind::Tool && kind != OpKind::Model {
            return None;
        }
        let repeat = s.repeat();
        Some(Call {
            start: s.start,
            end: s.end,
            span_id: s.span_id,
            key: repeat.hash,
            label: match kind {
                OpKind::Tool => s.tool.unwrap_or(s.name).to_owned(),
                _ => s.name.to_owned(),
            },
            input: repeat.input.into_owned(),
            is_tool: kind == OpKind::Tool,
            error: s.error,
            input_tokens: s.input_tokens,
            output_tokens: s.output_tokens,
            cost: s.cost,
        })
    }
}

impl Accumulator for Calls {
    fn add(&mut self, s: &SpanFacts<'_>) {
        if s.is_root() {
            let entry = self.by_trace.entry(s.trace_id).or_default();
            entry.0 = s.workflow.unwrap_or(s.name).to_owned();
        }
        if let Some(call) = Call::of(s) {
            self.by_trace.entry(s.trace_id).or_default().1.push(call);
        }
    }

    fn merge(&mut self, other: Self) {
        for (id, (root, calls)) in other.by_trace {
            let e = self.by_trace.entry(id).or_default();
            if e.0.is_empty() {
                e.0 = root;
            }
            e.1.extend(calls);
        }
    }
}

/// One loop found.
#[derive(Debug)]
pub(crate) struct Loop {
    trace_id: u128,
    root: String,
    /// `same-tool-call`, `same-model-input` or `ping-pong`.
    pub(crate) kind: &'static str,
    /// The tool or model span repeated, or the two tools (`a ⇄ b`).
    pub(crate) what: String,
    /// The spans that repeat.
    pub(crate) span_ids: Vec<u64>,
    input: String,
    /// Repeats (round trips for ping-pong).
    pub(crate) count: usize,
    first: u64,
    last: u64,
    failed: usize,
    input_tokens: i64,
    output_tokens: i64,
    cost: Option<f64>,
}

pub(super) fn run(
    args: &LoopsArgs,
    json: bool,
    inputs: &Inputs,
    problems: Vec<Problem>,
) -> (Outcome, Report) {
    let n = args.min_repeats.max(2);
    let (calls, report) = source::scan(inputs, problems, Calls::default);
    let mut loops = Vec::new();
    for (trace_id, (root, mut calls)) in calls.by_trace {
        sort_calls(&mut calls);
        find_loops(trace_id, &root, &calls, n, &mut loops);
    }
    loops.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.cost.unwrap_or(0.0).total_cmp(&a.cost.unwrap_or(0.0)))
            .then(a.trace_id.cmp(&b.trace_id))
            .then(a.what.cmp(&b.what))
    });
    if json {
        for l in &loops {
            out::json_line(&json!({
                "trace_id": out::full_id(l.trace_id),
                "root": l.root,
                "kind": l.kind,
                "what": l.what,
                "input": l.input,
                "count": l.count,
                "first": out::time_nanos(l.first),
                "last": out::time_nanos(l.last),
                "span_ms": out::ms(l.last.saturating_sub(l.first)),
                "failed": l.failed,
                "input_tokens": l.input_tokens,
                "output_tokens": l.output_tokens,
                "cost_usd": l.cost,
            }));
        }
        return (Outcome::Ok, report);
    }
    if loops.is_empty() {
        println!("no loops: no call repeated {n} times or more with the same input");
        return (Outcome::Ok, report);
    }
    let mut t = out::table(
        &[
            "trace",
            "root",
            "loop",
            "input",
            "times",
            "first",
            "for",
            "failed",
            "tokens in / out",
            "cost",
        ],
        &[4, 6, 7, 8, 9],
    );
    for l in &loops {
        t.add_row(vec![
            out::short_id(l.trace_id),
            out::excerpt(&l.root, 30),
            format!(
                "{} {}",
                if l.kind == "ping-pong" { "⇄" } else { "↻" },
                l.what
            ),
            l.input.clone(),
            format!("{}×", l.count),
            out::time(l.first),
            out::dur(l.last.saturating_sub(l.first)),
            format!("{}/{}", l.failed, l.count),
            out::tokens(Some(l.input_tokens), Some(l.output_tokens)),
            out::cost(l.cost, false),
        ]);
    }
    out::print_table(&t);
    (Outcome::Ok, report)
}

/// Tokens and cost of the model calls made while a loop lasted: from the model call that asked
/// for its first repeat (the last one started before it) to the end of its last repeat.
fn burned(calls: &[Call], first: u64, last: u64) -> (i64, i64, Option<f64>) {
    let first = calls
        .iter()
        .filter(|c| !c.is_tool && c.start <= first)
        .map(|c| c.start)
        .max()
        .unwrap_or(first);
    let mut input = 0;
    let mut output = 0;
    let mut cost: Option<f64> = None;
    for c in calls
        .iter()
        .filter(|c| !c.is_tool && c.start >= first && c.start <= last)
    {
        input += c.input_tokens.unwrap_or(0);
        output += c.output_tokens.unwrap_or(0);
        if let Some(x) = c.cost {
            cost = Some(cost.unwrap_or(0.0) + x);
        }
    }
    (input, output, cost)
}

/// Puts one trace's calls in the order [`find_loops`] reads them: by start.
pub(crate) fn sort_calls(calls: &mut [Call]) {
    calls.sort_by_key(|c| (c.start, c.span_id));
}

/// The loops among `calls` (one trace's, sorted by start), each repeated `n` times or more.
pub(crate) fn find_loops(
    trace_id: u128,
    root: &str,
    calls: &[Call],
    n: usize,
    loops: &mut Vec<Loop>,
) {
    // The same call repeated.
    let mut groups: HashMap<u64, Vec<&Call>> = HashMap::new();
    for c in calls {
        if let Some(k) = c.key {
            groups.entry(k).or_default().push(c);
        }
    }
    let mut repeated: Vec<Vec<&Call>> = groups.into_values().filter(|g| g.len() >= n).collect();
    repeated.sort_by_key(|g| g[0].start);
    for g in repeated {
        let first = g[0].start;
        let last = g[g.len() - 1].end;
        let (input_tokens, output_tokens, cost) = burned(calls, first, last);
        loops.push(Loop {
            trace_id,
            root: root.to_owned(),
            kind: if g[0].is_tool {
                "same-tool-call"
            } else {
                "same-model-input"
            },
            what: g[0].label.clone(),
            span_ids: g.iter().map(|c| c.span_id).collect(),
            input: g[0].input.clone(),
            count: g.len(),
            first,
            last: g[g.len() - 1].start,
            failed: g.iter().filter(|c| c.error).count(),
            input_tokens,
            output_tokens,
            cost,
        });
    }
    // Ping-pong: tool calls alternating between two tools, N round trips or more.
    let tools: Vec<&Call> = calls.iter().filter(|c| c.is_tool).collect();
    let mut i = 0;
    while i + 1 < tools.len() {
        let (a, b) = (&tools[i].label, &tools[i + 1].label);
        if a == b {
            i += 1;
            continue;
        }
        let mut j = i + 2;
        while j < tools.len() && tools[j].label == tools[j - 2].label {
            j += 1;
        }
        let run = &tools[i..j];
        let round_trips = run.len() / 2;
        if round_trips >= n {
            let first = run[0].start;
            let last = run[run.len() - 1].start;
            let (input_tokens, output_tokens, cost) = burned(calls, first, run[run.len() - 1].end);
            loops.push(Loop {
                trace_id,
                root: root.to_owned(),
                kind: "ping-pong",
                what: format!("{a} ⇄ {b}"),
                span_ids: run.iter().map(|c| c.span_id).collect(),
                input: String::new(),
                count: round_trips,
                first,
                last,
                failed: run.iter().filter(|c| c.error).count(),
                input_tokens,
                output_tokens,
                cost,
            });
            i = j;
        } else {
            i += 1;
        }
    }
}
