//! The console's text: a tree as aligned rows (label, duration, tokens, cost, notes), the
//! one-line form of a late span, and the number formats they use.

use std::fmt::{self, Write as _};
use std::time::{Duration, SystemTime};

use opentelemetry::trace::TraceId;

use super::tree::{Node, Summary, Tree, UsageCost};

/// Labels and error messages longer than this are cut, so one odd span cannot widen every line.
const MAX_LABEL_CHARS: usize = 60;
const MAX_ERROR_CHARS: usize = 120;
const INCOMPLETE_LABEL: &str = "(incomplete: root not seen)";

/// A [`Tree`] as the console exporter prints it, with notes of the caller's at the end of the
/// first line (before the trace id).
///
/// One line per span: its label drawn in the tree, duration, token usage, cost, then notes
/// (documents retrieved, time to first chunk, `✗` and the error, `⊘ cancelled`, `(parent not
/// seen)`, `◀ slowest`). The first line is the root's, named after its workflow, with the
/// trace's [totals](Tree::totals) and the trace id; an incomplete tree's first line says so.
/// Columns no line uses take no space, and no wall-clock time is printed, so the text depends
/// on the spans alone. [`Tree`]'s `Display` is this without notes.
///
/// ```
/// use llmtrace_runtime as llmtrace;
/// use llmtrace::export::tree::{self, TreeText};
/// use llmtrace::testing::Capture;
///
/// #[llmtrace::workflow(name = "support_answer")]
/// fn answer() -> Result<u32, String> {
///     lookup_order("B-7")
/// }
///
/// #[llmtrace::tool(name = "lookup_order")]
/// fn lookup_order(order_id: &str) -> Result<u32, String> {
///     Err(format!("no order {order_id}"))
/// }
///
/// let capture = Capture::new();
/// let _ = capture.in_scope(answer);
/// let trees = tree::build(capture.spans().iter());
/// let text = TreeText::new(&trees[0]).note("from traces.jsonl").to_string();
/// let lines: Vec<&str> = text.lines().collect();
/// assert!(lines[0].starts_with("support_answer "));
/// assert!(lines[0].contains("  from traces.jsonl  trace "));
/// assert!(lines[1].starts_with("└─ execute_tool lookup_order "));
/// assert!(lines[1].ends_with("✗ String: no order B-7"));
/// assert_eq!(trees[0].to_string(), text.replace("  from traces.jsonl", ""));
/// ```
#[derive(Clone, Debug)]
pub struct TreeText<'a> {
    tree: &'a Tree,
    notes: Vec<String>,
}

impl<'a> TreeText<'a> {
    /// The text of `tree`, with no notes of the caller's.
    pub fn new(tree: &'a Tree) -> Self {
        TreeText {
            tree,
            notes: Vec::new(),
        }
    }

    /// Adds `note` to the first line, after the root's own notes and those added before.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

impl fmt::Display for TreeText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tree = self.tree;
        let mut head = match tree.root() {
            Some(root) => span_row(root.summary(), String::new(), root.summary().root_label()),
            None => Row {
                label: INCOMPLETE_LABEL.to_owned(),
                duration: None,
                usage: UsageCost::default(),
                tokens_unknown: false,
                cost_unknown: false,
                lower_bound: false,
                notes: Vec::new(),
            },
        };
        head.usage = tree.totals();
        // The totals stand for the trace: a call without usage or price makes them a lower
        // bound (`≥`), not unknown.
        head.tokens_unknown = false;
        head.cost_unknown = false;
        head.lower_bound = tree.totals_are_lower_bound();
        if tree.root().is_some_and(|r| r.has_foreign_parent()) {
            head.notes.push("(foreign parent)".to_owned());
        }
        head.notes.extend(self.notes.iter().cloned());
        head.notes
            .push(format!("trace {}", short_trace_id(tree.trace_id())));
        let mut out = String::new();
        render_rows(&rows(tree, head), &mut out);
        f.write_str(&out)
    }
}

