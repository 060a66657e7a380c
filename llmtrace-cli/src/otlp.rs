//! OTLP/JSON as it is read back: one `ExportTraceServiceRequest` per line, as llmtrace's JSONL
//! exporter and the OpenTelemetry Collector's file exporter write it.
//!
//! The types borrow from the line (strings without escapes are not copied) and keep only what
//! the explorer reads; unknown fields are skipped. The OTLP/JSON rules are read leniently, as
//! writers differ: 64-bit integers as strings or numbers, enums as numbers or names, ids in hex.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

/// One line: an `ExportTraceServiceRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Request<'a> {
    /// `None` when the line is JSON but has no `resourceSpans`: not a traces line.
    #[serde(borrow, default)]
    pub(crate) resource_spans: Option<Vec<ResourceSpans<'a>>>,
}

/// The spans of one resource (one process).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResourceSpans<'a> {
    #[serde(borrow, default)]
    pub(crate) resource: Option<Resource<'a>>,
    #[serde(borrow, default)]
    pub(crate) scope_spans: Vec<ScopeSpans<'a>>,
}

/// A resource: the attributes of the process that wrote the spans.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Resource<'a> {
    #[serde(borrow, default)]
    pub(crate) attributes: Vec<KeyValue<'a>>,
}

/// The spans of one instrumentation scope.
#[derive(Debug, Deserialize)]
pub(crate) struct ScopeSpans<'a> {
    #[serde(borrow, default)]
    pub(crate) spans: Vec<Span<'a>>,
}

/// One span.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Span<'a> {
    #[serde(borrow)]
    pub(crate) trace_id: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) span_id: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) parent_span_id: Cow<'a, str>,
    #[serde(default)]
    pub(crate) flags: u32,
    #[serde(borrow, default)]
    pub(crate) name: Cow<'a, str>,
    #[serde(default)]
    pub(crate) start_time_unix_nano: U64,
    #[serde(default)]
    pub(crate) end_time_unix_nano: U64,
    #[serde(borrow, default)]
    pub(crate) attributes: Vec<KeyValue<'a>>,
    #[serde(borrow, default)]
    pub(crate) events: Vec<Event<'a>>,
    #[serde(borrow, default)]
    pub(crate) links: Vec<Link<'a>>,
    #[serde(borrow, default)]
    pub(crate) status: Option<Status<'a>>,
}

/// A span link: the span linked to, in this trace or another.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Link<'a> {
    #[serde(borrow, default)]
    pub(crate) trace_id: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) span_id: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) attributes: Vec<KeyValue<'a>>,
}

/// A span event (`exception`, ...).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Event<'a> {
    #[serde(default)]
    pub(crate) time_unix_nano: U64,
    #[serde(borrow, default)]
    pub(crate) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) attributes: Vec<KeyValue<'a>>,
}

/// A span's status: code 2 (`STATUS_CODE_ERROR`) is an error.
#[derive(Debug, Deserialize)]
pub(crate) struct Status<'a> {
    #[serde(borrow, default)]
    pub(crate) message: Cow<'a, str>,
    #[serde(default)]
    pub(crate) code: Enum,
}

/// One attribute.
#[derive(Debug, Deserialize)]
pub(crate) struct KeyValue<'a> {
    #[serde(borrow)]
    pub(crate) key: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) value: AnyValue<'a>,
}

