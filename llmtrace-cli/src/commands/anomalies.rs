//! `anomalies`: what looks wrong without a question asked. Retrievals whose best score is low,
//! calls with no usage or no price, content cut to the limit, spans far slower than the others
//! of their name, traces far more expensive than the others of their root name, and errors a
//! parent swallowed (the parent still succeeded).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;

use crate::source::{self, Accumulator, Inputs, Problem, Report};
use crate::span::{OpKind, SpanFacts};
use crate::traces::{Filters, Traces};
use crate::{AnomaliesArgs, Outcome, out};

/// A span, reduced to what the checks over whole traces need.
#[derive(Debug, Clone)]
struct Brief {
    trace_id: u128,
    span_id: u64,
    duration: u64,
    error: bool,
}

#[derive(Debug)]
struct Finding {
    kind: &'static str,
    trace_id: u128,
    span_id: Option<u64>,
    name: String,
    detail: String,
    value: Option<f64>,
}

/// The best retrieval score below which `anomalies` reports a retrieval by default.
pub(crate) const DEFAULT_MIN_SCORE: f64 = 0.5;

/// The findings about one span on its own: a low-score retrieval, missing usage, no price,
/// truncated content. Each is its kind, what it says, and the value it is about.
pub(crate) fn span_findings(
    s: &SpanFacts<'_>,
    min_score: f64,
) -> Vec<(&'static str, String, Option<f64>)> {
    let mut found = Vec::new();
    if s.kind() == OpKind::Retrieval {
        match s.best_score {
            Some(b) if b < min_score => found.push((
                "low_retrieval_score",
                format!("best score {b:.2} < {min_score:.2}"),
                Some(b),
            )),
            None if s.document_count == Some(0) => found.push((
                "low_retrieval_score",
                "no document retrieved".to_owned(),
                None,
            )),
            _ => {}
        }
    }
    if s.usage_missing {
        found.push((
            "usage_missing",
            "the call reported no token usage (tokens ?)".to_owned(),
            None,
        ));
    }
    if s.unpriced {
        let model = s.model().unwrap_or("?");
        found.push((
            "cost_unpriced",
            format!("no price for {model} (cost ?)"),
            None,
        ));
    }
    if s.truncated {
        found.push((
            "content_truncated",
            "content cut to the content limit".to_owned(),
            None,
        ));
    }
    found
}

/// Everything the checks gather in one pass.
struct Gather {
    min_score: f64,
    traces: Traces,
    /// Spans by name, for the latency check and the swallowed errors.
    by_name: HashMap<String, Vec<Brief>>,
    /// Errors, by trace: (span, parent, name, text).
    errors: Vec<(u128, u64, u64, String, String)>,
    findings: Vec<Finding>,
}

impl Accumulator for Gather {
    fn add(&mut self, s: &SpanFacts<'_>) {
        self.traces.add(s);
        self.by_name
            .entry(s.name.to_owned())
            .or_default()
            .push(Brief {
                trace_id: s.trace_id,
                span_id: s.span_id,
                duration: s.duration_ns(),
                error: s.error,
            });
        if s.error {
            self.errors.push((
                s.trace_id,
                s.span_id,
                s.parent_id,
                s.name.to_owned(),
                s.error_text().unwrap_or_default(),
            ));
        }
        for (kind, detail, value) in span_findings(s, self.min_score) {
            self.findings.push(Finding {
                kind,
                trace_id: s.trace_id,
                span_id: Some(s.span_id),
                name: s.name.to_owned(),
                detail,
                value,
            });
        }
    }

    fn merge(&mut self, other: Self) {
        self.traces.merge(other.traces);
        for (k, v) in other.by_name {
            self.by_name.entry(k).or_default().extend(v);
        }
        self.errors.extend(other.errors);
        self.findings.extend(other.findings);
    }
}

/// The value at nearest rank `p` of `sorted` with the element at `skip` left out.
fn percentile_without(sorted: &[u64], skip: usize, p: f64) -> Option<u64> {
    let n = sorted.len().checked_sub(1)?;
    if n == 0 {
        return None;
    }
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    let k = rank.clamp(1, n) - 1;
    Some(if k < skip { sorted[k] } else { sorted[k + 1] })
}

/// Spans of a name needed before a span can be called slow against the others.
const MIN_PEERS: usize = 4;

