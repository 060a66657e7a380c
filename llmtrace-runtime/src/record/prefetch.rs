//! Bringing memory the export worker last read back into the caller's cache before it is
//! written.
//!
//! The caller writes records into ring slots, and captured content into chunks, that the export
//! worker read the last time round: their cache lines are in the worker's cache, and a write
//! there stalls until they are taken back. With `perf`, copying the record into its slot was
//! half of a span's time on the caller. Asked for one span ahead, the lines arrive while the
//! application runs.

/// Asks the processor to bring the `len` bytes at `at` into this core's cache, for writing.
///
/// `at` need not point into an allocation (one past the end of a ring, say): a prefetch is a
/// hint that never faults, and reads nothing the program can see.
#[inline(always)]
pub(crate) fn for_write(at: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    for line in (0..len).step_by(64) {
        // SAFETY: `prefetchw` reads and writes nothing the program can see and never faults;
        // processors without it execute it as a no-op.
        unsafe {
            std::arch::asm!(
                "prefetchw [{0}]",
                in(reg) at.wrapping_add(line),
                options(nostack, preserves_flags, readonly)
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (at, len);
}
