//! The export worker of native mode: one background thread that owns its own current-thread
//! runtime, drains the per-thread rings on a short tick and on flush, runs the stages, maps
//! records for export and calls the exporters (which encode them as each needs).
//!
//! It never runs on, or blocks, the application's runtime: instrumented code only pushes into its
//! thread's ring and, once per half ring, unparks this thread.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use super::exporter::{Export, ExporterFactory, Rejections, Sending};
use super::logs::LogSinks;
use crate::handoff::{self, REGISTRY, wake};
use crate::mapper::Mapper;
use crate::record::{Record, Tally, clock};
use crate::stages::{Drain, Stages};
use crate::state::{Counters, Error, ExportError, Operation, Sink};

pub(crate) enum Command {
    Flush(mpsc::Sender<Result<(), Error>>),
    Shutdown(mpsc::Sender<Result<(), Error>>),
}

/// The application side of the worker.
#[derive(Debug)]
pub(crate) struct WorkerHandle {
    commands: Mutex<Commands>,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
    stop: Arc<StopSignal>,
}

/// Commands waiting for the worker, and whether it still takes any.
#[derive(Debug, Default)]
struct Commands {
    queue: Vec<Command>,
    /// The worker thread has ended: a command sent now would never be answered.
    closed: bool,
}

/// Shutdown's deadline, shared with the worker so that it can cut short an export in progress
/// (a stalled collector, a retry sleeping on `Retry-After`) instead of answering late.
#[derive(Debug, Default)]
struct StopSignal(Mutex<StopState>);

#[derive(Debug, Default)]
struct StopState {
    /// When the worker must stop exporting and count what is left as dropped.
    by: Option<Instant>,
    /// The timeout the shutdown was given.
    timeout: Option<Duration>,
    /// The task of the export in progress, woken when `by` is set.
    waker: Option<Waker>,
}

impl StopSignal {
    fn lock(&self) -> std::sync::MutexGuard<'_, StopState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets (or brings forward) the deadline of a shutdown given `timeout`, and wakes the export
    /// in progress.
    fn set(&self, by: Instant, timeout: Duration) {
        let mut state = self.lock();
        state.by = Some(state.by.map_or(by, |b| b.min(by)));
        state.timeout = Some(state.timeout.map_or(timeout, |t| t.min(timeout)));
        if let Some(waker) = state.waker.take() {
            waker.wake();
        }
    }

    fn by(&self) -> Option<Instant> {
        self.lock().by
    }

    /// The error of a shutdown whose deadline cut the export short.
    fn timed_out(&self) -> Error {
        Error::Timeout {
            operation: Operation::Shutdown,
            limit: self.lock().timeout.unwrap_or_default(),
        }
    }

    /// The deadline, after registering `waker` to be woken when it is set.
    fn watch(&self, waker: &Waker) -> Option<Instant> {
        let mut state = self.lock();
        match &mut state.waker {
            Some(w) => w.clone_from(waker),
            None => state.waker = Some(waker.clone()),
        }
        state.by
    }
}

/// How long a flush waits for the metrics export once its spans are exported (the metrics stage
/// bounds it too).
const METRICS_WAIT: Duration = Duration::from_secs(2);

/// How long before shutdown's deadline the worker stops exporting: the time it keeps to drop and
/// count what is left (up to two queues and every ring of records: tens of milliseconds in a
/// debug build), shut the exporters down and answer, so that `shutdown` returns in time with the
/// counters final.
fn stop_margin(timeout: Duration) -> Duration {
    (timeout / 5).min(Duration::from_millis(500))
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
    pub(crate) stages: Stages,
    pub(crate) mapper: Arc<Mapper>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) tick: Duration,
    pub(crate) max_batch: usize,
    pub(crate) max_batch_bytes: usize,
    pub(crate) max_queue: usize,
    pub(crate) export_timeout: Duration,
    /// Where evaluations of ended spans go, as log records.
    pub(crate) logs: LogSinks,
}

/// An exporter that could not be built: left out.
#[derive(Debug)]
pub(crate) struct NotStarted {
    /// What the exporter is (`OTLP/HTTP exporter`, `exporter 2 given to the builder`, ...).
    pub(crate) exporter: String,
    pub(crate) error: super::exporter::BoxError,
}

