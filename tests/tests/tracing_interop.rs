//! `tracing` interop, with tracing-subscriber, tracing-opentelemetry and an in-memory exporter:
//! parents across the boundary in both directions (a `#[tracing::instrument]` request span
//! containing an llmtrace workflow; an llmtrace workflow containing a `tracing` span), in native
//! mode (OpenTelemetry switch on) and in `tracing` mode; and `tracing` mode exports what native
//! mode does for the same code, apart from ids, times and scope.
//!
//! llmtrace installs once per process, so each mode runs in a child process of this test binary
//! (the ignored `child_*` tests, run by the others).
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use llmtrace::{LlmResponse, Message, Usage};
use llmtrace_runtime as llmtrace;
use opentelemetry::trace::{SpanId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::{json, Value as Json};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;

#[path = "support/child_process.rs"]
mod child_process;
#[path = "support/tree.rs"]
mod tree;
use tree::{assert_child, by_name};

const DUMP: &str = "SPANS: ";

// ---- the instrumented application --------------------------------------------------------------

#[derive(serde::Serialize)]
struct Doc {
    id: &'static str,
    score: f64,
    content: &'static str,
}

struct Reply {
    text: String,
}

impl LlmResponse for Reply {
    fn usage(&self) -> Option<Usage> {
        Some(Usage::new(412, 38).with_cache_read(256))
    }
    fn response_model(&self) -> Option<&str> {
        Some("gpt-4o-2024-08-06")
    }
    fn response_id(&self) -> Option<&str> {
        Some("chatcmpl-1")
    }
    fn finish_reasons(&self) -> Vec<&str> {
        vec!["stop"]
    }
    fn output_messages(&self) -> Vec<Message<'_>> {
        vec![Message::assistant(self.text.as_str()).with_finish_reason("stop")]
    }
}

#[llmtrace::workflow(name = "answer")]
fn answer(question: &str) -> Result<String, String> {
    let docs = search(question)?;
    let reply = chat(question, &docs)?;
    llmtrace::current().add_event("answer.ready", [("chars", reply.text.len() as i64)]);
    llmtrace::current().set_attribute("app.variant", "b");
    tracing::info!(order = 42_i64, found = true, "looking the order up");
    let _ = lookup("A-42");
    Ok(reply.text)
}

