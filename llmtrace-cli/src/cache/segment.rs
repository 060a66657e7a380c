//! One segment of a cache file: the facts of every span of a run of whole lines of the source
//! (one block as the scan reads it), the lines they came from, and the problems those lines had.
//!
//! A segment stands alone: its own string table, its own trace table, values relative to the
//! segment only. So segments are written as blocks are parsed, in parallel, appended when the
//! source grows, and decoded in parallel.
//!
//! Layout of a body (integers are LEB128 varints unless said otherwise; signed ones zigzag):
//!
//! ```text
//! strings   n, then n × (len, UTF-8 bytes)
//! traces    n, then n × 16 bytes (big-endian trace id)
//! lines     n, then n × (gap since the previous line's end, len, line number - previous one's)
//!           (the first line's gap and number are relative to the segment's start)
//! problems  n, then n × (line number, len, UTF-8 message)
//! spans     n, then n × record
//! record    mask (which fields follow), line index - previous one's, trace index,
//!           span id (8 bytes LE), [parent id (8 bytes LE)], start - previous start (signed),
//!           end - start (signed), name, then each field whose bit is set, in bit order:
//!           strings as indices into the table, integers signed, floats 8 bytes LE,
//!           the repeat hash 8 bytes LE
//! ```

use std::borrow::Cow;

use crate::hash::FastMap;
use crate::span::{Repeat, SpanFacts};

/// The mask bits. The common fields have the low bits, so a usual mask fits in 2 or 3 bytes.
mod bit {
    pub(super) const ERROR: u64 = 1 << 0;
    pub(super) const PARENT: u64 = 1 << 1;
    pub(super) const OPERATION: u64 = 1 << 2;
    pub(super) const REQUEST_MODEL: u64 = 1 << 3;
    pub(super) const PROVIDER: u64 = 1 << 4;
    pub(super) const INPUT_TOKENS: u64 = 1 << 5;
    pub(super) const OUTPUT_TOKENS: u64 = 1 << 6;
    pub(super) const COST: u64 = 1 << 7;
    pub(super) const TOOL: u64 = 1 << 8;
    pub(super) const USER: u64 = 1 << 9;
    pub(super) const SESSION: u64 = 1 << 10;
    pub(super) const SERVICE: u64 = 1 << 11;
    pub(super) const HAS_INPUT_MESSAGES: u64 = 1 << 12;
    pub(super) const HAS_OUTPUT_MESSAGES: u64 = 1 << 13;
    pub(super) const REPEAT_HASH: u64 = 1 << 14;
    pub(super) const REPEAT_INPUT: u64 = 1 << 15;
    pub(super) const WORKFLOW: u64 = 1 << 16;
    pub(super) const STATUS_MESSAGE: u64 = 1 << 17;
    pub(super) const ERROR_TYPE: u64 = 1 << 18;
    pub(super) const HAS_DOCUMENTS: u64 = 1 << 19;
    pub(super) const DOCUMENT_COUNT: u64 = 1 << 20;
    pub(super) const BEST_SCORE: u64 = 1 << 21;
    pub(super) const ROLLUP_INPUT: u64 = 1 << 22;
    pub(super) const ROLLUP_OUTPUT: u64 = 1 << 23;
    pub(super) const ROLLUP_COST: u64 = 1 << 24;
    pub(super) const ROLLUP_UNPRICED: u64 = 1 << 25;
    pub(super) const RESPONSE_MODEL: u64 = 1 << 26;
    pub(super) const TTFT: u64 = 1 << 27;
    pub(super) const USAGE_MISSING: u64 = 1 << 28;
    pub(super) const UNPRICED: u64 = 1 << 29;
    pub(super) const TRUNCATED: u64 = 1 << 30;
    pub(super) const CANCELLED: u64 = 1 << 31;
    pub(super) const PARENT_REMOTE: u64 = 1 << 32;
    pub(super) const PARENT_EXTERNAL: u64 = 1 << 33;
    pub(super) const PROMPT_NAME: u64 = 1 << 34;
    pub(super) const PROMPT_VERSION: u64 = 1 << 35;
    pub(super) const CACHE_READ: u64 = 1 << 36;
    pub(super) const CACHE_WRITE: u64 = 1 << 37;
    pub(super) const REASONING: u64 = 1 << 38;
    /// Bits no writer of this version sets.
    pub(super) const UNKNOWN: u64 = !((1 << 39) - 1);
}

