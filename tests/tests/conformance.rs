//! Conformance of emitted names: in the default conventions profile, every `gen_ai.*` key
//! llmtrace can emit, for every kind (workflows, model calls, retrievals, tools, agents,
//! embeddings, rerankers, guardrails, evaluators and steps), is in the OpenTelemetry GenAI registry list and
//! is not deprecated there.
//! The registry list is test data: `llmtrace-macros/data/genai-attributes.txt`.
//!
//! Metrics too: every metric llmtrace records has its conventions' name and unit
//! (`tests/data/genai-metrics.txt`, from the conventions' `metrics.yaml`) or is llmtrace's own
//! (`llmtrace.*`), and every `gen_ai.*` attribute on a metric is in the registry. The evaluation
//! event's attributes are checked with the spans'.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};

use llmtrace::testing::Capture;
use llmtrace::{Field, Value};
use llmtrace_runtime as llmtrace;
use llmtrace_runtime::semconv::keys;

const REGISTRY: &str = include_str!("../../llmtrace-macros/data/genai-attributes.txt");
const METRICS: &str = include_str!("../data/genai-metrics.txt");

/// The metrics exporter of this process: installed before the first capture.
fn metrics_exporter() -> &'static opentelemetry_sdk::metrics::InMemoryMetricExporter {
    static EXPORTER: std::sync::OnceLock<opentelemetry_sdk::metrics::InMemoryMetricExporter> =
        std::sync::OnceLock::new();
    EXPORTER.get_or_init(|| {
        let exporter = opentelemetry_sdk::metrics::InMemoryMetricExporter::default();
        let guard = llmtrace::init()
            .without_exporters()
            .export_interval(std::time::Duration::from_millis(20))
            .metrics_exporter(exporter.clone(), std::time::Duration::from_secs(3600))
            .try_install()
            .expect("installs");
        std::mem::forget(guard);
        exporter
    })
}

/// The conventions' metrics: name -> unit.
fn metric_list() -> BTreeMap<&'static str, &'static str> {
    METRICS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols[0], cols[2])
        })
        .collect()
}

/// Registry entries: name -> stability (`development`, `deprecated`, ...).
fn registry() -> BTreeMap<&'static str, &'static str> {
    REGISTRY
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            let name = cols.next().unwrap();
            let stability = cols.nth(1).expect("name, type, stability columns");
            (name, stability)
        })
        .collect()
}

/// Problems with one key, or `None` when it conforms.
fn check(key: &str, registry: &BTreeMap<&str, &str>) -> Option<String> {
    if !key.starts_with("gen_ai.") {
        return None;
    }
    match registry.get(key) {
        None => Some(format!("`{key}` is not in the GenAI registry")),
        Some(&"deprecated") => Some(format!("`{key}` is deprecated in the GenAI registry")),
        Some(_) => None,
    }
}

#[test]
fn registry_data_is_readable() {
    let registry = registry();
    assert!(registry.len() > 80, "{} entries", registry.len());
    assert_eq!(registry.get("gen_ai.request.model"), Some(&"development"));
    assert_eq!(registry.get("gen_ai.system"), Some(&"deprecated"));
    // The checker does reject what it should.
    assert!(check("gen_ai.system", &registry).is_some());
    assert!(check("gen_ai.no_such_key", &registry).is_some());
    assert!(check("gen_ai.request.model", &registry).is_none());
}

#[test]
fn key_constants_of_the_default_profile_are_registered_and_current() {
    let registry = registry();
    let bad: Vec<String> = keys::gen_ai::ALL
        .iter()
        .chain(keys::openinference::ALL)
        .chain(keys::langfuse::ALL)
        .chain(keys::llmtrace::ALL)
        .chain(keys::metric_attr::ALL)
        .filter_map(|k| check(k, &registry))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    // The legacy profile is exempt, and is what holds the deprecated names.
    assert!(keys::legacy::ALL
        .iter()
        .all(|k| registry.get(k) == Some(&"deprecated")));
}

