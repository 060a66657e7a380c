//! Typed attribute values, stored inline in the span record.

use std::fmt;

/// What a capture records when user code it runs fails (a panicking `Serialize`, `Display` or
/// redaction function).
pub(crate) const CAPTURE_FAILED: &str = "<capture failed>";

// Records keep their common attributes inline: a value is three words.
const _: () = assert!(size_of::<Value>() == 24);

/// A typed attribute value.
///
/// Static strings are stored by reference; owned strings as `Box<str>`, so a value is three words
/// and a record keeps its common attributes inline without allocating.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    I64(i64),
    /// A floating point number.
    F64(f64),
    /// A string known at compile time.
    Str(&'static str),
    /// An owned string.
    String(Box<str>),
    /// A JSON document, already serialized (content such as inputs, outputs, messages).
    Json(Box<str>),
    /// Content captured on the caller's thread, written as JSON by the content stage, which
    /// replaces it with [`Value::Json`]: exporters never see it.
    Captured(super::Captured),
    /// A list of strings known at compile time.
    StrList(&'static [&'static str]),
    /// An owned list of strings.
    StringList(Box<[Box<str>]>),
}

impl Value {
    /// The string a string-like value holds.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::String(s) | Value::Json(s) => Some(s),
            _ => None,
        }
    }

    /// The integer value, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::I64(v) => Some(v),
            _ => None,
        }
    }

    /// The number value (integers are widened).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F64(v) => Some(v),
            Value::I64(v) => Some(v as f64),
            _ => None,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(v) => v.fmt(f),
            Value::I64(v) => v.fmt(f),
            Value::F64(v) => v.fmt(f),
            Value::Str(v) => v.fmt(f),
            Value::String(v) => v.fmt(f),
            Value::Json(v) => write!(f, "json({v})"),
            Value::Captured(v) => v.fmt(f),
            Value::StrList(v) => v.fmt(f),
            Value::StringList(v) => v.fmt(f),
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::I64(v as i64)
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

macro_rules! from_wide_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            /// Values above `i64::MAX` saturate: OpenTelemetry integers are signed 64-bit.
            fn from(v: $t) -> Self {
                Value::I64(i64::try_from(v).unwrap_or(i64::MAX))
            }
        }
    )*};
}
from_wide_int!(u64, usize, isize);

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::F64(v)
    }
}

impl From<f32> for Value {
    /// The decimal the `f32` was written as: `0.2_f32` is `0.2`, not `0.20000000298023224`.
    fn from(v: f32) -> Self {
        Value::F64(f32_as_written(v))
    }
}

/// The `f64` nearest the shortest decimal that reads back as `v`.
///
/// Widening an `f32` keeps its binary value, whose decimal expansion is noise past the `f32`'s
/// precision (`0.2_f32 as f64` is `0.20000000298023224`): a temperature of `0.2` should be
/// recorded as the `0.2` the user wrote. `{:e}` prints the shortest digits that round-trip to the
/// same `f32` (`2e-1`), and parsing them as `f64` gives the `f64` nearest that decimal.
pub(crate) fn f32_as_written(v: f32) -> f64 {
    if !v.is_finite() {
        return f64::from(v);
    }
    let mut buf = DecimalBuf::default();
    // At most 9 significant digits, a sign, a point and an exponent: always fits.
    if fmt::write(&mut buf, format_args!("{v:e}")).is_err() {
        return f64::from(v);
    }
    buf.as_str().parse().unwrap_or(f64::from(v))
}

/// A stack buffer for one formatted number (no allocation on the caller's thread).
#[derive(Default)]
struct DecimalBuf {
    bytes: [u8; 32],
    len: usize,
}

impl DecimalBuf {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl fmt::Write for DecimalBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.into())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v.into_boxed_str())
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::String(v.as_str().into())
    }
}

impl From<Box<str>> for Value {
    fn from(v: Box<str>) -> Self {
        Value::String(v)
    }
}

impl From<std::borrow::Cow<'_, str>> for Value {
    fn from(v: std::borrow::Cow<'_, str>) -> Self {
        Value::String(v.into())
    }
}

impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Self {
        Value::StringList(v.into_iter().map(String::into_boxed_str).collect())
    }
}

impl From<&[&str]> for Value {
    fn from(v: &[&str]) -> Self {
        Value::StringList(v.iter().map(|s| Box::<str>::from(*s)).collect())
    }
}

impl From<Value> for opentelemetry::Value {
    fn from(v: Value) -> Self {
        use opentelemetry::{Array, StringValue};
        match v {
            Value::Bool(b) => b.into(),
            Value::I64(i) => i.into(),
            Value::F64(f) => f.into(),
            Value::Str(s) => s.into(),
            Value::String(s) | Value::Json(s) => String::from(s).into(),
            Value::Captured(c) => c.to_json().into(),
            Value::StrList(l) => opentelemetry::Value::Array(Array::String(
                l.iter().map(|s| StringValue::from(*s)).collect(),
            )),
            Value::StringList(l) => opentelemetry::Value::Array(Array::String(
                l.into_vec()
                    .into_iter()
                    .map(|s| StringValue::from(String::from(s)))
                    .collect(),
            )),
        }
    }
}

impl From<&Value> for opentelemetry::Value {
    fn from(v: &Value) -> Self {
        v.clone().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_is_recorded_as_the_decimal_written() {
        for (v, want) in [
            (0.2_f32, 0.2),
            (0.7, 0.7),
            (1.0, 1.0),
            (0.95, 0.95),
            (-1.5, -1.5),
            (1e-7, 1e-7),
            (3.4028235e38, 3.4028235e38),
            (0.0, 0.0),
        ] {
            assert_eq!(Value::from(v), Value::F64(want), "{v}");
        }
        assert_eq!(f32_as_written(f32::INFINITY), f64::INFINITY);
        assert!(f32_as_written(f32::NAN).is_nan());
        // Every f32 still reads back as itself.
        for bits in (0..u32::MAX).step_by(9_973) {
            let v = f32::from_bits(bits);
            if v.is_finite() {
                assert_eq!(f32_as_written(v) as f32, v, "{bits:#x}");
            }
        }
    }
}
