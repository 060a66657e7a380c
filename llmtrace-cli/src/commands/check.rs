//! `check`: is the instrumentation complete? Every model call has a prompt, a completion, a
//! model, tokens and a latency; every retrieval has documents; every root has totals. One row
//! per span name with what is missing; the exit code is 1 when anything is.

use std::collections::{BTreeMap, HashMap};

use serde_json::json;

use crate::source::{self, Accumulator, Inputs, Problem, Report};
use crate::span::{OpKind, SpanFacts};
use crate::{Outcome, out};

/// The items checked, in the order printed.
const ITEMS: [&str; 7] = [
    "prompt",
    "completion",
    "model",
    "tokens",
    "latency",
    "documents",
    "totals",
];

#[derive(Debug, Default, Clone)]
struct Row {
    kind: &'static str,
    spans: u64,
    missing: [u64; 7],
}

/// Per span name; a root's totals can come from its roll-up or, for a lone call, its own
/// usage, so roots are checked once all spans are in.
#[derive(Debug, Default)]
struct Checks {
    rows: HashMap<String, Row>,
    /// (trace, name, has roll-up or own usage) of each root, and the traces with usage below.
    roots: Vec<(u128, String, bool)>,
    with_usage: HashMap<u128, u32>,
}

impl Accumulator for Checks {
    fn add(&mut self, s: &SpanFacts<'_>) {
        let kind = s.kind();
        let row = self.rows.entry(s.name.to_owned()).or_default();
        row.kind = match kind {
            OpKind::Model => "model call",
            OpKind::Retrieval => "retrieval",
            OpKind::Tool => "tool",
            OpKind::Other => "other",
        };
        row.spans += 1;
        let mut miss = |i: usize, missing: bool| row.missing[i] += u64::from(missing);
        match kind {
            OpKind::Model => {
                miss(0, !s.has_input_messages);
                miss(1, !s.has_output_messages && !s.error);
                miss(2, s.model().is_none());
                miss(
                    3,
                    s.usage_missing || s.input_tokens.is_none() || s.output_tokens.is_none(),
                );
                miss(4, s.end <= s.start);
            }
            OpKind::Retrieval => miss(5, !s.has_documents && !s.error),
            _ => {}
        }
        if s.input_tokens.is_some() || s.output_tokens.is_some() || s.cost.is_some() {
            *self.with_usage.entry(s.trace_id).or_default() += 1;
        }
        if s.is_root() {
            let own = s.rollup_input.is_some() || s.rollup_cost.is_some();
            self.roots.push((s.trace_id, s.name.to_owned(), own));
        }
    }

    fn merge(&mut self, other: Self) {
        for (k, r) in other.rows {
            let row = self.rows.entry(k).or_default();
            row.kind = r.kind;
            row.spans += r.spans;
            for (a, b) in row.missing.iter_mut().zip(r.missing) {
                *a += b;
            }
        }
        self.roots.extend(other.roots);
        for (k, n) in other.with_usage {
            *self.with_usage.entry(k).or_default() += n;
        }
    }
}

pub(super) fn run(json: bool, inputs: &Inputs, problems: Vec<Problem>) -> (Outcome, Report) {
    let (mut checks, report) = source::scan(inputs, problems, Checks::default);
    for (trace, name, has_totals) in std::mem::take(&mut checks.roots) {
        // A root needs totals when something below it reported usage: more than one span of
        // the trace did, or one that is not the root itself.
        let usage_spans = checks.with_usage.get(&trace).copied().unwrap_or(0);
        let needs = usage_spans > 1
            || (usage_spans == 1
                && checks
                    .rows
                    .get(&name)
                    .is_some_and(|r| r.kind != "model call"));
        if needs && !has_totals {
            if let Some(row) = checks.rows.get_mut(&name) {
                row.missing[6] += 1;
            }
        }
    }
    let rows: BTreeMap<String, Row> = checks.rows.into_iter().collect();
    let gaps: u64 = rows.values().map(|r| r.missing.iter().sum::<u64>()).sum();
    if json {
        for (name, r) in &rows {
            let missing: serde_json::Map<String, serde_json::Value> = ITEMS
                .iter()
                .zip(r.missing)
                .map(|(k, n)| ((*k).to_owned(), json!(n)))
                .collect();
            out::json_line(&json!({
                "name": name,
                "kind": r.kind,
                "spans": r.spans,
                "missing": missing,
                "complete": r.missing.iter().all(|&n| n == 0),
            }));
        }
    } else {
        let mut header = vec!["span", "kind", "spans"];
        header.extend(ITEMS);
        header.push("status");
        let mut t = out::table(&header, &[2, 3, 4, 5, 6, 7, 8, 9]);
        for (name, r) in &rows {
            let mut cells = vec![
                out::excerpt(name, 40),
                r.kind.to_owned(),
                out::count(r.spans as i64),
            ];
            for (i, n) in r.missing.iter().enumerate() {
                let applies = match i {
                    0..=4 => r.kind == "model call",
                    5 => r.kind == "retrieval",
                    _ => true,
                };
                cells.push(match (applies || *n > 0, *n) {
                    (false, _) => "".to_owned(),
                    (true, 0) => "✓".to_owned(),
                    (true, n) => format!("✗ {} missing", out::count(n as i64)),
                });
            }
            cells.push(
                if r.missing.iter().all(|&n| n == 0) {
                    "ok"
                } else {
                    "gaps"
                }
                .to_owned(),
            );
            t.add_row(cells);
        }
        out::print_table(&t);
        if gaps == 0 {
            println!("instrumentation complete: nothing missing");
        } else {
            println!("{} gaps", out::count(gaps as i64));
        }
    }
    (if gaps > 0 { Outcome::Gaps } else { Outcome::Ok }, report)
}
