//! Evaluations and user feedback joined to the spans they judge: an event of a span that is
//! still open, a log record carrying the span's ids once it ended (read back from the JSONL logs
//! file the default exporters write next to the traces), and feedback carried to a front end and
//! back as the trace context's text.
//!
//! The same installation writes the GenAI metrics to the JSONL metrics file beside the traces.
//!
//! One installation for the whole file (a test binary is its own process): JSONL traces and logs
//! in a temporary directory, and a head sampler that records no new trace and follows the
//! parent's decision, so that the spans recorded are those of the tests' captures, and a trace
//! continued from an unsampled parent is sampled out.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use llmtrace::testing::Capture;
use llmtrace::{Recorded, TraceContext};
use llmtrace_runtime as llmtrace;
use opentelemetry::trace::Event;
use serde_json::Value;

/// The directory of this process's files; llmtrace stays installed until the process ends.
fn setup() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("llmtrace-eval-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let guard = llmtrace::init()
            .service_name("eval-test")
            .sampler(llmtrace::Sampler::ParentBased(Box::new(
                llmtrace::Sampler::AlwaysOff,
            )))
            .jsonl(dir.join("traces.jsonl"))
            .export_interval(Duration::from_millis(20))
            .try_install()
            .expect("installs");
        std::mem::forget(guard);
        dir
    })
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn chat(prompt: &str) -> String {
    let answer = format!("echo: {prompt}");
    let recorded = llmtrace::evaluation("format")
        .score(1.0)
        .label("plain_text")
        .explanation("no markup")
        .response_id("chatcmpl-42")
        .record_on(llmtrace::current());
    assert_eq!(recorded, Recorded::SpanEvent);
    answer
}

/// A workflow without the span event, for a trace that is not recorded.
#[llmtrace::workflow(name = "support_answer")]
fn sampled_out_answer(question: &str) -> (String, TraceContext) {
    (format!("echo: {question}"), llmtrace::current().context())
}

#[llmtrace::workflow(name = "support_answer")]
fn answer(question: &str) -> (String, TraceContext) {
    (chat(question), llmtrace::current().context())
}

fn evaluation_events(span: &opentelemetry_sdk::trace::SpanData) -> Vec<&Event> {
    span.events
        .iter()
        .filter(|e| e.name == "gen_ai.evaluation.result")
        .collect()
}

fn event_attr<'a>(event: &'a Event, key: &str) -> Option<&'a opentelemetry::Value> {
    event
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// Every log record in the logs file, each line checked to be an OTLP/JSON logs request of
/// this service.
fn log_records() -> Vec<Value> {
    llmtrace::force_flush(Duration::from_secs(10)).expect("flush");
    let path = setup().join("logs.jsonl");
    let text = std::fs::read_to_string(&path).expect("the logs file exists");
    let mut records = Vec::new();
    for line in text.lines() {
        let request: Value = serde_json::from_str(line).expect("a line is JSON");
        for resource_logs in request["resourceLogs"].as_array().expect("a logs request") {
            let resource = &resource_logs["resource"]["attributes"];
            assert_eq!(attr(resource, "service.name")["stringValue"], "eval-test");
            for scope_logs in resource_logs["scopeLogs"].as_array().unwrap() {
                assert_eq!(scope_logs["scope"]["name"], "llmtrace");
                records.extend(scope_logs["logRecords"].as_array().unwrap().iter().cloned());
            }
        }
    }
    records
}

fn attr<'a>(attributes: &'a Value, key: &str) -> &'a Value {
    attributes
        .as_array()
        .and_then(|kvs| kvs.iter().find(|kv| kv["key"] == key))
        .map_or(&Value::Null, |kv| &kv["value"])
}

/// The log records naming this trace.
fn records_of(trace_id: &str) -> Vec<Value> {
    log_records()
        .into_iter()
        .filter(|r| r["traceId"] == trace_id)
        .collect()
}

