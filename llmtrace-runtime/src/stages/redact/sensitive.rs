//! [`Sensitive<T>`]: a value that is never captured.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{Serialize, Serializer};

/// What a [`Sensitive`] value is captured, printed and serialized as.
const REDACTED: &str = "[REDACTED]";

/// A value that is never captured: it serializes as the string `"[REDACTED]"`, and `Debug` and
/// `Display` print `[REDACTED]`, whatever `T` is (`T` need not implement `Serialize`).
///
/// Wrap a parameter, a field or a return value in it and the value is used as usual (through
/// [`Deref`], [`into_inner`](Sensitive::into_inner) or [`expose`](Sensitive::expose)), while
/// spans, logs and error messages only ever see the marker. Unlike the detectors of
/// [`Redaction`](crate::Redaction), which find secrets by their shape, this needs no guess.
///
/// ```
/// use llmtrace_runtime::Sensitive;
///
/// #[derive(serde::Serialize)]
/// struct Login {
///     user: String,
///     password: Sensitive<String>,
/// }
///
/// let login = Login { user: "ada".into(), password: Sensitive::new("hunter2".into()) };
/// assert_eq!(
///     serde_json::to_string(&login).unwrap(),
///     r#"{"user":"ada","password":"[REDACTED]"}"#
/// );
/// assert_eq!(format!("{:?}", login.password), "[REDACTED]");
/// assert_eq!(login.password.len(), 7); // Deref to the value
/// assert_eq!(login.password.into_inner(), "hunter2");
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// Wraps `value`.
    pub const fn new(value: T) -> Self {
        Sensitive(value)
    }

    /// The value, unwrapped.
    pub fn into_inner(self) -> T {
        self.0
    }

    /// The value, borrowed: makes the place where the secret is used explicit.
    pub const fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Sensitive(value)
    }
}

impl<T> Deref for Sensitive<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Sensitive<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> Serialize for Sensitive<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_the_value() {
        let s = Sensitive::new("sk-proj-abc123");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"[REDACTED]\"");
        assert_eq!(format!("{s:?}"), "[REDACTED]");
        assert_eq!(format!("{s:#?}"), "[REDACTED]");
        assert_eq!(format!("{s}"), "[REDACTED]");
        assert_eq!(format!("{:?}", Some(s)), "Some([REDACTED])");
        // Any T, serializable or not.
        struct Opaque;
        assert_eq!(
            serde_json::to_string(&Sensitive::new(Opaque)).unwrap(),
            "\"[REDACTED]\""
        );
    }

    #[test]
    fn the_value_stays_usable() {
        let mut s: Sensitive<String> = String::from("hunter2").into();
        assert_eq!(s.len(), 7);
        s.push('!');
        assert_eq!(s.expose(), "hunter2!");
        assert_eq!(s.into_inner(), "hunter2!");
    }
}