#[llmtrace::retrieval(data_source = "help_center", top_k = 2)]
fn search(query: &str) -> Result<Vec<Doc>, String> {
    let _ = query;
    Ok(vec![
        Doc {
            id: "d1",
            score: 0.9,
            content: "Refunds take 5 days.",
        },
        Doc {
            id: "d2",
            score: 0.4,
            content: "Orders ship in 2 days. Mail help@example.com.",
        },
    ])
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", temperature = 0.3, max_tokens = 200, messages = [Message::system("Be brief."), Message::user(question)])]
fn chat(question: &str, docs: &[Doc]) -> Result<Reply, String> {
    let _ = (question, docs);
    Ok(Reply {
        text: "Refunds take 5 days.".into(),
    })
}

#[llmtrace::tool(name = "lookup_order", attributes(app.tier = "pro", app.regions = ["eu", "us"]))]
fn lookup(order_id: &str) -> Result<u32, String> {
    Err(format!("no order {order_id}"))
}

#[llmtrace::workflow(name = "answer_async")]
async fn answer_async(question: &str) -> String {
    chat_async(question, "gpt-4o-mini").await
}

/// The model is known only at run time: the span is renamed when it ends.
#[llmtrace::llm_call(provider = "openai", model = model, messages = [Message::user(question)])]
async fn chat_async(question: &str, model: &str) -> String {
    let _ = model;
    tokio::task::yield_now().await;
    tracing::info!("after a yield");
    llmtrace::current().record_usage(Usage::new(20, 5));
    format!("echo: {question}")
}

/// The same code in both modes, compared.
fn scenario() {
    llmtrace::scope()
        .session_id("s-1")
        .tag("beta")
        .in_scope(|| answer("How long do refunds take?"))
        .unwrap();
    let reply = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(answer_async("hi"));
    assert_eq!(reply, "echo: hi");
}

/// The names of the spans `scenario` makes.
const SCENARIO: [&str; 6] = [
    "invoke_workflow answer",
    "retrieval help_center",
    "chat gpt-4o",
    "execute_tool lookup_order",
    "invoke_workflow answer_async",
    "chat gpt-4o-mini",
];

#[tracing::instrument(name = "GET /answer")]
fn handle_request() -> u64 {
    handled()
}

/// A workflow with a `tracing` span inside it, and a model call inside that.
#[llmtrace::workflow(name = "handled")]
fn handled() -> u64 {
    let db = tracing::info_span!("db_query").entered();
    let _ = chat("inside a db span", &[]);
    drop(db);
    llmtrace::current().span_id().map_or(0, |id| id.0)
}

// ---- helpers -----------------------------------------------------------------------------------

/// Samples every span, and keeps the names it was asked about.
#[derive(Clone, Debug, Default)]
struct NamesSeen(Arc<Mutex<Vec<String>>>);

impl opentelemetry_sdk::trace::ShouldSample for NamesSeen {
    fn should_sample(
        &self,
        _: Option<&opentelemetry::Context>,
        _: opentelemetry::trace::TraceId,
        name: &str,
        _: &opentelemetry::trace::SpanKind,
        _: &[opentelemetry::KeyValue],
        _: &[opentelemetry::trace::Link],
    ) -> opentelemetry_sdk::trace::SamplingResult {
        self.0.lock().unwrap().push(name.to_owned());
        opentelemetry_sdk::trace::SamplingResult {
            decision: opentelemetry_sdk::trace::SamplingDecision::RecordAndSample,
            attributes: Vec::new(),
            trace_state: Default::default(),
        }
    }
}

/// An attribute value as text, with its type (the way an exporter would encode it).
fn value(v: &opentelemetry::Value) -> Json {
    match v {
        opentelemetry::Value::Bool(b) => json!({ "bool": b }),
        opentelemetry::Value::I64(i) => json!({ "i64": i }),
        opentelemetry::Value::F64(f) => json!({ "f64": f }),
        opentelemetry::Value::String(s) => json!({ "str": s.as_str() }),
        opentelemetry::Value::Array(opentelemetry::Array::String(a)) => {
            json!({ "strs": a.iter().map(|s| s.as_str()).collect::<Vec<_>>() })
        }
        other => json!({ "other": format!("{other:?}") }),
    }
}

fn attributes(kvs: &[opentelemetry::KeyValue]) -> BTreeMap<String, Json> {
    kvs.iter()
        .map(|kv| (kv.key.to_string(), value(&kv.value)))
        .collect()
}

/// What must be equal across modes: name, kind, status, attributes, events (ids, times and the
/// instrumentation scope aside).
fn dump(span: &SpanData) -> Json {
    let mut events: Vec<Json> = span
        .events
        .iter()
        .map(|e| json!({ "name": e.name, "attributes": attributes(&e.attributes) }))
        .collect();
    // Events added while the span runs and those the record adds at its end are interleaved
    // differently; their set is what counts.
    events.sort_by_key(|e| e.to_string());
    json!({
        "name": span.name,
        "kind": format!("{:?}", span.span_kind),
        "status": format!("{:?}", span.status),
        "attributes": attributes(&span.attributes),
        "events": events,
    })
}

/// The OpenTelemetry layer as the tests configure it.
fn otel_layer<S>(
    provider: &SdkTracerProvider,
) -> tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::SdkTracer>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("app"))
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        // Not an attribute native mode has.
        .with_target(false)
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Prints the scenario's spans (not the model call inside `handled`).
fn print_dump(spans: &[SpanData], handled: &SpanData) {
    let scenario: Vec<SpanData> = spans
        .iter()
        .filter(|s| SCENARIO.contains(&&*s.name))
        .filter(|s| s.parent_span_id != handled.span_context.span_id())
        .cloned()
        .collect();
    let dumped: Vec<Json> = SCENARIO
        .iter()
        .map(|n| dump(by_name(&scenario, n)))
        .collect();
    println!("{DUMP}{}", Json::Array(dumped));
}