#[test]
fn an_open_span_gets_an_event() {
    setup();
    let capture = Capture::new();
    let (reply, _) = capture.in_scope(|| answer("where is my order?"));
    assert_eq!(reply, "echo: where is my order?");
    let spans = capture.spans();
    let chat = spans.by_name("chat gpt-4o");
    let events = evaluation_events(chat);
    assert_eq!(events.len(), 1, "{:?}", chat.events);
    let event = events[0];
    assert_eq!(
        event_attr(event, "gen_ai.evaluation.name"),
        Some(&"format".into())
    );
    assert_eq!(
        event_attr(event, "gen_ai.evaluation.score.value"),
        Some(&1.0.into())
    );
    assert_eq!(
        event_attr(event, "gen_ai.evaluation.score.label"),
        Some(&"plain_text".into())
    );
    assert_eq!(
        event_attr(event, "gen_ai.evaluation.explanation"),
        Some(&"no markup".into())
    );
    assert_eq!(
        event_attr(event, "gen_ai.response.id"),
        Some(&"chatcmpl-42".into())
    );
    assert_eq!(event.attributes.len(), 5);
    // The workflow had none.
    assert!(evaluation_events(spans.by_name("invoke_workflow support_answer")).is_empty());
}

#[test]
fn an_ended_span_gets_a_log_record_with_its_ids() {
    setup();
    let capture = Capture::new();
    let (_, judged) = capture.in_scope(|| answer("refund?"));
    let recorded = llmtrace::evaluation("relevance")
        .score(0.82)
        .label("relevant")
        .explanation("answers the question asked")
        .record_on(&judged);
    assert_eq!(recorded, Recorded::LogRecord);

    let spans = capture.spans();
    let root = spans.by_name("invoke_workflow support_answer");
    // The root span carries no event for it: it had ended.
    assert!(evaluation_events(root).is_empty());
    let trace_id = root.span_context.trace_id().to_string();
    let span_id = root.span_context.span_id().to_string();
    assert_eq!(judged.trace_id().unwrap().to_string(), trace_id);

    let records = records_of(&trace_id);
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record["eventName"], "gen_ai.evaluation.result");
    assert_eq!(record["spanId"], span_id.as_str());
    assert_eq!(record["flags"], 1, "the trace was recorded");
    let attributes = &record["attributes"];
    assert_eq!(
        attr(attributes, "gen_ai.evaluation.name")["stringValue"],
        "relevance"
    );
    assert_eq!(
        attr(attributes, "gen_ai.evaluation.score.value")["doubleValue"],
        0.82
    );
    assert_eq!(
        attr(attributes, "gen_ai.evaluation.score.label")["stringValue"],
        "relevant"
    );
    assert_eq!(
        attr(attributes, "gen_ai.evaluation.explanation")["stringValue"],
        "answers the question asked"
    );
    assert_eq!(attributes.as_array().unwrap().len(), 4, "{attributes}");
    // When the record was made, as a 64-bit integer in a string.
    assert!(record["timeUnixNano"]
        .as_str()
        .is_some_and(|t| t.len() > 15));
}

#[test]
fn feedback_comes_back_from_the_front_end_as_text() {
    setup();
    let capture = Capture::new();
    let (_, root) = capture.in_scope(|| answer("order status?"));
    // Sent to the front end with the answer, and back with the user's click.
    let text = root.to_string();
    assert!(text.starts_with("00-") && text.ends_with("-01"), "{text}");
    let parsed: TraceContext = text.parse().expect("a traceparent");
    let recorded = llmtrace::feedback(&parsed)
        .thumbs_down()
        .comment("wrong order status, write to jane.doe@example.com")
        .record();
    assert_eq!(recorded, Recorded::LogRecord);

    let spans = capture.spans();
    let workflow = spans.by_name("invoke_workflow support_answer");
    let records = records_of(&workflow.span_context.trace_id().to_string());
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(
        record["spanId"],
        workflow.span_context.span_id().to_string().as_str()
    );
    let attributes = &record["attributes"];
    assert_eq!(
        attr(attributes, "gen_ai.evaluation.name")["stringValue"],
        "user_feedback"
    );
    assert_eq!(
        attr(attributes, "gen_ai.evaluation.score.value")["doubleValue"],
        0.0
    );
    assert_eq!(
        attr(attributes, "gen_ai.evaluation.score.label")["stringValue"],
        "thumbs_down"
    );
    // Redacted as a span's content is.
    assert_eq!(
        attr(attributes, "gen_ai.evaluation.explanation")["stringValue"],
        "wrong order status, write to [REDACTED:email]"
    );
}

