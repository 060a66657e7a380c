//! The explorer's benchmark: a generated trace file of 1,000,000 spans (100,000 traces, ten
//! spans each, in lines of 512 KiB plus one span as the JSONL exporter writes them), queried by
//! `llmtrace top --by cost` and `llmtrace ls --errors`, and by `jq` doing the same queries on
//! the same file. For each query:
//!
//! - first runs, which parse the JSON and write the cache (`.llmtrace/` next to the file),
//!   removed before each (median);
//! - repeated runs, which read the cache (median);
//! - runs after 1% more spans were appended to the file, which read the cache, parse the new
//!   lines and append them to the cache (median; each run appends another 1%);
//! - runs with `--no-cache`, which parse the JSON and write nothing (median);
//! - `jq` (median).
//!
//! Each with its wall time, its CPU time (user and system) and its peak memory (max RSS).
//!
//! Needs `jq` on the PATH (`apt-get install -y jq`) and builds the `llmtrace` binary in release.
//! The generated file and its cache are removed at the end.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const TRACES: usize = 100_000;
const SPANS_PER_TRACE: usize = 10;
/// A line ends once it holds this many bytes, as the JSONL exporter's do (its batches' byte
/// limit).
const LINE_BYTES: usize = 512 * 1024;

/// Writes the benchmark's file: traces `0..TRACES`.
fn generate(path: &Path) -> std::io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    write_traces(&mut out, 0..TRACES)?;
    out.flush()?;
    // On disk before anything is timed: the kernel writing 800 MiB back while the first run
    // reads would be timed with it.
    out.get_ref().sync_all()?;
    Ok(std::fs::metadata(path)?.len())
}

/// Appends traces `traces` to the file.
fn append(path: &Path, traces: Range<usize>) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new().append(true).open(path)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    write_traces(&mut out, traces)?;
    out.flush()?;
    out.get_ref().sync_all()
}

