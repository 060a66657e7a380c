//! Where spans come from: the JSONL files llmtrace writes (rotated ones too), any OTLP/JSON
//! lines file, a directory of them, or stdin; and how they are read: in blocks of whole lines,
//! parsed in parallel, each span handed to a command's accumulator as soon as it is parsed, so
//! memory holds a few blocks and what the command keeps, never a whole file.
//!
//! A line that cannot be used is reported with its file and line number, and the rest is read:
//! a truncated last line (a writer still appending), a line that is not JSON, a JSON line that
//! is not OTLP traces, an attribute of a type this reader does not know.
//!
//! A file's whole lines are parsed once: their facts and problems go into its cache (see
//! [`crate::cache`]), and the next scan reads the cache, then the JSON of the lines appended
//! since. Every command gets the same spans and the same problems either way.

mod parse;
mod read;

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::iter::{ParallelBridge, ParallelIterator};

use crate::cache::segment::{self, SegmentBuilder};
use crate::cache::{self, Segment, Update};
use crate::span::SpanFacts;
use parse::parse_block;
use read::{Block, Planner, Work};

/// The file llmtrace's JSONL exporter writes by default, in the current directory.
pub(crate) const DEFAULT_FILE: &str = "llmtrace-traces.jsonl";

/// Bytes read at a time from one input; each block is parsed by one thread (and is one segment
/// of the input's cache). Small in unit tests, so that a few lines make many blocks.
const BLOCK_BYTES: usize = if cfg!(test) { 4 << 10 } else { 4 << 20 };

/// Problems printed per file; the rest are counted.
const PROBLEMS_SHOWN_PER_FILE: usize = 5;

/// What to read, and whether the cache may be used.
#[derive(Debug, Clone)]
pub(crate) struct Inputs {
    /// The inputs, in order.
    pub(crate) list: Vec<Input>,
    /// Read and update the files' caches (`--no-cache` turns it off; stdin never has one).
    pub(crate) cache: bool,
}

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    /// A file.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::File(p) => write!(f, "{}", p.display()),
            Input::Stdin => f.write_str("<stdin>"),
        }
    }
}

/// Something wrong with the input: which file, which line, what.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Problem {
    /// Index of the input in the list read (for ordering).
    pub(crate) input: usize,
    /// The file's name as given.
    pub(crate) file: String,
    /// 1-based line number, when the problem is one line's.
    pub(crate) line: Option<u64>,
    /// What is wrong, in one line.
    pub(crate) message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// What a scan read, and what went wrong.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Lines read (blank lines excluded).
    pub(crate) lines: u64,
    /// Spans handed to the command.
    pub(crate) spans: u64,
    /// Every problem, in file and line order.
    pub(crate) problems: Vec<Problem>,
}

impl Report {
    /// Prints the problems on stderr, at most a few per file, each on one line.
    pub(crate) fn print_problems(&self) {
        let mut shown_for: Option<usize> = None;
        let mut shown = 0;
        let mut hidden: Vec<(String, usize)> = Vec::new();
        for p in &self.problems {
            if shown_for != Some(p.input) {
                shown_for = Some(p.input);
                shown = 0;
            }
            if shown < PROBLEMS_SHOWN_PER_FILE {
                eprintln!("llmtrace: {p}");
            } else {
                match hidden.last_mut() {
                    Some((file, n)) if *file == p.file => *n += 1,
                    _ => hidden.push((p.file.clone(), 1)),
                }
            }
            shown += 1;
        }
        for (file, n) in hidden {
            eprintln!("llmtrace: {file}: {n} more problems not shown");
        }
    }
}

