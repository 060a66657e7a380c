//! The per-model summary of model calls behind `llmtrace::metrics_summary()`: calls, errors,
//! rate-limited calls, tokens, cost, and samples of latency and time to first chunk for their
//! percentiles. Filled by the metrics stage on the export worker, read by the application.

use std::sync::{Mutex, PoisonError};

/// Latency samples kept per model; past it, reservoir sampling keeps a uniform sample.
pub(crate) const SAMPLES_KEPT: usize = 4096;
/// Models summarised at most; a further model is not summarised.
const MODELS_KEPT: usize = 256;

/// One model call, as the summary counts it (its provider and model are its [`row`]).
#[derive(Debug)]
pub(crate) struct CallSample {
    pub(crate) seconds: f64,
    pub(crate) ttft: Option<f64>,
    /// The call failed.
    pub(crate) error: bool,
    /// It failed with `error.type` `rate_limited`.
    pub(crate) rate_limited: bool,
    pub(crate) input_tokens: Option<u64>,
    pub(crate) output_tokens: Option<u64>,
    pub(crate) cost: Option<f64>,
}

/// What is known of one provider and model.
#[derive(Clone, Debug, Default)]
pub(crate) struct ModelBook {
    pub(crate) calls: u64,
    pub(crate) errors: u64,
    pub(crate) rate_limited: u64,
    pub(crate) input_tokens: u64,
    pub(crate) output_tokens: u64,
    pub(crate) cost: f64,
    pub(crate) unpriced: u64,
    pub(crate) latencies: Samples,
    pub(crate) ttfts: Samples,
}

/// A bounded uniform sample of values.
#[derive(Clone, Debug, Default)]
pub(crate) struct Samples {
    pub(crate) seen: u64,
    pub(crate) kept: Vec<f64>,
}

impl Samples {
    fn add(&mut self, v: f64) {
        self.seen += 1;
        if self.kept.len() < SAMPLES_KEPT {
            self.kept.push(v);
        } else {
            let slot = fastrand::u64(0..self.seen);
            if let Ok(slot) = usize::try_from(slot) {
                if slot < SAMPLES_KEPT {
                    self.kept[slot] = v;
                }
            }
        }
    }

    /// The `q` quantile (0 to 1) of the kept values, nearest rank.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        if self.kept.is_empty() {
            return None;
        }
        let mut sorted = self.kept.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        Some(sorted[rank - 1])
    }
}

/// The rows, in the order they were first seen; a row's index never changes, so the metrics
/// stage finds a call's row once per provider and model, not once per call.
static BOOK: Mutex<Vec<((String, String), ModelBook)>> = Mutex::new(Vec::new());

/// The row of `provider` and `model`, added if new; `None` once [`MODELS_KEPT`] rows exist
/// (a further model is not summarised).
pub(crate) fn row(provider: &str, model: &str) -> Option<usize> {
    let mut book = BOOK.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(i) = book
        .iter()
        .position(|((p, m), _)| p == provider && m == model)
    {
        return Some(i);
    }
    if book.len() >= MODELS_KEPT {
        return None;
    }
    book.push((
        (provider.to_owned(), model.to_owned()),
        ModelBook::default(),
    ));
    Some(book.len() - 1)
}

/// Counts model calls, each in its row (from [`row`]): under one lock, once per batch.
pub(crate) fn add(calls: &[(usize, CallSample)]) {
    let mut book = BOOK.lock().unwrap_or_else(PoisonError::into_inner);
    for (row, call) in calls {
        if let Some((_, row)) = book.get_mut(*row) {
            count(row, call);
        }
    }
}

fn count(row: &mut ModelBook, call: &CallSample) {
    row.calls += 1;
    row.errors += u64::from(call.error);
    row.rate_limited += u64::from(call.rate_limited);
    row.input_tokens += call.input_tokens.unwrap_or(0);
    row.output_tokens += call.output_tokens.unwrap_or(0);
    match call.cost {
        Some(usd) => row.cost += usd,
        None if call.input_tokens.is_some() || call.output_tokens.is_some() => row.unpriced += 1,
        None => {}
    }
    row.latencies.add(call.seconds);
    if let Some(ttft) = call.ttft {
        row.ttfts.add(ttft);
    }
}

/// Every provider and model seen, sorted by provider, then model.
pub(crate) fn snapshot() -> Vec<((String, String), ModelBook)> {
    let mut rows = BOOK.lock().unwrap_or_else(PoisonError::into_inner).clone();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let mut s = Samples::default();
        for v in 1..=100 {
            s.add(f64::from(v));
        }
        assert_eq!(s.quantile(0.5), Some(50.0));
        assert_eq!(s.quantile(0.95), Some(95.0));
        assert_eq!(Samples::default().quantile(0.5), None);
    }

    #[test]
    fn samples_stay_bounded() {
        let mut s = Samples::default();
        for v in 0..(SAMPLES_KEPT * 3) {
            s.add(v as f64);
        }
        assert_eq!(s.kept.len(), SAMPLES_KEPT);
        assert_eq!(s.seen, (SAMPLES_KEPT * 3) as u64);
    }
}