/// A value of the type the mapper expects for each field, so every field is emitted.
fn value_for(field: Field) -> Value {
    use Field::*;
    match field {
        MaxTokens
        | TopK
        | Seed
        | ChoiceCount
        | ServerPort
        | RetrievalTopK
        | ChunkCount
        | InputTokens
        | OutputTokens
        | CacheReadTokens
        | CacheWriteTokens
        | ReasoningTokens
        | TraceInputTokens
        | TraceOutputTokens
        | AgentInferenceCalls
        | AgentToolCalls
        | AgentSteps
        | EvaluatorInputTokens
        | EvaluatorOutputTokens
        | EmbeddingCount
        | EmbeddingDimension
        | RetryAttempt => Value::I64(7),
        Temperature | TopP | FrequencyPenalty | PresencePenalty | TimeToFirstChunk | CostInput
        | CostOutput | CostCacheRead | CostCacheWrite | CostTotal | TraceCost | AgentCost
        | EvaluatorCost => Value::F64(0.5),
        Stream | Unpriced => Value::Bool(true),
        GuardrailPassed => Value::Bool(false),
        StopSequences | FinishReasons | EncodingFormats => Value::StrList(&["stop"]),
        InputMessages | OutputMessages => {
            Value::Json(r#"[{"role":"user","parts":[{"type":"text","content":"hi"}]}]"#.into())
        }
        SystemInstructions => Value::Json(r#"[{"type":"text","content":"be brief"}]"#.into()),
        Documents | RerankInputDocuments => {
            Value::Json(r#"[{"id":"d1","content":"text","score":0.9}]"#.into())
        }
        Input => Value::Json(r#"{"q":"hi"}"#.into()),
        _ => Value::Str("value"),
    }
}

/// Sets every field of the schema on the current span.
fn fill_every_field() {
    for field in Field::ALL {
        llmtrace::current().set(field, value_for(field));
    }
    llmtrace::current().record_usage(
        llmtrace::Usage::new(100, 50)
            .with_cache_read(10)
            .with_cache_write(5)
            .with_reasoning(20),
    );
}

#[llmtrace::workflow(name = "maximal")]
fn workflow(fail: bool) -> Result<String, std::io::Error> {
    fill_every_field();
    let _ = chat("hi", fail);
    let _ = search("q", fail);
    let _ = lookup(1, fail);
    let _ = agent("goal", fail);
    let _ = llmtrace::evaluation("relevance")
        .score(0.5)
        .label("relevant")
        .explanation("on topic")
        .response_id("resp-1")
        .record_on(llmtrace::current());
    let here = llmtrace::current().context();
    let _ = llmtrace::step!("step", links = [here], {
        fill_every_field();
        llmtrace::current().retry_of(&here);
        fail
    });
    if fail {
        return Err(std::io::Error::other("boom"));
    }
    Ok("done".into())
}

#[llmtrace::llm_call(
    provider = "openai",
    model = "gpt-4o",
    temperature = 0.2,
    max_tokens = 10,
    top_p = 0.9,
    frequency_penalty = 0.1,
    presence_penalty = 0.1,
    seed = 3,
    stop_sequences = ["END"],
    choice_count = 2,
    reasoning_level = "low",
    output_type = "text",
    prompt_name = "p",
    prompt_version = "1",
    conversation_id = "c-1"
)]
fn chat(prompt: &str, fail: bool) -> Result<String, String> {
    fill_every_field();
    if fail {
        return Err("rate limited".into());
    }
    Ok(prompt.to_owned())
}

#[llmtrace::retrieval(data_source = "kb", top_k = 3, provider = "openai", model = "embed")]
fn search(query: &str, fail: bool) -> Result<Vec<String>, String> {
    fill_every_field();
    if fail {
        return Err("index offline".into());
    }
    Ok(vec![query.to_owned()])
}

#[llmtrace::tool(
    name = "lookup",
    description = "Finds things",
    tool_type = "function",
    call_id = "call-1"
)]
fn lookup(id: u32, fail: bool) -> Result<u32, String> {
    fill_every_field();
    if fail {
        return Err("not found".into());
    }
    Ok(id)
}