/// The inputs named on the command line: files, directories (their `*.jsonl` and `*.json`
/// files), `-` for stdin; with none, llmtrace's file in the current directory and its rotated
/// files. Rotated files (`x.2.jsonl`, `x.1.jsonl`, `x.jsonl`) are read oldest first. Paths that
/// do not exist are problems, not inputs.
pub(crate) fn resolve(args: &[PathBuf]) -> (Vec<Input>, Vec<Problem>) {
    let mut inputs = Vec::new();
    let mut problems = Vec::new();
    if args.is_empty() {
        let files = rotated_set(Path::new("."), DEFAULT_FILE);
        if files.is_empty() {
            problems.push(Problem {
                input: 0,
                file: DEFAULT_FILE.to_owned(),
                line: None,
                message: "not found in the current directory (run an app traced with llmtrace here, or name files, a directory, or - for stdin)".to_owned(),
            });
        }
        inputs.extend(files.into_iter().map(Input::File));
        return (inputs, problems);
    }
    for (i, arg) in args.iter().enumerate() {
        if arg.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if arg.is_dir() {
            let files = dir_files(arg);
            if files.is_empty() {
                problems.push(Problem {
                    input: i,
                    file: arg.display().to_string(),
                    line: None,
                    message: "directory holds no .jsonl or .json file".to_owned(),
                });
            }
            inputs.extend(files.into_iter().map(Input::File));
        } else if arg.exists() {
            inputs.push(Input::File(arg.clone()));
        } else {
            problems.push(Problem {
                input: i,
                file: arg.display().to_string(),
                line: None,
                message: "no such file".to_owned(),
            });
        }
    }
    (inputs, problems)
}

/// `name` in `dir` and its rotated files, oldest first.
fn rotated_set(dir: &Path, name: &str) -> Vec<PathBuf> {
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    let mut found: Vec<(u64, PathBuf)> = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if file_name == name {
            found.push((0, entry.path()));
        } else if let Some(n) = file_name
            .strip_prefix(stem)
            .and_then(|r| r.strip_prefix('.'))
            .and_then(|r| r.strip_suffix(ext))
            .and_then(|r| r.strip_suffix('.'))
            .and_then(|n| n.parse::<u64>().ok())
        {
            found.push((n, entry.path()));
        }
    }
    // Highest rotation number first: the oldest spans.
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.into_iter().map(|(_, p)| strip_dot(p)).collect()
}

/// `./x` → `x`, so messages name files as a user would.
fn strip_dot(p: PathBuf) -> PathBuf {
    p.strip_prefix(".").map(Path::to_path_buf).unwrap_or(p)
}

/// The trace files in a directory, each rotated set oldest first, sets by name.
fn dir_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut bases: Vec<String> = Vec::new();
    let mut loose: Vec<PathBuf> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        if !path.is_file() || !(name.ends_with(".jsonl") || name.ends_with(".json")) {
            continue;
        }
        // `x.3.jsonl` belongs to the set of `x.jsonl`.
        let (stem, ext) = name.rsplit_once('.').unwrap_or((&name, ""));
        match stem.rsplit_once('.') {
            Some((base, n)) if n.parse::<u64>().is_ok() => bases.push(format!("{base}.{ext}")),
            _ => bases.push(name.clone()),
        }
        loose.push(path);
    }
    bases.sort();
    bases.dedup();
    let mut files = Vec::new();
    for base in bases {
        for f in rotated_set(dir, &base) {
            if !files.contains(&f) {
                files.push(f);
            }
        }
    }
    files
}

/// What an accumulator reads of each span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reads {
    /// The facts the cache keeps: spans may come from the cache (`SpanFacts::raw` is `None`).
    Facts,
    /// The span as written, every span (`--where` looks at any attribute): the JSON is read.
    Raw,
    /// The span as written, of the traces [`Accumulator::takes_trace`] takes only (`show`,
    /// `diff`): with a valid cache, only the lines that hold them are read again.
    RawOfSomeTraces,
}

