//! The OTLP/HTTP receiver's decoding: a request body (protobuf or JSON, plain or gzip) to one
//! OTLP/JSON line and its spans, within a size limit that counts the decompressed bytes.

use std::io::Read;

use axum::http::StatusCode;
use prost::Message;

use super::store::Rows;
use crate::source;

/// The largest body accepted by default, decompressed: 16 MiB.
pub(crate) const DEFAULT_LIMIT: usize = 16 << 20;

/// Why a body was refused: the status, and a message for the sender.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refused {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Refused {
    Refused {
        status,
        message: message.into(),
    }
}

/// A body's encoding, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Protobuf,
    Json,
}

impl Format {
    /// `application/x-protobuf` or `application/json` (parameters ignored).
    pub(crate) fn from_content_type(value: Option<&str>) -> Result<Self, Refused> {
        let essence = value
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        match essence.as_deref() {
            Some("application/x-protobuf" | "application/protobuf") => Ok(Format::Protobuf),
            Some("application/json") => Ok(Format::Json),
            other => Err(refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Content-Type {}: send application/x-protobuf or application/json",
                    other.unwrap_or("missing")
                ),
            )),
        }
    }
}

/// The body, decompressed when `Content-Encoding` says gzip; more than `limit` bytes out of
/// the decompressor is refused before it is all inflated (a small gzip bomb stays small).
pub(crate) fn inflate(
    body: &[u8],
    encoding: Option<&str>,
    limit: usize,
) -> Result<Vec<u8>, Refused> {
    match encoding.map(|e| e.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "identity") => Ok(body.to_vec()),
        Some("gzip") => {
            let mut out = Vec::new();
            let mut reader = flate2::read::GzDecoder::new(body).take(limit as u64 + 1);
            reader.read_to_end(&mut out).map_err(|e| {
                refuse(
                    StatusCode::BAD_REQUEST,
                    format!("body is not valid gzip: {e}"),
                )
            })?;
            if out.len() > limit {
                return Err(too_large(limit));
            }
            Ok(out)
        }
        Some(other) => Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Encoding {other}: send gzip or no encoding"),
        )),
    }
}

/// The refusal of a body over `limit` bytes.
pub(crate) fn too_large(limit: usize) -> Refused {
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("body larger than {limit} bytes (decompressed); send smaller batches"),
    )
}

/// A decompressed body as one OTLP/JSON line and its spans.
pub(crate) fn decode(body: &[u8], format: Format) -> Result<(String, Rows), Refused> {
    let line = match format {
        Format::Protobuf => {
            let request = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(body)
                .map_err(|e| refuse(StatusCode::BAD_REQUEST, format!("malformed protobuf: {e}")))?;
            // The messages' serde form is OTLP/JSON, as the JSONL exporter writes it.
            serde_json::to_string(&request).map_err(|e| {
                refuse(
                    StatusCode::BAD_REQUEST,
                    format!("cannot convert to OTLP/JSON: {e}"),
                )
            })?
        }
        Format::Json => match std::str::from_utf8(body) {
            // A body on one line, as exporters send it, is kept as it is: the explorer's parser
            // below checks it. Only another layout is parsed and written again on one line.
            Ok(text) if text.trim_start().starts_with('{') && !text.contains(['\n', '\r']) => {
                text.to_owned()
            }
            _ => {
                let value: serde_json::Value = serde_json::from_slice(body)
                    .map_err(|e| refuse(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")))?;
                if !value.is_object() {
                    return Err(refuse(
                        StatusCode::BAD_REQUEST,
                        "malformed OTLP/JSON: expected an object with `resourceSpans`",
                    ));
                }
                value.to_string()
            }
        },
    };
    let mut rows = Rows::default();
    let report = source::parse_text("request", line.clone().into_bytes(), &mut rows);
    if rows.len() == 0 {
        // Nothing usable. Not JSON at all (the body kept as it was is checked only now, off
        // the common path), or JSON that is not OTLP: a malformed request. An empty request
        // (no spans, no problem) is valid OTLP; the spans of a request that also holds
        // unusable ones (bad ids) are kept.
        serde_json::from_str::<serde::de::IgnoredAny>(&line)
            .map_err(|e| refuse(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")))?;
        if let Some(p) = report.problems.first() {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                format!("malformed OTLP/JSON: {}", p.message),
            ));
        }
    }
    Ok((line, rows))
}
