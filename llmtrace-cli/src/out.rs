//! Output helpers: the console's number formats, tables, JSON lines, percentiles.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use comfy_table::{CellAlignment, Table, presets};
use llmtrace_runtime::export::tree::{format_cost, format_count, format_duration};

/// `$0.00122`, with `≥` in front when some call had no price or reported no usage; `-` when
/// nothing reported a cost.
pub(crate) fn cost(usd: Option<f64>, lower_bound: bool) -> String {
    match usd {
        Some(v) if lower_bound => format!("≥{}", format_cost(v)),
        Some(v) => format_cost(v),
        None if lower_bound => "?".to_owned(),
        None => "-".to_owned(),
    }
}

/// `1,200 in / 300 out`, `-` when neither side is known.
pub(crate) fn tokens(input: Option<i64>, output: Option<i64>) -> String {
    if input.is_none() && output.is_none() {
        return "-".to_owned();
    }
    let side = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), format_count);
    format!("{} / {}", side(input), side(output))
}

/// A count with thousands grouped.
pub(crate) fn count(n: i64) -> String {
    format_count(n)
}

/// A duration in nanoseconds, as the console prints it.
pub(crate) fn dur(ns: u64) -> String {
    format_duration(Duration::from_nanos(ns))
}

/// The first 16 hex digits of a trace id, as the console prints it.
pub(crate) fn short_id(trace_id: u128) -> String {
    let mut s = full_id(trace_id);
    s.truncate(16);
    s
}

/// The whole trace id in hex.
pub(crate) fn full_id(trace_id: u128) -> String {
    format!("{trace_id:032x}")
}

/// A span id in hex.
pub(crate) fn span_id(id: u64) -> String {
    format!("{id:016x}")
}

/// A time as RFC 3339 in UTC, to the second.
pub(crate) fn time(ns: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_nanos(ns)).to_string()
}

/// A time as RFC 3339 in UTC, to the nanosecond (JSON output).
pub(crate) fn time_nanos(ns: u64) -> String {
    humantime::format_rfc3339_nanos(UNIX_EPOCH + Duration::from_nanos(ns)).to_string()
}

/// Milliseconds, for JSON: exact to the microsecond.
pub(crate) fn ms(ns: u64) -> f64 {
    (ns as f64 / 1_000.0).round() / 1_000.0
}

/// Nanoseconds since the epoch of `t`.
pub(crate) fn unix_ns(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The `p`-th percentile of sorted values, nearest rank: the smallest value with at least
/// `p`% of the values at or below it.
pub(crate) fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// A table in the console's plain style: no borders, a header, numbers aligned right.
pub(crate) fn table(header: &[&str], right: &[usize]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    t.set_header(header.to_vec());
    for &i in right {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

/// Prints a table whose rows are set; each line trimmed on the right.
pub(crate) fn print_table(t: &Table) {
    let mut out = std::io::stdout().lock();
    for line in t.to_string().lines() {
        let line = line.strip_prefix(' ').unwrap_or(line);
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// Prints one JSON object on its own line.
pub(crate) fn json_line(v: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}");
}

/// Text cut to `max` characters on one line, with an ellipsis.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=20).collect();
        assert_eq!(percentile(&v, 50.0), Some(10));
        assert_eq!(percentile(&v, 95.0), Some(19));
        assert_eq!(percentile(&v, 99.0), Some(20));
        assert_eq!(percentile(&[7], 95.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn costs_and_tokens() {
        assert_eq!(cost(Some(0.0012245), false), format_cost(0.0012245));
        assert!(cost(Some(0.5), true).starts_with('≥'));
        assert_eq!(cost(None, false), "-");
        assert_eq!(tokens(Some(1200), None), "1,200 / -");
        assert_eq!(excerpt("ab\ncd", 10), "ab cd");
        assert_eq!(excerpt("abcdef", 4), "abc…");
    }
}
