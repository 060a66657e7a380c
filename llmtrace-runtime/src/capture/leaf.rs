//! JSON for the values most parameters and return values are: strings, integers, floats, bools,
//! chars, unit and `None` (also inside `Some` and newtype structs), written straight into the
//! destination without serde_json's serializer, the size cap's bookkeeping or a buffer of their
//! own. The output is byte for byte what the capped serializer writes for them.
//!
//! Any other value (a sequence, a map, a struct, bytes, an enum with data) makes the leaf
//! serializer give up before it writes anything, and so does a leaf longer than the room left:
//! the caller then takes the capped serializer, which cuts it.

use std::fmt;

use serde::ser::{Impossible, Serialize, Serializer};

/// Writes `value` as JSON at the end of `out` when it is a leaf whose JSON takes at most
/// `room` bytes; otherwise leaves `out` as it was and returns false.
#[inline]
pub(crate) fn write<T: Serialize + ?Sized>(value: &T, out: &mut String, room: usize) -> bool {
    let start = out.len();
    let written = value.serialize(Leaf { out, room }).is_ok() && out.len() - start <= room;
    if !written {
        out.truncate(start);
    }
    written
}

/// Not a leaf, or too long: the capped serializer takes the value.
#[derive(Debug)]
pub(crate) struct NotLeaf;

impl fmt::Display for NotLeaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a leaf value")
    }
}

impl std::error::Error for NotLeaf {}

impl serde::ser::Error for NotLeaf {
    fn custom<T: fmt::Display>(_: T) -> Self {
        NotLeaf
    }
}

struct Leaf<'a> {
    out: &'a mut String,
    room: usize,
}

impl Leaf<'_> {
    #[inline]
    fn int(self, v: impl itoa::Integer) -> Result<(), NotLeaf> {
        self.out.push_str(itoa::Buffer::new().format(v));
        Ok(())
    }

    #[inline]
    fn str(self, s: &str) -> Result<(), NotLeaf> {
        // Escaping makes it longer: a string that does not fit as it is will not fit escaped.
        if s.len() + 2 > self.room {
            return Err(NotLeaf);
        }
        escape(s, self.out);
        Ok(())
    }
}

/// A JSON string, escaped as serde_json escapes it: `"`, `\` and the control characters below
/// U+0020 (with the short forms `\b \t \n \f \r`).
pub(crate) fn escape(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push('"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Most text has nothing to escape: skip it eight bytes at a time.
        if let Some(word) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            if !needs_escape(word) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => {
                i += 1;
                continue;
            }
        };
        // `i` is at an ASCII byte: a character boundary.
        out.push_str(&s[start..i]);
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(short);
        }
        i += 1;
        start = i;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Whether one of the eight bytes of `word` is escaped in a JSON string: a control character,
/// `"` or `\`. (The bit tricks of "Bit Twiddling Hacks": each test is exact for "any byte".)
#[inline(always)]
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte below `n` (n <= 0x80) borrows into its high bit when `n` is subtracted.
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGH;
    let zero = |v: u64| below(v, 1);
    below(word, 0x20)
        | zero(word ^ (ONES * u64::from(b'"')))
        | zero(word ^ (ONES * u64::from(b'\\')))
        != 0
}

