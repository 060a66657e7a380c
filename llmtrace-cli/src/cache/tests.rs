//! The cache's life: written by a scan, read by the next, appended to when the file grows,
//! rebuilt when the file is replaced or the cache damaged, never in the way when it cannot be
//! written. Each scan is compared with a scan of the JSON alone.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};

use super::{Loaded, MAGIC, TRAILER_BYTES};
use crate::source::{Accumulator, Input, Inputs, Reads, scan};
use crate::span::SpanFacts;

/// Every span as the commands see it (what the cache keeps), in a canonical order.
#[derive(Default)]
struct Spans(Vec<String>);

impl Accumulator for Spans {
    fn add(&mut self, s: &SpanFacts<'_>) {
        let mut f = s.clone();
        f.repeat = Some(s.repeat());
        f.raw = None;
        self.0.push(format!("{f:?}"));
    }

    fn merge(&mut self, other: Self) {
        self.0.extend(other.0);
    }
}

/// The spans of some traces as written (what `show` reads).
struct Written {
    trace: u128,
    spans: Vec<String>,
}

impl Accumulator for Written {
    fn add(&mut self, s: &SpanFacts<'_>) {
        if s.trace_id == self.trace {
            let raw = s.raw.as_ref().expect("read from the JSON");
            self.spans.push(format!(
                "{:?} {:?} {:?}",
                s.span_id, raw.attributes, raw.events
            ));
        }
    }

    fn merge(&mut self, other: Self) {
        self.spans.extend(other.spans);
    }

    fn reads(&self) -> Reads {
        Reads::RawOfSomeTraces
    }

    fn takes_trace(&self, trace_id: u128) -> bool {
        trace_id == self.trace
    }
}

/// What a scan gave: the spans, the problems as printed, lines and spans read.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    spans: Vec<String>,
    problems: Vec<String>,
    lines: u64,
    count: u64,
}

fn run(paths: &[&Path], cache: bool) -> Outcome {
    let inputs = Inputs {
        list: paths.iter().map(|p| Input::File(p.to_path_buf())).collect(),
        cache,
    };
    let (acc, report) = scan(&inputs, Vec::new(), Spans::default);
    let mut spans = acc.0;
    spans.sort();
    Outcome {
        spans,
        problems: report.problems.iter().map(ToString::to_string).collect(),
        lines: report.lines,
        count: report.spans,
    }
}

/// Scans with the cache (twice: written, then read) and without: the same each time.
fn same_both_ways(paths: &[&Path]) -> Outcome {
    let plain = run(paths, false);
    assert!(plain.count > 0);
    assert_eq!(run(paths, true), plain, "with the cache written");
    assert_eq!(run(paths, true), plain, "with the cache read");
    plain
}

fn loaded(path: &Path) -> Option<Arc<Loaded>> {
    let mut f = File::open(path).ok()?;
    super::open(path, &mut f)?.loaded
}

fn cache_path(path: &Path) -> PathBuf {
    let mut f = File::open(path).unwrap();
    super::open(path, &mut f).unwrap().path
}

