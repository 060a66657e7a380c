//! Where finished records go, seen from the hot path: the export worker of native mode or the
//! host of the `tracing` and OTel-provider modes, behind traits, so that the layers below the
//! sinks call into them without importing them.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use super::Error;
use crate::record::{Callsite, Record, Scope, Tally};

/// What consumes finished records: flushed and shut down through [`force_flush`] and
/// [`shutdown`].
///
/// [`force_flush`]: crate::force_flush
/// [`shutdown`]: crate::shutdown
pub(crate) trait Sink: Send + Sync + Debug {
    /// Exports everything recorded so far and flushes the exporters, waiting at most `timeout`.
    fn flush(&self, timeout: Duration) -> Result<(), Error>;
    /// Flushes and stops, waiting at most `timeout`; what is left is counted as dropped.
    fn shutdown(&self, timeout: Duration) -> Result<(), Error>;
}

/// The host system of the `tracing` and OTel-provider modes: it starts spans (its sampler or
/// filters decide) and receives them when they end, on the thread that ends them.
pub(crate) trait Host: Sink {
    /// Starts a span of `callsite` under `parent` (with `scope` in effect); without one, under
    /// the host's current span unless `detached` (the span begins a new trace).
    fn start(
        &self,
        callsite: &'static Callsite,
        parent: Option<ParentIds>,
        detached: bool,
        scope: Option<Arc<Scope>>,
    ) -> SpanState;
    /// A span ended: runs the stages and the mapper, and ends the host's span.
    fn finish(&self, record: Record);
    /// A call the host sampled out ended, with metrics on: prices it and counts it in the
    /// metrics (nothing goes to the host).
    fn count(&self, tally: Tally);
}

/// The llmtrace span a new span starts under.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ParentIds {
    pub(crate) trace_id: u128,
    pub(crate) span_id: u64,
    pub(crate) sampled: bool,
    /// The parent is in another process (W3C `traceparent`).
    pub(crate) remote: bool,
}

/// What a span guard holds: the state of one span, from its start to its end. A host's
/// [`Host::start`] returns one of the first three.
// The record is inline on purpose: boxing it would cost an allocation per span, and a span is
// live far more often than not.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum SpanState {
    /// Not recorded, with no ids of its own (llmtrace is not installed, or a host declined it).
    Off,
    /// Sampled out: only the ids are kept, so children follow the decision (and, with `otel`,
    /// OpenTelemetry spans opened inside it too).
    Unsampled {
        trace_id: u128,
        span_id: u64,
        otel: bool,
    },
    /// Sampled out, with metrics on: the ids as for `Unsampled`, and what the metrics need of
    /// the call.
    Tallied {
        trace_id: u128,
        span_id: u64,
        otel: bool,
        tally: Tally,
    },
    /// Recording.
    Live(Record),
    /// Already handed to the pipeline.
    Ended,
}

impl<S: Sink + ?Sized> Sink for Arc<S> {
    fn flush(&self, timeout: Duration) -> Result<(), Error> {
        (**self).flush(timeout)
    }

    fn shutdown(&self, timeout: Duration) -> Result<(), Error> {
        (**self).shutdown(timeout)
    }
}
