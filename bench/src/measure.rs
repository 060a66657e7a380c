//! One variant in one process: timed batches, process CPU, delivery, and memory per buffered
//! span.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::variants;

/// Counts live heap bytes while `COUNTING` is on (off while timing).
pub(crate) struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicI64 = AtomicI64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What one process measured.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Sample {
    pub(crate) variant: String,
    /// Median over batches of the caller's time per span.
    pub(crate) caller_ns: f64,
    /// Whole-process CPU time (all threads, flushes included) per span.
    pub(crate) cpu_ns: f64,
    /// Spans the exporter received / spans produced (1 for non-recording variants).
    pub(crate) delivered: f64,
    /// Heap bytes a span holds while it waits for export (recording variants).
    pub(crate) bytes_per_span: Option<f64>,
    /// Spans made (burst and sustained loads).
    #[serde(default)]
    pub(crate) spans: Option<u64>,
    /// The process's peak resident memory, in bytes (burst and sustained loads).
    #[serde(default)]
    pub(crate) peak_rss: Option<f64>,
    /// Seconds from the first span made to the last exported (the drain load).
    #[serde(default)]
    pub(crate) total_s: Option<f64>,
    /// A pair: the second call's median caller time, and the median over batch pairs of the
    /// first's time over the second's (`caller_ns` is the first's).
    #[serde(default)]
    pub(crate) pair: Option<(f64, f64)>,
}

/// The process's peak resident set, in bytes.
fn peak_rss() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    // Linux gives kibibytes.
    usage.ru_maxrss as f64 * 1024.0
}

/// One burst, or a tight loop for a while, then one flush: the share of the spans delivered.
fn run_load(variant: &str, load: variants::Load) -> Sample {
    let mut v = variants::prepare(variant, 2048);
    // One span first, so that setting up the thread's buffer is not part of the load.
    std::hint::black_box((v.call)());
    (v.flush)();
    let delivered_before = v.delivered.load(Ordering::Relaxed);
    let cpu_start = cpu_time();
    let start = Instant::now();
    let mut made = 0u64;
    match load {
        variants::Load::Burst => {
            for _ in 0..variants::BURST_SPANS {
                std::hint::black_box((v.call)());
            }
            made = variants::BURST_SPANS as u64;
        }
        variants::Load::Sustained => {
            // The clock is read once per 256 calls: the loop stays as tight as the burst's.
            while start.elapsed() < variants::SUSTAINED_FOR {
                for _ in 0..256 {
                    std::hint::black_box((v.call)());
                }
                made += 256;
            }
        }
        variants::Load::Drain => {
            for _ in 0..variants::DRAIN_SPANS {
                std::hint::black_box((v.call)());
            }
            made = variants::DRAIN_SPANS as u64;
        }
        variants::Load::Batches => unreachable!("batches are run by `run`"),
    }
    let caller = start.elapsed();
    (v.flush)();
    let total = start.elapsed();
    let cpu = cpu_time() - cpu_start;
    let delivered = (v.delivered.load(Ordering::Relaxed) - delivered_before) as f64 / made as f64;
    Sample {
        variant: variant.to_owned(),
        caller_ns: caller.as_nanos() as f64 / made as f64,
        cpu_ns: cpu.as_nanos() as f64 / made as f64,
        delivered,
        bytes_per_span: None,
        spans: Some(made),
        peak_rss: Some(peak_rss()),
        total_s: (load == variants::Load::Drain).then_some(total.as_secs_f64()),
        pair: None,
    }
}

fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Runs `batches` timed batches of `spans` calls (after one warm-up batch), flushing after each.
pub(crate) fn run(variant: &str, spans: usize, batches: usize) -> Sample {
    if variants::pair(variant).is_some() {
        return run_pair(variant, spans, batches);
    }
    let load = variants::load(variant);
    if load != variants::Load::Batches {
        return run_load(variant, load);
    }
    let queue = spans.max(2048);
    let mut v = variants::prepare(variant, queue);
    for _ in 0..spans {
        std::hint::black_box((v.call)());
    }
    (v.flush)();
    let delivered_before = v.delivered.load(Ordering::Relaxed);
    let mut per_batch = Vec::with_capacity(batches);
    let cpu_start = cpu_time();
    for _ in 0..batches {
        per_batch.push(timed_batch(&mut v.call, &mut v.flush, spans));
    }
    let cpu = cpu_time() - cpu_start;
    let produced = (spans * batches) as f64;
    let delivered = if v.records {
        (v.delivered.load(Ordering::Relaxed) - delivered_before) as f64 / produced
    } else {
        1.0
    };
    (v.flush)();
    let bytes_per_span = v.measure_memory.then(|| memory_per_span(&mut v, queue));
    Sample {
        variant: variant.to_owned(),
        caller_ns: median(&mut per_batch),
        cpu_ns: cpu.as_nanos() as f64 / produced,
        delivered,
        bytes_per_span,
        spans: None,
        peak_rss: None,
        total_s: None,
        pair: None,
    }
}

