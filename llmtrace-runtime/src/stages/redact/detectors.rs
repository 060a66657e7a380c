//! The built-in detectors: what each finds, the patterns that find candidates, and the checks a
//! candidate must pass.
//!
//! Every pattern is ASCII-only (`(?-u:\b)` word boundaries, explicit classes), so the regex
//! engine's lazy DFA runs on any text, including non-ASCII text, without falling back to a slower
//! engine. Patterns find candidates; the checks in [`Check`] (Luhn, octet ranges, separators and
//! context around the match) decide.

use regex::Regex;

use super::validate;

/// A span of text to replace by the marker of `rank`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) rank: usize,
}

/// A kind of secret or personal data the redactor finds.
///
/// Each detector replaces what it finds with a marker naming the kind (see [`Detector::marker`]);
/// the marker never contains any part of the value.
///
/// ```
/// use llmtrace_runtime::{Detector, Redaction};
///
/// assert_eq!(Detector::PaymentCard.marker(), "[REDACTED:card]");
/// let redaction = Redaction::default().without(Detector::Ip);
/// assert!(!redaction.is_enabled(Detector::Ip));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Detector {
    /// E-mail addresses (`name@example.com`), by a pragmatic RFC 5322/6531 pattern: a local
    /// part of the usual characters (non-ASCII ones included), a domain whose top-level label
    /// is letters (not an image extension: `icon@2x.png` stays). `[REDACTED:email]`.
    Email,
    /// Phone numbers: international `+<country code> ...` forms with 8 to 15 digits, North
    /// American `(415) 555-0132`, `415-555-0132`, `415.555.0132`, and national forms with a
    /// trunk `0` (`020 7946 0958`). Not dates, times, versions, prices or ids. `[REDACTED:phone]`.
    Phone,
    /// Payment card numbers: 13 to 19 digits starting with 2 to 6 (the major networks), plain or
    /// in groups separated by single spaces or dashes, passing the Luhn check. Also a card number
    /// given as a JSON number. `[REDACTED:card]`.
    PaymentCard,
    /// API keys in their vendors' formats: OpenAI `sk-...`, `sk-proj-...`, Anthropic
    /// `sk-ant-...`, AWS access key ids (`AKIA...`, `ASIA...`) and, after a label such as
    /// `aws_secret_access_key=`, AWS secret keys; GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`
    /// and `github_pat_` tokens, Google `AIza...`, Stripe `sk_live_`/`rk_live_`, Slack `xox?-`
    /// and app-level `xapp-` tokens, Hugging Face `hf_...`; and the value after an
    /// `x-api-key:`/`api_key=` label. `[REDACTED:api_key]`.
    ApiKey,
    /// The credentials of `Bearer <token>`, of `Basic <base64 user:password>` and of
    /// `Authorization:` headers. The scheme word stays: `Bearer [REDACTED:bearer]`.
    Bearer,
    /// The password of a URL with credentials, such as a database connection string
    /// (`postgres://app:[REDACTED:password]@db:5432/orders`; `mysql://`, `mongodb+srv://`,
    /// `redis://`, `amqp://`, `https://`, any scheme). The user name and host stay.
    /// `[REDACTED:password]`.
    Password,
    /// JSON Web Tokens: base64url segments separated by dots, starting `eyJ`. `[REDACTED:jwt]`.
    Jwt,
    /// PEM private keys, the whole block from `-----BEGIN ... PRIVATE KEY-----` through its END
    /// line (or to the end of the text when the block was cut). `[REDACTED:private_key]`.
    PemPrivateKey,
    /// IP addresses: IPv4 with valid octets, IPv6 in any standard form. Addresses that say
    /// nothing about anyone are kept: loopback, unspecified, `0.*` and `255.*` (masks).
    /// `[REDACTED:ip]`.
    Ip,
    /// The value of a JSON object key that names a secret (`password`, `access_token`,
    /// `client_secret`, ...: see [`DEFAULT_SECRET_FIELDS`](crate::DEFAULT_SECRET_FIELDS) and
    /// [`Redaction::secret_field`](crate::Redaction::secret_field)), whatever the value is: a
    /// string, a number, an object. `[REDACTED:secret]`; a name that says what kind of
    /// credential it holds uses that kind's marker (`authorization`: `[REDACTED:bearer]`,
    /// `api_key`: `[REDACTED:api_key]`, `private_key`: `[REDACTED:private_key]`).
    SecretField,
}

