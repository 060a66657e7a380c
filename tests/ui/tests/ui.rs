//! The macros' compile errors and accepted forms, pinned: `tests/ui/fail/<macro>/<mistake>.rs`
//! must fail with exactly the committed `.stderr`, `tests/ui/pass/*.rs` must compile and run
//! (their `main` asserts the attributes the spans carry).
//!
//! The expected output belongs to the pinned toolchain (`rust-toolchain.toml`). After an
//! intended change, regenerate with `TRYBUILD=overwrite cargo test -p llmtrace-ui-tests` and
//! review the diff.

use std::path::{Path, PathBuf};

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*/*.rs");
    t.pass("tests/ui/pass/*.rs");
}

fn fail_cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/fail");
    let mut out = Vec::new();
    for kind in std::fs::read_dir(root).unwrap() {
        for case in std::fs::read_dir(kind.unwrap().path()).unwrap() {
            let path = case.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every diagnostic is one clear error at the user's token, with its fix.
#[test]
fn diagnostics_are_clear() {
    let cases = fail_cases();
    assert!(cases.len() >= 30, "{} fail cases", cases.len());
    let mut problems = Vec::new();
    for case in &cases {
        let name = case.display().to_string();
        let source = std::fs::read_to_string(case).unwrap();
        let Ok(stderr) = std::fs::read_to_string(case.with_extension("stderr")) else {
            problems.push(format!("{name}: no .stderr (run with TRYBUILD=overwrite)"));
            continue;
        };
        for leak in ["__private", "__llmtrace", "__LLMTRACE"] {
            if stderr.contains(leak) {
                problems.push(format!("{name}: `{leak}` leaks into the message"));
            }
        }
        let errors = stderr.lines().filter(|l| l.starts_with("error")).count();
        if errors == 0 || errors > 2 {
            problems.push(format!(
                "{name}: {errors} errors (expected 1 or 2, no cascade)"
            ));
        }
        let fix = [
            "help:",
            "write `",
            "add ",
            "remove ",
            "use ",
            "did you mean",
            "put the attribute",
            "instead",
            "implement",
            "derive",
        ];
        if !fix.iter().any(|f| stderr.contains(f)) {
            problems.push(format!("{name}: no `help:` line and no named fix"));
        }
        // The first location must be the attribute or the annotated item, never 1:1.
        let location = stderr
            .lines()
            .find_map(|l| l.trim_start().strip_prefix("--> "))
            .unwrap_or_default();
        let mut parts = location.rsplitn(3, ':');
        let (col, line) = (parts.next(), parts.next());
        let line: usize = line.and_then(|l| l.parse().ok()).unwrap_or(0);
        let col: usize = col.and_then(|c| c.parse().ok()).unwrap_or(0);
        let main_line = source
            .lines()
            .position(|l| l.starts_with("fn main"))
            .map_or(usize::MAX, |i| i + 1);
        if (line, col) == (1, 1) || line == 0 || line >= main_line {
            problems.push(format!(
                "{name}: first location {location:?} is not in the annotated item"
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
