//! Scoped context: values set once for a block of work and copied onto every span inside it.

use std::future::Future;
use std::sync::Arc;

use super::handle::{TraceContext, WithTrace};
use crate::record::{CaptureSink, Scope, Value};

/// Starts a [`ScopeBuilder`] that inherits the scope in effect.
///
/// ```
/// use llmtrace_runtime as llmtrace;
///
/// llmtrace::scope()
///     .session_id("chat-42")
///     .user_id("user-7")
///     .tag("beta")
///     .in_scope(|| {
///         // every span started here carries session.id, user.id and the tag
///     });
/// ```
pub fn scope() -> ScopeBuilder {
    let current = TraceContext::current();
    let scope = current.scope.as_deref().cloned().unwrap_or_default();
    ScopeBuilder {
        ctx: current,
        scope,
    }
}

/// Builds a scope; see [`scope`].
#[derive(Debug)]
#[must_use = "a scope does nothing until it is entered"]
pub struct ScopeBuilder {
    ctx: TraceContext,
    scope: Scope,
}

impl ScopeBuilder {
    /// The session id (`session.id`, Langfuse session).
    pub fn session_id(mut self, id: impl Into<String>) -> Self {
        self.scope.session_id = Some(id.into().into_boxed_str());
        self
    }

    /// The user id (`user.id`, Langfuse user).
    pub fn user_id(mut self, id: impl Into<String>) -> Self {
        self.scope.user_id = Some(id.into().into_boxed_str());
        self
    }

    /// The conversation id (`gen_ai.conversation.id`): set it only when the application has a
    /// real conversation or thread id.
    pub fn conversation_id(mut self, id: impl Into<String>) -> Self {
        self.scope.conversation_id = Some(id.into().into_boxed_str());
        self
    }

    /// Adds a tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.scope.tags.push(tag.into().into_boxed_str());
        self
    }

    /// Adds a metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        let key = key.into().into_boxed_str();
        let value = value.into();
        match self.scope.metadata.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.scope.metadata.push((key, value)),
        }
        self
    }

    pub(crate) fn capture(mut self, sink: Arc<CaptureSink>) -> Self {
        self.scope.capture = Some(sink);
        self
    }

    /// The scope as a context that can be entered, or carried into tasks and threads.
    pub fn into_context(self) -> TraceContext {
        TraceContext {
            scope: Some(Arc::new(self.scope)),
            ..self.ctx
        }
    }

    /// Runs `f` inside the scope.
    pub fn in_scope<R>(self, f: impl FnOnce() -> R) -> R {
        self.into_context().in_scope(f)
    }

    /// Runs a future inside the scope.
    pub fn instrument<F: Future>(self, future: F) -> WithTrace<F> {
        self.into_context().instrument(future)
    }
}
