//! Cutting content to the content limit: JSON stays valid JSON, text is cut on a character
//! boundary; both are marked with `…`.
//!
//! JSON is cut in one pass over its text, with an explicit stack of the containers open at the
//! cut: no parse into a tree (which would cost a copy of the whole value and stop at a nesting
//! limit), no recursion (which would let a deep value exhaust the stack). The prefix up to the
//! cut is checked as it is read; text whose prefix is not JSON is cut as text.

/// Appended where a value was cut.
const ELLIPSIS: &str = "…";

/// JSON text cut to at most `limit` bytes (and at least the few a valid cut needs), still valid
/// JSON: a string in progress is cut and marked, an object key left without its value gets
/// `null`, a number or literal in progress is dropped, and open containers are closed. Text
/// that is not JSON is cut as text.
pub(super) fn cap_json(json: &str, limit: usize) -> String {
    if json.len() <= limit {
        return json.to_owned();
    }
    match Cutter::new(json).cut(limit) {
        Some(out) => out,
        None => cap_text(json, limit),
    }
}

/// Text cut to at most `limit` bytes on a character boundary, marked with `…`.
pub(super) fn cap_text(text: &str, limit: usize) -> String {
    let mut end = limit.saturating_sub(ELLIPSIS.len()).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &text[..end])
}

/// Where the reader is inside an object or array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// A value (the first of an array, the document, after `:` or an array's `,`).
    Value,
    /// A key or `}` (just after `{`).
    KeyOrEnd,
    /// A key (after an object's `,`).
    Key,
    /// `:` after a key.
    Colon,
    /// `,` or the end of the container, after a value.
    CommaOrEnd,
}

/// The place to cut at: everything before `at` is kept, then `tail`, then the containers open
/// there are closed ([`Cutter::best_stack`]).
#[derive(Clone, Copy, Debug)]
struct Cut {
    at: usize,
    /// What completes the entry in progress at `at` (`:null` after a key, `null` after `:`).
    tail: &'static str,
}

struct Cutter<'a> {
    json: &'a str,
    b: &'a [u8],
    /// The containers open where the reader is: `true` for an object.
    stack: Vec<bool>,
    /// The containers open at the best cut so far.
    best_stack: Vec<bool>,
    /// How many entries `stack` and `best_stack` share: the stack below it has not changed
    /// since the best cut, so recording a new one copies only what was pushed since (linear in
    /// all, where copying the stack at every cut would be quadratic in the depth).
    common: usize,
}

impl<'a> Cutter<'a> {
    fn new(json: &'a str) -> Self {
        Cutter {
            json,
            b: json.as_bytes(),
            stack: Vec::new(),
            best_stack: Vec::new(),
            common: 0,
        }
    }

    fn pop(&mut self) -> Option<bool> {
        let popped = self.stack.pop();
        self.common = self.common.min(self.stack.len());
        popped
    }

    /// Makes the reader's position the best cut, when it fits in `limit`.
    fn record(&mut self, at: usize, tail: &'static str, limit: usize) -> Option<Cut> {
        if at + Self::closing(self.stack.len(), tail) > limit {
            return None;
        }
        self.best_stack.truncate(self.common);
        self.best_stack
            .extend_from_slice(&self.stack[self.common..]);
        self.common = self.stack.len();
        Some(Cut { at, tail })
    }

    /// Bytes the closing of `stack_len` containers and `tail` take.
    fn closing(stack_len: usize, tail: &str) -> usize {
        stack_len + tail.len()
    }

