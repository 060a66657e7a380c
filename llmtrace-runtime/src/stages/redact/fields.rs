//! Credential-named fields: an object key that names a secret (`password`, `access_token`,
//! `Authorization`) hides its whole value, whatever the value looks like.
//!
//! A key names a secret when its last segments are a secret name's segments: keys and names are
//! split into lowercase segments at `_`, `-`, `.`, spaces and camelCase humps (`accessToken`,
//! `ACCESS_TOKEN`, `x-access-token` are all `access`, `token`), and compared from the end. So
//! `user_password` and `oauthAccessToken` are secrets, while `tokens`, `max_tokens`,
//! `input_tokens` and `token_count` are not: whole segments only, and the name must end the key.

use smallvec::SmallVec;

use super::detectors::Detector;

/// The secret names [`Redaction::default`](crate::Redaction::default) starts with.
///
/// `session_id` is not among them (a session id is an identifier most applications want to
/// see); add it with [`Redaction::secret_field`](crate::Redaction::secret_field).
pub const DEFAULT_SECRET_FIELDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "client_secret",
    "secret_key",
    "token",
    "access_token",
    "refresh_token",
    "api_key",
    "apikey",
    "secret_access_key",
    "private_key",
    "authorization",
    "cookie",
    "set_cookie",
    "ssn",
];

/// Longest key looked at; a longer key is not a secret name.
const MAX_KEY: usize = 128;

/// The segments of a key or name, lowercased: byte ranges into `buf`.
#[derive(Default)]
struct Segments {
    buf: SmallVec<[u8; 64]>,
    ranges: SmallVec<[(u8, u8); 8]>,
}

impl Segments {
    /// Splits `key`; `None` when it is too long to be a name.
    fn of(key: &str) -> Option<Segments> {
        if key.len() > MAX_KEY {
            return None;
        }
        let b = key.as_bytes();
        let mut s = Segments::default();
        let mut start = 0usize;
        for (i, &c) in b.iter().enumerate() {
            let separator = matches!(c, b'_' | b'-' | b'.' | b' ' | b':' | b'/');
            if separator {
                s.end_segment(&mut start);
                continue;
            }
            if c.is_ascii_uppercase() && !s.buf.is_empty() {
                let prev = b[i - 1];
                let next_lower = b.get(i + 1).is_some_and(u8::is_ascii_lowercase);
                // `accessToken`: a hump; `APIKey`: the last capital of a run starts a word.
                if prev.is_ascii_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_ascii_uppercase() && next_lower)
                {
                    s.end_segment(&mut start);
                }
            }
            s.buf.push(c.to_ascii_lowercase());
        }
        s.end_segment(&mut start);
        Some(s)
    }

    /// Ends the segment that started at `start` (if it is not empty); the next one starts here.
    fn end_segment(&mut self, start: &mut usize) {
        let end = self.buf.len();
        if end > *start {
            self.ranges.push((*start as u8, end as u8));
        }
        *start = end;
    }

    fn get(&self, i: usize) -> &[u8] {
        let (a, b) = self.ranges[i];
        &self.buf[usize::from(a)..usize::from(b)]
    }

    fn len(&self) -> usize {
        self.ranges.len()
    }
}

/// One secret name, split.
#[derive(Debug, Clone)]
struct Name {
    segments: Vec<Vec<u8>>,
    /// Whose marker replaces the value.
    detector: Detector,
}

/// The secret names of a [`Redaction`](crate::Redaction), compiled.
#[derive(Debug, Clone, Default)]
pub(super) struct SecretFields {
    names: Vec<Name>,
    /// The last segment of every name, once each.
    last: Vec<Vec<u8>>,
}

impl SecretFields {
    pub(super) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let names = names
            .into_iter()
            .filter_map(|name| {
                let s = Segments::of(name)?;
                let segments: Vec<Vec<u8>> = (0..s.len()).map(|i| s.get(i).to_vec()).collect();
                (!segments.is_empty()).then(|| Name {
                    detector: detector_of(&segments),
                    segments,
                })
            })
            .collect::<Vec<Name>>();
        let mut last: Vec<Vec<u8>> = names
            .iter()
            .filter_map(|n| n.segments.last().cloned())
            .collect();
        last.sort();
        last.dedup();
        SecretFields { names, last }
    }

    /// The detector whose marker replaces the value of the key `key`, when `key` names a
    /// secret.
    pub(super) fn of(&self, key: &str) -> Option<Detector> {
        if self.names.is_empty() || key.is_empty() || key.len() > MAX_KEY {
            return None;
        }
        // Most keys (`role`, `content`, `max_tokens`) end with no name's last segment: told
        // without splitting them.
        let tail = key.as_bytes();
        if !self.last.iter().any(|last| {
            tail.len() >= last.len() && tail[tail.len() - last.len()..].eq_ignore_ascii_case(last)
        }) {
            return None;
        }
        let key = Segments::of(key)?;
        let n = key.len();
        self.names
            .iter()
            .find(|name| {
                let k = name.segments.len();
                k <= n
                    && name
                        .segments
                        .iter()
                        .enumerate()
                        .all(|(i, seg)| key.get(n - k + i) == seg.as_slice())
            })
            .map(|name| name.detector)
    }
}

