//! Redacting JSON text: every string value is decoded (escapes and all), redacted as text, and
//! re-encoded only when it changed; everything else is copied byte for byte, so formatting and
//! key order stay and the JSON stays valid.
//!
//! Decoding first means escaping cannot hide a secret (`\u0041KIA...`, `\/`, `\"`). A card
//! number given as a JSON number becomes the marker string. The value of an `authorization`
//! key is a credential whatever its form, as is that of an `api_key`, `x-api-key` or
//! `aws_secret_access_key` key.
//!
//! One validating pass ([`strict`]) collects the string values, decoded and joined by NULs into
//! one text that the built-in detectors search in one pass (a JSON document holds many short
//! strings; one search each would cost more than the searching). The buffers are kept per
//! thread, so redacting allocates only what it returns.
//!
//! Text that is not valid JSON (content cut short, say) is redacted as text, then each string
//! in it ([`lenient`]) once more after decoding.

mod decode;
mod lenient;
mod strict;

use std::borrow::Cow;
use std::cell::RefCell;

pub(in crate::stages::redact) use decode::decode_into;

use super::{Detector, Redacted, Redactor, Span};

/// One replacement: `json[start..end]` becomes `with`, counting `count` redactions.
#[derive(Debug)]
struct Edit {
    start: usize,
    end: usize,
    with: String,
    count: usize,
}

/// A string value of the document.
#[derive(Debug, Clone, Copy)]
struct StringValue {
    /// The token, quotes included, in the JSON text.
    start: usize,
    end: usize,
    /// Whether it has its closing quote (text cut short may end inside a string).
    closed: bool,
    /// Its decoded content in [`Scratch::text`].
    at: usize,
    len: usize,
    /// The detector whose marker replaces the whole value (after a credential key).
    context: Option<Detector>,
}

/// Buffers reused from call to call on a thread.
#[derive(Debug, Default)]
pub(in crate::stages::redact) struct Scratch {
    /// The decoded string values, each followed by a NUL.
    text: String,
    values: Vec<StringValue>,
    spans: Vec<Span>,
    edits: Vec<Edit>,
    /// A decoded key.
    key: String,
}

impl Scratch {
    fn clear(&mut self) {
        self.text.clear();
        self.values.clear();
        self.spans.clear();
        self.edits.clear();
    }

    /// Records the string value `json[start..end]`, whose content is `raw`.
    fn push_value(
        &mut self,
        start: usize,
        end: usize,
        closed: bool,
        raw: &str,
        escaped: bool,
        context: Option<Detector>,
    ) {
        let at = self.text.len();
        decode_into(raw, escaped, &mut self.text);
        self.values.push(StringValue {
            start,
            end,
            closed,
            at,
            len: self.text.len() - at,
            context,
        });
        self.text.push('\0');
    }
}

