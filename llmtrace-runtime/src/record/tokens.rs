//! Token counts and the cost of a model call, kept in the record apart from its other fields.
//!
//! Every model call records usage, and most record a cost, so this is the hot case of recording
//! a value: plain stores into fixed slots, rather than searched-and-pushed entries of the field
//! list (measured at about 250 instructions per call that way for five counts, and about 45
//! more for the cost).
//!
//! The slots hold their own absence (`u32::MAX` for a count, a NaN of llmtrace's own for the
//! cost) rather than a byte of presence bits: without that byte the slots take 28 bytes at
//! 4-byte alignment, which keeps the record, copied into the thread's buffer at every span's
//! end, at 240 bytes.

use super::Field;

/// A count slot holding no count.
const COUNT_ABSENT: u32 = u32::MAX;

/// The cost slot holding no cost: a signalling NaN with a payload, which no arithmetic makes (an
/// application's NaN cost is stored as the quiet NaN, and still left out as invalid).
const COST_ABSENT: u64 = 0x7FF0_6C74_0000_0001;

/// Up to five token counts and a cost in USD. Counts are stored as `u32`: no model call comes
/// near four billion tokens, and larger values saturate rather than wrap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tokens {
    counts: [u32; 5],
    /// The cost's bits, in two halves so that the slots keep 4-byte alignment.
    cost: [u32; 2],
}

impl Default for Tokens {
    fn default() -> Self {
        Tokens {
            counts: [COUNT_ABSENT; 5],
            cost: split(COST_ABSENT),
        }
    }
}

fn split(bits: u64) -> [u32; 2] {
    [bits as u32, (bits >> 32) as u32]
}

impl Tokens {
    /// The slot of a token field; `None` for other fields.
    #[inline]
    pub(crate) fn slot(field: Field) -> Option<usize> {
        match field {
            Field::InputTokens => Some(0),
            Field::OutputTokens => Some(1),
            Field::CacheReadTokens => Some(2),
            Field::CacheWriteTokens => Some(3),
            Field::ReasoningTokens => Some(4),
            _ => None,
        }
    }

    /// Sets the count in `slot`.
    #[inline]
    pub(crate) fn set(&mut self, slot: usize, count: u64) {
        self.counts[slot] = count.min(u64::from(COUNT_ABSENT - 1)) as u32;
    }

    /// The count of a token field, if recorded.
    #[inline]
    pub(crate) fn get(&self, field: Field) -> Option<u64> {
        let n = self.counts[Tokens::slot(field)?];
        (n != COUNT_ABSENT).then_some(u64::from(n))
    }

    /// Sets the cost, in USD.
    #[inline]
    pub(crate) fn set_cost(&mut self, usd: f64) {
        let bits = usd.to_bits();
        self.cost = split(if bits == COST_ABSENT {
            f64::NAN.to_bits()
        } else {
            bits
        });
    }

    /// Clears the cost.
    pub(crate) fn clear_cost(&mut self) {
        self.cost = split(COST_ABSENT);
    }

    /// The cost in USD, if recorded.
    #[inline]
    pub(crate) fn cost(&self) -> Option<f64> {
        let bits = u64::from(self.cost[0]) | (u64::from(self.cost[1]) << 32);
        (bits != COST_ABSENT).then(|| f64::from_bits(bits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_hold_their_fields() {
        let mut t = Tokens::default();
        let fields = [
            Field::InputTokens,
            Field::OutputTokens,
            Field::CacheReadTokens,
            Field::CacheWriteTokens,
            Field::ReasoningTokens,
        ];
        for (i, f) in fields.iter().enumerate() {
            assert_eq!(Tokens::slot(*f), Some(i));
            assert_eq!(t.get(*f), None);
        }
        assert_eq!(Tokens::slot(Field::Model), None);
        t.set(0, 1200);
        t.set(2, 0);
        t.set(4, u64::MAX);
        assert_eq!(t.get(Field::InputTokens), Some(1200));
        assert_eq!(t.get(Field::OutputTokens), None);
        assert_eq!(t.get(Field::CacheReadTokens), Some(0));
        assert_eq!(t.get(Field::ReasoningTokens), Some(u64::from(u32::MAX - 1)));
    }

    #[test]
    fn the_cost_slot_holds_any_cost() {
        let mut t = Tokens::default();
        assert_eq!(t.cost(), None);
        for usd in [0.0038, 0.0, -1.0, f64::INFINITY, f64::MAX, 1e-300] {
            t.set_cost(usd);
            assert_eq!(t.cost(), Some(usd));
        }
        // A NaN, even one with the absent slot's bits, is a cost (an invalid one).
        t.set_cost(f64::NAN);
        assert!(t.cost().is_some_and(f64::is_nan));
        t.set_cost(f64::from_bits(COST_ABSENT));
        assert!(t.cost().is_some_and(f64::is_nan));
        t.clear_cost();
        assert_eq!(t.cost(), None);
        assert_eq!(t.get(Field::InputTokens), None);
    }
}
