//! Hot-path benchmark: the same model call traced by llmtrace, the OpenTelemetry SDK, `tracing`
//! with tracing-opentelemetry, and fastrace, against a bare function and the physical floor.
//!
//! ```text
//! cargo run --release -p llmtrace-bench            # 7 interleaved rounds, table and gates
//! cargo run --release -p llmtrace-bench -- --rounds 3 --variants llmtrace,otel_sdk
//! cargo run --release -p llmtrace-bench -- --redaction   # redaction cost per KiB of content
//! cargo run --release -p llmtrace-bench -- --explorer    # `llmtrace` queries against jq (needs jq)
//! cargo run --release -p llmtrace-bench -- --viewer      # a 10,000-span waterfall in Chromium
//! cargo run --release -p llmtrace-bench -- --serve       # spans/s into `llmtrace serve`'s store, its list with 100k traces
//! ```
//!
//! Every variant runs in its own process (a global subscriber or reporter can be installed only
//! once), in interleaved rounds; the report gives medians over rounds with their min and max.

mod explorer;
mod measure;
mod receiver;
mod redaction;
mod report;
mod sampled_out_metrics;
mod serve;
mod variants;
mod viewer;

use std::process::Command;

#[global_allocator]
static ALLOC: measure::CountingAlloc = measure::CountingAlloc;

struct Options {
    rounds: usize,
    spans: usize,
    batches: usize,
    variants: Vec<String>,
    worker: Option<String>,
    redaction: bool,
    explorer: bool,
    viewer: bool,
    serve: bool,
}

fn options() -> Options {
    let mut o = Options {
        rounds: 7,
        spans: 2000,
        batches: 25,
        variants: variants::VARIANTS.iter().map(|v| (*v).to_owned()).collect(),
        worker: None,
        redaction: false,
        explorer: false,
        viewer: false,
        serve: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--rounds" => o.rounds = value().parse().unwrap_or_else(|_| usage("--rounds N")),
            "--spans" => o.spans = value().parse().unwrap_or_else(|_| usage("--spans N")),
            "--batches" => o.batches = value().parse().unwrap_or_else(|_| usage("--batches N")),
            "--variants" => {
                o.variants = value().split(',').map(str::to_owned).collect();
                for v in &o.variants {
                    if !variants::VARIANTS.contains(&v.as_str()) {
                        usage(&format!("unknown variant {v}"));
                    }
                }
            }
            "--worker" => o.worker = Some(value()),
            "--redaction" => o.redaction = true,
            "--explorer" => o.explorer = true,
            "--viewer" => o.viewer = true,
            "--serve" => o.serve = true,
            other => usage(&format!("unknown option {other}")),
        }
    }
    o
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "{problem}\nusage: llmtrace-bench [--rounds N] [--spans N] [--batches N] [--variants a,b,..] [--redaction] [--explorer] [--viewer] [--serve]\nvariants: {}",
        variants::VARIANTS.join(", ")
    );
    std::process::exit(2)
}

fn main() {
    let o = options();
    if o.redaction {
        redaction::run(o.rounds);
        return;
    }
    if o.explorer {
        explorer::run(o.rounds.min(5));
        return;
    }
    if o.serve {
        serve::run(o.rounds.min(5), 100);
        return;
    }
    if o.viewer {
        viewer::run(o.rounds.min(5));
        return;
    }
    if let Some(variant) = o.worker {
        let sample = measure::run(&variant, o.spans, o.batches);
        println!("{}", serde_json::to_string(&sample).expect("sample"));
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    let mut samples = Vec::new();
    for round in 0..o.rounds {
        // Rotate the order each round so no variant always runs first or last.
        let n = o.variants.len();
        for i in 0..n {
            let variant = &o.variants[(i + round) % n];
            let out = Command::new(&exe)
                .args(["--worker", variant])
                .args(["--spans", &o.spans.to_string()])
                .args(["--batches", &o.batches.to_string()])
                .output()
                .expect("run worker");
            if !out.status.success() {
                eprintln!(
                    "{variant} failed:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                std::process::exit(1);
            }
            let line = String::from_utf8_lossy(&out.stdout);
            let sample: measure::Sample = serde_json::from_str(line.trim()).expect("worker output");
            eprintln!(
                "round {}/{}  {:<24} caller {:>8.1} ns  cpu {:>8.1} ns  delivered {:>6.2}%",
                round + 1,
                o.rounds,
                variant,
                sample.caller_ns,
                sample.cpu_ns,
                sample.delivered * 100.0
            );
            samples.push(sample);
        }
    }
    let ok = report::print(&samples, o.rounds, o.spans, o.batches);
    if !ok {
        std::process::exit(1);
    }
}