/// Whether two names are the same name (`api_key`, `apiKey` and `API-KEY` are).
pub(super) fn same_name(a: &str, b: &str) -> bool {
    match (Segments::of(a), Segments::of(b)) {
        (Some(x), Some(y)) => x.len() == y.len() && (0..x.len()).all(|i| x.get(i) == y.get(i)),
        _ => a == b,
    }
}

/// The marker a name's values get: the kind of credential when the name says it, else
/// `[REDACTED:secret]`.
fn detector_of(segments: &[Vec<u8>]) -> Detector {
    let ends = |tail: &[&str]| {
        tail.len() <= segments.len()
            && tail
                .iter()
                .rev()
                .zip(segments.iter().rev())
                .all(|(t, s)| t.as_bytes() == s.as_slice())
    };
    if ends(&["authorization"]) {
        Detector::Bearer
    } else if ends(&["api", "key"]) || ends(&["apikey"]) || ends(&["secret", "access", "key"]) {
        Detector::ApiKey
    } else if ends(&["private", "key"]) {
        Detector::PemPrivateKey
    } else {
        Detector::SecretField
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default() -> SecretFields {
        SecretFields::new(DEFAULT_SECRET_FIELDS.iter().copied())
    }

    #[test]
    fn keys_ending_in_a_secret_name_are_secrets() {
        let f = default();
        for (key, detector) in [
            ("password", Detector::SecretField),
            ("user_password", Detector::SecretField),
            ("Password", Detector::SecretField),
            ("passwd", Detector::SecretField),
            ("token", Detector::SecretField),
            ("accessToken", Detector::SecretField),
            ("ACCESS_TOKEN", Detector::SecretField),
            ("x-access-token", Detector::SecretField),
            ("refresh_token", Detector::SecretField),
            ("id_token", Detector::SecretField),
            ("client_secret", Detector::SecretField),
            ("clientSecret", Detector::SecretField),
            ("SECRET_KEY", Detector::SecretField),
            ("cookie", Detector::SecretField),
            ("Set-Cookie", Detector::SecretField),
            ("ssn", Detector::SecretField),
            ("Authorization", Detector::Bearer),
            ("Proxy-Authorization", Detector::Bearer),
            ("api_key", Detector::ApiKey),
            ("x-api-key", Detector::ApiKey),
            ("openaiApiKey", Detector::ApiKey),
            ("APIKey", Detector::ApiKey),
            ("apikey", Detector::ApiKey),
            ("aws_secret_access_key", Detector::ApiKey),
            ("private_key", Detector::PemPrivateKey),
            ("privateKey", Detector::PemPrivateKey),
        ] {
            assert_eq!(f.of(key), Some(detector), "{key}");
        }
    }

    #[test]
    fn whole_segments_only_and_the_name_ends_the_key() {
        let f = default();
        for key in [
            "tokens",
            "max_tokens",
            "input_tokens",
            "token_count",
            "tokenCount",
            "token_usage",
            "passwords_reset_at",
            "secretary",
            "keyboard",
            "api_key_id",
            "cookies_enabled",
            "session_id",
            "author",
            "",
            &"a".repeat(200),
        ] {
            assert_eq!(f.of(key), None, "{key}");
        }
    }

    #[test]
    fn names_compare_by_segments() {
        assert!(same_name("api_key", "apiKey"));
        assert!(same_name("session_id", "Session-ID"));
        assert!(!same_name("api_key", "apikey"));
        let f = SecretFields::new(["session_id", "pin"]);
        assert_eq!(f.of("sessionId"), Some(Detector::SecretField));
        assert_eq!(f.of("user_pin"), Some(Detector::SecretField));
        assert_eq!(f.of("password"), None);
    }
}
