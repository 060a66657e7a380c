//! A serializer that stops walking a value once its output budget is spent, so that capturing a
//! value costs what is kept, not the size of the value.
//!
//! It wraps any `serde::Serializer` (here serde_json's, writing through the capped formatter of
//! [`super::json`]) and forwards every call, except that: a string or byte array is cut to what
//! can still be written before it is passed on (a 50 MB `&str` is escaped 40 KiB at a time, not
//! scanned whole); and once the budget is spent, the next element, field or entry fails with a
//! stop error instead of being serialized, which ends the walk of a long list or map at once.
//! The caller recognizes the stop and closes what is open.

use std::cell::Cell;
use std::fmt::{self, Display, Write as _};

use serde::ser::{
    Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant, Serializer,
};

/// The output budget, shared by the formatter (which writes and counts) and the serializer
/// (which stops).
#[derive(Debug)]
pub(super) struct Budget {
    pub(super) limit: usize,
    pub(super) written: Cell<usize>,
    /// Nothing more fits: the formatter writes nothing new, the serializer stops.
    pub(super) spent: Cell<bool>,
    /// Containers open in the walk.
    depth: Cell<u32>,
}

/// Levels of nesting kept: deeper values are cut there, as if the budget ran out. The walk
/// recurses once per level (in the value's own `Serialize` too), so this bounds the stack it
/// takes; and it leaves room under the 128 levels serde_json (and many JSON readers) parse by
/// default, for what wraps the value (the object of a function's parameters), so what is
/// exported parses back.
pub(crate) const MAX_DEPTH: u32 = 100;

impl Budget {
    pub(super) fn new(limit: usize) -> Self {
        Budget {
            limit,
            written: Cell::new(0),
            spent: Cell::new(false),
            depth: Cell::new(0),
        }
    }

    /// Enters a container: false (and the budget is spent) past [`MAX_DEPTH`].
    fn enter(&self) -> bool {
        let depth = self.depth.get() + 1;
        self.depth.set(depth);
        if depth > MAX_DEPTH {
            self.spent.set(true);
            return false;
        }
        true
    }

    fn leave(&self) {
        self.depth.set(self.depth.get().saturating_sub(1));
    }

    /// Bytes of input worth passing on: what is left, and a little more so that the formatter
    /// sees the value overflow and marks the cut.
    fn room(&self) -> usize {
        self.limit.saturating_sub(self.written.get()) + 8
    }
}

/// The message of the stop error.
const STOPPED: &str = "llmtrace: capture budget spent";

/// `S`, stopping once `budget` is spent.
pub(super) struct Bounded<'b, S> {
    pub(super) inner: S,
    pub(super) budget: &'b Budget,
}

/// A value serialized through [`Bounded`].
struct Within<'b, 'v, T: ?Sized> {
    value: &'v T,
    budget: &'b Budget,
}

impl<T: Serialize + ?Sized> Serialize for Within<'_, '_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(Bounded {
            inner: s,
            budget: self.budget,
        })
    }
}

impl<'b, S> Bounded<'b, S> {
    fn within<'v, T: ?Sized>(&self, value: &'v T) -> Within<'b, 'v, T> {
        Within {
            value,
            budget: self.budget,
        }
    }

    fn check<E: serde::ser::Error>(&self) -> Result<(), E> {
        if self.budget.spent.get() {
            Err(E::custom(STOPPED))
        } else {
            Ok(())
        }
    }

    /// Checks the budget and enters a container (stopping past [`MAX_DEPTH`]).
    fn open<E: serde::ser::Error>(&self) -> Result<(), E> {
        self.check()?;
        if self.budget.enter() {
            Ok(())
        } else {
            Err(E::custom(STOPPED))
        }
    }
}

