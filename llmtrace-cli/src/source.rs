//! Where spans come from: the JSONL files llmtrace writes (rotated ones too), any OTLP/JSON
//! lines file, a directory of them, or stdin; and how they are read: in blocks of whole lines,
//! parsed in parallel, each span handed to a command's accumulator as soon as it is parsed, so
//! memory holds a few blocks and what the command keeps, never a whole file.
//!
//! A line that cannot be used is reported with its file and line number, and the rest is read:
//! a truncated last line (a writer still appending), a line that is not JSON, a JSON line that
//! is not OTLP traces, an attribute of a type this reader does not know.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::iter::{ParallelBridge, ParallelIterator};

use crate::otlp::Request;
use crate::span::SpanFacts;

/// The file llmtrace's JSONL exporter writes by default, in the current directory.
pub(crate) const DEFAULT_FILE: &str = "llmtrace-traces.jsonl";

/// Bytes read at a time from one input; each block is parsed by one thread.
const BLOCK_BYTES: usize = 4 << 20;

/// Problems printed per file; the rest are counted.
const PROBLEMS_SHOWN_PER_FILE: usize = 5;

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

/// A command's state while spans stream in: each parallel worker fills its own, and the
/// states are merged at the end (so every accumulator is order-independent).
pub(crate) trait Accumulator: Send {
    /// Takes one span in.
    fn add(&mut self, span: &SpanFacts<'_>);
    /// Takes in what another worker gathered.
    fn merge(&mut self, other: Self);
}

/// A chunk of whole lines from one input.
struct Block {
    input: usize,
    /// Line number of the first line.
    first_line: u64,
    data: Vec<u8>,
    /// The input ended without a newline after this block's last line.
    unterminated_end: bool,
}

/// Reads `inputs` and hands every span to an accumulator of type `A`, in parallel; returns
/// the merged accumulator and what was read.
pub(crate) fn scan<A: Accumulator>(
    inputs: &[Input],
    mut problems: Vec<Problem>,
    new: impl Fn() -> A + Sync + Send,
) -> (A, Report) {
    let names: Vec<String> = inputs.iter().map(ToString::to_string).collect();
    let reader = Mutex::new(Blocks::new(inputs, &names));
    let blocks = std::iter::from_fn(|| reader.lock().ok()?.next());
    let (acc, mut report) = blocks
        .par_bridge()
        .fold(
            || (new(), Report::default()),
            |(mut acc, mut report), block| {
                parse_block(&block, &names[block.input], &mut acc, &mut report);
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
    if let Ok(reader) = reader.into_inner() {
        problems.extend(reader.problems);
    }
    report.problems.extend(problems);
    report.problems.sort();
    (acc, report)
}

/// Splits the inputs into blocks of whole lines, one input after the other.
struct Blocks<'a> {
    inputs: &'a [Input],
    names: &'a [String],
    next_input: usize,
    current: Option<Open>,
    problems: Vec<Problem>,
}

struct Open {
    input: usize,
    reader: Box<dyn Read + Send>,
    /// Bytes read after the last newline, carried into the next block.
    carry: Vec<u8>,
    next_line: u64,
}

impl<'a> Blocks<'a> {
    fn new(inputs: &'a [Input], names: &'a [String]) -> Self {
        Blocks {
            inputs,
            names,
            next_input: 0,
            current: None,
            problems: Vec::new(),
        }
    }

    fn open_next(&mut self) -> bool {
        while self.next_input < self.inputs.len() {
            let i = self.next_input;
            self.next_input += 1;
            let reader: io::Result<Box<dyn Read + Send>> = match &self.inputs[i] {
                Input::Stdin => Ok(Box::new(io::stdin())),
                Input::File(p) => File::open(p).map(|f| Box::new(f) as Box<dyn Read + Send>),
            };
            match reader {
                Ok(reader) => {
                    self.current = Some(Open {
                        input: i,
                        reader,
                        carry: Vec::new(),
                        next_line: 1,
                    });
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
}

impl Iterator for Blocks<'_> {
    type Item = Block;

    fn next(&mut self) -> Option<Block> {
        loop {
            if self.current.is_none() && !self.open_next() {
                return None;
            }
            let open = self.current.as_mut()?;
            let mut data = std::mem::take(&mut open.carry);
            let start = data.len();
            data.resize(start + BLOCK_BYTES, 0);
            let mut filled = start;
            let mut eof = false;
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
                        break;
                    }
                }
            }
            data.truncate(filled);
            let input = open.input;
            let first_line = open.next_line;
            if eof {
                self.current = None;
                if data.is_empty() {
                    continue;
                }
                let unterminated_end = data.last() != Some(&b'\n');
                return Some(Block {
                    input,
                    first_line,
                    data,
                    unterminated_end,
                });
            }
            match memchr::memrchr(b'\n', &data) {
                Some(cut) => {
                    open.carry = data[cut + 1..].to_vec();
                    data.truncate(cut + 1);
                }
                None => {
                    // A line longer than a block: keep reading into it.
                    open.carry = data;
                    continue;
                }
            }
            open.next_line += memchr::memchr_iter(b'\n', &data).count() as u64;
            return Some(Block {
                input,
                first_line,
                data,
                unterminated_end: false,
            });
        }
    }
}

/// Parses every line of `block` and hands its spans to `acc`.
fn parse_block<A: Accumulator>(block: &Block, name: &str, acc: &mut A, report: &mut Report) {
    let mut line_no = block.first_line;
    let mut lines = block.data.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let is_last = lines.peek().is_none();
        let this_line = line_no;
        line_no += 1;
        let line = trim_ascii(line);
        if line.is_empty() {
            continue;
        }
        report.lines += 1;
        let problem = |message: String| Problem {
            input: block.input,
            file: name.to_owned(),
            line: Some(this_line),
            message,
        };
        let request: Request<'_> = match serde_json::from_slice(line) {
            Ok(r) => r,
            Err(e) => {
                let message = if is_last && block.unterminated_end && e.is_eof() {
                    "incomplete last line (a writer may still be appending); skipped".to_owned()
                } else if e.is_syntax() || e.is_eof() {
                    format!("not JSON ({e}); line skipped")
                } else {
                    format!("not OTLP/JSON traces ({e}); line skipped")
                };
                report.problems.push(problem(message));
                continue;
            }
        };
        let Some(resource_spans) = request.resource_spans else {
            report.problems.push(problem(
                "JSON without `resourceSpans`: not an OTLP/JSON traces line; skipped".to_owned(),
            ));
            continue;
        };
        let mut unknown_reported = false;
        let mut bad_ids = 0;
        for rs in &resource_spans {
            let resource = rs.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
            for ss in &rs.scope_spans {
                for span in &ss.spans {
                    let Some(facts) = SpanFacts::read(span, resource) else {
                        bad_ids += 1;
                        continue;
                    };
                    if let (Some((key, ty)), false) = (facts.unknown_type, unknown_reported) {
                        unknown_reported = true;
                        report.problems.push(problem(format!(
                            "attribute `{key}` of span `{}` has an unknown value type `{ty}`; attribute ignored",
                            facts.name
                        )));
                    }
                    report.spans += 1;
                    acc.add(&facts);
                }
            }
        }
        if bad_ids > 0 {
            report.problems.push(problem(format!(
                "{bad_ids} span(s) without a valid hex trace or span id; skipped"
            )));
        }
    }
}

