//! Several processes appending to one JSONL file (as every process started in one directory does
//! with the default `./llmtrace-traces.jsonl`): every span each process counted as exported is in
//! the files, exactly once, and no file is over the size cap, rotations included.
//!
//! The test starts this test binary 4 times at once, filtered to `jsonl_writer_child`, each
//! writing 3,000 spans to the same file with a cap of 256 KiB (so that the processes rotate it
//! about 40 times between them, racing each other); enough rotated files are kept that none is
//! deleted, so every span written must still be there.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use llmtrace_runtime as llmtrace;
use serde_json::Value;

const WRITERS: usize = 4;
const SPANS: u64 = 3_000;
const CAP: u64 = 256 * 1024;
/// More rotated files than the writers fill, so that no span is deleted by rotation.
const KEEP: usize = 400;
const WRITER: &str = "LLMTRACE_JSONL_WRITER";
const PATH: &str = "LLMTRACE_JSONL_PATH";

#[llmtrace::tool(name = "item")]
fn item(n: u64) -> u64 {
    n
}

/// The file name of rotation `n` (0: the current file), as the exporter names them.
fn rotated(path: &Path, n: usize) -> PathBuf {
    if n == 0 {
        return path.to_owned();
    }
    path.with_file_name(format!("traces.{n}.jsonl"))
}

#[test]
#[ignore = "run by `processes_sharing_a_file_lose_nothing_and_keep_its_cap`"]
fn jsonl_writer_child() {
    let writer = std::env::var(WRITER).expect("a writer number");
    let path = std::env::var(PATH).expect("a path");
    let exporter = llmtrace::export::JsonlExporter::builder(path)
        .max_file_bytes(CAP)
        .max_files(KEEP)
        .build();
    let guard = llmtrace::init()
        .service_name(format!("writer-{writer}"))
        // Lines of 128 spans (about 70 KiB), well under the cap: a line larger than the cap is
        // written alone in its file, over it.
        .max_batch(128)
        .with_exporter(exporter)
        .install();
    for n in 0..SPANS {
        item(n);
    }
    llmtrace::force_flush(Duration::from_secs(60)).expect("flushed");
    let stats = llmtrace::stats();
    drop(guard);
    println!("EXPORTED {} DROPPED {}", stats.exported, stats.dropped);
}

#[test]
fn processes_sharing_a_file_lose_nothing_and_keep_its_cap() {
    let dir = std::env::temp_dir().join(format!("llmtrace-jsonl-procs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("traces.jsonl");

    let children: Vec<_> = (0..WRITERS)
        .map(|w| {
            Command::new(std::env::current_exe().unwrap())
                .args(["jsonl_writer_child", "--exact", "--ignored", "--nocapture"])
                .env(WRITER, w.to_string())
                .env(PATH, &path)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start a writer")
        })
        .collect();
    let mut exported = HashMap::new();
    for (w, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "writer {w}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout
            .lines()
            .find(|l| l.starts_with("EXPORTED "))
            .unwrap_or_else(|| panic!("writer {w} did not run: {stdout}"));
        let fields: Vec<u64> = line.split(' ').filter_map(|f| f.parse().ok()).collect();
        assert_eq!(fields, [SPANS, 0], "writer {w}: {line}");
        exported.insert(format!("writer-{w}"), fields[0]);
    }

    // Every file: under the cap, and every line a whole request.
    let mut seen: HashMap<String, Vec<u32>> = HashMap::new();
    let mut files = 0;
    for n in 0..=KEEP {
        let file = rotated(&path, n);
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        files += 1;
        assert!(
            text.len() as u64 <= CAP,
            "{} holds {} bytes, over the cap of {CAP}",
            file.display(),
            text.len()
        );
        for line in text.lines() {
            let request: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}: a line is not JSON ({e})", file.display()));
            for resource_spans in request["resourceSpans"].as_array().unwrap() {
                let service = resource_spans["resource"]["attributes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|kv| kv["key"] == "service.name")
                    .and_then(|kv| kv["value"]["stringValue"].as_str())
                    .unwrap()
                    .to_owned();
                let counts = seen
                    .entry(service)
                    .or_insert_with(|| vec![0; SPANS as usize]);
                for scope_spans in resource_spans["scopeSpans"].as_array().unwrap() {
                    for span in scope_spans["spans"].as_array().unwrap() {
                        let args = span["attributes"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .find(|kv| kv["key"] == "gen_ai.tool.call.arguments")
                            .and_then(|kv| kv["value"]["stringValue"].as_str())
                            .unwrap();
                        let args: Value = serde_json::from_str(args).unwrap();
                        counts[args["n"].as_u64().unwrap() as usize] += 1;
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("{files} files");
    // The processes did rotate the file, and no rotation deleted one.
    assert!(files > 10, "{files} files");
    assert!(files < KEEP, "{files} files: some may have been deleted");
    for (service, n) in &exported {
        let counts = &seen[service];
        let missing = counts.iter().filter(|&&c| c == 0).count();
        let repeated = counts.iter().filter(|&&c| c > 1).count();
        assert_eq!(
            (missing, repeated),
            (0, 0),
            "{service}: {n} exported, {missing} missing, {repeated} written more than once"
        );
    }
}
