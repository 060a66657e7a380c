//! What a stage is.

use crate::record::Record;
use crate::state::Counters;

/// A stage that keeps state from record to record (it may hold records back).
pub(crate) trait Stage: Send + std::fmt::Debug {
    /// Runs once before the first records arrive, off the application's threads in native
    /// mode: load data here.
    fn start(&mut self) {}
    /// Works on the records as they arrive, in place: records it holds back are taken out of
    /// `records`, records it releases are appended; what is left goes on. (In place, because
    /// moving every record from one list to the next per stage showed in the export thread's
    /// profile.) `drain` says when the records were collected.
    fn process(&mut self, records: &mut Vec<Record>, drain: &Drain, counters: &Counters);
    /// Sampled-out calls on their way to the metrics only (records made from their tallies on
    /// the export worker): a stage that prices or counts calls sees them here; the others never
    /// do, and nothing is exported.
    fn count(&mut self, _records: &mut [Record]) {}
    /// Appends everything still held to `records` (flush and shutdown).
    fn flush(&mut self, records: &mut Vec<Record>, counters: &Counters);
    /// Once the flush's spans are exported: waits, at most `wait`, for what the flush started
    /// elsewhere (the metrics export), so that a slow metrics collector never delays spans.
    fn settle(&mut self, _wait: std::time::Duration) {}
}

/// About the collection of the records a stage receives.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Drain {
    /// Raw clock when the collection began: a record that ended before it was handed off
    /// before it too, and so was every record handed off before that one ended (a child its
    /// parent awaited).
    pub(crate) started: u64,
}
