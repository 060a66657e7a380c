//! The `tracing` callsite of an instrumented function, for `tracing` mode.
//!
//! Every expansion calls `tracing_callsite!(Kind, "fn_name", "custom.key", ..)`. The macro crate
//! cannot know the runtime's features (a `cfg` in the expansion would test the user's crate),
//! so the runtime defines the macro twice: with the `tracing` feature it builds a `'static`
//! callsite whose fields are the span's summary keys, declared up front as `tracing`'s own
//! macros build theirs; without it, it is `None`.
//!
//! The fields are generated from the key table (`semconv::table`) at compile time: the fields
//! tracing-opentelemetry reads (`otel.*`), the [`SUMMARY`] keys the table lists for the kind,
//! then the function's custom keys, built by [`tracing_fields`] into the `static` array
//! `tracing`'s `FieldSet` needs. Every other key (request parameters, content, the other
//! conventions' duplicates, indexed keys, keys set at run time) goes to tracing-opentelemetry
//! directly, so it is exported the same, but the other layers (`fmt`) do not see it.
//!
//! Why not every key: tracing-opentelemetry makes each span's attribute list as long as its
//! callsite's field count. With every key a model call can emit (about 90) that is a 5 KB
//! allocation per span, served by the allocator's slow path and freed on another thread; in the
//! benchmark it cost the caller about 0.2× a `#[tracing::instrument]` span.

#[cfg(feature = "tracing")]
use crate::record::Kind;
#[cfg(feature = "tracing")]
use crate::semconv::keys::{gen_ai, openinference};
#[cfg(feature = "tracing")]
use crate::semconv::table;
#[cfg(feature = "tracing")]
use crate::sinks::host::tracing::{
    OTEL_KIND, OTEL_NAME, OTEL_STATUS_CODE, OTEL_STATUS_DESCRIPTION,
};

/// The fields tracing-opentelemetry reads as the span's name, kind and status.
#[cfg(feature = "tracing")]
const OTEL_FIELDS: [&str; 4] = [
    OTEL_NAME,
    OTEL_KIND,
    OTEL_STATUS_CODE,
    OTEL_STATUS_DESCRIPTION,
];

/// The keys declared as fields when the span's kind emits them: what names the call and its
/// outcome in a log line. At most ten for any kind, which keeps tracing-opentelemetry's
/// per-span attribute list under 1 KB with its default extra attributes (location and thread).
#[cfg(feature = "tracing")]
const SUMMARY: [&str; 13] = [
    gen_ai::OPERATION_NAME,
    gen_ai::WORKFLOW_NAME,
    gen_ai::AGENT_NAME,
    gen_ai::PROVIDER_NAME,
    gen_ai::REQUEST_MODEL,
    gen_ai::RESPONSE_MODEL,
    gen_ai::USAGE_INPUT_TOKENS,
    gen_ai::USAGE_OUTPUT_TOKENS,
    openinference::LLM_COST_TOTAL,
    gen_ai::RESPONSE_ID,
    gen_ai::TOOL_NAME,
    gen_ai::DATA_SOURCE_ID,
    gen_ai::ERROR_TYPE,
];

/// Whether `key` of the table is declared as a field for `kind`.
#[cfg(feature = "tracing")]
const fn declared(key: &table::Key, kind: Kind) -> bool {
    if !key.kinds.contains(kind) {
        return false;
    }
    let mut i = 0;
    while i < SUMMARY.len() {
        if same(SUMMARY[i], key.name) {
            return true;
        }
        i += 1;
    }
    false
}

#[cfg(feature = "tracing")]
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// How many fields the `tracing` callsite of a function of `kind` with these custom keys has.
#[cfg(feature = "tracing")]
pub const fn tracing_field_count(kind: Kind, custom: &[&'static str]) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < table::KEYS.len() {
        if declared(&table::KEYS[i], kind) {
            n += 1;
        }
        i += 1;
    }
    OTEL_FIELDS.len() + n + custom.len()
}