// ---- the children ------------------------------------------------------------------------------

/// Native mode, OpenTelemetry switch on: llmtrace exports its spans itself, the subscriber's
/// OpenTelemetry layer the `tracing` ones; the parents cross over.
#[test]
#[ignore = "run by `native_mode` in a child process"]
fn child_native() {
    assert_eq!(child_process::mode(), "native");
    let app = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(app.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(otel_layer(&provider))
        .with(llmtrace::tracing::EventsLayer::new());
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let ours = InMemorySpanExporter::default();
    let _guard = llmtrace::init()
        .env(HashMap::<String, String>::new())
        .with_exporter(ours.clone())
        .otel_context(true)
        .install();

    let handled_id = handle_request();
    scenario();
    llmtrace::force_flush(Duration::from_secs(10)).unwrap();
    provider.force_flush().unwrap();
    let app = app.get_finished_spans().unwrap();
    let ours = ours.get_finished_spans().unwrap();

    // A request span containing a workflow: the workflow is its child, a local root for
    // llmtrace all the same.
    let request = by_name(&app, "GET /answer");
    let workflow = by_name(&ours, "invoke_workflow handled");
    assert_child(workflow, request);
    assert_eq!(workflow.span_context.span_id(), SpanId::from(handled_id));
    // A workflow containing a `tracing` span: the `tracing` span is its child, and the model
    // call inside that is the workflow's (llmtrace's tree is llmtrace's own).
    let db = by_name(&app, "db_query");
    assert_child(db, workflow);
    let chat = ours
        .iter()
        .find(|s| s.name == "chat gpt-4o" && s.parent_span_id == workflow.span_context.span_id())
        .expect("the model call inside the db span");
    assert_child(chat, workflow);
    // The event layer: `tracing` events inside llmtrace spans are their events.
    let answer = by_name(&ours, "invoke_workflow answer");
    let event = answer
        .events
        .iter()
        .find(|e| e.name == "looking the order up")
        .expect("the tracing event");
    let attrs = attributes(&event.attributes);
    assert_eq!(attrs["order"], json!({ "i64": 42 }));
    assert_eq!(attrs["level"], json!({ "str": "INFO" }));

    print_dump(&ours, workflow);
}

/// `tracing` mode: llmtrace spans are spans of the subscriber, exported by its OpenTelemetry
/// layer and logged by its fmt layer.
#[test]
#[ignore = "run by `tracing_mode` in a child process"]
fn child_tracing() {
    assert_eq!(child_process::mode(), "tracing");
    let app = InMemorySpanExporter::default();
    let sampled = NamesSeen::default();
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampled.clone())
        .with_simple_exporter(app.clone())
        .build();
    let log = Buffer::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::registry()
        .with(otel_layer(&provider))
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_span_events(FmtSpan::CLOSE)
                .with_writer(move || writer.clone()),
        )
        // A no-op in `tracing` mode: events are not doubled.
        .with(llmtrace::tracing::EventsLayer::new());
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let _guard = llmtrace::init()
        .env(HashMap::<String, String>::new())
        .tracing_mode()
        .end_host_spans_off_thread(true)
        .install();

    let handled_id = handle_request();
    scenario();
    let returned = std::time::SystemTime::now();
    llmtrace::force_flush(Duration::from_secs(10)).unwrap();
    provider.force_flush().unwrap();
    let app = app.get_finished_spans().unwrap();
    // Closed on llmtrace's host thread, with the times they were last exited at.
    for span in &app {
        assert!(span.end_time <= returned, "{} ended late", span.name);
    }

    let request = by_name(&app, "GET /answer");
    let workflow = by_name(&app, "invoke_workflow handled");
    assert_child(workflow, request);
    // llmtrace's context names the exported span.
    assert_eq!(workflow.span_context.span_id(), SpanId::from(handled_id));
    let db = by_name(&app, "db_query");
    assert_child(db, workflow);
    let chat = app
        .iter()
        .find(|s| s.name == "chat gpt-4o" && s.parent_span_id == workflow.span_context.span_id())
        .expect("the model call inside the db span");
    assert_child(chat, workflow);
    // Nested as the code is, across `.await` too.
    assert_child(
        by_name(&app, "chat gpt-4o-mini"),
        by_name(&app, "invoke_workflow answer_async"),
    );
    assert_child(
        by_name(&app, "retrieval help_center"),
        by_name(&app, "invoke_workflow answer"),
    );
    // The provider's sampler sees a span's name as the callsite gives it: the run-time model
    // comes at the end.
    let seen = sampled.0.lock().unwrap().clone();
    for name in [
        "chat gpt-4o",
        "invoke_workflow answer",
        "retrieval help_center",
        "chat",
    ] {
        assert!(seen.iter().any(|n| n == name), "{name} in {seen:?}");
    }
    // The fmt layer logs the attributes as fields.
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let closed = log
        .lines()
        .find(|l| l.contains("chat{") && l.contains("gen_ai.response.id"))
        .unwrap_or_else(|| panic!("the model call's close in the log:\n{log}"));
    for field in [
        "otel.kind=\"client\"",
        "gen_ai.usage.input_tokens=412",
        "gen_ai.request.model=\"gpt-4o\"",
        "otel.name=\"chat gpt-4o\"",
    ] {
        assert!(closed.contains(field), "{field} in {closed}");
    }
    assert!(
        log.lines()
            .any(|l| l.contains("lookup{") && l.contains("otel.status_code=\"error\"")),
        "{log}"
    );
    // A name known only at run time reaches the other layers too.
    assert!(
        log.lines()
            .any(|l| l.contains("chat_async{") && l.contains("otel.name=\"chat gpt-4o-mini\"")),
        "{log}"
    );

    print_dump(&app, workflow);
}

