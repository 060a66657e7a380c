//! What the hot path reads: whether llmtrace is installed, the installed settings (head sampler,
//! content capture, interop), the counters, and where finished records go ([`Output`]).
//!
//! The installation layer fills an [`Installed`] once; everything below the sinks reads it and
//! reaches the sinks only through the [`Sink`] and [`Host`] traits.

mod counters;
mod error;
pub(crate) mod evaluations;
mod sampler;
pub(crate) mod settings;
mod sink;
#[cfg(feature = "metrics")]
pub(crate) mod summary;
pub(crate) mod warn;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub(crate) use counters::Counters;
pub use counters::Stats;
pub use error::{ConfigError, Error, ExportError, Operation};
pub(crate) use sampler::HeadSampler;
pub use sampler::Sampler;
pub use settings::{ContentCapture, Overflow};
pub(crate) use sink::{Host, ParentIds, Sink, SpanState};

/// Set once a pipeline is installed, cleared at shutdown. The only thing the hot path reads when
/// llmtrace is not installed.
static ENABLED: AtomicBool = AtomicBool::new(false);
/// Set when sampled-out calls still count in the metrics (native mode with a metrics exporter).
/// Read only once a call is known to be sampled out.
static TALLY: AtomicBool = AtomicBool::new(false);
static INSTALLED: OnceLock<Installed> = OnceLock::new();

/// `Installed::interop` bit: entering a span attaches its ids as the current OpenTelemetry
/// context, and a span with no llmtrace parent looks for one in that context.
pub(crate) const OTEL_CONTEXT: u8 = 1;
/// `Installed::interop` bit: a span with no llmtrace parent looks for one in the current
/// `tracing` span, through tracing-opentelemetry (the `tracing` feature).
pub(crate) const TRACING_PARENT: u8 = 1 << 1;
/// `Installed::interop` bit: spans go to a host system (`tracing` or OTel-provider mode).
pub(crate) const HOST: u8 = 1 << 2;

/// The installed pipeline.
#[derive(Debug)]
pub(crate) struct Installed {
    pub(crate) sampler: HeadSampler,
    /// What spans need beyond the native path: [`OTEL_CONTEXT`], [`TRACING_PARENT`], [`HOST`].
    /// Zero keeps `Span::start` on the native path.
    pub(crate) interop: u8,
    pub(crate) content: ContentCapture,
    /// Largest content attribute, in bytes.
    pub(crate) content_limit: usize,
    pub(crate) output: Output,
    pub(crate) counters: Arc<Counters>,
    pub(crate) flush_timeout: Duration,
    /// Sampled-out calls still count in the metrics: the export worker reads their tallies.
    pub(crate) tally: bool,
}

/// Where finished records go: the export mode.
#[derive(Debug)]
pub(crate) enum Output {
    /// Native mode: into the per-thread rings, read by this sink (the export worker).
    Native(Box<dyn Sink>),
    /// `tracing` mode: the application's subscriber.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    Tracing(Box<dyn Host>),
    /// OTel-provider mode: an OpenTelemetry tracer provider.
    OtelProvider(Box<dyn Host>),
}

impl Output {
    /// The host of the `tracing` and OTel-provider modes.
    #[inline]
    pub(crate) fn host(&self) -> Option<&dyn Host> {
        match self {
            Output::Native(_) => None,
            Output::Tracing(h) | Output::OtelProvider(h) => Some(&**h),
        }
    }

    fn sink(&self) -> &dyn Sink {
        match self {
            Output::Native(s) => &**s,
            Output::Tracing(h) | Output::OtelProvider(h) => &**h,
        }
    }
}

#[inline]
pub(crate) fn is_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Whether sampled-out calls still count in the metrics.
#[inline]
pub(crate) fn tallies() -> bool {
    TALLY.load(Ordering::Relaxed)
}

#[inline]
pub(crate) fn get() -> Option<&'static Installed> {
    INSTALLED.get()
}

/// The content capture setting in effect (span attributes unless configured otherwise).
#[inline]
pub(crate) fn content() -> ContentCapture {
    INSTALLED
        .get()
        .map_or(ContentCapture::SpanOnly, |p| p.content)
}

/// The content limit in effect: the largest content attribute, in bytes.
#[inline]
pub(crate) fn content_limit() -> usize {
    INSTALLED
        .get()
        .map_or(settings::DEFAULT_CONTENT_LIMIT, |p| p.content_limit)
}

/// Installs the pipeline. Fails when one is already installed in this process.
pub(crate) fn install(installed: Installed) -> Result<&'static Installed, Installed> {
    let mut installed = Some(installed);
    let stored = INSTALLED.get_or_init(|| installed.take().expect("taken once"));
    match installed {
        Some(rejected) => Err(rejected),
        None => {
            TALLY.store(stored.tally, Ordering::Relaxed);
            ENABLED.store(true, Ordering::Release);
            Ok(stored)
        }
    }
}

/// Stops recording new spans.
pub(crate) fn disable() {
    ENABLED.store(false, Ordering::Release);
    TALLY.store(false, Ordering::Relaxed);
}

/// Exports everything recorded so far and flushes the exporters, waiting at most `timeout`.
///
/// Returns an error when llmtrace is not installed, an exporter failed
/// ([`Error::Export`]), or the deadline passed ([`Error::Timeout`]; the export goes on in the
/// background).
pub fn force_flush(timeout: Duration) -> Result<(), Error> {
    get()
        .ok_or(Error::NotInstalled)?
        .output
        .sink()
        .flush(timeout)
}

/// Flushes, shuts the exporters down and stops recording, waiting at most `timeout`. What is
/// still unexported at the deadline is counted as dropped.
///
/// In the `tracing` and OTel-provider modes the host's provider or subscriber belongs to the
/// application: it is flushed, not shut down.
pub fn shutdown(timeout: Duration) -> Result<(), Error> {
    let p = get().ok_or(Error::NotInstalled)?;
    disable();
    p.output.sink().shutdown(timeout)
}

/// The pipeline's counters. All zero when llmtrace is not installed.
pub fn stats() -> Stats {
    get().map(|p| p.counters.snapshot()).unwrap_or_default()
}
