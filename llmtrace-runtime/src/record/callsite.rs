//! What the macro knows about an instrumented function at compile time: its kind, name,
//! literal arguments and options, in a `static` the expansion builds once.

use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;

use opentelemetry::KeyValue;

use super::{Field, Value};

/// The kinds of operation llmtrace traces: one per attribute macro, and the block span
/// ([`step`](crate::step())).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `#[workflow]`: `invoke_workflow {name}`.
    Workflow,
    /// `#[llm_call]`: `{operation} {model}`.
    LlmCall,
    /// `#[retrieval]`: `retrieval {data_source}`.
    Retrieval,
    /// `#[tool]`: `execute_tool {name}`.
    Tool,
    /// `#[agent]`: `invoke_agent {name}`.
    Agent,
    /// `#[embeddings]`: `embeddings {model}`.
    Embeddings,
    /// `#[rerank]`: `rerank {model}`.
    Rerank,
    /// `#[guardrail]`: `guardrail {name}`.
    Guardrail,
    /// `#[evaluator]`: `evaluate {name}`. The model calls and tools inside it judge another
    /// operation and are not counted in their trace's totals.
    Evaluator,
    /// A block span, [`step`](crate::step()) or `step!`: named by its step name.
    Step,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 10] = [
        Kind::Workflow,
        Kind::LlmCall,
        Kind::Retrieval,
        Kind::Tool,
        Kind::Agent,
        Kind::Embeddings,
        Kind::Rerank,
        Kind::Guardrail,
        Kind::Evaluator,
        Kind::Step,
    ];

    /// The macro name for this kind (`step` for block spans).
    pub const fn macro_name(self) -> &'static str {
        match self {
            Kind::Workflow => "workflow",
            Kind::LlmCall => "llm_call",
            Kind::Retrieval => "retrieval",
            Kind::Tool => "tool",
            Kind::Agent => "agent",
            Kind::Embeddings => "embeddings",
            Kind::Rerank => "rerank",
            Kind::Guardrail => "guardrail",
            Kind::Evaluator => "evaluator",
            Kind::Step => "step",
        }
    }
}

/// Callsite option: capture the return value as the span's output.
pub const CAPTURE_OUTPUT: u8 = 1;
/// Callsite option: capture the parameters as the span's input.
pub const CAPTURE_INPUT: u8 = 1 << 1;
/// Callsite option: the operation is a call to a hosted service (an agent or reranker given a
/// `provider`): its span kind is CLIENT rather than INTERNAL.
pub const HOSTED: u8 = 1 << 2;

/// Static description of one instrumented function, built by the macro as a `static`.
#[derive(Debug)]
pub struct Callsite {
    pub(crate) kind: Kind,
    pub(crate) fn_name: &'static str,
    pub(crate) module_path: &'static str,
    pub(crate) statics: &'static [(Field, Value)],
    pub(crate) custom: &'static [(&'static str, Value)],
    pub(crate) options: u8,
    /// Attributes derived from the static part, computed once by the mapper.
    pub(crate) cache: OnceLock<CallsiteCache>,
    /// The `tracing` callsite of this function's spans in `tracing` mode (with the `tracing`
    /// feature; `None` otherwise).
    pub(crate) tracing: Option<&'static TracingCallsite>,
    /// The fields of the `tracing` callsite, and where each mapped key was found last.
    #[cfg(feature = "tracing")]
    pub(crate) tracing_fields: OnceLock<TracingFields>,
    /// A value out of range was reported for this function already (once is enough).
    pub(crate) warned: AtomicBool,
    /// Documents with no field read by name were reported for this function already.
    pub(crate) documents_warned: AtomicBool,
}

