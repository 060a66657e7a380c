//! The work of a scan, one piece at a time, in input order: for each input, the segments of its
//! cache that are valid, then its JSON from where they end, in blocks of whole lines.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

use super::{BLOCK_BYTES, Input, Problem, Reads};
use crate::cache::{self, Cache, Loaded, Update};

/// A chunk of whole lines from one input.
#[derive(Debug)]
pub(super) struct Block {
    pub(super) input: usize,
    /// Line number of the first line.
    pub(super) first_line: u64,
    pub(super) data: Vec<u8>,
    /// The input ended without a newline after this block's last line.
    pub(super) unterminated_end: bool,
    /// Newlines in `data`.
    pub(super) newlines: u64,
    /// Byte offset of `data` in the input.
    pub(super) offset: u64,
    /// The block's number among those of its input that go into the cache.
    pub(super) seq: usize,
    /// The block's whole lines go into the cache.
    pub(super) encode: bool,
}

/// One piece of work for a scan's workers.
#[derive(Debug)]
pub(super) enum Work {
    /// Lines to parse.
    Block(Block),
    /// Segment `index` of the cache of input `input`.
    Cached {
        input: usize,
        loaded: Arc<Loaded>,
        index: usize,
    },
}

/// The input being read as JSON.
struct Open {
    input: usize,
    reader: Box<dyn Read + Send>,
    /// Bytes read after the last newline, carried into the next block.
    carry: Vec<u8>,
    /// Offset of `carry` in the input.
    offset: u64,
    next_line: u64,
    encode: bool,
    seq: usize,
}

/// Hands out the work of a scan: opens the inputs one after the other, their caches first.
pub(super) struct Planner<'a> {
    inputs: &'a [Input],
    names: &'a [String],
    reads: Reads,
    use_cache: bool,
    /// Where each input's new segments go, if its cache is written.
    updates: &'a [Mutex<Option<Update>>],
    next_input: usize,
    current: Option<Open>,
    queued: VecDeque<Work>,
    pub(super) problems: Vec<Problem>,
    /// Per input, the blocks that went to its cache update.
    pub(super) encoded: Vec<usize>,
    /// Per input, its cache (its place, without its content).
    pub(super) caches: Vec<Option<Cache>>,
}

impl<'a> Planner<'a> {
    pub(super) fn new(
        inputs: &'a [Input],
        names: &'a [String],
        reads: Reads,
        use_cache: bool,
        updates: &'a [Mutex<Option<Update>>],
    ) -> Self {
        Planner {
            inputs,
            names,
            reads,
            use_cache,
            updates,
            next_input: 0,
            current: None,
            queued: VecDeque::new(),
            problems: Vec::new(),
            encoded: vec![0; inputs.len()],
            caches: (0..inputs.len()).map(|_| None).collect(),
        }
    }

    fn open_next(&mut self) -> bool {
        while self.next_input < self.inputs.len() {
            let i = self.next_input;
            self.next_input += 1;
            let opened = match &self.inputs[i] {
                Input::Stdin => Ok(self.json(i, Box::new(io::stdin()), 0, 1, false)),
                Input::File(p) => File::open(p).and_then(|f| self.open_file(i, p, f)),
            };
            match opened {
                Ok(open) => {
                    self.current = Some(open);
                    return true;
                }
                Err(e) => self.problems.push(Problem {
                    input: i,
                    file: self.names[i].clone(),
                    line: None,
                    message: format!("cannot open: {e}"),
                }),
            }
        }
        false
    }

    fn json(
        &self,
        input: usize,
        reader: Box<dyn Read + Send>,
        offset: u64,
        next_line: u64,
        encode: bool,
    ) -> Open {
        Open {
            input,
            reader,
            carry: Vec::new(),
            offset,
            next_line,
            encode,
            seq: 0,
        }
    }

