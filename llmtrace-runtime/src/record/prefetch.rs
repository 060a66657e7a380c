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
/// hint that never faults, and reads nothing the program can see. Elsewhere than on x86-64
/// processors with `PREFETCHW`, it does nothing.
#[inline(always)]
pub(crate) fn for_write(at: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    if x86::has_prefetchw() {
        for line in (0..len).step_by(64) {
            // SAFETY: the processor has `PREFETCHW` (checked above), which reads and writes
            // nothing the program can see and never faults.
            unsafe {
                std::arch::asm!(
                    "prefetchw [{0}]",
                    in(reg) at.wrapping_add(line),
                    options(nostack, preserves_flags, readonly)
                );
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (at, len);
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::sync::atomic::{AtomicU8, Ordering};

    const UNKNOWN: u8 = 0;
    const YES: u8 = 1;
    const NO: u8 = 2;

    static PREFETCHW: AtomicU8 = AtomicU8::new(UNKNOWN);

    /// Whether the processor has `PREFETCHW` (most x86-64 processors since 2014; older ones
    /// may not decode it).
    #[inline(always)]
    pub(super) fn has_prefetchw() -> bool {
        match PREFETCHW.load(Ordering::Relaxed) {
            YES => true,
            NO => false,
            _ => detect(),
        }
    }

    #[cold]
    fn detect() -> bool {
        use std::arch::x86_64::__cpuid;
        // CPUID leaf 0x8000_0001, ECX bit 8: PRFCHW (3DNowPrefetch), when the leaf exists.
        let has =
            __cpuid(0x8000_0000).eax >= 0x8000_0001 && __cpuid(0x8000_0001).ecx & (1 << 8) != 0;
        PREFETCHW.store(if has { YES } else { NO }, Ordering::Relaxed);
        has
    }
}
