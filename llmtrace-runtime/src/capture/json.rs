//! Size-capped JSON serialization that always yields valid JSON.
//!
//! Content is user data of any size. The capped serializer writes at most `limit` bytes: when the
//! budget runs out it stops adding elements, cuts the current string at a character boundary
//! (marking the cut with `…`), gives a started object entry a `null` value, and closes every
//! open container, so the result parses and says it was cut. The walk of the value stops there
//! too ([`super::bounded`]): the cost follows what is kept, and nesting costs linear time.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

use super::bounded::{Bounded, Budget};

/// Appended where a string was cut.
const ELLIPSIS: &str = "…";

/// Serializes `value` as JSON of at most about `limit` bytes. Returns the JSON and whether it was
/// truncated.
pub(crate) fn to_string_capped<T: Serialize + ?Sized>(
    value: &T,
    limit: usize,
) -> Result<(String, bool), serde_json::Error> {
    let budget = Budget::new(limit.max(16));
    let mut buf = Vec::with_capacity(limit.min(256));
    let mut formatter = Capped::new(&budget);
    let walked = {
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, &mut formatter);
        value.serialize(Bounded {
            inner: &mut ser,
            budget: &budget,
        })
    };
    match walked {
        Ok(()) => {}
        // The walk stopped where the budget ran out: close what is open.
        Err(_) if budget.spent.get() => formatter.finish(&mut buf),
        Err(e) => return Err(e),
    }
    let mut truncated = budget.spent.get();
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
struct Capped<'b> {
    /// The limit, what is written, and whether the budget ran out (then nothing new is written,
    /// only what is open is closed).
    budget: &'b Budget,
    /// Bytes that closing everything open will take, kept as frames open and close (summing
    /// the stack on every write made deep values quadratic).
    closing: usize,
    /// Containers opened after the budget ran out (written as nothing).
    skip_depth: usize,
    stack: Vec<Frame>,
    string: StringState,
    pending_comma: bool,
    scratch: Vec<u8>,
}

impl<'b> Capped<'b> {
    fn new(budget: &'b Budget) -> Self {
        Capped {
            budget,
            closing: 0,
            skip_depth: 0,
            stack: Vec::new(),
            string: StringState::None,
            pending_comma: false,
            scratch: Vec::new(),
        }
    }

    /// Bytes that closing a frame takes: its bracket, and `:null` for an object's entry.
    fn closing_of(object: bool) -> usize {
        1 + if object { 5 } else { 0 }
    }

    /// Bytes that closing everything open will take.
    fn reserve(&self) -> usize {
        self.closing + 1 + ELLIPSIS.len()
    }

    fn written(&self) -> usize {
        self.budget.written.get()
    }

    fn done(&self) -> bool {
        self.budget.spent.get()
    }

    fn fits(&self, n: usize) -> bool {
        self.written() + n + self.reserve() <= self.budget.limit
    }

    fn skipping(&self) -> bool {
        self.done() || self.skip_depth > 0
    }

    fn exhaust(&mut self) {
        self.budget.spent.set(true);
    }

    fn raw<W: ?Sized + Write>(&mut self, w: &mut W, bytes: &[u8]) -> io::Result<()> {
        self.budget.written.set(self.written() + bytes.len());
        w.write_all(bytes)
    }