impl Serializer for Leaf<'_> {
    type Ok = ();
    type Error = NotLeaf;
    type SerializeSeq = Impossible<(), NotLeaf>;
    type SerializeTuple = Impossible<(), NotLeaf>;
    type SerializeTupleStruct = Impossible<(), NotLeaf>;
    type SerializeTupleVariant = Impossible<(), NotLeaf>;
    type SerializeMap = Impossible<(), NotLeaf>;
    type SerializeStruct = Impossible<(), NotLeaf>;
    type SerializeStructVariant = Impossible<(), NotLeaf>;

    fn serialize_bool(self, v: bool) -> Result<(), NotLeaf> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), NotLeaf> {
        self.int(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), NotLeaf> {
        self.int(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), NotLeaf> {
        self.int(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), NotLeaf> {
        self.int(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), NotLeaf> {
        self.int(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), NotLeaf> {
        self.int(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), NotLeaf> {
        self.int(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), NotLeaf> {
        self.int(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), NotLeaf> {
        self.int(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), NotLeaf> {
        self.int(v)
    }
    // As serde_json: the shortest form that reads back, `null` when not finite.
    fn serialize_f32(self, v: f32) -> Result<(), NotLeaf> {
        if v.is_finite() {
            self.out.push_str(ryu::Buffer::new().format_finite(v));
        } else {
            self.out.push_str("null");
        }
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), NotLeaf> {
        if v.is_finite() {
            self.out.push_str(ryu::Buffer::new().format_finite(v));
        } else {
            self.out.push_str("null");
        }
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), NotLeaf> {
        self.str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), NotLeaf> {
        self.str(v)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), NotLeaf> {
        Err(NotLeaf)
    }
    fn serialize_none(self) -> Result<(), NotLeaf> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), NotLeaf> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), NotLeaf> {
        self.out.push_str("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), NotLeaf> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), NotLeaf> {
        self.str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), NotLeaf> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), NotLeaf> {
        Err(NotLeaf)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotLeaf> {
        Err(NotLeaf)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotLeaf> {
        Err(NotLeaf)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotLeaf> {
        Err(NotLeaf)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotLeaf> {
        Err(NotLeaf)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotLeaf> {
        Err(NotLeaf)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, NotLeaf> {
        Err(NotLeaf)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotLeaf> {
        Err(NotLeaf)
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::*;

    /// The leaf's JSON, checked to be what the capped serializer writes.
    fn leaf<T: Serialize + ?Sized>(value: &T) -> Option<String> {
        let mut out = String::from("prefix");
        if !write(value, &mut out, 1 << 20) {
            assert_eq!(out, "prefix", "a value not written leaves no trace");
            return None;
        }
        let json = out.strip_prefix("prefix").unwrap().to_owned();
        let (capped, truncated) = super::super::json::to_string_capped(value, 1 << 20).unwrap();
        assert_eq!(json, capped);
        assert!(!truncated);
        Some(json)
    }

    #[derive(Serialize)]
    struct Small {
        id: u32,
    }

    #[derive(Serialize)]
    struct Id(u64);

    #[derive(Serialize)]
    enum Choice {
        Plain,
        With(u8),
    }

    #[test]
    fn leaves_are_written_as_serde_json_writes_them() {
        assert_eq!(leaf(&true).as_deref(), Some("true"));
        assert_eq!(leaf(&-42_i64).as_deref(), Some("-42"));
        assert_eq!(leaf(&u128::MAX).as_deref(), Some(&*u128::MAX.to_string()));
        assert_eq!(leaf(&0.3_f64).as_deref(), Some("0.3"));
        assert_eq!(leaf(&1.0_f32).as_deref(), Some("1.0"));
        assert_eq!(leaf(&f64::NAN).as_deref(), Some("null"));
        assert_eq!(leaf(&f64::INFINITY).as_deref(), Some("null"));
        assert_eq!(leaf(&'é').as_deref(), Some("\"é\""));
        assert_eq!(leaf(&()).as_deref(), Some("null"));
        assert_eq!(leaf(&None::<u8>).as_deref(), Some("null"));
        assert_eq!(leaf(&Some("x")).as_deref(), Some("\"x\""));
        assert_eq!(leaf(&Id(7)).as_deref(), Some("7"));
        assert_eq!(leaf(&Choice::Plain).as_deref(), Some("\"Plain\""));
        let every_escape: String = (0u8..0x80).map(char::from).collect::<String>() + "→\u{7f}";
        assert!(leaf(every_escape.as_str()).is_some());
        assert!(leaf(&String::from("a \"quoted\"\\ line\n")).is_some());
        assert!(leaf("").is_some());

        // Not leaves: left to the capped serializer.
        assert_eq!(leaf(&Small { id: 1 }), None);
        assert_eq!(leaf(&[1, 2]), None);
        assert_eq!(leaf(&Choice::With(1)), None);
        assert_eq!(leaf(&serde_json::json!({"a": 1})), None);
    }

    proptest::proptest! {
        /// Strings made of the bytes escaping is about (quotes, backslashes, control
        /// characters) among plain and multi-byte characters, at every offset of the eight-byte
        /// words the scan skips.
        #[test]
        fn strings_are_escaped_as_serde_json_escapes_them(
            s in "[a-z\"\\\\\\x00-\\x1f\\x7fé→😀 ]{0,40}",
        ) {
            let mut out = String::new();
            escape(&s, &mut out);
            proptest::prop_assert_eq!(out, serde_json::to_string(&s).unwrap());
        }
    }

    #[test]
    fn a_leaf_longer_than_the_room_is_left_to_the_capped_serializer() {
        let mut out = String::new();
        assert!(!write("abcdef", &mut out, 7));
        assert!(out.is_empty());
        assert!(write("abcde", &mut out, 7));
        assert_eq!(out, "\"abcde\"");
        // Fits unescaped, not escaped.
        let mut out = String::new();
        assert!(!write("\n\n\n", &mut out, 6));
        assert!(out.is_empty());
        assert!(!write(&123_456_u32, &mut out, 5));
        assert!(out.is_empty());
    }
}