/// A command's state while spans stream in: each parallel worker fills its own, and the
/// states are merged at the end (so every accumulator is order-independent).
pub(crate) trait Accumulator: Send {
    /// Takes one span in.
    fn add(&mut self, span: &SpanFacts<'_>);
    /// Takes in what another worker gathered.
    fn merge(&mut self, other: Self);
    /// What `add` reads of a span.
    fn reads(&self) -> Reads {
        Reads::Facts
    }
    /// With [`Reads::RawOfSomeTraces`], whether `add` wants the spans of trace `trace_id`. A
    /// hint for the reading: `add` may still be given spans of other traces.
    fn takes_trace(&self, _trace_id: u128) -> bool {
        true
    }
}

/// Reads `inputs` and hands every span to an accumulator of type `A`, in parallel; returns
/// the merged accumulator and what was read. The caches of the files are read and brought up
/// to date on the way.
pub(crate) fn scan<A: Accumulator>(
    inputs: &Inputs,
    mut problems: Vec<Problem>,
    new: impl Fn() -> A + Sync + Send,
) -> (A, Report) {
    let list = &inputs.list[..];
    let names: Vec<String> = list.iter().map(ToString::to_string).collect();
    let updates: Vec<Mutex<Option<Update>>> = list.iter().map(|_| Mutex::new(None)).collect();
    let broken: Vec<AtomicBool> = list.iter().map(|_| AtomicBool::new(false)).collect();
    let reads = new().reads();
    let planner = Mutex::new(Planner::new(list, &names, reads, inputs.cache, &updates));
    let work = std::iter::from_fn(|| planner.lock().ok()?.next());
    let worker = Worker {
        inputs: list,
        names: &names,
        reads,
        updates: &updates,
        broken: &broken,
    };
    let (acc, mut report) = work
        .par_bridge()
        .fold(
            || (new(), Report::default()),
            |(mut acc, mut report), w| {
                worker.run(w, &mut acc, &mut report);
                (acc, report)
            },
        )
        .reduce(
            || (new(), Report::default()),
            |(mut a, mut ra), (b, rb)| {
                a.merge(b);
                ra.lines += rb.lines;
                ra.spans += rb.spans;
                ra.problems.extend(rb.problems);
                (a, ra)
            },
        );
    if let Ok(planner) = planner.into_inner() {
        problems.extend(planner.problems);
        for (i, update) in updates.iter().enumerate() {
            let Some(mut update) = update.lock().ok().and_then(|mut u| u.take()) else {
                continue;
            };
            if broken[i].load(Ordering::Relaxed) {
                update.fail();
            } else {
                update.commit(planner.encoded[i]);
            }
        }
        for (cache, broken) in planner.caches.iter().zip(&broken) {
            if let (Some(cache), true) = (cache, broken.load(Ordering::Relaxed)) {
                cache::discard(cache);
            }
        }
    }
    report.problems.extend(problems);
    report.problems.sort();
    (acc, report)
}

/// What every worker of a scan shares.
struct Worker<'a> {
    inputs: &'a [Input],
    names: &'a [String],
    reads: Reads,
    updates: &'a [Mutex<Option<Update>>],
    /// Per input: a segment of its cache did not decode.
    broken: &'a [AtomicBool],
}

