//! Spans grouped by a key (span name and model for `stats`; model, provider, prompt or tool for
//! `top --group-by`): calls, errors, tokens, cost and the latencies for percentiles.

use std::collections::HashMap;

use serde_json::json;

use crate::source::{self, Accumulator, Inputs, Problem, Report};
use crate::span::{OpKind, SpanFacts};
use crate::usd::{self, Usd};
use crate::{GroupBy, Outcome, StatsArgs, out};

/// Which spans a group takes, and under which key.
#[derive(Debug, Clone, Copy)]
pub(super) enum Key {
    /// Every span, by name and model (`stats`).
    NameModel,
    /// Spans that carry this attribute, by its value.
    By(GroupBy),
}

/// One group's numbers.
#[derive(Debug, Default, Clone)]
pub(super) struct Group {
    pub(super) calls: u64,
    pub(super) errors: u64,
    pub(super) input: Option<i64>,
    pub(super) output: Option<i64>,
    pub(super) cost: Option<Usd>,
    pub(super) lower_bound: bool,
    /// Durations in ns; sorted by `finish`.
    pub(super) durations: Vec<u64>,
    /// Times to first chunk in ns; sorted by `finish`.
    pub(super) ttfts: Vec<u64>,
}

fn add<T: std::ops::Add<Output = T>>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

impl Group {
    fn merge(&mut self, o: Group) {
        self.calls += o.calls;
        self.errors += o.errors;
        self.input = add(self.input, o.input);
        self.output = add(self.output, o.output);
        self.cost = usd::merge(self.cost, o.cost);
        self.lower_bound |= o.lower_bound;
        self.durations.extend(o.durations);
        self.ttfts.extend(o.ttfts);
    }

    /// The cost, in dollars.
    pub(super) fn cost_usd(&self) -> Option<f64> {
        self.cost.map(Usd::dollars)
    }

    pub(super) fn tokens(&self) -> i64 {
        self.input
            .unwrap_or(0)
            .saturating_add(self.output.unwrap_or(0))
    }

    pub(super) fn total_duration(&self) -> u64 {
        self.durations.iter().sum()
    }

    pub(super) fn p(&self, p: f64) -> Option<u64> {
        out::percentile(&self.durations, p)
    }
}

/// Spans grouped by a key.
#[derive(Debug)]
pub(super) struct Groups {
    key: Key,
    since: Option<u64>,
    pub(super) map: HashMap<(String, String), Group>,
}

impl Groups {
    pub(super) fn new(key: Key, since: Option<u64>) -> Self {
        Groups {
            key,
            since,
            map: HashMap::new(),
        }
    }

    /// The groups, each one's durations sorted, by key.
    pub(super) fn finish(self) -> Vec<((String, String), Group)> {
        let mut v: Vec<_> = self.map.into_iter().collect();
        for (_, g) in &mut v {
            g.durations.sort_unstable();
            g.ttfts.sort_unstable();
        }
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    fn key_of(&self, s: &SpanFacts<'_>) -> Option<(String, String)> {
        let one = |v: Option<&str>| v.map(|v| (v.to_owned(), String::new()));
        match self.key {
            Key::NameModel => Some((s.name.to_owned(), s.model().unwrap_or("").to_owned())),
            Key::By(GroupBy::Model) => one(s.model().filter(|_| s.kind() == OpKind::Model)),
            Key::By(GroupBy::Provider) => one(s.provider.filter(|_| s.kind() == OpKind::Model)),
            Key::By(GroupBy::Prompt) => s.prompt().map(|p| (p, String::new())),
            Key::By(GroupBy::Tool) => one(s.tool.filter(|_| s.kind() == OpKind::Tool)),
            // Grouped from the trace summaries, not here.
            Key::By(GroupBy::User | GroupBy::Session | GroupBy::Name) => None,
        }
    }
}

impl Accumulator for Groups {
    fn add(&mut self, s: &SpanFacts<'_>) {
        if self.since.is_some_and(|since| s.start < since) {
            return;
        }
        let Some(key) = self.key_of(s) else {
            return;
        };
        let g = self.map.entry(key).or_default();
        g.calls += 1;
        g.errors += u64::from(s.error);
        g.input = add(g.input, s.input_tokens);
        g.output = add(g.output, s.output_tokens);
        g.cost = usd::add(g.cost, s.cost);
        g.lower_bound |= s.usage_missing || s.unpriced;
        g.durations.push(s.duration_ns());
        if let Some(t) = s.ttft.filter(|t| t.is_finite() && *t >= 0.0) {
            g.ttfts.push((t * 1e9) as u64);
        }
    }

    fn merge(&mut self, other: Self) {
        for (k, g) in other.map {
            self.map.entry(k).or_default().merge(g);
        }
    }
}

/// `stats`: per span name and model.
pub(super) fn stats(
    args: &StatsArgs,
    json: bool,
    inputs: &Inputs,
    problems: Vec<Problem>,
) -> (Outcome, Report) {
    let (groups, report) =
        source::scan(inputs, problems, || Groups::new(Key::NameModel, args.since));
    let groups = groups.finish();
    if json {
        for ((name, model), g) in &groups {
            out::json_line(&json!({
                "name": name,
                "model": (!model.is_empty()).then_some(model),
                "calls": g.calls,
                "errors": g.errors,
                "error_rate": g.errors as f64 / g.calls.max(1) as f64,
                "p50_ms": g.p(50.0).map(out::ms),
                "p95_ms": g.p(95.0).map(out::ms),
                "p99_ms": g.p(99.0).map(out::ms),
                "input_tokens": g.input,
                "output_tokens": g.output,
                "cost_usd": g.cost_usd(),
                "cost_lower_bound": g.lower_bound,
                "ttft_p50_ms": out::percentile(&g.ttfts, 50.0).map(out::ms),
                "ttft_p95_ms": out::percentile(&g.ttfts, 95.0).map(out::ms),
            }));
        }
        return (Outcome::Ok, report);
    }
    let mut t = out::table(
        &[
            "span",
            "model",
            "calls",
            "errors",
            "p50",
            "p95",
            "p99",
            "tokens in / out",
            "cost",
            "ttft p50 / p95",
        ],
        &[2, 3, 4, 5, 6, 7, 8, 9],
    );
    for ((name, model), g) in &groups {
        let p = |q| g.p(q).map_or_else(|| "-".to_owned(), out::dur);
        let ttft = match (
            out::percentile(&g.ttfts, 50.0),
            out::percentile(&g.ttfts, 95.0),
        ) {
            (Some(a), Some(b)) => format!("{} / {}", out::dur(a), out::dur(b)),
            _ => "-".to_owned(),
        };
        t.add_row(vec![
            out::excerpt(name, 40),
            if model.is_empty() {
                "-".to_owned()
            } else {
                model.clone()
            },
            out::count(g.calls as i64),
            error_rate(g.errors, g.calls),
            p(50.0),
            p(95.0),
            p(99.0),
            out::tokens(g.input, g.output),
            out::cost(g.cost_usd(), g.lower_bound),
            ttft,
        ]);
    }
    out::print_table(&t);
    (Outcome::Ok, report)
}

/// `2 (40%)`, or `-` for none.
pub(super) fn error_rate(errors: u64, calls: u64) -> String {
    if errors == 0 {
        return "-".to_owned();
    }
    format!(
        "{} ({:.0}%)",
        out::count(errors as i64),
        errors as f64 * 100.0 / calls.max(1) as f64
    )
}