impl WorkerHandle {
    /// Starts the worker thread and waits (at most `wait`) until it has built the exporters:
    /// those that could not be built are returned, and left out.
    pub(crate) fn start(
        config: WorkerConfig,
        wait: Duration,
    ) -> Result<(Arc<WorkerHandle>, Vec<NotStarted>), Error> {
        let handle = Arc::new(WorkerHandle {
            commands: Mutex::new(Commands::default()),
            thread: Mutex::new(None),
            stop: Arc::new(StopSignal::default()),
        });
        let control = handle.clone();
        let (started, report) = mpsc::channel();
        let join = thread::Builder::new()
            .name("llmtrace-export".into())
            .spawn(move || {
                run(config, &control, started);
                // Commands sent from now on fail at once instead of waiting out their timeout;
                // those still queued are dropped, which disconnects their callers.
                let mut commands = control.lock_commands();
                commands.closed = true;
                commands.queue.clear();
            })
            .map_err(|e| Error::Start(e.to_string()))?;
        handoff::set_consumer(join.thread().clone());
        *handle.thread.lock().unwrap_or_else(PoisonError::into_inner) = Some(join);
        match report.recv_timeout(wait) {
            Ok(Ok(not_started)) => Ok((handle, not_started)),
            Ok(Err(e)) => Err(e),
            // A factory still building: the worker goes on; its failure, if any, was lost to
            // the caller but not to stderr.
            Err(mpsc::RecvTimeoutError::Timeout) => Ok((handle, Vec::new())),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(Error::Start(
                "the export thread ended while starting".into(),
            )),
        }
    }

    fn lock_commands(&self) -> std::sync::MutexGuard<'_, Commands> {
        self.commands.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a command for the worker; false when the worker has ended.
    fn send(&self, command: Command) -> bool {
        let mut commands = self.lock_commands();
        if commands.closed {
            return false;
        }
        commands.queue.push(command);
        drop(commands);
        wake();
        true
    }
}

