//! The cache: for each trace file, what the scan extracted from its whole lines, kept next to
//! it so that a repeated query skips the JSON.
//!
//! A trace file `dir/x.jsonl` has its cache in `dir/.llmtrace/<device>-<inode>.idx`. Keyed by
//! the file's identity rather than its name, because the JSONL exporter rotates by renaming
//! (`x.jsonl` becomes `x.1.jsonl`, which becomes `x.2.jsonl`): a rotated file keeps its cache.
//!
//! A cache file is a sequence of segments ([`segment`]), one per block of whole lines the scan
//! parsed, then their directory and a fixed-size trailer:
//!
//! ```text
//! "LLMTIDX\n"                                   8 bytes
//! segment bodies                                one after the other
//! directory                                     per segment: DIR_ENTRY_BYTES, below
//! trailer                                       TRAILER_BYTES: magic, build, identity, covered
//!                                               bytes and lines, hashes of the source's first and
//!                                               last covered bytes, directory place, checksums
//! ```
//!
//! The file is used only when all of this holds: the build that wrote it is this one (a hash
//! of the code that decides what is stored, so any change to it makes old caches stale); the
//! source is the same file (device and inode), at least as long as the bytes covered, and its
//! first and last covered bytes hash as they did; the trailer and the directory match their
//! checksums and the segments cover the source contiguously. Otherwise it is rebuilt from the
//! JSON. Each segment is read only when it is decoded (memory never holds a whole cache) and
//! checked against its checksum then: a damaged one is read from the JSON instead, and the
//! cache is removed, to be rebuilt by the next scan.
//!
//! The source is append-only: when it grew, the new whole lines are parsed and their segments
//! appended (the file is written again, to a temporary file renamed over the old one, so a
//! reader never sees half a cache). A last line without its newline (a writer still appending)
//! is never cached. A cache that cannot be written (read-only directory, full disk) is simply
//! not written.

pub(crate) mod segment;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::hash::hash64;

/// The directory next to the trace files that holds their caches.
pub(crate) const DIR: &str = ".llmtrace";

const MAGIC: &[u8; 8] = b"LLMTIDX\n";
const TRAILER_MAGIC: &[u8; 8] = b"LLMTEND\n";
const DIR_ENTRY_BYTES: usize = 9 * 8;
const TRAILER_BYTES: usize = 12 * 8;
/// Bytes of the source hashed at each end of the part covered.
const ENDS_BYTES: u64 = 4096;

/// Identifies the code that decides what a cache holds: the reading of a line and of a span,
/// the encoding, the hash (of the repeat keys), the output helpers (`loops`' excerpt is stored
/// cut). A change to any of them changes this, and old caches are rebuilt instead of misread;
/// nobody has to remember to bump a version.
fn build_id() -> u64 {
    let parts: [&str; 8] = [
        env!("CARGO_PKG_VERSION"),
        include_str!("segment.rs"),
        include_str!("mod.rs"),
        include_str!("../source/parse.rs"),
        include_str!("../span.rs"),
        include_str!("../otlp.rs"),
        include_str!("../hash.rs"),
        include_str!("../out.rs"),
    ];
    parts
        .iter()
        .fold(0, |h, p| hash64(p.as_bytes(), h ^ p.len() as u64))
}

/// What identifies a file across renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
}

#[cfg(unix)]
fn identity(meta: &fs::Metadata, _path: &Path) -> Identity {
    use std::os::unix::fs::MetadataExt;
    Identity {
        dev: meta.dev(),
        ino: meta.ino(),
    }
}

/// Without inodes, the file's name stands in (a rotated file is then read again once).
#[cfg(not(unix))]
fn identity(_meta: &fs::Metadata, path: &Path) -> Identity {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    Identity {
        dev: 0,
        ino: hash64(name.as_bytes(), 0),
    }
}

