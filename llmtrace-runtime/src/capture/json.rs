//! Size-capped JSON serialization that always yields valid JSON.
//!
//! Content is user data of any size. The capped serializer writes at most `limit` bytes: when the
//! budget runs out it stops adding elements, cuts the current string at a character boundary
//! (marking the cut with `…`), gives a started object entry a `null` value, and closes every
//! open container, so the result parses and says it was cut.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

/// Appended where a string was cut.
const ELLIPSIS: &str = "…";

/// Serializes `value` as JSON of at most about `limit` bytes. Returns the JSON and whether it was
/// truncated.
pub(crate) fn to_string_capped<T: Serialize + ?Sized>(
    value: &T,
    limit: usize,
) -> Result<(String, bool), serde_json::Error> {
    let mut buf = Vec::with_capacity(limit.min(256));
    let mut formatter = Capped::new(limit);
    {
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, &mut formatter);
        value.serialize(&mut ser)?;
    }
    let mut truncated = formatter.truncated;
    if buf.is_empty() {
        buf.extend_from_slice(b"null");
        truncated = true;
    }
    // The formatter writes only whole UTF-8 sequences from `&str` fragments and ASCII otherwise.
    let json =
        String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into());
    Ok((json, truncated))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between entries, or in an array.
    Idle,
    /// A key has started.
    KeyStarted,
    /// The key is written; `:` and the value come next.
    KeyWritten,
    /// The key and `:` are written; the value is not yet.
    AwaitingValue,
}

#[derive(Debug)]
struct Frame {
    object: bool,
    phase: Phase,
}

#[derive(Debug, PartialEq, Eq)]
enum StringState {
    None,
    Written,
    Skipped,
}

#[derive(Debug)]
struct Capped {
    limit: usize,
    written: usize,
    /// The budget ran out: write nothing new, only close what is open.
    done: bool,
    truncated: bool,
    /// Containers opened after the budget ran out (written as nothing).
    skip_depth: usize,
    stack: Vec<Frame>,
    string: StringState,
    pending_comma: bool,
    scratch: Vec<u8>,
}

impl Capped {
    fn new(limit: usize) -> Self {
        Capped {
            limit: limit.max(16),
            written: 0,
            done: false,
            truncated: false,
            skip_depth: 0,
            stack: Vec::new(),
            string: StringState::None,
            pending_comma: false,
            scratch: Vec::new(),
        }
    }

    /// Bytes that closing everything open will take.
    fn reserve(&self) -> usize {
        let frames: usize = self
            .stack
            .iter()
            .map(|f| 1 + if f.object { 5 } else { 0 })
            .sum();
        frames + 1 + ELLIPSIS.len()
    }

    fn fits(&self, n: usize) -> bool {
        self.written + n + self.reserve() <= self.limit
    }

    fn skipping(&self) -> bool {
        self.done || self.skip_depth > 0
    }

    fn exhaust(&mut self) {
        self.done = true;
        self.truncated = true;
    }

    fn raw<W: ?Sized + Write>(&mut self, w: &mut W, bytes: &[u8]) -> io::Result<()> {
        self.written += bytes.len();
        w.write_all(bytes)
    }

    /// Starts a value (or key) of `n` bytes: writes a pending comma first. False when it does not
    /// fit, which ends the output.
    fn start<W: ?Sized + Write>(&mut self, w: &mut W, n: usize) -> io::Result<bool> {
        let comma = usize::from(self.pending_comma);
        if !self.fits(n + comma) {
            self.exhaust();
            return Ok(false);
        }
        if self.pending_comma {
            self.pending_comma = false;
            self.raw(w, b",")?;
        }
        Ok(true)
    }

    /// A value was completed inside the current frame.
    fn value_done(&mut self) {
        if let Some(f) = self.stack.last_mut() {
            if f.phase == Phase::AwaitingValue {
                f.phase = Phase::Idle;
            }
        }
    }

    fn scalar<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        render: impl FnOnce(&mut CompactFormatter, &mut Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        // Inside a string (a number used as an object key), write into the string.
        let in_string = match self.string {
            StringState::Skipped => return Ok(()),
            StringState::Written => true,
            StringState::None => false,
        };
        if self.skipping() {
            return Ok(());
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        render(&mut CompactFormatter, &mut scratch)?;
        if in_string {
            if self.fits(scratch.len()) {
                self.raw(w, &scratch)?;
            } else {
                self.exhaust();
            }
        } else if self.start(w, scratch.len())? {
            self.raw(w, &scratch)?;
            self.value_done();
        }
        self.scratch = scratch;
        Ok(())
    }

    fn open<W: ?Sized + Write>(&mut self, w: &mut W, object: bool) -> io::Result<()> {
        if self.skipping() || !self.start(w, 2)? {
            self.skip_depth += 1;
            return Ok(());
        }
        self.raw(w, if object { b"{" } else { b"[" })?;
        self.stack.push(Frame {
            object,
            phase: Phase::Idle,
        });
        Ok(())
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.skip_depth > 0 {
            self.skip_depth -= 1;
            return Ok(());
        }
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        if frame.phase == Phase::AwaitingValue {
            self.raw(w, b"null")?;
        }
        self.pending_comma = false;
        self.raw(w, if frame.object { b"}" } else { b"]" })?;
        self.value_done();
        Ok(())
    }
}

macro_rules! scalar_methods {
    ($($name:ident($t:ty)),* $(,)?) => {$(
        fn $name<W: ?Sized + Write>(&mut self, w: &mut W, value: $t) -> io::Result<()> {
            self.scalar(w, |f, buf| f.$name(buf, value))
        }
    )*};
}

impl Formatter for &mut Capped {
    scalar_methods!(
        write_bool(bool),
        write_i8(i8),
        write_i16(i16),
        write_i32(i32),
        write_i64(i64),
        write_i128(i128),
        write_u8(u8),
        write_u16(u16),
        write_u32(u32),
        write_u64(u64),
        write_u128(u128),
        write_f32(f32),
        write_f64(f64),
        write_number_str(&str),
        write_byte_array(&[u8]),
        write_raw_fragment(&str),
    );

