//! The OTLP/HTTP traces exporter's HTTP client, wrapped to read the collector's answer.
//!
//! opentelemetry-otlp treats a `200` as the whole batch accepted and only logs the answer's
//! `partial_success` (spans the collector rejected, with its reason). The wrapper decodes that
//! answer (protobuf or JSON, by its content type) before handing it back, and notes what was
//! rejected in the exporter's [`Rejections`], which the worker reads after each export: those
//! spans are counted as dropped, not exported, and the collector's message is reported.

use std::sync::Arc;

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;

use super::exporter::Rejections;

/// An HTTP client that notes the `partial_success` of every successful answer.
#[derive(Debug)]
pub(crate) struct RejectionsClient<C> {
    inner: C,
    rejections: Arc<Rejections>,
}

impl<C> RejectionsClient<C> {
    pub(crate) fn new(inner: C, rejections: Arc<Rejections>) -> Self {
        RejectionsClient { inner, rejections }
    }
}

#[async_trait::async_trait]
impl<C: HttpClient> HttpClient for RejectionsClient<C> {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let response = self.inner.send_bytes(request).await?;
        if response.status().is_success() {
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok());
            if let Some((spans, message)) = partial_success(content_type, response.body()) {
                self.rejections.add(spans, message);
            }
        }
        Ok(response)
    }
}

/// The rejected spans and message of an `ExportTraceServiceResponse`, when it carries a
/// partial success that says something. An answer that cannot be decoded is taken as a full
/// success: the collector acknowledged the request with its status.
pub(crate) fn partial_success(content_type: Option<&str>, body: &[u8]) -> Option<(u64, String)> {
    if body.is_empty() {
        return None;
    }
    let json = content_type.is_some_and(|t| {
        t.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
    });
    let (spans, message) = if json {
        from_json(body)?
    } else {
        let partial = ExportTraceServiceResponse::decode(body)
            .ok()?
            .partial_success?;
        let spans = u64::try_from(partial.rejected_spans).unwrap_or(0);
        (spans, partial.error_message)
    };
    (spans > 0 || !message.is_empty()).then_some((spans, message))
}

/// The OTLP/JSON form: `{"partialSuccess": {"rejectedSpans": "2", "errorMessage": ".."}}`
/// (an int64 may be a string or a number; the proto field names are accepted too).
fn from_json(body: &[u8]) -> Option<(u64, String)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let partial = value
        .get("partialSuccess")
        .or_else(|| value.get("partial_success"))?;
    let spans = partial
        .get("rejectedSpans")
        .or_else(|| partial.get("rejected_spans"))
        .and_then(|v| match v {
            serde_json::Value::String(s) => s.parse::<i64>().ok(),
            v => v.as_i64(),
        })
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0);
    let message = partial
        .get("errorMessage")
        .or_else(|| partial.get("error_message"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Some((spans, message))
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTracePartialSuccess;

    use super::*;

    fn protobuf(rejected: i64, message: &str) -> Vec<u8> {
        ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message: message.to_owned(),
            }),
        }
        .encode_to_vec()
    }

    #[test]
    fn reads_protobuf_and_json_answers() {
        let ct = Some("application/x-protobuf");
        assert_eq!(
            partial_success(ct, &protobuf(3, "span name too long")),
            Some((3, "span name too long".to_owned()))
        );
        // A warning with nothing rejected is still reported.
        assert_eq!(
            partial_success(ct, &protobuf(0, "deprecated field")),
            Some((0, "deprecated field".to_owned()))
        );
        // A full success: empty body, empty partial success, undecodable body.
        assert_eq!(partial_success(ct, b""), None);
        assert_eq!(partial_success(ct, &protobuf(0, "")), None);
        assert_eq!(
            partial_success(ct, &ExportTraceServiceResponse::default().encode_to_vec()),
            None
        );
        assert_eq!(partial_success(ct, b"\xff\xff\xff"), None);
        // A negative count is nonsense: nothing counted, the message kept.
        assert_eq!(
            partial_success(ct, &protobuf(-4, "odd")),
            Some((0, "odd".to_owned()))
        );

        let json = Some("application/json; charset=utf-8");
        assert_eq!(
            partial_success(
                json,
                br#"{"partialSuccess":{"rejectedSpans":"2","errorMessage":"quota"}}"#
            ),
            Some((2, "quota".to_owned()))
        );
        assert_eq!(
            partial_success(json, br#"{"partial_success":{"rejected_spans":5}}"#),
            Some((5, String::new()))
        );
        assert_eq!(partial_success(json, br#"{"partialSuccess":{}}"#), None);
        assert_eq!(partial_success(json, b"{}"), None);
        assert_eq!(partial_success(json, b"not json"), None);
    }
}
