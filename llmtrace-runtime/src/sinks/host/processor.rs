//! [`Processor`]: the application's span processor, wrapped so that the provider hands llmtrace's
//! spans still queued on its host thread to it before it flushes or shuts down.
//!
//! Ending a host span off the caller's thread (see [`super::finisher`]) means the provider sees
//! it end later, and an application that flushes or shuts its provider down before llmtrace
//! would miss what is queued; the SDK gives no way to see that happen from outside (its
//! `is_shutdown` is crate-private) and drops spans ended after shutdown without a word. A
//! processor of the provider's own is told: on `force_flush` it drains llmtrace's queue before
//! the wrapped processor flushes; on shutdown, where the provider already refuses ended spans,
//! it hands the queued spans to the wrapped processor itself, then shuts it down. So llmtrace
//! ends host spans off the caller's thread by default only once it has seen this processor on
//! the provider its spans start in (`STARTING` below).

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use super::finisher::Finisher;

/// Longest a provider's `force_flush` waits for llmtrace's queue (the SDK's own flushes wait 5 s).
const FLUSH_WAIT: Duration = Duration::from_secs(5);

/// A span processor that hands llmtrace's spans to the provider before it flushes or shuts down:
/// wrap the provider's (first) processor in it, and llmtrace ends its spans in the host modes
/// on a thread of its own rather than the caller's.
///
/// In the OTel-provider and `tracing` modes, ending a span runs llmtrace's pipeline and the
/// host's own end (the provider's processors, tracing-opentelemetry's conversion of the fields):
/// about as much again as the host's span. With this processor on the provider, llmtrace queues
/// the ended span and a thread of its own does that work; the provider's `force_flush` first
/// ends the spans queued, and its `shutdown` hands them to the wrapped processor before shutting
/// it down, so no span is lost whichever of llmtrace and the provider is flushed or shut down
/// first. Without it, spans end on the caller's thread (see
/// [`Builder::end_host_spans_off_thread`](crate::Builder::end_host_spans_off_thread)).
///
/// With several processors, wrap the first one given to the provider: the provider flushes its
/// processors in order, and at shutdown the spans still queued reach the wrapped one only.
///
/// ```
/// use llmtrace_runtime as llmtrace;
/// use opentelemetry_sdk::trace::{BatchSpanProcessor, InMemorySpanExporter, SdkTracerProvider};
///
/// let exporter = InMemorySpanExporter::default();
/// let provider = SdkTracerProvider::builder()
///     .with_span_processor(llmtrace::otel::Processor::new(
///         BatchSpanProcessor::builder(exporter.clone()).build(),
///     ))
///     .build();
/// let _guard = llmtrace::init().otel_provider(provider.clone()).install();
///
/// #[llmtrace::tool]
/// fn lookup(id: u32) -> u32 {
///     id + 1
/// }
/// lookup(41);
///
/// // The provider alone: llmtrace's queue is drained first.
/// provider.force_flush().unwrap();
/// assert_eq!(exporter.get_finished_spans().unwrap().len(), 1);
/// ```
#[derive(Debug)]
pub struct Processor<P> {
    inner: Arc<P>,
    /// One of llmtrace's spans started through this processor's provider: its flushes and
    /// shutdown are the ones that concern llmtrace's queue (not another provider's).
    serves_llmtrace: AtomicBool,
}

impl<P> Processor<P> {
    /// The installed host mode's queue, when llmtrace's spans go through this provider.
    fn link(&self) -> Option<Link> {
        match self.serves_llmtrace.load(Ordering::Relaxed) {
            true => installed(),
            false => None,
        }
    }
}

impl<P: SpanProcessor + 'static> Processor<P> {
    /// Wraps the provider's processor (a `BatchSpanProcessor`, say).
    pub fn new(inner: P) -> Self {
        Processor {
            inner: Arc::new(inner),
            serves_llmtrace: AtomicBool::new(false),
        }
    }
}

