//! `report`: the traces as one self-contained HTML page (see [`crate::viewer`]). The newest
//! traces that pass the filters are kept, up to a number of spans; the page says what was left
//! out.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::json;

use crate::source::{self, Accumulator, Input, Inputs, Problem, Reads, Report};
use crate::span::SpanFacts;
use crate::traces::Traces;
use crate::viewer::data::{self, TraceSpans};
use crate::viewer::page;
use crate::{Outcome, ReportArgs, out};

/// The summaries and the spans of every trace, in one pass: for stdin, which cannot be read
/// twice.
struct Both(Traces, TraceSpans);

impl Accumulator for Both {
    fn add(&mut self, span: &SpanFacts<'_>) {
        self.0.add(span);
        self.1.add(span);
    }

    fn merge(&mut self, other: Self) {
        self.0.merge(other.0);
        self.1.merge(other.1);
    }

    fn reads(&self) -> Reads {
        Reads::Raw
    }
}

pub(super) fn run(args: &ReportArgs, inputs: &Inputs, problems: Vec<Problem>) -> (Outcome, Report) {
    let filters = Arc::new(args.filter.filters());
    // Files: first the summaries (from the cache where there is one), to choose the traces;
    // then the spans of those traces only, as written. Stdin: everything in one pass.
    let one_pass = inputs.list.contains(&Input::Stdin);
    let (traces, mut spans, mut report) = if one_pass {
        let (both, report) = source::scan(inputs, problems, || {
            Both(Traces::new(filters.clone()), TraceSpans::new(None))
        });
        (both.0, Some(both.1), report)
    } else {
        let (traces, report) = source::scan(inputs, problems, || Traces::new(filters.clone()));
        (traces, None, report)
    };
    let mut list = traces.filtered();
    if list.is_empty() {
        return (Outcome::NotFound("no trace matched".to_owned()), report);
    }
    list.sort_by(|a, b| b.start.cmp(&a.start).then(a.trace_id.cmp(&b.trace_id)));
    let total_traces = list.len();
    let total_spans: u64 = list.iter().map(|t| u64::from(t.spans)).sum();
    let mut kept_spans = 0u64;
    let mut kept = 0;
    for t in &list {
        let next = kept_spans + u64::from(t.spans);
        if next > args.max_spans as u64 {
            break;
        }
        kept_spans = next;
        kept += 1;
    }
    list.truncate(kept);
    let spans = match spans.take() {
        Some(all) => all,
        None => {
            let takes: Arc<HashSet<u128>> = Arc::new(list.iter().map(|t| t.trace_id).collect());
            let (spans, second) =
                source::scan(inputs, Vec::new(), || TraceSpans::new(Some(takes.clone())));
            // The same files read twice: a problem is reported once.
            for p in second.problems {
                if !report.problems.contains(&p) {
                    report.problems.push(p);
                }
            }
            report.problems.sort();
            spans
        }
    };
    let cap = (kept < total_traces).then(|| {
        format!(
            "This report holds the newest {kept} of {total_traces} traces ({} of {} spans): a \
             report holds at most {} spans. Narrow it with --since, --name, --session, --user, \
             --errors or --min-cost, or raise --max-spans.",
            out::count(kept_spans as i64),
            out::count(total_spans as i64),
            out::count(args.max_spans as i64),
        )
    });
    let sources: Vec<String> = inputs.list.iter().map(ToString::to_string).collect();
    let problems: Vec<String> = report
        .problems
        .iter()
        .take(20)
        .map(ToString::to_string)
        .collect();
    let payload = json!({
        "title": "llmtrace report",
        "generated": out::time(out::unix_ns(std::time::SystemTime::now())),
        "sources": sources,
        "cap": cap,
        "problems": problems,
        "problem_count": report.problems.len(),
        "traces": data::traces_json(&list, spans),
    });
    let html = page::report(&payload);
    if let Err(e) = std::fs::write(&args.output, html) {
        return (
            Outcome::NotFound(format!("cannot write {}: {e}", args.output.display())),
            report,
        );
    }
    eprintln!(
        "llmtrace: wrote {} ({kept} traces, {} spans{})",
        args.output.display(),
        out::count(kept_spans as i64),
        if cap.is_some() {
            "; capped, see the page"
        } else {
            ""
        }
    );
    (Outcome::Ok, report)
}
