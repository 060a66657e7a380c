//! The viewer's benchmark: one trace of 10,000 spans (a workflow, 100 agents, 99 calls each:
//! model calls with messages, tool calls, retrievals), written by `llmtrace report` and opened
//! in headless Chromium. For each of a few runs (medians printed):
//!
//! - writing the report (`llmtrace report`, release build);
//! - opening the page at the trace list, until the list is shown;
//! - clicking the trace, until its waterfall and the root's detail are drawn (two frames after
//!   the click, timed in the page);
//! - opening the page at the trace itself, until its waterfall is shown.
//!
//! Needs Chromium (`apt-get install -y chromium`, or `CHROME=path`); builds the `llmtrace`
//! binary in release. The generated files are removed at the end.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use headless_chrome::{Browser, LaunchOptions};

const AGENTS: usize = 100;
const CALLS_PER_AGENT: usize = 99;
const TRACE_ID: &str = "5eed5eed5eed5eed5eed5eed5eed5eed";
const BASE_NS: u64 = 1_767_225_600_000_000_000;

fn span(
    out: &mut String,
    id: u64,
    parent: u64,
    name: &str,
    start_us: u64,
    dur_us: u64,
    attrs: &str,
) {
    let parent = if parent == 0 {
        String::new()
    } else {
        format!("{parent:016x}")
    };
    let _ = write!(
        out,
        r#"{{"traceId":"{TRACE_ID}","spanId":"{id:016x}","parentSpanId":"{parent}","name":"{name}","startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":[{attrs}],"status":{{"code":{}}}}}"#,
        BASE_NS + start_us * 1000,
        BASE_NS + (start_us + dur_us) * 1000,
        if id.is_multiple_of(97) { 2 } else { 0 },
    );
}

fn kv_str(key: &str, value: &str) -> String {
    format!(
        r#"{{"key":"{key}","value":{{"stringValue":{}}}}}"#,
        serde_json::to_string(value).expect("string")
    )
}

