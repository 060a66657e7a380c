//! A span's counterpart in another tracing system, kept in its record.

use std::fmt;

/// A span's counterpart in the host system of the `tracing` or OTel-provider mode.
pub(crate) enum Bridge {
    /// A span of the provider's tracer.
    Otel(OtelSpan),
    /// A span of the application's subscriber.
    #[cfg(feature = "tracing")]
    Tracing(::tracing::Span),
}

/// A span of the OTel-provider mode's tracer.
pub(crate) enum OtelSpan {
    /// Of the SDK provider given to the builder: called directly, where a boxed span costs a
    /// dynamic call per attribute (boxed too: the SDK's span holds its data inline, 10 times
    /// the size to move from the tracer to the record and back).
    Sdk(Box<opentelemetry_sdk::trace::Span>),
    /// Of the global provider, whichever it is.
    Boxed(opentelemetry::global::BoxedSpan),
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
