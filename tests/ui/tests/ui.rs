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
        problems.extend(leaks(&stderr).into_iter().map(|l| format!("{name}: {l}")));
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

/// The runtime's plumbing that a diagnostic must never show: the probes and wrappers the
/// expansions pick impls with, and traits only they call. (Their impls are
/// `#[diagnostic::do_not_recommend]`, and the checked traits carry the messages.)
const INTERNAL_NAMES: &[&str] = &[
    "CapturedParam",
    "NotSerializable",
    "Serializable",
    "Probe",
    "ProbeSerialize",
    "ProbeOther",
    "NotDocuments",
    "NoDocuments",
    "RetrievedDocuments",
    "ViaDocument",
    "ViaSerialize",
    "Docs",
    "Ser",
    "Ret",
    "OkDocuments",
    "OkSerialize",
    "VecDocuments",
    "ValueSerialize",
    "ValueOther",
    "UsageFromOk",
    "UsageFromValue",
    "read_usage",
    "ErrorInto",
    "InputWriter",
    "Observer",
    "Checked",
    "OkOutcome",
    "ValueOutcome",
    "OutcomeOther",
    "OkVectors",
    "ValueVectors",
    "NoVectors",
    "record_input_documents",
];

/// The traits an argument given as an expression must implement. rustc names the one that is
/// missing on its own line (`help: the trait `StrArg` is not implemented for `u32``), which
/// says where to look; anywhere else (a list of their impls, a `required for` note) they are
/// noise.
const ARGUMENT_TRAITS: &[&str] = &[
    "StrArg",
    "IntArg",
    "FloatArg",
    "BoolArg",
    "StrListArg",
    "AttrArg",
];

/// What in `stderr` shows the runtime's insides: its plumbing, a line of its sources (a path in
/// the workspace or in the cargo registry), a listing of an argument trait's impls.
fn leaks(stderr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in stderr.lines() {
        if line.contains("llmtrace-runtime/src") || line.contains("llmtrace_runtime/src") {
            out.push(format!("points into the runtime's sources: {line:?}"));
        }
        if line.contains("$CARGO") && line.contains("llmtrace") {
            out.push(format!("points into the runtime's sources: {line:?}"));
        }
        for name in INTERNAL_NAMES {
            if names(line, name) {
                out.push(format!("names the runtime's `{name}`: {line:?}"));
            }
        }
        // `= help: ..`, or `help: ..` above the user's type it points at.
        let help = line.trim_start();
        let help = help.strip_prefix("= ").unwrap_or(help);
        let missing_trait =
            help.starts_with("help: the trait `") && help.contains("` is not implemented for `");
        for name in ARGUMENT_TRAITS {
            if names(line, name) && !missing_trait {
                out.push(format!("lists or notes `{name}`: {line:?}"));
            }
        }
    }
    out
}

/// Whether `line` has `name` as a whole word (`Ret<'_, T>`, not `Return`).
fn names(line: &str, name: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    line.match_indices(name).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + name.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// The check above, on diagnostics the runtime gave before its impls were hidden from them.
#[test]
fn leaks_are_caught() {
    let cases: &[(&str, &str)] = &[
        (
            "  = help: the trait `CapturedParam` is not implemented for `NotSerializable<'_, &Connection>`",
            "CapturedParam",
        ),
        (
            " --> $WORKSPACE/llmtrace-runtime/src/schema/capture.rs",
            "runtime's sources",
        ),
        (
            "  --> $CARGO/llmtrace-runtime-0.1.0/src/stream/traced.rs",
            "runtime's sources",
        ),
        (
            "  = help: the trait `RetrievedDocuments` is not implemented for `NotDocuments<'_, Vec<Doc>>`",
            "NotDocuments",
        ),
        (
            "note: required by a bound in `llmtrace_runtime::schema::UsageFromValue::read_usage`",
            "read_usage",
        ),
        (
            "  = help: the following other types implement trait `StrArg`:",
            "StrArg",
        ),
        ("            Ser<'_, T>", "Ser"),
    ];
    for (line, what) in cases {
        let found = leaks(line);
        assert!(
            found.iter().any(|l| l.contains(what)),
            "{line:?}: {found:?}"
        );
    }
    for fine in [
        "  = help: the trait `StrArg` is not implemented for `u32`",
        "help: the trait `AttrArg` is not implemented for `Region`",
        "  = help: the trait `SpanInput` is not implemented for `&Connection`",
        "5 | fn chat() -> Result<Reply, Error> {",
        "  = note: the stream's items must implement `llmtrace::StreamChunk` (or be a `Result` of one)",
    ] {
        assert_eq!(leaks(fine), Vec::<String>::new(), "{fine:?}");
    }
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
    let heading = match kind {
        "step" => "#### `step!`".to_owned(),
        _ => format!("#### `#[{kind}]`"),
    };
    let section = readme
        .split(&heading)
        .nth(1)
        .expect("macro in the reference");
    // The section ends at the next heading, whatever its level.
    let end = ["\n## ", "\n### ", "\n#### "]
        .iter()
        .filter_map(|h| section.find(h))
        .min()
        .unwrap_or(section.len());
    let section = &section[..end];
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

/// The argument lists of every `#[llmtrace::<kind>(..)]` in `source`; for `step`, of every
/// `llmtrace::step!(..)`, whose first argument is the step's `name`.
fn invocations(source: &str, kind: &str) -> Vec<String> {
    let (open, prefix) = match kind {
        "step" => ("llmtrace::step!(".to_owned(), "name = "),
        _ => (format!("#[llmtrace::{kind}("), ""),
    };
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
        out.push(format!("{prefix}{}", &body[..end]));
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
    for kind in [
        "workflow",
        "llm_call",
        "retrieval",
        "tool",
        "agent",
        "embeddings",
        "rerank",
        "guardrail",
        "step",
    ] {
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
