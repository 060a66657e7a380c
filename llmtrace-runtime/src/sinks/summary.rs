//! The summary table of model calls: per provider and model, the calls, errors, rate-limited
//! calls, tokens, cost and latency percentiles, from the metrics the export thread recorded.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::console::render::{format_cost, format_count, format_duration};
use crate::state::summary;

/// Model calls per provider and model since llmtrace was installed: what
/// [`metrics_summary`] returns and what is printed on stderr at shutdown in the default setup.
/// Displays as a table.
///
/// ```
/// use llmtrace_runtime as llmtrace;
///
/// #[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
/// fn chat(prompt: &str) -> String {
///     llmtrace::current().record_usage(llmtrace::Usage::new(412, 38));
///     prompt.to_uppercase()
/// }
///
/// let metrics = opentelemetry_sdk::metrics::InMemoryMetricExporter::default();
/// let _guard = llmtrace::init()
///     .without_exporters()
///     .metrics_exporter(metrics, std::time::Duration::from_secs(60))
///     .install();
/// chat("hello");
/// llmtrace::force_flush(std::time::Duration::from_secs(5)).unwrap();
/// let summary = llmtrace::metrics_summary();
/// let row = &summary.rows()[0];
/// assert_eq!((row.calls, row.input_tokens, row.output_tokens), (1, 412, 38));
/// // provider  model   calls  errors  rate-limited  tokens in  tokens out  cost  p50  p95 ...
/// eprint!("{summary}");
/// ```
#[derive(Clone, Debug, Default)]
pub struct MetricsSummary {
    rows: Vec<SummaryRow>,
}

/// One provider and model in a [`MetricsSummary`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SummaryRow {
    /// `gen_ai.provider.name` (empty when the calls named none).
    pub provider: String,
    /// The model that answered, else the one requested.
    pub model: String,
    /// Calls.
    pub calls: u64,
    /// Calls that failed.
    pub errors: u64,
    /// Failed calls whose `error.type` is `rate_limited`.
    pub rate_limited: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cost in USD of the priced calls.
    pub cost_usd: f64,
    /// Calls with usage but no known price (the cost is then a lower bound).
    pub unpriced_calls: u64,
    /// Median latency.
    pub latency_p50: Option<Duration>,
    /// 95th percentile latency.
    pub latency_p95: Option<Duration>,
    /// Median time to first chunk, over streamed calls.
    pub ttft_p50: Option<Duration>,
    /// 95th percentile time to first chunk, over streamed calls.
    pub ttft_p95: Option<Duration>,
}

impl MetricsSummary {
    /// The rows, by provider then model.
    pub fn rows(&self) -> &[SummaryRow] {
        &self.rows
    }

