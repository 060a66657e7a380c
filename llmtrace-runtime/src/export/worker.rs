//! The export worker: one background thread that owns its own current-thread runtime, drains the
//! per-thread buffers on a short tick and on flush, runs the worker-side stages (tail sampling),
//! maps records to `SpanData` and calls the exporters.
//!
//! It never runs on, or blocks, the application's runtime: instrumented code only pushes into its
//! thread's ring and, once per half ring, unparks this thread.

use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::{self, Thread};
use std::time::Duration;

use opentelemetry_sdk::trace::SpanData;

use super::buffer::REGISTRY;
use super::exporter::{DynSpanExporter, ExporterFactory};
use crate::pipeline::Counters;
use crate::semconv::Mapper;
use crate::span::Record;

static WORKER_THREAD: OnceLock<Thread> = OnceLock::new();

/// Wakes the worker early (a ring is half full, or a flush was requested).
#[inline]
pub(crate) fn wake() {
    if let Some(t) = WORKER_THREAD.get() {
        t.unpark();
    }
}

/// A step on the worker thread between the buffers and the mapper. Tail sampling plugs in here.
pub(crate) trait Stage: Send {
    /// Runs once on the worker thread before the first records arrive: load data here, off the
    /// application's threads.
    fn start(&mut self) {}
    /// Works on the records as they arrive, in place: records it holds back are taken out of
    /// `records`, records it releases are appended; what is left goes on to export. (In place,
    /// because moving every record from one list to the next per stage showed in the export
    /// thread's profile.) `drain` says when the rings were read.
    fn process(&mut self, records: &mut Vec<Record>, drain: &Drain, counters: &Counters);
    /// Appends everything still held to `records` (flush and shutdown).
    fn flush(&mut self, records: &mut Vec<Record>, counters: &Counters);
}

/// About the read of the per-thread rings that brought the records to a stage.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Drain {
    /// Raw clock when the read began: a record that ended before it was pushed before it too,
    /// and so was every record pushed before that one ended (a child its parent awaited).
    pub(crate) started: u64,
}

pub(crate) enum Command {
    Flush(mpsc::Sender<Result<(), String>>),
    Shutdown(mpsc::Sender<Result<(), String>>),
}

/// The application side of the worker.
#[derive(Debug)]
pub(crate) struct WorkerHandle {
    commands: Mutex<Vec<Command>>,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Flush(_) => "Flush",
            Command::Shutdown(_) => "Shutdown",
        })
    }
}

/// How the worker is set up.
pub(crate) struct WorkerConfig {
    pub(crate) factories: Vec<ExporterFactory>,
    pub(crate) stages: Vec<Box<dyn Stage>>,
    pub(crate) mapper: Arc<Mapper>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) tick: Duration,
    pub(crate) max_batch: usize,
    pub(crate) max_queue: usize,
    pub(crate) export_timeout: Duration,
}

impl WorkerHandle {
    /// Starts the worker thread. Exporters are built on it; errors building them are reported on
    /// stderr and the exporter is left out.
    pub(crate) fn start(config: WorkerConfig) -> std::io::Result<Arc<WorkerHandle>> {
        let handle = Arc::new(WorkerHandle {
            commands: Mutex::new(Vec::new()),
            thread: Mutex::new(None),
        });
        let control = handle.clone();
        let join = thread::Builder::new()
            .name("llmtrace-export".into())
            .spawn(move || run(config, &control))?;
        let _ = WORKER_THREAD.set(join.thread().clone());
        *handle.thread.lock().unwrap_or_else(PoisonError::into_inner) = Some(join);
        Ok(handle)
    }

    fn send(&self, command: Command) {
        self.commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(command);
        wake();
    }

