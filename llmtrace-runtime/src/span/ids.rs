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