impl Sink for WorkerHandle {
    /// Exports everything buffered so far and flushes the exporters, waiting at most `timeout`.
    fn flush(&self, timeout: Duration) -> Result<(), Error> {
        let (tx, rx) = mpsc::channel();
        if !self.send(Command::Flush(tx)) {
            return Err(Error::Stopped);
        }
        match rx.recv_timeout(timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::Timeout {
                operation: Operation::Flush,
                limit: timeout,
            }),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(Error::Stopped),
        }
    }

    /// Flushes, shuts the exporters down and stops the thread, waiting at most `timeout`. Spans
    /// not acknowledged by then are counted as dropped at shutdown, before this returns.
    ///
    /// Calling it again once the worker has stopped does nothing.
    fn shutdown(&self, timeout: Duration) -> Result<(), Error> {
        // The worker stops exporting a little before the deadline, interrupting an export in
        // progress, so that it has counted everything when it answers.
        self.stop.set(
            Instant::now() + timeout.saturating_sub(stop_margin(timeout)),
            timeout,
        );
        let (tx, rx) = mpsc::channel();
        if !self.send(Command::Shutdown(tx)) {
            return Ok(());
        }
        let result = match rx.recv_timeout(timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(Error::Timeout {
                    operation: Operation::Shutdown,
                    limit: timeout,
                });
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(Error::Stopped),
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
    exporters: Vec<Box<dyn Export>>,
    /// Where each exporter notes the spans its collector rejected, when it can tell.
    rejections: Vec<Option<Arc<Rejections>>>,
    runtime: tokio::runtime::Runtime,
    stages: Stages,
    mapper: Arc<Mapper>,
    counters: Arc<Counters>,
    max_batch: usize,
    /// Encoded bytes an exporter's batch may reach before it is sent ([`Export::batch_bytes`]).
    max_batch_bytes: usize,
    max_queue: usize,
    /// Spans added to the exporters and not yet exported (see [`Worker::process`]).
    batched: u64,
    /// The batch sent and not yet answered.
    flight: Option<Flight>,
    /// An exporter takes `SpanData` ([`Export::inline_request`]).
    inline_request: bool,
    export_timeout: Duration,
    pending: Vec<Record>,
    /// Sampled-out calls read from their rings, and the records made from them to be priced
    /// and counted in the metrics (kept from one tick to the next: no allocation in steady
    /// state).
    tallies: Vec<Tally>,
    counted: Vec<Record>,
    scratch: Vec<opentelemetry::KeyValue>,
    /// The last export error since the current flush began, to report it to the flusher.
    flush_error: Option<Error>,
    /// Shutdown's deadline, set from the application side.
    stop: Arc<StopSignal>,
    /// Shutdown's deadline has passed: nothing more is exported; what is left is counted as
    /// dropped at shutdown.
    stopped: bool,
    logs: LogSinks,
}

/// What became of one call to one exporter.
enum Outcome {
    /// The exporter accepted the batch.
    Acked,
    /// The exporter failed, panicked or timed out.
    Failed(String),
    /// Shutdown's deadline passed first.
    Stopped,
}

fn run(
    config: WorkerConfig,
    control: &WorkerHandle,
    started: mpsc::Sender<Result<Vec<NotStarted>, Error>>,
) {
    // One thread of its own runs the exports, so that the worker maps the next batch while a
    // batch is in flight.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .thread_name("llmtrace-export")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = started.send(Err(Error::Start(format!(
                "cannot start the export runtime: {e}"
            ))));
            return;
        }
    };
    let mut exporters: Vec<Box<dyn Export>> = Vec::new();
    let mut rejections = Vec::new();
    let mut not_started = Vec::new();
    {
        let _guard = runtime.enter();
        for factory in config.factories {
            let rejected = factory.rejections;
            let built = std::panic::catch_unwind(AssertUnwindSafe(factory.build))
                .unwrap_or_else(|_| Err("the exporter's factory panicked".into()));
            match built {
                Ok(mut exporter) => {
                    exporter.set_resource(config.mapper.resource(), config.mapper.scope());
                    exporters.push(exporter);
                    rejections.push(rejected);
                }
                Err(error) => not_started.push(NotStarted {
                    exporter: factory.name,
                    error,
                }),
            }
        }
    }
    let _ = started.send(Ok(not_started));
    let inline_request = exporters.iter().any(|e| e.inline_request());
    let mut stages = config.stages;
    stages.start();
    let mut worker = Worker {
        drained_at: 0,
        exporters,
        rejections,
        runtime,
        stages,
        mapper: config.mapper,
        counters: config.counters,
        max_batch: config.max_batch.max(1),
        max_batch_bytes: config.max_batch_bytes.max(1),
        max_queue: config.max_queue.max(1),
        batched: 0,
        flight: None,
        inline_request,
        export_timeout: config.export_timeout,
        pending: Vec::new(),
        tallies: Vec::new(),
        counted: Vec::new(),
        scratch: Vec::with_capacity(64),
        flush_error: None,
        stop: control.stop.clone(),
        stopped: false,
        logs: config.logs,
    };
    let mut more = false;
    loop {
        // Records left in the rings by the queue's bound are read again at once.
        if !more {
            thread::park_timeout(config.tick);
        }
        let commands = std::mem::take(&mut control.lock_commands().queue);
        // A flush requested now reports the export failures of this round, including those of
        // the spans exported just below, before the request is handled.
        worker.flush_error = None;
        more = worker.drain();
        worker.process(false, more);
        // After the spans of this round, so that the console has their traces.
        worker.export_logs();
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
                    // Within what is left before the deadline (an exporter's shutdown may wait
                    // for its own exports).
                    let left = worker.stop.by().map_or(worker.export_timeout, |by| {
                        by.saturating_duration_since(Instant::now())
                            .min(worker.export_timeout)
                    });
                    for exporter in &worker.exporters {
                        if let Err(e) = exporter.shutdown_with_timeout(left) {
                            result = Err(Error::Export(ExportError::new(e.to_string())));
                        }
                    }
                    // Nothing reads the rings from now on: a span that ends later neither
                    // waits for room nor grows a spill ring.
                    handoff::set_block(Duration::ZERO);
                    REGISTRY.set_budget(0);
                    worker.abandon_rest();
                    if worker.stopped && result.is_ok() {
                        // The deadline passed in an earlier round, which reported it there.
                        result = Err(worker.stop.timed_out());
                    }
                    let _ = reply.send(result);
                    return;
                }
            }
        }
    }
}