    /// Reads tokens while a cut after them still fits in `limit`; `None` when the prefix read is
    /// not JSON.
    fn cut(mut self, limit: usize) -> Option<String> {
        let mut expect = Expect::Value;
        let mut i = 0;
        // Just past a `,`: no cut here (it would end on the comma); the last cut stays before it.
        let mut after_comma = false;
        // The last place a cut fits: a point between tokens.
        let mut best = Cut {
            at: 0,
            tail: "null",
        };
        loop {
            // Between tokens: a cut here keeps what was read.
            if after_comma {
                after_comma = false;
            } else {
                let tail = match expect {
                    Expect::Value if self.stack.last() == Some(&true) => "null",
                    Expect::Value if self.stack.is_empty() => "null",
                    Expect::Colon => ":null",
                    _ => "",
                };
                match self.record(i, tail, limit) {
                    Some(cut) => best = cut,
                    None => break,
                }
            }
            i = skip_space(self.b, i);
            let Some(&c) = self.b.get(i) else {
                break;
            };
            match (expect, c) {
                (Expect::Value, b'{') => {
                    self.stack.push(true);
                    expect = Expect::KeyOrEnd;
                    i += 1;
                }
                (Expect::Value, b'[') => {
                    self.stack.push(false);
                    expect = Expect::Value;
                    i += 1;
                    // An empty array: `]` may follow at once.
                    let j = skip_space(self.b, i);
                    if self.b.get(j) == Some(&b']') {
                        self.pop();
                        i = j + 1;
                        expect = Expect::CommaOrEnd;
                    }
                }
                (Expect::Value | Expect::KeyOrEnd | Expect::Key, b'"') => {
                    let key = expect != Expect::Value;
                    let end = string_end(self.b, i)?;
                    if end + Self::closing(self.stack.len(), if key { ":null" } else { "" }) > limit
                    {
                        // The string does not fit whole: cut inside it, if anything fits.
                        return Some(self.cut_string(i, end, key, limit, best));
                    }
                    i = end;
                    expect = if key {
                        Expect::Colon
                    } else {
                        Expect::CommaOrEnd
                    };
                }
                (Expect::Value, _) => {
                    let end = scalar_end(self.b, i)?;
                    if end + Self::closing(self.stack.len(), "") > limit {
                        break;
                    }
                    i = end;
                    expect = Expect::CommaOrEnd;
                }
                (Expect::KeyOrEnd, b'}') | (Expect::CommaOrEnd, b'}') => {
                    if self.pop() != Some(true) {
                        return None;
                    }
                    i += 1;
                    expect = Expect::CommaOrEnd;
                }
                (Expect::CommaOrEnd, b']') => {
                    if self.pop() != Some(false) {
                        return None;
                    }
                    i += 1;
                    expect = Expect::CommaOrEnd;
                }
                (Expect::CommaOrEnd, b',') => {
                    expect = match self.stack.last() {
                        Some(true) => Expect::Key,
                        Some(false) => Expect::Value,
                        None => return None,
                    };
                    i = skip_space(self.b, i + 1);
                    after_comma = true;
                    continue;
                }
                (Expect::Colon, b':') => {
                    // After `:` a value is owed: a cut there writes `null`.
                    i += 1;
                    expect = Expect::Value;
                }
                _ => return None,
            }
        }
        Some(self.finish(best))
    }

    /// Cuts inside the string `b[start..end]` (a key when `key`), keeping as much of it as
    /// fits, or falls back to `best` when not even its quotes fit.
    fn cut_string(
        &mut self,
        start: usize,
        end: usize,
        key: bool,
        limit: usize,
        best: Cut,
    ) -> String {
        let after = if key { "\":null" } else { "\"" };
        let room = limit.saturating_sub(Self::closing(self.stack.len(), after) + ELLIPSIS.len());
        if room <= start + 1 {
            // Not even the opening quote and a character fit: cut before the string.
            return self.finish(best);
        }
        let mut cut = room.min(end - 1);
        // Not inside an escape sequence, nor a UTF-8 sequence.
        let mut j = start + 1;
        while j < cut {
            if self.b[j] == b'\\' {
                let len = if self.b.get(j + 1) == Some(&b'u') {
                    6
                } else {
                    2
                };
                if j + len > cut {
                    cut = j;
                    break;
                }
                j += len;
            } else {
                j += 1;
            }
        }
        while !self.json.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut out = String::with_capacity(limit);
        out.push_str(&self.json[..cut]);
        out.push_str(ELLIPSIS);
        out.push_str(after);
        close(&self.stack, &mut out);
        out
    }

    /// The text up to `cut`, completed and closed.
    fn finish(&self, cut: Cut) -> String {
        let mut out = String::with_capacity(cut.at + cut.tail.len() + self.best_stack.len());
        out.push_str(self.json[..cut.at].trim_end());
        out.push_str(cut.tail);
        close(&self.best_stack, &mut out);
        out
    }
}

/// Closes the containers of `stack`, innermost first.
fn close(stack: &[bool], out: &mut String) {
    for &object in stack.iter().rev() {
        out.push(if object { '}' } else { ']' });
    }
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// The end (past the closing quote) of the string starting at `b[start] == b'"'`, or `None`
/// when it is not a valid string.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        match *b.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => match *b.get(i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' if b.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => i += 6,
                _ => return None,
            },
            0..0x20 => return None,
            _ => i += 1,
        }
    }
}

