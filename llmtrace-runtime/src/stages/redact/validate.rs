//! The checks candidates of the built-in detectors must pass: context around the match,
//! ranges, and shapes a regular expression cannot express.

use std::net::Ipv6Addr;

pub(super) use super::luhn::cards;

fn before(hay: &str, start: usize) -> Option<char> {
    hay[..start].chars().next_back()
}

fn after(hay: &str, end: usize) -> Option<char> {
    hay[end..].chars().next()
}

fn word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn has_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
}

/// E-mail: `icon@2x.png` is a file name, not an address.
pub(super) fn email(hay: &str, start: usize, end: usize) -> bool {
    const FILES: [&str; 9] = [
        "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "avif",
    ];
    let tld = hay[start..end].rsplit('.').next().unwrap_or_default();
    !FILES.iter().any(|f| f.eq_ignore_ascii_case(tld)) && !in_url_credentials(hay, start)
}

/// Whether `hay[start..]` is inside the credentials of a URL (`postgres://app:pw@db`): after
/// `://` with no `/`, `?`, `#`, `@` or space between. There `pw@db` is a password and a host,
/// not an e-mail address; the password detector takes it.
fn in_url_credentials(hay: &str, start: usize) -> bool {
    let before = &hay.as_bytes()[start.saturating_sub(300)..start];
    match before
        .iter()
        .rposition(|&c| matches!(c, b'/' | b'?' | b'#' | b'@') || c.is_ascii_whitespace() || c == 0)
    {
        Some(i) => before[..=i].ends_with(b"://"),
        None => false,
    }
}

/// Phone: not glued to a word, an id (`A-415-555-0132`), a version, an amount or a longer
/// number; international forms hold 8 to 15 digits (E.164). Of an international form, trailing
/// groups that cannot belong to it (past 15 digits, or glued to a word: `+1 415 555 0132 550e`)
/// are left out. Returns the end of the number.
pub(super) fn phone(hay: &str, start: usize, end: usize) -> Option<usize> {
    if before(hay, start).is_some_and(|c| {
        word(c)
            || matches!(
                c,
                '-' | '.' | '+' | '$' | '/' | '\\' | '@' | '#' | '%' | '&'
            )
    }) {
        return None;
    }
    let b = hay.as_bytes();
    let international = b[start] == b'+';
    let mut end = end;
    loop {
        let digits = b[start..end].iter().filter(|b| b.is_ascii_digit()).count();
        if international && digits < 8 {
            return None;
        }
        if (!international || digits <= 15) && phone_ends(hay, end) {
            return Some(end);
        }
        if !international {
            return None;
        }
        let last = end;
        while end > start && (b[end - 1].is_ascii_digit() || b[end - 1] == b')') {
            end -= 1;
        }
        while end > start && matches!(b[end - 1], b' ' | b'.' | b'-' | b'(') {
            end -= 1;
        }
        if end == last {
            return None;
        }
    }
}

/// Whether a phone number can end at `end`: no word, amount or longer number follows.
fn phone_ends(hay: &str, end: usize) -> bool {
    let Some(c) = after(hay, end) else {
        return true;
    };
    let next_is_digit = hay
        .as_bytes()
        .get(end + c.len_utf8())
        .is_some_and(u8::is_ascii_digit);
    !(word(c)
        || matches!(c, '%' | '@')
        || (matches!(c, '-' | '.' | '/' | ':' | ',') && next_is_digit))
}

/// IPv4: four octets of 0 to 255 without leading zeros, not part of a longer dotted number
/// (`1.3.6.1.4.1` is an OID), and not loopback, `0.*` or `255.*` (masks).
pub(super) fn ipv4(hay: &str, start: usize, end: usize) -> bool {
    if before(hay, start).is_some_and(|c| word(c) || c == '.') {
        return false;
    }
    if let Some(c) = after(hay, end) {
        let next_is_digit = hay[end + c.len_utf8()..]
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit());
        if word(c) || (c == '.' && next_is_digit) {
            return false;
        }
    }
    let mut octets = [0u16; 4];
    for (i, part) in hay[start..end].split('.').enumerate() {
        if i >= 4 || part.is_empty() || part.len() > 3 || (part.len() > 1 && part.starts_with('0'))
        {
            return false;
        }
        let Ok(n) = part.parse::<u16>() else {
            return false;
        };
        if n > 255 {
            return false;
        }
        octets[i] = n;
    }
    !matches!(octets[0], 0 | 127 | 255)
}

/// IPv6: the candidate (trimmed of a trailing `.` or `:`) parses as an address, holds a digit
/// and enough groups not to be code (`Self::add`, `x[1::2]`), stands alone, and is not
/// loopback or unspecified. Returns the end of the address.
pub(super) fn ipv6(hay: &str, start: usize, end: usize) -> Option<usize> {
    let mut end = end;
    while end > start && hay.as_bytes()[end - 1] == b'.' {
        end -= 1;
    }
    let addr = match hay[start..end].parse::<Ipv6Addr>() {
        Ok(a) => a,
        Err(_) if hay[start..end].ends_with(':') && !hay[start..end].ends_with("::") => {
            end -= 1;
            hay[start..end].parse::<Ipv6Addr>().ok()?
        }
        Err(_) => return None,
    };
    let s = &hay[start..end];
    if before(hay, start).is_some_and(|c| word(c) || c == '.' || c == ':')
        || after(hay, end).is_some_and(word)
        || addr.is_loopback()
        || addr.is_unspecified()
        || !has_digit(s)
    {
        return None;
    }
    if s.contains("::") {
        let groups = || s.split([':', '.']).filter(|g| !g.is_empty());
        let n = groups().count();
        if n < 2 || (n == 2 && groups().all(|g| g.len() < 3)) {
            return None;
        }
    }
    Some(end)
}

/// The body of an `sk-` key is random: it has a digit or a capital, which kebab-case words
/// (`sk-spinner-container-wrapper`) do not.
pub(super) fn sk_key(body: &str) -> bool {
    body.bytes()
        .any(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// A token after a label or `Bearer`: at least 8 characters with a digit, or 24 and more (no
/// word is that long): `Bearer authentication` stays.
pub(super) fn token(s: &str) -> bool {
    s.len() >= 8 && (has_digit(s) || s.len() >= 24)
}

/// An AWS secret key is exactly 40 base64 characters.
pub(super) fn aws_secret(hay: &str, end: usize) -> bool {
    !after(hay, end).is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '+' | '='))
}

/// Whether a `Basic` credential decodes to `user:password`: base64 (standard alphabet, padded
/// or not) of printable text holding a `:`. An ordinary word after `basic` (`basic usage`)
/// decodes to noise.
pub(super) fn basic_auth(token: &str) -> bool {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    match LENIENT.decode(token) {
        Ok(bytes) => {
            bytes.len() >= 3
                && bytes.contains(&b':')
                && std::str::from_utf8(&bytes).is_ok_and(|t| !t.chars().any(char::is_control))
        }
        Err(_) => false,
    }
}

/// A URL's password `hay[start..end]`: followed by `@`; or, where the text ends right after it
/// (a value cut short), anything but a port (`redis://cache:6379` at the end of a text is a host
/// and port).
pub(super) fn url_password(hay: &str, start: usize, end: usize) -> bool {
    hay.as_bytes().get(end) == Some(&b'@')
        || !hay.as_bytes()[start..end].iter().all(u8::is_ascii_digit)
}