fn span(t: u64, i: u64) -> Value {
    let trace = format!("{:032x}", u128::from(t) * 0x9e37_79b9_7f4a_7c15 + 1);
    let start = 1_700_000_000_000_000_000 + t * 1_000_000_000 + i * 1_000_000;
    let s = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let n = |k: &str, v: i64| json!({"key": k, "value": {"intValue": v.to_string()}});
    let mut attrs = vec![
        s("user.id", &format!("user-{}", t % 3)),
        s("session.id", "s1"),
    ];
    let name = match i % 4 {
        0 => {
            attrs.extend([
                s("gen_ai.operation.name", "invoke_workflow"),
                s("gen_ai.workflow.name", "agent"),
            ]);
            "invoke_workflow agent"
        }
        1 | 3 => {
            attrs.extend([
                s("gen_ai.operation.name", "chat"),
                s("gen_ai.request.model", "gpt-4o"),
                n("gen_ai.usage.input_tokens", (t * 7 + i) as i64),
                n("gen_ai.usage.output_tokens", 20),
                json!({"key": "llm.cost.total", "value": {"doubleValue": 0.0001 * (i + 1) as f64}}),
                s(
                    "gen_ai.input.messages",
                    r#"[{"role":"user","parts":[{"type":"text","content":"Where is A-42?"}]}]"#,
                ),
            ]);
            "chat gpt-4o"
        }
        _ => {
            attrs.extend([
                s("gen_ai.operation.name", "execute_tool"),
                s("gen_ai.tool.name", "lookup"),
                s(
                    "gen_ai.tool.call.arguments",
                    &format!(r#"{{"id": "A-{}", "n": 1}}"#, t % 2),
                ),
            ]);
            "execute_tool lookup"
        }
    };
    json!({
        "traceId": trace,
        "spanId": format!("{:016x}", i + 1),
        "parentSpanId": if i.is_multiple_of(4) { String::new() } else { format!("{:016x}", 1) },
        "name": name,
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": (start + 5_000_000 + i * 777).to_string(),
        "attributes": attrs,
        "events": [{"name": "exception", "timeUnixNano": start.to_string(), "attributes": [s("exception.message", "boom")]}],
        "status": {"code": if (t + i).is_multiple_of(5) { 2 } else { 0 }, "message": "failed"},
    })
}

/// Line `t` of a trace file: the spans of trace `t` (and every fifth line, one of trace
/// `t - 1`, so that a trace's spans are spread over lines).
fn line(t: u64) -> String {
    let mut spans: Vec<Value> = (0..4).map(|i| span(t, i)).collect();
    if t.is_multiple_of(5) {
        spans.push(span(t - 1, 5));
    }
    json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
        "scopeSpans": [{"spans": spans}],
    }]})
    .to_string()
}

/// Lines `from..to`, each with its newline; some blank, one not JSON, one with a value of an
/// unknown type.
fn lines(from: u64, to: u64) -> String {
    let mut out = String::new();
    for t in from..to {
        match t % 17 {
            3 => out.push('\n'),
            11 => out.push_str("{\"resourceSpans\": [oops\n"),
            _ => {}
        }
        let mut l = line(t);
        if t % 23 == 5 {
            l = l.replacen(r#"{"stringValue":"s1"}"#, r#"{"fancyValue":"s1"}"#, 1);
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn file_with(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_scan_writes_the_cache_and_the_next_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), "t.jsonl", &lines(1, 60));
    assert!(loaded(&path).is_none());
    let plain = same_both_ways(&[&path]);
    assert_eq!(plain.problems.len(), 6, "{:?}", plain.problems);
    let cache = loaded(&path).expect("written");
    assert_eq!(cache.covered, fs::metadata(&path).unwrap().len());
    assert!(cache.entries().len() > 3, "one segment per block");
    // The cache is what is read: a change the file's identity and ends do not show (an
    // append-only file never has one) is not seen, until the cache is bypassed.
    let text = fs::read_to_string(&path).unwrap();
    let mid = text.len() / 2;
    let at = mid + text[mid..].find("execute_tool lookup").unwrap();
    let mut edited = text.clone();
    edited.replace_range(at..at + 19, "execute_tool LOOKUP");
    fs::write(&path, &edited).unwrap();
    assert!(loaded(&path).is_some());
    let cached = run(&[&path], true);
    assert_eq!(cached, plain);
    assert_ne!(run(&[&path], false), plain);
}

#[test]
fn appended_lines_are_parsed_and_appended() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), "t.jsonl", &lines(1, 30));
    same_both_ways(&[&path]);
    let before = loaded(&path).unwrap();
    append(&path, &lines(30, 70));
    same_both_ways(&[&path]);
    let after = loaded(&path).unwrap();
    assert_eq!(after.covered, fs::metadata(&path).unwrap().len());
    assert!(after.entries().len() > before.entries().len());
    assert_eq!(
        after.entries()[..before.entries().len()],
        before.entries()[..],
        "the old segments are kept"
    );
    // And again, a line at a time.
    for t in 70..75 {
        append(&path, &lines(t, t + 1));
        same_both_ways(&[&path]);
    }
    assert_eq!(
        loaded(&path).unwrap().covered,
        fs::metadata(&path).unwrap().len()
    );
}

