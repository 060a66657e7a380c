//! The `tracing` and OTel-provider modes: every recorded span has a counterpart in the host
//! system (a [`Bridge`] kept in the record), made when the llmtrace span starts, so that the host
//! sees the right nesting and entries, and entered whenever the llmtrace span is. When the span
//! ends, on the thread that ends it (or on llmtrace's host thread: [`finisher`], by default once
//! the provider has shown llmtrace's [`Processor`]), the same [`Stages`] as native mode run (tail
//! sampling is native only: see [`Stages::new`]), the same mapper turns the record into
//! attributes, events and status, and those go onto the host span before it ends, with the
//! record's end time.

mod finisher;
pub(crate) mod otel;
mod processor;
#[cfg(feature = "tracing")]
pub(crate) mod tracing;

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::KeyValue;

use crate::mapper::Mapper;
use crate::record::{Bridge, Callsite, Record, Scope, Tally, clock};
use crate::stages::content::ContentStage;
use crate::stages::{self, Drain, Stages};
use crate::state::{Counters, Error, ExportError, Host, Operation, ParentIds, Sink, SpanState};

pub use processor::Processor;
use processor::{Destination, Ending};

/// Which host system.
#[derive(Debug)]
pub(crate) enum System {
    /// An OpenTelemetry tracer provider.
    Otel(otel::Provider),
    /// The application's `tracing` subscriber.
    #[cfg(feature = "tracing")]
    Tracing,
}

/// A host system with the stages and the mapper, run where a span ends or on llmtrace's host
/// thread.
#[derive(Debug)]
pub(crate) struct HostExport {
    core: Arc<Core>,
    /// `None` when asked for no host thread, or when it could not be started: spans then end
    /// where they end.
    finisher: Option<Arc<finisher::Finisher>>,
    /// Spans go to the host thread whether or not the provider has a [`Processor`].
    always_off_thread: bool,
}

/// Where the host's spans end (`Builder::end_host_spans_off_thread`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OffThread {
    /// On the thread that ends the llmtrace span.
    Never,
    /// On llmtrace's host thread once a [`Processor`] was seen on the provider (the default).
    WithProcessor,
    /// On llmtrace's host thread.
    Always,
}

/// What ends a span in the host.
#[derive(Debug)]
struct Core {
    system: System,
    /// The stages that keep state from span to span: under one lock, held briefly.
    held: Mutex<Held>,
    /// Redaction and the content limit keep none: run outside the lock.
    content: ContentStage,
    mapper: Mapper,
    counters: Arc<Counters>,
    /// The installed `interop` bits.
    interop: u8,
    /// What a [`Processor`] on the provider tells.
    ending: Arc<Ending>,
    /// Where the metrics stage records: exported on flush.
    #[cfg(feature = "metrics")]
    meter_provider: Option<opentelemetry_sdk::metrics::SdkMeterProvider>,
}

#[derive(Debug)]
struct Held {
    stages: stages::Held,
    /// The one record going through, in the shape the stages take.
    batch: Vec<Record>,
}

thread_local! {
    /// The mapper's scratch list, reused from span to span on each thread.
    static SCRATCH: RefCell<Vec<KeyValue>> = const { RefCell::new(Vec::new()) };
}

impl HostExport {
    /// Starts the stages now, on the installing thread: the price database decodes for tens of
    /// milliseconds, which must not fall on the first span's end.
    pub(crate) fn new(
        system: System,
        mut stages: Stages,
        mapper: Mapper,
        counters: Arc<Counters>,
        interop: u8,
        off_thread: OffThread,
        interval: Duration,
    ) -> Self {
        stages.start();
        let core = Arc::new(Core {
            system,
            held: Mutex::new(Held {
                stages: stages.held,
                batch: Vec::with_capacity(1),
            }),
            content: stages.content,
            mapper,
            counters,
            interop,
            ending: Arc::default(),
            #[cfg(feature = "metrics")]
            meter_provider: stages.meter_provider,
        });
        let finisher = match off_thread {
            OffThread::Never => None,
            OffThread::WithProcessor | OffThread::Always => {
                let ending = core.clone();
                finisher::Finisher::start(interval, move |rec| ending.finish(rec)).map(Arc::new)
            }
        };
        if let Some(finisher) = &finisher {
            processor::install(finisher, &core.ending);
        }
        HostExport {
            core,
            finisher,
            always_off_thread: off_thread == OffThread::Always,
        }
    }