impl Callsite {
    /// Describes a function. Called by macro expansions in a `static` initializer.
    pub const fn new(
        kind: Kind,
        fn_name: &'static str,
        module_path: &'static str,
        statics: &'static [(Field, Value)],
        custom: &'static [(&'static str, Value)],
        options: u8,
    ) -> Self {
        Callsite {
            kind,
            fn_name,
            module_path,
            statics,
            custom,
            options,
            cache: OnceLock::new(),
            warned: AtomicBool::new(false),
            documents_warned: AtomicBool::new(false),
            tracing: None,
            #[cfg(feature = "tracing")]
            tracing_fields: OnceLock::new(),
        }
    }

    /// Adds the `tracing` callsite, made by the `tracing_callsite!` macro of the expansions' entry points. Called by macro
    /// expansions in a `static` initializer.
    pub const fn with_tracing(mut self, tracing: Option<&'static TracingCallsite>) -> Self {
        self.tracing = tracing;
        self
    }

    /// The kind of span this function produces.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The instrumented function's name.
    pub fn fn_name(&self) -> &'static str {
        self.fn_name
    }

    /// The module the function is defined in.
    pub fn module_path(&self) -> &'static str {
        self.module_path
    }

    pub(crate) fn get(&self, field: Field) -> Option<&'static Value> {
        self.statics
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v)
    }
}

/// Attributes derived from a callsite's literal arguments, computed once by the mapper and
/// cloned onto each of its spans.
#[derive(Debug)]
pub(crate) struct CallsiteCache {
    /// The span name, when the literal arguments fix it.
    pub(crate) name: &'static str,
    /// The request-side attributes.
    pub(crate) request: Vec<KeyValue>,
    /// How many attributes the last span of this callsite handed to a host span (OTel-provider
    /// mode): the next one's list is sized for them when it starts, where growing it one
    /// attribute at a time cost three reallocations per span.
    pub(crate) host_attributes: std::sync::atomic::AtomicUsize,
    /// `request` in parts that build its attributes again: made once, from the first span that
    /// needs its own copy of them.
    pub(crate) request_parts: OnceLock<Box<[RequestPart]>>,
}

impl CallsiteCache {
    /// The request attributes, built afresh (a span's own list, as `SpanData` holds them).
    ///
    /// Building from the parts writes each attribute as a static string or a number; cloning
    /// the cached `KeyValue`s went through their `Clone`, which matches on every variant of the
    /// key and the value, and cost the export thread about 75 instructions an attribute.
    #[inline]
    pub(crate) fn request_into(&'static self, out: &mut Vec<KeyValue>) {
        let parts = self
            .request_parts
            .get_or_init(|| self.request.iter().map(RequestPart::of).collect());
        out.extend(parts.iter().map(RequestPart::build));
    }
}

/// One cached request attribute, as its strings, which live as long as the cache (for ever).
#[derive(Debug)]
pub(crate) struct RequestPart {
    key: &'static str,
    value: PartValue,
}

