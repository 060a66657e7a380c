//! `top`: traces, or groups of calls or traces, ranked by cost, tokens, duration or errors.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;

use super::groups::{Group, Groups, Key, error_rate};
use super::ls::{print_traces, trace_json};
use crate::source::{self, Inputs, Problem, Report};
use crate::traces::{TraceSummary, Traces};
use crate::usd;
use crate::{By, GroupBy, Outcome, TopArgs, out};

pub(super) fn run(
    args: &TopArgs,
    json: bool,
    inputs: &Inputs,
    problems: Vec<Problem>,
) -> (Outcome, Report) {
    match args.group_by {
        None => top_traces(args, json, inputs, problems),
        Some(g @ (GroupBy::User | GroupBy::Session | GroupBy::Name)) => {
            top_trace_groups(args, g, json, inputs, problems)
        }
        Some(g) => {
            let (groups, report) = source::scan(inputs, problems, || {
                Groups::new(Key::By(g), args.filter.since)
            });
            let groups: Vec<(String, Group)> = groups
                .finish()
                .into_iter()
                .map(|((k, _), g)| (k, g))
                .collect();
            print_groups(args, g, groups, json, "calls");
            (Outcome::Ok, report)
        }
    }
}

fn metric_trace(t: &TraceSummary, by: By) -> f64 {
    match by {
        By::Cost => t.cost.unwrap_or(0.0),
        By::Tokens => t.tokens() as f64,
        By::Duration => t.duration as f64,
        By::Errors => f64::from(t.errors),
    }
}

fn top_traces(
    args: &TopArgs,
    json: bool,
    inputs: &Inputs,
    problems: Vec<Problem>,
) -> (Outcome, Report) {
    let filters = Arc::new(args.filter.filters());
    let (traces, report) = source::scan(inputs, problems, || Traces::new(filters.clone()));
    let mut list = traces.filtered();
    let mut durations: Vec<u64> = list.iter().map(|t| t.duration).collect();
    durations.sort_unstable();
    let order = |a: &TraceSummary, b: &TraceSummary| {
        metric_trace(b, args.by)
            .total_cmp(&metric_trace(a, args.by))
            .then(a.trace_id.cmp(&b.trace_id))
    };
    // Only the first `limit` are printed: pick them, then sort them (the order is total, so
    // this is the order a full sort gives).
    if args.limit > 0 && args.limit < list.len() {
        list.select_nth_unstable_by(args.limit - 1, order);
        list.truncate(args.limit);
    }
    list.sort_by(order);
    list.truncate(args.limit);
    if json {
        for (i, t) in list.iter().enumerate() {
            let mut v = trace_json(t);
            v["rank"] = json!(i + 1);
            out::json_line(&v);
        }
    } else {
        print_traces(&list);
        if args.by == By::Duration {
            print_percentiles("traces", &durations);
        }
    }
    (Outcome::Ok, report)
}

fn print_percentiles(what: &str, sorted: &[u64]) {
    if let (Some(a), Some(b), Some(c)) = (
        out::percentile(sorted, 50.0),
        out::percentile(sorted, 95.0),
        out::percentile(sorted, 99.0),
    ) {
        println!(
            "{} {what}: p50 {}  p95 {}  p99 {}",
            out::count(sorted.len() as i64),
            out::dur(a),
            out::dur(b),
            out::dur(c)
        );
    }
}

/// Traces grouped by user, session or root name.
fn top_trace_groups(
    args: &TopArgs,
    by: GroupBy,
    json: bool,
    inputs: &Inputs,
    problems: Vec<Problem>,
) -> (Outcome, Report) {
    let filters = Arc::new(args.filter.filters());
    let (traces, report) = source::scan(inputs, problems, || Traces::new(filters.clone()));
    let mut map: HashMap<String, Group> = HashMap::new();
    for t in traces.filtered() {
        let key = match by {
            GroupBy::User => t.user.clone(),
            GroupBy::Session => t.session.clone(),
            _ => Some(t.root_name.clone()),
        };
        let Some(key) = key else { continue };
        let g = map.entry(key).or_default();
        g.calls += 1;
        // A trace counts once, however many of its spans failed: the rate is of traces.
        g.errors += u64::from(t.errors > 0);
        g.input = Some(g.input.unwrap_or(0) + t.input_tokens.unwrap_or(0));
        g.output = Some(g.output.unwrap_or(0) + t.output_tokens.unwrap_or(0));
        g.cost = usd::add(g.cost, t.cost);
        g.lower_bound |= t.lower_bound;
        g.durations.push(t.duration);
    }
    let mut groups: Vec<(String, Group)> = map.into_iter().collect();
    for (_, g) in &mut groups {
        g.durations.sort_unstable();
    }
    print_groups(args, by, groups, json, "traces");
    (Outcome::Ok, report)
}

fn metric_group(g: &Group, by: By) -> f64 {
    match by {
        By::Cost => g.cost_usd().unwrap_or(0.0),
        By::Tokens => g.tokens() as f64,
        By::Duration => g.total_duration() as f64,
        By::Errors => g.errors as f64,
    }
}

fn print_groups(
    args: &TopArgs,
    by: GroupBy,
    mut groups: Vec<(String, Group)>,
    json: bool,
    unit: &str,
) {
    groups.sort_by(|a, b| {
        metric_group(&b.1, args.by)
            .total_cmp(&metric_group(&a.1, args.by))
            .then(a.0.cmp(&b.0))
    });
    groups.truncate(args.limit);
    let label = format!("{by:?}").to_lowercase();
    if json {
        for (i, (k, g)) in groups.iter().enumerate() {
            out::json_line(&json!({
                "rank": i + 1,
                "group_by": label,
                "group": k,
                unit: g.calls,
                "errors": g.errors,
                "input_tokens": g.input,
                "output_tokens": g.output,
                "cost_usd": g.cost_usd(),
                "cost_lower_bound": g.lower_bound,
                "total_duration_ms": out::ms(g.total_duration()),
                "p50_ms": g.p(50.0).map(out::ms),
                "p95_ms": g.p(95.0).map(out::ms),
                "p99_ms": g.p(99.0).map(out::ms),
            }));
        }
        return;
    }
    let mut t = out::table(
        &[
            &label,
            unit,
            "errors",
            "tokens in / out",
            "cost",
            "total time",
            "p50",
            "p95",
            "p99",
        ],
        &[1, 2, 3, 4, 5, 6, 7, 8],
    );
    for (k, g) in &groups {
        let p = |q| g.p(q).map_or_else(|| "-".to_owned(), out::dur);
        t.add_row(vec![
            out::excerpt(k, 40),
            out::count(g.calls as i64),
            error_rate(g.errors, g.calls),
            out::tokens(g.input, g.output),
            out::cost(g.cost_usd(), g.lower_bound),
            out::dur(g.total_duration()),
            p(50.0),
            p(95.0),
            p(99.0),
        ]);
    }
    out::print_table(&t);
}