pub(super) fn run(
    args: &AnomaliesArgs,
    json: bool,
    inputs: &Inputs,
    problems: Vec<Problem>,
) -> (Outcome, Report) {
    let filters = Arc::new(Filters::default());
    let (g, report) = source::scan(inputs, problems, || Gather {
        min_score: args.min_score,
        traces: Traces::new(filters.clone()),
        by_name: HashMap::new(),
        errors: Vec::new(),
        findings: Vec::new(),
    });
    let mut findings = g.findings;
    // Slow spans: against the p95 of the other spans of the same name.
    let mut status: HashMap<(u128, u64), bool> = HashMap::new();
    for (name, spans) in &g.by_name {
        for b in spans {
            status.insert((b.trace_id, b.span_id), b.error);
        }
        if spans.len() <= MIN_PEERS {
            continue;
        }
        let mut order: Vec<usize> = (0..spans.len()).collect();
        order.sort_by_key(|&i| (spans[i].duration, spans[i].trace_id, spans[i].span_id));
        let sorted: Vec<u64> = order.iter().map(|&i| spans[i].duration).collect();
        for (pos, &i) in order.iter().enumerate().rev() {
            let Some(p95) = percentile_without(&sorted, pos, 95.0) else {
                break;
            };
            let d = spans[i].duration;
            if (d as f64) <= args.slow_factor * p95 as f64 || p95 == 0 {
                break;
            }
            findings.push(Finding {
                kind: "slow_span",
                trace_id: spans[i].trace_id,
                span_id: Some(spans[i].span_id),
                name: name.clone(),
                detail: format!(
                    "{} vs p95 {} of the other {} (×{:.1})",
                    out::dur(d),
                    out::dur(p95),
                    spans.len() - 1,
                    d as f64 / p95 as f64
                ),
                value: Some(out::ms(d)),
            });
        }
    }
    // Swallowed errors: the parent was seen and did not fail.
    for (trace_id, span_id, parent_id, name, text) in &g.errors {
        if let Some(false) = status.get(&(*trace_id, *parent_id)) {
            findings.push(Finding {
                kind: "swallowed_error",
                trace_id: *trace_id,
                span_id: Some(*span_id),
                name: name.clone(),
                detail: format!("✗ {text}, but its parent succeeded"),
                value: None,
            });
        }
    }
    // Costly traces: against the median of the other traces of the same root name.
    let mut by_root: HashMap<String, Vec<(f64, u128)>> = HashMap::new();
    for t in g.traces.finish() {
        if let Some(c) = t.cost {
            by_root
                .entry(t.root_name.clone())
                .or_default()
                .push((c, t.trace_id));
        }
    }
    for (root, mut costs) in by_root {
        if costs.len() < 3 {
            continue;
        }
        costs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let n = costs.len();
        for (pos, &(c, id)) in costs.iter().enumerate().rev() {
            // Median of the others.
            let others: Vec<f64> = costs
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != pos)
                .map(|(_, x)| x.0)
                .collect();
            let median = others[(others.len() - 1) / 2];
            if median <= 0.0 || c <= args.cost_factor * median {
                break;
            }
            findings.push(Finding {
                kind: "costly_trace",
                trace_id: id,
                span_id: None,
                name: root.clone(),
                detail: format!(
                    "{} vs median {} of the other {} (×{:.1})",
                    out::cost(Some(c), false),
                    out::cost(Some(median), false),
                    n - 1,
                    c / median
                ),
                value: Some(c),
            });
        }
    }
    let rank = |k: &str| {
        [
            "slow_span",
            "costly_trace",
            "low_retrieval_score",
            "swallowed_error",
            "usage_missing",
            "cost_unpriced",
            "content_truncated",
        ]
        .iter()
        .position(|x| *x == k)
        .unwrap_or(99)
    };
    findings.sort_by(|a, b| {
        rank(a.kind)
            .cmp(&rank(b.kind))
            .then(a.trace_id.cmp(&b.trace_id))
            .then(a.span_id.cmp(&b.span_id))
    });
    if json {
        for f in &findings {
            out::json_line(&json!({
                "kind": f.kind,
                "trace_id": out::full_id(f.trace_id),
                "span_id": f.span_id.map(out::span_id),
                "name": f.name,
                "detail": f.detail,
                "value": f.value,
            }));
        }
        return (Outcome::Ok, report);
    }
    if findings.is_empty() {
        println!("no anomalies");
        return (Outcome::Ok, report);
    }
    let mut t = out::table(&["anomaly", "trace", "span", "name", "detail"], &[]);
    for f in &findings {
        t.add_row(vec![
            f.kind.replace('_', " "),
            out::short_id(f.trace_id),
            f.span_id
                .map(out::span_id)
                .unwrap_or_else(|| "-".to_owned()),
            out::excerpt(&f.name, 40),
            f.detail.clone(),
        ]);
    }
    out::print_table(&t);
    (Outcome::Ok, report)
}

#[cfg(test)]
mod tests {
    use super::percentile_without;

    #[test]
    fn percentile_leaving_one_out() {
        let v = [1, 2, 3, 4, 100];
        assert_eq!(percentile_without(&v, 4, 95.0), Some(4));
        assert_eq!(percentile_without(&v, 0, 95.0), Some(100));
        assert_eq!(percentile_without(&[5], 0, 95.0), None);
    }
}
