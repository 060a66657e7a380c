//! Content captured on the caller's thread in a typed form, written out as JSON where the
//! stages run.
//!
//! Formatting JSON is most of what capturing a parameter costs: escaping strings, writing
//! numbers in decimal, quoting the parameters' names. None of it has to happen on the caller's
//! thread, which only has to keep the values, since the function may move or drop them. So the
//! caller copies each leaf (a string's bytes, a number's bits) after a one-byte tag, into the
//! thread's chunk of captured content (`arena`), and the content stage, the first to read it,
//! writes the JSON. The JSON is byte for byte what the capped serializer would have written on
//! the caller's thread.
//!
//! Values that are not leaves (structs, sequences, maps) are still serialized on the caller's
//! thread, by the capped serializer, and kept as the JSON text it wrote.

use std::cell::RefCell;
use std::fmt;

mod arena;
mod escape;

use arena::Stored;
pub(crate) use escape::escape;

/// What a [`Captured`] holds: one value, or an object of named values (a function's
/// parameters), each name written before its value, or their names given once, as a static list
/// (the macros' parameters: no name copied per call).
mod shape {
    pub(super) const VALUE: u8 = 0;
    pub(super) const OBJECT: u8 = 1;
    /// The address and length of a `&'static [&'static str]` (native-endian words), then the
    /// values in that order.
    pub(super) const NAMED: u8 = 2;
}

/// The tag before each value.
mod tag {
    pub(super) const NULL: u8 = 0;
    pub(super) const TRUE: u8 = 1;
    pub(super) const FALSE: u8 = 2;
    /// Eight bytes, little-endian.
    pub(super) const I64: u8 = 3;
    pub(super) const U64: u8 = 4;
    pub(super) const F64: u8 = 5;
    /// Four bytes, little-endian.
    pub(super) const F32: u8 = 6;
    /// A length (four bytes, little-endian), then the string's UTF-8 bytes, unescaped.
    pub(super) const STR: u8 = 7;
    /// A length, then JSON text, written as it is.
    pub(super) const JSON: u8 = 8;
}

/// Captured content, kept typed until it is written as JSON (see the module docs).
///
/// It is what a span's input, output and other JSON content fields hold from the moment they
/// are captured to the content stage, which replaces it with [`Value::Json`](crate::Value::Json)
/// before redaction; exporters never see it.
#[derive(Clone)]
pub struct Captured(Repr);

/// Where the bytes are: in the record itself when they are few (a number, a short string), so
/// that a small return value costs neither a copy into the thread's chunk nor, on the export
/// side, the chunk's counter; in a chunk otherwise.
#[derive(Clone)]
enum Repr {
    Inline(Inline),
    Stored(Stored),
}

impl Captured {
    fn bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(inline) => inline.bytes(),
            Repr::Stored(stored) => stored.bytes(),
        }
    }
}

