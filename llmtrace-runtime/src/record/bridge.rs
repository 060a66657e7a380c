//! A span's counterpart in another tracing system, kept in its record.

use std::fmt;

/// A span's counterpart in the host system of the `tracing` or OTel-provider mode.
pub(crate) enum Bridge {
    /// A span of the provider's tracer.
    Otel(opentelemetry::global::BoxedSpan),
    /// A span of the application's subscriber.
    #[cfg(feature = "tracing")]
    Tracing(::tracing::Span),
}

impl fmt::Debug for Bridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bridge::Otel(_) => f.write_str("Bridge::Otel"),
            #[cfg(feature = "tracing")]
            Bridge::Tracing(span) => f.debug_tuple("Bridge::Tracing").field(span).finish(),
        }
    }
}
