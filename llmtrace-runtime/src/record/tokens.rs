//! Token counts of a model call, kept in the record apart from its other fields.
//!
//! Every model call records usage, so this is the hot case of recording a value: five plain
//! stores into fixed slots, rather than five searched-and-pushed entries of the field list
//! (measured at about 250 instructions per call that way).

use super::Field;

/// Up to five token counts. Counts are stored as `u32`: no model call comes near four billion
/// tokens, and larger values saturate rather than wrap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tokens {
    counts: [u32; 5],
    present: u8,
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
        self.counts[slot] = u32::try_from(count).unwrap_or(u32::MAX);
        self.present |= 1 << slot;
    }

    /// The count of a token field, if recorded.
    #[inline]
    pub(crate) fn get(&self, field: Field) -> Option<u64> {
        let slot = Tokens::slot(field)?;
        (self.present & (1 << slot) != 0).then(|| u64::from(self.counts[slot]))
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
        }
        assert_eq!(Tokens::slot(Field::Model), None);
        t.set(0, 1200);
        t.set(4, u64::MAX);
        assert_eq!(t.get(Field::InputTokens), Some(1200));
        assert_eq!(t.get(Field::OutputTokens), None);
        assert_eq!(t.get(Field::ReasoningTokens), Some(u64::from(u32::MAX)));
    }
}
