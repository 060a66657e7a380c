//! What captured values must be: parameters are `Serialize` (or skipped), the documents a
//! `#[retrieval]` returns are `Serialize` or [`Document`]s.
//!
//! The traits the expansion checks carry the messages, and their impls are
//! `#[diagnostic::do_not_recommend]`: a value that does not fit is reported at the parameter or
//! return type, by its own type and with the trait's message, rather than through the impls
//! (serde's long list of `Serialize` types, the probes below, the runtime's sources).

use serde::Serialize;

use crate::capture::InputWriter;
use crate::record::{Field, Record};

/// A parameter captured as span input: implemented for every type that implements
/// `serde::Serialize`. Parameters of other types go in `skip(..)` (or `redact(..)`, which records
/// a marker instead of the value).
#[diagnostic::on_unimplemented(
    message = "this parameter cannot be captured as span input: its type does not implement `serde::Serialize`",
    label = "not serializable",
    note = "add the parameter to `skip(..)` (or use `skip_all`), or implement `serde::Serialize` for its type"
)]
pub trait SpanInput {
    /// Writes the parameter into the input object.
    #[doc(hidden)]
    fn __llmtrace_write_to(&self, input: &mut InputWriter, name: &str);
}

// Hidden from errors: rustc would otherwise look through it and report serde's `Serialize`,
// with its list of implementing types, instead of this trait's message at the parameter.
#[diagnostic::do_not_recommend]
impl<T: Serialize + ?Sized> SpanInput for T {
    #[inline]
    fn __llmtrace_write_to(&self, input: &mut InputWriter, name: &str) {
        input.field(name, self);
    }
}

/// A retrieved document, for types that do not serialize to `{"id", "score", "content",
/// "metadata"}`: implement it and `#[retrieval]` reads these instead of the serialized fields.
///
/// ```
/// struct Hit { key: u64, distance: f32, text: String }
///
/// impl llmtrace_runtime::Document for Hit {
///     fn id(&self) -> Option<String> { Some(self.key.to_string()) }
///     fn score(&self) -> Option<f64> { Some(1.0 - f64::from(self.distance)) }
///     fn content(&self) -> Option<String> { Some(self.text.clone()) }
/// }
/// ```
pub trait Document {
    /// The document's id.
    fn id(&self) -> Option<String> {
        None
    }
    /// The retrieval score.
    fn score(&self) -> Option<f64> {
        None
    }
    /// The document's text.
    fn content(&self) -> Option<String> {
        None
    }
    /// Metadata, as JSON.
    fn metadata(&self) -> Option<serde_json::Value> {
        None
    }
}

/// Returned documents, read through [`Document`].
#[derive(Debug)]
pub struct ViaDocument<'a, T: ?Sized>(&'a T);

/// Returned documents, read by serializing them.
#[derive(Debug)]
pub struct ViaSerialize<'a, T: ?Sized>(&'a T);

/// Nothing to record (an `Err`, recorded as the error).
#[derive(Debug)]
pub struct NoDocuments;

/// What a `#[retrieval]` function returns, read as documents: a list of [`Document`]s, or any
/// `serde::Serialize` value (a `Result`'s `Ok` value for a `Result`).
///
/// The expansion picks how to read the value (see [`documents`]); a value that is neither is
/// handed over as it is, and this trait, implemented only for what the picks produce, is then
/// reported as not implemented for the function's return type.
#[diagnostic::on_unimplemented(
    message = "documents (what a `#[retrieval]` returns, what a `#[rerank]` is given and returns) must implement `serde::Serialize` or `llmtrace::Document`",
    label = "cannot be recorded as documents",
    note = "derive `serde::Serialize` for the document type (its `id`, `score`, `content` and `metadata` fields are read by name), or implement `llmtrace::Document` for it"
)]
pub trait RetrievalOutput {
    /// Records the documents.
    fn record(self, rec: &mut Record);
}

// Every impl is hidden from errors: they are implemented for the probes' results, which say
// nothing to the user (the message says what to implement).
#[diagnostic::do_not_recommend]
impl<T: Serialize + ?Sized> RetrievalOutput for ViaSerialize<'_, T> {
    fn record(self, rec: &mut Record) {
        crate::capture::record_json(rec, Field::Documents, self.0);
    }
}

#[diagnostic::do_not_recommend]
impl<T: Document> RetrievalOutput for ViaDocument<'_, [T]> {
    fn record(self, rec: &mut Record) {
        let docs: Vec<serde_json::Value> = self
            .0
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let mut o = serde_json::Map::new();
                o.insert("id".into(), d.id().unwrap_or_else(|| i.to_string()).into());
                if let Some(s) = d.score().and_then(serde_json::Number::from_f64) {
                    o.insert("score".into(), s.into());
                }
                if let Some(c) = d.content() {
                    o.insert("content".into(), c.into());
                }
                if let Some(m) = d.metadata() {
                    o.insert("metadata".into(), m);
                }
                serde_json::Value::Object(o)
            })
            .collect();
        crate::capture::record_json(rec, Field::Documents, &docs);
    }
}