/// Scratch buffers larger than this are not kept.
const KEEP: usize = 1 << 20;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch buffers (or new ones, when a custom function redacts
/// JSON from inside a redaction).
pub(in crate::stages::redact) fn with_scratch<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            scratch.clear();
            let out = f(&mut scratch);
            if scratch.text.capacity() > KEEP || scratch.values.capacity() > KEEP / 16 {
                *scratch = Scratch::default();
            }
            out
        }
        Err(_) => f(&mut Scratch::default()),
    })
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl Redactor {
    /// Redacts JSON text: string values (not object keys) after decoding, card numbers given as
    /// numbers, the values of credential keys. Valid JSON stays valid, with its formatting and
    /// key order; text that is not JSON is redacted as text and string by string.
    pub fn redact_json<'a>(&self, json: &'a str) -> Redacted<'a> {
        if self.is_noop() {
            return Redacted::unchanged(json);
        }
        let strict = with_scratch(|s| self.walk_strict(json, s).ok().map(|()| self.edit(json, s)));
        if let Some(edited) = strict {
            return match edited {
                Some((text, count)) => Redacted {
                    text: Cow::Owned(text),
                    count,
                },
                None => Redacted::unchanged(json),
            };
        }
        let first = self.redact_text(json);
        let edited = with_scratch(|s| {
            self.walk_lenient(&first.text, s);
            self.edit(&first.text, s)
        });
        match edited {
            Some((text, count)) => Redacted {
                text: Cow::Owned(text),
                count: first.count + count,
            },
            None => first,
        }
    }

    /// Redacts the values a walk of `json` collected into `s`; returns the edited text and the
    /// redaction count, or `None` when nothing changed.
    fn edit(&self, json: &str, s: &mut Scratch) -> Option<(String, usize)> {
        self.find_builtin(&s.text, &mut s.spans);
        let per_value = !self.custom.is_empty() || !self.fns.is_empty();
        if s.spans.is_empty()
            && s.edits.is_empty()
            && !per_value
            && s.values.iter().all(|v| v.context.is_none())
        {
            return None;
        }
        s.spans.sort_unstable_by_key(|span| (span.start, span.rank));
        let mut next = 0;
        for v in &s.values {
            let content = &s.text[v.at..v.at + v.len];
            let first = next;
            while next < s.spans.len() && s.spans[next].start < v.at + v.len {
                next += 1;
            }
            let (text, count) = match v.context {
                Some(detector)
                    if !content.trim().is_empty() && !content.starts_with("[REDACTED") =>
                {
                    (detector.marker().to_owned(), 1)
                }
                _ => {
                    let mut spans: Vec<Span> = s.spans[first..next]
                        .iter()
                        .map(|span| Span {
                            start: span.start - v.at,
                            end: span.end.min(v.at + v.len) - v.at,
                            rank: span.rank,
                        })
                        .collect();
                    self.find_custom(content, &mut spans);
                    let r = if spans.is_empty() {
                        Redacted::unchanged(content)
                    } else {
                        self.splice(content, &mut spans)
                    };
                    let r = self.apply_fns(r);
                    match r.text {
                        Cow::Owned(text) => (text, r.count),
                        Cow::Borrowed(_) => continue,
                    }
                }
            };
            let mut with = serde_json::to_string(&text).expect("a string serializes");
            if !v.closed {
                with.pop();
            }
            s.edits.push(Edit {
                start: v.start,
                end: v.end,
                with,
                count,
            });
        }
        if s.edits.is_empty() {
            return None;
        }
        s.edits.sort_unstable_by_key(|e| e.start);
        let mut out = String::with_capacity(json.len());
        let mut copied = 0;
        let mut count = 0;
        for e in &s.edits {
            out.push_str(&json[copied..e.start]);
            out.push_str(&e.with);
            copied = e.end;
            count += e.count;
        }
        out.push_str(&json[copied..]);
        Some((out, count))
    }

    /// The detector whose marker replaces the whole value of the object key `key`, compared
    /// without case, `_` or `-` (`Authorization`, `x-api-key`, `awsSecretAccessKey`).
    fn key_context(&self, s: &mut Scratch, raw: &str, escaped: bool) -> Option<Detector> {
        let key = if escaped {
            s.key.clear();
            decode_into(raw, true, &mut s.key);
            s.key.as_str()
        } else {
            raw
        };
        let mut buf = [0u8; 48];
        let mut n = 0;
        for &c in key.as_bytes() {
            if c == b'_' || c == b'-' {
                continue;
            }
            if n == buf.len() {
                return None;
            }
            buf[n] = c.to_ascii_lowercase();
            n += 1;
        }
        let key = &buf[..n];
        let detector = if key == b"authorization" || key == b"proxyauthorization" {
            Detector::Bearer
        } else if key.ends_with(b"apikey")
            || key.ends_with(b"secretaccesskey")
            || key == b"awssecretkey"
        {
            Detector::ApiKey
        } else {
            return None;
        };
        self.enabled(detector).then_some(detector)
    }
}
