//! The hand-off from the caller's thread to the export worker: per-thread span rings, registered
//! globally and drained by the worker.
//!
//! Each thread that ends a span gets a single-producer ring (`rtrb`) the first time it does; the
//! consumer end is registered in a global list the worker drains on every tick and on flush. The
//! hot path is one thread-local access and one ring push: no lock, no allocation, no syscall
//! (except for waking the worker once per half ring).
//!
//! A burst that fills a thread's ring spills into a larger ring of its own (four times the ring,
//! then doubling each time that one fills), registered after it, while all the rings together stay
//! within a byte budget; the thread goes back to its first ring once the worker has emptied the
//! spill ring. Growing takes the registry's lock and one allocation once per doubling, never per
//! span. Past the budget the record is dropped and counted, or, with [`set_block`], the thread
//! waits for room a bounded time first.

pub(crate) mod tally;

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crate::record::Record;

/// Counters a producing thread shares with the worker.
#[derive(Debug, Default)]
pub(crate) struct ThreadShared {
    /// Records this thread dropped because its rings were full. Written only by the owning
    /// thread.
    pub(crate) dropped_full: AtomicU64,
    /// Records this thread opened (spans started recording). Written only by the owning thread.
    pub(crate) started: AtomicU64,
}

struct LocalBuffer {
    /// The ring pushed into: the thread's first ring, or its spill ring during a burst.
    producer: rtrb::Producer<Record>,
    /// The thread's first ring, parked while a spill ring takes the pushes.
    primary: Option<rtrb::Producer<Record>>,
    shared: Arc<ThreadShared>,
    /// Pushes since the worker was last woken.
    since_wake: usize,
    wake_every: usize,
}

/// A registered consumer, owned by the worker side.
pub(crate) struct Registered {
    pub(crate) consumer: rtrb::Consumer<Record>,
    pub(crate) shared: Arc<ThreadShared>,
    /// A spill ring (its thread's drops are counted with its first ring).
    pub(crate) spill: bool,
    /// Bytes of slots this ring holds against the budget.
    pub(crate) bytes: usize,
}

/// Records a thread's ring holds, unless configured otherwise.
pub(crate) const DEFAULT_CAPACITY: usize = 2048;

/// Bytes of record slots all rings together may hold, unless configured otherwise: 64 MiB.
pub(crate) const DEFAULT_BUDGET: usize = 64 << 20;

/// A thread on a spill ring looks whether it can go back to its first ring once per this many
/// pushes.
const UNSPILL_EVERY: usize = 64;

/// A thread's first spill ring holds this many times its first ring.
const FIRST_SPILL: usize = 4;

/// The global list of rings, and the records dropped where no ring was available.
pub(crate) struct Registry {
    pub(crate) rings: Mutex<Vec<Registered>>,
    capacity: AtomicUsize,
    /// Bytes of record slots the spill rings may take, with the first rings.
    budget: AtomicUsize,
    /// Bytes of record slots the registered rings hold.
    reserved: AtomicUsize,
    /// How long a thread whose rings are full waits for room, in nanoseconds (0: not at all).
    block_ns: AtomicU64,
    /// Records that ended while the thread's buffer was being torn down (thread exit).
    pub(crate) dropped_no_buffer: AtomicU64,
    /// Records opened on threads whose ring has been unregistered (they exited), or while the
    /// thread's buffer was being torn down.
    started_elsewhere: AtomicU64,
    /// Records that ended without reaching a ring: in a host mode (a test capture's), or when
    /// nothing was installed any more.
    ended_elsewhere: AtomicU64,
}

