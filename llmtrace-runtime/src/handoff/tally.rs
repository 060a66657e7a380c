//! The hand-off of sampled-out calls' tallies to the export worker, which counts them in the
//! metrics: one single-producer ring per thread, as for span records, so that the caller's
//! thread takes no lock and aggregates nothing.
//!
//! A thread's ring is made and registered (under the registry's lock) the first time it ends a
//! sampled-out call; after that a tally costs one thread-local access and one ring push. A full
//! ring drops the tally and counts it ([`dropped`]).

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::record::Tally;

/// Tallies a thread's ring holds.
const CAPACITY: usize = 4096;

/// The registered consumers, read by the export worker.
static RINGS: Mutex<Vec<rtrb::Consumer<Tally>>> = Mutex::new(Vec::new());

/// Tallies dropped: their thread's ring was full, or the thread was exiting.
static DROPPED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static RING: RefCell<Option<rtrb::Producer<Tally>>> = const { RefCell::new(None) };
}

/// Hands a sampled-out call's tally to the export worker.
#[inline]
pub(crate) fn push(tally: Tally) {
    let pushed = RING.try_with(|ring| {
        let mut ring = ring.borrow_mut();
        let producer = ring.get_or_insert_with(register);
        match producer.push(tally) {
            // Half full: the worker reads it now rather than at its next tick.
            Ok(()) if producer.slots() == CAPACITY / 2 => super::wake(),
            Ok(()) => {}
            Err(_) => {
                DROPPED.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    if pushed.is_err() {
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

#[cold]
fn register() -> rtrb::Producer<Tally> {
    let (producer, consumer) = rtrb::RingBuffer::new(CAPACITY);
    RINGS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(consumer);
    producer
}

/// Moves every tally waiting in the rings to `out`, and forgets the rings of threads that have
/// exited once they are empty. Returns how many were moved.
pub(crate) fn drain(out: &mut Vec<Tally>) -> usize {
    let before = out.len();
    let mut rings = RINGS.lock().unwrap_or_else(PoisonError::into_inner);
    rings.retain_mut(|ring| {
        // Read before the slots: a ring abandoned before they were read is empty once they are
        // taken.
        let abandoned = ring.is_abandoned();
        let n = ring.slots();
        if let Ok(chunk) = ring.read_chunk(n) {
            out.extend(chunk);
        }
        !abandoned
    });
    out.len() - before
}

/// Tallies dropped so far (see the module docs).
pub(crate) fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Callsite, Kind};

    static CALLSITE: Callsite = Callsite::new(Kind::LlmCall, "chat", "tests", &[], &[], 0);

    #[test]
    fn tallies_are_drained_once_each_and_overflow_is_counted() {
        let threads: Vec<_> = (0..3)
            .map(|_| {
                std::thread::spawn(|| {
                    for _ in 0..100 {
                        push(Tally::new(&CALLSITE, 0));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("joined");
        }
        let mut out = Vec::new();
        // Other tests of this binary may tally too: at least these 300 arrive, once.
        assert!(drain(&mut out) >= 300);
        let mine = out
            .iter()
            .filter(|t| std::ptr::eq(t.callsite, &CALLSITE))
            .count();
        assert_eq!(mine, 300);
        // The exited threads' rings are gone once read.
        let mut again = Vec::new();
        drain(&mut again);
        assert!(again.iter().all(|t| !std::ptr::eq(t.callsite, &CALLSITE)));

        // A thread whose ring is full drops what does not fit, and counts it. (In the same
        // test: a drain running meanwhile would empty the ring.)
        let before = dropped();
        std::thread::spawn(|| {
            for _ in 0..CAPACITY + 10 {
                push(Tally::new(&CALLSITE, 0));
            }
        })
        .join()
        .expect("joined");
        assert_eq!(dropped() - before, 10);
        let mut out = Vec::new();
        drain(&mut out);
        let kept = out
            .iter()
            .filter(|t| std::ptr::eq(t.callsite, &CALLSITE))
            .count();
        assert_eq!(kept, CAPACITY);
    }
}