impl Worker {
    /// Moves records out of the per-thread rings into `pending`, up to the queue bound; true when
    /// the bound left records in the rings (they stay there, within the rings' budget, for the
    /// next round).
    fn drain(&mut self) -> bool {
        self.drained_at = clock::now();
        let mut rings = REGISTRY
            .rings
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut drained = 0u64;
        let mut left = false;
        let mut released = 0usize;
        rings.retain_mut(|ring| {
            // Read before the slots: a ring abandoned before they were read is empty once they
            // are taken.
            let abandoned = ring.consumer.is_abandoned();
            let room = self.max_queue.saturating_sub(self.pending.len());
            let available = ring.consumer.slots();
            let take = available.min(room);
            left |= take < available;
            if let Ok(chunk) = ring.consumer.read_chunk(take) {
                drained += take as u64;
                // Exactly: amortized growth could take the queue to twice its bound.
                self.pending.reserve_exact(take);
                self.pending.extend(chunk);
            }
            if !abandoned || take < available {
                return true;
            }
            if !ring.spill {
                // The thread has exited and its ring is empty: keep its counts.
                let dropped = ring.shared.dropped_full.load(Ordering::Relaxed);
                self.counters
                    .dropped_full_exited
                    .fetch_add(dropped, Ordering::Relaxed);
                handoff::note_exited(&ring.shared);
            }
            released += ring.bytes;
            false
        });
        drop(rings);
        REGISTRY.release(released);
        self.counters.drained.fetch_add(drained, Ordering::Relaxed);
        left
    }

    /// Prices the sampled-out calls waiting in their rings and counts them in the metrics
    /// (before the stages run, so that a flush exports their metrics too).
    fn count_sampled_out(&mut self) {
        // Only a pipeline that tallies has tallies to read (read from the installed settings,
        // which outlive `disable`: the last flush still reads them).
        if !crate::state::get().is_some_and(|p| p.tally) {
            return;
        }
        if handoff::tally::drain(&mut self.tallies) == 0 {
            return;
        }
        self.counted
            .extend(self.tallies.drain(..).map(Tally::into_record));
        self.stages.count(&mut self.counted);
        self.counted.clear();
    }

    /// Runs pending records through the stages and exports them, in batches. With `more` (the
    /// rings hold more, read next), a last batch short of the batch size waits for their spans
    /// rather than going out as a request of its own.
    fn process(&mut self, flush: bool, more: bool) {
        self.count_sampled_out();
        let drain = Drain {
            started: self.drained_at,
        };
        // Past shutdown's deadline, the worker only counts: stages just give back what they hold
        // (at the final flush), so that shutdown answers in time.
        let process = !self.stopped;
        self.stages
            .run_held(&mut self.pending, &drain, &self.counters, process, flush);
        // `pending` keeps its capacity from one tick to the next: no allocation in steady state.
        let mut pending = std::mem::take(&mut self.pending);
        // Spans added to the exporters' batch in progress (some may be from the read before).
        let mut batched = std::mem::take(&mut self.batched);
        // Past shutdown's deadline, records are counted as dropped without being mapped.
        let mut unexported = 0u64;
        // One pass for the content stage and the mapping, while the record is in cache.
        for record in pending.iter_mut() {
            if process {
                self.stages.content.process_record(record, &self.counters);
            }
            let sink = record.scope.as_ref().and_then(|s| s.capture.clone());
            match sink {
                Some(sink) => {
                    sink.push(self.mapper.to_span_data(record, &mut self.scratch));
                    self.counters.captured.fetch_add(1, Ordering::Relaxed);
                }
                None if self.stopped => unexported += 1,
                None => {
                    let span = self
                        .mapper
                        .finish(record, &mut self.scratch, self.inline_request);
                    // The exporters before the last get copies.
                    if let Some((last, others)) = self.exporters.split_last_mut() {
                        for exporter in others {
                            exporter.add(span.clone());
                        }
                        last.add(span);
                    }
                    batched += 1;
                }
            }
            if batched == self.max_batch as u64
                || self
                    .exporters
                    .iter()
                    .any(|e| e.batch_bytes() >= self.max_batch_bytes)
            {
                self.export(batched);
                batched = 0;
            }
        }
        if batched > 0 && (flush || !more) {
            self.export(batched);
        } else {
            self.batched = batched;
        }
        // A round that leaves nothing for the next answers for all it sent.
        if flush || !more {
            self.land();
        }
        if unexported > 0 {
            self.note_stopped();
            self.counters
                .dropped_shutdown
                .fetch_add(unexported, Ordering::Relaxed);
        }
        pending.clear();
        self.pending = pending;
    }

