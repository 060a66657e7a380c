//! The end of a span in the `tracing` and OTel-provider modes, on the thread that ends it: the
//! stages native mode runs on its export worker (cost, roll-up, then redaction and the content
//! limit; tail sampling is native only), then the mapper, then the host span.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};

use opentelemetry::KeyValue;

use super::{Bridge, otel};
use crate::cost::CostStage;
use crate::export::content::ContentStage;
use crate::export::rollup::Rollup;
use crate::export::worker::{Drain, Stage};
use crate::pipeline::{Counters, Pipeline};
use crate::semconv::Mapper;
use crate::span::Record;

/// Where spans go outside native mode.
#[derive(Debug)]
pub(crate) enum Host {
    /// Through an OpenTelemetry tracer provider.
    Otel(otel::Provider),
    /// Into the application's `tracing` subscriber.
    #[cfg(feature = "tracing")]
    Tracing,
}

impl Host {
    /// The provider of the OTel-provider mode.
    pub(crate) fn provider(&self) -> Option<&otel::Provider> {
        match self {
            Host::Otel(provider) => Some(provider),
            #[cfg(feature = "tracing")]
            Host::Tracing => None,
        }
    }
}

/// The stages and the mapper, run where spans end.
#[derive(Debug)]
pub(crate) struct SyncExport {
    /// Cost and roll-up keep state from span to span: under one lock, held briefly.
    stages: Mutex<Stages>,
    /// Redaction and the content limit keep none: run outside the lock.
    content: ContentStage,
    pub(crate) mapper: Mapper,
    pub(crate) host: Host,
}

#[derive(Debug)]
struct Stages {
    cost: CostStage,
    rollup: Rollup,
    /// The one record going through, in the shape the stages take.
    batch: Vec<Record>,
}

thread_local! {
    /// The mapper's scratch list, reused from span to span on each thread.
    static SCRATCH: RefCell<Vec<KeyValue>> = const { RefCell::new(Vec::new()) };
}

impl SyncExport {
    /// Starts the stages now, on the installing thread: the price database decodes for tens of
    /// milliseconds, which must not fall on the first span's end.
    pub(crate) fn new(
        mut cost: CostStage,
        mut content: ContentStage,
        mapper: Mapper,
        host: Host,
    ) -> Self {
        let mut rollup = Rollup::default();
        cost.start();
        rollup.start();
        content.start();
        SyncExport {
            stages: Mutex::new(Stages {
                cost,
                rollup,
                batch: Vec::with_capacity(1),
            }),
            content,
            mapper,
            host,
        }
    }

    /// Runs the stages on one ended record.
    fn stages(&self, rec: Record, counters: &Counters) -> Record {
        let mut stages = self.stages.lock().unwrap_or_else(PoisonError::into_inner);
        let Stages {
            cost,
            rollup,
            batch,
        } = &mut *stages;
        batch.push(rec);
        // The record ended before this read of the clock: for the roll-up, every child of a root
        // has arrived (children end, and come here, before their parent ends).
        let drain = Drain {
            started: crate::clock::now(),
        };
        cost.process(batch, &drain, counters);
        rollup.process(batch, &drain, counters);
        rollup.flush(batch, counters);
        let rec = batch
            .pop()
            .expect("the stages keep no record in these modes");
        debug_assert!(batch.is_empty());
        drop(stages);
        let mut rec = rec;
        self.content.process_record(&mut rec, counters);
        rec
    }

    /// Flushes the host (the provider's processors; a `tracing` subscriber has nothing to flush).
    pub(crate) fn flush(&self) -> Result<(), String> {
        match &self.host {
            Host::Otel(provider) => provider.flush(),
            #[cfg(feature = "tracing")]
            Host::Tracing => Ok(()),
        }
    }

    fn export(&self, mut rec: Record, counters: &Counters) {
        counters.drained.fetch_add(1, Ordering::Relaxed);
        let bridge = rec.extra.as_mut().and_then(|e| e.bridge.take());
        // User code runs from here: redaction functions, the subscriber's layers, the provider's
        // processors. A panic drops this span, never the application's thread (this may run in
        // a `Drop`, while unwinding).
        let done = catch_unwind(AssertUnwindSafe(|| {
            let mut rec = self.stages(rec, counters);
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
                    let end = crate::clock::to_system_time(rec.end);
                    match bridge {
                        Some(Bridge::Otel(span)) => {
                            otel::finish(span, self.mapper.map(&mut rec, scratch), end);
                        }
                        #[cfg(feature = "tracing")]
                        Some(Bridge::Tracing(span)) => {
                            super::tracing_mode::finish(span, self.mapper.map(&mut rec, scratch));
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
}

/// Finishes a record outside native mode: see the module docs.
///
/// # Safety
/// `record` must point to a valid record that the caller treats as moved out afterwards.
#[inline(never)]
pub(crate) unsafe fn finish(record: *mut Record, p: &Pipeline) {
    // SAFETY: forwarded from the caller: the record is moved out here, once.
    let rec = unsafe { std::ptr::read(record) };
    match &p.sync {
        Some(sync) => sync.export(rec, &p.counters),
        None => drop(rec),
    }
}
