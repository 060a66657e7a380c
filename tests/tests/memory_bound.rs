//! Bounded memory under load: with the collector stalled, a burst of a million spans from several
//! threads keeps the heap under a bound computed from the configuration (the buffers' byte budget,
//! at its documented default of 64 MiB, `buffer_capacity`, `max_queue`, `max_batch`); what does
//! not fit is dropped and counted, never queued without limit; and shutdown, with an export still
//! stalled, keeps its deadline with every span counted.
//!
//! A counting global allocator tracks the live heap of this test binary and its peak. The costs
//! the bound is built from are measured first, in this process, through the same allocator:
//!
//! - a ring slot (the size of a span record, read from the ring's allocation);
//! - the heap a record owns: what a call allocates on its thread and does not free there;
//! - a `SpanData` as the export worker builds it (slot in a `Vec`, plus its heap);
//! - the extra heap of exporting a batch over OTLP/HTTP: converting it to protobuf messages,
//!   encoding them, and the copy of the body the HTTP client sends.
//!
//! The threads' buffers (their first rings and the spill rings a burst adds) hold at most the
//! budget's bytes of record slots, or the first rings' when those alone are more; each slot's
//! record also owns its heap. Measured in a debug build (x86-64, this workspace at the time of
//! writing): a record slot is 240 bytes and a record owns 26 bytes of heap; a `SpanData` costs
//! 957 bytes (352 inline, the rest its attributes); exporting adds 809 bytes per span. With 4
//! threads, rings of 4096, a queue of 8192 and batches of 2048, the bound is 81.2 MiB (70.9 of
//! it the budget's records) and the peak 76.3 MiB over the live heap before the load: the spill
//! rings fill the budget. The whole test takes about 5 s. It prints its numbers.
#![deny(warnings, clippy::all)]

#[path = "support/fault_receiver.rs"]
mod fault_receiver;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use fault_receiver::{FaultReceiver, Mode};
use llmtrace_runtime as llmtrace;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;
use prost::Message;

/// Counts live heap bytes, their peak, and per thread the bytes allocated and the largest
/// allocation.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // `const` and without destructors: usable inside the allocator, even while a thread exits.
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
    static FREED: Cell<usize> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn grew(by: usize) {
    let live = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(live, Ordering::Relaxed);
    let _ = ALLOCATED.try_with(|a| a.set(a.get() + by));
}

fn shrank(by: usize) {
    LIVE.fetch_sub(by, Ordering::Relaxed);
    let _ = FREED.try_with(|f| f.set(f.get() + by));
}

