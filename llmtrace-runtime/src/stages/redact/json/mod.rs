//! Redacting JSON text: every string value is decoded (escapes and all), redacted as text, and
//! re-encoded only when it changed; everything else is copied byte for byte, so formatting and
//! key order stay and the JSON stays valid.
//!
//! Decoding first means escaping cannot hide a secret (`\u0041KIA...`, `\/`, `\"`); a string
//! that holds a JSON document itself (a tool call's `arguments`) is redacted as JSON, so a
//! second level of escapes cannot hide one either (to [`MAX_NESTING`] levels). Object keys are
//! redacted like values, and keys that redact to the same text in one object are told apart
//! (`[REDACTED:email]`, `[REDACTED:email]#2`). A card number given as a JSON number becomes the
//! marker string. The value of a key that names a secret (`password`, `authorization`,
//! `api_key`, ...) is replaced whole, whatever its form.
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
use crate::record::{Captured, Item};

/// One replacement: `json[start..end]` becomes `with`, counting `count` redactions.
#[derive(Debug)]
struct Edit {
    start: usize,
    end: usize,
    with: String,
    count: usize,
}

/// A string of the document: a value, or an object key.
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
    /// The object whose key this is, or `None` for a value.
    key_of: Option<u32>,
}

/// Levels of JSON inside JSON strings that are decoded and redacted as JSON.
pub(in crate::stages::redact) const MAX_NESTING: u8 = 3;

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

    /// Records the string `json[start..end]`, whose content is `raw`: a value (after a key
    /// naming a secret when `context` is set), or a key of object `key_of`.
    #[allow(clippy::too_many_arguments)]
    fn push_value(
        &mut self,
        start: usize,
        end: usize,
        closed: bool,
        raw: &str,
        escaped: bool,
        context: Option<Detector>,
        key_of: Option<u32>,
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
            key_of,
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
        self.redact_json_nested(json, 0)
    }

    /// [`redact_json`](Self::redact_json) of a document found `nesting` levels deep inside
    /// JSON strings.
    fn redact_json_nested<'a>(&self, json: &'a str, nesting: u8) -> Redacted<'a> {
        if self.is_noop() {
            return Redacted::unchanged(json);
        }
        let strict = with_scratch(|s| {
            self.walk_strict(json, s)
                .ok()
                .map(|()| self.edit(json, s, nesting))
        });
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
            self.edit(&first.text, s, nesting)
        });
        match edited {
            Some((text, count)) => Redacted {
                text: Cow::Owned(text),
                count: first.count + count,
            },
            None => first,
        }
    }

    /// Whether captured content certainly holds nothing to redact, told from its typed items
    /// without writing its JSON and walking it. `true` is what a walk of its JSON would find
    /// (no match in its strings and keys, no key naming a secret, no card number, no JSON
    /// inside a string); `false` means the JSON has to be walked (it may hold something, or
    /// the check cannot tell: values the caller's thread serialized, custom rules).
    pub(crate) fn captured_is_clean(&self, captured: &Captured) -> bool {
        if !self.custom.is_empty() || !self.fns.is_empty() {
            return false;
        }
        let cards = self.enabled(Detector::PaymentCard);
        with_scratch(|s| {
            // The walk's text: each string decoded (a captured string is held decoded),
            // followed by a NUL.
            let whole = captured.items(|item| match item {
                Item::Key(key) => {
                    if self.key_context(s, key, false).is_some() {
                        return false;
                    }
                    s.text.push_str(key);
                    s.text.push('\0');
                    true
                }
                Item::Str(text) => {
                    if looks_like_json(text) {
                        return false;
                    }
                    s.text.push_str(text);
                    s.text.push('\0');
                    true
                }
                // Card numbers have 13 to 19 digits.
                Item::Int(n) => !cards || n.unsigned_abs() < 1_000_000_000_000,
                Item::Json(_) => false,
                Item::Other => true,
            });
            whole && {
                self.find_builtin(&s.text, &mut s.spans);
                s.spans.is_empty()
            }
        })
    }

    /// Redacts the values and keys a walk of `json` collected into `s`; returns the edited text
    /// and the redaction count, or `None` when nothing changed.
    fn edit(&self, json: &str, s: &mut Scratch, nesting: u8) -> Option<(String, usize)> {
        self.find_builtin(&s.text, &mut s.spans);
        let per_value = !self.custom.is_empty() || !self.fns.is_empty();
        let nested = nesting < MAX_NESTING
            && s.values
                .iter()
                .any(|v| v.key_of.is_none() && looks_like_json(&s.text[v.at..v.at + v.len]));
        if s.spans.is_empty()
            && s.edits.is_empty()
            && !per_value
            && !nested
            && s.values.iter().all(|v| v.context.is_none())
        {
            return None;
        }
        s.spans.sort_unstable_by_key(|span| (span.start, span.rank));
        // Keys whose text changed: (object, value index, new text), told apart below.
        let mut keys: Vec<(u32, usize, String, usize)> = Vec::new();
        let mut next = 0;
        for (index, v) in s.values.iter().enumerate() {
            let content = &s.text[v.at..v.at + v.len];
            let first = next;
            while next < s.spans.len() && s.spans[next].start < v.at + v.len {
                next += 1;
            }
            let changed = match v.context {
                Some(detector)
                    if !content.trim().is_empty() && !content.starts_with("[REDACTED") =>
                {
                    Some((detector.marker().to_owned(), 1))
                }
                _ if v.key_of.is_none() && nesting < MAX_NESTING && looks_like_json(content) => {
                    // JSON inside the string: its own strings decoded and redacted, keys too.
                    // Only valid JSON: text that merely looks like it is redacted as text, as
                    // reading it as JSON would change more than its secrets.
                    match self.redact_valid_json(content, nesting + 1) {
                        Some(changed) => changed,
                        None => self.redact_value(content, &s.spans[first..next], v.at),
                    }
                }
                _ => self.redact_value(content, &s.spans[first..next], v.at),
            };
            let Some((text, count)) = changed else {
                continue;
            };
            if let Some(object) = v.key_of {
                keys.push((object, index, text, count));
                continue;
            }
            s.edits.push(encoded_edit(v, &text, count));
        }
        if !keys.is_empty() {
            distinct_keys(s, &mut keys);
            for (_, index, text, count) in &keys {
                let edit = encoded_edit(&s.values[*index], text, *count);
                s.edits.push(edit);
            }
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

    /// One decoded string of the document, redacted as text: the built-in spans found in the
    /// joined text (`spans`, positions from `at`), then the custom patterns and functions.
    /// `None` when nothing changed.
    fn redact_value(&self, content: &str, spans: &[Span], at: usize) -> Option<(String, usize)> {
        let mut spans: Vec<Span> = spans
            .iter()
            .map(|span| Span {
                start: span.start - at,
                end: span.end.min(at + content.len()) - at,
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
            Cow::Owned(text) => Some((text, r.count)),
            Cow::Borrowed(_) => None,
        }
    }

    /// `json` redacted as a JSON document found `nesting` levels deep inside JSON strings, when
    /// it is valid JSON: `Some(None)` when nothing changed; `None` when it is not JSON.
    fn redact_valid_json(&self, json: &str, nesting: u8) -> Option<Option<(String, usize)>> {
        with_scratch(|s| {
            self.walk_strict(json, s)
                .ok()
                .map(|()| self.edit(json, s, nesting))
        })
    }

    /// The detector whose marker replaces the whole value of the object key `raw` (as written,
    /// escapes and all), when it names a secret.
    fn key_context(&self, s: &mut Scratch, raw: &str, escaped: bool) -> Option<Detector> {
        if !self.enabled(Detector::SecretField) {
            return None;
        }
        let key = if escaped {
            s.key.clear();
            decode_into(raw, true, &mut s.key);
            s.key.as_str()
        } else {
            raw
        };
        self.secret_fields.of(key)
    }
}

/// The edit that replaces the string `v` by `text`, JSON-encoded (left unclosed when `v` was).
fn encoded_edit(v: &StringValue, text: &str, count: usize) -> Edit {
    let mut with = serde_json::to_string(text).expect("a string serializes");
    if !v.closed {
        with.pop();
    }
    Edit {
        start: v.start,
        end: v.end,
        with,
        count,
    }
}

/// Gives keys of one object that redacted to the same text as another key of that object a
/// suffix (`[REDACTED:email]#2`), so that no entry is lost: a JSON reader keeps one value per
/// key.
fn distinct_keys(s: &Scratch, changed: &mut [(u32, usize, String, usize)]) {
    use std::collections::{HashMap, HashSet};
    let by_value: HashMap<usize, usize> =
        changed.iter().enumerate().map(|(i, c)| (c.1, i)).collect();
    let objects: HashSet<u32> = changed.iter().map(|c| c.0).collect();
    // The keys of those objects, grouped by object, in document order.
    let mut keys: Vec<(u32, usize)> = s
        .values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((v.key_of.filter(|o| objects.contains(o))?, i)))
        .collect();
    keys.sort_unstable();
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut current = None;
    for (object, index) in keys {
        if current != Some(object) {
            current = Some(object);
            seen.clear();
        }
        let v = &s.values[index];
        let slot = by_value.get(&index).copied();
        let text = match slot {
            Some(c) => changed[c].2.clone(),
            None => s.text[v.at..v.at + v.len].to_owned(),
        };
        let n = seen.entry(text.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            continue;
        }
        if let Some(c) = slot {
            let mut suffix = *n;
            let mut renamed = format!("{text}#{suffix}");
            while seen.contains_key(&renamed) {
                suffix += 1;
                renamed = format!("{text}#{suffix}");
            }
            seen.insert(renamed.clone(), 1);
            changed[c].2 = renamed;
        }
    }
}

/// Whether a decoded string may hold a JSON document: an object, an array, or a string (whose
/// escapes could hide what it says).
fn looks_like_json(text: &str) -> bool {
    let t = text.trim();
    t.len() >= 2
        && matches!(
            (t.as_bytes()[0], t.as_bytes()[t.len() - 1]),
            (b'{', _) | (b'[', _) | (b'"', b'"')
        )
}
