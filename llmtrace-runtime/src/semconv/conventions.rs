//! Which conventions' keys the mapper emits.

use super::table::Profile;

/// Which attribute conventions to emit.
///
/// The default emits the latest OpenTelemetry GenAI names plus the OpenInference (Phoenix) and
/// Langfuse keys those backends need to render a span fully. Deprecated GenAI names are emitted
/// only by the legacy profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conventions {
    pub(crate) legacy: bool,
    pub(crate) latest: bool,
    pub(crate) openinference: bool,
    pub(crate) openinference_full: bool,
    pub(crate) langfuse: bool,
}

impl Default for Conventions {
    fn default() -> Self {
        Conventions {
            legacy: false,
            latest: false,
            openinference: true,
            openinference_full: false,
            langfuse: true,
        }
    }
}

impl Conventions {
    /// Whether the keys of `profile` are emitted.
    #[inline]
    pub(crate) const fn emits(&self, profile: Profile) -> bool {
        match profile {
            Profile::GenAi | Profile::Llmtrace | Profile::Common => true,
            Profile::Legacy => self.legacy,
            Profile::LatestExperimental => self.latest,
            Profile::OpenInference => self.openinference,
            Profile::OpenInferenceFull => self.openinference_full,
            Profile::Langfuse => self.langfuse,
        }
    }

    /// Also emit deprecated GenAI names (`gen_ai.system`, `gen_ai.usage.prompt_tokens`, ...)
    /// for backends that only read them.
    pub fn legacy(mut self, on: bool) -> Self {
        self.legacy = on;
        self
    }

    /// Also emit the newest experimental names (`gen_ai.usage.cache_write.input_tokens`), as
    /// `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental` does.
    pub fn latest_experimental(mut self, on: bool) -> Self {
        self.latest = on;
        self
    }

    /// Emit the OpenInference keys Arize Phoenix needs beyond what it converts from the GenAI
    /// names (on by default): span kind, input and output values, cost, reasoning tokens,
    /// retrieved documents, session, user, metadata and tags.
    ///
    /// Off, the cost stays (`llm.cost.*`: the GenAI conventions have no cost attribute), and so
    /// do `session.id` and `user.id`, which Langfuse reads too; the parameters and return values
    /// of workflows and of model calls without `messages`, which only `input.value` /
    /// `output.value` carry, are then not emitted.
    pub fn openinference(mut self, on: bool) -> Self {
        self.openinference = on;
        self
    }

    /// Also emit the OpenInference duplicates of GenAI keys (`llm.model_name`, `llm.provider`,
    /// `llm.invocation_parameters`, `llm.token_count.*`, `tool.*`, ...). Phoenix 15.10 and later
    /// derives these from the GenAI names itself; turn this on for older Phoenix releases.
    pub fn openinference_full(mut self, on: bool) -> Self {
        self.openinference_full = on;
        self.openinference |= on;
        self
    }

    /// Emit the Langfuse keys (on by default).
    pub fn langfuse(mut self, on: bool) -> Self {
        self.langfuse = on;
        self
    }
}