impl Worker<'_> {
    fn run<A: Accumulator>(&self, work: Work, acc: &mut A, report: &mut Report) {
        match work {
            Work::Block(block) => self.block(&block, acc, report),
            Work::Cached {
                input,
                loaded,
                index,
            } => {
                let entry = loaded.entries()[index];
                let body = loaded.body(index);
                match body.and_then(|b| {
                    let decoded = segment::decode(&b, entry.source_start, entry.first_line)?;
                    self.cached(input, &entry, &decoded, acc, report);
                    Ok(())
                }) {
                    Ok(()) => {}
                    Err(segment::Corrupt) => {
                        // Damaged (its checksum or structure does not check), before any of its
                        // spans went out: the JSON of its lines gives the answer, and the cache
                        // is rebuilt next time.
                        self.broken[input].store(true, Ordering::Relaxed);
                        self.reparse(input, &entry, acc, report);
                    }
                }
            }
        }
    }

    /// Parses a block; with `encode`, its whole lines become a segment of the input's cache.
    fn block<A: Accumulator>(&self, block: &Block, acc: &mut A, report: &mut Report) {
        let name = &self.names[block.input];
        if !block.encode {
            parse_block(block, name, acc, report, None);
            return;
        }
        let mut builder = SegmentBuilder::new(block.first_line);
        parse_block(block, name, acc, report, Some(&mut builder));
        // The whole lines: all of them but an unterminated last one.
        let whole = if block.unterminated_end {
            memchr::memrchr(b'\n', &block.data).map_or(0, |i| i + 1)
        } else {
            block.data.len()
        };
        let segment = (whole > 0).then(|| Segment {
            source_start: block.offset,
            source_end: block.offset + whole as u64,
            first_line: block.first_line,
            // An unterminated last line holds no newline: all of the block's are in `whole`.
            newlines: block.newlines,
            nonblank_lines: builder.nonblank_lines(),
            spans: builder.spans(),
            body: builder.finish(),
        });
        if let Ok(mut slot) = self.updates[block.input].lock() {
            if let Some(update) = slot.as_mut() {
                update.add(block.seq, segment);
            }
        }
    }

    /// Hands a decoded segment's spans to `acc`, or for an accumulator that reads spans as
    /// written, the spans of the lines that hold the traces it takes, read again.
    fn cached<A: Accumulator>(
        &self,
        input: usize,
        entry: &cache::Entry,
        decoded: &segment::Decoded<'_>,
        acc: &mut A,
        report: &mut Report,
    ) {
        report.lines += entry.nonblank_lines;
        report.spans += entry.spans;
        report
            .problems
            .extend(decoded.problems.iter().map(|&(line, message)| Problem {
                input,
                file: self.names[input].clone(),
                line: Some(line),
                message: message.to_owned(),
            }));
        if self.reads == Reads::Facts {
            decoded.for_each_span(|span, _| acc.add(span));
            return;
        }
        let mut lines: Vec<u32> = Vec::new();
        decoded.for_each_span(|span, line| {
            if acc.takes_trace(span.trace_id) && lines.last() != Some(&line) {
                lines.push(line);
            }
        });
        if lines.is_empty() {
            return;
        }
        let Input::File(path) = &self.inputs[input] else {
            return;
        };
        let mut scratch = Report::default();
        let read = File::open(path).and_then(|mut file| {
            for &l in &lines {
                let line = decoded.lines[l as usize];
                let mut data = vec![0; line.len as usize + 1];
                file.seek(SeekFrom::Start(line.offset))?;
                file.read_exact(&mut data[..line.len as usize])?;
                data[line.len as usize] = b'\n';
                let block = Block {
                    input,
                    first_line: line.number,
                    data,
                    unterminated_end: false,
                    newlines: 1,
                    offset: line.offset,
                    seq: 0,
                    encode: false,
                };
                // The lines' problems are those of the cache, already reported.
                parse_block(&block, &self.names[input], acc, &mut scratch, None);
            }
            Ok(())
        });
        if let Err(e) = read {
            report.problems.push(Problem {
                input,
                file: self.names[input].clone(),
                line: None,
                message: format!("read error: {e}"),
            });
        }
    }

    /// Parses the lines a segment covers from the JSON.
    fn reparse<A: Accumulator>(
        &self,
        input: usize,
        entry: &cache::Entry,
        acc: &mut A,
        report: &mut Report,
    ) {
        let Input::File(path) = &self.inputs[input] else {
            return;
        };
        let mut data = vec![0; (entry.source_end - entry.source_start) as usize];
        let read = File::open(path).and_then(|mut file| {
            file.seek(SeekFrom::Start(entry.source_start))?;
            file.read_exact(&mut data)
        });
        match read {
            Ok(()) => {
                let block = Block {
                    input,
                    first_line: entry.first_line,
                    data,
                    unterminated_end: false,
                    newlines: entry.newlines,
                    offset: entry.source_start,
                    seq: 0,
                    encode: false,
                };
                parse_block(&block, &self.names[input], acc, report, None);
            }
            Err(e) => report.problems.push(Problem {
                input,
                file: self.names[input].clone(),
                line: Some(entry.first_line),
                message: format!("read error: {e}"),
            }),
        }
    }
}

/// Hands the spans of `text`, OTLP/JSON lines that are not a file's (a store's rows, a request
/// body), to `acc`; what could not be read is in the report, named after `name`.
#[cfg_attr(not(feature = "serve"), allow(dead_code))]
pub(crate) fn parse_text<A: Accumulator>(name: &str, text: Vec<u8>, acc: &mut A) -> Report {
    let mut report = Report::default();
    let block = read::Block {
        input: 0,
        first_line: 1,
        newlines: 0,
        offset: 0,
        seq: 0,
        encode: false,
        unterminated_end: false,
        data: text,
    };
    parse::parse_block(&block, name, acc, &mut report, None);
    report
}