/// The optional string fields of a record (the name is always there).
const STRING_FIELDS: usize = 14;

fn put(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push(v as u8 | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn put_signed(buf: &mut Vec<u8>, v: i64) {
    put(buf, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    put(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

/// Builds the body of one segment, span by span.
#[derive(Debug)]
pub(crate) struct SegmentBuilder {
    strings: FastMap<Box<str>, u64>,
    string_bytes: Vec<u8>,
    /// Per string field (the name first): its last value and that value's index.
    last: [(String, Option<u64>); STRING_FIELDS + 1],
    traces: FastMap<u128, u64>,
    trace_bytes: Vec<u8>,
    lines: Vec<u8>,
    line_count: u64,
    /// Relative to the segment's start.
    last_line_end: u64,
    last_line_number: u64,
    /// The line the next span comes from, entered in the table with its first span.
    pending_line: Option<(u64, u64, u64)>,
    problems: Vec<u8>,
    problem_count: u64,
    records: Vec<u8>,
    record_count: u64,
    last_start: u64,
    last_record_line: u64,
    /// Non-blank lines seen (for the scan's count of lines read).
    nonblank_lines: u64,
}

impl SegmentBuilder {
    /// A segment whose first line has number `first_line`.
    pub(crate) fn new(first_line: u64) -> Self {
        SegmentBuilder {
            strings: FastMap::default(),
            string_bytes: Vec::new(),
            last: Default::default(),
            traces: FastMap::default(),
            trace_bytes: Vec::new(),
            lines: Vec::new(),
            line_count: 0,
            last_line_end: 0,
            last_line_number: first_line,
            pending_line: None,
            problems: Vec::new(),
            problem_count: 0,
            records: Vec::with_capacity(256 << 10),
            record_count: 0,
            last_start: 0,
            last_record_line: 0,
            nonblank_lines: 0,
        }
    }

    /// A non-blank line: where it starts in the segment, how long it is, its number. The spans
    /// added next come from it.
    pub(crate) fn line(&mut self, offset: u64, len: u64, number: u64) {
        self.nonblank_lines += 1;
        self.pending_line = Some((offset, len, number));
    }

    /// A problem of line `number`.
    pub(crate) fn problem(&mut self, number: u64, message: &str) {
        self.problem_count += 1;
        put(&mut self.problems, number);
        put_str(&mut self.problems, message);
    }

    /// The index of `s`, the value of string field `field`. A field often has the value it had
    /// in the span before (the same model, user, service): that costs a comparison, no hash.
    fn string(&mut self, field: usize, s: &str) -> u64 {
        let (last, index) = &mut self.last[field];
        if let Some(i) = *index {
            if last == s {
                return i;
            }
        }
        let i = match self.strings.get(s) {
            Some(&i) => i,
            None => {
                let i = self.strings.len() as u64;
                put_str(&mut self.string_bytes, s);
                self.strings.insert(s.into(), i);
                i
            }
        };
        last.clear();
        last.push_str(s);
        *index = Some(i);
        i
    }

    /// A span of the current line.
    pub(crate) fn span(&mut self, s: &SpanFacts<'_>) {
        if let Some((offset, len, number)) = self.pending_line.take() {
            put(&mut self.lines, offset - self.last_line_end);
            put(&mut self.lines, len);
            put(&mut self.lines, number - self.last_line_number);
            self.last_line_end = offset + len;
            self.last_line_number = number;
            self.line_count += 1;
        }
        let line = self.line_count.saturating_sub(1);
        let trace = match self.traces.get(&s.trace_id) {
            Some(&i) => i,
            None => {
                let i = self.traces.len() as u64;
                self.trace_bytes
                    .extend_from_slice(&s.trace_id.to_be_bytes());
                self.traces.insert(s.trace_id, i);
                i
            }
        };
        let repeat = s.repeat.as_ref();
        let mut mask = 0;
        let mut set = |bit: u64, on: bool| {
            if on {
                mask |= bit;
            }
        };
        set(bit::ERROR, s.error);
        set(bit::PARENT, s.parent_id != 0);
        set(bit::OPERATION, s.operation.is_some());
        set(bit::REQUEST_MODEL, s.request_model.is_some());
        set(bit::PROVIDER, s.provider.is_some());
        set(bit::INPUT_TOKENS, s.input_tokens.is_some());
        set(bit::OUTPUT_TOKENS, s.output_tokens.is_some());
        set(bit::COST, s.cost.is_some());
        set(bit::TOOL, s.tool.is_some());
        set(bit::USER, s.user.is_some());
        set(bit::SESSION, s.session.is_some());
        set(bit::SERVICE, s.service.is_some());
        set(bit::HAS_INPUT_MESSAGES, s.has_input_messages);
        set(bit::HAS_OUTPUT_MESSAGES, s.has_output_messages);
        set(bit::REPEAT_HASH, repeat.is_some_and(|r| r.hash.is_some()));
        set(
            bit::REPEAT_INPUT,
            repeat.is_some_and(|r| !r.input.is_empty()),
        );
        set(bit::WORKFLOW, s.workflow.is_some());
        set(bit::STATUS_MESSAGE, !s.status_message.is_empty());
        set(bit::ERROR_TYPE, s.error_type.is_some());
        set(bit::HAS_DOCUMENTS, s.has_documents);
        set(bit::DOCUMENT_COUNT, s.document_count.is_some());
        set(bit::BEST_SCORE, s.best_score.is_some());
        set(bit::ROLLUP_INPUT, s.rollup_input.is_some());
        set(bit::ROLLUP_OUTPUT, s.rollup_output.is_some());
        set(bit::ROLLUP_COST, s.rollup_cost.is_some());
        set(bit::ROLLUP_UNPRICED, s.rollup_unpriced.is_some());
        set(bit::RESPONSE_MODEL, s.response_model.is_some());
        set(bit::TTFT, s.ttft.is_some());
        set(bit::USAGE_MISSING, s.usage_missing);
        set(bit::UNPRICED, s.unpriced);
        set(bit::TRUNCATED, s.truncated);
        set(bit::CANCELLED, s.cancelled);
        set(bit::PARENT_REMOTE, s.parent_remote);
        set(bit::PARENT_EXTERNAL, s.parent_external);
        set(bit::PROMPT_NAME, s.prompt_name.is_some());
        set(bit::PROMPT_VERSION, s.prompt_version.is_some());
        set(bit::CACHE_READ, s.cache_read_tokens.is_some());
        set(bit::CACHE_WRITE, s.cache_write_tokens.is_some());
        set(bit::REASONING, s.reasoning_tokens.is_some());

        // Strings first (they borrow `self` mutably), in bit order.
        let mut strs: [u64; STRING_FIELDS] = [0; STRING_FIELDS];
        let mut n = 0;
        let name = self.string(0, s.name);
        let fields = [
            s.operation,
            s.request_model,
            s.provider,
            s.tool,
            s.user,
            s.session,
            s.service,
            repeat.map(|r| r.input.as_ref()).filter(|i| !i.is_empty()),
            s.workflow,
            Some(s.status_message).filter(|m| !m.is_empty()),
            s.error_type,
            s.response_model,
            s.prompt_name,
            s.prompt_version,
        ];
        for (field, v) in fields.into_iter().enumerate() {
            if let Some(v) = v {
                strs[n] = self.string(field + 1, v);
                n += 1;
            }
        }
        let mut strs = strs[..n].iter().copied();
        let r = &mut self.records;
        put(r, mask);
        put(r, line - self.last_record_line);
        put(r, trace);
        r.extend_from_slice(&s.span_id.to_le_bytes());
        if s.parent_id != 0 {
            r.extend_from_slice(&s.parent_id.to_le_bytes());
        }
        put_signed(r, s.start.wrapping_sub(self.last_start) as i64);
        put_signed(r, s.end.wrapping_sub(s.start) as i64);
        put(r, name);
        let mut string = |r: &mut Vec<u8>, on: bool| {
            if on {
                put(r, strs.next().unwrap_or_default());
            }
        };
        let int = |r: &mut Vec<u8>, v: Option<i64>| {
            if let Some(v) = v {
                put_signed(r, v);
            }
        };
        let float = |r: &mut Vec<u8>, v: Option<f64>| {
            if let Some(v) = v {
                r.extend_from_slice(&v.to_le_bytes());
            }
        };
        string(r, s.operation.is_some());
        string(r, s.request_model.is_some());
        string(r, s.provider.is_some());
        int(r, s.input_tokens);
        int(r, s.output_tokens);
        float(r, s.cost);
        string(r, s.tool.is_some());
        string(r, s.user.is_some());
        string(r, s.session.is_some());
        string(r, s.service.is_some());
        if let Some(h) = repeat.and_then(|r| r.hash) {
            r.extend_from_slice(&h.to_le_bytes());
        }
        string(r, mask & bit::REPEAT_INPUT != 0);
        string(r, s.workflow.is_some());
        string(r, mask & bit::STATUS_MESSAGE != 0);
        string(r, s.error_type.is_some());
        int(r, s.document_count);
        float(r, s.best_score);
        int(r, s.rollup_input);
        int(r, s.rollup_output);
        float(r, s.rollup_cost);
        int(r, s.rollup_unpriced);
        string(r, s.response_model.is_some());
        float(r, s.ttft);
        string(r, s.prompt_name.is_some());
        string(r, s.prompt_version.is_some());
        int(r, s.cache_read_tokens);
        int(r, s.cache_write_tokens);
        int(r, s.reasoning_tokens);
        self.last_start = s.start;
        self.last_record_line = line;
        self.record_count += 1;
    }

    /// Spans added.
    pub(crate) fn spans(&self) -> u64 {
        self.record_count
    }

    /// Non-blank lines seen.
    pub(crate) fn nonblank_lines(&self) -> u64 {
        self.nonblank_lines
    }

    /// The body.
    pub(crate) fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            self.string_bytes.len()
                + self.trace_bytes.len()
                + self.lines.len()
                + self.problems.len()
                + self.records.len()
                + 40,
        );
        put(&mut out, self.strings.len() as u64);
        out.extend_from_slice(&self.string_bytes);
        put(&mut out, self.traces.len() as u64);
        out.extend_from_slice(&self.trace_bytes);
        put(&mut out, self.line_count);
        out.extend_from_slice(&self.lines);
        put(&mut out, self.problem_count);
        out.extend_from_slice(&self.problems);
        put(&mut out, self.record_count);
        out.extend_from_slice(&self.records);
        out
    }
}

/// A segment that does not decode: the cache is damaged (or this code has a bug).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Corrupt;

/// Reads a body, every read bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, Corrupt> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.pos).ok_or(Corrupt)?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Corrupt)
    }

    fn signed(&mut self) -> Result<i64, Corrupt> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        let end = self.pos.checked_add(n).ok_or(Corrupt)?;
        let b = self.bytes.get(self.pos..end).ok_or(Corrupt)?;
        self.pos = end;
        Ok(b)
    }

    fn fixed(&mut self) -> Result<u64, Corrupt> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().map_err(|_| Corrupt)?))
    }

    fn str(&mut self) -> Result<&'a str, Corrupt> {
        let n = usize::try_from(self.varint()?).map_err(|_| Corrupt)?;
        std::str::from_utf8(self.take(n)?).map_err(|_| Corrupt)
    }

    /// A count of items at least `min_bytes` long each: more than the bytes left is corrupt
    /// (and would allocate without bound).
    fn count(&mut self, min_bytes: usize) -> Result<usize, Corrupt> {
        let n = usize::try_from(self.varint()?).map_err(|_| Corrupt)?;
        if n.saturating_mul(min_bytes) > self.bytes.len() - self.pos {
            return Err(Corrupt);
        }
        Ok(n)
    }
}

