//! Console exporter: one indented tree per finished trace, for a developer watching their app
//! run.
//!
//! Spans reach an exporter one at a time as they end: children before their parents, and one
//! trace often split over several batches. So the exporter keeps each trace's spans until its
//! root ends, then prints the whole tree at once:
//!
//! ```text
//! support_answer                2.41s  3,650 in / 520 out tokens  $0.0150  trace 4bf92f3577b34da6
//! ├─ retrieval help_center      120ms                                     (5 docs)
//! ├─ chat gpt-4o                890ms  3,200 in / 450 out tokens  $0.0120  ttft 320ms  ◀ slowest
//! ├─ execute_tool lookup_order   15ms                                     ✗ OrderNotFound: no order B-7
//! └─ chat gpt-4o                610ms    450 in /  70 out tokens  $0.00300
//! ```
//!
//! Only what is printed is kept (labels, times, usage, errors), never prompts or responses, and
//! every store is bounded: traces whose root never comes are printed as incomplete trees when
//! they get too old, too many, or at shutdown; spans that end after their root was printed get
//! one "late" line each.
//!
//! The parts, each depending only on those after it:
//! - `exporter`: the `SpanExporter`, its writer and clock;
//! - `pending`: the traces waiting for their root, and the limits on them;
//! - `render`: a tree as aligned text, and the number formats;
//! - `tree`: spans arranged under their parents, built from `SpanData`.
//!
//! `tree` and `render` are public as `llmtrace_runtime::export::tree`, so that traces read back
//! from a file print as the console prints them.

mod exporter;
mod pending;
pub(crate) mod render;
pub(crate) mod tree;

#[cfg(test)]
mod test_spans;
#[cfg(test)]
mod tests;

pub(crate) use exporter::ConsoleEvaluations;
pub use exporter::ConsoleExporter;