impl Detector {
    /// Every built-in detector, in the order overlapping matches are attributed: when two
    /// detectors match overlapping text, the union is redacted under the earlier one's marker
    /// (`Bearer eyJ...` becomes `Bearer [REDACTED:jwt]`).
    pub const ALL: [Detector; 10] = [
        Detector::PemPrivateKey,
        Detector::Jwt,
        Detector::ApiKey,
        Detector::Bearer,
        Detector::Password,
        Detector::PaymentCard,
        Detector::Email,
        Detector::Ip,
        Detector::Phone,
        Detector::SecretField,
    ];

    /// The kind's short name, as used in its marker: `email`, `phone`, `card`, `api_key`,
    /// `bearer`, `password`, `jwt`, `private_key`, `ip`, `secret`.
    pub const fn name(self) -> &'static str {
        match self {
            Detector::Email => "email",
            Detector::Phone => "phone",
            Detector::PaymentCard => "card",
            Detector::ApiKey => "api_key",
            Detector::Bearer => "bearer",
            Detector::Password => "password",
            Detector::Jwt => "jwt",
            Detector::PemPrivateKey => "private_key",
            Detector::Ip => "ip",
            Detector::SecretField => "secret",
        }
    }

    /// What replaces a match: `[REDACTED:<name>]`.
    pub const fn marker(self) -> &'static str {
        match self {
            Detector::Email => "[REDACTED:email]",
            Detector::Phone => "[REDACTED:phone]",
            Detector::PaymentCard => "[REDACTED:card]",
            Detector::ApiKey => "[REDACTED:api_key]",
            Detector::Bearer => "[REDACTED:bearer]",
            Detector::Password => "[REDACTED:password]",
            Detector::Jwt => "[REDACTED:jwt]",
            Detector::PemPrivateKey => "[REDACTED:private_key]",
            Detector::Ip => "[REDACTED:ip]",
            Detector::SecretField => "[REDACTED:secret]",
        }
    }

    /// Position in [`Detector::ALL`]: the rank of its matches when they overlap others.
    pub(super) const fn rank(self) -> usize {
        match self {
            Detector::PemPrivateKey => 0,
            Detector::Jwt => 1,
            Detector::ApiKey => 2,
            Detector::Bearer => 3,
            Detector::Password => 4,
            Detector::PaymentCard => 5,
            Detector::Email => 6,
            Detector::Ip => 7,
            Detector::Phone => 8,
            Detector::SecretField => 9,
        }
    }

    pub(super) const fn bit(self) -> u16 {
        1 << self.rank()
    }
}

/// What a candidate must pass to be redacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Check {
    /// Every match counts.
    None,
    /// E-mail: the top-level label is not an image extension (`icon@2x.png`).
    Email,
    /// Runs of digit groups: the card numbers inside, by length, grouping, prefix and Luhn.
    Card,
    /// Phone: context on both sides, digit count of international forms.
    Phone,
    /// IPv4: octets, context.
    Ipv4,
    /// IPv6: parses, is not code (`a::b`, `x[1::2]`), context.
    Ipv6,
    /// `sk-` keys: the body is random-looking (a digit or a capital), not kebab-case words.
    SkKey,
    /// A token after a label: random-looking (a digit, or 24 characters and more).
    Token,
    /// A credential after an explicit scheme (`Basic`, `Bearer`, ...): any of 4 characters.
    Credential,
    /// An AWS secret key: exactly 40 base64 characters (not followed by more).
    AwsSecret,
    /// `Basic` credentials: base64 of `user:password`.
    BasicAuth,
    /// A URL's password: before its `@`, or, where the text ends first (cut short), not a port.
    UrlPassword,
}

/// One compiled pattern of a detector (or of a custom pattern).
#[derive(Debug, Clone)]
pub(super) struct Rule {
    /// Index of the marker, and rank among overlapping matches (lower wins).
    pub(super) rank: usize,
    pub(super) regex: Regex,
    /// The capture group holding the secret, when the pattern also matches a label around it.
    pub(super) group: Option<usize>,
    pub(super) check: Check,
    pub(super) gate: Gate,
}