// ---- the tests ---------------------------------------------------------------------------------

/// Runs a child and returns its span dump.
fn run(child: &str, mode: &str) -> Json {
    let stdout = child_process::run_child(child, mode);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once(DUMP).map(|(_, d)| d))
        .expect("the span dump");
    serde_json::from_str(line).unwrap()
}

#[test]
fn native_mode_parents_cross_both_ways() {
    run("child_native", "native");
}

#[test]
fn tracing_mode_parents_cross_both_ways_and_fmt_logs_fields() {
    run("child_tracing", "tracing");
}

#[test]
fn tracing_mode_exports_what_native_mode_does() {
    let native = run("child_native", "native");
    let tracing = run("child_tracing", "tracing");
    let (native, tracing) = (native.as_array().unwrap(), tracing.as_array().unwrap());
    assert_eq!(native.len(), SCENARIO.len());
    for (n, t) in native.iter().zip(tracing) {
        assert_eq!(n, t, "{} differs:\nnative:  {n}\ntracing: {t}", n["name"]);
    }
    // The comparison is not vacuous: redaction, cost, roll-up, content and events are there.
    let answer = &native[0];
    let attrs = &answer["attributes"];
    assert_eq!(attrs["llmtrace.trace.input_tokens"], json!({ "i64": 412 }));
    assert!(attrs["session.id"].is_object() && attrs["llm.cost.total"].is_null());
    assert!(native[1]["attributes"]["gen_ai.retrieval.documents"]["str"]
        .as_str()
        .unwrap()
        .contains("[REDACTED:email]"));
    assert!(native[1]["attributes"]["retrieval.documents.1.document.content"].is_object());
    assert!(
        native[2]["attributes"]["llm.cost.total"]["f64"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert_eq!(
        native[3]["status"],
        json!("Error { description: \"no order A-42\" }")
    );
    assert_eq!(
        native[3]["attributes"]["app.regions"],
        json!({ "strs": ["eu", "us"] })
    );
    assert!(answer["events"].as_array().unwrap().len() >= 2);
}
