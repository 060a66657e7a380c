//! The stages a finished record goes through before it is mapped, in every mode: cost, roll-up,
//! agent totals, tail sampling (native mode only), then redaction and the content limit.
//!
//! [`Stages::new`] builds the one list. Native mode runs it on the export worker, over the
//! records each read of the rings brings; the `tracing` and OTel-provider modes run it on the
//! thread that ends each span.

mod agent;
pub(crate) mod content;
pub(crate) mod cost;
#[cfg(feature = "metrics")]
mod metrics;
#[cfg(feature = "metrics")]
pub(crate) use metrics::export_in_background as export_metrics_in_background;
mod params;
mod pending;
pub(crate) mod redact;
pub(crate) mod rollup;
mod stage;
pub(crate) mod tail;

use std::path::PathBuf;

use crate::record::Record;
use crate::state::Counters;
use agent::AgentTotals;
use content::ContentStage;
use cost::{CostStage, PriceOverride};
use params::ParamCheck;
use redact::Redaction;
use rollup::Rollup;
pub(crate) use stage::{Drain, Stage};
use tail::{TailSampler, TailStage};

/// Where the stages run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// On the export worker, over batches (native mode).
    ExportWorker,
    /// On the thread that ends each span, one record at a time (`tracing` and OTel-provider
    /// modes).
    EndingThread,
}

/// What the stages are built from.
#[derive(Debug)]
pub(crate) struct StageConfig {
    pub(crate) prices: Vec<PriceOverride>,
    pub(crate) prices_file: Option<PathBuf>,
    pub(crate) tail: Option<TailSampler>,
    pub(crate) content_limit: usize,
    pub(crate) redaction: Redaction,
    /// Where the GenAI client metrics are recorded; none without a metrics exporter.
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<opentelemetry_sdk::metrics::SdkMeterProvider>,
    /// Also the latest experimental metrics (`gen_ai.client.inference.*`).
    #[cfg(feature = "metrics")]
    pub(crate) latest_metrics: bool,
}

/// Every stage, in order. See the module docs.
#[derive(Debug)]
pub(crate) struct Stages {
    /// The stages that keep state (and, first, the check of parameters out of range): cost
    /// (the roll-up totals costs), the roll-up, the agent totals (after the roll-up, which
    /// counts each span's own usage), then the tail sampler, deciding on traces as they will be
    /// exported.
    pub(crate) held: Held,
    /// Redaction and the content limit, last: only what is exported pays for them. It keeps no
    /// state, so the modes that run the stages on many threads run it outside their lock.
    pub(crate) content: ContentStage,
    /// Where the metrics stage records, in the modes whose stages run where spans end: flushed
    /// with the host (the stage itself is flushed after every record there, so it does not
    /// export on flush).
    #[cfg(feature = "metrics")]
    pub(crate) meter_provider: Option<opentelemetry_sdk::metrics::SdkMeterProvider>,
}

impl Stages {
    /// The stages for `place`.
    ///
    /// Tail sampling runs on the export worker only: it holds whole traces back until their
    /// root ends, and a span that has ended on its own thread in the other modes has already
    /// been handed to the host's span, which cannot wait.
    pub(crate) fn new(config: StageConfig, place: Place) -> Stages {
        let mut held: Vec<Box<dyn Stage>> = vec![
            // First: what the later stages read (costs) must be numbers in range.
            Box::new(ParamCheck),
            Box::new(CostStage::new(config.prices, config.prices_file)),
            Box::new(Rollup::default()),
            Box::new(AgentTotals::default()),
        ];
        // After the cost (the cost counter adds the spans' costs) and the agent totals (the
        // agent metrics count its calls), before tail sampling (a dropped trace still counts).
        #[cfg(feature = "metrics")]
        let meter_provider = match (&config.metrics, place) {
            (Some(provider), Place::EndingThread) => Some(provider.clone()),
            _ => None,
        };
        #[cfg(feature = "metrics")]
        if let Some(provider) = config.metrics {
            held.push(Box::new(metrics::MetricsStage::new(
                provider,
                config.latest_metrics,
                place == Place::ExportWorker,
            )));
        }
        if let Some(tail) = config.tail {
            match place {
                Place::ExportWorker => held.push(Box::new(TailStage::new(tail))),
                // Reported when installing; dropped here.
                Place::EndingThread => {}
            }
        }
        Stages {
            held: Held(held),
            content: ContentStage::new(config.content_limit, config.redaction),
            #[cfg(feature = "metrics")]
            meter_provider,
        }
    }

    /// Starts every stage (loads prices, compiles the redaction rules).
    pub(crate) fn start(&mut self) {
        for stage in &mut self.held.0 {
            stage.start();
        }
        self.content.start();
    }

    /// Waits, at most `wait` in all, for what the stages' flush started elsewhere (see
    /// [`Stage::settle`]).
    pub(crate) fn settle(&mut self, wait: std::time::Duration) {
        let by = std::time::Instant::now() + wait;
        for stage in &mut self.held.0 {
            stage.settle(by.saturating_duration_since(std::time::Instant::now()));
        }
    }

    /// Prices sampled-out calls and counts them in the metrics (see [`Stage::count`]).
    pub(crate) fn count(&mut self, records: &mut [Record]) {
        self.held.count(records);
    }

    /// Runs the stages that keep state over `records` in place ([`Held::run`]). The content
    /// stage is the caller's to run on each record that is left, in the pass that maps it
    /// (one pass over a read of the rings less).
    pub(crate) fn run_held(
        &mut self,
        records: &mut Vec<Record>,
        drain: &Drain,
        counters: &Counters,
        process: bool,
        flush: bool,
    ) {
        self.held.run(records, drain, counters, process, flush);
    }
}

/// The stages that keep state, in order.
#[derive(Debug)]
pub(crate) struct Held(Vec<Box<dyn Stage>>);

impl Held {
    /// Prices sampled-out calls and counts them in the metrics (see [`Stage::count`]).
    pub(crate) fn count(&mut self, records: &mut [Record]) {
        for stage in &mut self.0 {
            stage.count(records);
        }
    }

    /// Runs these stages over `records` in place: each processes them (unless `process` is
    /// false) and then, with `flush`, gives back what it holds.
    pub(crate) fn run(
        &mut self,
        records: &mut Vec<Record>,
        drain: &Drain,
        counters: &Counters,
        process: bool,
        flush: bool,
    ) {
        for stage in &mut self.0 {
            if process {
                stage.process(records, drain, counters);
            }
            if flush {
                stage.flush(records, counters);
            }
        }
    }
}