    /// Plans a file: its cache's segments (queued), then its JSON from where they end; what is
    /// parsed goes into the cache unless the cache is valid and the command reads every span as
    /// written (then the JSON is read whole, and the cache left as it is).
    fn open_file(&mut self, i: usize, path: &std::path::Path, mut file: File) -> io::Result<Open> {
        let cache = if self.use_cache {
            cache::open(path, &mut file)
        } else {
            None
        };
        let mut start = (0, 1);
        let mut encode = false;
        if let Some(mut cache) = cache {
            // `None`: the cache is left as it is; `Some(base)`: it is written, after `base`.
            let update = match (cache.loaded.take(), self.reads) {
                (Some(_), Reads::Raw) => None,
                (Some(loaded), Reads::Facts | Reads::RawOfSomeTraces) => {
                    for index in 0..loaded.entries().len() {
                        self.queued.push_back(Work::Cached {
                            input: i,
                            loaded: loaded.clone(),
                            index,
                        });
                    }
                    start = (loaded.covered, loaded.lines + 1);
                    Some(Some(loaded))
                }
                (None, _) => Some(None),
            };
            if let (Some(base), Ok(handle)) = (update, file.try_clone()) {
                if let Ok(mut slot) = self.updates[i].lock() {
                    *slot = Some(Update::new(&cache, base, handle));
                    encode = true;
                }
            }
            self.caches[i] = Some(cache);
        }
        // Validating the cache moved the file's position.
        file.seek(SeekFrom::Start(start.0))?;
        Ok(self.json(i, Box::new(file), start.0, start.1, encode))
    }

    /// The input `open` is done: the number of its blocks is what its cache update awaits.
    fn finish(&mut self, open: &Open, failed: bool) {
        self.encoded[open.input] = open.seq;
        if failed {
            if let Ok(mut slot) = self.updates[open.input].lock() {
                if let Some(update) = slot.as_mut() {
                    update.fail();
                }
            }
        }
    }
}

impl Iterator for Planner<'_> {
    type Item = Work;

    fn next(&mut self) -> Option<Work> {
        loop {
            if let Some(w) = self.queued.pop_front() {
                return Some(w);
            }
            if self.current.is_none() && !self.open_next() {
                return None;
            }
            if let Some(w) = self.queued.pop_front() {
                return Some(w);
            }
            let mut open = self.current.take()?;
            let mut data = std::mem::take(&mut open.carry);
            let start = data.len();
            data.resize(start + BLOCK_BYTES, 0);
            let mut filled = start;
            let mut eof = false;
            let mut failed = false;
            // Fill the block (a pipe returns short reads).
            while filled < data.len() {
                match open.reader.read(&mut data[filled..]) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.problems.push(Problem {
                            input: open.input,
                            file: self.names[open.input].clone(),
                            line: Some(open.next_line),
                            message: format!("read error: {e}"),
                        });
                        eof = true;
                        failed = true;
                        break;
                    }
                }
            }
            data.truncate(filled);
            let mut block = Block {
                input: open.input,
                first_line: open.next_line,
                data,
                unterminated_end: false,
                newlines: 0,
                offset: open.offset,
                seq: open.seq,
                encode: open.encode,
            };
            if eof {
                if block.data.is_empty() {
                    self.finish(&open, failed);
                    continue;
                }
                block.unterminated_end = block.data.last() != Some(&b'\n');
                block.newlines = memchr::memchr_iter(b'\n', &block.data).count() as u64;
                open.seq += usize::from(open.encode);
                self.finish(&open, failed);
                return Some(Work::Block(block));
            }
            match memchr::memrchr(b'\n', &block.data) {
                Some(cut) => {
                    open.carry = block.data[cut + 1..].to_vec();
                    block.data.truncate(cut + 1);
                }
                None => {
                    // A line longer than a block: keep reading into it.
                    open.carry = block.data;
                    self.current = Some(open);
                    continue;
                }
            }
            block.newlines = memchr::memchr_iter(b'\n', &block.data).count() as u64;
            open.next_line += block.newlines;
            open.offset += block.data.len() as u64;
            open.seq += usize::from(open.encode);
            self.current = Some(open);
            return Some(Work::Block(block));
        }
    }
}
