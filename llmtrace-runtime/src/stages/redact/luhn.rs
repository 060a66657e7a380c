//! Payment card numbers: the Luhn checksum, and finding the card numbers inside a run of digit
//! groups (`4111 1111 1111 1111 123` holds a card followed by a security code).

use smallvec::SmallVec;

/// Card numbers have 13 to 19 digits.
const LENGTHS: std::ops::RangeInclusive<usize> = 13..=19;

/// The Luhn (mod 10) checksum over ASCII digits (other bytes are skipped).
pub(super) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    let mut double = false;
    for &b in digits.iter().rev() {
        if !b.is_ascii_digit() {
            continue;
        }
        let mut d = u32::from(b - b'0');
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        double = !double;
    }
    sum.is_multiple_of(10)
}

/// Whether `s` is a card number written as one run of digits (a JSON number, say).
pub(super) fn is_card_number(s: &str) -> bool {
    let b = s.as_bytes();
    LENGTHS.contains(&b.len())
        && b.iter().all(u8::is_ascii_digit)
        && network_prefix(b[0])
        && luhn(b)
}

/// The major networks' numbers start with 2 (Mastercard), 3 (Amex, Diners, JCB), 4 (Visa),
/// 5 (Mastercard, Maestro) or 6 (Discover, UnionPay, Maestro). This keeps timestamps in
/// milliseconds or nanoseconds (13 and 19 digits starting with 1) from being taken for cards.
fn network_prefix(first: u8) -> bool {
    (b'2'..=b'6').contains(&first)
}

/// Calls `found(start, end)` for each card number inside `hay[start..end]`, a run of digit
/// groups separated by single spaces or dashes.
///
/// A card is a stretch of whole groups with 13 to 19 digits passing Luhn, written either as one
/// group or as groups the way cards are printed: a first group of 4, middle groups of 4 to 6, a
/// last group of 1 to 6 (`4111 1111 1111 1111`, `3782 822463 10005`). The longest card starting
/// at the earliest group wins.
pub(super) fn cards(hay: &str, start: usize, end: usize, mut found: impl FnMut(usize, usize)) {
    let bytes = hay.as_bytes();
    // Digit groups of a run; a run of up to 8 groups (any card) is kept inline.
    let mut groups: SmallVec<[(usize, usize); 8]> = SmallVec::new();
    let mut i = start;
    while i < end {
        let g = i;
        while i < end && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i > g {
            groups.push((g, i));
        }
        i += 1; // the separator
    }
    let len = |g: (usize, usize)| g.1 - g.0;
    let mut first = 0;
    'starts: while first < groups.len() {
        if !network_prefix(bytes[groups[first].0]) {
            first += 1;
            continue;
        }
        let mut digits = 0;
        let mut best = None;
        for last in first..groups.len() {
            digits += len(groups[last]);
            if digits > *LENGTHS.end() {
                break;
            }
            let shaped = if last == first {
                true
            } else {
                len(groups[first]) == 4
                    && groups[first + 1..last]
                        .iter()
                        .all(|&g| (4..=6).contains(&len(g)))
                    && (1..=6).contains(&len(groups[last]))
            };
            if shaped && LENGTHS.contains(&digits) && luhn(&bytes[groups[first].0..groups[last].1])
            {
                best = Some(last);
            }
        }
        if let Some(last) = best {
            found(groups[first].0, groups[last].1);
            first = last + 1;
            continue 'starts;
        }
        first += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(s: &str) -> Vec<&str> {
        let mut out = Vec::new();
        cards(s, 0, s.len(), |a, b| out.push(&s[a..b]));
        out
    }

    #[test]
    fn luhn_accepts_valid_and_rejects_altered_numbers() {
        for ok in [
            "4111111111111111",
            "5500000000000004",
            "378282246310005",
            "6011111111111117",
            "4222222222222",
        ] {
            assert!(luhn(ok.as_bytes()), "{ok}");
            assert!(is_card_number(ok), "{ok}");
        }
        for bad in ["4111111111111112", "1234567812345678", "5500000000000005"] {
            assert!(!luhn(bad.as_bytes()), "{bad}");
            assert!(!is_card_number(bad), "{bad}");
        }
        // Luhn-valid, but not a card: a timestamp-like prefix, or the wrong length.
        assert!(luhn(b"1000000000000008"));
        assert!(!is_card_number("1000000000000008"));
        assert!(luhn(b"42"));
        assert!(!is_card_number("42"));
    }

    #[test]
    fn cards_inside_runs_of_groups() {
        assert_eq!(found("4111 1111 1111 1111"), ["4111 1111 1111 1111"]);
        assert_eq!(found("4111-1111-1111-1111"), ["4111-1111-1111-1111"]);
        assert_eq!(found("3782 822463 10005"), ["3782 822463 10005"]);
        assert_eq!(found("4111 1111 1111 1111 123"), ["4111 1111 1111 1111"]);
        assert_eq!(found("1234 4111 1111 1111 1111"), ["4111 1111 1111 1111"]);
        assert_eq!(
            found("4111 1111 1111 1111 5500 0000 0000 0004"),
            ["4111 1111 1111 1111", "5500 0000 0000 0004"]
        );
        assert!(found("4111 1111 1111 1112").is_empty());
        // Groups not shaped like a printed card.
        assert!(found("41 11 11 11 11 11 11 11").is_empty());
        assert!(found("12345678-1234-1234-1234-123456789012").is_empty());
    }
}
