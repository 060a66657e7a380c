//! Where captured content is kept between the caller's thread and the export worker, without
//! calling the allocator on the caller's thread.
//!
//! A box allocated on the application's thread and freed on the export worker is the costly
//! case for most allocators (glibc's among them): the freed memory lands in the worker's cache
//! and free lists, so the application's next allocation takes the slow path, under the arena's
//! lock the worker also takes. Measured with `perf` on the default-capture benchmark, that slow
//! path (`_int_malloc`) was about a third of the caller's cycles with two boxes per call.
//!
//! So each thread copies its captured content into a chunk of its own, one after the other, and
//! a [`Captured`](super::Captured) refers to its bytes in the chunk. A chunk is freed (or kept in
//! a small pool for the next chunk any thread starts) when the thread has moved on to another
//! chunk and every reference to it is gone.
//!
//! The reference count is kept so that the caller's thread does no atomic operation per
//! capture: it counts the references it hands out in a plain field, and adds that count to the
//! chunk's atomic counter once, when it retires the chunk. Each reference, when dropped (on the
//! worker, usually), subtracts one. Before retirement the counter is at most zero; after it,
//! the count of references still alive. Whoever brings it to zero after retirement frees the
//! chunk. (`bytes::Bytes` would make one atomic increment per capture on a counter the worker
//! decrements: a cache line moving between the cores every call.)
//!
//! Content larger than a quarter chunk gets a chunk of its own, retired at once with one
//! reference, as does content captured while the thread's locals are being destroyed.

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::Mutex;
use std::sync::atomic::{AtomicIsize, Ordering};

/// Bytes of content a shared chunk holds. Small, so that a long-lived span (a workflow whose
/// input stays captured while it runs) keeps little memory from being reused.
const CHUNK: usize = 8 * 1024;

/// Largest content stored in a shared chunk.
const SHARED_MAX: usize = CHUNK / 4;

/// Bytes past the end of the last content brought into the cache for the next.
const PREFETCHED: usize = 128;

/// Chunks kept for reuse, at most: 256 KiB.
const POOL_MAX: usize = 32;

/// The start of every chunk; the content follows.
#[repr(C)]
struct Header {
    /// See the module docs: minus the references dropped, plus (once retired) those issued.
    refs: AtomicIsize,
    /// Bytes of content after the header.
    size: usize,
}

fn layout(size: usize) -> Layout {
    Layout::new::<Header>()
        .extend(Layout::array::<u8>(size).expect("captured content is bounded"))
        .expect("captured content is bounded")
        .0
}

/// A pointer to a chunk.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Chunk(NonNull<Header>);

// SAFETY: a chunk is written by the one thread that owns it before any reference to its bytes
// is handed out, and only read afterwards; its counter is atomic. Moving the pointer between
// threads (into the pool, to the worker) is then sound.
unsafe impl Send for Chunk {}

impl Chunk {
    fn new(size: usize, refs: isize) -> Chunk {
        let layout = layout(size);
        // SAFETY: the layout is not zero-sized (it holds the header).
        let ptr = unsafe { alloc(layout) }.cast::<Header>();
        let Some(ptr) = NonNull::new(ptr) else {
            handle_alloc_error(layout)
        };
        // SAFETY: freshly allocated for a header and `size` bytes, aligned for the header.
        unsafe {
            ptr.as_ptr().write(Header {
                refs: AtomicIsize::new(refs),
                size,
            });
        }
        Chunk(ptr)
    }

    fn header(&self) -> &Header {
        // SAFETY: a chunk is alive while any `Chunk` to it is used (see the module docs).
        unsafe { self.0.as_ref() }
    }

    fn content(&self) -> *mut u8 {
        // SAFETY: the content starts right after the header, inside the allocation.
        unsafe { self.0.as_ptr().cast::<u8>().add(size_of::<Header>()) }
    }

    /// Adds `n` to the counter (`-1` for a dropped reference, the issued count at
    /// retirement); the one that brings it to zero frees the chunk.
    fn add_refs(self, n: isize) {
        // AcqRel: whoever frees the chunk sees every other holder's reads as done.
        let old = self.header().refs.fetch_add(n, Ordering::AcqRel);
        if old + n == 0 {
            self.free();
        }
    }

    fn free(self) {
        let size = self.header().size;
        if size == CHUNK {
            let mut pool = POOL
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if pool.len() < POOL_MAX {
                pool.push(self);
                return;
            }
        }
        // SAFETY: allocated in `new` with this layout; no reference is left.
        unsafe { dealloc(self.0.as_ptr().cast(), layout(size)) }
    }
}

/// Chunks whose references are all gone, kept for the next chunk a thread starts.
static POOL: Mutex<Vec<Chunk>> = Mutex::new(Vec::new());

/// The chunk a thread is filling.
struct Current {
    chunk: Cell<Option<Chunk>>,
    used: Cell<usize>,
    issued: Cell<isize>,
}

