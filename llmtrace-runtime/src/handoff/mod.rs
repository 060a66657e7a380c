//! The hand-off from the caller's thread to the export worker: per-thread span rings, registered
//! globally and drained by the worker.
//!
//! Each thread that ends a span gets a single-producer ring (`rtrb`) the first time it does; the
//! consumer end is registered in a global list the worker drains on every tick and on flush. The
//! hot path is one thread-local access and one ring push: no lock, no allocation, no syscall
//! (except for waking the worker once per half ring). A full ring drops the record and counts it.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use std::thread::Thread;

use crate::record::Record;

/// Counters a producing thread shares with the worker.
#[derive(Debug, Default)]
pub(crate) struct ThreadShared {
    /// Records this thread dropped because its ring was full. Written only by the owning thread.
    pub(crate) dropped_full: AtomicU64,
}

struct LocalBuffer {
    producer: rtrb::Producer<Record>,
    shared: Arc<ThreadShared>,
    /// Pushes since the worker was last woken.
    since_wake: usize,
    wake_every: usize,
}

/// A registered consumer, owned by the worker side.
pub(crate) struct Registered {
    pub(crate) consumer: rtrb::Consumer<Record>,
    pub(crate) shared: Arc<ThreadShared>,
}

/// Records a thread's ring holds, unless configured otherwise.
pub(crate) const DEFAULT_CAPACITY: usize = 2048;

/// The global list of rings, and the records dropped where no ring was available.
pub(crate) struct Registry {
    pub(crate) rings: Mutex<Vec<Registered>>,
    capacity: AtomicUsize,
    /// Records that ended while the thread's buffer was being torn down (thread exit).
    pub(crate) dropped_no_buffer: AtomicU64,
}

pub(crate) static REGISTRY: Registry = Registry {
    rings: Mutex::new(Vec::new()),
    capacity: AtomicUsize::new(DEFAULT_CAPACITY),
    dropped_no_buffer: AtomicU64::new(0),
};

/// The thread that reads the rings, woken when a ring is half full. (A lock, not a `OnceLock`:
/// an installation that failed may have registered a worker that is gone.)
static CONSUMER: Mutex<Option<Thread>> = Mutex::new(None);

/// Registers the thread that reads the rings (the export worker), to be woken when a ring is
/// half full or a flush is asked for.
pub(crate) fn set_consumer(thread: Thread) {
    *CONSUMER.lock().unwrap_or_else(PoisonError::into_inner) = Some(thread);
}

/// Wakes the consumer early. Called once per half ring, not per span.
#[inline]
pub(crate) fn wake() {
    if let Some(t) = &*CONSUMER.lock().unwrap_or_else(PoisonError::into_inner) {
        t.unpark();
    }
}

/// Records dropped so far because a ring was full, or had gone with its thread, on threads
/// whose ring is still registered.
pub(crate) fn dropped_full() -> u64 {
    let rings = REGISTRY
        .rings
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let live: u64 = rings
        .iter()
        .map(|r| r.shared.dropped_full.load(Ordering::Relaxed))
        .sum();
    drop(rings);
    live + REGISTRY.dropped_no_buffer.load(Ordering::Relaxed)
}

thread_local! {
    static LOCAL: RefCell<Option<LocalBuffer>> = const { RefCell::new(None) };
}

impl Registry {
    /// Sets the capacity of the rings registered from now on.
    pub(crate) fn set_capacity(&self, capacity: usize) {
        self.capacity.store(capacity, Ordering::Relaxed);
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity.load(Ordering::Relaxed)
    }

    fn register(&self) -> LocalBuffer {
        let capacity = self.capacity();
        let (producer, consumer) = rtrb::RingBuffer::new(capacity);
        let shared = Arc::new(ThreadShared::default());
        self.rings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Registered {
                consumer,
                shared: shared.clone(),
            });
        LocalBuffer {
            producer,
            shared,
            since_wake: 0,
            wake_every: capacity / 2,
        }
    }
}

/// Moves the record `*record` into this thread's ring, or drops it (counted) when the ring is
/// full. Never blocks.
///
/// The record is read straight into its ring slot: it is the one copy the hand-off makes.
///
/// # Safety
/// `record` must point to a valid record that the caller treats as moved out afterwards (it must
/// not be used or dropped again).
#[inline]
pub(crate) unsafe fn push_from(record: *mut Record) {
    let pushed = LOCAL.try_with(|local| {
        let Ok(mut local) = local.try_borrow_mut() else {
            return false;
        };
        let buf = local.get_or_insert_with(|| REGISTRY.register());
        let Ok(mut chunk) = buf.producer.write_chunk_uninit(1) else {
            // Only this thread writes the counter: a plain load and store is enough.
            let n = buf.shared.dropped_full.load(Ordering::Relaxed);
            buf.shared.dropped_full.store(n + 1, Ordering::Relaxed);
            wake();
            return false;
        };
        let (slot, _) = chunk.as_mut_slices();
        // SAFETY: the caller hands the record over; it is read exactly once, here.
        slot[0].write(unsafe { std::ptr::read(record) });
        // SAFETY: the one slot of the chunk was initialized just above.
        unsafe { chunk.commit_all() };
        buf.since_wake += 1;
        if buf.since_wake >= buf.wake_every {
            buf.since_wake = 0;
            wake();
        }
        true
    });
    if pushed != Ok(true) {
        if pushed.is_err() {
            REGISTRY.dropped_no_buffer.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: not moved into the ring: the record is still the caller's to drop, once.
        unsafe { std::ptr::drop_in_place(record) };
    }
}