#[test]
fn feedback_on_a_bare_trace_id_names_the_trace_only() {
    setup();
    let trace: llmtrace::TraceId = "4bf92f3577b34da6a3ce929d0e0e4736".parse().unwrap();
    let recorded = llmtrace::feedback(trace).thumbs_up().record();
    assert_eq!(recorded, Recorded::LogRecord);
    let records = records_of("4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["spanId"].as_str().unwrap_or(""), "");
    assert_eq!(
        attr(&records[0]["attributes"], "gen_ai.evaluation.score.label")["stringValue"],
        "thumbs_up"
    );
}

#[test]
fn a_sampled_out_trace_keeps_its_feedback() {
    setup();
    // A request whose caller sampled it out: its spans have ids but are not recorded.
    let caller = TraceContext::remote(
        llmtrace::TraceId(0x5a5a_0000_0000_0000_0000_0000_0000_0001),
        llmtrace::SpanId(0x77),
        false,
    );
    let (_, ctx) = caller.in_scope(|| sampled_out_answer("sampled out?"));
    assert!(!ctx.is_sampled());
    let trace_id = ctx.trace_id().expect("a sampled-out span still has ids");
    let recorded = llmtrace::feedback(&ctx).thumbs_down().record();
    assert_eq!(recorded, Recorded::LogRecord);
    let records = records_of(&trace_id.to_string());
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        records[0]["spanId"],
        ctx.span_id().unwrap().to_string().as_str()
    );
    // Not sampled: flags 0 (left out of OTLP/JSON as the default).
    assert_eq!(records[0]["flags"].as_u64().unwrap_or(0), 0);
    assert!(llmtrace::stats().evaluations_logged >= 1);
}

#[test]
fn outside_a_trace_nothing_is_recorded() {
    setup();
    assert_eq!(
        llmtrace::evaluation("relevance")
            .score(0.5)
            .record_on(TraceContext::default()),
        Recorded::Skipped
    );
    // No span open on this thread.
    assert_eq!(
        llmtrace::evaluation("relevance").record_on(llmtrace::current()),
        Recorded::Skipped
    );
}

#[test]
fn metrics_are_written_beside_the_traces() {
    setup();
    let capture = Capture::new();
    let _ = capture.in_scope(|| answer("metrics?"));
    llmtrace::force_flush(Duration::from_secs(10)).expect("flush");
    let text = std::fs::read_to_string(setup().join("metrics.jsonl")).expect("a metrics file");
    let last: Value = serde_json::from_str(text.lines().last().expect("a line")).unwrap();
    let resource_metrics = &last["resourceMetrics"][0];
    assert_eq!(
        attr(&resource_metrics["resource"]["attributes"], "service.name")["stringValue"],
        "eval-test"
    );
    let metrics = resource_metrics["scopeMetrics"][0]["metrics"]
        .as_array()
        .unwrap();
    let duration = metrics
        .iter()
        .find(|m| m["name"] == "gen_ai.client.operation.duration")
        .expect("the duration histogram");
    assert_eq!(duration["unit"], "s");
    let points = duration["histogram"]["dataPoints"].as_array().unwrap();
    let gpt4o = points
        .iter()
        .find(|p| attr(&p["attributes"], "gen_ai.request.model")["stringValue"] == "gpt-4o")
        .expect("a series for gpt-4o");
    // Cumulative: at least this test's call (other tests of this file add theirs).
    assert!(gpt4o["count"].as_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(gpt4o["explicitBounds"].as_array().unwrap().len(), 14);
}
