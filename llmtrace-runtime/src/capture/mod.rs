//! Capturing content on the caller's thread: parameters, return values and error messages,
//! serialized with serde into size-capped, panic-safe JSON.
//!
//! Parameters are borrowed and may be moved by the body, so they are captured when the span
//! starts. Leaves (strings, numbers, bools) are copied typed (`leaf`) and written as JSON where
//! the stages run ([`Captured`](crate::Captured)); the rest is serialized on the caller's
//! thread by the capped serializer (`json`), the only JSON work done there.

mod bounded;
pub(crate) mod json;
mod leaf;
pub mod ret;

use crate::record::captured::{Spill, Writer};

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;

use crate::record::{CAPTURE_FAILED, FLAG_TRUNCATED, Field, Record, Value};

/// Captured beyond the content limit, so that redaction, which runs in the stages before the
/// value is cut to the limit, sees a secret that straddles the limit whole (PEM private keys,
/// the longest secrets detected, are under 4 KiB).
const REDACTION_MARGIN: usize = 8 * 1024;

/// How much of a value is captured on the caller's thread: the content limit in effect plus the
/// redaction margin.
#[inline]
pub(crate) fn capture_limit() -> usize {
    crate::state::content_limit()
        .saturating_add(REDACTION_MARGIN)
        .min(MAX_CAPTURE)
}

/// Most captured of one value, whatever the content limit: captured content is stored with
/// 32-bit lengths (`record/captured/`).
const MAX_CAPTURE: usize = 1 << 30;

/// Largest status description (an error's or a panic's message) exported, in bytes. The
/// content stage cuts to it, after redaction.
pub(crate) const MAX_MESSAGE: usize = 4 * 1024;

/// How much of a message is captured on the caller's thread: [`MAX_MESSAGE`] and the redaction
/// margin, so that a secret straddling the final cut is redacted whole before it is made.
const MESSAGE_CAPTURE: usize = MAX_MESSAGE + REDACTION_MARGIN;

/// Serializes `value` within `limit` bytes; a panicking or failing `Serialize` yields
/// `"<capture failed>"`.
pub(crate) fn json<T: Serialize + ?Sized>(value: &T, limit: usize) -> (String, bool) {
    match catch_unwind(AssertUnwindSafe(|| json::to_string_capped(value, limit))) {
        Ok(Ok(out)) => out,
        Ok(Err(_)) | Err(_) => (format!("\"{CAPTURE_FAILED}\""), false),
    }
}

/// Appends `value` to the captured content in `out`: a leaf typed, anything else as JSON of at
/// most about `limit` bytes from the capped serializer. Returns whether it was cut; a panicking
/// or failing `Serialize` yields `"<capture failed>"`.
#[inline]
fn write_value<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>, limit: usize) -> bool {
    let start = out.len();
    match catch_unwind(AssertUnwindSafe(|| leaf::write(value, out, limit))) {
        Ok(true) => return false,
        Ok(false) => {}
        Err(_) => {
            out.truncate(start);
            Writer(out).json(FAILED_JSON);
            return false;
        }
    }
    let (json, truncated) = json(value, limit);
    Writer(out).json(&json);
    truncated
}

/// [`CAPTURE_FAILED`] as a JSON string.
const FAILED_JSON: &str = "\"<capture failed>\"";