/// A cheap test that finds where a rule's matches can start, run once per text for all the
/// rules it gates: most text has no candidate at all, and then those rules are not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gate {
    /// Always run.
    None,
    /// Rules every match of which holds this byte (the `@` of an email address, the `:` of an
    /// IPv6 one): run only on text that has it. The regex would find that out itself, but
    /// starting a search costs several hundred instructions, more than the `memchr` on the
    /// short strings most content is made of.
    Byte(u8),
    /// Rules that start with a fixed literal (`-----BEGIN`, `eyJ`, `sk-`, `AKIA`, ...): their
    /// union, searched once, gives the first position any of them can match at.
    Literal,
    /// Rules that start with a label (`bearer`, `authorization`, `api_key`, ...): the first
    /// label in the text.
    Label,
    /// Cards, phone numbers, IPv4: only inside [`numeric_windows`].
    Numeric,
    /// URLs with credentials: from [`SCHEME_REACH`] bytes before the first `://`.
    Scheme,
}

/// How far before its `://` a [`Gate::Scheme`] rule's match can start (the longest scheme it
/// matches).
pub(super) const SCHEME_REACH: usize = 21;

/// The labels [`Gate::Label`] rules start with, or hold within their first [`LABEL_REACH`]
/// bytes (`x-api-key`, `proxy-authorization`): plain literals, found fast.
const LABELS: &str = r"(?i-u:aws_?secret|secret_?access|api[-_]?key|bearer|authorization)";

/// How far before a [`LABELS`] match a [`Gate::Label`] rule's match can start.
pub(super) const LABEL_REACH: usize = "proxy-".len();

/// The built-in rules of the enabled detectors, and their gates.
#[derive(Debug, Clone)]
pub(super) struct Builtins {
    pub(super) rules: Vec<Rule>,
    /// The union of the [`Gate::Literal`] rules.
    pub(super) literal: Option<Regex>,
    /// [`LABELS`], when a [`Gate::Label`] rule is enabled.
    pub(super) label: Option<Regex>,
}

/// Source of one built-in rule.
struct Source {
    detector: Detector,
    pattern: &'static str,
    group: Option<usize>,
    check: Check,
    gate: Gate,
}