/// The end of the number or literal starting at `b[start]`, or `None` when it is neither.
fn scalar_end(b: &[u8], start: usize) -> Option<usize> {
    for word in [&b"true"[..], b"false", b"null"] {
        if b[start..].starts_with(word) {
            return Some(start + word.len());
        }
    }
    let mut i = start;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > from
    };
    if !digits(&mut i) {
        return None;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses without serde_json's recursion limit (the point is values deeper than it).
    fn parses(text: &str) -> bool {
        use serde::Deserialize;
        let mut de = serde_json::Deserializer::from_str(text);
        de.disable_recursion_limit();
        serde::de::IgnoredAny::deserialize(&mut de).is_ok() && de.end().is_ok()
    }

    #[track_caller]
    fn check(json: &str, limit: usize) -> String {
        let out = cap_json(json, limit);
        assert!(parses(&out), "invalid at limit {limit}: {out}");
        assert!(
            out.len() <= limit.max(16),
            "limit {limit}: {} bytes: {out}",
            out.len()
        );
        out
    }

    #[test]
    fn every_cut_point_of_a_document_is_valid_json() {
        let doc = serde_json::json!({
            "question": "Where is my order A-42? It was due — über late ✓ \"quoted\" \\ \u{1}",
            "history": [{"role": "user", "text": "hi\n\t"}, {"role": "assistant", "text": "hello"}, []],
            "k": -12345678901234.5e-3,
            "flags": [true, false, null, {}],
            "nested": {"deep": {"deeper": [1, [2, [3, [4]]]]}},
        })
        .to_string();
        for limit in 16..doc.len() + 4 {
            let out = check(&doc, limit);
            if limit >= doc.len() {
                assert_eq!(out, doc);
            }
        }
        // Pretty-printed, with spaces around every token.
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&doc).unwrap())
                .unwrap();
        for limit in 16..pretty.len() + 4 {
            check(&pretty, limit);
        }
    }

    #[test]
    fn values_deeper_than_a_parser_limit_are_cut_as_json() {
        let deep = format!("{}\"leaf\"{}", "[".repeat(300), "]".repeat(300));
        let out = check(&deep, 200);
        assert!(out.starts_with("[[[["), "{out}");
        let deep_objects = format!("{}1{}", "{\"a\":".repeat(300), "}".repeat(300));
        check(&deep_objects, 250);
    }

    #[test]
    fn long_strings_keep_what_fits_and_say_so() {
        let doc = serde_json::json!({"q": "x".repeat(1_000), "n": 1}).to_string();
        let out = check(&doc, 100);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v["q"].as_str().unwrap().ends_with('…'));
        assert!(out.len() > 90, "{out}");
    }

    #[test]
    fn text_that_is_not_json_is_cut_as_text() {
        let out = cap_json(&format!("{{\"a\": oops {}", "x".repeat(100)), 40);
        assert!(out.ends_with('…') && out.len() <= 40, "{out}");
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1e9f64..1e9).prop_map(Value::from),
            "[a-z\"\\\n\u{1}é😀 ]{0,24}".prop_map(Value::String),
        ];
        leaf.prop_recursive(10, 80, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec(("[a-z\"é]{0,6}", inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn any_document_cut_anywhere_is_valid_and_within_the_limit(
            doc in json_value(),
            pretty in proptest::prelude::any::<bool>(),
            limit in 16usize..400,
        ) {
            let text = if pretty {
                serde_json::to_string_pretty(&doc).unwrap()
            } else {
                doc.to_string()
            };
            let out = cap_json(&text, limit);
            proptest::prop_assert!(parses(&out), "limit {}: {}", limit, out);
            proptest::prop_assert!(out.len() <= limit, "limit {}: {}", limit, out);
            if text.len() <= limit {
                proptest::prop_assert_eq!(out, text);
            }
        }

        #[test]
        fn any_text_is_cut_within_the_limit_without_panicking(
            text in "[\\[\\]{}\",:\\\\u0-9a-fA-F ./+\\-tnrlsé]{0,120}",
            limit in 16usize..100,
        ) {
            let out = cap_json(&text, limit);
            proptest::prop_assert!(out.len() <= limit, "{}", out);
        }
    }
}