/// `text` cut to at most `room` bytes, at a character boundary.
fn cut(text: &str, room: usize) -> &str {
    if text.len() <= room {
        return text;
    }
    let mut end = room;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Collects a `Display` value's text, failing once it is longer than `room`, so that a huge
/// `Display` stops early too (an impl that propagates `fmt::Error` stops at once).
struct Limited {
    text: String,
    room: usize,
}

impl fmt::Write for Limited {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let left = self.room.saturating_sub(self.text.len());
        let part = cut(s, left);
        self.text.push_str(part);
        if part.len() < s.len() {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

macro_rules! forward {
    ($($method:ident($($arg:ident: $t:ty),*)),* $(,)?) => {$(
        fn $method(self, $($arg: $t),*) -> Result<S::Ok, S::Error> {
            self.check()?;
            self.inner.$method($($arg),*)
        }
    )*};
}

impl<'b, S: Serializer> Serializer for Bounded<'b, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Bounded<'b, S::SerializeSeq>;
    type SerializeTuple = Bounded<'b, S::SerializeTuple>;
    type SerializeTupleStruct = Bounded<'b, S::SerializeTupleStruct>;
    type SerializeTupleVariant = Bounded<'b, S::SerializeTupleVariant>;
    type SerializeMap = Bounded<'b, S::SerializeMap>;
    type SerializeStruct = Bounded<'b, S::SerializeStruct>;
    type SerializeStructVariant = Bounded<'b, S::SerializeStructVariant>;

    forward!(
        serialize_bool(v: bool),
        serialize_i8(v: i8),
        serialize_i16(v: i16),
        serialize_i32(v: i32),
        serialize_i64(v: i64),
        serialize_i128(v: i128),
        serialize_u8(v: u8),
        serialize_u16(v: u16),
        serialize_u32(v: u32),
        serialize_u64(v: u64),
        serialize_u128(v: u128),
        serialize_f32(v: f32),
        serialize_f64(v: f64),
        serialize_char(v: char),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(name: &'static str),
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str),
    );

    fn serialize_str(self, v: &str) -> Result<S::Ok, S::Error> {
        self.check()?;
        let room = self.budget.room();
        self.inner.serialize_str(cut(v, room))
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        self.check()?;
        // Each byte is written as at least one digit and a comma.
        let room = self.budget.room() / 2 + 1;
        self.inner.serialize_bytes(&v[..v.len().min(room)])
    }

    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.check()?;
        let mut limited = Limited {
            text: String::new(),
            room: self.budget.room(),
        };
        // An error here is the cut (or the `Display` failing): what was written is kept.
        let _ = write!(limited, "{value}");
        self.inner.serialize_str(&limited.text)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.check()?;
        let value = self.within(value);
        self.inner.serialize_some(&value)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.check()?;
        let value = self.within(value);
        self.inner.serialize_newtype_struct(name, &value)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.check()?;
        let value = self.within(value);
        self.inner
            .serialize_newtype_variant(name, index, variant, &value)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.open()?;
        let inner = self.inner.serialize_seq(len)?;
        Ok(Bounded {
            inner,
            budget: self.budget,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.open()?;
        let inner = self.inner.serialize_tuple(len)?;
        Ok(Bounded {
            inner,
            budget: self.budget,
        })
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.open()?;
        let inner = self.inner.serialize_tuple_struct(name, len)?;
        Ok(Bounded {
            inner,
            budget: self.budget,
        })
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.open()?;
        let inner = self
            .inner
            .serialize_tuple_variant(name, index, variant, len)?;
        Ok(Bounded {
            inner,
            budget: self.budget,
        })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.open()?;
        let inner = self.inner.serialize_map(len)?;
        Ok(Bounded {
            inner,
            budget: self.budget,
        })
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.open()?;
        let inner = self.inner.serialize_struct(name, len)?;
        Ok(Bounded {
            inner,
            budget: self.budget,
        })
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.open()?;
        let inner = self
            .inner
            .serialize_struct_variant(name, index, variant, len)?;
        Ok(Bounded {
            inner,
            budget: self.budget,
        })
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! compound {
    ($trait:ident, $method:ident) => {
        impl<C: $trait> $trait for Bounded<'_, C> {
            type Ok = C::Ok;
            type Error = C::Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
                self.check()?;
                let value = self.within(value);
                self.inner.$method(&value)
            }

            fn end(self) -> Result<C::Ok, C::Error> {
                self.budget.leave();
                self.inner.end()
            }
        }
    };
}

compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);

impl<C: SerializeMap> SerializeMap for Bounded<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        self.check()?;
        let key = self.within(key);
        self.inner.serialize_key(&key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        // A key was written: its value is owed, and the formatter writes `null` for it once the
        // budget is spent, so the walk goes on into it and stops inside.
        let value = self.within(value);
        self.inner.serialize_value(&value)
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.budget.leave();
        self.inner.end()
    }
}

macro_rules! struct_compound {
    ($trait:ident) => {
        impl<C: $trait> $trait for Bounded<'_, C> {
            type Ok = C::Ok;
            type Error = C::Error;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), C::Error> {
                self.check()?;
                let value = self.within(value);
                self.inner.serialize_field(key, &value)
            }

            fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
                self.inner.skip_field(key)
            }

            fn end(self) -> Result<C::Ok, C::Error> {
                self.budget.leave();
                self.inner.end()
            }
        }
    };
}

struct_compound!(SerializeStruct);
struct_compound!(SerializeStructVariant);