    /// Exports everything buffered so far and flushes the exporters, waiting at most `timeout`.
    pub(crate) fn flush(&self, timeout: Duration) -> Result<(), String> {
        let (tx, rx) = mpsc::channel();
        self.send(Command::Flush(tx));
        match rx.recv_timeout(timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                Err(format!("flush did not finish within {timeout:?}"))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err("the export worker has stopped".into())
            }
        }
    }

    /// Flushes, shuts the exporters down and stops the thread, waiting at most `timeout`.
    pub(crate) fn shutdown(&self, timeout: Duration) -> Result<(), String> {
        let (tx, rx) = mpsc::channel();
        self.send(Command::Shutdown(tx));
        let result = match rx.recv_timeout(timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(format!("shutdown did not finish within {timeout:?}"));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err("the export worker has stopped".into())
            }
        };
        if let Some(join) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = join.join();
        }
        result
    }
}

struct Worker {
    /// When the last read of the rings began.
    drained_at: u64,
    exporters: Vec<Box<dyn DynSpanExporter>>,
    runtime: tokio::runtime::Runtime,
    stages: Vec<Box<dyn Stage>>,
    mapper: Arc<Mapper>,
    counters: Arc<Counters>,
    max_batch: usize,
    max_queue: usize,
    export_timeout: Duration,
    pending: Vec<Record>,
    scratch: Vec<opentelemetry::KeyValue>,
    /// The last export error since the current flush began, to report it to the flusher.
    flush_error: Option<String>,
}

fn run(config: WorkerConfig, control: &WorkerHandle) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("llmtrace-export")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            crate::diagnostics::warn(format_args!(
                "cannot start the export runtime ({e}); spans will not be exported"
            ));
            return;
        }
    };
    let mut exporters = Vec::new();
    {
        let _guard = runtime.enter();
        for factory in config.factories {
            match factory() {
                Ok(mut exporter) => {
                    exporter.set_resource(config.mapper.resource());
                    exporters.push(exporter);
                }
                Err(e) => crate::diagnostics::warn(format_args!("exporter not started: {e}")),
            }
        }
    }
    let mut stages = config.stages;
    for stage in &mut stages {
        stage.start();
    }
    let mut worker = Worker {
        drained_at: 0,
        exporters,
        runtime,
        stages,
        mapper: config.mapper,
        counters: config.counters,
        max_batch: config.max_batch.max(1),
        max_queue: config.max_queue.max(1),
        export_timeout: config.export_timeout,
        pending: Vec::new(),
        scratch: Vec::with_capacity(64),
        flush_error: None,
    };
    loop {
        thread::park_timeout(config.tick);
        let commands = std::mem::take(
            &mut *control
                .commands
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        // A flush requested now reports the export failures of this round, including those of
        // the spans exported just below, before the request is handled.
        worker.flush_error = None;
        worker.drain();
        worker.process(false);
        // Before answering a flush, so that a caller reading the counters sees the warning too.
        worker.counters.warn_on_new_drops();
        for command in commands {
            match command {
                Command::Flush(reply) => {
                    let result = worker.flush();
                    // Drops of this flush are reported before its caller reads the counters.
                    worker.counters.warn_on_new_drops();
                    let _ = reply.send(result);
                }
                Command::Shutdown(reply) => {
                    let mut result = worker.flush();
                    for exporter in &worker.exporters {
                        if let Err(e) = exporter.shutdown_with_timeout(worker.export_timeout) {
                            result = Err(e.to_string());
                        }
                    }
                    worker.abandon_rest();
                    let _ = reply.send(result);
                    return;
                }
            }
        }
    }
}

impl Worker {
    /// Moves every record out of the per-thread rings into `pending`, up to the queue bound.
    fn drain(&mut self) {
        self.drained_at = crate::clock::now();
        let mut rings = REGISTRY
            .rings
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut drained = 0u64;
        let mut overflow = 0u64;
        rings.retain_mut(|ring| {
            let abandoned = ring.consumer.is_abandoned();
            let available = ring.consumer.slots();
            if let Ok(chunk) = ring.consumer.read_chunk(available) {
                drained += available as u64;
                let room = self.max_queue.saturating_sub(self.pending.len());
                overflow += available.saturating_sub(room) as u64;
                // Records beyond the bound are dropped with the rest of the chunk iterator.
                self.pending.extend(chunk.into_iter().take(room));
            }
            if abandoned {
                // The thread has exited and its ring is empty: keep its drop count.
                let dropped = ring.shared.dropped_full.load(Ordering::Relaxed);
                self.counters
                    .dropped_full_exited
                    .fetch_add(dropped, Ordering::Relaxed);
            }
            !abandoned
        });
        drop(rings);
        self.counters.drained.fetch_add(drained, Ordering::Relaxed);
        self.counters
            .dropped_queue
            .fetch_add(overflow, Ordering::Relaxed);
    }

