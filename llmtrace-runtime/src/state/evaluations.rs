//! Evaluations of spans that have ended, on their way from the application's thread to the log
//! exporters of the export worker.
//!
//! Evaluations are rare next to spans (one per judged answer, one per user's click), so a plain
//! bounded queue behind a mutex is enough: the caller pushes and wakes the worker, which takes
//! the whole queue on its next round. A full queue drops the newest result and counts it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use super::warn;
use crate::handoff;
use crate::record::EvaluationResult;

/// Results waiting for the export worker, at most.
pub(crate) const QUEUE_CAPACITY: usize = 4096;

static QUEUE: Mutex<VecDeque<EvaluationResult>> = Mutex::new(VecDeque::new());
/// Results accepted by the first log exporter.
pub(crate) static LOGGED: AtomicU64 = AtomicU64::new(0);
/// Results dropped: the queue was full, no log exporter was configured, or the export failed.
pub(crate) static DROPPED: AtomicU64 = AtomicU64::new(0);
static WARNED_FULL: AtomicBool = AtomicBool::new(false);
/// The latest results, by trace: what a tail sampler reads when it decides a trace that
/// received feedback or a score after some of its spans ended.
static RECENT: Mutex<VecDeque<(u128, String, Option<f64>)>> = Mutex::new(VecDeque::new());
/// Results remembered for tail sampling, at most.
const RECENT_KEPT: usize = 4096;

/// Queues a result for the log exporters and wakes the worker. Never blocks on export.
pub(crate) fn submit(result: EvaluationResult) {
    {
        let mut recent = RECENT.lock().unwrap_or_else(PoisonError::into_inner);
        if recent.len() >= RECENT_KEPT {
            recent.pop_front();
        }
        recent.push_back((result.trace_id, result.name.to_string(), result.score));
    }
    let mut queue = QUEUE.lock().unwrap_or_else(PoisonError::into_inner);
    if queue.len() >= QUEUE_CAPACITY {
        drop(queue);
        DROPPED.fetch_add(1, Ordering::Relaxed);
        if !WARNED_FULL.swap(true, Ordering::Relaxed) {
            warn::warn(format_args!(
                "evaluation results dropped: {QUEUE_CAPACITY} already waiting for export \
                 (counted in stats().evaluations_dropped)"
            ));
        }
        return;
    }
    queue.push_back(result);
    drop(queue);
    handoff::wake();
}

/// Counts a result that could not be queued for export.
pub(crate) fn count_dropped() {
    DROPPED.fetch_add(1, Ordering::Relaxed);
}

/// Takes every queued result, oldest first.
pub(crate) fn take() -> Vec<EvaluationResult> {
    let mut queue = QUEUE.lock().unwrap_or_else(PoisonError::into_inner);
    if queue.is_empty() {
        return Vec::new();
    }
    std::mem::take(&mut *queue).into()
}

/// The names and scores of the latest results for `trace_id`.
pub(crate) fn recent(trace_id: u128) -> Vec<(String, Option<f64>)> {
    RECENT
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter(|(t, _, _)| *t == trace_id)
        .map(|(_, name, score)| (name.clone(), *score))
        .collect()
}
