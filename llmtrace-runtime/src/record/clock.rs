//! Span timestamps. The hot path reads the CPU's time-stamp counter (through `quanta`, which
//! calibrates it against the OS monotonic clock and falls back to that clock where the counter
//! is not invariant); records keep the raw reading, and turning it into wall-clock time happens
//! once, off the caller's thread, when the record is exported.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

struct Anchor {
    clock: quanta::Clock,
    raw: u64,
    wall: SystemTime,
    /// `wall` in nanoseconds since the Unix epoch (0 for a clock set before it).
    unix_nanos: u64,
}

static ANCHOR: OnceLock<Anchor> = OnceLock::new();

fn anchor() -> &'static Anchor {
    ANCHOR.get_or_init(|| {
        // Calibration takes a few milliseconds: `install` pays it, not the first span.
        let clock = quanta::Clock::new();
        let raw = clock.raw();
        let wall = SystemTime::now();
        Anchor {
            clock,
            raw,
            wall,
            unix_nanos: wall
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
        }
    })
}

/// Calibrates the clock (at install, off the hot path).
pub(crate) fn init() {
    anchor();
}

/// A raw timestamp; only meaningful to [`to_system_time`] and [`nanos_between`].
#[inline]
pub(crate) fn now() -> u64 {
    anchor().clock.raw()
}

/// Wall-clock time of a raw timestamp.
pub(crate) fn to_system_time(raw: u64) -> SystemTime {
    let a = anchor();
    a.wall + Duration::from_nanos(a.clock.delta_as_nanos(a.raw, raw))
}

/// Wall-clock time of a raw timestamp, in nanoseconds since the Unix epoch.
pub(crate) fn to_unix_nanos(raw: u64) -> u64 {
    let a = anchor();
    a.unix_nanos
        .saturating_add(a.clock.delta_as_nanos(a.raw, raw))
}

/// Nanoseconds from `start` to `end` (zero if `end` is not after `start`).
#[allow(dead_code)]
pub(crate) fn nanos_between(start: u64, end: u64) -> u64 {
    anchor().clock.delta_as_nanos(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_timestamps_convert_to_wall_clock_time() {
        init();
        let before = SystemTime::now();
        let a = now();
        std::thread::sleep(Duration::from_millis(20));
        let b = now();
        let after = SystemTime::now();
        let elapsed = nanos_between(a, b);
        assert!((15_000_000..200_000_000).contains(&elapsed), "{elapsed} ns");
        let (ta, tb) = (to_system_time(a), to_system_time(b));
        let unix = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
        assert_eq!((to_unix_nanos(a), to_unix_nanos(b)), (unix(ta), unix(tb)));
        assert!(tb > ta);
        let slack = Duration::from_millis(5);
        assert!(
            ta + slack >= before && tb <= after + slack,
            "{ta:?} {tb:?} vs {before:?} {after:?}"
        );
    }
}