    /// Whether no model call was recorded.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The model calls recorded so far, per provider and model (after the export thread received
/// them: [`force_flush`](crate::force_flush) first for an exact count). Empty unless metrics
/// are recorded (feature `metrics`, and a metrics exporter: the default setup has one).
pub fn metrics_summary() -> MetricsSummary {
    let secs = |s: Option<f64>| s.map(Duration::from_secs_f64);
    let rows = summary::snapshot()
        .into_iter()
        .map(|((provider, model), b)| SummaryRow {
            provider,
            model,
            calls: b.calls,
            errors: b.errors,
            rate_limited: b.rate_limited,
            input_tokens: b.input_tokens,
            output_tokens: b.output_tokens,
            cost_usd: b.cost,
            unpriced_calls: b.unpriced,
            latency_p50: secs(b.latencies.quantile(0.5)),
            latency_p95: secs(b.latencies.quantile(0.95)),
            ttft_p50: secs(b.ttfts.quantile(0.5)),
            ttft_p95: secs(b.ttfts.quantile(0.95)),
        })
        .collect();
    MetricsSummary { rows }
}

/// Whether the guard prints the summary on stderr at shutdown: set when the console exporter
/// and metrics are both on (the default setup).
static PRINT_AT_SHUTDOWN: AtomicBool = AtomicBool::new(false);

pub(crate) fn print_at_shutdown(on: bool) {
    PRINT_AT_SHUTDOWN.store(on, Ordering::Relaxed);
}

/// Prints the summary on stderr, after the last flush, when asked for and not empty.
pub(crate) fn print_if_asked() {
    if !PRINT_AT_SHUTDOWN.load(Ordering::Relaxed) {
        return;
    }
    let summary = metrics_summary();
    if !summary.is_empty() {
        let _ = write!(std::io::stderr().lock(), "{summary}");
    }
}

const HEADER: [&str; 12] = [
    "provider",
    "model",
    "calls",
    "errors",
    "rate-limited",
    "tokens in",
    "tokens out",
    "cost",
    "p50",
    "p95",
    "ttft p50",
    "ttft p95",
];

impl fmt::Display for MetricsSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |n: u64| format_count(i64::try_from(n).unwrap_or(i64::MAX));
        let time = |d: Option<Duration>| d.map_or_else(|| "-".to_owned(), format_duration);
        let cells: Vec<[String; 12]> = self
            .rows
            .iter()
            .map(|r| {
                let mut cost = format_cost(r.cost_usd);
                if r.unpriced_calls > 0 {
                    cost.push('+');
                }
                [
                    if r.provider.is_empty() {
                        "-".into()
                    } else {
                        r.provider.clone()
                    },
                    if r.model.is_empty() {
                        "-".into()
                    } else {
                        r.model.clone()
                    },
                    count(r.calls),
                    count(r.errors),
                    count(r.rate_limited),
                    count(r.input_tokens),
                    count(r.output_tokens),
                    cost,
                    time(r.latency_p50),
                    time(r.latency_p95),
                    time(r.ttft_p50),
                    time(r.ttft_p95),
                ]
            })
            .collect();
        let mut widths = HEADER.map(|h| h.chars().count());
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, row: [&str; 12]| -> fmt::Result {
            let mut text = String::new();
            for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
                let pad = w - cell.chars().count();
                if i < 2 {
                    // Names to the left, numbers to the right.
                    text.push_str(cell);
                    text.push_str(&" ".repeat(pad));
                } else {
                    text.push_str(&" ".repeat(pad));
                    text.push_str(cell);
                }
                text.push_str("  ");
            }
            writeln!(f, "{}", text.trim_end())
        };
        line(f, HEADER)?;
        for row in &cells {
            line(f, std::array::from_fn(|i| row[i].as_str()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_names_left_and_numbers_right() {
        let summary = MetricsSummary {
            rows: vec![
                SummaryRow {
                    provider: "openai".into(),
                    model: "gpt-4o".into(),
                    calls: 1200,
                    errors: 3,
                    rate_limited: 2,
                    input_tokens: 1_500_000,
                    output_tokens: 90_000,
                    cost_usd: 4.65,
                    unpriced_calls: 0,
                    latency_p50: Some(Duration::from_millis(820)),
                    latency_p95: Some(Duration::from_millis(2410)),
                    ttft_p50: None,
                    ttft_p95: None,
                },
                SummaryRow {
                    provider: "anthropic".into(),
                    model: "claude-sonnet-4-5".into(),
                    calls: 7,
                    errors: 0,
                    rate_limited: 0,
                    input_tokens: 700,
                    output_tokens: 70,
                    cost_usd: 0.0032,
                    unpriced_calls: 1,
                    latency_p50: Some(Duration::from_millis(95)),
                    latency_p95: Some(Duration::from_millis(130)),
                    ttft_p50: Some(Duration::from_millis(40)),
                    ttft_p95: Some(Duration::from_millis(52)),
                },
            ],
        };
        assert_eq!(
            summary.to_string(),
            "\
provider   model              calls  errors  rate-limited  tokens in  tokens out       cost    p50    p95  ttft p50  ttft p95
openai     gpt-4o             1,200       3             2  1,500,000      90,000      $4.65  820ms  2.41s         -         -
anthropic  claude-sonnet-4-5      7       0             0        700          70  $0.00320+   95ms  130ms      40ms      52ms
"
        );
    }
}
