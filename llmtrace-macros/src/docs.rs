//! The argument reference of each macro, generated from the schema table. The committed
//! `docs/<macro>.md` files (included in the macros' rustdoc) and the README's reference section
//! are checked against it by tests; `LLMTRACE_BLESS=1 cargo test -p llmtrace-macros` rewrites
//! them.

use crate::kind::{ArgType, Kind, PROVIDERS};

/// Markdown table of `kind`'s arguments.
pub(crate) fn reference(kind: Kind) -> String {
    let mut out = String::from(
        "| argument | type | required | default | attributes | meaning |\n|---|---|---|---|---|---|\n",
    );
    for a in kind.args() {
        let ty = match a.ty {
            ArgType::Enum(values) => {
                let v: Vec<String> = values.iter().map(|v| format!("`\"{v}\"`")).collect();
                v.join(" \\| ")
            }
            ArgType::Int { min, max } => match (min, max) {
                (i64::MIN, i64::MAX) => "integer".to_owned(),
                (min, i64::MAX) => format!("integer ≥ {min}"),
                (min, max) => format!("integer {min}..={max}"),
            },
            ArgType::Float { min, max } => format!("number {min}..={max}"),
            other => other.describe().to_owned(),
        };
        let form = if a.ty.accepts_expr() {
            " (literal or expression)"
        } else {
            ""
        };
        let keys: Vec<String> = a.keys.iter().map(|k| format!("`{k}`")).collect();
        out.push_str(&format!(
            "| `{}` | {ty}{form} | {} | {} | {} | {} |\n",
            a.name,
            if a.required { "yes" } else { "no" },
            a.default.map_or("-".to_owned(), |d| format!("`{d}`")),
            if keys.is_empty() {
                "-".to_owned()
            } else {
                keys.join(", ")
            },
            a.doc,
        ));
    }
    out
}

/// The well-known provider names, as documentation.
pub(crate) fn providers() -> String {
    let p: Vec<String> = PROVIDERS.iter().map(|p| format!("`{p}`")).collect();
    p.join(", ")
}

/// The whole generated section for one macro.
pub(crate) fn section(kind: Kind) -> String {
    let mut s = format!("#### {}\n\n", kind.written());
    s.push_str(&reference(kind));
    if matches!(kind, Kind::LlmCall | Kind::Embeddings) {
        s.push_str(&format!(
            "\nWell-known providers: {}. Any other: `provider = custom(\"name\")`.\n",
            providers()
        ));
    }
    s
}

pub(crate) const BEGIN: &str = "<!-- generated from the schema table: begin -->";
pub(crate) const END: &str = "<!-- generated from the schema table: end -->";

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Replaces the text between the markers with `generated`.
    fn splice(text: &str, generated: &str) -> Option<String> {
        let start = text.find(BEGIN)? + BEGIN.len();
        let end = text.find(END)?;
        Some(format!("{}\n{generated}{}", &text[..start], &text[end..]))
    }

    fn check(path: &Path, generated: &str) {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let expected = splice(&text, generated)
            .unwrap_or_else(|| panic!("{} lacks the generated-section markers", path.display()));
        if text != expected {
            if std::env::var_os("LLMTRACE_BLESS").is_some() {
                std::fs::write(path, expected).unwrap();
            } else {
                panic!(
                    "{} is out of date with the schema table; run `LLMTRACE_BLESS=1 cargo test -p llmtrace-macros`",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn macro_docs_match_the_schema_table() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        for kind in Kind::ALL {
            check(&dir.join(format!("{}.md", kind.name())), &section(kind));
        }
    }

    #[test]
    fn readme_reference_matches_the_schema_table() {
        let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
        let all: String = Kind::ALL.iter().map(|k| section(*k) + "\n").collect();
        check(&readme, &all);
    }
}