pub(crate) static REGISTRY: Registry = Registry {
    rings: Mutex::new(Vec::new()),
    capacity: AtomicUsize::new(DEFAULT_CAPACITY),
    budget: AtomicUsize::new(DEFAULT_BUDGET),
    reserved: AtomicUsize::new(0),
    block_ns: AtomicU64::new(0),
    dropped_no_buffer: AtomicU64::new(0),
    started_elsewhere: AtomicU64::new(0),
    ended_elsewhere: AtomicU64::new(0),
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

/// Sets how long a thread whose rings are full and whose budget is spent waits for room before
/// it drops the record; zero (the default) never waits.
pub(crate) fn set_block(max_wait: Duration) {
    let ns = u64::try_from(max_wait.as_nanos()).unwrap_or(u64::MAX);
    REGISTRY.block_ns.store(ns, Ordering::Relaxed);
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
        .filter(|r| !r.spill)
        .map(|r| r.shared.dropped_full.load(Ordering::Relaxed))
        .sum();
    drop(rings);
    live + REGISTRY.dropped_no_buffer.load(Ordering::Relaxed)
}

/// Records opened so far, on every thread, and records that ended without reaching a ring: the
/// difference, less what reached the rings (drained or dropped there), is what is still open.
pub(crate) fn opened_and_ended_elsewhere() -> (u64, u64) {
    let rings = REGISTRY
        .rings
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let live: u64 = rings
        .iter()
        .filter(|r| !r.spill)
        .map(|r| r.shared.started.load(Ordering::Relaxed))
        .sum();
    drop(rings);
    (
        live + REGISTRY.started_elsewhere.load(Ordering::Relaxed),
        REGISTRY.ended_elsewhere.load(Ordering::Relaxed),
    )
}

/// Counts a record that ended without reaching a ring (see [`opened_and_ended_elsewhere`]).
pub(crate) fn note_ended_elsewhere() {
    REGISTRY.ended_elsewhere.fetch_add(1, Ordering::Relaxed);
}

/// Keeps the count of records an exited thread opened, when the worker unregisters its ring.
pub(crate) fn note_exited(shared: &ThreadShared) {
    REGISTRY
        .started_elsewhere
        .fetch_add(shared.started.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// Counts a record opened on this thread: one thread-local access and a plain store, no atomic
/// read-modify-write (only this thread writes its counter).
#[inline]
pub(crate) fn note_started() {
    let counted = LOCAL.try_with(|local| {
        let Ok(mut local) = local.try_borrow_mut() else {
            return false;
        };
        let buf = local.get_or_insert_with(|| REGISTRY.register());
        let n = buf.shared.started.load(Ordering::Relaxed);
        buf.shared.started.store(n + 1, Ordering::Relaxed);
        true
    });
    if counted != Ok(true) {
        REGISTRY.started_elsewhere.fetch_add(1, Ordering::Relaxed);
    }
}

/// The bytes of one ring slot: the size of a record.
pub(crate) const SLOT_BYTES: usize = size_of::<Record>();

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

    /// Sets the bytes of record slots the rings may hold together, spill rings included.
    pub(crate) fn set_budget(&self, bytes: usize) {
        self.budget.store(bytes, Ordering::Relaxed);
    }

    /// Bytes of record slots the registered rings hold now.
    pub(crate) fn reserved(&self) -> usize {
        self.reserved.load(Ordering::Relaxed)
    }

    /// Gives back the slots of a ring the worker unregistered.
    pub(crate) fn release(&self, bytes: usize) {
        self.reserved.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Reserves room for a spill ring of at most `wanted` records and at least `least`, within
    /// the budget; the records granted.
    fn reserve_spill(&self, wanted: usize, least: usize) -> Option<usize> {
        let budget = self.budget.load(Ordering::Relaxed);
        let mut reserved = self.reserved.load(Ordering::Relaxed);
        loop {
            let room = budget.saturating_sub(reserved) / SLOT_BYTES;
            let granted = wanted.min(room);
            if granted < least {
                return None;
            }
            match self.reserved.compare_exchange_weak(
                reserved,
                reserved + granted * SLOT_BYTES,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(granted),
                Err(now) => reserved = now,
            }
        }
    }

    /// Makes a ring of `capacity` records, whose slots are already counted in `reserved`, and
    /// registers its consumer after every ring registered so far.
    fn add_ring(
        &self,
        capacity: usize,
        shared: &Arc<ThreadShared>,
        spill: bool,
    ) -> rtrb::Producer<Record> {
        let (producer, consumer) = rtrb::RingBuffer::new(capacity);
        self.rings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Registered {
                consumer,
                shared: shared.clone(),
                spill,
                bytes: capacity * SLOT_BYTES,
            });
        producer
    }

    fn register(&self) -> LocalBuffer {
        let capacity = self.capacity();
        // A thread's first ring is always granted, budget or not: without it the thread could
        // record nothing.
        self.reserved
            .fetch_add(capacity * SLOT_BYTES, Ordering::Relaxed);
        let shared = Arc::new(ThreadShared::default());
        let producer = self.add_ring(capacity, &shared, false);
        LocalBuffer {
            producer,
            primary: None,
            shared,
            since_wake: 0,
            wake_every: capacity / 2,
        }
    }
}

impl LocalBuffer {
    /// Back to the first ring when the spill ring has been emptied. Unregistering the empty,
    /// abandoned spill ring (and giving back its budget) is the worker's.
    #[cold]
    fn unspill(&mut self) {
        if self.producer.slots() == self.producer.buffer().capacity() {
            if let Some(primary) = self.primary.take() {
                self.wake_every = primary.buffer().capacity() / 2;
                self.producer = primary;
            }
        }
    }

    /// Makes room for one record when the ring pushed into is full: a new spill ring within the
    /// budget, else, when asked for, waiting for the worker up to the configured time. False when
    /// there is no room: the record is dropped.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self) -> bool {
        wake();
        if self.spill() {
            return true;
        }
        let block_ns = REGISTRY.block_ns.load(Ordering::Relaxed);
        if block_ns == 0 {
            return false;
        }
        let deadline = Instant::now() + Duration::from_nanos(block_ns);
        let mut pause = Duration::from_micros(50);
        loop {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(5));
            if !self.producer.is_full() || self.spill() {
                return true;
            }
            wake();
        }
    }

    /// Counts a record dropped for want of room; false, for the caller to return.
    #[cold]
    fn count_drop(&self) -> bool {
        // Only this thread writes the counter: a plain load and store is enough.
        let n = self.shared.dropped_full.load(Ordering::Relaxed);
        self.shared.dropped_full.store(n + 1, Ordering::Relaxed);
        false
    }

    /// Moves the pushes to a new spill ring (four times the first ring, then twice the spill
    /// ring that filled), as large as the budget allows; false when the budget cannot hold a
    /// ring the size of the first one.
    fn spill(&mut self) -> bool {
        let current = self.producer.buffer().capacity();
        let (wanted, least) = match &self.primary {
            Some(primary) => (current * 2, primary.buffer().capacity()),
            None => (current * FIRST_SPILL, current),
        };
        let Some(capacity) = REGISTRY.reserve_spill(wanted, least) else {
            return false;
        };
        let spill = REGISTRY.add_ring(capacity, &self.shared, true);
        // The ring that filled: the first ring is kept for later, a spill ring is abandoned
        // (the worker empties it, then unregisters it).
        let full = std::mem::replace(&mut self.producer, spill);
        if self.primary.is_none() {
            self.primary = Some(full);
        }
        self.since_wake = 0;
        self.wake_every = capacity / 2;
        true
    }
}