impl<P: SpanProcessor + 'static> SpanProcessor for Processor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        STARTING.with(|s| {
            if s.get() == Starting::Llmtrace {
                s.set(Starting::Seen);
                self.serves_llmtrace.store(true, Ordering::Relaxed);
            }
        });
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        let drained = self
            .link()
            .is_none_or(|link| link.finisher.flush(FLUSH_WAIT));
        let flushed = self.inner.force_flush();
        match drained {
            true => flushed,
            false => Err(OTelSdkError::Timeout(FLUSH_WAIT)),
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        if let Some(link) = self.link() {
            // The provider refuses spans ended from now on: the ones queued go to the wrapped
            // processor directly, and those that end later are counted as dropped.
            link.ending.shutting_down(self.inner.clone());
            link.finisher.flush(timeout);
            link.ending.shut_down();
        }
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        // Called while the provider is built, before the processor is shared.
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.set_resource(resource);
        }
    }
}

/// What a [`Processor`] tells the host modes' ending of spans.
#[derive(Debug, Default)]
pub(crate) struct Ending {
    /// Seen on the provider llmtrace's spans start in: its queue is drained before the provider
    /// flushes, so spans end off the caller's thread.
    pub(crate) hooked: AtomicBool,
    /// [`RUNNING`], [`SHUTTING_DOWN`] or [`SHUT_DOWN`]: read for every span, so apart from the
    /// processor it names.
    state: AtomicU8,
    /// While the provider shuts down: the wrapped processor, which the spans still queued go to.
    direct: Mutex<Option<Arc<dyn SpanProcessor>>>,
}

const RUNNING: u8 = 0;
const SHUTTING_DOWN: u8 = 1;
const SHUT_DOWN: u8 = 2;

/// Where a span that ends now goes.
pub(crate) enum Destination {
    /// Ended in the host, as usual.
    Host,
    /// The provider is shutting down: handed to its wrapped processor.
    Direct(Arc<dyn SpanProcessor>),
    /// The provider was shut down: lost, and counted.
    Gone,
}

impl Ending {
    pub(crate) fn destination(&self) -> Destination {
        match self.state.load(Ordering::Acquire) {
            RUNNING => Destination::Host,
            SHUT_DOWN => Destination::Gone,
            _ => match &*self.direct.lock().unwrap_or_else(PoisonError::into_inner) {
                Some(direct) => Destination::Direct(direct.clone()),
                None => Destination::Gone,
            },
        }
    }

    /// The provider was shut down (as a [`Processor`] on it saw).
    pub(crate) fn is_shut_down(&self) -> bool {
        self.state.load(Ordering::Acquire) == SHUT_DOWN
    }

    fn shutting_down(&self, direct: Arc<dyn SpanProcessor>) {
        *self.direct.lock().unwrap_or_else(PoisonError::into_inner) = Some(direct);
        self.state.store(SHUTTING_DOWN, Ordering::Release);
    }

    fn shut_down(&self) {
        self.state.store(SHUT_DOWN, Ordering::Release);
        self.direct
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }
}

/// The installed host mode's queue, as a [`Processor`] reaches it.
#[derive(Debug)]
struct Link {
    finisher: Arc<Finisher>,
    ending: Arc<Ending>,
}

/// The host mode installed last (weakly: it goes when llmtrace's guard does).
static INSTALLED: Mutex<Option<(Weak<Finisher>, Weak<Ending>)>> = Mutex::new(None);

/// Makes `finisher` the queue that [`Processor`]s drain.
pub(crate) fn install(finisher: &Arc<Finisher>, ending: &Arc<Ending>) {
    *INSTALLED.lock().unwrap_or_else(PoisonError::into_inner) =
        Some((Arc::downgrade(finisher), Arc::downgrade(ending)));
}

fn installed() -> Option<Link> {
    let guard = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    let (finisher, ending) = guard.as_ref()?;
    Some(Link {
        finisher: finisher.upgrade()?,
        ending: ending.upgrade()?,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Starting {
    No,
    /// llmtrace is starting a host span on this thread.
    Llmtrace,
    /// ... and a [`Processor`] saw it start.
    Seen,
}

thread_local! {
    static STARTING: Cell<Starting> = const { Cell::new(Starting::No) };
}

/// Runs `start` (which starts one host span) and tells whether a [`Processor`] saw the span
/// start.
pub(crate) fn watch_start<T>(start: impl FnOnce() -> T) -> (T, bool) {
    STARTING.set(Starting::Llmtrace);
    let started = start();
    let seen = STARTING.replace(Starting::No) == Starting::Seen;
    (started, seen)
}
