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

/// How an argument may be given, as the generated reference says.
#[derive(Clone, Copy, PartialEq)]
enum Form {
    Literal,
    LiteralOrExpression,
    Expression,
}

/// The arguments of one macro as the generated reference lists them, with their form.
fn reference_args(readme: &str, kind: &str) -> Vec<(String, Form)> {
    let heading = format!("#### `#[{kind}]`");
    let section = readme
        .split(&heading)
        .nth(1)
        .expect("macro in the reference");
    let section = section.split("\n#### ").next().unwrap();
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .map(|l| {
            let (name, rest) = l.split_once('`').unwrap();
            let ty = rest.trim_start_matches([' ', '|']);
            let form = if rest.contains("(literal or expression)") {
                Form::LiteralOrExpression
            } else if ty.starts_with("expression") || ty.starts_with("closure") {
                Form::Expression
            } else {
                Form::Literal
            };
            (name.to_owned(), form)
        })
        .collect()
}

/// The argument lists of every `#[llmtrace::<kind>(..)]` in `source`.
fn invocations(source: &str, kind: &str) -> Vec<String> {
    let open = format!("#[llmtrace::{kind}(");
    let mut out = Vec::new();
    for (at, _) in source.match_indices(&open) {
        let body = &source[at + open.len()..];
        let mut depth = 1;
        let end = body
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' | '[' => 1,
                    ')' | ']' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map(|(i, _)| i)
            .expect("balanced attribute");
        out.push(body[..end].to_owned());
    }
    out
}

/// How `name` is given in an argument list, if it is: `Some(true)` for a literal value.
fn forms(args: &str, name: &str) -> Vec<bool> {
    let mut out = Vec::new();
    for (at, _) in args.match_indices(name) {
        let before = args[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let rest = args[at + name.len()..].trim_start();
        if let Some(value) = rest.strip_prefix('=') {
            let value = value.trim_start();
            let literal = value.starts_with(['"', '[', '-'])
                || value.starts_with(|c: char| c.is_ascii_digit())
                || value.starts_with("true")
                || value.starts_with("false")
                || value.starts_with("custom(");
            out.push(literal);
        } else if rest.starts_with(['(', ',']) || rest.is_empty() {
            out.push(true);
        }
    }
    out
}

/// Pass cases give every argument of every macro in each form it takes: literal, expression or
/// both (`crate` is covered by the `tests/renamed` package).
#[test]
fn pass_cases_cover_every_argument() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("../../README.md")).unwrap();
    let mut sources = String::new();
    for case in std::fs::read_dir(root.join("tests/ui/pass")).unwrap() {
        sources.push_str(&std::fs::read_to_string(case.unwrap().path()).unwrap());
    }
    let mut missing = Vec::new();
    for kind in ["workflow", "llm_call", "retrieval", "tool"] {
        let calls = invocations(&sources, kind);
        assert!(!calls.is_empty(), "no pass case for #[{kind}]");
        for (name, form) in reference_args(&readme, kind) {
            if name == "crate" {
                continue;
            }
            let given: Vec<bool> = calls.iter().flat_map(|c| forms(c, &name)).collect();
            if form != Form::Expression && !given.contains(&true) {
                missing.push(format!("#[{kind}({name} = <literal>)]"));
            }
            if form != Form::Literal && !given.contains(&false) {
                missing.push(format!("#[{kind}({name} = <expression>)]"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "pass cases lack:\n{}",
        missing.join("\n")
    );
}