#[llmtrace::agent(
    name = "planner",
    id = "asst_1",
    description = "Plans",
    version = "1",
    provider = "openai",
    model = "gpt-4o",
    conversation_id = "c-1"
)]
fn agent(goal: &str, fail: bool) -> Result<String, String> {
    fill_every_field();
    let _ = embed(&[goal], fail);
    let _ = rerank(goal, vec![goal.to_owned()], fail);
    let _ = guard(goal, fail);
    let _ = judge(goal, fail);
    if fail {
        return Err("gave up".into());
    }
    Ok(goal.to_owned())
}

#[llmtrace::embeddings(
    provider = "openai",
    model = "text-embedding-3-small",
    encoding_formats = ["float"]
)]
fn embed(texts: &[&str], fail: bool) -> Result<Vec<Vec<f32>>, String> {
    fill_every_field();
    if fail {
        return Err("rate limited".into());
    }
    Ok(texts.iter().map(|_| vec![0.5; 4]).collect())
}

#[llmtrace::rerank(model = "rerank-v3.5", provider = "cohere", top_k = 1, query = query)]
fn rerank(query: &str, documents: Vec<String>, fail: bool) -> Result<Vec<String>, String> {
    fill_every_field();
    if fail {
        return Err("timeout".into());
    }
    Ok(documents)
}

#[llmtrace::guardrail(name = "no_pii")]
fn guard(text: &str, fail: bool) -> Result<llmtrace::Verdict, String> {
    fill_every_field();
    if fail {
        return Err("checker down".into());
    }
    Ok(llmtrace::Verdict::fail(format!("{text} looks odd")))
}

#[llmtrace::evaluator(name = "relevance")]
fn judge(answer: &str, fail: bool) -> Result<f64, String> {
    fill_every_field();
    if fail {
        return Err("judge down".into());
    }
    Ok(answer.len() as f64)
}

#[test]
fn default_profile_emits_only_registered_current_gen_ai_keys() {
    metrics_exporter();
    let registry = registry();
    let capture = Capture::new();
    capture.in_scope(|| {
        // Session context, tags and metadata: every scope attribute.
        llmtrace::scope()
            .session_id("s-1")
            .user_id("u-1")
            .conversation_id("c-1")
            .tag("beta")
            .metadata("tier", "pro")
            .in_scope(|| {
                let _ = workflow(false);
                let _ = workflow(true);
            });
        // A panic ends spans on the unwinding path.
        let _ = std::panic::catch_unwind(|| {
            let _ = workflow_panics();
        });
    });
    let spans = capture.spans();
    assert_eq!(spans.len(), 21, "{:?}", spans.names());

    let mut emitted = BTreeSet::new();
    for span in spans.iter() {
        emitted.extend(span.attributes.iter().map(|kv| kv.key.to_string()));
        for event in span.events.iter() {
            emitted.extend(event.attributes.iter().map(|kv| kv.key.to_string()));
        }
    }
    let bad: Vec<String> = emitted.iter().filter_map(|k| check(k, &registry)).collect();
    assert!(bad.is_empty(), "{bad:#?}");

    // The run did reach the breadth of the schema: a conformance check over a handful of keys
    // would prove nothing.
    let gen_ai = emitted.iter().filter(|k| k.starts_with("gen_ai.")).count();
    assert!(
        gen_ai >= 35,
        "only {gen_ai} gen_ai keys emitted: {emitted:#?}"
    );
    for key in [
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.retrieval.documents",
        "gen_ai.tool.call.id",
        "gen_ai.response.finish_reasons",
        "gen_ai.input.messages",
        "gen_ai.agent.id",
        "gen_ai.agent.description",
        "gen_ai.agent.version",
        "gen_ai.request.encoding_formats",
        "gen_ai.embeddings.dimension.count",
        "gen_ai.evaluation.name",
        "gen_ai.evaluation.score.value",
        "gen_ai.evaluation.score.label",
        "gen_ai.evaluation.explanation",
    ] {
        assert!(emitted.contains(key), "{key} was not emitted");
    }
}