const SOURCES: &[Source] = &[
    Source {
        detector: Detector::PemPrivateKey,
        // Through the END line; or, when the block was cut, to the end of the text (or to a
        // NUL: no built-in pattern spans one).
        pattern: r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?:[^\x00]*?-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|[^\x00]*)",
        group: None,
        check: Check::None,
        gate: Gate::Literal,
    },
    Source {
        detector: Detector::Jwt,
        // header.payload.signature (the signature may be empty); or a cut token whose payload
        // is still recognisable.
        pattern: r"(?-u:\b)eyJ[A-Za-z0-9_-]{8,}\.(?:eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?|[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)",
        group: None,
        check: Check::None,
        gate: Gate::Literal,
    },
    Source {
        detector: Detector::ApiKey,
        pattern: r"(?-u:\b)sk-[A-Za-z0-9_-]{20,}",
        group: None,
        check: Check::SkKey,
        gate: Gate::Literal,
    },
    Source {
        detector: Detector::ApiKey,
        pattern: r"(?-u:\b)(?:(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?-u:\b)|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|AIza[A-Za-z0-9_-]{35}|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}|xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{20,}|hf_[A-Za-z0-9]{30,})",
        group: None,
        check: Check::None,
        gate: Gate::Literal,
    },
    Source {
        detector: Detector::ApiKey,
        pattern: r#"(?i-u:aws_?secret_?(?:access_?)?key|secret_?access_?key)["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9/+=]{40})"#,
        group: Some(1),
        check: Check::AwsSecret,
        gate: Gate::Label,
    },
    Source {
        detector: Detector::ApiKey,
        pattern: r#"(?i-u:\b(?:x-)?api[-_]?key)["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9._~+/-]{16,})"#,
        group: Some(1),
        check: Check::Token,
        gate: Gate::Label,
    },
    Source {
        detector: Detector::Bearer,
        pattern: r"(?i-u:\bbearer)[ \t]+([A-Za-z0-9._~+/-]+=*)",
        group: Some(1),
        check: Check::Token,
        gate: Gate::Label,
    },
    Source {
        detector: Detector::Bearer,
        pattern: r#"(?i-u:\b(?:proxy-)?authorization)["']?[ \t]*[:=][ \t]*["']?(?i-u:basic|bearer|digest|token|negotiate|ntlm|apikey|hoba|mutual|aws4-hmac-sha256)[ \t]+([A-Za-z0-9._~+/=-]{4,})"#,
        group: Some(1),
        check: Check::Credential,
        gate: Gate::Label,
    },
    Source {
        detector: Detector::Bearer,
        pattern: r#"(?i-u:\b(?:proxy-)?authorization)["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9._~+/=-]{8,})"#,
        group: Some(1),
        check: Check::Token,
        gate: Gate::Label,
    },
    Source {
        detector: Detector::Bearer,
        // `Basic` and base64 of `user:password`, without an `Authorization:` label too. The
        // scheme as HTTP writes it: the literal gate then finds it fast, where `basic` in any
        // case is a common word.
        pattern: r"(?-u:\b)Basic[ \t]+([A-Za-z0-9+/]{8,}={0,2})",
        group: Some(1),
        check: Check::BasicAuth,
        gate: Gate::Literal,
    },
    Source {
        detector: Detector::Password,
        // The password of `scheme://user:password@host`: not a `/`, `@` or space (a `@` in a
        // password is percent-encoded in a URL). Also when the text was cut before the `@`.
        // Unbounded repetitions: bounded ones of this size multiply the compiled automaton (tens of
        // milliseconds to build); the gate keeps the search near a `://` anyway.
        pattern: r"(?-u:\b)[A-Za-z][A-Za-z0-9+.-]{0,20}://[^\s:/@\x00]*:([^\s/@\x00]+)(?:@|\x00|$)",
        group: Some(1),
        check: Check::UrlPassword,
        gate: Gate::Scheme,
    },
    Source {
        detector: Detector::PaymentCard,
        // A run of at least 13 digits, optionally grouped by single spaces, dashes or dots; the
        // check finds the card numbers inside the run.
        pattern: r"(?-u:\b)[0-9]{4}(?:[ .-]?[0-9]){9,}(?-u:\b)",
        group: None,
        check: Check::Card,
        gate: Gate::Numeric,
    },
    Source {
        detector: Detector::Email,
        // The local part may hold any non-ASCII character (RFC 6531), so `zoë@` is found
        // whole; where it starts is left to leftmost matching.
        pattern: r"[A-Za-z0-9._%+'\x{80}-\x{10FFFF}-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?-u:\b)",
        group: None,
        check: Check::Email,
        gate: Gate::Byte(b'@'),
    },
    Source {
        detector: Detector::Ip,
        pattern: r"(?-u:\b)(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?-u:\b)",
        group: None,
        check: Check::Ipv4,
        gate: Gate::Numeric,
    },
    Source {
        detector: Detector::Ip,
        pattern: r"[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*",
        group: None,
        check: Check::Ipv6,
        gate: Gate::Byte(b':'),
    },
    Source {
        detector: Detector::Phone,
        pattern: concat!(
            // international: +<country code> then groups, optionally separated
            r"\+[1-9][0-9]{0,3}(?:[ .-]?(?:\([0-9]{1,4}\)|[0-9]{1,5})){1,7}",
            // North American: (415) 555-0132, 1 (415) 555-0132
            r"|(?:1[ .-]?)?\([2-9][0-9]{2}\) ?[2-9][0-9]{2}[ .-][0-9]{4}",
            // North American: 415-555-0132, 415.555.0132, 1-800-555-0199
            r"|(?:1[.-])?[2-9][0-9]{2}[.-][2-9][0-9]{2}[.-][0-9]{4}",
            // national with trunk 0: 020 7946 0958, 030-1234-5678
            r"|0[1-9][0-9]{1,3}[ -][0-9]{3,4}[ -][0-9]{3,4}",
        ),
        group: None,
        check: Check::Phone,
        gate: Gate::Numeric,
    },
];

/// Compiles the rules of the enabled detectors (`enabled` is a set of [`Detector::bit`]s) and
/// their gates. The patterns are constants, checked by the tests.
pub(super) fn builtins(enabled: u16) -> Builtins {
    let sources = || SOURCES.iter().filter(|s| enabled & s.detector.bit() != 0);
    let rules = sources()
        .map(|s| Rule {
            rank: s.detector.rank(),
            regex: Regex::new(s.pattern).expect("built-in redaction pattern"),
            group: s.group,
            check: s.check,
            gate: s.gate,
        })
        .collect();
    let literals: Vec<String> = sources()
        .filter(|s| s.gate == Gate::Literal)
        .map(|s| format!("(?:{})", s.pattern))
        .collect();
    let literal = (!literals.is_empty())
        .then(|| Regex::new(&literals.join("|")).expect("built-in redaction pattern"));
    let label = sources()
        .any(|s| s.gate == Gate::Label)
        .then(|| Regex::new(LABELS).expect("built-in redaction pattern"));
    Builtins {
        rules,
        literal,
        label,
    }
}