#[test]
fn an_unterminated_last_line_is_read_but_not_cached() {
    let dir = tempfile::tempdir().unwrap();
    let whole = lines(1, 20);
    let next = line(20);
    // Cut short: a writer still appending.
    let path = file_with(dir.path(), "t.jsonl", &format!("{whole}{}", &next[..100]));
    let plain = same_both_ways(&[&path]);
    assert!(
        plain
            .problems
            .last()
            .unwrap()
            .contains("incomplete last line"),
        "{:?}",
        plain.problems
    );
    assert_eq!(loaded(&path).unwrap().covered, whole.len() as u64);
    // Finished, without its newline yet: its spans count, it is still not cached.
    append(&path, &next[100..]);
    let plain = same_both_ways(&[&path]);
    assert!(plain.spans.iter().any(|s| s.contains("start: 1700000020")));
    assert_eq!(loaded(&path).unwrap().covered, whole.len() as u64);
    // Its newline, and more lines.
    append(&path, &format!("\n{}", lines(21, 30)));
    same_both_ways(&[&path]);
    assert_eq!(
        loaded(&path).unwrap().covered,
        fs::metadata(&path).unwrap().len()
    );
}

#[test]
fn a_rotated_file_keeps_its_cache_and_the_new_one_gets_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), "t.jsonl", &lines(1, 30));
    same_both_ways(&[&path]);
    let rotated = dir.path().join("t.1.jsonl");
    fs::rename(&path, &rotated).unwrap();
    let kept = loaded(&rotated).expect("the cache follows the file");
    assert_eq!(kept.covered, fs::metadata(&rotated).unwrap().len());
    fs::write(&path, lines(30, 50)).unwrap();
    assert!(loaded(&path).is_none());
    same_both_ways(&[&rotated, &path]);
    assert!(loaded(&path).is_some());
    // The rotated file's cache was read, not rewritten.
    assert_eq!(loaded(&rotated).unwrap().entries(), kept.entries());
}

#[test]
fn a_file_rewritten_in_place_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), "t.jsonl", &lines(1, 40));
    same_both_ways(&[&path]);
    // Shorter (emptied, then written again, as the exporter does with no rotated files).
    fs::write(&path, lines(100, 110)).unwrap();
    same_both_ways(&[&path]);
    // Longer, other content.
    fs::write(&path, lines(200, 260)).unwrap();
    let plain = same_both_ways(&[&path]);
    let fresh = file_with(dir.path(), "fresh.jsonl", &lines(200, 260));
    assert_eq!(plain.spans, run(&[&fresh], false).spans);
}

/// Damages byte `at` (from the end when negative) of the cache of `path`.
fn damage(path: &Path, at: i64) {
    let cache = cache_path(path);
    let mut bytes = fs::read(&cache).unwrap();
    let i = if at < 0 {
        (bytes.len() as i64 + at) as usize
    } else {
        at as usize
    };
    bytes[i] ^= 0x55;
    fs::write(&cache, bytes).unwrap();
}

#[test]
fn a_damaged_cache_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), "t.jsonl", &lines(1, 40));
    let plain = same_both_ways(&[&path]);
    // A segment's body: caught by its checksum when read, that segment read from the JSON, the
    // cache removed and written again by the next scan.
    damage(&path, MAGIC.len() as i64 + 20);
    assert!(loaded(&path).is_some(), "the directory still checks");
    assert_eq!(run(&[&path], true), plain);
    assert!(!cache_path(&path).exists());
    assert_eq!(run(&[&path], true), plain);
    assert!(loaded(&path).is_some());
    // The trailer, the directory, a cut file, a stranger's file: not a cache of this file.
    for at in [-3, -(TRAILER_BYTES as i64) - 5] {
        damage(&path, at);
        assert!(loaded(&path).is_none());
        assert_eq!(run(&[&path], true), plain);
        assert!(loaded(&path).is_some());
    }
    let cache = cache_path(&path);
    let bytes = fs::read(&cache).unwrap();
    fs::write(&cache, &bytes[..bytes.len() - 7]).unwrap();
    assert!(loaded(&path).is_none());
    assert_eq!(run(&[&path], true), plain);
    fs::write(&cache, b"not a cache").unwrap();
    assert!(loaded(&path).is_none());
    assert_eq!(run(&[&path], true), plain);
    assert!(loaded(&path).is_some());
}

