//! Where mapped spans go: the export worker of native mode and the exporters it calls (console
//! tree, JSONL file, any `SpanExporter`), the host systems of the `tracing` and OTel-provider
//! modes, and test captures (through the record's scope).

pub(crate) mod console;
pub(crate) mod exporter;
pub(crate) mod host;
#[cfg(feature = "jsonl")]
pub(crate) mod jsonl;
#[cfg(all(feature = "jsonl", feature = "metrics"))]
pub(crate) mod jsonl_metrics;
pub(crate) mod logs;
#[cfg(feature = "otlp-http")]
pub(crate) mod otlp_http;
#[cfg(feature = "jsonl")]
pub(crate) mod otlp_json;
#[cfg(all(any(feature = "otlp-http", feature = "otlp-grpc"), feature = "metrics"))]
pub(crate) mod otlp_metrics;
#[cfg(any(feature = "jsonl", feature = "otlp-http"))]
pub(crate) mod otlp_proto;
#[cfg(feature = "otlp-http")]
pub(crate) mod otlp_wire;
#[cfg(feature = "metrics")]
pub(crate) mod summary;
pub(crate) mod worker;
