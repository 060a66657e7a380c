//! Values that are a model request's messages, and recording them as span input.
//!
//! `Messages` implementations are user code: a panic in one records `<capture failed>` and goes
//! no further.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::record::failed;
use super::{Message, Part};
use crate::capture;
use crate::record::{Field, Record};

/// Values that are the messages of a model request: what `messages = ..` on `#[llm_call]`
/// records as `gen_ai.input.messages` (and `gen_ai.system_instructions`).
///
/// Implemented for [`Message`], `str` and `String` (one user message), and lists of any of them;
/// with the `async-openai` feature, for that crate's request types. (These impls are
/// `#[diagnostic::do_not_recommend]`: an error names the value's own type, lists none of them,
/// and says what to give instead.)
///
/// ```
/// use llmtrace_runtime::{Message, Messages};
///
/// struct Turn { question: String, context: String }
///
/// impl Messages for Turn {
///     fn messages(&self) -> Vec<Message<'_>> {
///         vec![Message::system(self.context.as_str()), Message::user(self.question.as_str())]
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of chat messages",
    label = "`messages = ..` needs a value implementing `llmtrace::Messages`",
    note = "implement `llmtrace::Messages` for it, or give `llmtrace::Message`s or a prompt string"
)]
pub trait Messages {
    /// The messages, in the order they are sent.
    fn messages(&self) -> Vec<Message<'_>>;

    /// Instructions the API takes apart from the messages (`instructions`, `system`): recorded
    /// as `gen_ai.system_instructions`. A system message inside the history is a message.
    fn system_instructions(&self) -> Vec<Part<'_>> {
        Vec::new()
    }

    /// Records these messages on the span, when content is captured. The expansion of
    /// `messages = ..` calls it through this trait, so a value that is not messages is reported
    /// at the expression with this trait's message, and nowhere else.
    #[doc(hidden)]
    #[inline]
    fn __llmtrace_record_input(&self, rec: &mut Record) {
        if crate::state::content().captures() {
            record_input(rec, self);
        }
    }
}

#[diagnostic::do_not_recommend]
impl Messages for Message<'_> {
    fn messages(&self) -> Vec<Message<'_>> {
        vec![self.reborrow()]
    }
}

#[diagnostic::do_not_recommend]
impl Messages for str {
    fn messages(&self) -> Vec<Message<'_>> {
        vec![Message::user(self)]
    }
}

#[diagnostic::do_not_recommend]
impl Messages for String {
    fn messages(&self) -> Vec<Message<'_>> {
        vec![Message::user(self.as_str())]
    }
}

#[diagnostic::do_not_recommend]
impl<T: Messages> Messages for [T] {
    fn messages(&self) -> Vec<Message<'_>> {
        self.iter().flat_map(Messages::messages).collect()
    }

    fn system_instructions(&self) -> Vec<Part<'_>> {
        self.iter()
            .flat_map(Messages::system_instructions)
            .collect()
    }
}

#[diagnostic::do_not_recommend]
impl<T: Messages, const N: usize> Messages for [T; N] {
    fn messages(&self) -> Vec<Message<'_>> {
        self.as_slice().messages()
    }

    fn system_instructions(&self) -> Vec<Part<'_>> {
        self.as_slice().system_instructions()
    }
}

#[diagnostic::do_not_recommend]
impl<T: Messages> Messages for Vec<T> {
    fn messages(&self) -> Vec<Message<'_>> {
        self.as_slice().messages()
    }

    fn system_instructions(&self) -> Vec<Part<'_>> {
        self.as_slice().system_instructions()
    }
}

#[diagnostic::do_not_recommend]
impl<T: Messages + ?Sized> Messages for &T {
    fn messages(&self) -> Vec<Message<'_>> {
        (**self).messages()
    }

    fn system_instructions(&self) -> Vec<Part<'_>> {
        (**self).system_instructions()
    }
}

#[diagnostic::do_not_recommend]
impl<T: Messages + ?Sized> Messages for Box<T> {
    fn messages(&self) -> Vec<Message<'_>> {
        (**self).messages()
    }

    fn system_instructions(&self) -> Vec<Part<'_>> {
        (**self).system_instructions()
    }
}

/// Records `value`'s messages as `gen_ai.input.messages` (and its system instructions).
fn record_input<T: Messages + ?Sized>(rec: &mut Record, value: &T) {
    let listed = catch_unwind(AssertUnwindSafe(|| {
        (value.messages(), value.system_instructions())
    }));
    match listed {
        Ok((messages, instructions)) => {
            if !messages.is_empty() {
                capture::record_json(rec, Field::InputMessages, &messages);
            }
            if !instructions.is_empty() {
                capture::record_json(rec, Field::SystemInstructions, &instructions);
            }
        }
        Err(_) => failed(rec, Field::InputMessages),
    }
}
