//! The values most parameters and return values are: strings, integers, floats, bools, chars,
//! unit and `None` (also inside `Some` and newtype structs), copied typed into the captured
//! content ([`Captured`](super::Captured)) without formatting any JSON, which is written where
//! the stages run. The JSON is byte for byte what the capped serializer writes for them.
//!
//! Any other value (a sequence, a map, a struct, bytes, an enum with data) makes the leaf
//! serializer give up before it writes anything, and so does a string longer than the room left:
//! the caller then takes the capped serializer, which cuts it.

use std::fmt;

use serde::ser::{Impossible, Serialize, Serializer};

use crate::record::captured::{Buf, Writer};

/// Writes `value` at the end of `out` when it is a leaf (a string only when its JSON can take at
/// most `room` bytes); otherwise leaves `out` as it was and returns false.
#[inline]
pub(crate) fn write<T: Serialize + ?Sized, B: Buf>(value: &T, out: &mut B, room: usize) -> bool {
    let start = out.len();
    let written = value
        .serialize(Leaf {
            out: Writer(out),
            room,
        })
        .is_ok()
        && out.whole();
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

struct Leaf<'a, B: Buf> {
    out: Writer<'a, B>,
    room: usize,
}

impl<B: Buf> Leaf<'_, B> {
    #[inline]
    fn str(mut self, s: &str) -> Result<(), NotLeaf> {
        // Its JSON is at least this long: a string that does not fit as it is will not fit
        // escaped. (One that fits only unescaped is cut where the stages run, as it would be here.)
        if s.len() + 2 > self.room {
            return Err(NotLeaf);
        }
        self.out.str(s);
        Ok(())
    }

    #[inline]
    fn i64(mut self, v: i64) -> Result<(), NotLeaf> {
        self.out.i64(v);
        Ok(())
    }

    #[inline]
    fn u64(mut self, v: u64) -> Result<(), NotLeaf> {
        self.out.u64(v);
        Ok(())
    }
}

impl<B: Buf> Serializer for Leaf<'_, B> {
    type Ok = ();
    type Error = NotLeaf;
    type SerializeSeq = Impossible<(), NotLeaf>;
    type SerializeTuple = Impossible<(), NotLeaf>;
    type SerializeTupleStruct = Impossible<(), NotLeaf>;
    type SerializeTupleVariant = Impossible<(), NotLeaf>;
    type SerializeMap = Impossible<(), NotLeaf>;
    type SerializeStruct = Impossible<(), NotLeaf>;
    type SerializeStructVariant = Impossible<(), NotLeaf>;

    fn serialize_bool(mut self, v: bool) -> Result<(), NotLeaf> {
        self.out.bool(v);
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), NotLeaf> {
        self.i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), NotLeaf> {
        self.i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), NotLeaf> {
        self.i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), NotLeaf> {
        self.i64(v)
    }
    fn serialize_i128(mut self, v: i128) -> Result<(), NotLeaf> {
        match i64::try_from(v) {
            Ok(v) => self.i64(v),
            Err(_) => {
                self.out.json(itoa::Buffer::new().format(v));
                Ok(())
            }
        }
    }
    fn serialize_u8(self, v: u8) -> Result<(), NotLeaf> {
        self.u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), NotLeaf> {
        self.u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), NotLeaf> {
        self.u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), NotLeaf> {
        self.u64(v)
    }
    fn serialize_u128(mut self, v: u128) -> Result<(), NotLeaf> {
        match u64::try_from(v) {
            Ok(v) => self.u64(v),
            Err(_) => {
                self.out.json(itoa::Buffer::new().format(v));
                Ok(())
            }
        }
    }
    fn serialize_f32(mut self, v: f32) -> Result<(), NotLeaf> {
        self.out.f32(v);
        Ok(())
    }
    fn serialize_f64(mut self, v: f64) -> Result<(), NotLeaf> {
        self.out.f64(v);
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
    fn serialize_unit(mut self) -> Result<(), NotLeaf> {
        self.out.null();
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

    /// The leaf's JSON as the stages write it, checked to be what the capped serializer writes.
    fn leaf<T: Serialize + ?Sized>(value: &T) -> Option<String> {
        let mut out = Vec::new();
        Writer::start_value(&mut out);
        if !write(value, &mut out, 1 << 20) {
            assert_eq!(out.len(), 1, "a value not written leaves no trace");
            return None;
        }
        let json = Writer::finish(&out).to_json();
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
        assert_eq!(leaf(&i128::MIN).as_deref(), Some(&*i128::MIN.to_string()));
        assert_eq!(leaf(&-7_i128).as_deref(), Some("-7"));
        assert_eq!(leaf(&u64::MAX).as_deref(), Some(&*u64::MAX.to_string()));
        assert_eq!(leaf(&i64::MIN).as_deref(), Some(&*i64::MIN.to_string()));
        assert_eq!(leaf(&0.1_f32).as_deref(), Some("0.1"));
        assert_eq!(leaf(&f32::NEG_INFINITY).as_deref(), Some("null"));
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
            crate::record::escape_json(&s, &mut out);
            proptest::prop_assert_eq!(&out, &serde_json::to_string(&s).unwrap());
            // Kept typed, then written where the stages run: the same text.
            proptest::prop_assert_eq!(leaf(s.as_str()), Some(out));
        }
    }

    #[test]
    fn a_string_longer_than_the_room_is_left_to_the_capped_serializer() {
        let mut out = Vec::new();
        assert!(!write("abcdef", &mut out, 7));
        assert!(out.is_empty());
        assert!(write("abcde", &mut out, 7));
        // Numbers are a few bytes: always kept.
        assert!(write(&123_456_u32, &mut out, 5));
    }
}