fn trim_ascii(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if last.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Counts spans, and checks that what reaches a command is a whole span.
    #[derive(Default)]
    struct Count(u64);

    impl Accumulator for Count {
        fn add(&mut self, span: &SpanFacts<'_>) {
            assert!(span.trace_id != 0 && span.span_id != 0);
            self.0 += 1;
        }
        fn merge(&mut self, other: Self) {
            self.0 += other.0;
        }
    }

    const LINE: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"bot"}}]},"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","parentSpanId":"","flags":257,"name":"chat gpt-4o","kind":3,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000250000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"412"}},{"key":"llm.cost.total","value":{"doubleValue":0.0012}},{"key":"gen_ai.response.finish_reasons","value":{"arrayValue":{"values":[{"stringValue":"stop"}]}}}],"status":{"message":"","code":0}}]}]}]}"#;

    fn parse(data: &[u8]) -> (u64, Report) {
        let block = Block {
            input: 0,
            first_line: 1,
            data: data.to_vec(),
            unterminated_end: data.last() != Some(&b'\n'),
        };
        let mut acc = Count::default();
        let mut report = Report::default();
        parse_block(&block, "t.jsonl", &mut acc, &mut report);
        (acc.0, report)
    }

    #[test]
    fn a_good_line_gives_its_span() {
        let (spans, report) = parse(format!("{LINE}\n\n{LINE}\n").as_bytes());
        assert_eq!(spans, 2);
        assert!(report.problems.is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Lines cut anywhere, with bytes replaced or inserted: never a panic; a good line after
        /// a mangled one is still read; every mangled line that yields nothing is reported.
        #[test]
        fn mangled_lines_never_panic(
            cut in 0..LINE.len(),
            edits in proptest::collection::vec((0..LINE.len(), any::<u8>()), 0..4),
            insert in proptest::option::of((0..LINE.len(), "[\\[\\]{}\",:0-9a-z\\\\]{1,3}")),
        ) {
            let mut bad = LINE.as_bytes().to_vec();
            // Any byte but a newline: a newline would make two lines of one.
            for (at, byte) in &edits {
                bad[*at] = if *byte == b'\n' { b' ' } else { *byte };
            }
            if let Some((at, text)) = &insert {
                bad.splice(*at..*at, text.bytes());
            }
            bad.truncate(cut.max(1));
            let mut data = bad.clone();
            data.push(b'\n');
            data.extend_from_slice(LINE.as_bytes());
            data.push(b'\n');
            let (spans, report) = parse(&data);
            prop_assert!(spans >= 1, "the good line is read");
            prop_assert!(spans == 2 || !report.problems.is_empty());
            // Alone, at the end without a newline: a writer still appending.
            let (_, report) = parse(&bad);
            for p in &report.problems {
                prop_assert_eq!(p.line, Some(1));
            }
        }
    }
}
