//! Redaction: secrets and personal data removed from captured content before export.
//!
//! [`Redaction`] is the configuration (built-in [`Detector`]s, custom patterns and functions);
//! [`Redactor`] is that configuration compiled once (every regular expression built up front),
//! run by the content stage (on the export thread in native mode, on the thread that ends the
//! span in the host modes) over text ([`Redactor::redact_text`]) and JSON
//! ([`Redactor::redact_json`]). [`Sensitive`] keeps a value out of captured content altogether.
//!
//! Text with nothing to redact, the common case, is returned borrowed: no allocation, no copy.
//!
//! What keeps the search cheap: every built-in pattern is ASCII-only, so the regex engine's
//! lazy DFA never falls back to a slower engine; the rules that start with a fixed literal
//! (`sk-`, `AKIA`, `eyJ`, ...) run only from the first place their union finds, the rules
//! that start with a label (`Bearer`, `Authorization:`) only from the first label; the card,
//! phone and IPv4 rules only inside runs of digits long enough to hold one, found eight bytes
//! at a time; and the string values of a JSON document are searched in one pass over their
//! decoded text. `cargo run --release -p llmtrace-bench -- --redaction` measures it.

mod config;
mod detectors;
mod fields;
mod json;
mod luhn;
mod sensitive;
mod validate;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use regex::Regex;

pub use config::{InvalidPattern, Redaction};
pub use detectors::Detector;
pub use fields::DEFAULT_SECRET_FIELDS;
pub use sensitive::Sensitive;

use crate::record::CAPTURE_FAILED;
use config::RedactFn;
use detectors::{Check, Gate, Rule, Span};
use fields::SecretFields;

/// A [`Redaction`] compiled for use: regular expressions built once, shared by every call.
#[derive(Clone)]
pub struct Redactor {
    /// The enabled built-in detectors' rules.
    builtin: Vec<Rule>,
    /// The custom patterns.
    custom: Vec<Rule>,
    /// The first position a [`Gate::Literal`] rule can match at.
    literal_gate: Option<Regex>,
    /// The first position a [`Gate::Label`] rule can match at.
    label_gate: Option<Regex>,
    /// Marker of each rank: the built-in detectors' in [`Detector::ALL`] order, then the custom
    /// patterns'.
    markers: Vec<Cow<'static, str>>,
    fns: Vec<RedactFn>,
    /// The enabled built-in detectors ([`Detector::bit`]s).
    detectors: u16,
    /// The names whose values [`Detector::SecretField`] replaces.
    secret_fields: SecretFields,
}

/// Redacted text and the number of redactions made (replaced spans and functions that changed
/// a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted<'a> {
    /// The text, borrowed when nothing was redacted.
    pub text: Cow<'a, str>,
    /// How many values or spans were replaced.
    pub count: usize,
}

impl<'a> Redacted<'a> {
    fn unchanged(text: &'a str) -> Self {
        Redacted {
            text: Cow::Borrowed(text),
            count: 0,
        }
    }
}

impl Redactor {
    /// Compiles `config`.
    pub fn new(config: &Redaction) -> Self {
        let builtins = detectors::builtins(config.detectors);
        let mut custom = Vec::new();
        let mut markers: Vec<Cow<'static, str>> = Detector::ALL
            .iter()
            .map(|d| Cow::Borrowed(d.marker()))
            .collect();
        for p in &config.patterns {
            custom.push(Rule {
                rank: markers.len(),
                regex: p.regex.clone(),
                group: p.group,
                check: Check::None,
                gate: Gate::None,
            });
            markers.push(Cow::Owned(format!("[REDACTED:{}]", p.name)));
        }
        Redactor {
            builtin: builtins.rules,
            custom,
            literal_gate: builtins.literal,
            label_gate: builtins.label,
            markers,
            fns: config.fns.clone(),
            detectors: config.detectors,
            secret_fields: SecretFields::new(config.secret_fields.iter().map(|n| &**n)),
        }
    }

    /// Whether this redactor never changes anything.
    pub fn is_noop(&self) -> bool {
        self.builtin.is_empty()
            && self.custom.is_empty()
            && self.fns.is_empty()
            && !self.enabled(Detector::SecretField)
    }

    fn enabled(&self, detector: Detector) -> bool {
        self.detectors & detector.bit() != 0
    }

