//! Trace and span ids, as the API shows them.

use std::fmt;

/// A 128-bit trace id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId(pub u128);

/// A 64-bit span id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanId(pub u64);

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

impl From<TraceId> for opentelemetry::trace::TraceId {
    fn from(id: TraceId) -> Self {
        opentelemetry::trace::TraceId::from(id.0)
    }
}

impl From<SpanId> for opentelemetry::trace::SpanId {
    fn from(id: SpanId) -> Self {
        opentelemetry::trace::SpanId::from(id.0)
    }
}