/// An attribute value. `Unknown` holds the name of a value type this reader does not know
/// (a newer OTLP version, a typo), so the caller can say which.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) enum AnyValue<'a> {
    #[default]
    Empty,
    Str(Cow<'a, str>),
    Bool(bool),
    Int(i64),
    Double(f64),
    Array(Vec<AnyValue<'a>>),
    KvList(Vec<(Cow<'a, str>, AnyValue<'a>)>),
    Bytes(Cow<'a, str>),
    Unknown(String),
}

impl AnyValue<'_> {
    /// The value as a string, when it is one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            AnyValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an integer: integers, whole floats and numeric strings.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            AnyValue::Int(v) => Some(*v),
            AnyValue::Double(v) if v.is_finite() => Some(v.round() as i64),
            AnyValue::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as a float: floats, integers and numeric strings.
    pub(crate) fn as_f64(&self) -> Option<f64> {
        let v = match self {
            AnyValue::Double(v) => *v,
            AnyValue::Int(v) => *v as f64,
            AnyValue::Str(s) => s.trim().parse().ok()?,
            _ => return None,
        };
        v.is_finite().then_some(v)
    }

    /// The value as a boolean: booleans and `"true"`/`"false"`.
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            AnyValue::Bool(v) => Some(*v),
            AnyValue::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as text, as `--where` compares it and `show` prints it.
    pub(crate) fn to_text(&self) -> String {
        match self {
            AnyValue::Empty => String::new(),
            AnyValue::Str(s) | AnyValue::Bytes(s) => s.to_string(),
            AnyValue::Bool(v) => v.to_string(),
            AnyValue::Int(v) => v.to_string(),
            AnyValue::Double(v) => v.to_string(),
            AnyValue::Array(values) => {
                let items: Vec<String> = values.iter().map(AnyValue::to_text).collect();
                format!("[{}]", items.join(", "))
            }
            AnyValue::KvList(kvs) => {
                let items: Vec<String> = kvs
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.to_text()))
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
            AnyValue::Unknown(t) => format!("<{t}>"),
        }
    }

    /// The first value type this reader does not know, inside lists too.
    pub(crate) fn unknown_type(&self) -> Option<&str> {
        match self {
            AnyValue::Unknown(t) => Some(t),
            AnyValue::Array(values) => values.iter().find_map(AnyValue::unknown_type),
            AnyValue::KvList(kvs) => kvs.iter().find_map(|(_, v)| v.unknown_type()),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for AnyValue<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnyValueVisitor)
    }
}

struct AnyValueVisitor;

impl<'de> Visitor<'de> for AnyValueVisitor {
    type Value = AnyValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an OTLP AnyValue object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(AnyValue::Empty)
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut value = AnyValue::Empty;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            value = match key.as_ref() {
                "stringValue" => match map.next_value::<Option<Cow<'de, str>>>()? {
                    Some(s) => AnyValue::Str(s),
                    None => AnyValue::Empty,
                },
                "boolValue" => AnyValue::Bool(map.next_value::<Option<bool>>()?.unwrap_or(false)),
                "intValue" => AnyValue::Int(map.next_value::<I64>()?.0),
                "doubleValue" => AnyValue::Double(map.next_value::<F64>()?.0),
                "arrayValue" => AnyValue::Array(map.next_value::<ArrayValue<'de>>()?.values),
                "kvlistValue" => AnyValue::KvList(
                    map.next_value::<KvList<'de>>()?
                        .values
                        .into_iter()
                        .map(|kv| (kv.key, kv.value))
                        .collect(),
                ),
                "bytesValue" => AnyValue::Bytes(map.next_value::<Cow<'de, str>>()?),
                other => {
                    let name = other.to_owned();
                    map.next_value::<IgnoredAny>()?;
                    AnyValue::Unknown(name)
                }
            };
        }
        Ok(value)
    }
}

#[derive(Deserialize)]
struct ArrayValue<'a> {
    #[serde(borrow, default)]
    values: Vec<AnyValue<'a>>,
}

#[derive(Deserialize)]
struct KvList<'a> {
    #[serde(borrow, default)]
    values: Vec<KeyValue<'a>>,
}

/// A 64-bit unsigned integer written as a string (OTLP/JSON) or a number.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct U64(pub(crate) u64);

impl<'de> Deserialize<'de> for U64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumberVisitor).and_then(|n| match n {
            Number::U(v) => Ok(U64(v)),
            Number::I(v) => u64::try_from(v)
                .map(U64)
                .map_err(|_| de::Error::custom("a negative time")),
            Number::F(v) if v >= 0.0 && v.is_finite() => Ok(U64(v as u64)),
            Number::F(_) => Err(de::Error::custom("not a time")),
        })
    }
}

/// A 64-bit signed integer written as a string (OTLP/JSON) or a number.
struct I64(i64);

impl<'de> Deserialize<'de> for I64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumberVisitor).and_then(|n| match n {
            Number::U(v) => i64::try_from(v)
                .map(I64)
                .map_err(|_| de::Error::custom("an integer out of range")),
            Number::I(v) => Ok(I64(v)),
            Number::F(v) if v.fract() == 0.0 && v.is_finite() => Ok(I64(v as i64)),
            Number::F(_) => Err(de::Error::custom("not an integer")),
        })
    }
}

