//! Where evaluations of ended spans go, as log records: the JSONL logs file next to the traces,
//! and the console. The export worker takes the queued results on each round and on flush, and
//! hands them to every log sink; the first sink's outcome is what `stats()` counts.

#[cfg(feature = "jsonl")]
pub(crate) mod jsonl;
#[cfg(any(feature = "otlp-http", feature = "otlp-grpc"))]
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
    /// The last error of each sink, reported once until it changes or the sink recovers.
    errors: Vec<Option<String>>,
}

impl LogSinks {
    pub(crate) fn push(&mut self, sink: impl LogSink + 'static) {
        self.sinks.push(Box::new(sink));
        self.errors.push(None);
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
        for (sink, last_error) in self.sinks.iter_mut().zip(&mut self.errors) {
            // A sink that panics must not take the worker down with it.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                sink.export(&results, resource, runtime)
            }))
            .unwrap_or_else(|_| Err("the log sink panicked".into()));
            match &outcome {
                Err(e) if last_error.as_deref() != Some(e.as_str()) => {
                    crate::state::warn::warn(format_args!("evaluation results not exported: {e}"));
                    *last_error = Some(e.clone());
                }
                Err(_) => {}
                Ok(()) => *last_error = None,
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::SystemTime;

    use super::*;

    #[derive(Debug)]
    struct Down;

    impl LogSink for Down {
        fn export(
            &mut self,
            _: &[EvaluationResult],
            _: &Resource,
            _: &tokio::runtime::Runtime,
        ) -> Result<(), String> {
            Err("collector down".into())
        }
    }

    fn result() -> EvaluationResult {
        EvaluationResult {
            trace_id: 7,
            span_id: 9,
            sampled: true,
            time: SystemTime::now(),
            name: "relevance".into(),
            score: Some(0.5),
            label: None,
            explanation: Some("a comment".into()),
            response_id: None,
        }
    }

    #[test]
    fn a_failing_sink_drops_counts_and_reports_once() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let resource = Resource::builder_empty().build();
        let mut sinks = LogSinks::default();
        sinks.push(Down);
        let dropped = evaluations::DROPPED.load(Ordering::Relaxed);
        for _ in 0..2 {
            evaluations::submit(result());
            sinks.export_queued(&resource, &runtime, |r| r.explanation = None);
        }
        assert_eq!(evaluations::DROPPED.load(Ordering::Relaxed) - dropped, 2);
        // Reported the first time only: the same error is remembered.
        assert_eq!(sinks.errors, [Some("collector down".to_owned())]);
    }
}