/// One segment, as the directory lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Where the body is in the cache file, and its length.
    body_offset: u64,
    body_len: u64,
    /// [`hash64`] of the body.
    checksum: u64,
    /// The source bytes the segment covers: `source_start..source_end`, whole lines.
    pub(crate) source_start: u64,
    pub(crate) source_end: u64,
    /// The number of the first line.
    pub(crate) first_line: u64,
    /// Newlines in the bytes covered.
    pub(crate) newlines: u64,
    /// Non-blank lines (what the scan counts as lines read).
    pub(crate) nonblank_lines: u64,
    /// Spans.
    pub(crate) spans: u64,
}

impl Entry {
    fn write(&self, out: &mut Vec<u8>) {
        for v in [
            self.body_offset,
            self.body_len,
            self.checksum,
            self.source_start,
            self.source_end,
            self.first_line,
            self.newlines,
            self.nonblank_lines,
            self.spans,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }

    fn read(b: &[u8]) -> Entry {
        let v = |i: usize| le(&b[i * 8..i * 8 + 8]);
        Entry {
            body_offset: v(0),
            body_len: v(1),
            checksum: v(2),
            source_start: v(3),
            source_end: v(4),
            first_line: v(5),
            newlines: v(6),
            nonblank_lines: v(7),
            spans: v(8),
        }
    }
}

fn le(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// A segment just built, to be written.
#[derive(Debug)]
pub(crate) struct Segment {
    /// What [`segment::SegmentBuilder::finish`] made.
    pub(crate) body: Vec<u8>,
    /// The source bytes the segment covers: `source_start..source_end`, whole lines.
    pub(crate) source_start: u64,
    pub(crate) source_end: u64,
    /// The number of the first line.
    pub(crate) first_line: u64,
    /// Newlines in the bytes covered.
    pub(crate) newlines: u64,
    /// Non-blank lines.
    pub(crate) nonblank_lines: u64,
    /// Spans.
    pub(crate) spans: u64,
}

/// A valid cache: its directory, read; its segments are read one at a time, when they are
/// decoded, so memory never holds the whole cache.
#[derive(Debug)]
pub(crate) struct Loaded {
    file: Mutex<File>,
    entries: Vec<Entry>,
    /// End of the segments' bodies (where the directory starts).
    bodies_end: u64,
    /// Source bytes covered: whole lines, from the start.
    pub(crate) covered: u64,
    /// Lines (newlines) in the bytes covered.
    pub(crate) lines: u64,
}

impl Loaded {
    /// The segments, in source order.
    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The body of segment `i`, read and checked against its checksum.
    pub(crate) fn body(&self, i: usize) -> Result<Vec<u8>, segment::Corrupt> {
        let e = self.entries.get(i).ok_or(segment::Corrupt)?;
        let mut body = vec![0; usize::try_from(e.body_len).map_err(|_| segment::Corrupt)?];
        let mut file = self.file.lock().map_err(|_| segment::Corrupt)?;
        file.seek(SeekFrom::Start(e.body_offset))
            .and_then(|_| file.read_exact(&mut body))
            .map_err(|_| segment::Corrupt)?;
        drop(file);
        if hash64(&body, 0) != e.checksum {
            return Err(segment::Corrupt);
        }
        Ok(body)
    }
}

/// The cache of one trace file: where it lives and, when it is valid, what it holds.
#[derive(Debug)]
pub(crate) struct Cache {
    path: PathBuf,
    identity: Identity,
    /// The cache's content, when it is there and valid for the source.
    pub(crate) loaded: Option<Arc<Loaded>>,
}

/// The cache of `source` (opened from `path`); `None` when the source cannot have one (not a
/// regular file).
pub(crate) fn open(path: &Path, source: &mut File) -> Option<Cache> {
    let meta = source.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let identity = identity(&meta, path);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(DIR),
        _ => PathBuf::from(DIR),
    };
    let cache_path = dir.join(format!("{:x}-{:x}.idx", identity.dev, identity.ino));
    let loaded = File::open(&cache_path)
        .ok()
        .and_then(|file| validate(file, identity, meta.len(), source))
        .map(Arc::new);
    Some(Cache {
        path: cache_path,
        identity,
        loaded,
    })
}

/// The hash of the `ENDS_BYTES` at each end of the first `covered` bytes of `source`.
fn ends_hashes(source: &mut File, covered: u64) -> io::Result<(u64, u64)> {
    let n = covered.min(ENDS_BYTES);
    let mut buf = vec![0u8; n as usize];
    source.seek(SeekFrom::Start(0))?;
    source.read_exact(&mut buf)?;
    let head = hash64(&buf, covered);
    source.seek(SeekFrom::Start(covered - n))?;
    source.read_exact(&mut buf)?;
    let tail = hash64(&buf, covered);
    Ok((head, tail))
}

fn read_at(file: &mut File, offset: u64, len: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0; len];
    file.seek(SeekFrom::Start(offset)).ok()?;
    file.read_exact(&mut buf).ok()?;
    Some(buf)
}