impl PartialEq for Captured {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for Captured {}

impl Captured {
    /// The JSON text of the content.
    ///
    /// ```
    /// # use llmtrace_runtime as llmtrace;
    /// # fn check(captured: &llmtrace::Captured) {
    /// let json: String = captured.to_json();
    /// # }
    /// ```
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.bytes().len() + 16);
        self.write_json(&mut out);
        out
    }

    /// The JSON text of the content, boxed at its size (written in a buffer the thread keeps).
    pub(crate) fn json(&self) -> Box<str> {
        thread_local! {
            static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
        }
        SCRATCH
            .try_with(|scratch| {
                let mut scratch = scratch.try_borrow_mut().ok()?;
                scratch.clear();
                self.write_json(&mut scratch);
                let json = Box::from(scratch.as_str());
                // A big value's buffer is not held for the thread's lifetime.
                if scratch.capacity() > 64 * 1024 {
                    *scratch = String::new();
                }
                Some(json)
            })
            .ok()
            .flatten()
            .unwrap_or_else(|| self.to_json().into_boxed_str())
    }

    /// Writes the JSON text of the content at the end of `out`.
    pub(crate) fn write_json(&self, out: &mut String) {
        if self.is_object() {
            out.push('{');
            let mut first = true;
            self.entries(|name, r| {
                if !first {
                    out.push(',');
                }
                first = false;
                // Parameter names are Rust identifiers: no escaping needed.
                out.push('"');
                out.push_str(name.unwrap_or_default());
                out.push_str("\":");
                r.value(out);
                true
            });
            out.push('}');
        } else {
            let mut wrote = false;
            self.entries(|_, r| {
                r.value(out);
                wrote = true;
                true
            });
            if !wrote {
                out.push_str("null");
            }
        }
    }

    fn is_object(&self) -> bool {
        matches!(self.bytes().first(), Some(&(shape::OBJECT | shape::NAMED)))
    }

    /// Calls `f` with each value's name (`None` for a lone value) and a reader at the value, in
    /// order, while it returns `true`; returns whether it always did. A lone value that is
    /// missing is not visited.
    fn entries<'a>(&'a self, mut f: impl FnMut(Option<&'a str>, &mut Reader<'a>) -> bool) -> bool {
        let bytes = self.bytes();
        let mut r = Reader { bytes, at: 1 };
        if !self.is_object() {
            return r.at >= bytes.len() || f(None, &mut r);
        }
        // The names, given once (`NAMED`), or read before each value (`OBJECT`).
        let mut names = (bytes[0] == shape::NAMED).then(|| r.names().iter());
        while r.at < r.bytes.len() {
            let name = match &mut names {
                Some(names) => match names.next() {
                    Some(name) => *name,
                    None => break,
                },
                None => r.str(),
            };
            if !f(Some(name), &mut r) {
                return false;
            }
        }
        true
    }
}

/// One item of captured content, in the order its JSON would hold it: what a reader that needs
/// no JSON (the redactor's check for content with nothing to redact) reads instead.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Item<'a> {
    /// An object's key (a parameter's name).
    Key(&'a str),
    /// A string value.
    Str(&'a str),
    /// An integer value.
    Int(i128),
    /// A value the caller's thread serialized as JSON text (not a leaf).
    Json(&'a str),
    /// `true`, `false`, `null` or a floating-point number.
    Other,
}

impl Captured {
    /// Calls `f` with each item, in order, while it returns `true`; returns whether it always
    /// did.
    pub(crate) fn items<'a>(&'a self, mut f: impl FnMut(Item<'a>) -> bool) -> bool {
        self.entries(|name, r| name.is_none_or(|name| f(Item::Key(name))) && f(r.item()))
    }
}

impl fmt::Debug for Captured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "captured({})", self.to_json())
    }
}

/// Bytes of captured content are written into: the thread's buffer, or the few bytes a
/// [`Captured`] holds itself.
pub(crate) trait Buf {
    fn put(&mut self, bytes: &[u8]);
    fn len(&self) -> usize;
    fn truncate(&mut self, len: usize);
    /// Whether everything put was kept.
    fn whole(&self) -> bool {
        true
    }
}

impl Buf for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    #[inline]
    fn len(&self) -> usize {
        Vec::len(self)
    }
    #[inline]
    fn truncate(&mut self, len: usize) {
        Vec::truncate(self, len);
    }
}

/// Bytes a [`Captured`] holds itself, at most: it stays as large as a chunk reference plus its
/// tag (`Value` stays three words).
const INLINE: usize = 22;

/// Captured content small enough to be held in place (written through a [`Spill`]).
#[derive(Clone, Copy)]
pub(crate) struct Inline {
    len: u8,
    bytes: [u8; INLINE],
}

impl Inline {
    /// One value, to be written.
    #[inline]
    fn value() -> Inline {
        let mut bytes = [0; INLINE];
        bytes[0] = shape::VALUE;
        Inline { len: 1, bytes }
    }

    fn bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Captured content held in place while it fits, and moved into a buffer once it does not: one
/// pass over the value, whatever its size, and no buffer touched for a small one.
pub(crate) struct Spill {
    inline: Inline,
    /// The buffer it spilled into, taken from `take` when it was needed.
    spilled: Option<Vec<u8>>,
    take: fn() -> Vec<u8>,
}

impl Spill {
    /// One value, to be written; `take` gives the buffer it spills into (cleared here).
    #[inline]
    pub(crate) fn value(take: fn() -> Vec<u8>) -> Spill {
        Spill {
            inline: Inline::value(),
            spilled: None,
            take,
        }
    }