    /// Starts a span in the host system.
    fn start_in_host(
        &self,
        callsite: &'static Callsite,
        parent: Option<ParentIds>,
        detached: bool,
        scope: Option<Arc<Scope>>,
    ) -> SpanState {
        let core = &*self.core;
        match &core.system {
            System::Otel(provider) => otel::start(
                provider,
                &core.mapper,
                callsite,
                parent,
                detached,
                scope,
                core.interop,
            ),
            #[cfg(feature = "tracing")]
            System::Tracing => tracing::start(
                callsite,
                core.mapper.callsite_name(callsite),
                parent,
                detached,
                scope,
                core.interop,
            ),
        }
    }
}

impl Core {
    /// Runs the stages on one ended record.
    fn stages(&self, rec: Record) -> Record {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let Held { stages, batch } = &mut *held;
        batch.push(rec);
        // The record ended before this read of the clock: for the roll-up, every child of a root
        // has arrived (children end, and come here, before their parent ends).
        let drain = Drain {
            started: clock::now(),
        };
        stages.run(batch, &drain, &self.counters, true, true);
        let rec = batch
            .pop()
            .expect("the stages of these modes hold no record back");
        debug_assert!(batch.is_empty());
        drop(held);
        let mut rec = rec;
        self.content.process_record(&mut rec, &self.counters);
        rec
    }
}

impl Sink for HostExport {
    /// Ends the spans queued so far, then flushes the host (the provider's processors; a
    /// `tracing` subscriber has nothing to flush).
    fn flush(&self, timeout: Duration) -> Result<(), Error> {
        if let Some(finisher) = &self.finisher {
            if !finisher.flush(timeout) {
                return Err(Error::Timeout {
                    operation: Operation::Flush,
                    limit: timeout,
                });
            }
        }
        self.core.flush(timeout)
    }

    /// The host's provider or subscriber belongs to the application: flushed, not shut down.
    /// llmtrace's host thread stops once it has ended what is queued; later spans end where
    /// they end.
    fn shutdown(&self, timeout: Duration) -> Result<(), Error> {
        if let Some(finisher) = &self.finisher {
            finisher.stop(timeout);
        }
        self.core.flush(timeout)
    }
}

impl Core {
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    fn flush(&self, timeout: Duration) -> Result<(), Error> {
        #[cfg(feature = "metrics")]
        if let Some(provider) = &self.meter_provider {
            flush_metrics(provider, timeout);
        }
        match &self.system {
            // Shut down by the application (its processors would answer `AlreadyShutdown`):
            // nothing of llmtrace's is left to flush there.
            System::Otel(_) if self.ending.is_shut_down() => Ok(()),
            System::Otel(provider) => provider
                .flush()
                .map_err(|e| Error::Export(ExportError::new(e))),
            #[cfg(feature = "tracing")]
            System::Tracing => Ok(()),
        }
    }
}

/// Exports the metrics recorded so far, waiting at most `timeout` (and 2 s): the export runs on
/// a thread of its own, so that a stalled metrics collector never holds the application's flush
/// longer.
#[cfg(feature = "metrics")]
fn flush_metrics(provider: &opentelemetry_sdk::metrics::SdkMeterProvider, timeout: Duration) {
    if let Some(exported) = crate::stages::export_metrics_in_background(provider) {
        let _ = exported.recv_timeout(timeout.min(Duration::from_secs(2)));
    }
}

impl Host for HostExport {
    fn start(
        &self,
        callsite: &'static Callsite,
        parent: Option<ParentIds>,
        detached: bool,
        scope: Option<Arc<Scope>>,
    ) -> SpanState {
        // Until a `Processor` is seen on the provider, every start is watched for one (a
        // thread-local set and read); after, a load.
        let watch = self.finisher.is_some()
            && !self.always_off_thread
            && !self.core.ending.hooked.load(Ordering::Relaxed);
        if !watch {
            return self.start_in_host(callsite, parent, detached, scope);
        }
        let (span, seen) =
            processor::watch_start(|| self.start_in_host(callsite, parent, detached, scope));
        if seen {
            self.core.ending.hooked.store(true, Ordering::Relaxed);
        }
        span
    }

    /// Under the stages' lock, as a recorded span's stages run: a sampled-out call costs its
    /// ending thread one record built and two stages (cost and metrics), no host span.
    fn count(&self, tally: Tally) {
        let counted = catch_unwind(AssertUnwindSafe(|| {
            let mut rec = [tally.into_record()];
            let mut held = self
                .core
                .held
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            held.stages.count(&mut rec);
        }));
        if counted.is_err() {
            self.core
                .counters
                .report_export_error(0, "a sampled-out call panicked on its way to the metrics");
        }
    }