    /// Closes everything still open after the walk stopped early: a key still owed its value
    /// gets `null`.
    fn finish(&mut self, w: &mut Vec<u8>) {
        while let Some(frame) = self.stack.pop() {
            self.closing -= Self::closing_of(frame.object);
            match frame.phase {
                Phase::KeyWritten => w.extend_from_slice(b":null"),
                Phase::AwaitingValue => w.extend_from_slice(b"null"),
                Phase::Idle | Phase::KeyStarted => {}
            }
            w.push(if frame.object { b'}' } else { b']' });
            // The closed container was its parent's value.
            self.value_done();
        }
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
        self.closing += Self::closing_of(object);
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
        self.closing -= Self::closing_of(frame.object);
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

impl Formatter for &mut Capped<'_> {
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
        if self.string != StringState::Written || self.done() {
            return Ok(());
        }
        let room = self
            .budget
            .limit
            .saturating_sub(self.written() + self.reserve());
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
        if self.string != StringState::Written || self.done() {
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
        check_any(value, limit)
    }

    fn check_any<T: serde::Serialize + ?Sized>(value: &T, limit: usize) -> (String, bool) {
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

    /// A sequence that counts the elements serialized.
    struct Counted<'a> {
        len: usize,
        seen: &'a std::cell::Cell<usize>,
    }

    impl serde::Serialize for Counted<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            let mut seq = s.serialize_seq(Some(self.len))?;
            for i in 0..self.len {
                self.seen.set(self.seen.get() + 1);
                seq.serialize_element(&format!("item {i}"))?;
            }
            seq.end()
        }
    }

    #[test]
    fn the_walk_stops_where_the_budget_runs_out() {
        let seen = std::cell::Cell::new(0);
        let (out, truncated) = to_string_capped(
            &Counted {
                len: 1_000_000,
                seen: &seen,
            },
            1_000,
        )
        .unwrap();
        assert!(truncated);
        let parsed: Vec<String> = serde_json::from_str(&out).unwrap();
        // About 1000 / 9 elements fit; the walk goes one element further, not a million.
        assert!(parsed.len() > 90, "{}", parsed.len());
        assert!(seen.get() <= parsed.len() + 2, "{} walked", seen.get());
    }

    #[test]
    fn maps_and_structs_stop_too_and_stay_valid() {
        let big: std::collections::BTreeMap<String, Vec<u32>> = (0..10_000)
            .map(|i| (format!("key{i:05}"), vec![i; 10]))
            .collect();
        let nested = json!({"a": {"b": [big.clone(), big]}, "z": 1});
        for limit in [16, 40, 100, 1_000, 10_000] {
            let (out, truncated) = check(&nested, limit);
            assert!(truncated, "{out}");
        }
    }

    #[test]
    fn a_huge_display_is_collected_only_up_to_the_budget() {
        struct Huge<'a>(&'a std::cell::Cell<usize>);
        impl std::fmt::Display for Huge<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                for _ in 0..1_000_000 {
                    self.0.set(self.0.get() + 1);
                    f.write_str("0123456789")?;
                }
                Ok(())
            }
        }
        struct ByDisplay<'a>(Huge<'a>);
        impl serde::Serialize for ByDisplay<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }
        let chunks = std::cell::Cell::new(0);
        let (out, truncated) = to_string_capped(&ByDisplay(Huge(&chunks)), 500).unwrap();
        assert!(truncated && out.ends_with("…\""), "{out}");
        assert!(chunks.get() < 60, "{} chunks written", chunks.get());
    }

    /// A list nested `0` levels deep, built as it is serialized.
    struct Deep(usize);

    impl serde::Serialize for Deep {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            let mut seq = s.serialize_seq(Some(1))?;
            if self.0 > 0 {
                seq.serialize_element(&Deep(self.0 - 1))?;
            }
            seq.end()
        }
    }

    #[test]
    fn deep_values_are_cut_valid_at_the_depth_limit() {
        // A million levels: without the limit, the walk would overflow the stack.
        let (out, truncated) = check_any(&Deep(1_000_000), 100_000);
        assert!(truncated);
        assert_eq!(
            out.matches('[').count(),
            super::super::bounded::MAX_DEPTH as usize
        );
        // Within a budget smaller than the depth.
        let (out, truncated) = check_any(&Deep(1_000_000), 100);
        assert!(truncated && out.len() <= 100, "{out}");
        // Shallow enough: whole.
        let (out, truncated) = check_any(&Deep(3), 100);
        assert!(!truncated);
        assert_eq!(out, "[[[[]]]]");
    }
}
