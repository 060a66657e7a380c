//! The explorer against the files the examples write: the looping agent and two runs of the RAG
//! chatbot. Every command in its human and `--json` form, with the values checked against the
//! files themselves (durations come from real sleeps, so expected latencies are computed from
//! the spans, not written down).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// The example files, written once per test process.
struct Files {
    _dir: tempfile::TempDir,
    looping: PathBuf,
    rag1: PathBuf,
    rag2: PathBuf,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The target directory this test was built in: `<target>/<profile>/llmtrace`.
fn target_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_llmtrace"));
    bin.ancestors()
        .nth(2)
        .expect("<target>/<profile>/llmtrace")
        .to_owned()
}

/// Runs an example in `dir`, which then holds its `llmtrace-traces.jsonl`.
///
/// The example is built with its default features, which may not be the features of this test
/// run (`--all-features`). Its binary goes to a target directory of its own, so that it does not
/// replace the one the examples' own tests run; the compiled crates are shared (the build
/// directory stays this run's), so nothing is compiled twice.
fn run_example(bin: &str, dir: &Path) -> PathBuf {
    let target = target_dir();
    let status = Command::new(env!("CARGO"))
        .current_dir(dir)
        .args(["run", "--quiet", "--manifest-path"])
        .arg(workspace().join("Cargo.toml"))
        .args(["-p", "llmtrace-examples", "--bin", bin])
        .env("CARGO_BUILD_BUILD_DIR", &target)
        .env("CARGO_TARGET_DIR", target.join("explorer-examples"))
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_TRACES_EXPORTER")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "{bin} failed");
    let file = dir.join("llmtrace-traces.jsonl");
    assert!(file.exists(), "{bin} wrote no trace file");
    file
}

fn files() -> &'static Files {
    static FILES: OnceLock<Files> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let sub = |name: &str| {
            let d = dir.path().join(name);
            std::fs::create_dir_all(&d).unwrap();
            d
        };
        Files {
            looping: run_example("looping_agent", &sub("looping")),
            rag1: run_example("rag_chatbot", &sub("rag1")),
            rag2: run_example("rag_chatbot", &sub("rag2")),
            _dir: dir,
        }
    })
}

fn llmtrace(args: &[&str], files: &[&Path]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_llmtrace"));
    cmd.args(args);
    for f in files {
        cmd.arg("-f").arg(f);
    }
    cmd.output().expect("llmtrace runs")
}