    /// Sends the batch of `n` spans added to the exporters, once the batch in flight (if any) is
    /// answered and counted: one batch is in flight at a time, and the worker maps the next one
    /// while it is.
    fn export(&mut self, n: u64) {
        if self.exporters.is_empty() {
            self.counters
                .dropped_no_exporter
                .fetch_add(n, Ordering::Relaxed);
            return;
        }
        self.land();
        if !self.stopped && self.stop.by().is_some_and(|by| Instant::now() >= by) {
            self.stopped = true;
        }
        if self.stopped {
            for exporter in &mut self.exporters {
                exporter.discard();
            }
            self.note_stopped();
            self.counters
                .dropped_shutdown
                .fetch_add(n, Ordering::Relaxed);
            return;
        }
        let timeout_at = Instant::now() + self.export_timeout;
        let mut calls = Vec::with_capacity(self.exporters.len());
        for (i, exporter) in self.exporters.iter_mut().enumerate() {
            // Left by a call cut short: not this batch's.
            let _ = self.rejections[i].as_deref().map(Rejections::take);
            let call = move || {
                let exporter = exporter;
                exporter.export()
            };
            calls.push(match std::panic::catch_unwind(AssertUnwindSafe(call)) {
                Ok(export) => {
                    let mut export = Box::pin(guarded(export, timeout_at, self.export_timeout));
                    // Polled once here first: an export done at once (a file written, a batch
                    // handed on) is answered on this thread, without a task, and its batch is
                    // freed by the thread that allocated it.
                    match self.runtime.block_on(poll_once(export.as_mut())) {
                        Some(outcome) => Call::Done(outcome),
                        None => Call::Running(self.runtime.spawn(export)),
                    }
                }
                Err(_) => Call::Done(Outcome::Failed("the exporter panicked".into())),
            });
        }
        // An exporter whose `export` panicked may still hold the batch: it must not go out with
        // the next one.
        for exporter in &mut self.exporters {
            exporter.discard();
        }
        self.flight = Some(Flight { n, calls });
    }

    /// Waits for the answers to the batch in flight, if any, and counts the batch once: exported
    /// when the first exporter acknowledged it, else dropped (export failed, or shutdown's
    /// deadline passed first). Spans the first exporter's collector rejected while acknowledging
    /// the batch are dropped, not exported.
    fn land(&mut self) {
        let Some(Flight { mut n, mut calls }) = self.flight.take() else {
            return;
        };
        if !answered(&self.runtime, &mut calls, &self.stop) {
            // Shutdown's deadline: what is still running is cut short.
            for call in &mut calls {
                if let Call::Running(task) = call {
                    task.abort();
                    *call = Call::Done(Outcome::Stopped);
                }
            }
        }
        let mut first = Outcome::Stopped;
        let mut rejected = 0;
        for (i, call) in calls.into_iter().enumerate() {
            let Call::Done(outcome) = call else {
                unreachable!("every call is answered or cut short")
            };
            match &outcome {
                Outcome::Acked => {
                    self.counters.report_export_ok(i);
                    if let Some(r) = self.rejections[i].as_deref().and_then(Rejections::take) {
                        let spans = r.spans.min(n);
                        self.counters.report_rejected(n, spans, &r.message);
                        if i == 0 {
                            rejected = spans;
                        }
                    }
                }
                Outcome::Failed(e) => {
                    self.counters.report_export_error(i, e);
                    self.flush_error = Some(Error::Export(ExportError::new(e.clone())));
                }
                Outcome::Stopped => self.stopped = true,
            }
            if i == 0 {
                first = outcome;
            }
        }
        if rejected > 0 {
            self.counters
                .dropped_rejected
                .fetch_add(rejected, Ordering::Relaxed);
        }
        let counter = match first {
            Outcome::Acked => {
                n -= rejected;
                &self.counters.exported
            }
            Outcome::Failed(_) => &self.counters.dropped_export,
            // Cut short by shutdown's deadline: unacknowledged, so dropped, once, here.
            Outcome::Stopped => &self.counters.dropped_shutdown,
        };
        counter.fetch_add(n, Ordering::Relaxed);
        if self.stopped {
            self.note_stopped();
        }
    }

    /// Reports to the shutdown caller that its deadline cut the export short.
    fn note_stopped(&mut self) {
        if self.flush_error.is_none() {
            self.flush_error = Some(self.stop.timed_out());
        }
    }