thread_local! {
    /// Where a single value too long to be held in place is written before it is copied into
    /// the thread's chunk of captured content.
    static VALUE_SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    /// The buffer an [`InputWriter`] borrows while it writes, kept for the thread's next call
    /// (the input is then copied into the thread's chunk, without a buffer of its own).
    static INPUT_SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Largest scratch buffer kept for the thread's next [`InputWriter`] or large value: a larger
/// one (a big parameter or return value was captured) is freed rather than held for the
/// thread's lifetime.
const SCRATCH_KEPT: usize = 4 * 1024;

/// Captures an instrumented function's parameters: the JSON object of them, as the stages will
/// write it.
#[derive(Debug)]
pub struct InputWriter {
    buf: Vec<u8>,
    /// The names were given up front ([`named`](Self::named)): values only are written.
    named: bool,
    /// The capture limit, read once for all the parameters.
    limit: usize,
    truncated: bool,
}

impl Default for InputWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl InputWriter {
    /// An empty object.
    #[inline]
    pub fn new() -> Self {
        Self::start(None)
    }

    /// An empty object whose parameters are `names`, added in that order: the names are not
    /// copied on each call (the macros' form).
    #[inline]
    pub fn named(names: &'static [&'static str]) -> Self {
        Self::start(Some(names))
    }

    #[inline]
    fn start(names: Option<&'static [&'static str]>) -> Self {
        // Taken, not borrowed: a parameter whose `Serialize` calls an instrumented function
        // finds the cell empty and writes into a buffer of its own.
        let mut buf = INPUT_SCRATCH.try_with(Cell::take).unwrap_or_default();
        match names {
            Some(names) => Writer::start_named(&mut buf, names),
            None => Writer::start_object(&mut buf),
        }
        InputWriter {
            buf,
            named: names.is_some(),
            limit: capture_limit(),
            truncated: false,
        }
    }

    /// Adds one parameter (`name` is the next of the names given to [`named`](Self::named),
    /// when it was used).
    #[inline]
    pub fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) {
        let remaining = self.limit.saturating_sub(self.buf.len());
        if !self.named {
            Writer(&mut self.buf).name(name);
        }
        self.truncated |= write_value(value, &mut self.buf, remaining.max(16));
    }

    /// Adds one parameter as a redaction marker (`redact(..)` in the macro).
    pub fn redacted(&mut self, name: &str) {
        let mut w = Writer(&mut self.buf);
        if !self.named {
            w.name(name);
        }
        w.str("[REDACTED]");
    }

    /// Stores the object as the span's input.
    #[inline]
    pub fn finish(mut self, rec: &mut Record) {
        // Set once, when the span starts: nothing else records a span's input.
        rec.push_new(Field::Input, Value::Captured(Writer::finish(&self.buf)));
        if self.truncated {
            rec.flags |= FLAG_TRUNCATED;
        }
        if self.buf.capacity() <= SCRATCH_KEPT {
            // Fails only while the thread's locals are being destroyed: the buffer is freed.
            let _ = INPUT_SCRATCH.try_with(|cell| cell.set(std::mem::take(&mut self.buf)));
        }
    }
}

/// Records a serializable value in `field`: a leaf typed, written as JSON where the stages
/// run, anything else as JSON now.
///
/// `Serialize` runs once for a leaf, held in the value itself while it is small (a number, a
/// bool, a short string) and copied into the thread's chunk otherwise; twice for anything else,
/// whose first run stops at its first call (a struct, a sequence: not a leaf).
pub(crate) fn record_json<T: Serialize + ?Sized>(rec: &mut Record, field: Field, value: &T) {
    let limit = capture_limit();
    let mut out = Spill::value(take_value_scratch);
    let written = catch_unwind(AssertUnwindSafe(|| leaf::write(value, &mut out, limit)));
    let leaf = match (written, out.finish()) {
        (Ok(true), Ok(small)) => Some(Value::Captured(small)),
        (Ok(true), Err(buf)) => {
            let captured = Writer::finish(&buf);
            keep_value_scratch(buf);
            Some(Value::Captured(captured))
        }
        (written, spilled) => {
            if let Err(buf) = spilled {
                keep_value_scratch(buf);
            }
            written.is_err().then(|| Value::Json(FAILED_JSON.into()))
        }
    };
    if let Some(leaf) = leaf {
        rec.set_content(field, leaf);
        return;
    }
    let (json, truncated) = json(value, limit);
    rec.set(field, Value::Json(json.into_boxed_str()));
    if truncated {
        rec.flags |= FLAG_TRUNCATED;
    }
}

/// The thread's buffer for a value too large to be held in place. Taken, not borrowed: a
/// `Serialize` that records another value (it calls an instrumented function) finds the cell
/// empty and gets a buffer of its own.
fn take_value_scratch() -> Vec<u8> {
    VALUE_SCRATCH.try_with(Cell::take).unwrap_or_default()
}

/// Keeps `buf` for the thread's next large value, unless it grew past what is kept.
fn keep_value_scratch(buf: Vec<u8>) {
    if buf.capacity() <= SCRATCH_KEPT {
        // Fails only while the thread's locals are being destroyed: the buffer is freed.
        let _ = VALUE_SCRATCH.try_with(|cell| cell.set(buf));
    }
}

