//! What `#[llm_call]`'s `messages = ..` and `usage = ..` require: a value implementing
//! [`Messages`], and a closure from the returned value (its `Ok` value for a `Result`) to
//! something implementing [`LlmResponse`](crate::LlmResponse). The checks are spanned at the
//! expressions, so a value of the wrong type is reported there.

use crate::Messages;
use crate::capture::ret::Ret;
use crate::record::Record;

/// Records the messages given to `messages = ..`, when content is captured.
#[deprecated(
    note = "the expansions record messages through `Messages` itself, so that a value of another type is reported at the expression"
)]
#[inline]
pub fn input_messages<T: Messages + ?Sized>(rec: &mut Record, messages: &T) {
    messages.__llmtrace_record_input(rec);
}

/// `usage = f` on a `Result`: `f` reads the `Ok` value.
///
/// What the closure returns is checked against [`LlmResponse`](crate::LlmResponse) where the
/// expansion records it, at the closure: a bound here would be reported in the runtime's
/// sources instead.
pub trait UsageFromOk<T> {
    /// What `f` returns for the `Ok` value; `None` for an `Err`, or when `f` panicked.
    fn read_usage<F, R>(&self, f: F) -> Option<R>
    where
        F: FnOnce(&T) -> R;
}

impl<T, E> UsageFromOk<T> for &Ret<'_, Result<T, E>> {
    fn read_usage<F, R>(&self, f: F) -> Option<R>
    where
        F: FnOnce(&T) -> R,
    {
        match self.0 {
            Ok(v) => contained(|| f(v)),
            Err(_) => None,
        }
    }
}

/// `usage = f` on any other value: `f` reads the value.
pub trait UsageFromValue<T: ?Sized> {
    /// What `f` returns; `None` when it panicked.
    fn read_usage<F, R>(&self, f: F) -> Option<R>
    where
        F: FnOnce(&T) -> R;
}

impl<T: ?Sized> UsageFromValue<T> for Ret<'_, T> {
    fn read_usage<F, R>(&self, f: F) -> Option<R>
    where
        F: FnOnce(&T) -> R,
    {
        contained(|| f(self.0))
    }
}

/// Runs the user's `usage` closure, containing a panic.
fn contained<R>(f: impl FnOnce() -> R) -> Option<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}