    fn finish(&self, rec: Record) {
        // A test capture's spans end at once: the capture is read as soon as its closure
        // returns.
        let captured = rec.scope.as_ref().is_some_and(|s| s.capture.is_some());
        let off_thread = self.always_off_thread || self.core.ending.hooked.load(Ordering::Relaxed);
        let rec = match &self.finisher {
            Some(finisher) if off_thread && !captured => match finisher.push(rec) {
                None => return,
                Some(rec) => rec,
            },
            _ => rec,
        };
        self.core.finish(rec);
    }
}

impl Core {
    /// Ends one span: the stages, the mapper, the host's span.
    fn finish(&self, mut rec: Record) {
        let counters = &*self.counters;
        counters.drained.fetch_add(1, Ordering::Relaxed);
        let bridge = rec.extra.as_mut().and_then(|e| e.bridge.take());
        // User code runs from here: redaction functions, the subscriber's layers, the provider's
        // processors. A panic drops this span, never the application's thread (this may run in
        // a `Drop`, while unwinding).
        let done = catch_unwind(AssertUnwindSafe(|| {
            let mut rec = self.stages(rec);
            SCRATCH
                .with(|scratch| {
                    let mut fresh = Vec::new();
                    let mut borrowed = scratch.try_borrow_mut();
                    let scratch = match &mut borrowed {
                        Ok(s) => &mut **s,
                        Err(_) => &mut fresh,
                    };
                    if let Some(sink) = rec.scope.as_ref().and_then(|s| s.capture.clone()) {
                        sink.push(self.mapper.to_span_data(&mut rec, scratch));
                        return &counters.captured;
                    }
                    let end = clock::to_system_time(rec.end);
                    let bridge = match (bridge, self.ending.destination()) {
                        (bridge, Destination::Host) => bridge,
                        (None, _) => None,
                        (Some(bridge), Destination::Direct(processor)) => {
                            return match self.hand_over(bridge, &mut rec, scratch, end, &*processor)
                            {
                                true => &counters.exported,
                                false => self.lost_to_shutdown(),
                            };
                        }
                        (Some(_), Destination::Gone) => return self.lost_to_shutdown(),
                    };
                    match bridge {
                        Some(Bridge::Otel(span)) => {
                            let mapped = self.mapper.map(&mut rec, scratch);
                            self.mapper
                                .note_host_attributes(rec.callsite, mapped.attributes.len());
                            otel::finish(span, mapped, end);
                        }
                        #[cfg(feature = "tracing")]
                        Some(Bridge::Tracing(span)) => {
                            let started_as = self.mapper.callsite_name(rec.callsite);
                            let mapped = self.mapper.map(&mut rec, scratch);
                            tracing::finish(span, rec.callsite, started_as, mapped);
                        }
                        None => return &counters.dropped_no_exporter,
                    }
                    &counters.exported
                })
                .fetch_add(1, Ordering::Relaxed);
        }));
        if done.is_err() {
            counters.dropped_export.fetch_add(1, Ordering::Relaxed);
            counters.report_export_error(0, "a span panicked on its way to the host");
        }
    }

    /// While the provider shuts down (it refuses ended spans by then), gives the span to the
    /// processor that [`Processor`] wraps, as the provider would have; false when it cannot
    /// (a span of the global provider, whose type hides its data).
    fn hand_over(
        &self,
        bridge: Bridge,
        rec: &mut Record,
        scratch: &mut Vec<KeyValue>,
        end: std::time::SystemTime,
        to: &dyn opentelemetry_sdk::trace::SpanProcessor,
    ) -> bool {
        match bridge {
            Bridge::Otel(span) => {
                let mapped = self.mapper.map(rec, scratch);
                otel::hand_over(span, mapped, end, to)
            }
            // The `tracing` span closes without effect (tracing-opentelemetry ends it in the
            // provider, which drops it): the span as llmtrace maps it goes instead, with the
            // ids tracing-opentelemetry gave it.
            #[cfg(feature = "tracing")]
            Bridge::Tracing(span) => {
                to.on_end(self.mapper.to_span_data(rec, scratch));
                drop(span);
                true
            }
        }
    }

    /// A span that ended after the provider was shut down: the provider drops it; counted.
    fn lost_to_shutdown(&self) -> &std::sync::atomic::AtomicU64 {
        self.counters.report_export_error(
            0,
            "the OpenTelemetry provider was shut down before llmtrace: spans that end after it \
             are lost (drop llmtrace's guard, or call llmtrace::shutdown, before shutting the \
             provider down)",
        );
        &self.counters.dropped_export
    }
}