    /// The content held in place, or the buffer it spilled into: the caller copies that into
    /// the thread's chunk ([`Writer::finish`]) and keeps the buffer for the next value.
    #[inline]
    pub(crate) fn finish(self) -> Result<Captured, Vec<u8>> {
        match self.spilled {
            None => Ok(Captured(Repr::Inline(self.inline))),
            Some(buf) => Err(buf),
        }
    }

    #[cold]
    fn spill(&mut self, bytes: &[u8]) {
        let mut buf = (self.take)();
        buf.clear();
        buf.extend_from_slice(self.inline.bytes());
        buf.extend_from_slice(bytes);
        self.spilled = Some(buf);
    }
}

impl Buf for Spill {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        if let Some(buf) = &mut self.spilled {
            buf.extend_from_slice(bytes);
            return;
        }
        let at = usize::from(self.inline.len);
        match self.inline.bytes.get_mut(at..at + bytes.len()) {
            Some(room) => {
                room.copy_from_slice(bytes);
                self.inline.len += bytes.len() as u8;
            }
            None => self.spill(bytes),
        }
    }
    #[inline]
    fn len(&self) -> usize {
        match &self.spilled {
            Some(buf) => buf.len(),
            None => usize::from(self.inline.len),
        }
    }
    #[inline]
    fn truncate(&mut self, len: usize) {
        match &mut self.spilled {
            Some(buf) => buf.truncate(len),
            None => self.inline.len = self.inline.len.min(len as u8),
        }
    }
}

/// Writes captured values: the caller's side of the format.
#[derive(Debug)]
pub(crate) struct Writer<'a, B: Buf = Vec<u8>>(pub(crate) &'a mut B);

impl Writer<'_> {
    /// Starts an object of named values in an empty buffer.
    pub(crate) fn start_object(buf: &mut Vec<u8>) {
        buf.clear();
        buf.push(shape::OBJECT);
    }

    /// Starts one value in an empty buffer.
    #[cfg(test)]
    pub(crate) fn start_value(buf: &mut Vec<u8>) {
        buf.clear();
        buf.push(shape::VALUE);
    }

    /// Starts, in an empty buffer, an object whose values are named by `names`, in order.
    pub(crate) fn start_named(buf: &mut Vec<u8>, names: &'static [&'static str]) {
        const WORD: usize = size_of::<usize>();
        let mut head = [shape::NAMED; 1 + 2 * WORD];
        head[1..=WORD].copy_from_slice(&(names.as_ptr() as usize).to_ne_bytes());
        head[1 + WORD..].copy_from_slice(&names.len().to_ne_bytes());
        buf.clear();
        buf.extend_from_slice(&head);
    }

    /// The content written into `buf` since it was started.
    pub(crate) fn finish(buf: &[u8]) -> Captured {
        Captured(Repr::Stored(Stored::new(buf)))
    }
}

