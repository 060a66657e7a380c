//! [`Redaction`]: which detectors run, custom patterns and custom functions.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use regex::Regex;

use super::detectors::Detector;

/// A custom function applied to every captured text value after the detectors and patterns.
pub(super) type RedactFn = Arc<dyn for<'a> Fn(&'a str) -> Cow<'a, str> + Send + Sync>;

/// What redaction removes from captured content (prompts, responses, arguments, results,
/// documents) before it leaves the process.
///
/// [`Redaction::default()`] enables every built-in [`Detector`]; each is turned off with
/// [`without`](Redaction::without). Custom [`pattern`](Redaction::pattern)s and
/// [`with_fn`](Redaction::with_fn) functions add to them; [`Redaction::none()`] starts from
/// nothing. A match is replaced by a marker naming its kind (`[REDACTED:email]`,
/// `[REDACTED:<name>]` for a custom pattern) that holds no part of the value.
///
/// In JSON content, every string value and every object key is redacted after decoding its
/// escapes (a JSON document inside a string is decoded too), the value of a key that names a
/// secret ([`secret_field`](Redaction::secret_field)) is replaced whole, a card number given as
/// a JSON number becomes the marker string, and the JSON stays valid.
///
/// ```
/// use std::borrow::Cow;
/// use llmtrace_runtime::{Detector, Redaction};
///
/// # fn main() -> Result<(), llmtrace_runtime::InvalidPattern> {
/// let redaction = Redaction::default()
///     .without(Detector::Ip)
///     // Only the `secret` group is replaced: `ticket T-1234` becomes `ticket [REDACTED:ticket]`.
///     .pattern("ticket", r"ticket (?P<secret>T-[0-9]+)")?
///     .with_fn(|text: &str| {
///         if text.contains("internal only") {
///             Cow::Owned("[REDACTED:internal]".to_owned())
///         } else {
///             Cow::Borrowed(text)
///         }
///     });
/// assert!(!redaction.is_enabled(Detector::Ip));
/// assert!(redaction.is_enabled(Detector::Email));
///
/// // A bad pattern is an error, not a panic.
/// assert!(Redaction::default().pattern("bad", "(unclosed").is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Redaction {
    pub(super) detectors: u16,
    pub(super) patterns: Vec<Pattern>,
    pub(super) fns: Vec<RedactFn>,
    /// The names of [`Detector::SecretField`].
    pub(super) secret_fields: Vec<Cow<'static, str>>,
}

/// A named custom pattern.
#[derive(Debug, Clone)]
pub(super) struct Pattern {
    pub(super) name: &'static str,
    pub(super) regex: Regex,
    /// The `secret` capture group, when the pattern has one.
    pub(super) group: Option<usize>,
}

impl Default for Redaction {
    /// Every built-in detector, no custom pattern or function.
    fn default() -> Self {
        Redaction {
            detectors: Detector::ALL.iter().fold(0, |bits, d| bits | d.bit()),
            patterns: Vec::new(),
            fns: Vec::new(),
            secret_fields: default_secret_fields(),
        }
    }
}

impl Redaction {
    /// No redaction at all: no detector, pattern or function. Add some back with
    /// [`with`](Redaction::with), [`pattern`](Redaction::pattern) or
    /// [`with_fn`](Redaction::with_fn).
    ///
    /// ```
    /// use llmtrace_runtime::{Detector, Redaction};
    ///
    /// let only_cards = Redaction::none().with(Detector::PaymentCard);
    /// assert!(only_cards.is_enabled(Detector::PaymentCard));
    /// assert!(!only_cards.is_enabled(Detector::Email));
    /// ```
    pub fn none() -> Self {
        Redaction {
            detectors: 0,
            patterns: Vec::new(),
            fns: Vec::new(),
            secret_fields: default_secret_fields(),
        }
    }

    /// Turns one built-in detector on.
    #[must_use]
    pub fn with(mut self, detector: Detector) -> Self {
        self.detectors |= detector.bit();
        self
    }

    /// Turns one built-in detector off.
    #[must_use]
    pub fn without(mut self, detector: Detector) -> Self {
        self.detectors &= !detector.bit();
        self
    }

    /// Whether a built-in detector is on.
    pub fn is_enabled(&self, detector: Detector) -> bool {
        self.detectors & detector.bit() != 0
    }

    /// Adds a JSON key name whose values are secrets (for [`Detector::SecretField`]): `pin`,
    /// `session_id`, `card_cvc`. A key is a secret when it ends with the name's segments
    /// (`user_pin`, `sessionId`); see [`DEFAULT_SECRET_FIELDS`](crate::DEFAULT_SECRET_FIELDS)
    /// for the names there are by default.
    ///
    /// ```
    /// use llmtrace_runtime::Redaction;
    ///
    /// let redaction = Redaction::default()
    ///     .secret_field("session_id")
    ///     .without_secret_field("token");
    /// assert!(redaction.secret_fields().any(|n| n == "session_id"));
    /// assert!(!redaction.secret_fields().any(|n| n == "token"));
    /// ```
    #[must_use]
    pub fn secret_field(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        let name = name.into();
        if !self
            .secret_fields
            .iter()
            .any(|n| super::fields::same_name(n, &name))
        {
            self.secret_fields.push(name);
        }
        self
    }