#[diagnostic::do_not_recommend]
impl RetrievalOutput for NoDocuments {
    #[inline]
    fn record(self, _rec: &mut Record) {}
}

/// Picks how a retrieval's return value is read: `Document`s first, then `Serialize`, for a
/// `Result`'s `Ok` value, then for the value itself; anything else is a compile error. The
/// expansion calls `(&&&&&Ret(&value)).__llmtrace_documents()`: each level is one `&` less.
pub mod documents {
    use super::*;

    /// The value being recorded.
    #[derive(Debug)]
    pub struct Ret<'a, T: ?Sized>(pub &'a T);

    /// `Result<Vec<T: Document>, E>`.
    pub trait OkDocuments<'a> {
        /// The documents to record.
        type Out;
        /// Probes the value.
        fn __llmtrace_documents(self) -> Self::Out;
    }

    impl<'a, T: Document, E> OkDocuments<'a> for &&&&&Ret<'a, Result<Vec<T>, E>> {
        type Out = Docs<'a, [T]>;
        fn __llmtrace_documents(self) -> Self::Out {
            match self.0 {
                Ok(v) => Docs::Some(ViaDocument(v.as_slice())),
                Err(_) => Docs::None(NoDocuments),
            }
        }
    }

    /// `Result<T: Serialize, E>`.
    pub trait OkSerialize<'a> {
        /// The documents to record.
        type Out;
        /// Probes the value.
        fn __llmtrace_documents(self) -> Self::Out;
    }

    impl<'a, T: Serialize, E> OkSerialize<'a> for &&&&Ret<'a, Result<T, E>> {
        type Out = Ser<'a, T>;
        fn __llmtrace_documents(self) -> Self::Out {
            match self.0 {
                Ok(v) => Ser::Some(ViaSerialize(v)),
                Err(_) => Ser::None(NoDocuments),
            }
        }
    }

    /// `Vec<T: Document>`.
    pub trait VecDocuments<'a> {
        /// The documents to record.
        type Out;
        /// Probes the value.
        fn __llmtrace_documents(self) -> Self::Out;
    }

    impl<'a, T: Document> VecDocuments<'a> for &&&Ret<'a, Vec<T>> {
        type Out = ViaDocument<'a, [T]>;
        fn __llmtrace_documents(self) -> Self::Out {
            ViaDocument(self.0.as_slice())
        }
    }

    /// `T: Serialize`.
    pub trait ValueSerialize<'a> {
        /// The documents to record.
        type Out;
        /// Probes the value.
        fn __llmtrace_documents(self) -> Self::Out;
    }

    impl<'a, T: Serialize + ?Sized> ValueSerialize<'a> for &&Ret<'a, T> {
        type Out = ViaSerialize<'a, T>;
        fn __llmtrace_documents(self) -> Self::Out {
            ViaSerialize(self.0)
        }
    }

    /// Anything else: the value itself, which implements no [`RetrievalOutput`], so the error
    /// names the function's return type.
    pub trait ValueOther<'a> {
        /// The documents to record.
        type Out;
        /// Probes the value.
        fn __llmtrace_documents(self) -> Self::Out;
    }

    impl<'a, T: ?Sized> ValueOther<'a> for &Ret<'a, T> {
        type Out = &'a T;
        fn __llmtrace_documents(self) -> Self::Out {
            self.0
        }
    }

    /// Documents or nothing (an `Err`).
    #[derive(Debug)]
    pub enum Docs<'a, T: ?Sized> {
        /// The `Ok` value's documents.
        Some(ViaDocument<'a, T>),
        /// An `Err`.
        None(NoDocuments),
    }

    /// Serialized documents or nothing (an `Err`).
    #[derive(Debug)]
    pub enum Ser<'a, T: ?Sized> {
        /// The `Ok` value.
        Some(ViaSerialize<'a, T>),
        /// An `Err`.
        None(NoDocuments),
    }

    #[diagnostic::do_not_recommend]
    impl<T: Document> RetrievalOutput for Docs<'_, [T]> {
        fn record(self, rec: &mut Record) {
            if let Docs::Some(d) = self {
                d.record(rec);
            }
        }
    }

    #[diagnostic::do_not_recommend]
    impl<T: Serialize + ?Sized> RetrievalOutput for Ser<'_, T> {
        fn record(self, rec: &mut Record) {
            if let Ser::Some(d) = self {
                d.record(rec);
            }
        }
    }
}