    fn write_null<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.scalar(w, |f, buf| f.write_null(buf))
    }

    fn begin_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.skipping() || !self.start(w, 2)? {
            self.string = StringState::Skipped;
            return Ok(());
        }
        self.string = StringState::Written;
        self.raw(w, b"\"")
    }

    fn end_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        let written = self.string == StringState::Written;
        self.string = StringState::None;
        if !written {
            return Ok(());
        }
        self.raw(w, b"\"")?;
        match self.stack.last_mut() {
            // A completed key: the value comes next.
            Some(f) if f.object && f.phase == Phase::KeyStarted => f.phase = Phase::KeyWritten,
            _ => self.value_done(),
        }
        Ok(())
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if self.string != StringState::Written || self.done {
            return Ok(());
        }
        let room = self.limit.saturating_sub(self.written + self.reserve());
        if fragment.len() <= room {
            return self.raw(w, fragment.as_bytes());
        }
        let mut cut = room;
        while !fragment.is_char_boundary(cut) {
            cut -= 1;
        }
        self.raw(w, &fragment.as_bytes()[..cut])?;
        self.raw(w, ELLIPSIS.as_bytes())?;
        self.exhaust();
        Ok(())
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        if self.string != StringState::Written || self.done {
            return Ok(());
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        CompactFormatter.write_char_escape(&mut scratch, escape)?;
        if self.fits(scratch.len()) {
            self.raw(w, &scratch)?;
        } else {
            self.raw(w, ELLIPSIS.as_bytes())?;
            self.exhaust();
        }
        self.scratch = scratch;
        Ok(())
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, false)
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w)
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, _w: &mut W, first: bool) -> io::Result<()> {
        if !self.skipping() {
            self.pending_comma = !first;
        }
        Ok(())
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, true)
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w)
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, _w: &mut W, first: bool) -> io::Result<()> {
        if self.skipping() {
            return Ok(());
        }
        self.pending_comma = !first;
        if let Some(f) = self.stack.last_mut() {
            f.phase = Phase::KeyStarted;
        }
        Ok(())
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        Ok(())
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.skip_depth > 0 {
            return Ok(());
        }
        // Only a written key gets its `:`; it is then owed a value (`null` if none fits).
        if let Some(f) = self.stack.last_mut() {
            if f.phase == Phase::KeyWritten {
                f.phase = Phase::AwaitingValue;
                return self.raw(w, b":");
            }
        }
        Ok(())
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        if self.skip_depth == 0 {
            if let Some(f) = self.stack.last_mut() {
                if f.phase == Phase::KeyStarted {
                    f.phase = Phase::Idle;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(value: &serde_json::Value, limit: usize) -> (String, bool) {
        let (out, truncated) = to_string_capped(value, limit).unwrap();
        serde_json::from_str::<serde_json::Value>(&out)
            .unwrap_or_else(|e| panic!("invalid JSON at limit {limit}: {e}: {out}"));
        assert!(
            out.len() <= limit.max(16) + 4,
            "limit {limit} exceeded: {out}"
        );
        (out, truncated)
    }

    #[test]
    fn small_values_are_unchanged() {
        let v = json!({"a": [1, 2.5, "x\"y"], "b": null, "c": {"d": true}});
        let (out, truncated) = check(&v, 1000);
        assert_eq!(out, v.to_string());
        assert!(!truncated);
    }

    #[test]
    fn every_cut_point_yields_valid_json() {
        let v = json!({
            "question": "Where is my order A-42? It was due on Monday — über late ✓",
            "history": [{"role": "user", "text": "hi\n\t\"there\""}, {"role": "assistant", "text": "hello"}],
            "k": 12345678901234_i64,
            "nested": {"deep": {"deeper": [1, [2, [3, [4]]]]}, "flag": false},
        });
        let full = v.to_string();
        for limit in 0..full.len() + 8 {
            let (out, truncated) = check(&v, limit);
            assert_eq!(truncated, out != full, "limit {limit}: {out}");
        }
    }

    #[test]
    fn long_strings_are_cut_at_char_boundaries_with_a_marker() {
        let v = json!("ééééééééééééééééééééééééééééééééééééééééééééé");
        let (out, truncated) = check(&v, 24);
        assert!(truncated);
        assert!(out.ends_with("…\""), "{out}");
    }
}