/// One timed batch of `spans` calls, then a flush (not timed): the caller's time per span.
fn timed_batch(call: &mut variants::Call, flush: &mut variants::Flush, spans: usize) -> f64 {
    let start = Instant::now();
    for _ in 0..spans {
        std::hint::black_box(call());
    }
    let ns = start.elapsed().as_nanos() as f64 / spans as f64;
    flush();
    ns
}

/// A pair (`variants::PAIRS`): `batches` timed batches of each call in one process, in turn and
/// in alternating order (first-second, then second-first), each flushed before the next. Each
/// batch of the first call is compared with the batch of the second next to it.
pub(crate) fn run_pair(pair: &str, spans: usize, batches: usize) -> Sample {
    let (mut v, mut second) = variants::prepare_pair(pair, spans.max(2048));
    let time =
        |call: &mut variants::Call, flush: &mut variants::Flush| timed_batch(call, flush, spans);
    time(&mut v.call, &mut v.flush);
    time(&mut second, &mut v.flush);
    let cpu_start = cpu_time();
    let (mut first_ns, mut second_ns, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..batches {
        let (a, b) = if i % 2 == 0 {
            let a = time(&mut v.call, &mut v.flush);
            (a, time(&mut second, &mut v.flush))
        } else {
            let b = time(&mut second, &mut v.flush);
            (time(&mut v.call, &mut v.flush), b)
        };
        first_ns.push(a);
        second_ns.push(b);
        ratios.push(a / b);
    }
    let cpu = cpu_time() - cpu_start;
    Sample {
        variant: pair.to_owned(),
        caller_ns: median(&mut first_ns),
        cpu_ns: cpu.as_nanos() as f64 / (2 * spans * batches) as f64,
        delivered: 1.0,
        bytes_per_span: None,
        spans: None,
        peak_rss: None,
        total_s: None,
        pair: Some((median(&mut second_ns), median(&mut ratios))),
    }
}

/// Bytes a span holds while it waits for export: the heap it adds, plus its slot in storage the
/// tracer preallocates for buffering.
///
/// Two bursts short enough that nothing is exported yet run on fresh threads (so per-thread
/// buffers are allocated inside the measurement): their difference gives the heap per span, the
/// remainder the per-thread preallocation, shared by the `queue` spans it holds. The OpenTelemetry
/// batch processor's channel is allocated before any span, so its slot (`size_of::<SpanData>()`)
/// is added for the variants that use it.
fn memory_per_span(v: &mut variants::Prepared, queue: usize) -> f64 {
    let (b1, b2) = (queue / 8, queue / 4);
    let live1 = burst_on_fresh_thread(v, b1);
    let live2 = burst_on_fresh_thread(v, b2);
    let per_span_heap = (live2 - live1) / (b2 - b1) as f64;
    let preallocated = (live1 - b1 as f64 * per_span_heap).max(0.0);
    per_span_heap + preallocated / queue as f64 + v.slot_bytes as f64
}

fn burst_on_fresh_thread(v: &mut variants::Prepared, n: usize) -> f64 {
    std::thread::scope(|s| {
        s.spawn(|| {
            LIVE.store(0, Ordering::Relaxed);
            COUNTING.store(true, Ordering::Relaxed);
            for _ in 0..n {
                std::hint::black_box((v.call)());
            }
            let live = LIVE.load(Ordering::Relaxed);
            COUNTING.store(false, Ordering::Relaxed);
            live as f64
        })
        .join()
        .expect("memory thread")
    })
}

pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}
