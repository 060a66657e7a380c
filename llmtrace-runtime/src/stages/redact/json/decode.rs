//! Decoding JSON string content: escapes, `\uXXXX` and surrogate pairs.

/// Appends the decoded content of a JSON string, `raw` (between its quotes), to `out`.
/// Leniently: an invalid escape is kept as written, a lone surrogate becomes U+FFFD.
pub(in crate::stages::redact) fn decode_into(raw: &str, escaped: bool, out: &mut String) {
    if !escaped {
        out.push_str(raw);
        return;
    }
    let b = raw.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while let Some(n) = memchr::memchr(b'\\', &b[i..]) {
        i += n;
        out.push_str(&raw[copied..i]);
        let (c, len) = match b.get(i + 1) {
            Some(b'"') => ('"', 2),
            Some(b'\\') => ('\\', 2),
            Some(b'/') => ('/', 2),
            Some(b'b') => ('\u{8}', 2),
            Some(b'f') => ('\u{c}', 2),
            Some(b'n') => ('\n', 2),
            Some(b'r') => ('\r', 2),
            Some(b't') => ('\t', 2),
            Some(b'u') => match unicode_escape(raw, i) {
                Some(decoded) => decoded,
                None => {
                    copied = i;
                    i += 2;
                    continue;
                }
            },
            _ => {
                copied = i;
                i += 1;
                continue;
            }
        };
        out.push(c);
        i += len;
        copied = i;
    }
    out.push_str(&raw[copied..]);
}

/// Decodes `\uXXXX` (or a surrogate pair `\uXXXX\uXXXX`) at `raw[i..]`: the character and the
/// escape's length.
fn unicode_escape(raw: &str, i: usize) -> Option<(char, usize)> {
    let hex = |at: usize| {
        raw.get(at..at + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let high = hex(i + 2)?;
    if (0xD800..0xDC00).contains(&high) {
        if raw.get(i + 6..i + 8) == Some("\\u") {
            if let Some(low) = hex(i + 8).filter(|l| (0xDC00..0xE000).contains(l)) {
                let c = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                return Some((char::from_u32(c).unwrap_or('\u{FFFD}'), 12));
            }
        }
        return Some(('\u{FFFD}', 6));
    }
    Some((char::from_u32(high).unwrap_or('\u{FFFD}'), 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(raw: &str) -> String {
        let mut out = String::from(">");
        decode_into(raw, raw.contains('\\'), &mut out);
        out.split_off(1)
    }

    #[test]
    fn decodes_every_escape() {
        assert_eq!(
            decoded(r#"a\"b\\c\/d\b\f\n\r\t"#),
            "a\"b\\c/d\u{8}\u{c}\n\r\t"
        );
        assert_eq!(decoded(r"\u0041KIA \u00e9 \ud83d\ude00"), "AKIA é 😀");
        assert_eq!(decoded(r"lone \ud800 x"), "lone \u{FFFD} x");
        // Lenient on text that is not JSON.
        assert_eq!(decoded(r"C:\Users\x \u12"), r"C:\Users\x \u12");
        assert_eq!(decoded("end\\"), "end\\");
        assert_eq!(decoded("é\\é"), "é\\é");
    }
}