fn note_size(size: usize) {
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
            note_size(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
            note_size(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
            note_size(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Starts a new peak from the live heap now.
fn reset_peak() -> usize {
    let now = live();
    PEAK.store(now, Ordering::Relaxed);
    now
}

fn reset_thread_counters() {
    ALLOCATED.with(|a| a.set(0));
    FREED.with(|f| f.set(0));
    LARGEST.with(|l| l.set(0));
}

const MIB: f64 = 1024.0 * 1024.0;

/// Producing threads and spans in all.
const THREADS: usize = 4;
const SPANS: usize = 1_000_000;
/// The configuration under test. The rings (4 × 4096) hold twice the queue, so that a read of
/// full rings overflows the queue too.
const BUFFER_CAPACITY: usize = 4096;
const MAX_QUEUE: usize = 8192;
const MAX_BATCH: usize = 2048;
/// Each export stalls this long before it fails: the worker cycles through reads, batches and
/// failures while the threads produce.
const EXPORT_TIMEOUT: Duration = Duration::from_millis(500);
/// Shorter than exporting what is left would take: while the threads produce, each read of the
/// (full) rings fills the queue, four stalled batches, 2 s of exports; at shutdown the worker is
/// inside such a round, and the rings have filled again. The deadline cuts it short (the worker
/// stops exporting a fifth of it before, 400 ms, to count what is left and answer in time).
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(2);
/// Calibration calls (captured, not exported).
const CALIBRATION_CALLS: usize = 1_000;
/// Fixed slack, for what does not scale with the configuration: the HTTP client's connection
/// state and buffers (tens of KiB per connection, one or two at a time), the stalled receiver's
/// threads (a 16 KiB read buffer each, one per stalled request), the roll-up stage's held roots
/// (those that ended during a read of the rings: a handful) and its memory of closed traces
/// (4096 ids and their hash table, about 100 KiB), the producing threads' own bookkeeping and
/// the ring registry.
const SLACK: usize = 2 << 20;
/// The buffers' byte budget by default, as `Builder::buffer_budget` documents it.
const DEFAULT_BUDGET: usize = 64 << 20;

#[llmtrace::tool(name = "lookup_order", description = "Find an order by id")]
fn lookup_order(order_id: u64) -> u64 {
    order_id + 1
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", temperature = 0.3)]
fn chat(prompt: &str) -> Result<usize, String> {
    Ok(prompt.len())
}

fn call(i: usize) {
    if i.is_multiple_of(2) {
        lookup_order(i as u64);
    } else {
        chat("Where is my order?").unwrap();
    }
}

/// What the bound is built from, measured in this process.
#[derive(Debug)]
struct Costs {
    /// One ring slot: the size of a span record.
    slot: usize,
    /// Heap a record owns: what a call allocates on its thread and does not free there (the
    /// worker frees it with the record).
    record_heap: usize,
    /// One `SpanData` as the worker builds it: its slot in a `Vec` and its heap.
    span: usize,
    /// Extra heap per span while a batch is exported: protobuf conversion, encoding, and the
    /// body's copy for the request.
    export_extra: usize,
}

fn measure_costs() -> Costs {
    let capture = llmtrace::testing::Capture::new();

    // This thread's first span allocates its ring: the largest allocation it makes.
    reset_thread_counters();
    capture.in_scope(|| call(0));
    let ring = LARGEST.with(Cell::get);
    assert_eq!(ring % BUFFER_CAPACITY, 0, "ring allocation {ring} B");
    let slot = ring / BUFFER_CAPACITY;

    reset_thread_counters();
    capture.in_scope(|| (1..CALIBRATION_CALLS).for_each(call));
    let kept = ALLOCATED
        .with(Cell::get)
        .saturating_sub(FREED.with(Cell::get));
    let record_heap = kept.div_ceil(CALIBRATION_CALLS - 1);

    // `spans()` flushes and returns a copy of what was captured: measure the second copy.
    let _first = capture.spans();
    let before = live();
    let spans = capture.spans();
    assert_eq!(spans.len(), CALIBRATION_CALLS);
    let span = (live() - before).div_ceil(spans.len());

    // What exporting a batch adds, as opentelemetry-otlp's HTTP exporter does it.
    let batch: Vec<SpanData> = spans.iter().take(MAX_BATCH).cloned().collect();
    let n = batch.len();
    let resource = ResourceAttributesWithSchema::from(&Resource::builder_empty().build());
    let before = reset_peak();
    let request = ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(batch, &resource),
    };
    let body = request.encode_to_vec();
    drop(request);
    let sent = body.clone();
    let export_extra = (PEAK.load(Ordering::Relaxed) - before).div_ceil(n);
    drop((body, sent));

    Costs {
        slot,
        record_heap,
        span,
        export_extra,
    }
}

#[test]
fn a_million_spans_against_a_stalled_collector_stay_within_the_bound() {
    let started = Instant::now();
    let receiver = FaultReceiver::start(Mode::Stalling, Duration::from_secs(120));
    let _guard = llmtrace::init()
        .service_name("llmtrace-memory")
        .otlp_endpoint(llmtrace::OtlpProtocol::HttpProtobuf, receiver.endpoint())
        .buffer_capacity(BUFFER_CAPACITY)
        .max_queue(MAX_QUEUE)
        .max_batch(MAX_BATCH)
        .export_timeout(EXPORT_TIMEOUT)
        .install();
    // Returns once the worker has built its exporter (nothing to export yet).
    llmtrace::force_flush(Duration::from_secs(30)).expect("the export worker starts");

    let costs = measure_costs();
    let slot_and_heap = costs.slot + costs.record_heap;
    // Every slot the budget (or the first rings, when more) allows, each with its record's heap.
    let slots = DEFAULT_BUDGET.max(THREADS * BUFFER_CAPACITY * costs.slot) / costs.slot;
    let rings = slots * slot_and_heap;
    // The worker's queue: at most `max_queue` records just read, in a `Vec` reserved exactly;
    // but the roll-up stage puts back into it the roots it held from the read before (those
    // that ended while the rings were read, a handful), and that push can double its capacity.
    let worker_records = 2 * MAX_QUEUE * slot_and_heap;
    // The batch being exported, with what exporting adds, and the next batch's empty `Vec`.
    let batch = MAX_BATCH * (costs.span + costs.export_extra) + MAX_BATCH * size_of::<SpanData>();
    let bound = rings + worker_records + batch + SLACK;

    // The load: each thread's first span allocates its ring, counted in the bound.
    let baseline = reset_peak();
    let load_started = Instant::now();
    let producers: Vec<_> = (0..THREADS)
        .map(|t| thread::spawn(move || (t..SPANS).step_by(THREADS).for_each(call)))
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let load_took = load_started.elapsed();
    let during = llmtrace::stats();

    // Shutdown while an export is stalled: it keeps its deadline, and counts what is left.
    let shutdown_started = Instant::now();
    let shutdown = llmtrace::shutdown(SHUTDOWN_DEADLINE);
    let shutdown_took = shutdown_started.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - baseline;
    let stats = llmtrace::stats();
    let tally = receiver.tally();
    drop(receiver);

    println!(
        "costs: {costs:?}; size_of::<SpanData>() = {}\n\
         bound {:.1} MiB = rings {:.1} + worker records {:.1} + batch {:.1} + slack {:.1}\n\
         peak {:.1} MiB over a baseline of {:.1} MiB; load {load_took:.1?}, \
         shutdown {shutdown_took:.1?} ({shutdown:?}), whole test {:.1?}\n\
         during the load: {during:?}\nafter shutdown: {stats:?}\nreceiver: {tally:?}",
        size_of::<SpanData>(),
        bound as f64 / MIB,
        rings as f64 / MIB,
        worker_records as f64 / MIB,
        batch as f64 / MIB,
        SLACK as f64 / MIB,
        peak as f64 / MIB,
        baseline as f64 / MIB,
        started.elapsed(),
    );

    assert!(
        peak <= bound,
        "peak {peak} B over the baseline is above the bound {bound} B"
    );
    // Everything produced is accounted for, and what did not fit was dropped and counted.
    let produced = (SPANS + CALIBRATION_CALLS) as u64;
    assert_eq!(stats.produced, produced, "{stats:?}");
    assert_eq!(stats.captured, CALIBRATION_CALLS as u64, "{stats:?}");
    assert_eq!(stats.exported, 0, "the collector never answers: {stats:?}");
    assert_eq!(
        stats.captured + stats.exported + stats.dropped,
        stats.produced,
        "{stats:?}"
    );
    assert!(stats.dropped_buffer_full > 0, "{stats:?}");
    // What the worker's queue cannot take stays in the buffers, which overflow instead.
    assert_eq!(stats.dropped_queue_full, 0, "{stats:?}");
    // The spill rings were used: the peak is above what the first rings alone could hold.
    assert!(
        peak > THREADS * BUFFER_CAPACITY * slot_and_heap + worker_records,
        "peak {peak} B: no spill ring was filled"
    );
    assert!(stats.dropped_export_failed > 0, "{stats:?}");
    assert!(stats.dropped_at_shutdown > 0, "{stats:?}");
    assert!(tally.stalled > 0, "{tally:?}");
    // Shutdown kept its deadline, with the counters final when it returned.
    assert!(
        shutdown_took < SHUTDOWN_DEADLINE + Duration::from_millis(100),
        "shutdown took {shutdown_took:?}"
    );
    let shutdown = format!("{shutdown:?}");
    assert!(!shutdown.contains("did not finish"), "{shutdown}");
}