    fn flush(&mut self) -> Result<(), Error> {
        // Everything buffered when the flush was asked for, a queue at a time: as many rounds as
        // the rings can hold queues, so that a thread producing all along cannot hold the flush.
        let mut rounds = REGISTRY.reserved() / handoff::SLOT_BYTES / self.max_queue + 1;
        while self.drain() && !self.stopped && rounds > 0 {
            rounds -= 1;
            self.process(false, true);
        }
        self.process(true, false);
        self.export_logs();
        let mut result = match self.flush_error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        };
        for exporter in &self.exporters {
            if let Err(e) = exporter.force_flush() {
                result = Err(Error::Export(ExportError::new(e.to_string())));
            }
        }
        // The spans are out: the metrics export the stages started may take what is left.
        let left = self.stop.by().map_or(METRICS_WAIT, |by| {
            by.saturating_duration_since(Instant::now())
                .min(METRICS_WAIT)
        });
        self.stages.settle(left);
        result
    }

    /// Exports the evaluation results queued for the log sinks, redacted as spans' content is.
    fn export_logs(&mut self) {
        let (content, counters) = (&self.stages.content, &self.counters);
        self.logs
            .export_queued(self.mapper.resource(), &self.runtime, |result| {
                content.process_evaluation(result, counters)
            });
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
        // Spans still open now: opened, but neither in a ring nor ended elsewhere. Those that end
        // later are not exported (the worker is gone).
        let (opened, ended_elsewhere) = handoff::opened_and_ended_elsewhere();
        let reached = self.counters.snapshot().produced;
        let open = opened.saturating_sub(reached + ended_elsewhere);
        self.counters.dropped_open.store(open, Ordering::Relaxed);
    }
}

/// One exporter's call in a batch's flight.
enum Call {
    Running(tokio::task::JoinHandle<Outcome>),
    Done(Outcome),
}

/// A batch sent to the exporters and not yet counted.
struct Flight {
    /// Its spans.
    n: u64,
    /// One call per exporter, in the exporters' order.
    calls: Vec<Call>,
}

/// One exporter's export, run as a task on the worker's runtime: at most `timeout` (from
/// `timeout_at`), and a panic in the exporter fails the call instead of ending the worker, which
/// would leave every later span uncounted.
///
/// Dropping the export future at the limit cancels what the exporter was doing: the request in
/// flight, or the sleep between two retries (opentelemetry-otlp sleeps with tokio's timer when it
/// runs inside a runtime, as here).
async fn guarded(mut export: Sending, timeout_at: Instant, timeout: Duration) -> Outcome {
    let timed_out = || Outcome::Failed(format!("export timed out after {timeout:?}"));
    // Armed once the export has to wait: an export done on its first poll never touches the
    // runtime's timer, whose thread would otherwise be woken to take the new deadline.
    let mut timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    std::future::poll_fn(|cx| {
        // The limit first: when the exporter's own timeout (the same length for OTLP) fires in
        // the same timer tick, the error says it timed out, the same way every time.
        if let Some(timer) = &mut timer
            && timer.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(timed_out());
        }
        match std::panic::catch_unwind(AssertUnwindSafe(|| export.as_mut().poll(cx))) {
            Ok(Poll::Ready(Ok(()))) => Poll::Ready(Outcome::Acked),
            Ok(Poll::Ready(Err(e))) => Poll::Ready(Outcome::Failed(e.to_string())),
            Ok(Poll::Pending) => {
                let timer = timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(timeout_at.into())));
                if timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(timed_out());
                }
                Poll::Pending
            }
            Err(_) => Poll::Ready(Outcome::Failed("the exporter panicked".into())),
        }
    })
    .await
}

/// Polls `future` once: its output, if it is done.
async fn poll_once<F: Future>(mut future: std::pin::Pin<&mut F>) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        Poll::Ready(match future.as_mut().poll(cx) {
            Poll::Ready(output) => Some(output),
            Poll::Pending => None,
        })
    })
    .await
}

/// Waits until every call has answered (true), or shutdown's deadline passes first (false; set
/// while waiting too: it wakes the wait).
fn answered(runtime: &tokio::runtime::Runtime, calls: &mut [Call], stop: &StopSignal) -> bool {
    runtime.block_on(async {
        let mut timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
        std::future::poll_fn(|cx| {
            if let Some(by) = stop.watch(cx.waker()) {
                let timer =
                    timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(by.into())));
                if timer.deadline() != by.into() {
                    timer.as_mut().reset(by.into());
                }
                if timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(false);
                }
            }
            for call in calls.iter_mut() {
                if let Call::Running(task) = call {
                    let outcome = match std::pin::Pin::new(task).poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Ok(outcome)) => outcome,
                        // Cancelled only by the runtime's shutdown, which happens after the
                        // worker's last wait.
                        Poll::Ready(Err(e)) if e.is_panic() => {
                            Outcome::Failed("the exporter panicked".into())
                        }
                        Poll::Ready(Err(e)) => Outcome::Failed(e.to_string()),
                    };
                    *call = Call::Done(outcome);
                }
            }
            Poll::Ready(true)
        })
        .await
    })
}