/// The fields of the `tracing` callsite of a function of `kind` with these custom keys: the
/// `otel.*` fields, the table's summary keys for the kind, the custom keys. `N` is
/// [`tracing_field_count`]`(kind, custom)`; the expansion evaluates this in a `static`, so a
/// wrong `N` fails the build.
#[cfg(feature = "tracing")]
pub const fn tracing_fields<const N: usize>(
    kind: Kind,
    custom: &[&'static str],
) -> [&'static str; N] {
    let mut fields = [""; N];
    let mut n = 0;
    let mut i = 0;
    while i < OTEL_FIELDS.len() {
        fields[n] = OTEL_FIELDS[i];
        n += 1;
        i += 1;
    }
    i = 0;
    while i < table::KEYS.len() {
        if declared(&table::KEYS[i], kind) {
            fields[n] = table::KEYS[i].name;
            n += 1;
        }
        i += 1;
    }
    i = 0;
    while i < custom.len() {
        fields[n] = custom[i];
        n += 1;
        i += 1;
    }
    assert!(n == N, "`N` is not the number of fields");
    fields
}

#[cfg(feature = "tracing")]
#[doc(hidden)]
#[macro_export]
macro_rules! __llmtrace_tracing_callsite {
    ($kind:ident, $name:literal $(, $custom:literal)* $(,)?) => {{
        static __LLMTRACE_TRACING_FIELDS: [&str; $crate::__private::tracing_field_count(
            $crate::__private::Kind::$kind,
            &[$($custom),*],
        )] = $crate::__private::tracing_fields(
            $crate::__private::Kind::$kind,
            &[$($custom),*],
        );
        static __LLMTRACE_TRACING_META: $crate::__private::tracing::Metadata<'static> =
            $crate::__private::tracing::Metadata::new(
                $name,
                ::core::module_path!(),
                $crate::__private::tracing::Level::INFO,
                ::core::option::Option::Some(::core::file!()),
                ::core::option::Option::Some(::core::line!()),
                ::core::option::Option::Some(::core::module_path!()),
                $crate::__private::tracing::field::FieldSet::new(
                    &__LLMTRACE_TRACING_FIELDS,
                    $crate::__private::tracing::callsite::Identifier(
                        &__LLMTRACE_TRACING_CALLSITE,
                    ),
                ),
                $crate::__private::tracing::metadata::Kind::SPAN,
            );
        static __LLMTRACE_TRACING_CALLSITE: $crate::__private::TracingCallsite =
            $crate::__private::TracingCallsite::new(&__LLMTRACE_TRACING_META);
        ::core::option::Option::Some(&__LLMTRACE_TRACING_CALLSITE)
    }};
}

#[cfg(not(feature = "tracing"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __llmtrace_tracing_callsite {
    ($($tokens:tt)*) => {
        ::core::option::Option::None
    };
}

