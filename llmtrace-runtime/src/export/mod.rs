//! Getting finished spans out of the process: per-thread buffers, the export worker, and the
//! exporters it calls.

pub(crate) mod buffer;
pub(crate) mod content;
pub(crate) mod exporter;
pub(crate) mod rollup;
pub(crate) mod worker;

pub use opentelemetry_sdk::trace::{SpanData, SpanExporter};

mod console;
#[cfg(feature = "jsonl")]
mod jsonl;

pub use console::ConsoleExporter;
#[cfg(feature = "jsonl")]
pub use jsonl::{JsonlExporter, JsonlExporterBuilder};