    /// The marker that replaces, whole, the value of a field or attribute named `key`, when the
    /// name is a secret's (see [`Detector::SecretField`]).
    pub(crate) fn field_marker(&self, key: &str) -> Option<&'static str> {
        if !self.enabled(Detector::SecretField) {
            return None;
        }
        self.secret_fields.of(key).map(Detector::marker)
    }

    /// Redacts plain text: every match of the detectors and patterns is replaced by its marker
    /// (overlapping matches by one marker over their union), then the custom functions run.
    pub fn redact_text<'a>(&self, text: &'a str) -> Redacted<'a> {
        let mut spans = Vec::new();
        self.find_builtin(text, &mut spans);
        self.find_custom(text, &mut spans);
        let redacted = if spans.is_empty() {
            Redacted::unchanged(text)
        } else {
            self.splice(text, &mut spans)
        };
        self.apply_fns(redacted)
    }

    /// Collects the spans the custom patterns find in `text`.
    fn find_custom(&self, text: &str, spans: &mut Vec<Span>) {
        for rule in &self.custom {
            Self::find_rule(rule, text, 0, 0, spans);
        }
    }

    /// Collects the spans the built-in detectors find in `text`. Gated rules run only from
    /// where their gate says a match can start, or only inside numeric windows.
    ///
    /// No built-in match spans a NUL character, so text made of several values joined by NULs
    /// is searched in one pass with the same result as each value on its own.
    fn find_builtin(&self, text: &str, spans: &mut Vec<Span>) {
        // No built-in match is empty (a JSON document without strings collects none); the gates'
        // searches would cost as much as on a short text.
        if text.is_empty() {
            return;
        }
        let first = |gate: &Option<Regex>| gate.as_ref()?.find(text).map(|m| m.start());
        let (mut literal, mut label) = (None, None);
        let mut numeric = false;
        for rule in &self.builtin {
            match rule.gate {
                Gate::None => Self::find_rule(rule, text, 0, 0, spans),
                Gate::Byte(byte) => {
                    if memchr::memchr(byte, text.as_bytes()).is_some() {
                        Self::find_rule(rule, text, 0, 0, spans);
                    }
                }
                Gate::Literal => {
                    if let Some(from) = *literal.get_or_insert_with(|| first(&self.literal_gate)) {
                        Self::find_rule(rule, text, from, 0, spans);
                    }
                }
                Gate::Label => {
                    if let Some(at) = *label.get_or_insert_with(|| first(&self.label_gate)) {
                        let mut from = at.saturating_sub(detectors::LABEL_REACH);
                        while !text.is_char_boundary(from) {
                            from -= 1;
                        }
                        Self::find_rule(rule, text, from, 0, spans);
                    }
                }
                Gate::Scheme => {
                    // `://` is rare in prose and found fast: the rule runs only from the first.
                    if let Some(at) = memchr::memmem::find(text.as_bytes(), b"://") {
                        let mut from = at.saturating_sub(detectors::SCHEME_REACH);
                        while !text.is_char_boundary(from) {
                            from -= 1;
                        }
                        Self::find_rule(rule, text, from, 0, spans);
                    }
                }
                Gate::Numeric => numeric = true,
            }
        }
        if numeric {
            detectors::numeric_windows(text, |w| {
                let window = &text[w.start..w.end];
                for rule in &self.builtin {
                    if rule.gate == Gate::Numeric && w.may_hold(rule.check) {
                        Self::find_rule(rule, window, 0, w.start, spans);
                    }
                }
            });
        }
    }

    /// Collects the spans `rule` finds in `text` from `from` on, shifted by `offset`.
    fn find_rule(rule: &Rule, text: &str, from: usize, offset: usize, spans: &mut Vec<Span>) {
        let mut locations = None;
        let mut at = from;
        while at < text.len() {
            // A plain search first: capture positions cost more, and only a match needs them.
            let Some(m) = rule.regex.find_at(text, at) else {
                break;
            };
            let (end, secret) = match rule.group {
                None => (m.end(), Some((m.start(), m.end()))),
                Some(group) => {
                    let locations = locations.get_or_insert_with(|| rule.regex.capture_locations());
                    match rule.regex.captures_read_at(locations, text, at) {
                        Some(m) => (m.end(), locations.get(group)),
                        None => break,
                    }
                }
            };
            let before = spans.len();
            let found = secret.is_some_and(|(start, secret_end)| {
                secret_end > start && rule.check.apply(text, start, secret_end, rule.rank, spans)
            });
            for span in &mut spans[before..] {
                span.start += offset;
                span.end += offset;
            }
            // Past this candidate; or, when a short candidate was rejected, from its second
            // character (`808 0100 000` rejected inside `8080 0100 000 0000` must not hide
            // the number that starts within it); or past an empty match.
            at = if end > m.start() && (found || !rule.check.retries_inside()) {
                end
            } else {
                m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8)
            };
        }
    }

    /// Replaces `spans` (overlapping ones merged) by their markers.
    fn splice<'a>(&self, text: &str, spans: &mut [Span]) -> Redacted<'a> {
        spans.sort_unstable_by_key(|s| (s.start, s.rank));
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut count = 0;
        let mut i = 0;
        while i < spans.len() {
            let mut span = spans[i];
            i += 1;
            while i < spans.len() && spans[i].start < span.end {
                span.end = span.end.max(spans[i].end);
                span.rank = span.rank.min(spans[i].rank);
                i += 1;
            }
            out.push_str(&text[copied..span.start]);
            out.push_str(&self.markers[span.rank]);
            copied = span.end;
            count += 1;
        }
        out.push_str(&text[copied..]);
        Redacted {
            text: Cow::Owned(out),
            count,
        }
    }

    /// Runs the custom functions. A function that panics fails closed: the value is replaced
    /// by `<capture failed>`, as content whose capture panicked is.
    fn apply_fns<'a>(&self, mut redacted: Redacted<'a>) -> Redacted<'a> {
        for f in &self.fns {
            let changed = match catch_unwind(AssertUnwindSafe(|| f(&redacted.text))) {
                Ok(Cow::Owned(new)) if new != *redacted.text => Some(new),
                Ok(_) => None,
                Err(_) => Some(CAPTURE_FAILED.to_owned()),
            };
            if let Some(new) = changed {
                redacted.text = Cow::Owned(new);
                redacted.count += 1;
            }
        }
        redacted
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let detectors: Vec<_> = Detector::ALL
            .iter()
            .filter(|d| self.enabled(**d))
            .map(|d| d.name())
            .collect();
        f.debug_struct("Redactor")
            .field("detectors", &detectors)
            .field("patterns", &&self.markers[Detector::ALL.len()..])
            .field("fns", &self.fns.len())
            .finish()
    }
}