/// stdout of a run that must succeed.
fn ok(args: &[&str], files: &[&Path]) -> String {
    let out = llmtrace(args, files);
    assert!(
        out.status.success(),
        "llmtrace {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Every span of a file, as JSON objects (independently of the explorer's reader).
fn spans_of(file: &Path) -> Vec<Value> {
    let mut spans = Vec::new();
    for line in std::fs::read_to_string(file).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        for rs in v["resourceSpans"].as_array().unwrap() {
            for ss in rs["scopeSpans"].as_array().unwrap() {
                spans.extend(ss["spans"].as_array().unwrap().iter().cloned());
            }
        }
    }
    spans
}

fn attr<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

fn nanos(v: &Value) -> u64 {
    v.as_str().unwrap().parse().unwrap()
}

fn duration_ns(span: &Value) -> u64 {
    nanos(&span["endTimeUnixNano"]) - nanos(&span["startTimeUnixNano"])
}

fn ms(ns: u64) -> f64 {
    (ns as f64 / 1_000.0).round() / 1_000.0
}

/// The trace of the looping agent that `user` asked.
fn trace_of_user(file: &Path, user: &str) -> String {
    let ls = json_lines(&ok(&["ls", "--json", "--user", user], &[file]));
    assert_eq!(ls.len(), 1, "{user}: {ls:?}");
    ls[0]["trace_id"].as_str().unwrap().to_owned()
}

#[test]
fn loops_finds_the_repeated_failing_tool_call() {
    let f = files();
    let kettle = trace_of_user(&f.looping, "user-1");
    let mug = trace_of_user(&f.looping, "user-3");
    let loops = json_lines(&ok(&["loops", "--json"], &[&f.looping, &f.rag1]));
    let same: Vec<&Value> = loops
        .iter()
        .filter(|l| l["kind"] == "same-tool-call")
        .collect();
    // The kettle's lookup six times, all failed; the mug's two tools three times each.
    assert_eq!(same[0]["what"], "check_inventory");
    assert_eq!(same[0]["trace_id"], kettle.as_str());
    assert_eq!(same[0]["count"], 6);
    assert_eq!(same[0]["failed"], 6);
    assert_eq!(same[0]["input"], r#"{"sku":"KT-BLUE"}"#);
    let calls_in_loop: Vec<Value> = spans_of(&f.looping)
        .into_iter()
        .filter(|s| s["traceId"] == kettle.as_str() && s["name"] == "chat gpt-4o-mini")
        .collect();
    // The model calls that asked for the lookup again: all six, each priced.
    let tokens: i64 = calls_in_loop
        .iter()
        .take(6)
        .map(|s| {
            attr(s, "gen_ai.usage.input_tokens").unwrap()["intValue"]
                .as_str()
                .unwrap()
                .parse::<i64>()
                .unwrap()
        })
        .sum();
    assert_eq!(same[0]["input_tokens"], tokens);
    let others: Vec<(&str, i64)> = same[1..]
        .iter()
        .map(|l| (l["what"].as_str().unwrap(), l["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(others, [("get_price", 3), ("search_catalog", 3)]);
    let ping: Vec<&Value> = loops.iter().filter(|l| l["kind"] == "ping-pong").collect();
    assert_eq!(ping.len(), 1);
    assert_eq!(ping[0]["what"], "search_catalog ⇄ get_price");
    assert_eq!(ping[0]["count"], 3);
    assert_eq!(ping[0]["trace_id"], mug.as_str());

    let human = ok(&["loops"], &[&f.looping]);
    let first = human.lines().nth(1).unwrap();
    assert!(first.starts_with(&kettle[..16]), "{human}");
    assert!(first.contains("↻ check_inventory"), "{human}");
    assert!(first.contains("6×") && first.contains("6/6"), "{human}");
    assert!(human.contains("⇄ search_catalog ⇄ get_price"), "{human}");
}

#[test]
fn top_by_cost_puts_the_looping_trace_first() {
    let f = files();
    let kettle = trace_of_user(&f.looping, "user-1");
    let top = json_lines(&ok(&["top", "--by", "cost", "--json"], &[&f.looping]));
    assert_eq!(top[0]["rank"], 1);
    assert_eq!(top[0]["trace_id"], kettle.as_str());
    let root = spans_of(&f.looping)
        .into_iter()
        .find(|s| s["traceId"] == kettle.as_str() && s["parentSpanId"] == "")
        .unwrap();
    let cost = attr(&root, "llmtrace.trace.cost_usd").unwrap()["doubleValue"]
        .as_f64()
        .unwrap();
    assert_eq!(top[0]["cost_usd"].as_f64(), Some(cost));
    // The local classifier reports no usage: the totals are a lower bound.
    assert_eq!(top[0]["totals_lower_bound"], true);
    let costs: Vec<f64> = top
        .iter()
        .map(|t| t["cost_usd"].as_f64().unwrap())
        .collect();
    assert!(costs.windows(2).all(|w| w[0] >= w[1]), "{costs:?}");
    let human = ok(&["top", "--by", "cost"], &[&f.looping]);
    assert!(
        human.lines().nth(1).unwrap().starts_with(&kettle[..16]),
        "{human}"
    );
    assert!(human.contains("≥$"), "lower bounds marked: {human}");

    let by_model = json_lines(&ok(
        &["top", "--by", "tokens", "--group-by", "model", "--json"],
        &[&f.looping, &f.rag1],
    ));
    let models: Vec<&str> = by_model
        .iter()
        .map(|g| g["group"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["gpt-4o-mini", "gpt-4o", "llama-3.1-8b-local"]);
    assert_eq!(by_model[0]["calls"], 13);
    let by_tool = ok(
        &["top", "--by", "errors", "--group-by", "tool"],
        &[&f.looping],
    );
    assert!(
        by_tool
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("check_inventory"),
        "{by_tool}"
    );
    let by_user = json_lines(&ok(
        &["top", "--by", "duration", "--group-by", "user", "--json"],
        &[&f.looping],
    ));
    assert_eq!(by_user.len(), 3);
    assert!(by_user[0]["p95_ms"].is_number());
}

#[test]
fn stats_gives_the_p95_of_a_span() {
    let f = files();
    let mut durations: Vec<u64> = spans_of(&f.looping)
        .iter()
        .filter(|s| s["name"] == "chat gpt-4o-mini")
        .map(duration_ns)
        .collect();
    durations.sort_unstable();
    assert_eq!(durations.len(), 13);
    // Nearest rank: the 13th of 13 values (ceil(0.95 × 13) = 13), the 7th for p50.
    let p95 = ms(durations[12]);
    let p50 = ms(durations[6]);
    let stats = json_lines(&ok(&["stats", "--json"], &[&f.looping]));
    let chat = stats
        .iter()
        .find(|s| s["name"] == "chat gpt-4o-mini")
        .unwrap();
    assert_eq!(chat["model"], "gpt-4o-mini");
    assert_eq!(chat["calls"], 13);
    assert_eq!(chat["errors"], 0);
    assert_eq!(chat["p95_ms"].as_f64(), Some(p95));
    assert_eq!(chat["p50_ms"].as_f64(), Some(p50));
    let tool = stats
        .iter()
        .find(|s| s["name"] == "execute_tool check_inventory")
        .unwrap();
    assert_eq!(tool["error_rate"].as_f64(), Some(1.0));
    let human = ok(&["stats"], &[&f.looping]);
    let row = human
        .lines()
        .find(|l| l.starts_with("chat gpt-4o-mini"))
        .unwrap();
    assert!(row.contains(" 13 "), "{row}");
    let since = ok(&["stats", "--since", "1h"], &[&f.looping]);
    assert_eq!(since, human, "everything was written within the hour");
    let none = ok(
        &["stats", "--json", "--since", "2999-01-01T00:00:00Z"],
        &[&f.looping],
    );
    assert_eq!(none, "");
}

#[test]
fn anomalies_name_the_slow_span_and_the_low_score_retrieval() {
    let f = files();
    let gift = trace_of_user(&f.looping, "user-2");
    let found = json_lines(&ok(&["anomalies", "--json"], &[&f.looping, &f.rag1]));
    let of = |kind: &str| -> Vec<&Value> { found.iter().filter(|a| a["kind"] == kind).collect() };
    let slow = of("slow_span");
    assert_eq!(slow.len(), 1, "{slow:?}");
    assert_eq!(slow[0]["name"], "chat gpt-4o-mini");
    assert_eq!(slow[0]["trace_id"], gift.as_str());
    // The low score: the second question's retrieval, best score 0.4.
    let low = of("low_retrieval_score");
    assert_eq!(low.len(), 1, "{low:?}");
    assert_eq!(low[0]["name"], "retrieval help_center");
    assert_eq!(low[0]["value"].as_f64(), Some(0.4));
    let b7_trace = json_lines(&ok(&["ls", "--json", "--errors"], &[&f.rag1]));
    assert_eq!(low[0]["trace_id"], b7_trace[0]["trace_id"]);
    // The failed lookups the agent handed back to the model: swallowed, seven of them.
    assert_eq!(of("swallowed_error").len(), 7);
    assert_eq!(of("usage_missing").len(), 3);
    let human = ok(&["anomalies"], &[&f.looping, &f.rag1]);
    assert!(
        human.lines().nth(1).unwrap().starts_with("slow span"),
        "{human}"
    );
    assert!(human.contains("best score 0.40 < 0.50"), "{human}");
}

#[test]
fn diff_of_two_runs() {
    let f = files();
    let first = |file: &Path| {
        let ls = json_lines(&ok(&["ls", "--json"], &[file]));
        // Oldest first here: the A-42 question.
        ls.last().unwrap()["trace_id"].as_str().unwrap().to_owned()
    };
    let (a, b) = (first(&f.rag1), first(&f.rag2));
    let diff = json_lines(&ok(
        &["diff", &a[..12], &b[..12], "--json"],
        &[&f.rag1, &f.rag2],
    ));
    let paths: Vec<&str> = diff.iter().map(|d| d["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "support_answer",
            "support_answer/retrieval help_center",
            "support_answer/chat gpt-4o",
            "support_answer/execute_tool lookup_order",
            "support_answer/chat gpt-4o#2",
        ]
    );
    // The mock model is deterministic: same models, tokens and outputs; only times differ.
    for d in &diff {
        assert_eq!(d["output"], "same", "{d}");
        assert_eq!(d["a"]["model"], d["b"]["model"]);
        assert_eq!(d["a"]["input_tokens"], d["b"]["input_tokens"]);
    }
    // The two questions of one run: the tool's result and the answer changed.
    let ls = json_lines(&ok(&["ls", "--json"], &[&f.rag1]));
    let (q2, q1) = (
        ls[0]["trace_id"].as_str().unwrap(),
        ls[1]["trace_id"].as_str().unwrap(),
    );
    let diff = json_lines(&ok(&["diff", q1, q2, "--json"], &[&f.rag1]));
    let changed: Vec<&str> = diff
        .iter()
        .filter(|d| d["output"] == "changed")
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        changed,
        [
            "support_answer",
            "support_answer/retrieval help_center",
            "support_answer/chat gpt-4o",
            "support_answer/execute_tool lookup_order",
            "support_answer/chat gpt-4o#2",
        ]
    );
    let tool = diff
        .iter()
        .find(|d| d["path"] == "support_answer/execute_tool lookup_order")
        .unwrap();
    assert_eq!(tool["a"]["error"], Value::Null);
    assert_eq!(tool["b"]["error"], "OrderNotFound: no order B-7");
    let human = ok(&["diff", q1, q2], &[&f.rag1]);
    assert!(
        human
            .lines()
            .any(|l| l.starts_with("support_answer/chat gpt-4o#2") && l.ends_with("changed")),
        "{human}"
    );
}

#[test]
fn show_prints_the_tree_and_a_span() {
    let f = files();
    let ls = json_lines(&ok(&["ls", "--json", "--errors"], &[&f.rag1]));
    let id = ls[0]["trace_id"].as_str().unwrap();
    let tree = ok(&["show", &id[..8]], &[&f.rag1]);
    let lines: Vec<&str> = tree.lines().collect();
    assert_eq!(lines.len(), 5, "{tree}");
    assert!(
        lines[0].starts_with("support_answer ")
            && lines[0].ends_with(&format!("trace {}", &id[..16]))
    );
    assert!(lines[1].starts_with("├─ retrieval help_center") && lines[1].ends_with("(3 docs)"));
    assert!(
        lines[3].ends_with("✗ OrderNotFound: no order B-7"),
        "{tree}"
    );
    let json = json_lines(&ok(&["show", id, "--json"], &[&f.rag1]));
    let depths: Vec<i64> = json.iter().map(|s| s["depth"].as_i64().unwrap()).collect();
    assert_eq!(depths, [0, 1, 1, 1, 1]);

    let docs = json_lines(&ok(
        &["show", id, "--span", "retrieval help_center", "--json"],
        &[&f.rag1],
    ));
    let ids: Vec<&str> = docs[0]["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["kb-12", "kb-31", "kb-44"]);
    assert_eq!(docs[0]["documents"][0]["score"].as_f64(), Some(0.4));
    let human = ok(&["show", id, "--span", "retrieval help_center"], &[&f.rag1]);
    assert!(human.contains("documents (best score 0.40)"), "{human}");
    assert!(
        human.contains("kb-12        0.40  Orders ship within 2 business days"),
        "{human}"
    );

    let chat = json_lines(&ok(
        &["show", id, "--span", "chat gpt-4o", "--json"],
        &[&f.rag1],
    ));
    assert_eq!(chat.len(), 2);
    assert_eq!(chat[1]["cache_read_tokens"], 75);
    assert_eq!(chat[1]["input_messages"][3]["role"], "tool");
    let tool = ok(
        &["show", id, "--span", "execute_tool lookup_order"],
        &[&f.rag1],
    );
    assert!(
        tool.contains("status      ✗ OrderNotFound: no order B-7"),
        "{tool}"
    );
    assert!(tool.contains(r#"arguments   {"order_id":"B-7"}"#), "{tool}");
    assert!(tool.contains("exception"), "the error's event: {tool}");

    let missing = llmtrace(&["show", "ffffffff"], &[&f.rag1]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no trace ffffffff"));
}

#[test]
fn ls_lists_newest_first_and_filters() {
    let f = files();
    let all = json_lines(&ok(&["ls", "--json"], &[&f.looping]));
    assert_eq!(all.len(), 3);
    let users: Vec<&str> = all.iter().map(|t| t["user"].as_str().unwrap()).collect();
    assert_eq!(users, ["user-3", "user-2", "user-1"]);
    assert_eq!(all[2]["errors"], 6);
    assert_eq!(all[2]["spans"], 14);
    let errors = json_lines(&ok(&["ls", "--json", "--errors"], &[&f.looping]));
    assert_eq!(errors.len(), 1);
    let price = json_lines(&ok(
        &["ls", "--json", "--where", "gen_ai.tool.name=get_price"],
        &[&f.looping],
    ));
    assert_eq!(price.len(), 1);
    assert_eq!(price[0]["user"], "user-3");
    let slow = json_lines(&ok(
        &["ls", "--json", "--min-duration", "10s"],
        &[&f.looping],
    ));
    assert!(slow.is_empty());
    let named = json_lines(&ok(
        &[
            "ls",
            "--json",
            "--name",
            "support",
            "--session",
            "demo-session",
        ],
        &[&f.looping, &f.rag1],
    ));
    assert_eq!(named.len(), 2);
    let costly = json_lines(&ok(
        &["ls", "--json", "--min-cost", "0.0001"],
        &[&f.looping],
    ));
    assert_eq!(costly.len(), 2);
    let human = ok(&["ls"], &[&f.looping]);
    assert!(
        human.lines().next().unwrap().starts_with("trace "),
        "{human}"
    );
    assert!(
        human.lines().nth(1).unwrap().contains("shop_agent"),
        "{human}"
    );
    assert!(human.contains("shop-session / user-1"), "{human}");
}

#[test]
fn check_reports_gaps_and_fails() {
    let f = files();
    let out = llmtrace(&["check", "--json"], &[&f.looping]);
    assert_eq!(out.status.code(), Some(1));
    let rows = json_lines(&String::from_utf8(out.stdout).unwrap());
    let llama = rows
        .iter()
        .find(|r| r["name"] == "chat llama-3.1-8b-local")
        .unwrap();
    assert_eq!(llama["missing"]["tokens"], 3);
    assert_eq!(llama["missing"]["completion"], 3);
    assert_eq!(llama["complete"], false);
    assert!(
        rows.iter()
            .filter(|r| r["name"] != "chat llama-3.1-8b-local")
            .all(|r| r["complete"] == true)
    );
    let rag = llmtrace(&["check"], &[&f.rag1]);
    assert_eq!(rag.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&rag.stdout).contains("instrumentation complete"));
}

#[test]
fn default_files_rotated_and_stdin() {
    let f = files();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&f.looping, dir.path().join("llmtrace-traces.1.jsonl")).unwrap();
    std::fs::copy(&f.rag1, dir.path().join("llmtrace-traces.jsonl")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_llmtrace"))
        .current_dir(dir.path())
        .args(["ls", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(json_lines(&String::from_utf8(out.stdout).unwrap()).len(), 5);
    // A directory, and stdin.
    assert_eq!(json_lines(&ok(&["ls", "--json"], &[dir.path()])).len(), 5);
    let mut child = Command::new(env!("CARGO_BIN_EXE_llmtrace"))
        .args(["ls", "--json", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        &std::fs::read(&f.rag1).unwrap(),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(json_lines(&String::from_utf8(out.stdout).unwrap()).len(), 2);
}

#[test]
fn bad_input_is_reported_by_file_and_line() {
    let f = files();
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(&f.rag1).unwrap();
    let good = good.trim_end();
    let n = good.lines().count();
    let first = good.lines().next().unwrap();
    // After the good lines: a corrupt line, a good line with an attribute of an unknown type,
    // and a last line cut short with no newline (a writer still appending).
    let unknown = first.replacen(
        r#"{"stringValue":"demo-session"}"#,
        r#"{"fancyValue":"demo-session"}"#,
        1,
    );
    let fixture = format!(
        "{good}\n{{\"resourceSpans\": [oops\n{unknown}\n{}",
        &first[..first.len() / 2]
    );
    let path = dir.path().join("traces.jsonl");
    std::fs::write(&path, fixture).unwrap();
    let not_otlp = dir.path().join("other.jsonl");
    std::fs::write(&not_otlp, "{\"level\":\"info\",\"msg\":\"hello\"}\n").unwrap();
    let missing = dir.path().join("missing.jsonl");
    let out = llmtrace(&["ls", "--json"], &[&path, &not_otlp, &missing]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let p = path.display().to_string();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 5, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("llmtrace: {p}:{}: not JSON", n + 1)),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with(&format!("llmtrace: {p}:{}: attribute `session.id`", n + 2)),
        "{stderr}"
    );
    assert!(
        lines[1].contains("unknown value type `fancyValue`"),
        "{stderr}"
    );
    assert_eq!(
        lines[2],
        format!(
            "llmtrace: {p}:{}: incomplete last line (a writer may still be appending); skipped",
            n + 3
        )
    );
    assert!(
        lines[3].starts_with(&format!(
            "llmtrace: {}:1: JSON without `resourceSpans`",
            not_otlp.display()
        )),
        "{stderr}"
    );
    assert_eq!(
        lines[4],
        format!("llmtrace: {}: no such file", missing.display())
    );
    // The good lines are used: the two traces, some of their spans read twice.
    let traces = json_lines(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(traces.len(), 2);
    let spans: i64 = traces.iter().map(|t| t["spans"].as_i64().unwrap()).sum();
    assert!(spans > 10, "{traces:?}");
    let none = llmtrace(&["ls"], &[&missing]);
    assert_eq!(none.status.code(), Some(2));
}

// ---- the cache ------------------------------------------------------------------------------

/// stdout, stderr and exit code of a run in `dir`.
fn run_in(dir: &Path, args: &[&str], files: &[&Path]) -> (String, String, Option<i32>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_llmtrace"));
    cmd.current_dir(dir).args(args);
    for f in files {
        cmd.arg("-f").arg(f);
    }
    let out = cmd.output().expect("llmtrace runs");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code(),
    )
}

/// Runs `args` without the cache, then with a cache it writes, then with the cache it reads:
/// the same output each time.
fn same_with_and_without_cache(dir: &Path, args: &[&str], files: &[&Path]) -> String {
    let mut plain = args.to_vec();
    plain.push("--no-cache");
    let expected = run_in(dir, &plain, files);
    let cache = dir.join(".llmtrace");
    if cache.is_dir() {
        std::fs::remove_dir_all(&cache).unwrap();
    }
    assert_eq!(
        run_in(dir, args, files),
        expected,
        "{args:?}, cache written"
    );
    assert_eq!(run_in(dir, args, files), expected, "{args:?}, cache read");
    expected.0
}

/// Copies of the example files in a new directory, with no cache yet.
fn fresh_copies(f: &Files) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("looping", &f.looping),
        ("rag1", &f.rag1),
        ("rag2", &f.rag2),
    ]
    .iter()
    .map(|(name, from)| {
        let to = dir.path().join(format!("{name}.jsonl"));
        std::fs::copy(from, &to).unwrap();
        to
    })
    .collect();
    (dir, files)
}

#[test]
fn every_command_gives_the_same_output_with_and_without_the_cache() {
    let f = files();
    let (dir, copies) = fresh_copies(f);
    let all: Vec<&Path> = copies.iter().map(PathBuf::as_path).collect();
    let d = dir.path();
    let ls = json_lines(&same_with_and_without_cache(d, &["ls", "--json"], &all));
    assert_eq!(ls.len(), 7);
    let id = |i: usize| ls[i]["trace_id"].as_str().unwrap().to_owned();
    let (a, b, c) = (id(0), id(1), id(4));
    let mut commands: Vec<Vec<String>> = Vec::new();
    let mut add = |args: &[&str]| commands.push(args.iter().map(|s| (*s).to_owned()).collect());
    add(&["ls"]);
    add(&["ls", "--errors", "--limit", "2"]);
    add(&["ls", "--since", "1h", "--user", "user-1", "--json"]);
    add(&[
        "ls",
        "--min-cost",
        "0.0001",
        "--name",
        "shop",
        "--session",
        "shop-session",
    ]);
    add(&["ls", "--min-duration", "100ms", "--json"]);
    add(&["ls", "--where", "gen_ai.tool.name=get_price"]);
    for by in ["cost", "tokens", "duration", "errors"] {
        add(&["top", "--by", by]);
        add(&["top", "--by", by, "--json", "-n", "3"]);
    }
    for g in [
        "model", "provider", "prompt", "user", "session", "name", "tool",
    ] {
        add(&["top", "--group-by", g]);
        add(&["top", "--by", "duration", "--group-by", g, "--json"]);
    }
    add(&["top", "--where", "user.id=user-7", "--json"]);
    add(&["stats"]);
    add(&["stats", "--json", "--since", "1h"]);
    add(&["loops"]);
    add(&["loops", "--json", "-n", "2"]);
    add(&["anomalies"]);
    add(&[
        "anomalies",
        "--json",
        "--min-score",
        "0.3",
        "--slow-factor",
        "1.5",
    ]);
    add(&["check"]);
    add(&["check", "--json"]);
    add(&["show", &a]);
    add(&["show", &b[..8], "--json"]);
    add(&["show", &c, "--span", "retrieval help_center"]);
    add(&["show", &c, "--span", "chat gpt-4o", "--json"]);
    add(&["show", "ffffffff"]);
    add(&["show", "0"]);
    add(&["diff", &a, &b]);
    add(&["diff", &c[..12], &id(5), "--json"]);
    for args in &commands {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        same_with_and_without_cache(d, &args, &all);
    }
    // Every command reads each file alone too (one cache per file).
    for file in &all {
        for args in [&["ls", "--json"][..], &["loops"], &["check"], &["stats"]] {
            same_with_and_without_cache(d, args, &[file]);
        }
    }
}

#[test]
fn the_cache_follows_a_growing_rotated_or_damaged_file() {
    let f = files();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let current = d.join("llmtrace-traces.jsonl");
    let text = std::fs::read_to_string(&f.looping).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let half = lines.len() / 2;
    let write = |path: &Path, lines: &[&str], last: &str| {
        let mut s: String = lines.iter().map(|l| format!("{l}\n")).collect();
        s.push_str(last);
        std::fs::write(path, s).unwrap();
    };
    let commands: [&[&str]; 6] = [
        &["ls", "--json"],
        &["top", "--by", "cost"],
        &["stats", "--json"],
        &["loops", "--json"],
        &["anomalies", "--json"],
        &["check", "--json"],
    ];
    // The default files, read from the current directory: each check runs without the cache,
    // then with the cache as the previous step left it.
    let check = |step: &str| {
        for args in commands {
            let mut plain = args.to_vec();
            plain.push("--no-cache");
            assert_eq!(
                run_in(d, args, &[]),
                run_in(d, &plain, &[]),
                "{step}: {args:?}"
            );
        }
    };
    write(&current, &lines[..half], "");
    check("first half");
    assert!(d.join(".llmtrace").is_dir());
    // Appended: the rest, a line at a time, the last cut short (a writer still appending).
    for i in half..lines.len() {
        write(&current, &lines[..i], &lines[i][..lines[i].len() / 2]);
        check("cut short");
        write(&current, &lines[..=i], "");
        check("appended");
    }
    // Rotated: the file renamed, a new one started.
    std::fs::rename(&current, d.join("llmtrace-traces.1.jsonl")).unwrap();
    std::fs::copy(&f.rag1, &current).unwrap();
    check("rotated");
    // Damaged: every cache file overwritten in its middle.
    for entry in std::fs::read_dir(d.join(".llmtrace")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "idx") {
            let mut bytes = std::fs::read(&path).unwrap();
            let mid = bytes.len() / 2;
            bytes[mid..mid + 8].copy_from_slice(b"garbage!");
            std::fs::write(&path, bytes).unwrap();
        }
    }
    check("damaged");
    check("rebuilt");
    // Nowhere to write: a file where the cache directory goes.
    std::fs::remove_dir_all(d.join(".llmtrace")).unwrap();
    std::fs::write(d.join(".llmtrace"), "").unwrap();
    check("cannot be written");
}

#[test]
fn stdin_is_never_cached() {
    let f = files();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_llmtrace"))
        .current_dir(dir.path())
        .args(["ls", "--json", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        &std::fs::read(&f.rag1).unwrap(),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(json_lines(&String::from_utf8(out.stdout).unwrap()).len(), 2);
    assert!(!dir.path().join(".llmtrace").exists());
}
