//! `llmtrace report` in a real browser: the page written over the files the RAG and looping
//! examples write (and a hand-written trace whose prompt holds markup) is opened in headless
//! Chromium, and the tests assert on the DOM its script renders: what a user sees and clicks.
//!
//! One browser serves every test (each opens its own tab). Without Chromium the tests say so and
//! pass, except under `CI=true`, where they fail. Screenshots go to `<target>/viewer-screenshots/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use headless_chrome::Tab;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use serde_json::Value;

#[path = "common/browser.rs"]
mod browser;
mod common;
use browser::{browser, js};
use common::{run_example, target_dir};

/// The files the tests read, and the reports written from them, once per test process.
struct Fixture {
    _dir: tempfile::TempDir,
    rag: PathBuf,
    looping: PathBuf,
    markup: PathBuf,
    /// Every file in one report.
    report: PathBuf,
    /// The same files, capped at 30 spans.
    capped: PathBuf,
}

/// A trace of another service whose prompt, answer and span name hold markup; one of its calls
/// was cancelled, and one span ends after the root (a late child).
const MARKUP_TRACE: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"markup-svc"}}]},"scopeSpans":[{"spans":[
{"traceId":"7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a","spanId":"1111111111111111","name":"<b>bold</b> workflow","startTimeUnixNano":"1000000000000000000","endTimeUnixNano":"1000000000500000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"invoke_workflow"}}]},
{"traceId":"7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a","spanId":"2222222222222222","parentSpanId":"1111111111111111","name":"chat gpt-4o","startTimeUnixNano":"1000000000100000000","endTimeUnixNano":"1000000000400000000","attributes":[
 {"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
 {"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},
 {"key":"gen_ai.usage.input_tokens","value":{"intValue":"12"}},
 {"key":"gen_ai.usage.output_tokens","value":{"intValue":"7"}},
 {"key":"gen_ai.input.messages","value":{"stringValue":"[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"<script>window.__pwned = 1</script><img src=x onerror=\\\"window.__pwned = 2\\\">\"}]}]"}},
 {"key":"gen_ai.output.messages","value":{"stringValue":"[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"</script><script>window.__pwned = 3</script>\"}],\"finish_reason\":\"stop\"}]"}}]},
{"traceId":"7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a","spanId":"3333333333333333","parentSpanId":"1111111111111111","name":"execute_tool slow_search","startTimeUnixNano":"1000000000400000000","endTimeUnixNano":"1000000000450000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"execute_tool"}},{"key":"llmtrace.cancelled","value":{"boolValue":true}}]},
{"traceId":"7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a","spanId":"4444444444444444","parentSpanId":"1111111111111111","name":"stream tail","startTimeUnixNano":"1000000000450000000","endTimeUnixNano":"1000000000700000000","attributes":[]}
]}]}]}
"#;

fn llmtrace(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_llmtrace"))
        .args(args)
        .output()
        .expect("llmtrace runs");
    assert!(
        out.status.success(),
        "llmtrace {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let sub = |name: &str| {
            let d = dir.path().join(name);
            std::fs::create_dir_all(&d).unwrap();
            d
        };
        let rag = run_example("rag_chatbot", &sub("rag"));
        let looping = run_example("looping_agent", &sub("looping"));
        let markup = dir.path().join("markup.jsonl");
        std::fs::write(&markup, MARKUP_TRACE.replace('\n', "") + "\n").unwrap();
        let report = dir.path().join("report.html");
        let capped = dir.path().join("capped.html");
        let files = [&rag, &looping, &markup].map(|p| p.to_str().unwrap().to_owned());
        let mut args: Vec<&str> = vec!["report", "--no-cache", "-o", report.to_str().unwrap()];
        args.extend(files.iter().map(String::as_str));
        llmtrace(&args);
        let mut args: Vec<&str> = vec!["report", "--no-cache", "--max-spans", "30", "-o"];
        args.push(capped.to_str().unwrap());
        args.extend(files.iter().map(String::as_str));
        llmtrace(&args);
        Fixture {
            _dir: dir,
            rag,
            looping,
            markup,
            report,
            capped,
        }
    })
}

/// A tab showing `page` (with `hash`), its script done.
fn open(page: &Path, hash: &str) -> Option<Arc<Tab>> {
    // Every test's tab stays open until the browser ends with the process: a handful.
    let browser = browser()?;
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(20));
    let url = format!("file://{}{hash}", page.display());
    tab.navigate_to(&url)
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    tab.wait_for_element("#app > *").unwrap();
    Some(tab)
}

