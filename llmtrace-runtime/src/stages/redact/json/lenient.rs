//! Walking text that is not valid JSON (JSON cut short, or not JSON at all): every quoted
//! stretch is taken for a string, and a string may run to the end of the text.

use super::{Edit, Scratch, is_space};
use crate::stages::redact::{Detector, Redactor};

impl Redactor {
    /// Collects the string values of `text` into `s`, leniently.
    pub(super) fn walk_lenient(&self, text: &str, s: &mut Scratch) {
        let b = text.as_bytes();
        // The detector whose marker replaces the next string value (after a credential key).
        let mut context: Option<Detector> = None;
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'"' {
                if is_space(b[i]) {
                    i += 1;
                    continue;
                }
                // Anything but space ends what a key named; a number after a key naming a
                // secret is replaced.
                if let Some(detector) = context.take() {
                    if b[i] == b'-' || b[i].is_ascii_digit() {
                        let end = b[i + 1..]
                            .iter()
                            .position(|c| {
                                !matches!(c, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                            })
                            .map_or(b.len(), |n| i + 1 + n);
                        s.edits.push(Edit {
                            start: i,
                            end,
                            with: format!("\"{}\"", detector.marker()),
                            count: 1,
                        });
                        i = end;
                        continue;
                    }
                }
                i += 1;
                continue;
            }
            let start = i;
            let (content_end, end, escaped) = scan_string(b, start + 1);
            let closed = end > content_end;
            let raw = &text[start + 1..content_end];
            let mut after = end;
            while after < b.len() && is_space(b[after]) {
                after += 1;
            }
            if closed && b.get(after) == Some(&b':') {
                context = self.key_context(s, raw, escaped);
                // Keys are content too; in text that is not JSON, one object is assumed.
                s.push_value(start, end, closed, raw, escaped, None, Some(0));
                i = after + 1;
                continue;
            }
            s.push_value(start, end, closed, raw, escaped, context.take(), None);
            i = end;
        }
    }
}

/// Scans a string whose content starts at `i`: returns the end of the content, the end of the
/// token (past the closing quote; both are `b.len()` when the string is not closed), and
/// whether it holds escapes.
fn scan_string(b: &[u8], mut i: usize) -> (usize, usize, bool) {
    let mut escaped = false;
    while let Some(n) = b
        .get(i..)
        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
    {
        i += n;
        if b[i] == b'"' {
            return (i, i + 1, escaped);
        }
        escaped = true;
        i += 2;
    }
    (b.len(), b.len(), escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_scanned_to_their_closing_quote() {
        let b = br#""a\"b" : 1"#;
        assert_eq!(scan_string(b, 1), (5, 6, true));
        assert_eq!(scan_string(br#""abc"#, 1), (4, 4, false));
        assert_eq!(scan_string(br#""ab\"#, 1), (4, 4, true));
    }
}
