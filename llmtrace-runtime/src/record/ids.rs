//! Trace and span ids, drawn from the thread-local generator of `fastrand` (wyrand).

/// A new non-zero span id.
#[inline]
pub(crate) fn new_span_id() -> u64 {
    loop {
        let id = fastrand::u64(..);
        if id != 0 {
            return id;
        }
    }
}

/// A new non-zero trace id.
#[inline]
pub(crate) fn new_trace_id() -> u128 {
    (u128::from(fastrand::u64(..)) << 64) | u128::from(new_span_id())
}

/// Hashes a trace id by its low bits: ids are random, so they need no mixing (SipHash over
/// every root was a visible share of the export thread's time).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TraceIdHasher(u64);

impl std::hash::Hasher for TraceIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u128(&mut self, id: u128) {
        self.0 = id as u64;
    }
}

/// A map keyed by trace id.
pub(crate) type TraceMap<V> =
    std::collections::HashMap<u128, V, std::hash::BuildHasherDefault<TraceIdHasher>>;