fn text(tab: &Tab, selector: &str) -> String {
    tab.wait_for_element(selector).unwrap();
    let sel = serde_json::to_string(selector).unwrap();
    js(tab, &format!("document.querySelector({sel}).textContent"))
        .as_str()
        .unwrap()
        .to_owned()
}

fn texts(tab: &Tab, selector: &str) -> Vec<String> {
    let sel = serde_json::to_string(selector).unwrap();
    let v = js(
        tab,
        &format!("[...document.querySelectorAll({sel})].map(e => e.textContent)"),
    );
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// Clicks the element `selector` names, once it is there. The click is dispatched in the page:
/// the tests' tabs run side by side, and a tab in the background gets no mouse events.
fn click(tab: &Tab, selector: &str) {
    tab.wait_for_element(selector).unwrap();
    let sel = serde_json::to_string(selector).unwrap();
    js(tab, &format!("(document.querySelector({sel}).click(), 0)"));
}

/// Saves what `tab` shows; one tab at a time is brought to the front to be drawn.
fn screenshot(tab: &Tab, name: &str) {
    static FRONT: Mutex<()> = Mutex::new(());
    let _front = FRONT.lock().unwrap_or_else(|e| e.into_inner());
    tab.bring_to_front().unwrap();
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    let dir = target_dir().join("viewer-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

// ---- the files, read independently of the viewer --------------------------------------------

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

fn int(v: &Value) -> i64 {
    v["intValue"]
        .as_str()
        .map_or_else(|| v["intValue"].as_i64().unwrap(), |s| s.parse().unwrap())
}

fn is_root(span: &Value) -> bool {
    span["parentSpanId"].as_str().unwrap_or("").is_empty()
}

fn trace_ids(file: &Path) -> BTreeSet<String> {
    spans_of(file)
        .iter()
        .map(|s| s["traceId"].as_str().unwrap().to_owned())
        .collect()
}

/// The RAG trace whose tool call failed.
fn failed_rag_trace() -> String {
    spans_of(&fixture().rag)
        .iter()
        .find(|s| s["status"]["code"] == 2)
        .map(|s| s["traceId"].as_str().unwrap().to_owned())
        .expect("the RAG example has a failed tool call")
}

/// Shows trace `trace` from the list, by clicking its row.
fn open_trace(tab: &Tab, trace: &str) {
    click(tab, &format!("tr[data-trace='{trace}']"));
    tab.wait_for_element("#waterfall .wf-row").unwrap();
}

/// Shows the detail of the first span named `name` in the waterfall, by clicking its row.
fn open_span(tab: &Tab, spans: &[&Value], name: &str) -> Value {
    let span = spans
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no span {name}"));
    let id = span["spanId"].as_str().unwrap();
    click(tab, &format!(".wf-row[data-span='{id}']"));
    let shown = text(tab, "#detail-name");
    assert_eq!(shown, name);
    (*span).clone()
}

fn spans_of_trace<'a>(all: &'a [Value], trace: &str) -> Vec<&'a Value> {
    all.iter().filter(|s| s["traceId"] == trace).collect()
}

// ---- the tests -------------------------------------------------------------------------------

#[test]
fn the_list_shows_every_trace_with_its_tokens_and_cost() {
    let f = fixture();
    let Some(tab) = open(&f.report, "") else {
        return;
    };
    let rows = texts(&tab, "tr.trace-row td:first-child code");
    let mut expected = BTreeSet::new();
    for file in [&f.rag, &f.looping, &f.markup] {
        expected.extend(trace_ids(file));
    }
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    // Each RAG trace: the root's roll-up, as the console prints it.
    for root in spans_of(&f.rag).iter().filter(|s| is_root(s)) {
        let id = root["traceId"].as_str().unwrap();
        let input = int(attr(root, "llmtrace.trace.input_tokens").unwrap());
        let output = int(attr(root, "llmtrace.trace.output_tokens").unwrap());
        let tokens = text(&tab, &format!("tr[data-trace='{id}'] td.tokens"));
        assert_eq!(tokens, format!("{input} / {output}"));
        let cost = attr(root, "llmtrace.trace.cost_usd").unwrap()["doubleValue"]
            .as_f64()
            .unwrap();
        let shown = text(&tab, &format!("tr[data-trace='{id}'] td.cost"));
        let shown: f64 = shown.trim_start_matches('$').parse().unwrap();
        assert!((shown - cost).abs() <= cost * 0.005, "{shown} vs {cost}");
    }
    screenshot(&tab, "trace-list.png");
}

#[test]
fn the_list_sorts_filters_and_searches() {
    let f = fixture();
    let Some(tab) = open(&f.report, "") else {
        return;
    };
    let all = texts(&tab, "tr.trace-row").len();
    // By cost, highest first.
    click(&tab, "th[data-sort='cost_usd']");
    let costs: Vec<f64> = texts(&tab, "tr.trace-row td.cost")
        .iter()
        .filter_map(|c| c.trim_start_matches(['≥', '$']).parse().ok())
        .collect();
    assert!(costs.len() >= 5, "{costs:?}");
    assert!(costs.windows(2).all(|w| w[0] >= w[1]), "{costs:?}");
    // Errors only: the traces with a failed span.
    click(&tab, "#filter-errors");
    let mut failed: BTreeSet<String> = BTreeSet::new();
    for file in [&f.rag, &f.looping, &f.markup] {
        for s in spans_of(file) {
            if s["status"]["code"] == 2 {
                failed.insert(s["traceId"].as_str().unwrap()[..16].to_owned());
            }
        }
    }
    let shown: BTreeSet<String> = texts(&tab, "tr.trace-row td:first-child code")
        .into_iter()
        .collect();
    assert_eq!(shown, failed);
    click(&tab, "#filter-errors");
    assert_eq!(texts(&tab, "tr.trace-row").len(), all);
    // By model: the traces with a span that asked for it.
    let set = |id: &str, value: &str, event: &str| {
        js(
            &tab,
            &format!(
                "(() => {{ const e = document.getElementById('{id}'); e.value = '{value}'; \
                 e.dispatchEvent(new Event('{event}')); return 0; }})()"
            ),
        )
    };
    set("filter-model", "gpt-4o", "change");
    let mut with_model: BTreeSet<String> = BTreeSet::new();
    for file in [&f.rag, &f.looping, &f.markup] {
        for s in spans_of(file) {
            if attr(&s, "gen_ai.request.model").is_some_and(|m| m["stringValue"] == "gpt-4o") {
                with_model.insert(s["traceId"].as_str().unwrap()[..16].to_owned());
            }
        }
    }
    let shown: BTreeSet<String> = texts(&tab, "tr.trace-row td:first-child code")
        .into_iter()
        .collect();
    assert_eq!(shown, with_model);
    set("filter-model", "", "change");
    // From a time: the hand-written trace (9 September 2001) is older than the examples' runs.
    set("filter-from", "2001-09-10T00:00:00", "input");
    let shown = texts(&tab, "tr.trace-row td:first-child code");
    assert_eq!(shown.len(), all - 1);
    assert!(!shown.contains(&"7a7a7a7a7a7a7a7a".to_owned()));
    set("filter-from", "", "input");
    // Search over content: a word only the looping agent's tool arguments hold.
    js(
        &tab,
        "(() => { const s = document.getElementById('search'); s.value = 'KT-BLUE'; \
         s.dispatchEvent(new Event('input')); return 0; })()",
    );
    let found: BTreeSet<String> = texts(&tab, "tr.trace-row td:first-child code")
        .into_iter()
        .collect();
    let with_word: BTreeSet<String> = spans_of(&f.looping)
        .iter()
        .filter(|s| s.to_string().contains("KT-BLUE"))
        .map(|s| s["traceId"].as_str().unwrap()[..16].to_owned())
        .collect();
    assert!(!with_word.is_empty());
    assert_eq!(found, with_word);
}

#[test]
fn a_trace_shows_every_span_in_the_waterfall() {
    let f = fixture();
    let Some(tab) = open(&f.report, "") else {
        return;
    };
    let trace = failed_rag_trace();
    open_trace(&tab, &trace);
    let all = spans_of(&f.rag);
    let spans = spans_of_trace(&all, &trace);
    let rows: BTreeSet<String> = texts(&tab, "#waterfall .wf-row .wf-name")
        .into_iter()
        .collect();
    let names: BTreeSet<String> = spans
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    // Names repeat (two chat calls): count the rows too.
    assert_eq!(texts(&tab, "#waterfall .wf-row").len(), spans.len());
    assert_eq!(
        rows.iter()
            .map(|r| r.replace("low score", ""))
            .collect::<BTreeSet<_>>(),
        names
    );
    // The failed span's bar is marked, and the slowest leaf is named.
    let failed = spans.iter().find(|s| s["status"]["code"] == 2).unwrap();
    let id = failed["spanId"].as_str().unwrap();
    assert_eq!(
        js(
            &tab,
            &format!(
                "document.querySelector(\".wf-row[data-span='{id}'] .wf-bar\").classList.contains('error')"
            )
        ),
        Value::Bool(true)
    );
    let slowest = spans
        .iter()
        .filter(|s| !is_root(s))
        .max_by_key(|s| {
            let n = |k: &str| s[k].as_str().unwrap().parse::<u64>().unwrap();
            n("endTimeUnixNano") - n("startTimeUnixNano")
        })
        .unwrap();
    let sid = slowest["spanId"].as_str().unwrap();
    assert!(text(&tab, &format!(".wf-row[data-span='{sid}'] .wf-label")).contains("◀ slowest"));
    screenshot(&tab, "waterfall.png");
}

#[test]
fn the_chat_span_shows_the_conversation() {
    let f = fixture();
    let Some(tab) = open(&f.report, "") else {
        return;
    };
    let trace = failed_rag_trace();
    open_trace(&tab, &trace);
    let all = spans_of(&f.rag);
    let spans = spans_of_trace(&all, &trace);
    // The second chat call: its input holds the user's question and the tool's result.
    let chats: Vec<&&Value> = spans
        .iter()
        .filter(|s| s["name"] == "chat gpt-4o")
        .collect();
    let chat = chats
        .iter()
        .max_by_key(|s| {
            s["startTimeUnixNano"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .unwrap();
    click(
        &tab,
        &format!(".wf-row[data-span='{}']", chat["spanId"].as_str().unwrap()),
    );
    tab.wait_for_element("#detail .msg[data-role='assistant']")
        .unwrap();
    let input: Value = serde_json::from_str(
        attr(chat, "gen_ai.input.messages").unwrap()["stringValue"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let user_text = input
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["parts"][0]["content"].as_str())
        .unwrap()
        .to_owned();
    let users = texts(&tab, "#detail .msg[data-role='user']");
    assert!(users.iter().any(|u| u.contains(&user_text)), "{users:?}");
    let output: Value = serde_json::from_str(
        attr(chat, "gen_ai.output.messages").unwrap()["stringValue"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let answer = output[0]["parts"][0]["content"].as_str().unwrap();
    let assistants = texts(&tab, "#detail .msg[data-role='assistant']");
    assert!(
        assistants.iter().any(|a| a.contains(answer)),
        "{assistants:?}"
    );
    // The tool call the model asked for earlier, in the history.
    assert!(
        assistants
            .iter()
            .any(|a| a.contains("tool call lookup_order")),
        "{assistants:?}"
    );
    // Usage: the tokens the span reports.
    let input_tokens = int(attr(chat, "gen_ai.usage.input_tokens").unwrap());
    assert!(text(&tab, "#detail table.usage").contains(&input_tokens.to_string()));
    js(
        &tab,
        "(document.querySelector('#detail .conversation').scrollIntoView(), 0)",
    );
    screenshot(&tab, "span-detail.png");
}

#[test]
fn the_retrieval_shows_its_documents_and_scores() {
    let f = fixture();
    let Some(tab) = open(&f.report, "") else {
        return;
    };
    let trace = failed_rag_trace();
    open_trace(&tab, &trace);
    let all = spans_of(&f.rag);
    let spans = spans_of_trace(&all, &trace);
    let span = open_span(&tab, &spans, "retrieval help_center");
    let docs: Value = serde_json::from_str(
        attr(&span, "gen_ai.retrieval.documents").unwrap()["stringValue"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let ids: Vec<String> = docs
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    let scores: Vec<String> = docs
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{:.3}", d["score"].as_f64().unwrap()))
        .collect();
    assert_eq!(texts(&tab, "#detail .doc-id"), ids);
    assert_eq!(texts(&tab, "#detail .doc-score"), scores);
    // Its best score is below 0.5: the low-score badge.
    assert!(!texts(&tab, "#detail [data-badge='low_retrieval_score']").is_empty());
}

#[test]
fn the_failed_tool_shows_its_error() {
    let f = fixture();
    let Some(tab) = open(&f.report, "") else {
        return;
    };
    let trace = failed_rag_trace();
    open_trace(&tab, &trace);
    let all = spans_of(&f.rag);
    let spans = spans_of_trace(&all, &trace);
    let failed = spans.iter().find(|s| s["status"]["code"] == 2).unwrap();
    let name = failed["name"].as_str().unwrap();
    open_span(&tab, &spans, name);
    let message = failed["status"]["message"].as_str().unwrap();
    let error_type = attr(failed, "error.type").unwrap()["stringValue"]
        .as_str()
        .unwrap();
    let shown = text(&tab, "#detail-error");
    assert!(
        shown.contains(message) && shown.contains(error_type),
        "{shown}"
    );
    // The arguments it was called with, as formatted JSON.
    let args = text(&tab, "#detail .tool-args");
    assert!(args.contains("\"order_id\": \"B-7\""), "{args}");
    // The exception event.
    assert!(
        texts(&tab, "#detail .event")
            .iter()
            .any(|e| e.contains("exception"))
    );
    // Every attribute as written, in the raw table.
    let raw = texts(&tab, "#detail table.raw-attributes tr");
    let written = failed["attributes"].as_array().unwrap();
    assert_eq!(raw.len(), written.len());
    assert!(
        raw.iter().any(|r| r == &format!("error.type{error_type}")),
        "{raw:?}"
    );
}

#[test]
fn the_loop_trace_carries_the_loop_badge() {
    let f = fixture();
    let Some(tab) = open(&f.report, "") else {
        return;
    };
    // The trace where the same tool is called with the same arguments over and over.
    let out = Command::new(env!("CARGO_BIN_EXE_llmtrace"))
        .args(["loops", "--json", "--no-cache", "-f"])
        .arg(&f.looping)
        .output()
        .unwrap();
    let loops: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let looping: BTreeSet<String> = loops
        .iter()
        .map(|l| l["trace_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!looping.is_empty());
    for id in trace_ids(&f.looping).iter().chain(trace_ids(&f.rag).iter()) {
        let badges = texts(&tab, &format!("tr[data-trace='{id}'] [data-badge='loop']"));
        assert_eq!(!badges.is_empty(), looping.contains(id), "{id}");
    }
    // In the trace, the repeated calls carry it.
    let id = looping.iter().next().unwrap();
    open_trace(&tab, id);
    assert!(!texts(&tab, "#waterfall .wf-row [data-badge='loop']").is_empty());
    screenshot(&tab, "loop-waterfall.png");
}

#[test]
fn markup_in_content_is_shown_as_text() {
    let f = fixture();
    let Some(tab) = open(&f.report, "") else {
        return;
    };
    let id = "7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a";
    open_trace(&tab, id);
    click(&tab, ".wf-row[data-span='2222222222222222']");
    tab.wait_for_element("#detail .msg[data-role='user']")
        .unwrap();
    let user = text(&tab, "#detail .msg[data-role='user']");
    assert!(
        user.contains(
            r#"<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">"#
        ),
        "{user}"
    );
    let assistant = text(&tab, "#detail .msg[data-role='assistant']");
    assert!(
        assistant.contains("</script><script>window.__pwned = 3</script>"),
        "{assistant}"
    );
    assert!(text(&tab, ".trace-head h1").contains("<b>bold</b> workflow"));
    // None of it ran or became an element.
    assert_eq!(js(&tab, "typeof window.__pwned"), Value::from("undefined"));
    assert_eq!(
        js(&tab, "document.querySelectorAll('#app img, #app b').length"),
        Value::from(0)
    );
    assert_eq!(js(&tab, "document.scripts.length"), Value::from(2));
}

#[test]
fn a_capped_report_says_what_it_left_out() {
    let f = fixture();
    let Some(tab) = open(&f.capped, "") else {
        return;
    };
    let notice = text(&tab, "#cap-notice");
    let total: usize = [&f.rag, &f.looping, &f.markup]
        .iter()
        .map(|p| trace_ids(p).len())
        .sum();
    let rows = texts(&tab, "tr.trace-row").len();
    assert!(rows > 0 && rows < total, "{rows} of {total}");
    assert!(
        notice.contains(&format!("newest {rows} of {total} traces")) && notice.contains("30 spans"),
        "{notice}"
    );
}

#[test]
fn a_session_shows_its_traces_as_a_conversation_with_totals() {
    let f = fixture();
    let Some(tab) = open(&f.report, "") else {
        return;
    };
    let all = spans_of(&f.rag);
    let roots: Vec<&Value> = all.iter().filter(|s| is_root(s)).collect();
    let session = attr(roots[0], "session.id").unwrap()["stringValue"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = roots[0]["traceId"].as_str().unwrap();
    click(&tab, &format!("tr[data-trace='{id}'] a.session-link"));
    tab.wait_for_element("#session-head").unwrap();
    // Every trace of the session, oldest first, in the files: only the RAG example's.
    let mut in_session: Vec<&&Value> = roots
        .iter()
        .filter(|r| attr(r, "session.id").unwrap()["stringValue"] == session.as_str())
        .collect();
    in_session.sort_by_key(|r| {
        r["startTimeUnixNano"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    });
    let turns = js(
        &tab,
        "[...document.querySelectorAll('.turn')].map(t => t.dataset.trace)",
    );
    let expected: Vec<&str> = in_session
        .iter()
        .map(|r| r["traceId"].as_str().unwrap())
        .collect();
    assert_eq!(turns, serde_json::json!(expected));
    let input: i64 = in_session
        .iter()
        .map(|r| int(attr(r, "llmtrace.trace.input_tokens").unwrap()))
        .sum();
    let output: i64 = in_session
        .iter()
        .map(|r| int(attr(r, "llmtrace.trace.output_tokens").unwrap()))
        .sum();
    assert_eq!(
        text(&tab, "#session-tokens"),
        format!("{input} / {output} tokens")
    );
    // Each turn: the answer the workflow returned (a JSON string), as its text.
    for r in &in_session {
        let returned = attr(r, "output.value").unwrap()["stringValue"]
            .as_str()
            .unwrap();
        let answer: String = serde_json::from_str(returned).unwrap();
        let answer = answer.as_str();
        let id = r["traceId"].as_str().unwrap();
        let shown = text(
            &tab,
            &format!(".turn[data-trace='{id}'] .msg[data-role='assistant']"),
        );
        assert!(shown.contains(answer), "{shown}");
        assert!(
            !text(
                &tab,
                &format!(".turn[data-trace='{id}'] .msg[data-role='user']")
            )
            .is_empty()
        );
    }
}

#[test]
fn two_picked_traces_compare_span_by_span() {
    let f = fixture();
    let Some(tab) = open(&f.report, "") else {
        return;
    };
    let ids: Vec<String> = trace_ids(&f.rag).into_iter().collect();
    for id in &ids {
        click(&tab, &format!("tr[data-trace='{id}'] input.pick"));
    }
    click(&tab, "#compare");
    tab.wait_for_element("#compare-table").unwrap();
    // The two runs have the same shape: one row per span, none only on one side.
    let all = spans_of(&f.rag);
    let per_trace = spans_of_trace(&all, &ids[0]).len();
    assert_eq!(texts(&tab, "#compare-table tr.cmp-row").len(), per_trace);
    assert!(texts(&tab, "#compare-table tr.cmp-one").is_empty());
    // The tool call fails in one of them only.
    let notes = texts(&tab, "#compare-table td.cmp-notes");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("fails in A") || n.contains("fails in B")),
        "{notes:?}"
    );
}

#[test]
fn bad_input_is_named_on_the_page_and_the_rest_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mixed.jsonl");
    let good = MARKUP_TRACE.replace('\n', "");
    std::fs::write(&file, format!("{{not json\n{good}\n")).unwrap();
    let page = dir.path().join("mixed.html");
    let out = Command::new(env!("CARGO_BIN_EXE_llmtrace"))
        .args(["report", "--no-cache", "-o"])
        .arg(&page)
        .arg(&file)
        .output()
        .unwrap();
    // Exit 3: some input could not be read; the page is written all the same.
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("mixed.jsonl:1:"), "{stderr}");
    let Some(tab) = open(&page, "") else { return };
    assert!(text(&tab, "#notices").contains("mixed.jsonl:1:"));
    assert_eq!(
        texts(&tab, "tr.trace-row td:first-child code"),
        vec!["7a7a7a7a7a7a7a7a".to_owned()]
    );
}

#[test]
fn no_trace_or_an_unwritable_output_is_a_clear_error() {
    let f = fixture();
    let out = Command::new(env!("CARGO_BIN_EXE_llmtrace"))
        .args([
            "report",
            "--no-cache",
            "--name",
            "no-such-root",
            "-o",
            "/dev/null",
        ])
        .arg(&f.rag)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no trace matched"));
    let out = Command::new(env!("CARGO_BIN_EXE_llmtrace"))
        .args(["report", "--no-cache", "-o", "/no/such/dir/report.html"])
        .arg(&f.rag)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot write /no/such/dir/report.html"),
        "{stderr}"
    );
}

#[test]
fn a_report_of_stdin_holds_every_trace_with_its_spans() {
    use std::io::Write as _;
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("stdin.html");
    let mut child = Command::new(env!("CARGO_BIN_EXE_llmtrace"))
        .args(["report", "-", "-o"])
        .arg(&page)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(&f.rag).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    // Stdin is read once: the spans are there as well as the summaries.
    for s in spans_of(&f.rag) {
        let id = s["spanId"].as_str().unwrap();
        assert!(
            html.contains(&format!("\"id\":\"{id}\"")),
            "span {id} missing"
        );
    }
    let Some(tab) = open(&page, "") else { return };
    assert_eq!(texts(&tab, "tr.trace-row").len(), trace_ids(&f.rag).len());
}

#[test]
fn a_large_waterfall_draws_the_rows_in_view_and_reaches_every_span() {
    const SPANS: u64 = 3_000;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("large.jsonl");
    let trace = "1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a";
    let base: u64 = 1_767_225_600_000_000_000;
    let mut spans = Vec::new();
    for i in 1..=SPANS {
        let parent = if i == 1 {
            String::new()
        } else {
            "0000000000000001".to_owned()
        };
        let (start, end) = if i == 1 {
            (base, base + SPANS * 1_000_000)
        } else {
            (base + i * 1_000_000, base + i * 1_000_000 + 500_000)
        };
        spans.push(format!(
            r#"{{"traceId":"{trace}","spanId":"{i:016x}","parentSpanId":"{parent}","name":"step {i}","startTimeUnixNano":"{start}","endTimeUnixNano":"{end}"}}"#
        ));
    }
    let lines: Vec<String> = spans
        .chunks(500)
        .map(|c| {
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
                c.join(",")
            )
        })
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let page = dir.path().join("large.html");
    llmtrace(&[
        "report",
        "--no-cache",
        "-o",
        page.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let Some(tab) = open(&page, &format!("#trace={trace}")) else {
        return;
    };
    tab.wait_for_element("#waterfall .wf-row").unwrap();
    let drawn = texts(&tab, "#waterfall .wf-row").len() as u64;
    assert!(drawn > 10 && drawn < 200, "{drawn} rows drawn");
    // The last span, once scrolled to.
    let last = format!("{SPANS:016x}");
    js(
        &tab,
        "(() => { const w = document.getElementById('waterfall'); w.scrollTop = w.scrollHeight; \
         w.dispatchEvent(new Event('scroll')); return 0; })()",
    );
    tab.wait_for_element(&format!(".wf-row[data-span='{last}']"))
        .unwrap();
    click(&tab, &format!(".wf-row[data-span='{last}']"));
    assert_eq!(text(&tab, "#detail-name"), format!("step {SPANS}"));
}

#[test]
fn cancelled_and_late_spans_are_marked_in_the_waterfall() {
    let f = fixture();
    let Some(tab) = open(&f.report, "") else {
        return;
    };
    open_trace(&tab, "7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a");
    let classes = |id: &str| {
        js(
            &tab,
            &format!("document.querySelector(\".wf-row[data-span='{id}'] .wf-bar\").className"),
        )
        .as_str()
        .unwrap()
        .to_owned()
    };
    assert!(classes("3333333333333333").contains("cancelled"));
    assert!(!classes("3333333333333333").contains("late"));
    assert!(classes("4444444444444444").contains("late"));
    assert!(!classes("2222222222222222").contains("late"));
    assert!(text(&tab, ".wf-row[data-span='3333333333333333'] .wf-label").contains("cancelled"));
}