/// `file` as a cache of `source`, if its trailer and directory check (each segment is checked
/// when it is read).
fn validate(
    mut file: File,
    identity: Identity,
    source_len: u64,
    source: &mut File,
) -> Option<Loaded> {
    let len = file.metadata().ok()?.len();
    if len < (MAGIC.len() + TRAILER_BYTES) as u64 || read_at(&mut file, 0, MAGIC.len())? != MAGIC {
        return None;
    }
    let t = read_at(&mut file, len - TRAILER_BYTES as u64, TRAILER_BYTES)?;
    let field = |i: usize| le(&t[i * 8..]);
    if &t[..8] != TRAILER_MAGIC || hash64(&t[..TRAILER_BYTES - 8], 0) != field(11) {
        return None;
    }
    let (build, dev, ino, covered, lines) = (field(1), field(2), field(3), field(4), field(5));
    let (head, tail, dir_offset, count, dir_checksum) =
        (field(6), field(7), field(8), field(9), field(10));
    if build != build_id() || (Identity { dev, ino }) != identity || covered > source_len {
        return None;
    }
    if ends_hashes(source, covered).ok()? != (head, tail) {
        return None;
    }
    let dir_len = count.checked_mul(DIR_ENTRY_BYTES as u64)?;
    if dir_offset < MAGIC.len() as u64
        || dir_offset.checked_add(dir_len)? != len - TRAILER_BYTES as u64
    {
        return None;
    }
    let dir = read_at(&mut file, dir_offset, usize::try_from(dir_len).ok()?)?;
    if hash64(&dir, 0) != dir_checksum {
        return None;
    }
    let entries: Vec<Entry> = dir.chunks_exact(DIR_ENTRY_BYTES).map(Entry::read).collect();
    // The segments cover the source from its start, contiguously, to `covered`; their bodies
    // lie one after the other before the directory.
    let mut source_at = 0;
    let mut line_at = 1;
    let mut body_at = MAGIC.len() as u64;
    for e in &entries {
        if e.source_start != source_at
            || e.source_end <= e.source_start
            || e.first_line != line_at
            || e.body_offset != body_at
        {
            return None;
        }
        source_at = e.source_end;
        line_at = e.first_line.checked_add(e.newlines)?;
        body_at = e.body_offset.checked_add(e.body_len)?;
    }
    if source_at != covered || line_at != lines.checked_add(1)? || body_at != dir_offset {
        return None;
    }
    Some(Loaded {
        file: Mutex::new(file),
        entries,
        bodies_end: dir_offset,
        covered,
        lines,
    })
}

/// Removes a cache found damaged while it was read.
pub(crate) fn discard(cache: &Cache) {
    let _ = fs::remove_file(&cache.path);
}