    /// Removes a name from the secret field names (compared by segments: `accessToken` removes
    /// `access_token`). A key that ends with another listed name is still a secret: without
    /// `token`, `access_token` still is, as long as `access_token` is listed.
    #[must_use]
    pub fn without_secret_field(mut self, name: &str) -> Self {
        self.secret_fields
            .retain(|n| !super::fields::same_name(n, name));
        self
    }

    /// The secret field names.
    pub fn secret_fields(&self) -> impl Iterator<Item = &str> {
        self.secret_fields.iter().map(|n| &**n)
    }

    /// Whether nothing is redacted: no detector, pattern or function.
    pub fn is_none(&self) -> bool {
        self.detectors == 0 && self.patterns.is_empty() && self.fns.is_empty()
    }

    /// Adds a custom pattern: its matches are replaced by `[REDACTED:<name>]`.
    ///
    /// `regex` uses the [`regex`](https://docs.rs/regex) crate's syntax (no look-around or
    /// back-references; matching time is linear in the text). When it has a capture group named
    /// `secret`, only that group is replaced, so a label can anchor the match and stay:
    /// `pattern("pin", r"PIN: (?P<secret>[0-9]{4,8})")`. Patterns are compiled here, once.
    ///
    /// `name` is 1 to 32 ASCII letters, digits, `_`, `-` or `.`.
    ///
    /// # Errors
    ///
    /// [`InvalidPattern`] when `regex` does not compile (or is too large), when it matches the
    /// empty string, or when `name` is not a valid name.
    pub fn pattern(mut self, name: &'static str, regex: &str) -> Result<Self, InvalidPattern> {
        let invalid = |reason: String| InvalidPattern { name, reason };
        if name.is_empty()
            || name.len() > 32
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            return Err(invalid(
                "the name must be 1 to 32 ASCII letters, digits, `_`, `-` or `.`".into(),
            ));
        }
        let compiled = Regex::new(regex).map_err(|e| invalid(e.to_string()))?;
        if compiled.is_match("") {
            return Err(invalid(
                "the pattern matches the empty string, which would redact nothing".into(),
            ));
        }
        let group = compiled.capture_names().position(|n| n == Some("secret"));
        self.patterns.push(Pattern {
            name,
            regex: compiled,
            group,
        });
        Ok(self)
    }

    /// Adds a custom function, applied to every text value (each JSON string value, each text
    /// attribute) after the detectors and patterns: it returns the value unchanged as
    /// `Cow::Borrowed`, or a replacement as `Cow::Owned`.
    ///
    /// The function runs once per value where the stages run (the export thread in native mode;
    /// the thread that ends the span in the `tracing` and OTel-provider modes): keep it fast. It must not
    /// echo what it removes. If it panics, the value is replaced by `<capture failed>`.
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use llmtrace_runtime::Redaction;
    ///
    /// // Hide customer numbers like `CUST-00123456`.
    /// let redaction = Redaction::default().with_fn(|text: &str| {
    ///     if text.contains("CUST-") {
    ///         Cow::Owned(text.replace("CUST-", "CUST-[REDACTED]#"))
    ///     } else {
    ///         Cow::Borrowed(text)
    ///     }
    /// });
    /// # let _ = redaction;
    /// ```
    #[must_use]
    pub fn with_fn<F>(mut self, f: F) -> Self
    where
        F: for<'a> Fn(&'a str) -> Cow<'a, str> + Send + Sync + 'static,
    {
        self.fns.push(Arc::new(f));
        self
    }
}

fn default_secret_fields() -> Vec<Cow<'static, str>> {
    super::fields::DEFAULT_SECRET_FIELDS
        .iter()
        .map(|n| Cow::Borrowed(*n))
        .collect()
}

impl fmt::Debug for Redaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let detectors: Vec<_> = Detector::ALL
            .iter()
            .filter(|d| self.is_enabled(**d))
            .map(|d| d.name())
            .collect();
        let patterns: Vec<_> = self.patterns.iter().map(|p| p.name).collect();
        f.debug_struct("Redaction")
            .field("detectors", &detectors)
            .field("patterns", &patterns)
            .field("fns", &self.fns.len())
            .field("secret_fields", &self.secret_fields)
            .finish()
    }
}

/// A custom redaction pattern that was rejected by [`Redaction::pattern`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPattern {
    name: &'static str,
    reason: String,
}

impl InvalidPattern {
    /// The name the pattern was given.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl fmt::Display for InvalidPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "redaction pattern `{}` is invalid: {}",
            self.name, self.reason
        )
    }
}

impl std::error::Error for InvalidPattern {}