/// Moves the record `*record` into this thread's ring, or drops it (counted) when the ring is
/// full and the budget allows no spill ring. Never blocks, unless waiting was asked for
/// ([`set_block`]).
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
        // Every 64th push only: reading whether the spill ring is empty reads the position the
        // worker writes as it drains, a cache line the two threads would pass back and forth.
        if buf.primary.is_some() && buf.since_wake % UNSPILL_EVERY == 0 {
            buf.unspill();
        }
        let mut chunk = match buf.producer.write_chunk_uninit(1) {
            Ok(chunk) => chunk,
            Err(_) => match buf.make_room() {
                true => match buf.producer.write_chunk_uninit(1) {
                    Ok(chunk) => chunk,
                    // Unreachable: only this thread pushes, and there was room.
                    Err(_) => return buf.count_drop(),
                },
                false => return buf.count_drop(),
            },
        };
        let (slot, _) = chunk.as_mut_slices();
        // SAFETY: the caller hands the record over; it is read exactly once, here.
        slot[0].write(unsafe { std::ptr::read(record) });
        let next = slot.as_ptr().wrapping_add(1);
        // SAFETY: the one slot of the chunk was initialized just above.
        unsafe { chunk.commit_all() };
        // The next record goes there (or, past the ring's end, to its start).
        crate::record::prefetch::for_write(next.cast(), size_of::<Record>());
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