impl<B: Buf> Writer<'_, B> {
    /// The name of the object's next value.
    #[inline]
    pub(crate) fn name(&mut self, name: &str) {
        self.bytes(name.as_bytes());
    }

    #[inline]
    pub(crate) fn null(&mut self) {
        self.0.put(&[tag::NULL]);
    }

    #[inline]
    pub(crate) fn bool(&mut self, v: bool) {
        self.0.put(&[if v { tag::TRUE } else { tag::FALSE }]);
    }

    #[inline]
    pub(crate) fn i64(&mut self, v: i64) {
        self.word(tag::I64, v.to_le_bytes());
    }

    #[inline]
    pub(crate) fn u64(&mut self, v: u64) {
        self.word(tag::U64, v.to_le_bytes());
    }

    #[inline]
    pub(crate) fn f64(&mut self, v: f64) {
        self.word(tag::F64, v.to_le_bytes());
    }

    #[inline]
    pub(crate) fn f32(&mut self, v: f32) {
        let b = v.to_le_bytes();
        self.0.put(&[tag::F32, b[0], b[1], b[2], b[3]]);
    }

    /// A string, escaped when written out.
    #[inline]
    pub(crate) fn str(&mut self, s: &str) {
        self.tagged(tag::STR, s.as_bytes());
    }

    /// JSON text, written out as it is.
    #[inline]
    pub(crate) fn json(&mut self, json: &str) {
        self.tagged(tag::JSON, json.as_bytes());
    }

    #[inline]
    fn word(&mut self, tag: u8, bytes: [u8; 8]) {
        let mut item = [0u8; 9];
        item[0] = tag;
        item[1..].copy_from_slice(&bytes);
        self.0.put(&item);
    }

    /// A length, then the bytes. Captured content is bounded by the capture limit, far below
    /// 4 GiB.
    #[inline]
    fn bytes(&mut self, bytes: &[u8]) {
        let bytes = &bytes[..bytes.len().min(u32::MAX as usize)];
        self.0.put(&(bytes.len() as u32).to_le_bytes());
        self.0.put(bytes);
    }

    /// A tag, then [`bytes`](Self::bytes).
    #[inline]
    fn tagged(&mut self, tag: u8, bytes: &[u8]) {
        let bytes = &bytes[..bytes.len().min(u32::MAX as usize)];
        let len = (bytes.len() as u32).to_le_bytes();
        self.0.put(&[tag, len[0], len[1], len[2], len[3]]);
        self.0.put(bytes);
    }
}

/// Reads captured values back, in the order [`Writer`] wrote them.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(b) = self.bytes.get(self.at..self.at + N) {
            out.copy_from_slice(b);
        }
        self.at += N;
        out
    }

    /// The static names a [`shape::NAMED`] object starts with.
    fn names(&mut self) -> &'static [&'static str] {
        const WORD: usize = size_of::<usize>();
        let ptr = usize::from_ne_bytes(self.take::<WORD>()) as *const &'static str;
        let len = usize::from_ne_bytes(self.take::<WORD>());
        if ptr.is_null() || len == 0 {
            return &[];
        }
        // SAFETY: only `Writer::start_named` writes a `NAMED` object, and it writes the address
        // and length of a `&'static [&'static str]`, which stays valid and unchanged for the
        // rest of the program; captured bytes are never written again once stored, and never
        // come from outside this module (a cut never falls inside the header, written first).
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }

    fn raw(&mut self) -> &'a [u8] {
        let len = u32::from_le_bytes(self.take::<4>()) as usize;
        let end = (self.at + len).min(self.bytes.len());
        let raw = self.bytes.get(self.at..end).unwrap_or_default();
        self.at = end;
        raw
    }

    /// The bytes were copied from a `&str`; a cut inside a character cannot happen (the writer
    /// never cuts), but would give the valid prefix rather than a panic.
    fn str(&mut self) -> &'a str {
        let raw = self.raw();
        match std::str::from_utf8(raw) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&raw[..e.valid_up_to()]).unwrap_or_default(),
        }
    }

    fn item(&mut self) -> Item<'a> {
        let Some(&t) = self.bytes.get(self.at) else {
            return Item::Other;
        };
        self.at += 1;
        match t {
            tag::I64 => Item::Int(i64::from_le_bytes(self.take()).into()),
            tag::U64 => Item::Int(u64::from_le_bytes(self.take()).into()),
            tag::F64 => {
                self.at += 8;
                Item::Other
            }
            tag::F32 => {
                self.at += 4;
                Item::Other
            }
            tag::STR => Item::Str(self.str()),
            tag::JSON => Item::Json(self.str()),
            _ => Item::Other,
        }
    }

    fn value(&mut self, out: &mut String) {
        let Some(&t) = self.bytes.get(self.at) else {
            out.push_str("null");
            return;
        };
        self.at += 1;
        match t {
            tag::TRUE => out.push_str("true"),
            tag::FALSE => out.push_str("false"),
            tag::I64 => out.push_str(itoa::Buffer::new().format(i64::from_le_bytes(self.take()))),
            tag::U64 => out.push_str(itoa::Buffer::new().format(u64::from_le_bytes(self.take()))),
            // As serde_json: the shortest form that reads back, `null` when not finite.
            tag::F64 => {
                let v = f64::from_le_bytes(self.take());
                float(v, v.is_finite(), out);
            }
            tag::F32 => {
                let v = f32::from_le_bytes(self.take());
                float(v, v.is_finite(), out);
            }
            tag::STR => escape(self.str(), out),
            tag::JSON => out.push_str(self.str()),
            _ => out.push_str("null"),
        }
    }
}