#[test]
fn a_cache_of_another_build_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), "t.jsonl", &lines(1, 20));
    let plain = same_both_ways(&[&path]);
    // Another build id, with a trailer that checks.
    let cache = cache_path(&path);
    let mut bytes = fs::read(&cache).unwrap();
    let t = bytes.len() - TRAILER_BYTES;
    bytes[t + 8] ^= 1;
    let checksum = crate::hash::hash64(&bytes[t..t + TRAILER_BYTES - 8], 0);
    let end = bytes.len();
    bytes[end - 8..].copy_from_slice(&checksum.to_le_bytes());
    fs::write(&cache, bytes).unwrap();
    assert!(loaded(&path).is_none());
    assert_eq!(run(&[&path], true), plain);
    assert!(loaded(&path).is_some());
}

#[test]
fn a_cache_that_cannot_be_written_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), "t.jsonl", &lines(1, 20));
    // Where the cache directory would go, a file.
    fs::write(dir.path().join(super::DIR), "").unwrap();
    same_both_ways(&[&path]);
    assert!(loaded(&path).is_none());

    // A read-only directory (which does not stop root: then there is nothing to check).
    let ro = tempfile::tempdir().unwrap();
    let path = file_with(ro.path(), "t.jsonl", &lines(1, 20));
    set_read_only(ro.path(), true);
    let privileged = fs::write(ro.path().join("probe"), "").is_ok();
    same_both_ways(&[&path]);
    if !privileged {
        assert!(!ro.path().join(super::DIR).exists());
    }
    set_read_only(ro.path(), false);
}

#[cfg(unix)]
fn set_read_only(dir: &Path, on: bool) {
    use std::os::unix::fs::PermissionsExt;
    let mode = if on { 0o555 } else { 0o755 };
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_read_only(dir: &Path, on: bool) {
    let mut p = fs::metadata(dir).unwrap().permissions();
    p.set_readonly(on);
    fs::set_permissions(dir, p).unwrap();
}

#[test]
fn without_the_cache_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), "t.jsonl", &lines(1, 20));
    run(&[&path], false);
    assert!(!dir.path().join(super::DIR).exists());
}

#[test]
fn spans_as_written_come_from_the_lines_the_cache_points_to() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), "t.jsonl", &lines(1, 60));
    same_both_ways(&[&path]);
    append(&path, &lines(60, 70));
    // A trace whose spans are on two lines, the second in the part not yet cached.
    let trace = u128::from(59u64) * 0x9e37_79b9_7f4a_7c15 + 1;
    let written = |cache: bool| {
        let inputs = Inputs {
            list: vec![Input::File(path.clone())],
            cache,
        };
        let new = || Written {
            trace,
            spans: Vec::new(),
        };
        let (acc, report) = scan(&inputs, Vec::new(), new);
        let mut spans = acc.spans;
        spans.sort();
        let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        (spans, problems, report.lines, report.spans)
    };
    let plain = written(false);
    assert_eq!(plain.0.len(), 5);
    assert_eq!(written(true), plain);
    assert_eq!(written(true), plain);
    assert_eq!(
        loaded(&path).unwrap().covered,
        fs::metadata(&path).unwrap().len()
    );
}

#[test]
fn stale_caches_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let a = file_with(dir.path(), "a.jsonl", &lines(1, 10));
    let b = file_with(dir.path(), "b.jsonl", &lines(1, 10));
    // A file named through a link from this directory: its cache is here, and stays.
    let elsewhere = tempfile::tempdir().unwrap();
    let target = file_with(elsewhere.path(), "c.jsonl", &lines(1, 10));
    let link = dir.path().join("c.jsonl");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &link).unwrap();
    #[cfg(not(unix))]
    fs::copy(&target, &link).unwrap();
    same_both_ways(&[&a, &b, &link]);
    let (ca, cb, cc) = (cache_path(&a), cache_path(&b), cache_path(&link));
    assert!(ca.exists() && cb.exists() && cc.exists());
    fs::remove_file(&a).unwrap();
    // The next cache written in the directory clears the caches of files that are gone.
    append(&b, &lines(10, 12));
    same_both_ways(&[&b]);
    if cfg!(unix) {
        assert!(!ca.exists());
    }
    assert!(cb.exists() && cc.exists());
}