impl Current {
    /// Hands the chunk's issued references to its counter: the chunk is freed once they are
    /// all dropped.
    fn retire(&self) {
        if let Some(chunk) = self.chunk.take() {
            chunk.add_refs(self.issued.replace(0));
        }
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        self.retire();
    }
}

thread_local! {
    static CURRENT: Current = const {
        Current {
            chunk: Cell::new(None),
            used: Cell::new(0),
            issued: Cell::new(0),
        }
    };
}

/// Bytes of captured content, kept in a chunk (see the module docs).
pub(crate) struct Stored {
    chunk: Chunk,
    start: u32,
    len: u32,
}

// SAFETY: the bytes it refers to are never written again, and the chunk stays allocated until
// this reference is dropped (see `Chunk`).
unsafe impl Send for Stored {}
// SAFETY: as above; shared access only reads the bytes.
unsafe impl Sync for Stored {}

impl Stored {
    /// Copies `bytes` into the thread's chunk.
    pub(crate) fn new(bytes: &[u8]) -> Stored {
        if bytes.len() <= SHARED_MAX {
            if let Ok(stored) = CURRENT.try_with(|current| shared(current, bytes)) {
                return stored;
            }
        }
        own(bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `start..start + len` was written before this reference was made, inside the
        // chunk, which this reference keeps alive.
        unsafe {
            std::slice::from_raw_parts(
                self.chunk.content().add(self.start as usize),
                self.len as usize,
            )
        }
    }
}

/// Copies `bytes` into the thread's chunk, starting another one when they do not fit.
fn shared(current: &Current, bytes: &[u8]) -> Stored {
    let mut used = current.used.get();
    let chunk = match current.chunk.get() {
        Some(chunk) if used + bytes.len() <= CHUNK => chunk,
        _ => {
            current.retire();
            let pooled = POOL
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pop();
            let chunk = match pooled {
                Some(chunk) => {
                    // Freed at zero, and no one refers to it: the counter starts over.
                    chunk.header().refs.store(0, Ordering::Relaxed);
                    chunk
                }
                None => Chunk::new(CHUNK, 0),
            };
            current.chunk.set(Some(chunk));
            used = 0;
            chunk
        }
    };
    // SAFETY: `used + len <= CHUNK`: inside the chunk's content, past every byte handed out
    // (which is never written again).
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), chunk.content().add(used), bytes.len());
    }
    current.used.set(used + bytes.len());
    current.issued.set(current.issued.get() + 1);
    // Where the thread's next content goes: the worker read it the last time the chunk was used.
    super::super::prefetch::for_write(chunk.content().wrapping_add(used + bytes.len()), PREFETCHED);
    Stored {
        chunk,
        start: used as u32,
        len: bytes.len() as u32,
    }
}

/// A chunk of its own, retired at once with its one reference.
fn own(bytes: &[u8]) -> Stored {
    // Captured content is bounded far below 4 GiB (`capture::MAX_CAPTURE`); past it, cut
    // rather than fail.
    let bytes = &bytes[..bytes.len().min(u32::MAX as usize)];
    let chunk = Chunk::new(bytes.len(), 1);
    // SAFETY: the chunk's content holds `bytes.len()` bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), chunk.content(), bytes.len());
    }
    Stored {
        chunk,
        start: 0,
        len: bytes.len() as u32,
    }
}

impl Drop for Stored {
    fn drop(&mut self) {
        self.chunk.add_refs(-1);
    }
}

impl Clone for Stored {
    /// A copy in a chunk of its own: the thread that clones may not own the chunk.
    fn clone(&self) -> Self {
        own(self.bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_outlive_the_chunk_being_filled_and_the_thread() {
        // Fill several chunks with references that are dropped out of order, on other threads.
        let stored: Vec<Stored> = (0..2_000)
            .map(|i| Stored::new(format!("value {i:05}").repeat(i % 7 + 1).as_bytes()))
            .collect();
        let (even, odd): (Vec<_>, Vec<_>) = stored
            .into_iter()
            .enumerate()
            .partition(|(i, _)| i % 2 == 0);
        let odd = std::thread::spawn(move || {
            for (i, s) in &odd {
                assert_eq!(
                    s.bytes(),
                    format!("value {i:05}").repeat(i % 7 + 1).as_bytes()
                );
            }
            odd.len()
        });
        for (i, s) in &even {
            assert_eq!(
                s.bytes(),
                format!("value {i:05}").repeat(i % 7 + 1).as_bytes()
            );
        }
        drop(even);
        assert_eq!(odd.join().unwrap(), 1_000);

        // Captured on a thread that ends before its content is read.
        let kept = std::thread::spawn(|| (Stored::new(b"small"), Stored::new(&[7; 5_000])))
            .join()
            .unwrap();
        assert_eq!(kept.0.bytes(), b"small");
        assert_eq!(kept.1.bytes(), &[7; 5_000][..]);
        let copy = kept.0.clone();
        drop(kept);
        assert_eq!(copy.bytes(), b"small");
    }
}
