//! Medians over rounds, the table, the ratios and the gates.

use std::collections::BTreeMap;

use crate::measure::{Sample, median};
use crate::variants::{self, Load, VARIANTS};

/// Median, min and max over rounds.
type Spread = (f64, f64, f64);

struct Summary {
    caller: (f64, f64, f64),
    cpu: (f64, f64, f64),
    delivered: (f64, f64, f64),
    delivered_min: f64,
    bytes: Option<f64>,
    spans: f64,
    peak_rss: Option<f64>,
    total_s: Option<(f64, f64, f64)>,
    /// A pair: the second call's caller time, and the ratio of the first's to it.
    pair: Option<(Spread, Spread)>,
}

fn stats(values: &mut [f64]) -> (f64, f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (median(values), min, max)
}

/// Prints the report; returns whether every gate passed.
pub(crate) fn print(samples: &[Sample], rounds: usize, spans: usize, batches: usize) -> bool {
    let mut by_variant: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        by_variant.entry(&s.variant).or_default().push(s);
    }
    let mut summary: BTreeMap<&str, Summary> = BTreeMap::new();
    for (variant, ss) in &by_variant {
        let mut caller: Vec<f64> = ss.iter().map(|s| s.caller_ns).collect();
        let mut cpu: Vec<f64> = ss.iter().map(|s| s.cpu_ns).collect();
        let mut bytes: Vec<f64> = ss.iter().filter_map(|s| s.bytes_per_span).collect();
        let mut delivered: Vec<f64> = ss.iter().map(|s| s.delivered).collect();
        let mut spans: Vec<f64> = ss
            .iter()
            .filter_map(|s| s.spans.map(|n| n as f64))
            .collect();
        let mut rss: Vec<f64> = ss.iter().filter_map(|s| s.peak_rss).collect();
        let mut total: Vec<f64> = ss.iter().filter_map(|s| s.total_s).collect();
        let mut second: Vec<f64> = ss.iter().filter_map(|s| s.pair.map(|p| p.0)).collect();
        let mut ratios: Vec<f64> = ss.iter().filter_map(|s| s.pair.map(|p| p.1)).collect();
        summary.insert(
            variant,
            Summary {
                caller: stats(&mut caller),
                cpu: stats(&mut cpu),
                delivered: stats(&mut delivered),
                delivered_min: ss.iter().map(|s| s.delivered).fold(1.0, f64::min),
                bytes: (!bytes.is_empty()).then(|| median(&mut bytes)),
                spans: median(&mut spans),
                peak_rss: (!rss.is_empty()).then(|| median(&mut rss)),
                total_s: (!total.is_empty()).then(|| stats(&mut total)),
                pair: (!ratios.is_empty()).then(|| (stats(&mut second), stats(&mut ratios))),
            },
        );
    }

    println!(
        "\n{rounds} rounds x {batches} batches x {spans} spans per variant; medians over rounds (min-max)\n"
    );
    println!(
        "| variant | caller ns/span | process CPU ns/span | delivered | bytes/buffered span |"
    );
    println!("|---|---:|---:|---:|---:|");
    let batches_only =
        |v: &&&str| variants::load(v) == Load::Batches && variants::pair(v).is_none();
    for v in VARIANTS.iter().filter(batches_only) {
        let Some(s) = summary.get(v) else { continue };
        println!(
            "| {v} | {:.1} ({:.1}-{:.1}) | {:.1} ({:.1}-{:.1}) | {:.2}% | {} |",
            s.caller.0,
            s.caller.1,
            s.caller.2,
            s.cpu.0,
            s.cpu.1,
            s.cpu.2,
            s.delivered_min * 100.0,
            s.bytes.map_or("-".into(), |b| format!("{b:.0}"))
        );
    }

    if VARIANTS
        .iter()
        .any(|v| variants::load(v) != Load::Batches && summary.contains_key(v))
    {
        println!(
            "\nBursts ({} spans back to back on one thread) and sustained load (a tight loop for {:?}), default settings, then one flush:\n",
            variants::BURST_SPANS,
            variants::SUSTAINED_FOR
        );
        println!(
            "| variant | spans made | caller ns/span | process CPU ns/span | delivered | peak RSS MiB |"
        );
        println!("|---|---:|---:|---:|---:|---:|");
        for v in VARIANTS
            .iter()
            .filter(|v| matches!(variants::load(v), Load::Burst | Load::Sustained))
        {
            let Some(s) = summary.get(v) else { continue };
            println!(
                "| {v} | {:.0} | {:.1} ({:.1}-{:.1}) | {:.1} ({:.1}-{:.1}) | {:.2}% ({:.2}-{:.2}) | {} |",
                s.spans,
                s.caller.0,
                s.caller.1,
                s.caller.2,
                s.cpu.0,
                s.cpu.1,
                s.cpu.2,
                s.delivered.0 * 100.0,
                s.delivered.1 * 100.0,
                s.delivered.2 * 100.0,
                s.peak_rss
                    .map_or("-".into(), |b| format!("{:.0}", b / (1024.0 * 1024.0)))
            );
        }
    }

    if VARIANTS
        .iter()
        .any(|v| variants::load(v) == Load::Drain && summary.contains_key(v))
    {
        println!(
            "\nDrain ({} spans made back to back with buffers that hold them all, then one flush):\n",
            variants::DRAIN_SPANS
        );
        println!(
            "| variant | spans made in s | all exported after s | process CPU ns/span | delivered | peak RSS MiB |"
        );
        println!("|---|---:|---:|---:|---:|---:|");
        for v in VARIANTS.iter().filter(|v| variants::load(v) == Load::Drain) {
            let Some(s) = summary.get(v) else { continue };
            let Some(total) = s.total_s else { continue };
            println!(
                "| {v} | {:.2} | {:.2} ({:.2}-{:.2}) | {:.1} ({:.1}-{:.1}) | {:.2}% | {} |",
                s.caller.0 * s.spans / 1e9,
                total.0,
                total.1,
                total.2,
                s.cpu.0,
                s.cpu.1,
                s.cpu.2,
                s.delivered_min * 100.0,
                s.peak_rss
                    .map_or("-".into(), |b| format!("{:.0}", b / (1024.0 * 1024.0)))
            );
        }
    }

    if variants::PAIRS
        .iter()
        .any(|(v, ..)| summary.contains_key(v))
    {
        println!(
            "\nPairs (both calls in one process with one setup, batch by batch in turn; the ratio is the median over rounds of each round's median over batch pairs):\n"
        );
        println!("| pair | first ns/span | second ns/span | first / second |");
        println!("|---|---:|---:|---:|");
        for (v, a, b, _) in variants::PAIRS {
            let Some(s) = summary.get(v) else { continue };
            let Some((second, ratio)) = s.pair else {
                continue;
            };
            println!(
                "| {a} / {b} | {:.1} ({:.1}-{:.1}) | {:.1} ({:.1}-{:.1}) | {:.3} ({:.3}-{:.3}) |",
                s.caller.0,
                s.caller.1,
                s.caller.2,
                second.0,
                second.1,
                second.2,
                ratio.0,
                ratio.1,
                ratio.2
            );
        }
    }

    let get = |v: &str| summary.get(v);
    let mut ok = true;
    let mut gate = |label: &str, value: Option<f64>, limit: f64| {
        let Some(value) = value else {
            println!("- {label}: not measured");
            return;
        };
        let pass = value <= limit;
        ok &= pass;
        println!(
            "- {label}: {value:.3} (limit {limit}) {}",
            if pass { "PASS" } else { "FAIL" }
        );
    };
    let ratio = |a: &str, b: &str, f: fn(&Summary) -> f64| Some(f(get(a)?) / f(get(b)?));
    let caller = |s: &Summary| s.caller.0;
    let cpu = |s: &Summary| s.cpu.0;
    println!("\nGates (medians of this run):\n");
    // Caller against caller.
    for (a, b, limit) in [
        ("llmtrace", "otel_sdk", 0.25),
        ("llmtrace_default_capture", "otel_sdk", 0.2),
        ("llmtrace", "floor", 3.0),
        ("llmtrace_async", "otel_sdk", 0.25),
        ("llmtrace_sampled_out", "otel_sdk_off", 0.1),
        ("llmtrace_sampled_out_metrics", "otel_sdk_off", 0.25),
    ] {
        gate(
            &format!("{a} caller / {b} caller"),
            ratio(a, b, caller),
            limit,
        );
    }
    gate(
        "llmtrace process CPU / otel_sdk process CPU",
        ratio("llmtrace", "otel_sdk", cpu),
        0.5,
    );
    // Calls a few nanoseconds apart: gated on their pairs, measured in one process (the
    // ratios of separate processes are under "Other ratios").
    for (pair, a, b, limit) in variants::PAIRS {
        let value = get(pair).and_then(|s| s.pair).map(|(_, r)| r.0);
        gate(&format!("{a} caller / {b} caller (paired)"), value, *limit);
    }
    gate(
        "llmtrace bytes per buffered span",
        get("llmtrace").and_then(|s| s.bytes),
        300.0,
    );
    // The share a burst delivers is measured, not assumed: its gate is the lowest of the rounds.
    gate(
        "llmtrace_burst undelivered share (worst round)",
        get("llmtrace_burst").map(|s| 1.0 - s.delivered_min),
        0.001,
    );
    // The export side against the SDK's, each with its real OTLP/HTTP exporter into the same
    // receiver on 127.0.0.1.
    let total = |s: &Summary| s.total_s.map_or(f64::NAN, |t| t.0);
    gate(
        "llmtrace_drain_otlp total / otel_sdk_drain_otlp total",
        ratio("llmtrace_drain_otlp", "otel_sdk_drain_otlp", total),
        0.35,
    );
    // The host modes against the span they ride on, through the same provider or subscriber.
    for (a, b) in [
        ("llmtrace_otel_provider", "otel_sdk"),
        ("llmtrace_tracing_mode", "tracing_otel"),
    ] {
        gate(
            &format!("{a} caller / {b} caller"),
            ratio(a, b, caller),
            1.1,
        );
    }
    for (v, s) in summary.iter().filter(|(v, _)| batches_only(v)) {
        if s.delivered_min < 0.99 {
            ok = false;
            println!(
                "- {v}: delivered {:.2}% < 99%: this run does not count",
                s.delivered_min * 100.0
            );
        }
    }
    // Reported: the drains with exporters that drop the spans (what is left is the pipeline
    // alone), and into the JSONL file.
    for (a, b) in [
        ("llmtrace_drain_otlp", "otel_sdk_drain_otlp"),
        ("llmtrace_drain", "otel_sdk_drain"),
        ("llmtrace_drain_jsonl", "otel_sdk_drain_otlp"),
        ("llmtrace_drain_otlp_default_capture", "otel_sdk_drain_otlp"),
    ] {
        if let (Some(t), Some(c)) = (ratio(a, b, total), ratio(a, b, cpu)) {
            println!("- {a} / {b}: total {t:.3}, process CPU {c:.3} (reported)");
        }
    }
    println!("\nOther ratios:\n");
    for (a, b) in [
        ("tracing_otel", "llmtrace"),
        ("fastrace", "llmtrace"),
        ("tracing_none", "bare"),
        ("llmtrace_not_installed", "bare"),
        ("llmtrace_async", "llmtrace"),
        ("llmtrace_default_capture", "llmtrace"),
        ("llmtrace_usage_cost", "llmtrace_bare_call"),
        ("llmtrace_response", "llmtrace_bare_call"),
        ("llmtrace_step", "llmtrace_workflow"),
        ("llmtrace_otel_context", "llmtrace"),
        ("llmtrace_otel_context_async", "llmtrace_async"),
        ("llmtrace_tracing_mode", "tracing_otel"),
        ("llmtrace_otel_provider", "otel_sdk"),
        ("llmtrace_tracing_mode_on_thread", "tracing_otel"),
        ("llmtrace_otel_provider_on_thread", "otel_sdk"),
        ("llmtrace_tracing_mode_genai", "tracing_otel"),
        ("llmtrace_otel_provider_genai", "otel_sdk"),
    ] {
        if let (Some(c), Some(p)) = (ratio(a, b, caller), ratio(a, b, cpu)) {
            println!("- {a} / {b}: caller {c:.2}x, process CPU {p:.2}x");
        }
    }
    ok
}
