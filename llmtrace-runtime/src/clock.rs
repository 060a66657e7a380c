//! Span timestamps: a monotonic clock read on the hot path, turned into wall-clock time once,
//! off the caller's thread, when the record is exported.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

static ANCHOR: OnceLock<(Instant, SystemTime)> = OnceLock::new();

#[inline]
fn anchor() -> &'static (Instant, SystemTime) {
    ANCHOR.get_or_init(|| (Instant::now(), SystemTime::now()))
}

/// Nanoseconds since the process's clock anchor.
#[inline]
pub(crate) fn now() -> u64 {
    let (start, _) = anchor();
    // A u64 of nanoseconds lasts 584 years.
    start.elapsed().as_nanos() as u64
}

/// Wall-clock time of a timestamp taken with [`now`].
pub(crate) fn to_system_time(ns: u64) -> SystemTime {
    anchor().1 + Duration::from_nanos(ns)
}