#[cfg(all(test, feature = "tracing"))]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use opentelemetry::KeyValue;
    use tracing::callsite::Callsite as _;

    use crate::mapper::Mapper;
    use crate::record::Scope;
    use crate::record::{
        CAPTURE_INPUT, CAPTURE_OUTPUT, Callsite, FLAG_TRUNCATED, Field, Kind, Record, Status, Value,
    };
    use crate::semconv::{Conventions, keys, table};
    use crate::state::ContentCapture;

    static WORKFLOW: Callsite = Callsite::new(
        Kind::Workflow,
        "flow",
        "m",
        &[],
        &[],
        CAPTURE_INPUT | CAPTURE_OUTPUT,
    )
    .with_tracing(crate::__llmtrace_tracing_callsite!(Workflow, "flow"));
    static LLM: Callsite = Callsite::new(
        Kind::LlmCall,
        "chat",
        "m",
        &[],
        &[],
        CAPTURE_INPUT | CAPTURE_OUTPUT,
    )
    .with_tracing(crate::__llmtrace_tracing_callsite!(LlmCall, "chat"));
    static RETRIEVAL: Callsite = Callsite::new(
        Kind::Retrieval,
        "search",
        "m",
        &[],
        &[],
        CAPTURE_INPUT | CAPTURE_OUTPUT,
    )
    .with_tracing(crate::__llmtrace_tracing_callsite!(Retrieval, "search"));
    static TOOL: Callsite = Callsite::new(
        Kind::Tool,
        "lookup",
        "m",
        &[],
        &[],
        CAPTURE_INPUT | CAPTURE_OUTPUT,
    )
    .with_tracing(crate::__llmtrace_tracing_callsite!(
        Tool, "lookup", "app.tier"
    ));
    static AGENT: Callsite = Callsite::new(Kind::Agent, "plan", "m", &[], &[], CAPTURE_OUTPUT)
        .with_tracing(crate::__llmtrace_tracing_callsite!(Agent, "plan"));
    static EMBEDDINGS: Callsite =
        Callsite::new(Kind::Embeddings, "embed", "m", &[], &[], CAPTURE_INPUT)
            .with_tracing(crate::__llmtrace_tracing_callsite!(Embeddings, "embed"));
    static RERANK: Callsite = Callsite::new(Kind::Rerank, "rerank", "m", &[], &[], CAPTURE_OUTPUT)
        .with_tracing(crate::__llmtrace_tracing_callsite!(Rerank, "rerank"));
    static GUARDRAIL: Callsite =
        Callsite::new(Kind::Guardrail, "check", "m", &[], &[], CAPTURE_OUTPUT)
            .with_tracing(crate::__llmtrace_tracing_callsite!(Guardrail, "check"));
    static EVALUATOR: Callsite =
        Callsite::new(Kind::Evaluator, "judge", "m", &[], &[], CAPTURE_OUTPUT)
            .with_tracing(crate::__llmtrace_tracing_callsite!(Evaluator, "judge"));
    static STEP: Callsite = Callsite::new(Kind::Step, "step", "m", &[], &[], CAPTURE_OUTPUT)
        .with_tracing(crate::__llmtrace_tracing_callsite!(Step, "step"));

    /// A callsite of every kind.
    const EVERY_KIND: [&Callsite; 10] = [
        &WORKFLOW,
        &LLM,
        &RETRIEVAL,
        &TOOL,
        &AGENT,
        &EMBEDDINGS,
        &RERANK,
        &GUARDRAIL,
        &EVALUATOR,
        &STEP,
    ];

    /// A plausible value of every field.
    fn value(field: Field, operation: &'static str) -> Value {
        match field {
            Field::Operation => Value::Str(operation),
            Field::Documents | Field::RerankInputDocuments => Value::Json(
                r#"[{"id":"d1","score":0.9,"content":"refunds","metadata":{"lang":"en"}},"plain"]"#
                    .into(),
            ),
            Field::Input => Value::Json(r#"{"q":"refund?"}"#.into()),
            Field::Output => Value::Json(r#""5 days""#.into()),
            Field::InputMessages
            | Field::OutputMessages
            | Field::SystemInstructions
            | Field::ToolDefinitions => Value::Json(r#"[{"role":"user","parts":[]}]"#.into()),
            _ => field.sample(0),
        }
    }

    /// Records with every field set (and some with none), every flag and status, in every
    /// shape the mapper branches on.
    fn maximal(callsite: &'static Callsite) -> Vec<Record> {
        let scope = Arc::new(Scope {
            session_id: Some("s".into()),
            user_id: Some("u".into()),
            conversation_id: Some("c".into()),
            tags: vec!["beta".into()],
            metadata: vec![("tier".into(), Value::Str("pro"))],
            ..Scope::default()
        });
        let mut out = Vec::new();
        for operation in ["chat", "embeddings"] {
            for (parent, status) in [
                (0, Status::Error),
                (1, Status::Cancelled),
                (0, Status::Unset),
            ] {
                let mut rec = Record::new(callsite, 1, 2, parent, Some(scope.clone()), 0);
                for field in Field::ALL {
                    rec.set(field, value(field, operation));
                }
                rec.status = status;
                rec.flags |= FLAG_TRUNCATED;
                rec.set_custom("app.run_time_key".into(), Value::I64(1));
                out.push(rec);
            }
            // No usage at all, no documents that parse, nothing dynamic.
            let mut bare = Record::new(callsite, 1, 2, 0, None, 0);
            bare.set(Field::Operation, Value::Str(operation));
            bare.set(Field::Documents, Value::String("not json".into()));
            out.push(bare);
        }
        out
    }

    fn emitted(callsite: &'static Callsite, content: ContentCapture) -> BTreeSet<String> {
        let all = Conventions::default()
            .legacy(true)
            .latest_experimental(true)
            .openinference_full(true)
            .langfuse(true);
        let mut keys = BTreeSet::new();
        for conventions in [Conventions::default(), all] {
            let mapper = Mapper::new(
                conventions,
                content,
                opentelemetry_sdk::Resource::builder_empty().build(),
            );
            for mut rec in maximal(callsite) {
                let mapped = mapper.map(&mut rec, &mut Vec::<KeyValue>::new());
                keys.extend(mapped.attributes.iter().map(|kv| kv.key.to_string()));
            }
        }
        keys
    }

    fn declared(callsite: &'static Callsite) -> BTreeSet<&'static str> {
        let fields = callsite
            .tracing
            .expect("a tracing callsite")
            .metadata()
            .fields();
        fields.iter().map(|f| f.name()).collect()
    }

    /// The mapper's keys beyond the summary are no fields: they go to the OpenTelemetry span
    /// directly (`tracing_interop.rs` checks that the exported spans are native mode's).
    #[test]
    fn the_summary_keys_the_mapper_emits_are_declared_and_no_others() {
        let llm = emitted(&LLM, ContentCapture::SpanOnly);
        assert!(llm.contains("gen_ai.usage.input_tokens") && llm.contains("llm.token_count.total"));
        for callsite in EVERY_KIND {
            let declared = declared(callsite);
            for content in [ContentCapture::SpanOnly, ContentCapture::SpanAndEvent] {
                for key in emitted(callsite, content) {
                    let summary = super::SUMMARY.contains(&key.as_str());
                    assert_eq!(
                        declared.contains(key.as_str()),
                        summary || key == "app.tier",
                        "{:?} emits `{key}`",
                        callsite.kind
                    );
                }
            }
        }
    }

    #[test]
    fn declared_keys_are_known_keys_and_custom_keys_are_added() {
        let known: BTreeSet<&str> = [
            keys::gen_ai::ALL,
            keys::legacy::ALL,
            keys::openinference::ALL,
            keys::langfuse::ALL,
            keys::llmtrace::ALL,
        ]
        .concat()
        .into_iter()
        .collect();
        for callsite in EVERY_KIND {
            let declared = declared(callsite);
            for key in &declared {
                assert!(
                    known.contains(key) || key.starts_with("otel.") || *key == "app.tier",
                    "`{key}` is declared but is no key of `semconv::keys`"
                );
            }
            let name = callsite.tracing.unwrap().metadata().name();
            assert_eq!(name, callsite.fn_name);
        }
        assert!(declared(&TOOL).contains("app.tier"));
        assert!(!declared(&LLM).contains("app.tier"));
    }

    #[test]
    fn the_fields_are_the_tables_summary_keys_of_the_kind() {
        for callsite in EVERY_KIND {
            let fields = callsite.tracing.unwrap().metadata().fields();
            let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
            let mut expected: Vec<&str> = super::OTEL_FIELDS.to_vec();
            let summary: Vec<&str> = table::KEYS
                .iter()
                .filter(|k| k.kinds.contains(callsite.kind) && super::SUMMARY.contains(&k.name))
                .map(|k| k.name)
                .collect();
            // tracing-opentelemetry's list of the span's attributes stays under 1 KB (the
            // allocator's per-thread cache) with its 5 default extra attributes.
            assert!(summary.len() <= 10, "{:?}: {summary:?}", callsite.kind);
            expected.extend(summary);
            if callsite.kind == Kind::Tool {
                expected.push("app.tier");
            }
            assert_eq!(names, expected, "{:?}", callsite.kind);
            assert_eq!(names.len(), declared(callsite).len(), "no field twice");
        }
        let llm = declared(&LLM);
        for key in [
            "gen_ai.request.model",
            "gen_ai.usage.output_tokens",
            "llm.cost.total",
        ] {
            assert!(llm.contains(key), "{key}");
        }
        // Every summary key is a key of the table, and has a field somewhere.
        let all: BTreeSet<&str> = EVERY_KIND.into_iter().flat_map(declared).collect();
        assert!(super::SUMMARY.iter().all(|k| all.contains(k)));
        const FIELDS: [&str; super::tracing_field_count(Kind::Retrieval, &["a.b"])] =
            super::tracing_fields(Kind::Retrieval, &["a.b"]);
        assert_eq!(FIELDS[0], "otel.name");
        assert_eq!(FIELDS[FIELDS.len() - 1], "a.b");
    }
}