/// Formats an error message, panic-safe and bounded: formatting stops once the message is longer
/// than what is captured (a `Display` that propagates `fmt::Error` stops at once), and a cut
/// message ends with `…`.
pub(crate) fn message(f: impl FnOnce(&mut MessageWriter) -> fmt::Result) -> Box<str> {
    let mut bounded = MessageWriter {
        text: String::new(),
        cut: false,
    };
    match catch_unwind(AssertUnwindSafe(|| f(&mut bounded))) {
        // An error after the cut is the cut itself.
        Ok(Ok(())) => bounded.finish(),
        Ok(Err(_)) if bounded.cut => bounded.finish(),
        _ => CAPTURE_FAILED.into(),
    }
}

/// A panic's message, bounded as [`message`] bounds an error's.
pub(crate) fn panic_message(text: &str) -> Box<str> {
    message(|m| m.write_str(text))
}

/// A message being formatted, cut at [`MESSAGE_CAPTURE`] bytes.
#[derive(Debug)]
pub(crate) struct MessageWriter {
    text: String,
    cut: bool,
}

impl MessageWriter {
    fn finish(mut self) -> Box<str> {
        if self.cut {
            self.text.push('…');
        }
        self.text.into_boxed_str()
    }
}

impl fmt::Write for MessageWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = MESSAGE_CAPTURE.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
            return Ok(());
        }
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(&s[..end]);
        self.cut = true;
        Err(fmt::Error)
    }
}

