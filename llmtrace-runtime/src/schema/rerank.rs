//! A `#[rerank]`'s input documents: read like a `#[retrieval]`'s return value (the same probes
//! and [`RetrievalOutput`](super::RetrievalOutput)), then kept apart from the documents the
//! reranker returns.

use crate::record::{Field, Record};

/// Moves the documents just recorded (the reranker's input, recorded when the span starts,
/// before any output) to the input documents' field.
#[doc(hidden)]
pub fn record_input_documents(rec: &mut Record) {
    if let Some(i) = rec.attrs.iter().position(|(f, _)| *f == Field::Documents) {
        let (_, documents) = rec.attrs.remove(i);
        rec.set(Field::RerankInputDocuments, documents);
    }
}