    /// Runs pending records through the stages and exports them, in batches.
    fn process(&mut self, flush: bool) {
        let drain = Drain {
            started: self.drained_at,
        };
        for stage in &mut self.stages {
            stage.process(&mut self.pending, &drain, &self.counters);
            if flush {
                stage.flush(&mut self.pending, &self.counters);
            }
        }
        // `pending` keeps its capacity from one tick to the next: no allocation in steady state.
        let mut pending = std::mem::take(&mut self.pending);
        let mut batch = Vec::with_capacity(self.max_batch.min(pending.len()));
        for record in pending.iter_mut() {
            let sink = record.scope.as_ref().and_then(|s| s.capture.clone());
            let data = self.mapper.to_span_data(record, &mut self.scratch);
            match sink {
                Some(sink) => {
                    sink.push(data);
                    self.counters.captured.fetch_add(1, Ordering::Relaxed);
                }
                None => batch.push(data),
            }
            if batch.len() == self.max_batch {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(self.max_batch));
                self.export(full);
            }
        }
        if !batch.is_empty() {
            self.export(batch);
        }
        pending.clear();
        self.pending = pending;
    }

    fn export(&mut self, mut spans: Vec<SpanData>) {
        let n = spans.len() as u64;
        if self.exporters.is_empty() {
            self.counters
                .dropped_no_exporter
                .fetch_add(n, Ordering::Relaxed);
            return;
        }
        // A span counts as exported when the first exporter accepted it; the others get copies.
        let last = self.exporters.len() - 1;
        let mut first_ok = false;
        for (i, exporter) in self.exporters.iter().enumerate() {
            let batch = if i == last {
                std::mem::take(&mut spans)
            } else {
                spans.clone()
            };
            let timeout = self.export_timeout;
            let result = self
                .runtime
                .block_on(async { tokio::time::timeout(timeout, exporter.export(batch)).await });
            let ok = match result {
                Ok(Ok(())) => {
                    self.counters.report_export_ok(i);
                    true
                }
                Ok(Err(e)) => {
                    let e = e.to_string();
                    self.counters.report_export_error(i, &e);
                    self.flush_error = Some(e);
                    false
                }
                Err(_) => {
                    let e = format!("export timed out after {timeout:?}");
                    self.counters.report_export_error(i, &e);
                    self.flush_error = Some(e);
                    false
                }
            };
            if i == 0 {
                first_ok = ok;
            }
        }
        if first_ok {
            self.counters.exported.fetch_add(n, Ordering::Relaxed);
        } else {
            self.counters.dropped_export.fetch_add(n, Ordering::Relaxed);
        }
    }

    fn flush(&mut self) -> Result<(), String> {
        self.drain();
        self.process(true);
        let mut result = match self.flush_error.take() {
            Some(e) => Err(format!("some spans could not be exported: {e}")),
            None => Ok(()),
        };
        for exporter in &self.exporters {
            if let Err(e) = exporter.force_flush() {
                result = Err(e.to_string());
            }
        }
        result
    }

    /// Counts what is still buffered at shutdown as dropped.
    fn abandon_rest(&mut self) {
        let held = self.pending.len() as u64;
        self.pending.clear();
        let mut in_rings = 0u64;
        let mut rings = REGISTRY
            .rings
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for ring in rings.iter_mut() {
            while ring.consumer.pop().is_ok() {
                in_rings += 1;
            }
        }
        drop(rings);
        self.counters.drained.fetch_add(in_rings, Ordering::Relaxed);
        self.counters
            .dropped_shutdown
            .fetch_add(held + in_rings, Ordering::Relaxed);
    }
}
