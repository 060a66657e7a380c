//! What `#[llm_call]`'s `messages = ..` and `usage = ..` require: a value implementing
//! [`Messages`], and a closure from the returned value (its `Ok` value for a `Result`) to
//! something implementing [`LlmResponse`]. The checks are spanned at the expressions, so a
//! value of the wrong type is reported there.

use crate::Messages;
use crate::capture::ret::Ret;
use crate::record::Record;
use crate::usage::{self, LlmResponse};

/// Records the messages given to `messages = ..`, when content is captured.
#[inline]
pub fn input_messages<T: Messages + ?Sized>(rec: &mut Record, messages: &T) {
    if crate::state::content().captures() {
        crate::message::record_input(rec, messages);
    }
}

/// `usage = f` on a `Result`: `f` reads the `Ok` value.
pub trait UsageFromOk<T> {
    /// Records what `f` reports.
    fn read_usage<F, R>(&self, rec: &mut Record, content: bool, f: F) -> bool
    where
        F: FnOnce(&T) -> R,
        R: LlmResponse;
}

impl<T, E> UsageFromOk<T> for &Ret<'_, Result<T, E>> {
    fn read_usage<F, R>(&self, rec: &mut Record, content: bool, f: F) -> bool
    where
        F: FnOnce(&T) -> R,
        R: LlmResponse,
    {
        match self.0 {
            Ok(v) => usage_of(rec, content, || f(v)),
            Err(_) => false,
        }
    }
}

/// `usage = f` on any other value: `f` reads the value.
pub trait UsageFromValue<T: ?Sized> {
    /// Records what `f` reports.
    fn read_usage<F, R>(&self, rec: &mut Record, content: bool, f: F) -> bool
    where
        F: FnOnce(&T) -> R,
        R: LlmResponse;
}

impl<T: ?Sized> UsageFromValue<T> for Ret<'_, T> {
    fn read_usage<F, R>(&self, rec: &mut Record, content: bool, f: F) -> bool
    where
        F: FnOnce(&T) -> R,
        R: LlmResponse,
    {
        usage_of(rec, content, || f(self.0))
    }
}

/// Runs the user's `usage` closure, containing a panic.
fn usage_of<R: LlmResponse>(rec: &mut Record, content: bool, f: impl FnOnce() -> R) -> bool {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(response) => usage::record_response(rec, &response, content),
        Err(_) => false,
    }
}