/// Writes traces `traces`: each a workflow root with its roll-up, a retrieval, four model
/// calls, three tool calls and a second retrieval; one trace in 20 has a failed tool.
fn write_traces(out: &mut impl Write, traces: Range<usize>) -> std::io::Result<()> {
    let mut rng = fastrand::Rng::with_seed(7 + traces.start as u64);
    let mut line = String::new();
    let mut in_line = 0;
    let base: u64 = 1_790_000_000_000_000_000;
    let attr_s = |k: &str, v: &str| format!(r#"{{"key":"{k}","value":{{"stringValue":"{v}"}}}}"#);
    let attr_i = |k: &str, v: i64| format!(r#"{{"key":"{k}","value":{{"intValue":"{v}"}}}}"#);
    let attr_f = |k: &str, v: f64| format!(r#"{{"key":"{k}","value":{{"doubleValue":{v}}}}}"#);
    for t in traces {
        let trace_id = format!(
            "{:032x}",
            (t as u128 + 1) * 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835
        );
        let start = base + t as u64 * 1_000_000_000;
        let failed = t % 20 == 7;
        let user = format!("user-{}", t % 500);
        let mut total_in = 0;
        let mut total_out = 0;
        let mut total_cost = 0.0;
        let mut spans = Vec::with_capacity(SPANS_PER_TRACE);
        for s in 1..SPANS_PER_TRACE {
            let (name, attrs, error) = match s {
                1 | 9 => (
                    "retrieval kb".to_owned(),
                    vec![
                        attr_s("gen_ai.operation.name", "retrieval"),
                        attr_s("gen_ai.data_source.id", "kb"),
                        attr_i("llmtrace.retrieval.documents.count", 3),
                        attr_f(
                            "retrieval.documents.0.document.score",
                            (rng.u32(40..99) as f64) / 100.0,
                        ),
                    ],
                    false,
                ),
                2 | 4 | 6 | 8 => {
                    let input = rng.i64(200..4000);
                    let output = rng.i64(20..600);
                    let cost = input as f64 * 2.5e-6 + output as f64 * 1e-5;
                    total_in += input;
                    total_out += output;
                    total_cost += cost;
                    (
                        "chat gpt-4o".to_owned(),
                        vec![
                            attr_s("gen_ai.operation.name", "chat"),
                            attr_s("gen_ai.provider.name", "openai"),
                            attr_s("gen_ai.request.model", "gpt-4o"),
                            attr_i("gen_ai.usage.input_tokens", input),
                            attr_i("gen_ai.usage.output_tokens", output),
                            attr_f("llm.cost.total", cost),
                            attr_s(
                                "gen_ai.input.messages",
                                r#"[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Where is my order A-42?\"}]}]"#,
                            ),
                            attr_s(
                                "gen_ai.output.messages",
                                r#"[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"It ships today.\"}],\"finish_reason\":\"stop\"}]"#,
                            ),
                        ],
                        false,
                    )
                }
                _ => (
                    "execute_tool lookup_order".to_owned(),
                    vec![
                        attr_s("gen_ai.operation.name", "execute_tool"),
                        attr_s("gen_ai.tool.name", "lookup_order"),
                        attr_s("gen_ai.tool.call.arguments", r#"{\"order_id\":\"A-42\"}"#),
                    ],
                    failed && s == 5,
                ),
            };
            spans.push((s as u64 + 1, 1u64, name, attrs, error));
        }
        spans.push((
            1,
            0,
            "invoke_workflow support_answer".to_owned(),
            vec![
                attr_s("gen_ai.operation.name", "invoke_workflow"),
                attr_s("gen_ai.workflow.name", "support_answer"),
                attr_i("llmtrace.trace.input_tokens", total_in),
                attr_i("llmtrace.trace.output_tokens", total_out),
                attr_f("llmtrace.trace.cost_usd", total_cost),
            ],
            false,
        ));
        for (id, parent, name, mut attrs, error) in spans {
            attrs.push(attr_s("session.id", &format!("s-{}", t / 4)));
            attrs.push(attr_s("user.id", &user));
            let span_start = start + id * 10_000_000;
            let end = span_start + rng.u64(5_000_000..400_000_000);
            if in_line == 0 {
                line.push_str(r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"bench"}}]},"scopeSpans":[{"scope":{"name":"llmtrace"},"spans":["#);
            } else {
                line.push(',');
            }
            let parent = if parent == 0 {
                String::new()
            } else {
                format!("{parent:016x}")
            };
            let status = if error {
                r#"{"message":"no order","code":2}"#
            } else {
                r#"{"message":"","code":0}"#
            };
            let _ = write!(
                line,
                r#"{{"traceId":"{trace_id}","spanId":"{id:016x}","parentSpanId":"{parent}","flags":257,"name":"{name}","kind":1,"startTimeUnixNano":"{span_start}","endTimeUnixNano":"{end}","attributes":[{}],"status":{status}}}"#,
                attrs.join(",")
            );
            in_line += 1;
            if line.len() >= LINE_BYTES {
                line.push_str("]}]}]}\n");
                out.write_all(line.as_bytes())?;
                line.clear();
                in_line = 0;
            }
        }
    }
    if in_line > 0 {
        line.push_str("]}]}]}\n");
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// What one run took.
#[derive(Debug, Clone, Copy)]
struct Run {
    /// Wall time, seconds.
    wall: f64,
    /// CPU time (user and system, the process and the children it waited for), seconds: what
    /// other work on the machine changes least.
    cpu: f64,
    /// Peak memory (max RSS), MiB.
    rss: f64,
}

/// Runs `program args` with stdout discarded.
// The child is waited for with `wait4` (for its resource usage), which clippy does not see.
#[allow(clippy::zombie_processes)]
fn measure(program: &str, args: &[&str]) -> Run {
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain data the kernel fills; `pid` is our child, waited for once.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(waited, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{program} {args:?} failed"
    );
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Run {
        wall: secs,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        rss: usage.ru_maxrss as f64 / 1024.0,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median wall and CPU times and highest peak memory of `runs` runs, each after `before`.
fn runs(program: &str, args: &[&str], runs: usize, mut before: impl FnMut(usize)) -> Run {
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let mut rss: f64 = 0.0;
    for i in 0..runs.max(1) {
        before(i);
        let r = measure(program, args);
        walls.push(r.wall);
        cpus.push(r.cpu);
        rss = rss.max(r.rss);
    }
    Run {
        wall: median(walls),
        cpu: median(cpus),
        rss,
    }
}

/// The size of the files in a directory, in bytes.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Builds the CLI, generates the file, runs the queries; prints the table.
pub(crate) fn run(repeats: usize) {
    let dir = std::env::temp_dir().join("llmtrace-explorer-bench");
    std::fs::create_dir_all(&dir).expect("bench directory");
    let file = dir.join("llmtrace-traces.jsonl");
    let cache = dir.join(".llmtrace");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(&cargo)
        .args(["build", "--release", "--quiet", "-p", "llmtrace-cli"])
        .status()
        .expect("cargo build");
    assert!(status.success(), "building llmtrace-cli failed");
    let exe: PathBuf = std::env::current_exe()
        .expect("own path")
        .with_file_name("llmtrace");
    eprintln!("generating {} spans ...", TRACES * SPANS_PER_TRACE);
    let bytes = generate(&file).expect("write the bench file");
    let f = file.to_str().expect("utf-8 path");
    let llmtrace = exe.to_str().expect("utf-8 path").to_owned();
    let top_jq = format!(
        r#"jq -c '.resourceSpans[].scopeSpans[].spans[] | select(.parentSpanId == "") | {{trace: .traceId, cost: ([.attributes[] | select(.key == "llmtrace.trace.cost_usd") | .value.doubleValue][0])}}' {f} | jq -s -c 'sort_by(-.cost) | .[:10] | .[]'"#
    );
    let ls_jq = format!(
        r#"jq -r '.resourceSpans[].scopeSpans[].spans[] | select(.status.code == 2) | .traceId' {f} | sort -u"#
    );
    let queries: [(&str, Vec<String>, String); 2] = [
        (
            "top --by cost",
            ["top", "--by", "cost", "--json", "-f", f]
                .map(String::from)
                .to_vec(),
            top_jq,
        ),
        (
            "ls --errors",
            ["ls", "--errors", "--json", "--limit", "0", "-f", f]
                .map(String::from)
                .to_vec(),
            ls_jq,
        ),
    ];
    // 1% more spans per append.
    let step = TRACES / 100;
    let mut rows = Vec::new();
    let mut cache_bytes = 0;
    for (label, args, jq) in &queries {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut no_cache = args.clone();
        no_cache.push("--no-cache");
        eprintln!("{label} ...");
        let first = runs(&llmtrace, &args, repeats, |_| {
            let _ = std::fs::remove_dir_all(&cache);
        });
        cache_bytes = dir_bytes(&cache);
        let repeated = runs(&llmtrace, &args, repeats, |_| {});
        let appended = runs(&llmtrace, &args, repeats, |i| {
            let from = TRACES + i * step;
            append(&file, from..from + step).expect("append to the bench file");
        });
        // Back to the generated file (its cache is rebuilt by the next query's first run).
        std::fs::OpenOptions::new()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_len(bytes))
            .expect("truncate the bench file");
        let plain = runs(&llmtrace, &no_cache, repeats, |_| {});
        let jq = runs("sh", &["-c", jq], repeats.clamp(1, 3), |_| {});
        rows.push((label, first, repeated, appended, plain, jq));
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "\n{} spans, {} traces, {:.0} MiB file, {:.0} MiB cache; medians of {} runs\n",
        TRACES * SPANS_PER_TRACE,
        TRACES,
        bytes as f64 / (1 << 20) as f64,
        cache_bytes as f64 / (1 << 20) as f64,
        repeats
    );
    println!("| query | run | time | CPU | peak RSS | time / jq |");
    println!("|---|---|---:|---:|---:|---:|");
    for (label, first, repeated, appended, plain, jq) in rows {
        let row = |what: &str, r: Run| {
            println!(
                "| `{label}` | {what} | {:.2} s | {:.2} s | {:.0} MiB | {:.3} |",
                r.wall,
                r.cpu,
                r.rss,
                r.wall / jq.wall
            );
        };
        row("first (parses the JSON, writes the cache)", first);
        row("repeated (reads the cache)", repeated);
        row("after appending 1% more spans", appended);
        row("`--no-cache` (parses the JSON)", plain);
        row("jq", jq);
    }
}