impl fmt::Display for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        TreeText::new(self).fmt(f)
    }
}

/// `head`, then every span below it, depth first in start order.
fn rows(tree: &Tree, head: Row) -> Vec<Row> {
    let mut rows = Vec::with_capacity(tree.len() + 1);
    rows.push(head);
    // An explicit stack: a trace can nest deeper than the thread's stack would allow.
    let mut stack: Vec<(Node<'_>, String, bool)> = Vec::new();
    push_children(&mut stack, tree.top_level(), "");
    while let Some((node, indent, last)) = stack.pop() {
        let branch = if last { "└─ " } else { "├─ " };
        let mut row = span_row(node.summary(), format!("{indent}{branch}"), node.name());
        if node.is_orphan() {
            row.notes.push("(parent not seen)".to_owned());
        }
        if node.is_slowest() {
            row.notes.push("◀ slowest".to_owned());
        }
        rows.push(row);
        let indent = format!("{indent}{}", if last { "   " } else { "│  " });
        push_children(&mut stack, node.children(), &indent);
    }
    rows
}

fn push_children<'a>(
    stack: &mut Vec<(Node<'a>, String, bool)>,
    children: impl ExactSizeIterator<Item = Node<'a>> + DoubleEndedIterator,
    indent: &str,
) {
    let last = children.len().saturating_sub(1);
    for (k, c) in children.enumerate().rev() {
        stack.push((c, indent.to_owned(), k == last));
    }
}

/// The line of a span that ended after its trace was printed, naming the trace's root.
pub(super) fn late_line(
    trace_id: TraceId,
    root_label: &str,
    root_end: SystemTime,
    span: &Summary,
    out: &mut String,
) {
    let prefix = format!(
        "↳ late in {root_label} (trace {}): ",
        short_trace_id(trace_id)
    );
    let mut row = span_row(span, prefix, &span.name);
    row.notes.push(match span.end.duration_since(root_end) {
        Ok(after) => format!("ended {} after the root", format_duration(after)),
        Err(e) => format!("ended {} before the root", format_duration(e.duration())),
    });
    render_rows(&[row], out);
}

/// A root's label as its tree's first line shows it.
pub(super) fn root_label(root: &Summary) -> String {
    clean(root.root_label(), MAX_LABEL_CHARS)
}

/// Cuts `span`'s text to what a line shows of it, so a buffered span keeps no more; the text
/// printed is the same, since cutting twice cuts nothing more.
pub(super) fn keep_printed_text(span: &mut Summary) {
    span.name = clean(&span.name, MAX_LABEL_CHARS);
    if let Some(workflow) = &mut span.workflow {
        *workflow = clean(workflow, MAX_LABEL_CHARS);
    }
    if let Some(error) = &mut span.error {
        *error = clean(error, MAX_ERROR_CHARS);
    }
    if let Some((_, Some(reason))) = &mut span.guardrail {
        *reason = clean(reason, MAX_ERROR_CHARS);
    }
}

/// One printed line before alignment.
#[derive(Debug)]
struct Row {
    label: String,
    duration: Option<Duration>,
    usage: UsageCost,
    /// The call reported no usage: `tokens ?`.
    tokens_unknown: bool,
    /// No price for the call's model: `cost ?`.
    cost_unknown: bool,
    /// The numbers are a lower bound: `≥`.
    lower_bound: bool,
    notes: Vec<String>,
}

/// `span`'s line, `label` after `prefix` (the tree drawing).
fn span_row(span: &Summary, prefix: String, label: &str) -> Row {
    let mut notes = Vec::new();
    if let Some(n) = span.docs {
        let docs = plural(n, "doc", "docs");
        notes.push(format!("({} {docs})", format_count(saturating_i64(n))));
    }
    if let Some((given, kept)) = span.reranked {
        let n =
            |c: Option<u64>| c.map_or_else(|| "?".to_owned(), |n| format_count(saturating_i64(n)));
        notes.push(format!(
            "({} → {} {})",
            n(given),
            n(kept),
            plural(kept.unwrap_or(0), "doc", "docs")
        ));
    }
    if let Some(ttft) = span.ttft {
        notes.push(format!("ttft {}", format_duration(ttft)));
    }
    if let Some(error) = &span.error {
        notes.push(format!("✗ {}", clean(error, MAX_ERROR_CHARS)));
    }
    if span.cancelled {
        notes.push("⊘ cancelled".to_owned());
    }
    if let Some(c) = span.agent_counts {
        let count = |n: i64, one, many| {
            format!(
                "{} {}",
                format_count(n),
                plural(n.unsigned_abs(), one, many)
            )
        };
        notes.push(format!(
            "({}, {}, {})",
            count(c.inference_calls, "model call", "model calls"),
            count(c.tool_calls, "tool call", "tool calls"),
            count(c.steps, "step", "steps")
        ));
    }
    match &span.guardrail {
        Some((true, _)) => notes.push("✓ passed".to_owned()),
        Some((false, reason)) => notes.push(match reason {
            Some(r) => format!("⚠ failed: {}", clean(r, MAX_ERROR_CHARS)),
            None => "⚠ failed".to_owned(),
        }),
        None => {}
    }
    if span.evaluator {
        notes.push("⚖ judges, not in the trace's totals".to_owned());
    } else if span.evaluation {
        notes.push("⚖ judge".to_owned());
    }
    if let Some(n) = span.attempt {
        notes.push(format!("↻ attempt {n}"));
    }
    for link in &span.links {
        notes.push(if link.retry_of {
            format!("↗ retry of span {}", link.span_id)
        } else {
            format!("↗ linked to trace {}", short_trace_id(link.trace_id))
        });
    }
    Row {
        label: prefix + &clean(label, MAX_LABEL_CHARS),
        duration: Some(span.duration()),
        usage: span.usage,
        tokens_unknown: span.usage_missing && !span.usage.has_tokens(),
        cost_unknown: span.unpriced && span.usage.cost_usd.is_none(),
        lower_bound: false,
        notes,
    }
}

/// Writes `rows` as aligned columns: label, duration, tokens and cost, then free-form notes.
/// Columns no row uses take no space.
fn render_rows(rows: &[Row], out: &mut String) {
    struct Cells {
        duration: String,
        tokens: Option<(String, String)>,
        cost: String,
    }
    let cells: Vec<Cells> = rows
        .iter()
        .map(|r| {
            let bound = if r.lower_bound { "≥" } else { "" };
            Cells {
                duration: r.duration.map(format_duration).unwrap_or_default(),
                tokens: r.usage.has_tokens().then(|| {
                    let side = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), format_count);
                    (
                        format!("{bound}{}", side(r.usage.input_tokens)),
                        side(r.usage.output_tokens),
                    )
                }),
                cost: match r.usage.cost_usd {
                    Some(c) => format!("{bound}{}", format_cost(c)),
                    None if r.cost_unknown => "cost ?".to_owned(),
                    None => String::new(),
                },
            }
        })
        .collect();
    let width = |f: &dyn Fn(usize) -> usize| (0..rows.len()).map(f).max().unwrap_or(0);
    let label_w = width(&|i| rows[i].label.chars().count());
    let duration_w = width(&|i| cells[i].duration.chars().count());
    let input_w = width(&|i| cells[i].tokens.as_ref().map_or(0, |t| t.0.chars().count()));
    let output_w = width(&|i| cells[i].tokens.as_ref().map_or(0, |t| t.1.chars().count()));
    let cost_w = width(&|i| cells[i].cost.chars().count());
    let any_tokens = cells.iter().any(|c| c.tokens.is_some());
    let tokens_w = 2 + input_w + " in / ".len() + output_w + " out tokens".len();
    for (row, cells) in rows.iter().zip(&cells) {
        let mut line = format!("{:<label_w$}", row.label);
        if duration_w > 0 {
            let _ = write!(line, "  {:>duration_w$}", cells.duration);
        }
        if any_tokens || row.tokens_unknown {
            match &cells.tokens {
                Some((i, o)) => {
                    let _ = write!(line, "  {i:>input_w$} in / {o:>output_w$} out tokens");
                }
                None if row.tokens_unknown => {
                    let _ = write!(line, "  {:>w$}", "tokens ?", w = tokens_w.max(10) - 2);
                }
                None if any_tokens => line.push_str(&" ".repeat(tokens_w)),
                None => {}
            }
        }
        if cost_w > 0 {
            let _ = write!(line, "  {:>cost_w$}", cells.cost);
        }
        for note in &row.notes {
            line += "  ";
            line += note;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// One line per label: control characters (newlines in an error message) become spaces, and
/// long text is cut with an ellipsis.
fn clean(text: &str, max_chars: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max_chars + 1)
        .collect();
    if out.chars().count() > max_chars {
        let cut = out
            .char_indices()
            .nth(max_chars.saturating_sub(1))
            .map_or(out.len(), |(i, _)| i);
        out.truncate(cut);
        out.push('…');
    }
    out
}

// ---- numbers --------------------------------------------------------------------------------

/// The first 16 hex digits of the trace id: enough to find the trace in a backend.
pub(super) fn short_trace_id(trace_id: TraceId) -> String {
    let mut hex = format!("{trace_id:032x}");
    hex.truncate(16);
    hex
}

pub(super) fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A count with its thousands grouped, as the console prints token and document counts.
///
/// ```
/// use llmtrace_runtime::export::tree::format_count;
///
/// assert_eq!(format_count(1_234_567), "1,234,567");
/// assert_eq!(format_count(-45_000), "-45,000");
/// ```
pub fn format_count(n: i64) -> String {
    let digits = group_digits(&n.unsigned_abs().to_string());
    if n < 0 { format!("-{digits}") } else { digits }
}

fn group_digits(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// US dollars: cents from a dollar up, three significant digits below (the same precision at
/// every size, trailing zeros kept), and `<$0.000001` below a millionth; `$?` for a value that
/// is not a number.
///
/// ```
/// use llmtrace_runtime::export::tree::format_cost;
///
/// assert_eq!(format_cost(1234.567), "$1,234.57");
/// assert_eq!(format_cost(0.001_224_5), "$0.00122");
/// assert_eq!(format_cost(0.001_1), "$0.00110");
/// assert_eq!(format_cost(0.000_053), "$0.0000530");
/// ```
pub fn format_cost(usd: f64) -> String {
    if !usd.is_finite() {
        return "$?".to_owned();
    }
    let sign = if usd < 0.0 { "-" } else { "" };
    let v = usd.abs();
    let amount = if v == 0.0 {
        "0".to_owned()
    } else if v >= 1.0 {
        let fixed = format!("{v:.2}");
        match fixed.split_once('.') {
            Some((whole, cents)) => format!("{}.{cents}", group_digits(whole)),
            None => fixed,
        }
    } else if v >= 0.000_001 {
        // Three significant digits: the exponent of the value rounded to three digits (done
        // exactly by the float formatter) says how many decimals that takes, so 0.000999 is
        // 0.00100, not 0.000999.
        let exponent: i32 = format!("{v:.2e}")
            .split_once('e')
            .and_then(|(_, e)| e.parse().ok())
            .unwrap_or(0);
        let decimals = (2 - exponent).max(2) as usize;
        format!("{v:.decimals$}")
    } else {
        return format!("{sign}<$0.000001");
    };
    format!("{sign}${amount}")
}

/// A duration in three significant digits at most, in the largest unit that keeps the number
/// small. Each bound is where rounding would otherwise print a fourth digit (`999.6µs` is
/// `1.0ms`, not `1000µs`).
///
/// ```
/// use std::time::Duration;
/// use llmtrace_runtime::export::tree::format_duration;
///
/// let text = [850_000, 4_240_000, 120_000_000, 2_414_000_000, 12_340_000_000, 65_000_000_000]
///     .map(|ns| format_duration(Duration::from_nanos(ns)));
/// assert_eq!(text, ["850µs", "4.2ms", "120ms", "2.41s", "12.3s", "1m05s"]);
/// assert_eq!(format_duration(Duration::from_secs(7380)), "2h03m");
/// ```
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    let round = |unit: u128| (ns + unit / 2) / unit;
    if ns < 999_500 {
        format!("{}µs", round(1_000))
    } else if ns < 9_950_000 {
        let tenths = round(100_000);
        format!("{}.{}ms", tenths / 10, tenths % 10)
    } else if ns < 999_500_000 {
        format!("{}ms", round(1_000_000))
    } else if ns < 9_995_000_000 {
        let hundredths = round(10_000_000);
        format!("{}.{:02}s", hundredths / 100, hundredths % 100)
    } else if ns < 59_950_000_000 {
        let tenths = round(100_000_000);
        format!("{}.{}s", tenths / 10, tenths % 10)
    } else if ns < 3_599_500_000_000 {
        let secs = round(1_000_000_000);
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        let mins = round(60_000_000_000);
        format!("{}h{:02}m", mins / 60, mins % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_spans::{Build, OTHER_TRACE, TRACE, span};
    use super::super::tree::build;
    use super::*;
    use crate::semconv::keys::llmtrace as lt;

    #[test]
    fn durations() {
        let cases = [
            (0, "0µs"),
            (850_000, "850µs"),
            (999_499, "999µs"),
            (999_500, "1.0ms"),
            (4_240_000, "4.2ms"),
            (9_950_000, "10ms"),
            (120_000_000, "120ms"),
            (999_500_000, "1.00s"),
            (2_414_000_000, "2.41s"),
            (9_995_000_000, "10.0s"),
            (12_340_000_000, "12.3s"),
            (59_950_000_000, "1m00s"),
            (65_000_000_000, "1m05s"),
            (3_599_000_000_000, "59m59s"),
            (3_599_500_000_000, "1h00m"),
            (7_380_000_000_000, "2h03m"),
        ];
        for (ns, text) in cases {
            assert_eq!(format_duration(Duration::from_nanos(ns)), text, "{ns} ns");
        }
        assert_eq!(format_duration(Duration::MAX), "5124095576030431h00m");
    }

    #[test]
    fn counts() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (3200, "3,200"),
            (1_234_567, "1,234,567"),
            (-45_000, "-45,000"),
            (i64::MIN, "-9,223,372,036,854,775,808"),
        ] {
            assert_eq!(format_count(n), text);
        }
    }

    #[test]
    fn costs() {
        for (usd, text) in [
            (0.0, "$0"),
            (0.015, "$0.0150"),
            (0.0125, "$0.0125"),
            (0.001, "$0.00100"),
            (0.001_224_5, "$0.00122"),
            (0.001_1, "$0.00110"),
            (0.000_053, "$0.0000530"),
            (0.000_42, "$0.000420"),
            (0.000_015_5, "$0.0000155"),
            (0.000_999_9, "$0.00100"),
            (0.999_9, "$1.00"),
            (0.5, "$0.500"),
            (0.000_001, "$0.00000100"),
            (0.000_000_1, "<$0.000001"),
            (2.5, "$2.50"),
            (1234.567, "$1,234.57"),
            (-0.02, "-$0.0200"),
            (f64::NAN, "$?"),
            (f64::INFINITY, "$?"),
        ] {
            assert_eq!(format_cost(usd), text, "{usd}");
        }
    }

    #[test]
    fn text_kept_on_one_line_and_short() {
        assert_eq!(clean("a\nb\tc", 10), "a b c");
        assert_eq!(clean("abcdef", 6), "abcdef");
        assert_eq!(clean("abcdefg", 6), "abcde…");
        assert_eq!(clean("ééééééé", 3), "éé…");
        assert_eq!(short_trace_id(TraceId::from(TRACE)), "4bf92f3577b34da6");
    }

    #[test]
    fn cutting_printed_text_twice_cuts_nothing_more() {
        let long = "x".repeat(200);
        for text in ["short", "a\nb", long.as_str(), "ééééé…"] {
            for max in [MAX_LABEL_CHARS, MAX_ERROR_CHARS, 3] {
                let once = clean(text, max);
                assert_eq!(clean(&once, max), once, "{text:?} at {max}");
            }
        }
    }

    #[test]
    fn trees_render_in_the_console_layout() {
        let spans = [
            span(TRACE, 1, 0, "invoke_workflow agent", 0, 1000).workflow("agent"),
            span(TRACE, 2, 1, "chat gpt-4o", 0, 800)
                .usage(1200, 300)
                .cost(0.01),
            span(TRACE, 3, 1, "execute_tool lookup", 800, 900).failed("NotFound", "no order"),
            span(OTHER_TRACE, 5, 4, "retrieval docs", 0, 20).attr(lt::RETRIEVAL_DOCUMENT_COUNT, 3),
        ];
        let trees = build(&spans);
        let text: Vec<String> = trees.iter().map(|t| t.to_string()).collect();
        assert_eq!(
            text,
            [
                "(incomplete: root not seen)        trace 0af7651916cd43dd\n\
                 └─ retrieval docs            20ms  (3 docs)\n",
                "agent                   1.00s  1,200 in / 300 out tokens  $0.0100  trace 4bf92f3577b34da6\n\
                 ├─ chat gpt-4o          800ms  1,200 in / 300 out tokens  $0.0100  ◀ slowest\n\
                 └─ execute_tool lookup  100ms                                      ✗ NotFound: no order\n",
            ]
        );
        let noted = TreeText::new(&trees[1]).note("one").note("two").to_string();
        assert!(
            noted
                .lines()
                .next()
                .unwrap()
                .ends_with("$0.0100  one  two  trace 4bf92f3577b34da6"),
            "{noted}"
        );
    }

    #[test]
    fn an_evaluator_shows_its_judges_usage_left_out_of_the_totals() {
        // No roll-up on the root: the totals are summed from the tree, without the judge.
        let spans = [
            span(TRACE, 1, 0, "invoke_workflow answer", 0, 1000).workflow("answer"),
            span(TRACE, 2, 1, "chat gpt-4o", 0, 600)
                .usage(1200, 300)
                .cost(0.01),
            span(TRACE, 3, 1, "evaluate relevance", 600, 1000)
                .attr(lt::EVALUATOR_INPUT_TOKENS, 40)
                .attr(lt::EVALUATOR_OUTPUT_TOKENS, 2)
                .attr(lt::EVALUATOR_COST_USD, 0.001),
            span(TRACE, 4, 3, "chat gpt-4o-mini", 600, 1000)
                .usage(40, 2)
                .cost(0.001)
                .attr(lt::EVALUATION, true),
        ];
        let trees = build(&spans);
        assert_eq!(trees[0].totals().input_tokens, Some(1200));
        assert_eq!(trees[0].totals().cost_usd, Some(0.01));
        assert_eq!(
            trees[0].to_string(),
            "answer                  1.00s  1,200 in / 300 out tokens   $0.0100  trace 4bf92f3577b34da6\n\
             ├─ chat gpt-4o          600ms  1,200 in / 300 out tokens   $0.0100  ◀ slowest\n\
             └─ evaluate relevance   400ms     40 in /   2 out tokens  $0.00100  ⚖ judges, not in the trace's totals\n\
             \u{20}  └─ chat gpt-4o-mini  400ms     40 in /   2 out tokens  $0.00100  ⚖ judge\n"
        );
    }
}
