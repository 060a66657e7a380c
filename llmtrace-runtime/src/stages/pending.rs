//! The bookkeeping the totalling stages share (the roll-up keyed by trace, agent totals keyed
//! by the agent's span): what spans added for an owner that has not ended yet, bounded in count
//! and age, and the owners already totalled, so that spans ending after their owner do not open
//! it again.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hash};
use std::time::{Duration, Instant};

use crate::record::ids::TraceIdHasher;

/// Owners with parts waiting for them, at most.
pub(crate) const MAX_OPEN: usize = 8192;
/// An owner that has not ended this long after its last part is forgotten (it is in another
/// process, was sampled out at its end, or was dropped).
const MAX_AGE: Duration = Duration::from_secs(300);
/// Owners remembered as totalled.
const CLOSED: usize = 4096;
/// How often the age limit is enforced when the count limit is not reached.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<TraceIdHasher>>;
type IdSet<K> = HashSet<K, BuildHasherDefault<TraceIdHasher>>;

/// The time of one pass of a stage, read from the clock only when a part is added or owners
/// wait to be swept. The modes that run the stages per span (`tracing`, OTel provider) pass
/// one record at a time, most of them needing neither (a model call that is its own root).
#[derive(Debug, Default)]
pub(crate) struct Now(Option<Instant>);

impl Now {
    pub(crate) fn get(&mut self) -> Instant {
        *self.0.get_or_insert_with(Instant::now)
    }
}

#[derive(Debug)]
struct Open<P> {
    parts: Vec<P>,
    touched: Instant,
}

/// Parts waiting for their owner (a trace id or a span id), and the owners already totalled.
#[derive(Debug)]
pub(crate) struct Pending<K, P> {
    open: IdMap<K, Open<P>>,
    closed: IdSet<K>,
    closed_order: VecDeque<K>,
    last_sweep: Option<Instant>,
}

impl<K, P> Default for Pending<K, P> {
    fn default() -> Self {
        Pending {
            open: IdMap::default(),
            closed: IdSet::default(),
            closed_order: VecDeque::new(),
            last_sweep: None,
        }
    }
}

impl<K: Copy + Eq + Hash + Ord, P> Pending<K, P> {
    /// Whether `owner` was totalled already (its late parts are not wanted).
    pub(crate) fn is_closed(&self, owner: K) -> bool {
        self.closed.contains(&owner)
    }

    /// Adds a part for `owner`, unless it was totalled already.
    pub(crate) fn add(&mut self, owner: K, part: P, now: Instant) {
        if self.is_closed(owner) {
            return;
        }
        let open = self.open.entry(owner).or_insert_with(|| Open {
            parts: Vec::new(),
            touched: now,
        });
        open.parts.push(part);
        open.touched = now;
    }

    /// The parts `owner` has, if it has any; it is then totalled (see [`Pending::close`]).
    pub(crate) fn take(&mut self, owner: K) -> Option<Vec<P>> {
        // Nothing open (the common case of a span with nothing below it): no hashing.
        if self.open.is_empty() {
            return None;
        }
        let parts = self.open.remove(&owner)?.parts;
        self.close(owner);
        Some(parts)
    }

    /// Marks `owner` as totalled: parts that come later are dropped.
    pub(crate) fn close(&mut self, owner: K) {
        if self.closed.insert(owner) {
            self.closed_order.push_back(owner);
            if self.closed_order.len() > CLOSED {
                if let Some(old) = self.closed_order.pop_front() {
                    self.closed.remove(&old);
                }
            }
        }
    }

    /// Forgets owners that never came: those untouched for `MAX_AGE`, then the oldest past
    /// `MAX_OPEN`.
    pub(crate) fn sweep(&mut self, now: &mut Now) {
        // Nothing to forget: no clock read.
        if self.open.is_empty() {
            return;
        }
        let now = now.get();
        let due = self
            .last_sweep
            .is_none_or(|t| now.duration_since(t) >= SWEEP_EVERY);
        if !due && self.open.len() <= MAX_OPEN {
            return;
        }
        self.last_sweep = Some(now);
        self.open
            .retain(|_, o| now.duration_since(o.touched) < MAX_AGE);
        if self.open.len() > MAX_OPEN {
            let mut by_age: Vec<(Instant, K)> =
                self.open.iter().map(|(id, o)| (o.touched, *id)).collect();
            by_age.sort_unstable();
            for (_, id) in &by_age[..self.open.len() - MAX_OPEN] {
                self.open.remove(id);
            }
        }
    }

    /// Owners with parts waiting.
    pub(crate) fn open_len(&self) -> usize {
        self.open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_after_the_total_are_dropped() {
        let mut p: Pending<u64, u32> = Pending::default();
        let now = Instant::now();
        p.add(1, 10, now);
        p.add(1, 11, now);
        assert_eq!(p.take(1), Some(vec![10, 11]));
        p.add(1, 12, now);
        assert!(p.is_closed(1));
        assert_eq!(p.take(1), None);
        assert_eq!(p.open_len(), 0);
        // An owner with no parts is totalled only when closed.
        assert_eq!(p.take(2), None);
        assert!(!p.is_closed(2));
        p.close(2);
        p.add(2, 20, now);
        assert_eq!(p.open_len(), 0);
    }

    #[test]
    fn old_and_excess_owners_are_forgotten() {
        let mut p: Pending<u128, ()> = Pending::default();
        let start = Instant::now();
        for id in 0..(MAX_OPEN as u128 + 10) {
            p.add(id, (), start + Duration::from_millis(id as u64));
        }
        p.sweep(&mut Now(Some(start)));
        assert_eq!(p.open_len(), MAX_OPEN);
        // The oldest went first.
        assert_eq!(p.take(0), None);
        assert_eq!(p.take(MAX_OPEN as u128 + 9), Some(vec![()]));
        p.sweep(&mut Now(Some(start + MAX_AGE + Duration::from_secs(60))));
        assert_eq!(p.open_len(), 0);
    }
}
