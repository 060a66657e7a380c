//! The OTLP/HTTP traces exporter's HTTP client, wrapped to read the collector's answer.
//!
//! opentelemetry-otlp treats a `200` as the whole batch accepted and only logs the answer's
//! `partial_success` (spans the collector rejected, with its reason). The wrapper decodes that
//! answer (protobuf or JSON, by its content type) before handing it back, and notes what was
//! rejected in the exporter's [`Rejections`], which the worker reads after each export: those
//! spans are counted as dropped, not exported, and the collector's message is reported.
//!
//! The spans are encoded here ([`OtlpHttpExporter`]): the mapped spans are written straight as
//! protobuf (`sinks::otlp_wire`), without `SpanData`, the SDK's transform or opentelemetry-proto's
//! messages. The request is still sent by opentelemetry-otlp's exporter, which keeps what it
//! does around the body: the endpoint and headers from code or the environment, the timeout, the
//! retries and their backoff (`Retry-After` included). It is called with an empty batch, and the
//! client puts the encoded body in place of the empty one it builds, on every attempt.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::SpanExporter;
use prost::Message;

use super::exporter::{Export, Rejections, Sending};
use super::otlp_wire::WireEncoder;
use crate::mapper::MappedSpan;

/// The body of the export in progress, encoded by the exporter and sent by the client.
#[derive(Debug, Default)]
pub(crate) struct Body(Mutex<Option<Bytes>>);

impl Body {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Bytes>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An HTTP client that sends the encoded body of the export in progress, if any, and notes the
/// `partial_success` of every successful answer.
#[derive(Debug)]
pub(crate) struct RejectionsClient<C> {
    inner: C,
    rejections: Arc<Rejections>,
    body: Arc<Body>,
}

impl<C> RejectionsClient<C> {
    pub(crate) fn new(inner: C, rejections: Arc<Rejections>, body: Arc<Body>) -> Self {
        RejectionsClient {
            inner,
            rejections,
            body,
        }
    }
}

#[async_trait::async_trait]
impl<C: HttpClient> HttpClient for RejectionsClient<C> {
    async fn send_bytes(&self, mut request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        if let Some(body) = self.body.lock().clone() {
            // The body is uncompressed protobuf: a request built for another encoding or
            // compressed (the installer sends compressed exports the `SpanData` way, so this
            // is a guard) fails rather than going out with a body its headers do not describe.
            let protobuf = request
                .headers()
                .get("content-type")
                .is_some_and(|v| v.as_bytes() == b"application/x-protobuf");
            if !protobuf || request.headers().contains_key("content-encoding") {
                return Err("the OTLP/HTTP exporter sends uncompressed protobuf only".into());
            }
            *request.body_mut() = body;
        }
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

/// The OTLP/HTTP traces exporter: encodes the worker's spans as a protobuf
/// `ExportTraceServiceRequest` and sends it through opentelemetry-otlp's exporter (see the module
/// docs).
#[derive(Debug)]
pub(crate) struct OtlpHttpExporter {
    /// Shared with the export in flight.
    inner: Arc<opentelemetry_otlp::SpanExporter>,
    body: Arc<Body>,
    encoder: WireEncoder,
    /// The worker's batch in progress.
    batch: Vec<MappedSpan>,
}

impl OtlpHttpExporter {
    /// `inner` sends through a [`RejectionsClient`] sharing `body`.
    pub(crate) fn new(inner: opentelemetry_otlp::SpanExporter, body: Arc<Body>) -> Self {
        OtlpHttpExporter {
            inner: Arc::new(inner),
            body,
            encoder: WireEncoder::default(),
            batch: Vec::new(),
        }
    }
}

impl Export for OtlpHttpExporter {
    fn add(&mut self, span: MappedSpan) {
        self.encoder.size(&span);
        self.batch.push(span);
    }

    fn discard(&mut self) {
        self.encoder.clear();
        self.batch.clear();
    }

    fn batch_bytes(&self) -> usize {
        self.encoder.encoded_len()
    }

    fn export(&mut self) -> Sending {
        // Encoded here, on the worker's thread, which allocated the spans and frees them: doing
        // it in the export's task instead, on the runtime's thread, measured no faster and
        // took more CPU. Each span was sized as it was added.
        let body = Bytes::from(self.encoder.write(&self.batch));
        self.batch.clear();
        let (inner, slot) = (self.inner.clone(), self.body.clone());
        Box::pin(async move {
            // Exports are never concurrent: the worker keeps one batch in flight and waits for
            // its answer before sending the next; one cut short leaves its body, which the next
            // replaces.
            *slot.lock() = Some(body);
            let result = SpanExporter::export(&*inner, Vec::new()).await;
            *slot.lock() = None;
            result
        })
    }

    fn force_flush(&self) -> OTelSdkResult {
        SpanExporter::force_flush(&*self.inner)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        SpanExporter::shutdown_with_timeout(&*self.inner, timeout)
    }

    fn set_resource(&mut self, resource: &Resource, scope: &InstrumentationScope) {
        // The worker sets the resource before the first export, while nothing shares the
        // exporter.
        let inner = Arc::get_mut(&mut self.inner);
        debug_assert!(inner.is_some(), "the resource is set before any export");
        if let Some(inner) = inner {
            SpanExporter::set_resource(inner, resource);
        }
        self.encoder = WireEncoder::new(resource, scope);
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