/// A line of the source, as the cache knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line {
    /// Byte offset in the source file.
    pub(crate) offset: u64,
    /// Length without the newline.
    pub(crate) len: u64,
    /// 1-based line number.
    pub(crate) number: u64,
}

/// A segment's tables, decoded, and its spans, checked: [`Decoded::for_each_span`] decodes
/// them again, one at a time (a segment's spans are never all in memory at once).
#[derive(Debug)]
pub(crate) struct Decoded<'a> {
    strings: Vec<&'a str>,
    traces: Vec<u128>,
    /// The lines the spans come from.
    pub(crate) lines: Vec<Line>,
    /// (line number, message) of each problem the lines had.
    pub(crate) problems: Vec<(u64, &'a str)>,
    records: &'a [u8],
    spans: usize,
}

/// Decodes the body of a segment that starts at byte `source_start` and line `first_line` of
/// the source.
pub(crate) fn decode(
    body: &[u8],
    source_start: u64,
    first_line: u64,
) -> Result<Decoded<'_>, Corrupt> {
    let mut rd = Reader {
        bytes: body,
        pos: 0,
    };
    let n = rd.count(1)?;
    let mut strings = Vec::with_capacity(n);
    for _ in 0..n {
        strings.push(rd.str()?);
    }
    let n = rd.count(16)?;
    let mut traces = Vec::with_capacity(n);
    for _ in 0..n {
        let b = rd.take(16)?;
        traces.push(u128::from_be_bytes(b.try_into().map_err(|_| Corrupt)?));
    }
    let n = rd.count(3)?;
    let mut lines = Vec::with_capacity(n);
    let mut end = source_start;
    let mut number = first_line;
    for _ in 0..n {
        let offset = end.checked_add(rd.varint()?).ok_or(Corrupt)?;
        let len = rd.varint()?;
        number = number.checked_add(rd.varint()?).ok_or(Corrupt)?;
        end = offset.checked_add(len).ok_or(Corrupt)?;
        lines.push(Line {
            offset,
            len,
            number,
        });
    }
    let n = rd.count(2)?;
    let mut problems = Vec::with_capacity(n);
    for _ in 0..n {
        let line = rd.varint()?;
        problems.push((line, rd.str()?));
    }
    let spans = rd.count(13)?;
    let decoded = Decoded {
        strings,
        traces,
        lines,
        problems,
        records: &body[rd.pos..],
        spans,
    };
    // Every span checked before the first is handed out: a damaged segment gives none.
    decoded.records(&mut |_, _| {})?;
    Ok(decoded)
}