/// A stretch of text where a card number, phone number or IPv4 address can be, and which of
/// them can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Window {
    pub(super) start: usize,
    pub(super) end: usize,
    digits: u32,
    dots: u32,
    plus: bool,
}

impl Window {
    /// Whether a match of `check` can be in this window.
    pub(super) fn may_hold(&self, check: Check) -> bool {
        match check {
            Check::Card => self.digits >= 13,
            Check::Phone => self.digits >= 9 || (self.plus && self.digits >= 8),
            Check::Ipv4 => self.digits >= 4 && self.dots >= 3,
            _ => true,
        }
    }
}

/// Calls `f` with each [`Window`] of `text`: a run of digits and of the characters they are
/// written with (` .-()+`) holding enough digits for a card (13), a phone number (9, or 8
/// after a `+`) or an IPv4 address (4 and 3 dots). Windows are widened by 8 bytes each side,
/// for the checks that look at what surrounds a match.
pub(super) fn numeric_windows(text: &str, mut f: impl FnMut(Window)) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        i = next_digit(b, i);
        if i == b.len() {
            break;
        }
        let mut start = i;
        while start > 0 && matches!(b[start - 1], b' ' | b'.' | b'-' | b'(' | b')' | b'+') {
            start -= 1;
        }
        let mut w = Window {
            start,
            end: 0,
            digits: 0,
            dots: 0,
            plus: b[start..i].contains(&b'+'),
        };
        while i < b.len() {
            match b[i] {
                b'0'..=b'9' => w.digits += 1,
                b'.' => w.dots += 1,
                b'+' => w.plus = true,
                b' ' | b'-' | b'(' | b')' => {}
                _ => break,
            }
            i += 1;
        }
        if [Check::Card, Check::Phone, Check::Ipv4]
            .iter()
            .any(|c| w.may_hold(*c))
        {
            w.start = start.saturating_sub(8);
            while !text.is_char_boundary(w.start) {
                w.start -= 1;
            }
            w.end = (i + 8).min(b.len());
            while !text.is_char_boundary(w.end) {
                w.end += 1;
            }
            f(w);
        }
    }
}

/// The position of the first ASCII digit in `b[from..]`, or `b.len()`: eight bytes at a time.
pub(super) fn next_digit(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES * 0x80;
    while i + 8 <= b.len() {
        let x = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        // A byte in 0x30..=0x39, by "hasbetween" (bytes with the high bit set never count).
        let low = x & (ONES * 0x7F);
        let between =
            (ONES * (0x7F + 0x3A)).wrapping_sub(low) & !x & (low + ONES * (0x7F - 0x2F)) & HIGH;
        if between != 0 {
            return i + (between.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !b[i].is_ascii_digit() {
        i += 1;
    }
    i
}

impl Check {
    /// Whether a rejected candidate may hide a match starting inside it. Only checks of
    /// candidates of bounded length say so, which keeps the search linear.
    pub(super) fn retries_inside(self) -> bool {
        matches!(self, Check::Phone | Check::Ipv4)
    }

    /// Whether the candidate `hay[start..end]` is redacted; pushes the spans to redact (a
    /// card run may hold several cards, an IPv6 candidate may be trimmed).
    pub(super) fn apply(
        self,
        hay: &str,
        start: usize,
        end: usize,
        rank: usize,
        out: &mut Vec<Span>,
    ) -> bool {
        let span = |start, end| Span { start, end, rank };
        let found = match self {
            Check::None => Some((start, end)),
            Check::Email => validate::email(hay, start, end).then_some((start, end)),
            Check::Card => {
                let before = out.len();
                validate::cards(hay, start, end, |s, e| out.push(span(s, e)));
                return out.len() > before;
            }
            Check::Phone => validate::phone(hay, start, end).map(|e| (start, e)),
            Check::Ipv4 => validate::ipv4(hay, start, end).then_some((start, end)),
            Check::Ipv6 => validate::ipv6(hay, start, end).map(|e| (start, e)),
            Check::SkKey => validate::sk_key(&hay[start + 3..end]).then_some((start, end)),
            Check::Token => validate::token(&hay[start..end]).then_some((start, end)),
            Check::Credential => Some((start, end)),
            Check::AwsSecret => validate::aws_secret(hay, end).then_some((start, end)),
            Check::BasicAuth => validate::basic_auth(&hay[start..end]).then_some((start, end)),
            Check::UrlPassword => validate::url_password(hay, start, end).then_some((start, end)),
        };
        match found {
            Some((s, e)) => {
                out.push(span(s, e));
                true
            }
            None => false,
        }
    }
}
