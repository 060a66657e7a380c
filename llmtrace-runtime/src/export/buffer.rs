//! Per-thread span buffers, registered globally and drained by the export worker.
//!
//! Each thread that ends a span gets a single-producer ring (`rtrb`) the first time it does; the
//! consumer end is registered in a global list the worker drains on every tick and on flush. The
//! hot path is one thread-local access and one ring push: no lock, no allocation, no syscall
//! (except for waking the worker once per half ring). A full ring drops the record and counts it.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::span::Record;

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

/// The global list of rings, and the records dropped where no ring was available.
pub(crate) struct Registry {
    pub(crate) rings: Mutex<Vec<Registered>>,
    capacity: AtomicUsize,
    /// Records that ended while the thread's buffer was being torn down (thread exit).
    pub(crate) dropped_no_buffer: AtomicU64,
}

pub(crate) static REGISTRY: Registry = Registry {
    rings: Mutex::new(Vec::new()),
    capacity: AtomicUsize::new(2048),
    dropped_no_buffer: AtomicU64::new(0),
};

thread_local! {
    static LOCAL: RefCell<Option<LocalBuffer>> = const { RefCell::new(None) };
}

impl Registry {
    pub(crate) fn set_capacity(&self, capacity: usize) {
        self.capacity.store(capacity.max(16), Ordering::Relaxed);
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
            super::worker::wake();
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
            super::worker::wake();
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
