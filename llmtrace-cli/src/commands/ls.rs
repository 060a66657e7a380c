//! `ls`: traces, newest first.

use std::sync::Arc;

use serde_json::json;

use crate::source::{self, Inputs, Problem, Report};
use crate::traces::{TraceSummary, Traces};
use crate::{LsArgs, Outcome, out};

pub(super) fn run(
    args: &LsArgs,
    json: bool,
    inputs: &Inputs,
    problems: Vec<Problem>,
) -> (Outcome, Report) {
    let filters = Arc::new(args.filter.filters());
    let (traces, report) = source::scan(inputs, problems, || Traces::new(filters.clone()));
    let mut list = traces.filtered();
    list.sort_by(|a, b| b.start.cmp(&a.start).then(a.trace_id.cmp(&b.trace_id)));
    let total = list.len();
    if args.limit > 0 {
        list.truncate(args.limit);
    }
    if json {
        for t in &list {
            out::json_line(&trace_json(t));
        }
    } else {
        print_traces(&list);
        if total > list.len() {
            println!("({} more; --limit 0 shows all)", total - list.len());
        }
    }
    (Outcome::Ok, report)
}

/// A trace as one JSON object: the fields `ls` and `top` print.
pub(crate) fn trace_json(t: &TraceSummary) -> serde_json::Value {
    json!({
        "trace_id": out::full_id(t.trace_id),
        "root": t.root_name,
        "root_found": t.root_found,
        "foreign_parent": t.foreign_parent,
        "start": out::time_nanos(t.start),
        "start_unix_nano": t.start,
        "duration_ms": out::ms(t.duration),
        "spans": t.spans,
        "errors": t.errors,
        "input_tokens": t.input_tokens,
        "output_tokens": t.output_tokens,
        "cost_usd": t.cost,
        "totals_lower_bound": t.lower_bound,
        "session": t.session,
        "user": t.user,
        "service": t.service,
    })
}

/// Traces as the console's table.
pub(super) fn print_traces(list: &[TraceSummary]) {
    let mut t = out::table(
        &[
            "trace",
            "root",
            "start",
            "duration",
            "spans",
            "tokens in / out",
            "cost",
            "errors",
            "session / user",
        ],
        &[3, 4, 5, 6, 7],
    );
    for tr in list {
        let mut root = tr.root_name.clone();
        if !tr.root_found {
            root.push_str(" (root not seen)");
        }
        let who = match (&tr.session, &tr.user) {
            (None, None) => "-".to_owned(),
            (s, u) => format!(
                "{} / {}",
                s.as_deref().unwrap_or("-"),
                u.as_deref().unwrap_or("-")
            ),
        };
        t.add_row(vec![
            out::short_id(tr.trace_id),
            out::excerpt(&root, 40),
            out::time(tr.start),
            out::dur(tr.duration),
            out::count(i64::from(tr.spans)),
            out::tokens(tr.input_tokens, tr.output_tokens),
            out::cost(tr.cost, tr.lower_bound),
            if tr.errors == 0 {
                "-".to_owned()
            } else {
                format!("✗ {}", tr.errors)
            },
            who,
        ]);
    }
    out::print_table(&t);
}