/// The name of an error type for `error.type`: the last path segment without generics, with its
/// parent module when the type is just called `Error` (`io::Error`, `anyhow::Error`).
pub(crate) fn short_type_name(full: &'static str) -> Cow<'static, str> {
    // A boxed trait object hides the error's own type: say what it is.
    if let Some(inner) = full.strip_prefix("alloc::boxed::Box<dyn ") {
        let trait_path = inner.split([' ', '+', '>']).next().unwrap_or(inner);
        let name = trait_path.rsplit("::").next().unwrap_or(trait_path);
        return Cow::Owned(format!("Box<dyn {name}>"));
    }
    let base = full.split('<').next().unwrap_or(full);
    let mut segments = base.rsplit("::");
    let last = segments.next().unwrap_or(base);
    if last != "Error" {
        return Cow::Borrowed(last);
    }
    // `std::io::error::Error` is `io::Error`: skip the private `error` modules.
    match segments.find(|s| *s != "error") {
        Some(parent) => Cow::Owned(format!("{parent}::{last}")),
        None => Cow::Borrowed(last),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input_json(rec: &Record) -> String {
        match rec.get(Field::Input) {
            Some(Value::Captured(c)) => c.to_json(),
            other => panic!("not captured: {other:?}"),
        }
    }

    #[test]
    fn error_type_names() {
        assert_eq!(short_type_name("my_app::AppError"), "AppError");
        assert_eq!(short_type_name("anyhow::Error"), "anyhow::Error");
        assert_eq!(short_type_name("std::io::error::Error"), "io::Error");
        assert_eq!(
            short_type_name("alloc::boxed::Box<dyn core::error::Error>"),
            "Box<dyn Error>"
        );
        assert_eq!(
            short_type_name(
                "alloc::boxed::Box<dyn core::error::Error + core::marker::Send + core::marker::Sync>"
            ),
            "Box<dyn Error>"
        );
        assert_eq!(short_type_name("reqwest::Error"), "reqwest::Error");
        assert_eq!(short_type_name("Error"), "Error");
    }

    /// A return value's `Serialize` runs once when it is a leaf, small or not, and twice for
    /// anything else (the first run stops at its first call); the value recorded is the same.
    #[test]
    fn a_value_is_serialized_once_when_it_is_a_leaf() {
        use crate::record::{Callsite, Kind};
        use std::cell::Cell;
        static CALL: Callsite = Callsite::new(Kind::Tool, "t", "m", &[], &[], 0);

        /// Serializes its value, counting the calls.
        struct Counted<'a, T>(&'a T, &'a Cell<u32>);
        impl<T: Serialize> Serialize for Counted<'_, T> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.1.set(self.1.get() + 1);
                self.0.serialize(s)
            }
        }
        #[derive(Serialize)]
        struct Answer {
            text: &'static str,
        }

        fn recorded<T: Serialize>(value: &T) -> (String, u32) {
            let calls = Cell::new(0);
            let mut rec = Record::new(&CALL, 1, 2, 0, None, 0);
            record_json(&mut rec, Field::Output, &Counted(value, &calls));
            let json = match rec.get(Field::Output) {
                Some(Value::Captured(c)) => c.to_json(),
                Some(Value::Json(j)) => j.to_string(),
                other => panic!("not recorded: {other:?}"),
            };
            (json, calls.get())
        }

        assert_eq!(recorded(&42u64), ("42".to_owned(), 1));
        let long = "a string well past what a value holds in place";
        assert_eq!(recorded(&long), (format!("\"{long}\""), 1));
        assert_eq!(
            recorded(&Answer { text: "yes" }),
            (r#"{"text":"yes"}"#.to_owned(), 2)
        );
    }

    /// A parameter whose `Serialize` captures another function's input (it calls an
    /// instrumented function) while the outer object is being written: each object gets its own
    /// fields, and the thread's buffer is left for the next call.
    #[test]
    fn an_input_written_inside_another_keeps_both() {
        use crate::record::{Callsite, Kind};
        static CALL: Callsite = Callsite::new(Kind::Tool, "t", "m", &[], &[], 0);

        struct Nested;
        impl Serialize for Nested {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut inner = Record::new(&CALL, 1, 2, 0, None, 0);
                let mut w = InputWriter::new();
                w.field("inner", "x\n");
                w.finish(&mut inner);
                s.serialize_str(&input_json(&inner))
            }
        }

        for _ in 0..2 {
            let mut outer = Record::new(&CALL, 1, 3, 0, None, 0);
            let mut w = InputWriter::new();
            w.field("a", &1);
            w.field("nested", &Nested);
            w.field("b", "é");
            w.finish(&mut outer);
            let parsed: serde_json::Value = serde_json::from_str(&input_json(&outer)).unwrap();
            assert_eq!(
                parsed,
                serde_json::json!({"a": 1, "nested": "{\"inner\":\"x\\n\"}", "b": "é"})
            );
        }
    }

    /// Parameters named up front (the macros' form) read back as the same object as parameters
    /// named one by one: strings to escape, numbers, redacted, a struct, fewer values than
    /// names, and none at all.
    #[test]
    fn named_parameters_read_back_as_the_object() {
        use crate::record::{Callsite, Kind};
        static CALL: Callsite = Callsite::new(Kind::Tool, "t", "m", &[], &[], 0);
        #[derive(Serialize)]
        struct Hit {
            id: u32,
            text: &'static str,
        }

        fn both(names: &'static [&'static str], write: impl Fn(&mut InputWriter)) -> String {
            let mut named = Record::new(&CALL, 1, 2, 0, None, 0);
            let mut w = InputWriter::named(names);
            write(&mut w);
            w.finish(&mut named);
            let mut each = Record::new(&CALL, 1, 3, 0, None, 0);
            let mut w = InputWriter::new();
            write(&mut w);
            w.finish(&mut each);
            assert_eq!(input_json(&named), input_json(&each));
            input_json(&named)
        }

        let json = both(&["question", "limit", "key", "hits"], |w| {
            w.field("question", "what \"is\" it?");
            w.field("limit", &3u32);
            w.redacted("key");
            w.field("hits", &[Hit { id: 1, text: "a" }]);
        });
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({
                "question": "what \"is\" it?",
                "limit": 3,
                "key": "[REDACTED]",
                "hits": [{"id": 1, "text": "a"}],
            })
        );
        assert_eq!(both(&[], |_| {}), "{}");
        // Fewer values than names (not written by the macros): the object stops at the last.
        assert_eq!(both(&["a", "b"], |w| w.field("a", &true)), r#"{"a":true}"#);
    }

    #[test]
    fn panicking_serialize_is_contained() {
        struct Bomb;
        impl Serialize for Bomb {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                panic!("boom")
            }
        }
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let (out, _) = json(&Bomb, 100);
        std::panic::set_hook(prev);
        assert_eq!(out, "\"<capture failed>\"");
    }
}