impl<'a> Decoded<'a> {
    /// Hands each span to `f`, with the index of its line in [`Decoded::lines`].
    pub(crate) fn for_each_span(&self, mut f: impl FnMut(&SpanFacts<'a>, u32)) {
        // Checked by `decode`: cannot fail.
        let _ = self.records(&mut f);
    }

    fn records(&self, f: &mut impl FnMut(&SpanFacts<'a>, u32)) -> Result<(), Corrupt> {
        let mut rd = Reader {
            bytes: self.records,
            pos: 0,
        };
        let (strings, traces, lines) = (&self.strings, &self.traces, &self.lines);
        let n = self.spans;
        let mut line: u64 = 0;
        let mut start: u64 = 0;
        let string = |rd: &mut Reader<'a>| -> Result<&'a str, Corrupt> {
            let i = usize::try_from(rd.varint()?).map_err(|_| Corrupt)?;
            strings.get(i).copied().ok_or(Corrupt)
        };
        for _ in 0..n {
            let mask = rd.varint()?;
            if mask & bit::UNKNOWN != 0 {
                return Err(Corrupt);
            }
            let has = |b: u64| mask & b != 0;
            line = line.checked_add(rd.varint()?).ok_or(Corrupt)?;
            if line >= lines.len() as u64 {
                return Err(Corrupt);
            }
            let trace_id = *traces
                .get(usize::try_from(rd.varint()?).map_err(|_| Corrupt)?)
                .ok_or(Corrupt)?;
            let span_id = rd.fixed()?;
            let parent_id = if has(bit::PARENT) { rd.fixed()? } else { 0 };
            start = start.wrapping_add(rd.signed()? as u64);
            let end = start.wrapping_add(rd.signed()? as u64);
            let name = string(&mut rd)?;
            let opt_str = |rd: &mut Reader<'a>, b: u64| -> Result<Option<&'a str>, Corrupt> {
                if has(b) {
                    string(rd).map(Some)
                } else {
                    Ok(None)
                }
            };
            let opt_int = |rd: &mut Reader<'a>, b: u64| -> Result<Option<i64>, Corrupt> {
                if has(b) {
                    rd.signed().map(Some)
                } else {
                    Ok(None)
                }
            };
            let opt_float = |rd: &mut Reader<'a>, b: u64| -> Result<Option<f64>, Corrupt> {
                if has(b) {
                    rd.fixed().map(|v| Some(f64::from_bits(v)))
                } else {
                    Ok(None)
                }
            };
            let operation = opt_str(&mut rd, bit::OPERATION)?;
            let request_model = opt_str(&mut rd, bit::REQUEST_MODEL)?;
            let provider = opt_str(&mut rd, bit::PROVIDER)?;
            let input_tokens = opt_int(&mut rd, bit::INPUT_TOKENS)?;
            let output_tokens = opt_int(&mut rd, bit::OUTPUT_TOKENS)?;
            let cost = opt_float(&mut rd, bit::COST)?;
            let tool = opt_str(&mut rd, bit::TOOL)?;
            let user = opt_str(&mut rd, bit::USER)?;
            let session = opt_str(&mut rd, bit::SESSION)?;
            let service = opt_str(&mut rd, bit::SERVICE)?;
            let repeat_hash = if has(bit::REPEAT_HASH) {
                Some(rd.fixed()?)
            } else {
                None
            };
            let repeat_input = opt_str(&mut rd, bit::REPEAT_INPUT)?;
            let workflow = opt_str(&mut rd, bit::WORKFLOW)?;
            let status_message = opt_str(&mut rd, bit::STATUS_MESSAGE)?;
            let error_type = opt_str(&mut rd, bit::ERROR_TYPE)?;
            let document_count = opt_int(&mut rd, bit::DOCUMENT_COUNT)?;
            let best_score = opt_float(&mut rd, bit::BEST_SCORE)?;
            let rollup_input = opt_int(&mut rd, bit::ROLLUP_INPUT)?;
            let rollup_output = opt_int(&mut rd, bit::ROLLUP_OUTPUT)?;
            let rollup_cost = opt_float(&mut rd, bit::ROLLUP_COST)?;
            let rollup_unpriced = opt_int(&mut rd, bit::ROLLUP_UNPRICED)?;
            let response_model = opt_str(&mut rd, bit::RESPONSE_MODEL)?;
            let ttft = opt_float(&mut rd, bit::TTFT)?;
            let prompt_name = opt_str(&mut rd, bit::PROMPT_NAME)?;
            let prompt_version = opt_str(&mut rd, bit::PROMPT_VERSION)?;
            let cache_read_tokens = opt_int(&mut rd, bit::CACHE_READ)?;
            let cache_write_tokens = opt_int(&mut rd, bit::CACHE_WRITE)?;
            let reasoning_tokens = opt_int(&mut rd, bit::REASONING)?;
            let span = SpanFacts {
                trace_id,
                span_id,
                parent_id,
                parent_remote: has(bit::PARENT_REMOTE),
                parent_external: has(bit::PARENT_EXTERNAL),
                name,
                start,
                end,
                error: has(bit::ERROR),
                status_message: status_message.unwrap_or(""),
                error_type,
                operation,
                request_model,
                response_model,
                provider,
                prompt_name,
                prompt_version,
                tool,
                workflow,
                user,
                session,
                input_tokens,
                output_tokens,
                cache_read_tokens,
                cache_write_tokens,
                reasoning_tokens,
                cost,
                rollup_input,
                rollup_output,
                rollup_cost,
                rollup_unpriced,
                usage_missing: has(bit::USAGE_MISSING),
                unpriced: has(bit::UNPRICED),
                truncated: has(bit::TRUNCATED),
                cancelled: has(bit::CANCELLED),
                ttft,
                document_count,
                best_score,
                has_documents: has(bit::HAS_DOCUMENTS),
                service,
                has_input_messages: has(bit::HAS_INPUT_MESSAGES),
                has_output_messages: has(bit::HAS_OUTPUT_MESSAGES),
                repeat: Some(Repeat {
                    hash: repeat_hash,
                    input: Cow::Borrowed(repeat_input.unwrap_or("")),
                }),
                raw: None,
            };
            f(&span, u32::try_from(line).map_err(|_| Corrupt)?);
        }
        if rd.pos != self.records.len() {
            return Err(Corrupt);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A span's values, owned, for the strategy.
    #[derive(Debug, Clone)]
    struct Spec {
        trace_id: u128,
        ids: (u64, u64),
        times: (u64, u64),
        flags: [bool; 10],
        name: String,
        /// In the order of `facts` below.
        strings: Vec<Option<String>>,
        ints: [Option<i64>; 9],
        floats: [Option<f64>; 4],
        repeat_hash: Option<u64>,
        /// The span starts a new line.
        new_line: bool,
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (
            (any::<u128>(), 0..4u128),
            (any::<u64>(), prop_oneof![Just(0u64), any::<u64>()]),
            (any::<u64>(), any::<u64>()),
            proptest::array::uniform10(any::<bool>()),
            ".{0,8}",
            proptest::collection::vec(proptest::option::of("[a-z→ ]{0,8}"), 14),
            proptest::array::uniform9(proptest::option::of(any::<i64>())),
            proptest::array::uniform4(proptest::option::of(any::<f64>())),
            proptest::option::of(any::<u64>()),
            any::<bool>(),
        )
            .prop_map(
                |(trace, ids, times, flags, name, strings, ints, floats, repeat_hash, new_line)| {
                    Spec {
                        // A few traces, so that the trace table is shared.
                        trace_id: if trace.1 == 0 { trace.0 } else { trace.1 },
                        ids,
                        times,
                        flags,
                        name,
                        strings,
                        ints,
                        floats,
                        repeat_hash,
                        new_line,
                    }
                },
            )
    }

    fn facts(s: &Spec) -> SpanFacts<'_> {
        let st = |i: usize| s.strings[i].as_deref();
        SpanFacts {
            trace_id: s.trace_id,
            span_id: s.ids.0,
            parent_id: s.ids.1,
            parent_remote: s.flags[0],
            parent_external: s.flags[1],
            name: &s.name,
            start: s.times.0,
            end: s.times.1,
            error: s.flags[2],
            status_message: st(0).unwrap_or(""),
            error_type: st(1),
            operation: st(2),
            request_model: st(3),
            response_model: st(4),
            provider: st(5),
            prompt_name: st(6),
            prompt_version: st(7),
            tool: st(8),
            workflow: st(9),
            user: st(10),
            session: st(11),
            input_tokens: s.ints[0],
            output_tokens: s.ints[1],
            cache_read_tokens: s.ints[2],
            cache_write_tokens: s.ints[3],
            reasoning_tokens: s.ints[4],
            cost: s.floats[0],
            rollup_input: s.ints[5],
            rollup_output: s.ints[6],
            rollup_cost: s.floats[1],
            rollup_unpriced: s.ints[7],
            usage_missing: s.flags[3],
            unpriced: s.flags[4],
            truncated: s.flags[5],
            cancelled: s.flags[6],
            ttft: s.floats[2],
            document_count: s.ints[8],
            best_score: s.floats[3],
            has_documents: s.flags[7],
            service: st(12),
            has_input_messages: s.flags[8],
            has_output_messages: s.flags[9],
            repeat: Some(Repeat {
                hash: s.repeat_hash,
                input: Cow::Borrowed(st(13).unwrap_or("")),
            }),
            raw: None,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Every span comes back as it went in, on its line, with the problems of the lines.
        #[test]
        fn spans_round_trip(specs in proptest::collection::vec(spec(), 1..40), start in 0..1u64 << 40, first in 1..1u64 << 30) {
            let mut b = SegmentBuilder::new(first);
            let mut lines = Vec::new();
            let mut line_of = Vec::new();
            let (mut offset, mut number) = (0u64, first);
            for (i, s) in specs.iter().enumerate() {
                if i == 0 || s.new_line {
                    // A blank line between some lines: offsets and numbers skip it.
                    if s.flags[0] {
                        offset += 1;
                        number += 1;
                    }
                    let len = 10 + i as u64;
                    b.line(offset, len, number);
                    if s.flags[1] {
                        b.problem(number, &format!("problem of line {number}"));
                    }
                    lines.push(Line { offset: start + offset, len, number });
                    offset += len + 1;
                    number += 1;
                }
                b.span(&facts(s));
                line_of.push(lines.len() as u32 - 1);
            }
            prop_assert_eq!(b.spans(), specs.len() as u64);
            let body = b.finish();
            let decoded = decode(&body, start, first).expect("decodes");
            prop_assert_eq!(&decoded.lines, &lines);
            let mut back = Vec::new();
            decoded.for_each_span(|s, line| back.push((format!("{s:?}"), line)));
            let expected: Vec<(String, u32)> = specs
                .iter()
                .zip(&line_of)
                .map(|(s, &l)| (format!("{:?}", facts(s)), l))
                .collect();
            prop_assert_eq!(back, expected);
            for p in &decoded.problems {
                prop_assert_eq!(p.1, format!("problem of line {}", p.0));
            }
        }

        /// A damaged body decodes to an error, or to spans (the checksum is what catches those):
        /// never a panic.
        #[test]
        fn damage_never_panics(specs in proptest::collection::vec(spec(), 1..8), at in any::<usize>(), byte in any::<u8>(), cut in any::<bool>()) {
            let mut b = SegmentBuilder::new(1);
            b.line(0, 10, 1);
            for s in &specs {
                b.span(&facts(s));
            }
            let mut body = b.finish();
            let at = at % body.len();
            if cut {
                body.truncate(at);
            } else {
                body[at] ^= byte | 1;
            }
            if let Ok(d) = decode(&body, 0, 1) {
                let mut n = 0;
                d.for_each_span(|_, _| n += 1);
                prop_assert!(n <= specs.len() + body.len());
            }
        }
    }
}