/// A cache being written: the segments kept from the old one, then the new ones, in source
/// order whatever order they are built in.
#[derive(Debug)]
pub(crate) struct Update {
    path: PathBuf,
    identity: Identity,
    base: Option<Arc<Loaded>>,
    /// A handle on the source, to hash the ends of the part covered when done.
    source: File,
    /// Open once the first segment with lines arrives: a source that did not grow by a whole
    /// line leaves the old cache as it is.
    out: Option<Open>,
    next: usize,
    waiting: BTreeMap<usize, Option<Segment>>,
    failed: bool,
}

#[derive(Debug)]
struct Open {
    tmp: PathBuf,
    file: BufWriter<File>,
    /// Bytes written so far.
    written: u64,
    entries: Vec<Entry>,
    /// Where the next segment must start in the source, and its first line.
    next_source: u64,
    next_line: u64,
}

impl Open {
    fn start(&mut self, base: Option<&Loaded>) -> io::Result<()> {
        self.file.write_all(MAGIC)?;
        self.written = MAGIC.len() as u64;
        if let Some(base) = base {
            // The kept bodies go first, where they were: their directory entries stay valid.
            let mut old = base
                .file
                .lock()
                .map_err(|_| io::Error::other("cache file lock poisoned"))?;
            old.seek(SeekFrom::Start(MAGIC.len() as u64))?;
            let want = base.bodies_end - MAGIC.len() as u64;
            if io::copy(&mut (&mut *old).take(want), &mut self.file)? != want {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.written = base.bodies_end;
            self.entries = base.entries.clone();
            self.next_source = base.covered;
            self.next_line = base.lines + 1;
        }
        Ok(())
    }

    fn discard(self) {
        drop(self.file);
        let _ = fs::remove_file(&self.tmp);
    }
}

impl Update {
    /// An update of `cache`: after the segments of `base` (its content, when valid), the
    /// segments of the source from where they end.
    pub(crate) fn new(cache: &Cache, base: Option<Arc<Loaded>>, source: File) -> Update {
        Update {
            path: cache.path.clone(),
            identity: cache.identity,
            base,
            source,
            out: None,
            next: 0,
            waiting: BTreeMap::new(),
            failed: false,
        }
    }

    /// Segment number `seq` of the new ones; `None` for a block without a whole line.
    pub(crate) fn add(&mut self, seq: usize, segment: Option<Segment>) {
        if self.failed {
            return;
        }
        self.waiting.insert(seq, segment);
        while let Some(segment) = self.waiting.remove(&self.next) {
            self.next += 1;
            if let Some(s) = segment {
                if self.write(s).is_err() {
                    self.fail();
                    return;
                }
            }
        }
    }

    /// Gives up: nothing is written.
    pub(crate) fn fail(&mut self) {
        self.failed = true;
        self.waiting.clear();
        if let Some(open) = self.out.take() {
            open.discard();
        }
    }

    fn write(&mut self, s: Segment) -> io::Result<()> {
        if self.out.is_none() {
            self.out = Some(self.create()?);
        }
        let Some(open) = self.out.as_mut() else {
            return Ok(());
        };
        if s.source_start != open.next_source || s.first_line != open.next_line {
            return Err(io::Error::other("segments out of order"));
        }
        open.file.write_all(&s.body)?;
        open.entries.push(Entry {
            body_offset: open.written,
            body_len: s.body.len() as u64,
            checksum: hash64(&s.body, 0),
            source_start: s.source_start,
            source_end: s.source_end,
            first_line: s.first_line,
            newlines: s.newlines,
            nonblank_lines: s.nonblank_lines,
            spans: s.spans,
        });
        open.written += s.body.len() as u64;
        open.next_source = s.source_end;
        open.next_line = s.first_line + s.newlines;
        Ok(())
    }