/// A double; OTLP/JSON writes `NaN` and the infinities as strings.
struct F64(f64);

impl<'de> Deserialize<'de> for F64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumberVisitor).map(|n| {
            F64(match n {
                Number::U(v) => v as f64,
                Number::I(v) => v as f64,
                Number::F(v) => v,
            })
        })
    }
}

enum Number {
    U(u64),
    I(i64),
    F(f64),
}

struct NumberVisitor;

impl Visitor<'_> for NumberVisitor {
    type Value = Number;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, or a number in a string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
        Ok(Number::U(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
        Ok(Number::I(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
        Ok(Number::F(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Number, E> {
        Ok(Number::U(0))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Number, E> {
        let v = v.trim();
        if let Ok(u) = v.parse() {
            return Ok(Number::U(u));
        }
        if let Ok(i) = v.parse() {
            return Ok(Number::I(i));
        }
        match v {
            "NaN" => Ok(Number::F(f64::NAN)),
            "Infinity" => Ok(Number::F(f64::INFINITY)),
            "-Infinity" => Ok(Number::F(f64::NEG_INFINITY)),
            _ => v
                .parse()
                .map(Number::F)
                .map_err(|_| E::custom(format!("{v:?} is not a number"))),
        }
    }
}

/// An OTLP enum (span kind, status code), written as its number or its name.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Enum(pub(crate) i64);

impl<'de> Deserialize<'de> for Enum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EnumVisitor;
        impl Visitor<'_> for EnumVisitor {
            type Value = Enum;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an enum number or name")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Enum, E> {
                Ok(Enum(i64::try_from(v).unwrap_or(-1)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Enum, E> {
                Ok(Enum(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Enum, E> {
                Ok(Enum(0))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Enum, E> {
                Ok(Enum(match v {
                    "STATUS_CODE_OK" | "SPAN_KIND_INTERNAL" => 1,
                    "STATUS_CODE_ERROR" | "SPAN_KIND_SERVER" => 2,
                    "SPAN_KIND_CLIENT" => 3,
                    "SPAN_KIND_PRODUCER" => 4,
                    "SPAN_KIND_CONSUMER" => 5,
                    _ => v.parse().unwrap_or(0),
                }))
            }
        }
        d.deserialize_any(EnumVisitor)
    }
}

/// Parses a hex id of `N` bytes; `None` when it is empty, all zeros, or not hex.
pub(crate) fn hex_id<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = text.as_bytes();
    if bytes.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    (out != [0; N]).then_some(out)
}

/// Span flag bits (OTLP `SpanFlags`): whether the parent's remoteness is known, and whether the
/// parent is remote.
pub(crate) const FLAG_HAS_IS_REMOTE: u32 = 0x100;
pub(crate) const FLAG_IS_REMOTE: u32 = 0x200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_of_every_type() {
        let line = r#"[{"stringValue":"a\"b"},{"boolValue":true},{"intValue":"412"},{"intValue":7},
            {"doubleValue":0.5},{"doubleValue":"NaN"},{"arrayValue":{"values":[{"stringValue":"stop"}]}},
            {"kvlistValue":{"values":[{"key":"k","value":{"intValue":"1"}}]}},{"bytesValue":"AQI="},{},
            {"fancyValue":{"x":1}}]"#;
        let values: Vec<AnyValue<'_>> = serde_json::from_str(line).unwrap();
        assert_eq!(values[0], AnyValue::Str("a\"b".into()));
        assert_eq!(values[1], AnyValue::Bool(true));
        assert_eq!(values[2].as_i64(), Some(412));
        assert_eq!(values[3].as_i64(), Some(7));
        assert_eq!(values[4].as_f64(), Some(0.5));
        assert_eq!(values[5].as_f64(), None);
        assert_eq!(values[6].to_text(), "[stop]");
        assert_eq!(values[7].to_text(), "{k=1}");
        assert_eq!(values[8], AnyValue::Bytes("AQI=".into()));
        assert_eq!(values[9], AnyValue::Empty);
        assert_eq!(values[10].unknown_type(), Some("fancyValue"));
    }

    #[test]
    fn ids() {
        assert_eq!(hex_id::<2>("0aff"), Some([10, 255]));
        assert_eq!(hex_id::<2>("0000"), None);
        assert_eq!(hex_id::<2>("0g00"), None);
        assert_eq!(hex_id::<2>(""), None);
    }
}
