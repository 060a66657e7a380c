//! Walking valid JSON: a validating recursive-descent pass that collects the string values (and
//! card numbers given as numbers) as it checks the grammar. Text that is not valid JSON is
//! reported, to be walked leniently instead.

use super::{Edit, Scratch, is_space};
use crate::stages::redact::{Detector, Redactor, luhn};

/// Deeper documents are walked leniently (the walk recurses; this bounds its stack to a few
/// tens of KiB).
const MAX_DEPTH: u32 = 512;

/// The text is not valid JSON.
#[derive(Debug)]
pub(in crate::stages::redact) struct NotJson;

type Walked = Result<(), NotJson>;

/// A validating walk over one JSON text.
struct Walk<'a> {
    redactor: &'a Redactor,
    json: &'a str,
    b: &'a [u8],
    i: usize,
    s: &'a mut Scratch,
    /// Objects opened so far: the next object's id.
    objects: u32,
    /// Inside a value replaced whole (after a key naming a secret): nothing in it is collected.
    hidden: u32,
}

impl Redactor {
    /// Collects the string values and card numbers of `json` into `s`, or says it is not JSON.
    pub(in crate::stages::redact) fn walk_strict(&self, json: &str, s: &mut Scratch) -> Walked {
        let mut walk = Walk {
            redactor: self,
            json,
            b: json.as_bytes(),
            i: 0,
            s,
            objects: 0,
            hidden: 0,
        };
        walk.value(0, None)?;
        walk.space();
        if walk.i == walk.b.len() {
            Ok(())
        } else {
            Err(NotJson)
        }
    }
}

impl<'a> Walk<'a> {
    fn space(&mut self) {
        while self.i < self.b.len() && is_space(self.b[self.i]) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Result<u8, NotJson> {
        self.b.get(self.i).copied().ok_or(NotJson)
    }

    fn expect(&mut self, c: u8) -> Walked {
        if self.peek()? != c {
            return Err(NotJson);
        }
        self.i += 1;
        Ok(())
    }

    fn value(&mut self, depth: u32, context: Option<Detector>) -> Walked {
        self.space();
        let c = self.peek()?;
        if let Some(detector) = context.filter(|_| self.hidden == 0) {
            // A number, object or array after a key naming a secret: replaced whole (a string
            // is replaced below, unless empty; `true`, `false` and `null` hold nothing).
            if matches!(c, b'{' | b'[' | b'-' | b'0'..=b'9') {
                let start = self.i;
                self.hidden += 1;
                let walked = self.value(depth, None);
                self.hidden -= 1;
                walked?;
                self.s.edits.push(Edit {
                    start,
                    end: self.i,
                    with: format!("\"{}\"", detector.marker()),
                    count: 1,
                });
                return Ok(());
            }
        }
        match c {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => {
                let start = self.i;
                let (raw, escaped) = self.string()?;
                if self.hidden == 0 {
                    self.s
                        .push_value(start, self.i, true, raw, escaped, context, None);
                }
                Ok(())
            }
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => Err(NotJson),
        }
    }

    fn object(&mut self, depth: u32) -> Walked {
        if depth > MAX_DEPTH {
            return Err(NotJson);
        }
        let object = self.objects;
        self.objects += 1;
        self.i += 1;
        self.space();
        if self.peek()? == b'}' {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.space();
            if self.peek()? != b'"' {
                return Err(NotJson);
            }
            let start = self.i;
            let (raw, escaped) = self.string()?;
            let context = self.redactor.key_context(self.s, raw, escaped);
            if self.hidden == 0 {
                // Keys are content too (a map keyed by e-mail address).
                self.s
                    .push_value(start, self.i, true, raw, escaped, None, Some(object));
            }
            self.space();
            self.expect(b':')?;
            self.value(depth, context)?;
            self.space();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(NotJson),
            }
        }
    }

    fn array(&mut self, depth: u32) -> Walked {
        if depth > MAX_DEPTH {
            return Err(NotJson);
        }
        self.i += 1;
        self.space();
        if self.peek()? == b']' {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.value(depth, None)?;
            self.space();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(NotJson),
            }
        }
    }

    /// A string at `self.i`: its raw content and whether it holds escapes; `self.i` moves past
    /// its closing quote.
    fn string(&mut self) -> Result<(&'a str, bool), NotJson> {
        let start = self.i + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = next_special(self.b, i);
            match self.b.get(i).ok_or(NotJson)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += match self.b.get(i + 1).ok_or(NotJson)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                        b'u' if self
                            .b
                            .get(i + 2..i + 6)
                            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                        {
                            6
                        }
                        _ => return Err(NotJson),
                    };
                }
                // A control character.
                _ => return Err(NotJson),
            }
        }
        self.i = i + 1;
        let json = self.json;
        Ok((&json[start..i], escaped))
    }

    fn number(&mut self) -> Walked {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        let digits = |i: &mut usize| {
            let from = *i;
            while *i < b.len() && b[*i].is_ascii_digit() {
                *i += 1;
            }
            *i > from
        };
        if b[i] == b'-' {
            i += 1;
        }
        let int_start = i;
        if !digits(&mut i) || (b[int_start] == b'0' && i - int_start > 1) {
            return Err(NotJson);
        }
        let integer = i;
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return Err(NotJson);
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digits(&mut i) {
                return Err(NotJson);
            }
        }
        self.i = i;
        if integer == i
            && self.hidden == 0
            && self.redactor.enabled(Detector::PaymentCard)
            && luhn::is_card_number(&self.json[int_start..i])
        {
            self.s.edits.push(Edit {
                start,
                end: i,
                with: format!("\"{}\"", Detector::PaymentCard.marker()),
                count: 1,
            });
        }
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Walked {
        if !self.b[self.i..].starts_with(word) {
            return Err(NotJson);
        }
        self.i += word.len();
        Ok(())
    }
}

/// The position of the first `"`, `\` or control character in `b[i..]`, or `b.len()`: eight
/// bytes at a time.
fn next_special(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES * 0x80;
    // Bytes that are zero (below 1), or below `n`; the lowest flagged byte is exact.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    while i + 8 <= b.len() {
        let x = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let found = zero(x ^ (ONES * u64::from(b'"')))
            | zero(x ^ (ONES * u64::from(b'\\')))
            | below(x, 0x20);
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !matches!(b[i], b'"' | b'\\' | 0..0x20) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_special_finds_quotes_backslashes_and_controls() {
        for (text, at) in [
            ("", 0),
            ("abc", 3),
            ("abcdefghijk\"", 11),
            ("abcdefgh\\", 8),
            ("a\u{1}", 1),
            ("ééééé\"", 10),
            ("0123456789abcdef\n", 16),
            ("\"", 0),
        ] {
            assert_eq!(next_special(text.as_bytes(), 0), at, "{text:?}");
        }
    }
}