    /// The temporary file, with the magic and the kept segments written.
    fn create(&self) -> io::Result<Open> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_dir(dir)?;
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        // The process id and a per-process counter: two scans of one file (the same file named
        // twice, or two processes) never write the same temporary file.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!("{name}.tmp.{}.{n}", std::process::id()));
        let mut open = Open {
            file: BufWriter::with_capacity(1 << 20, File::create(&tmp)?),
            tmp,
            written: 0,
            entries: Vec::new(),
            next_source: 0,
            next_line: 1,
        };
        match open.start(self.base.as_deref()) {
            Ok(()) => Ok(open),
            Err(e) => {
                open.discard();
                Err(e)
            }
        }
    }

    /// Writes the directory and the trailer and puts the new cache in place; `expected` is the
    /// number of new segments the scan made.
    pub(crate) fn commit(mut self, expected: usize) {
        if self.failed || self.next != expected {
            self.fail();
            return;
        }
        let Some(mut open) = self.out.take() else {
            return;
        };
        let result = (|| {
            let mut dir = Vec::with_capacity(open.entries.len() * DIR_ENTRY_BYTES);
            for e in &open.entries {
                e.write(&mut dir);
            }
            let (head, tail) = ends_hashes(&mut self.source, open.next_source)?;
            let mut t = Vec::with_capacity(TRAILER_BYTES);
            t.extend_from_slice(TRAILER_MAGIC);
            for v in [
                build_id(),
                self.identity.dev,
                self.identity.ino,
                open.next_source,
                open.next_line - 1,
                head,
                tail,
                open.written,
                open.entries.len() as u64,
                hash64(&dir, 0),
            ] {
                t.extend_from_slice(&v.to_le_bytes());
            }
            let checksum = hash64(&t, 0);
            t.extend_from_slice(&checksum.to_le_bytes());
            open.file.write_all(&dir)?;
            open.file.write_all(&t)?;
            open.file.flush()?;
            fs::rename(&open.tmp, &self.path)
        })();
        if result.is_err() {
            open.discard();
            return;
        }
        if let Some(dir) = self.path.parent() {
            collect_garbage(dir);
        }
    }
}

/// Creates the cache directory, marked so that version control and backups leave it out.
fn create_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    match fs::create_dir(dir) {
        Ok(()) => {
            let _ = fs::write(
                dir.join(".gitignore"),
                "# llmtrace's cache of the trace files next to it\n*\n",
            );
            let _ = fs::write(
                dir.join("CACHEDIR.TAG"),
                "Signature: 8a477f597d28d172789f06886806bc55\n# llmtrace's cache of the trace files next to it (https://bford.info/cachedir/)\n",
            );
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Removes the caches of files that are gone from the directory above, and temporary files a
/// killed process left (older than an hour: another process may be writing a younger one).
#[cfg(unix)]
fn collect_garbage(cache_dir: &Path) {
    use std::collections::HashSet;
    use std::os::unix::fs::{DirEntryExt, MetadataExt};

    let Some(parent) = cache_dir.parent() else {
        return;
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    // A file named through a symbolic link has the cache of the file linked to.
    let inodes: HashSet<u64> = entries
        .flatten()
        .flat_map(|e| {
            let linked = e
                .file_type()
                .is_ok_and(|t| t.is_symlink())
                .then(|| fs::metadata(e.path()).ok().map(|m| m.ino()))
                .flatten();
            [Some(e.ino()), linked].into_iter().flatten()
        })
        .collect();
    let Ok(caches) = fs::read_dir(cache_dir) else {
        return;
    };
    for entry in caches.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stale = if let Some(key) = name.strip_suffix(".idx") {
            key.split_once('-')
                .and_then(|(_, ino)| u64::from_str_radix(ino, 16).ok())
                .is_some_and(|ino| !inodes.contains(&ino))
        } else if name.contains(".idx.tmp.") {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600)
        } else {
            false
        };
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(not(unix))]
fn collect_garbage(_cache_dir: &Path) {}
