//! What a model call returned: token usage, the answering model, finish reasons, messages.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use super::Usage;
use crate::message::{self, Message};
use crate::record::{Field, Record, Tally, Target, Value};

/// The response of a model call, as an `#[llm_call]` records it.
///
/// When the return value of an `#[llm_call]` implements this trait (directly, or as the `Ok`
/// value of a `Result`, or inside an `Option`), the span records what it reports: token usage,
/// response model and id, finish reasons and (with content capture on) the output messages. A
/// value whose `usage` is `None` leaves the span marked `llmtrace.usage.missing`, never with an
/// invented zero. For a return type you cannot implement it for, give `usage = |r| ...` to the
/// macro: a closure from the returned value (its `Ok` value for a `Result`) to anything that
/// implements this trait, such as a [`Usage`].
///
/// The impls the runtime provides are `#[diagnostic::do_not_recommend]`: an error names the
/// value's own type, lists none of them, and says what to implement or return instead.
///
/// ```
/// use llmtrace_runtime::{self as llmtrace, LlmResponse, Message, Usage};
///
/// struct Reply { id: String, text: String, prompt_tokens: u64, completion_tokens: u64 }
///
/// impl LlmResponse for Reply {
///     fn usage(&self) -> Option<Usage> {
///         Some(Usage::new(self.prompt_tokens, self.completion_tokens))
///     }
///     fn response_id(&self) -> Option<&str> {
///         Some(&self.id)
///     }
///     fn finish_reasons(&self) -> Vec<&str> {
///         vec!["stop"]
///     }
///     fn output_messages(&self) -> Vec<Message<'_>> {
///         vec![Message::assistant(self.text.as_str()).with_finish_reason("stop")]
///     }
/// }
///
/// #[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
/// fn chat(prompt: &str) -> Result<Reply, std::io::Error> {
///     Ok(Reply { id: "r1".into(), text: prompt.to_uppercase(), prompt_tokens: 12, completion_tokens: 3 })
/// }
/// # let _ = chat("hi");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not describe a model response",
    label = "this must implement `llmtrace::LlmResponse`",
    note = "implement `llmtrace::LlmResponse` for it, or return a `llmtrace::Usage`: `usage = |r| llmtrace::Usage::new(r.input, r.output)`"
)]
pub trait LlmResponse {
    /// Token usage, when the response reports it.
    fn usage(&self) -> Option<Usage>;

    /// The model that actually answered (`gen_ai.response.model`).
    fn response_model(&self) -> Option<&str> {
        None
    }

    /// The provider's id of the response (`gen_ai.response.id`).
    fn response_id(&self) -> Option<&str> {
        None
    }

    /// Why each choice stopped, in order (`gen_ai.response.finish_reasons`).
    fn finish_reasons(&self) -> Vec<&str> {
        Vec::new()
    }

    /// The messages the model produced, one per choice, each with its `finish_reason`
    /// (`gen_ai.output.messages`). Only called when content is captured.
    fn output_messages(&self) -> Vec<Message<'_>> {
        Vec::new()
    }

    /// Records what this response reports; returns whether output messages were recorded. The
    /// expansion of `usage = ..` calls it through this trait, so a closure returning something
    /// else is reported at the closure with this trait's message, and nowhere else.
    #[doc(hidden)]
    #[inline]
    fn __llmtrace_record(&self, target: &mut Target<'_>, content: bool) -> bool {
        respond(target, self, content)
    }
}

#[diagnostic::do_not_recommend]
impl LlmResponse for Usage {
    fn usage(&self) -> Option<Usage> {
        Some(*self)
    }
}

#[diagnostic::do_not_recommend]
impl<T: LlmResponse> LlmResponse for Option<T> {
    fn usage(&self) -> Option<Usage> {
        self.as_ref()?.usage()
    }

    fn response_model(&self) -> Option<&str> {
        self.as_ref()?.response_model()
    }

    fn response_id(&self) -> Option<&str> {
        self.as_ref()?.response_id()
    }

    fn finish_reasons(&self) -> Vec<&str> {
        self.as_ref().map(T::finish_reasons).unwrap_or_default()
    }

    fn output_messages(&self) -> Vec<Message<'_>> {
        self.as_ref().map(T::output_messages).unwrap_or_default()
    }
}

macro_rules! forward {
    ($($ty:ty),*) => {$(
        #[diagnostic::do_not_recommend]
        impl<T: LlmResponse + ?Sized> LlmResponse for $ty {
            fn usage(&self) -> Option<Usage> {
                (**self).usage()
            }

            fn response_model(&self) -> Option<&str> {
                (**self).response_model()
            }

            fn response_id(&self) -> Option<&str> {
                (**self).response_id()
            }

            fn finish_reasons(&self) -> Vec<&str> {
                (**self).finish_reasons()
            }

            fn output_messages(&self) -> Vec<Message<'_>> {
                (**self).output_messages()
            }
        }
    )*};
}

forward!(&T, Box<T>, Arc<T>);

/// Records what `response` reports into the span's record ([`record_response`]), or what the
/// metrics need of it into a sampled-out call's tally.
#[inline]
pub(crate) fn respond<R: LlmResponse + ?Sized>(
    target: &mut Target<'_>,
    response: &R,
    content: bool,
) -> bool {
    match target {
        Target::Record(rec) => record_response(rec, response, content),
        Target::Tally(tally) => {
            tally_response(tally, response);
            false
        }
    }
}

/// Reads the usage and the answering model of a sampled-out call. User code, contained like
/// [`record_response`]'s.
fn tally_response<R: LlmResponse + ?Sized>(tally: &mut Tally, response: &R) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if let Some(usage) = response.usage() {
            usage.tally(tally);
        }
        if let Some(model) = response.response_model() {
            tally.response_model = Some(super::intern::name_value(model));
        }
    }));
}

/// Records what `response` reports. Returns whether output messages were recorded (then the
/// raw return value need not be captured as output too).
///
/// The trait's methods are user code: a panic in one is contained and records nothing more.
pub(crate) fn record_response<R: LlmResponse + ?Sized>(
    rec: &mut Record,
    response: &R,
    content: bool,
) -> bool {
    let recorded = catch_unwind(AssertUnwindSafe(|| {
        if let Some(usage) = response.usage() {
            usage.record(rec);
        }
        if let Some(model) = response.response_model() {
            rec.set(Field::ResponseModel, super::intern::name_value(model));
        }
        if let Some(id) = response.response_id() {
            rec.set(Field::ResponseId, Value::String(id.into()));
        }
        let reasons = response.finish_reasons();
        // The common case, one choice with a well-known reason, allocates nothing.
        let value = match reasons.as_slice() {
            [] => None,
            [one] => known_reason(one).map(Value::StrList),
            _ => None,
        };
        let value = value.or_else(|| {
            (!reasons.is_empty())
                .then(|| Value::StringList(reasons.iter().map(|r| Box::from(*r)).collect()))
        });
        if let Some(v) = value {
            rec.set(Field::FinishReasons, v);
        }
        content && message::record_output(rec, &response.output_messages())
    }));
    match recorded {
        Ok(messages) => messages,
        Err(_) => {
            if content {
                message::failed(rec, Field::OutputMessages);
            }
            false
        }
    }
}

/// A one-element list of a finish reason the conventions name.
fn known_reason(reason: &str) -> Option<&'static [&'static str]> {
    Some(match reason {
        "stop" => &["stop"],
        "length" => &["length"],
        "tool_call" => &["tool_call"],
        "content_filter" => &["content_filter"],
        "error" => &["error"],
        _ => return None,
    })
}