#[derive(Debug)]
enum PartValue {
    Bool(bool),
    I64(i64),
    F64(f64),
    Str(&'static str),
    /// Anything else (a list) is cloned.
    Other(&'static opentelemetry::Value),
}

impl RequestPart {
    fn of(kv: &'static KeyValue) -> RequestPart {
        use opentelemetry::Value as V;
        RequestPart {
            key: kv.key.as_str(),
            value: match &kv.value {
                V::Bool(b) => PartValue::Bool(*b),
                V::I64(i) => PartValue::I64(*i),
                V::F64(f) => PartValue::F64(*f),
                V::String(s) => PartValue::Str(s.as_str()),
                other => PartValue::Other(other),
            },
        }
    }

    #[inline]
    fn build(&self) -> KeyValue {
        use opentelemetry::{Key, StringValue, Value as V};
        let value = match self.value {
            PartValue::Bool(b) => V::Bool(b),
            PartValue::I64(i) => V::I64(i),
            PartValue::F64(f) => V::F64(f),
            PartValue::Str(s) => V::String(StringValue::from(s)),
            PartValue::Other(v) => v.clone(),
        };
        KeyValue::new(Key::from_static_str(self.key), value)
    }
}

/// The fields a function's `tracing` callsite declares (its kind's summary keys and its own), and
/// for each position in a mapped span's attribute list, the field found there last time.
///
/// `FieldSet::field` compares the key with each declared name in turn, for each of a span's
/// attributes (when every key of a model call was declared, about a hundred names: the lookups
/// cost more than the mapping). The spans of one function list their keys in the same order,
/// save the few that are set or not from call to call, so the hint is nearly always right, and
/// checking it is one comparison.
#[cfg(feature = "tracing")]
#[derive(Debug)]
pub(crate) struct TracingFields {
    callsite: ::tracing::callsite::Identifier,
    fields: Box<[::tracing::field::Field]>,
    hints: [std::sync::atomic::AtomicU16; TracingFields::HINTS],
}

#[cfg(feature = "tracing")]
impl TracingFields {
    /// Positions with a hint; later attributes are looked up in full.
    const HINTS: usize = 48;

    pub(crate) fn new(meta: &::tracing::Metadata<'_>) -> Self {
        TracingFields {
            callsite: meta.callsite(),
            fields: meta.fields().iter().collect(),
            hints: std::array::from_fn(|_| std::sync::atomic::AtomicU16::new(0)),
        }
    }

    /// Whether these are the fields of `meta`'s callsite.
    #[inline]
    pub(crate) fn declares(&self, meta: &::tracing::Metadata<'_>) -> bool {
        self.callsite == meta.callsite()
    }

    /// The declared field named `key`, for the attribute at `position` of a mapped list.
    #[inline]
    pub(crate) fn find(&self, position: usize, key: &str) -> Option<&::tracing::field::Field> {
        use std::sync::atomic::Ordering::Relaxed;
        let hint = self.hints.get(position);
        if let Some(hint) = hint {
            let field = self.fields.get(usize::from(hint.load(Relaxed)));
            if let Some(field) = field.filter(|f| f.name() == key) {
                return Some(field);
            }
        }
        let (i, field) = self
            .fields
            .iter()
            .enumerate()
            .find(|(_, f)| f.name() == key)?;
        if let (Some(hint), Ok(i)) = (hint, u16::try_from(i)) {
            hint.store(i, Relaxed);
        }
        Some(field)
    }
}

/// The `tracing` callsite type the expansions make (`()` without the `tracing` feature).
#[cfg(feature = "tracing")]
pub type TracingCallsite = ::tracing::callsite::DefaultCallsite;

/// The `tracing` callsite type the expansions make (`()` without the `tracing` feature).
#[cfg(not(feature = "tracing"))]
pub type TracingCallsite = ();

#[cfg(test)]
mod tests {
    use opentelemetry::{Array, KeyValue, StringValue, Value};

    use super::CallsiteCache;

    /// Built from the parts, the attributes are the cached ones: every kind of value, strings
    /// whether static or owned.
    #[test]
    fn request_attributes_built_again_equal_the_cached_ones() {
        let request = vec![
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.request.model", String::from("gpt-4o")),
            KeyValue::new("gen_ai.request.temperature", 0.3),
            KeyValue::new("gen_ai.request.max_tokens", 256_i64),
            KeyValue::new("gen_ai.request.stream", true),
            KeyValue::new(
                String::from("gen_ai.request.stop_sequences"),
                Value::Array(Array::String(vec![StringValue::from("\n\n")])),
            ),
        ];
        let cache: &'static CallsiteCache = Box::leak(Box::new(CallsiteCache {
            name: "chat gpt-4o",
            request: request.clone(),
            host_attributes: Default::default(),
            request_parts: Default::default(),
        }));
        for _ in 0..2 {
            let mut built = vec![KeyValue::new("before", 1_i64)];
            cache.request_into(&mut built);
            assert_eq!(built[0], KeyValue::new("before", 1_i64));
            assert_eq!(built[1..], request[..]);
        }
    }
}