fn float(v: impl ryu::Float, finite: bool, out: &mut String) {
    if finite {
        out.push_str(ryu::Buffer::new().format_finite(v));
    } else {
        out.push_str("null");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tag_is_written_back_as_json() {
        let mut buf = Vec::new();
        Writer::start_object(&mut buf);
        let mut w = Writer(&mut buf);
        for (name, write) in [
            (
                "n",
                &(|w: &mut Writer<'_>| w.null()) as &dyn Fn(&mut Writer<'_>),
            ),
            ("t", &|w| w.bool(true)),
            ("f", &|w| w.bool(false)),
            ("i", &|w| w.i64(i64::MIN)),
            ("u", &|w| w.u64(u64::MAX)),
            ("d", &|w| w.f64(0.1)),
            ("nan", &|w| w.f64(f64::NAN)),
            ("s", &|w| w.f32(1.5)),
            ("str", &|w| w.str("a \"b\"\n→")),
            ("j", &|w| w.json("[1,{\"a\":2}]")),
        ] {
            w.name(name);
            write(&mut w);
        }
        let json = Writer::finish(&buf).to_json();
        assert_eq!(
            json,
            format!(
                "{{\"n\":null,\"t\":true,\"f\":false,\"i\":{},\"u\":{},\"d\":0.1,\"nan\":null,\
                 \"s\":1.5,\"str\":\"a \\\"b\\\"\\n→\",\"j\":[1,{{\"a\":2}}]}}",
                i64::MIN,
                u64::MAX
            )
        );
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["str"], "a \"b\"\n→");
    }

    #[test]
    fn empty_shapes() {
        let mut buf = Vec::new();
        Writer::start_object(&mut buf);
        assert_eq!(Writer::finish(&buf).to_json(), "{}");
        Writer::start_value(&mut buf);
        assert_eq!(Writer::finish(&buf).to_json(), "null");
        Writer::start_value(&mut buf);
        Writer(&mut buf).str("x");
        assert_eq!(Writer::finish(&buf).to_json(), "\"x\"");
    }

    #[test]
    fn small_values_are_held_in_place_and_read_back_the_same() {
        let small = |write: &dyn Fn(&mut Writer<'_, Spill>)| {
            let mut out = Spill::value(Vec::new);
            write(&mut Writer(&mut out));
            out.finish()
        };
        let held = small(&|w| w.u64(u64::MAX)).expect("a number fits");
        assert!(matches!(held.0, Repr::Inline(_)));
        assert_eq!(held.to_json(), u64::MAX.to_string());
        let held = small(&|w| w.str("sixteen bytes ok")).expect("16 bytes fit");
        assert_eq!(held.to_json(), "\"sixteen bytes ok\"");
        // Equal to the same content in a chunk.
        let mut buf = Vec::new();
        Writer::start_value(&mut buf);
        Writer(&mut buf).str("sixteen bytes ok");
        assert!(held == Writer::finish(&buf));
    }

    /// Content that outgrows the value spills into the buffer given, whole, and what was
    /// written before the spill comes first.
    #[test]
    fn larger_values_spill_whole_into_the_buffer() {
        fn used() -> Vec<u8> {
            b"left over from another value".to_vec()
        }
        let mut out = Spill::value(used);
        Writer(&mut out).str("seventeen bytes!!");
        let buf = out.finish().expect_err("17 bytes do not fit");
        assert_eq!(Writer::finish(&buf).to_json(), "\"seventeen bytes!!\"");

        // Cut back after the spill (a value that turned out not to be a leaf): stays in the
        // buffer, at the length asked.
        let mut out = Spill::value(Vec::new);
        let start = out.len();
        Writer(&mut out).str("a string long enough to spill");
        out.truncate(start);
        Writer(&mut out).u64(7);
        let buf = out.finish().expect_err("spilled");
        assert_eq!(Writer::finish(&buf).to_json(), "7");
    }
}
