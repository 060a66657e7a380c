//! Where evaluations of ended spans go, as log records: the JSONL logs file next to the traces,
//! and the console. The export worker takes the queued results on each round and on flush, and
//! hands them to every log sink; the first sink's outcome is what `stats()` counts.

#[cfg(feature = "jsonl")]
pub(crate) mod jsonl;
#[cfg(feature = "otlp-http")]
pub(crate) mod otlp;

use std::fmt::Debug;
use std::sync::atomic::Ordering;

use opentelemetry_sdk::Resource;

use super::console::ConsoleEvaluations;
use crate::record::EvaluationResult;
use crate::state::evaluations;

/// One place evaluation results are written to.
pub(crate) trait LogSink: Send + Debug {
    /// Writes the results; an error says what failed. `runtime` is the export worker's, for
    /// sinks that do network I/O.
    fn export(
        &mut self,
        results: &[EvaluationResult],
        resource: &Resource,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<(), String>;
}

impl LogSink for ConsoleEvaluations {
    fn export(
        &mut self,
        results: &[EvaluationResult],
        _: &Resource,
        _: &tokio::runtime::Runtime,
    ) -> Result<(), String> {
        self.show(results);
        Ok(())
    }
}

/// Every log sink of the pipeline.
#[derive(Debug, Default)]
pub(crate) struct LogSinks {
    sinks: Vec<Box<dyn LogSink>>,
}

impl LogSinks {
    pub(crate) fn push(&mut self, sink: impl LogSink + 'static) {
        self.sinks.push(Box::new(sink));
    }

    /// Exports the results queued so far, each first passed to `prepare` (redaction), and
    /// counts them: logged when the first sink took them, else dropped (no sink, or it failed).
    pub(crate) fn export_queued(
        &mut self,
        resource: &Resource,
        runtime: &tokio::runtime::Runtime,
        prepare: impl Fn(&mut EvaluationResult),
    ) {
        let mut results = evaluations::take();
        if results.is_empty() {
            return;
        }
        results.iter_mut().for_each(prepare);
        let n = results.len() as u64;
        let mut first = None;
        for sink in &mut self.sinks {
            // A sink that panics must not take the worker down with it.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                sink.export(&results, resource, runtime)
            }))
            .unwrap_or_else(|_| Err("the log sink panicked".into()));
            if let Err(e) = &outcome {
                crate::state::warn::warn(format_args!("evaluation results not exported: {e}"));
            }
            first.get_or_insert(outcome.is_ok());
        }
        let counter = match first {
            Some(true) => &evaluations::LOGGED,
            _ => &evaluations::DROPPED,
        };
        counter.fetch_add(n, Ordering::Relaxed);
    }
}