#[llmtrace::workflow(name = "panics")]
fn workflow_panics() -> u32 {
    fill_every_field();
    panic!("deliberate")
}

#[test]
fn metrics_have_the_conventions_names_units_and_registered_attributes() {
    let exporter = metrics_exporter();
    let registry = registry();
    let conventions = metric_list();
    assert!(
        conventions.len() > 10,
        "{} metrics listed",
        conventions.len()
    );
    let capture = Capture::new();
    capture.in_scope(|| {
        let _ = workflow(false);
        let _ = workflow(true);
    });
    let _ = capture.spans(); // flushes, and with it the metrics
    let exported = exporter.get_finished_metrics().expect("metrics");
    let mut names = BTreeSet::new();
    let mut problems = Vec::new();
    for metric in exported
        .iter()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|sm| sm.metrics())
    {
        names.insert(metric.name().to_owned());
        match conventions.get(metric.name()) {
            Some(unit) if *unit != metric.unit() => problems.push(format!(
                "{} has unit {:?}, the conventions say {unit:?}",
                metric.name(),
                metric.unit()
            )),
            Some(_) => {}
            None if metric.name().starts_with("llmtrace.") => {}
            None => problems.push(format!("{} is not a conventions metric", metric.name())),
        }
        let keys = metric_attribute_keys(metric);
        problems.extend(keys.iter().filter_map(|k| check(k, &registry)));
    }
    assert!(problems.is_empty(), "{problems:#?}");
    for name in [
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.duration",
        "gen_ai.execute_tool.duration",
        "gen_ai.invoke_agent.duration",
        "gen_ai.invoke_agent.inference_calls",
        "gen_ai.invoke_agent.tool_calls",
        "llmtrace.client.cost",
    ] {
        assert!(names.contains(name), "{name} not recorded: {names:?}");
    }
}

#[test]
fn every_metric_name_llmtrace_can_record_is_a_conventions_metric_or_its_own() {
    // Including the ones the run above does not reach (stream timings, the latest set).
    let conventions = metric_list();
    let unknown: Vec<&str> = keys::metric::ALL
        .iter()
        .copied()
        .filter(|name| !conventions.contains_key(name) && !name.starts_with("llmtrace."))
        .collect();
    assert!(unknown.is_empty(), "{unknown:?}");
    assert!(keys::metric::ALL.contains(&"gen_ai.client.operation.time_per_output_chunk"));
}

/// Every attribute key on any data point of `metric`.
fn metric_attribute_keys(metric: &opentelemetry_sdk::metrics::data::Metric) -> BTreeSet<String> {
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
    fn keys<'a>(attrs: impl Iterator<Item = &'a opentelemetry::KeyValue>) -> Vec<String> {
        attrs.map(|kv| kv.key.to_string()).collect()
    }
    let mut out = BTreeSet::new();
    match metric.data() {
        AggregatedMetrics::F64(MetricData::Histogram(h)) => h
            .data_points()
            .for_each(|p| out.extend(keys(p.attributes()))),
        AggregatedMetrics::U64(MetricData::Histogram(h)) => h
            .data_points()
            .for_each(|p| out.extend(keys(p.attributes()))),
        AggregatedMetrics::F64(MetricData::Sum(s)) => s
            .data_points()
            .for_each(|p| out.extend(keys(p.attributes()))),
        AggregatedMetrics::U64(MetricData::Sum(s)) => s
            .data_points()
            .for_each(|p| out.extend(keys(p.attributes()))),
        other => panic!("{} is an unexpected aggregation: {other:?}", metric.name()),
    }
    out
}
