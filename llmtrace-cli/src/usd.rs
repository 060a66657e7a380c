//! Sums of costs that come out the same whatever order the spans were read in. A scan parses
//! blocks in parallel and merges what each worker gathered in no fixed order, and floating-point
//! addition is not associative: summed as `f64`, a total could differ in its last digits from
//! one run to the next, or between a read of the JSON and a read of the cache.

use std::ops::Add;

/// Units per US dollar: a sum is kept exactly, in units of 10⁻¹⁸ USD.
const UNITS: f64 = 1e18;

/// A sum of US dollar amounts, exact and so independent of the order of its terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usd(i128);

impl Usd {
    /// `usd` dollars, to the nearest 10⁻¹⁸ (saturating far beyond any real cost).
    pub(crate) fn of(usd: f64) -> Usd {
        Usd((usd * UNITS).round() as i128)
    }

    /// In dollars.
    pub(crate) fn dollars(self) -> f64 {
        self.0 as f64 / UNITS
    }
}

impl Add for Usd {
    type Output = Usd;

    fn add(self, other: Usd) -> Usd {
        Usd(self.0.saturating_add(other.0))
    }
}

/// `sum` plus `usd`: a missing amount adds nothing, and nothing plus nothing stays nothing
/// (no cost reported is not a cost of zero).
pub(crate) fn add(sum: Option<Usd>, usd: Option<f64>) -> Option<Usd> {
    match (sum, usd) {
        (Some(s), Some(u)) => Some(s + Usd::of(u)),
        (s, u) => s.or(u.map(Usd::of)),
    }
}

/// Two sums, merged.
pub(crate) fn merge(a: Option<Usd>, b: Option<Usd>) -> Option<Usd> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_order_same_sum() {
        let costs = [0.1, 0.2, 0.3, 1e-9, 0.0012245, 3.5e-6, 0.7];
        let forward = costs.iter().fold(None, |s, &c| add(s, Some(c)));
        let backward = costs.iter().rev().fold(None, |s, &c| add(s, Some(c)));
        let halves = merge(
            costs[..3].iter().fold(None, |s, &c| add(s, Some(c))),
            costs[3..].iter().fold(None, |s, &c| add(s, Some(c))),
        );
        assert_eq!(forward, backward);
        assert_eq!(forward, halves);
        assert_eq!(add(None, Some(0.1)).map(Usd::dollars), Some(0.1));
        assert_eq!(
            add(Some(Usd::of(0.1)), Some(0.2)).map(Usd::dollars),
            Some(0.3)
        );
        assert_eq!(add(None, None), None);
        assert_eq!(merge(None, Some(Usd::of(0.5))).map(Usd::dollars), Some(0.5));
    }
}