fn kv_int(key: &str, value: u64) -> String {
    format!(r#"{{"key":"{key}","value":{{"intValue":"{value}"}}}}"#)
}

/// Writes the trace: 1 + AGENTS × (1 + CALLS_PER_AGENT) spans, 100 spans per line.
fn generate(file: &Path) -> std::io::Result<usize> {
    let mut spans: Vec<String> = Vec::new();
    let mut s = String::new();
    let total_us = (AGENTS * (CALLS_PER_AGENT + 1) * 100) as u64;
    span(
        &mut s,
        1,
        0,
        "invoke_workflow big_job",
        0,
        total_us,
        &[
            kv_str("gen_ai.operation.name", "invoke_workflow"),
            kv_str("gen_ai.workflow.name", "big_job"),
        ]
        .join(","),
    );
    spans.push(std::mem::take(&mut s));
    let mut id = 2u64;
    let mut t = 0u64;
    for a in 0..AGENTS {
        let agent = id;
        id += 1;
        let agent_start = t;
        let mut calls = Vec::new();
        for c in 0..CALLS_PER_AGENT {
            let (name, attrs) = match c % 3 {
                0 => (
                    "chat gpt-4o".to_owned(),
                    [
                        kv_str("gen_ai.operation.name", "chat"),
                        kv_str("gen_ai.request.model", "gpt-4o"),
                        kv_int("gen_ai.usage.input_tokens", 120 + c as u64),
                        kv_int("gen_ai.usage.output_tokens", 30),
                        kv_str("gen_ai.input.messages", &format!(r#"[{{"role":"user","parts":[{{"type":"text","content":"step {c} of agent {a}"}}]}}]"#)),
                        kv_str("gen_ai.output.messages", r#"[{"role":"assistant","parts":[{"type":"text","content":"done"}],"finish_reason":"stop"}]"#),
                    ]
                    .join(","),
                ),
                1 => (
                    "execute_tool lookup".to_owned(),
                    [
                        kv_str("gen_ai.operation.name", "execute_tool"),
                        kv_str("gen_ai.tool.name", "lookup"),
                        kv_str("gen_ai.tool.call.arguments", &format!(r#"{{"n":{c}}}"#)),
                    ]
                    .join(","),
                ),
                _ => (
                    "retrieval kb".to_owned(),
                    [
                        kv_str("gen_ai.operation.name", "retrieval"),
                        kv_str("gen_ai.retrieval.documents", r#"[{"id":"d1","score":0.8,"content":"text"}]"#),
                    ]
                    .join(","),
                ),
            };
            span(&mut s, id, agent, &name, t, 90, &attrs);
            calls.push(std::mem::take(&mut s));
            id += 1;
            t += 100;
        }
        span(
            &mut s,
            agent,
            1,
            &format!("invoke_agent worker_{a}"),
            agent_start,
            t - agent_start,
            &kv_str("gen_ai.operation.name", "invoke_agent"),
        );
        spans.push(std::mem::take(&mut s));
        spans.extend(calls);
        t += 100;
    }
    let mut w = BufWriter::new(std::fs::File::create(file)?);
    for chunk in spans.chunks(100) {
        writeln!(
            w,
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{}]}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
            kv_str("service.name", "bench"),
            chunk.join(",")
        )?;
    }
    w.flush()?;
    Ok(spans.len())
}

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("CHROME") {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser", "google-chrome"].map(|n| d.join(n)))
        .find(|p| p.is_file())
        .expect("no Chromium on the PATH: apt-get install -y chromium, or set CHROME")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Builds the CLI, writes the trace and the report, opens it `repeats` times; prints the table.
pub(crate) fn run(repeats: usize) {
    let dir = std::env::temp_dir().join("llmtrace-viewer-bench");
    std::fs::create_dir_all(&dir).expect("bench directory");
    let file = dir.join("big-trace.jsonl");
    let page = dir.join("report.html");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(&cargo)
        .args(["build", "--release", "--quiet", "-p", "llmtrace-cli"])
        .status()
        .expect("cargo build");
    assert!(status.success(), "building llmtrace-cli failed");
    let exe = std::env::current_exe()
        .expect("own path")
        .with_file_name("llmtrace");
    let n = generate(&file).expect("write the trace");
    let mut write_ms = Vec::new();
    for _ in 0..repeats {
        let t = Instant::now();
        let status = Command::new(&exe)
            .args(["report", "--no-cache", "-o"])
            .arg(&page)
            .arg(&file)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("llmtrace runs");
        write_ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(status.success(), "llmtrace report failed");
    }
    let size = std::fs::metadata(&page).map(|m| m.len()).unwrap_or(0);
    let browser = Browser::new(
        LaunchOptions::default_builder()
            .path(Some(chromium()))
            .headless(true)
            .sandbox(false)
            .window_size(Some((1400, 900)))
            .idle_browser_timeout(Duration::from_secs(300))
            .build()
            .expect("launch options"),
    )
    .expect("Chromium starts");
    let url = format!("file://{}", page.display());
    let (mut list_ms, mut click_ms, mut direct_ms, mut rows) =
        (Vec::new(), Vec::new(), Vec::new(), 0);
    for _ in 0..repeats {
        let tab = browser.new_tab().expect("tab");
        tab.set_default_timeout(Duration::from_secs(60));
        let t = Instant::now();
        tab.navigate_to(&url).expect("navigate");
        tab.wait_for_element("tr.trace-row").expect("the list");
        list_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let clicked = tab
            .evaluate(
                "new Promise(done => { const t0 = performance.now(); \
                 document.querySelector('tr.trace-row').click(); \
                 requestAnimationFrame(() => requestAnimationFrame(() => \
                 done(performance.now() - t0))); })",
                true,
            )
            .expect("click");
        click_ms.push(clicked.value.and_then(|v| v.as_f64()).expect("a time"));
        rows = tab
            .evaluate(
                "document.querySelectorAll('#waterfall .wf-row').length",
                false,
            )
            .ok()
            .and_then(|r| r.value)
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        let _ = tab.close(false);
        let tab = browser.new_tab().expect("tab");
        tab.set_default_timeout(Duration::from_secs(60));
        let t = Instant::now();
        tab.navigate_to(&format!("{url}#trace={TRACE_ID}"))
            .expect("navigate");
        tab.wait_for_element("#waterfall .wf-row")
            .expect("the waterfall");
        direct_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let _ = tab.close(false);
    }
    // The same trace served by `llmtrace serve` (imported into its store on start): the page
    // opened at the trace, its spans read back from SQLite for the page.
    let mut child = Command::new(&exe)
        .args([
            "serve",
            "--otlp",
            "127.0.0.1:0",
            "--ui",
            "127.0.0.1:0",
            "--store",
        ])
        .arg(dir.join("store"))
        .arg(&file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("llmtrace serve starts");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut ui = String::new();
    for _ in 0..2 {
        ui.clear();
        std::io::BufRead::read_line(&mut out, &mut ui).expect("its addresses");
    }
    let ui = ui.trim().trim_start_matches("llmtrace: UI on ").to_owned();
    let mut served_ms = Vec::new();
    for _ in 0..repeats {
        let tab = browser.new_tab().expect("tab");
        tab.set_default_timeout(Duration::from_secs(60));
        let t = Instant::now();
        tab.navigate_to(&format!("{ui}#trace={TRACE_ID}"))
            .expect("navigate");
        tab.wait_for_element("#waterfall .wf-row")
            .expect("the waterfall");
        served_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let _ = tab.close(false);
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(out);
    println!(
        "one trace of {n} spans; report {:.1} MiB; medians of {repeats} runs",
        size as f64 / (1 << 20) as f64
    );
    println!();
    println!("| step | time |");
    println!("|---|---:|");
    println!(
        "| `llmtrace report` writes the page | {:.0} ms |",
        median(write_ms)
    );
    println!(
        "| open the page at the trace list, list shown | {:.0} ms |",
        median(list_ms)
    );
    println!(
        "| click the trace, waterfall and detail drawn | {:.0} ms |",
        median(click_ms)
    );
    println!(
        "| open the page at the trace, waterfall shown | {:.0} ms |",
        median(direct_ms)
    );
    println!(
        "| `llmtrace serve`: open the page at the trace, waterfall shown | {:.0} ms |",
        median(served_ms)
    );
    println!();
    println!(
        "rows in the page after the click: {rows} of {n} (the rest are drawn as they scroll into view)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
