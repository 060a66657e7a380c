//! Head sampling: whether a trace is recorded, decided when its first span starts, before any
//! clock is read or attribute built. (Tail sampling, which recorded traces are kept, is a stage:
//! `stages::tail`.)

/// Which traces to record, decided when a span starts.
///
/// The ratio decision uses the same arithmetic on the trace id as OpenTelemetry's
/// `TraceIdRatioBased`, so services that sample by ratio agree on which traces to keep.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Sampler {
    /// Record every trace.
    AlwaysOn,
    /// Record nothing.
    AlwaysOff,
    /// Record this fraction of traces (0.0 to 1.0), chosen by trace id.
    TraceIdRatio(f64),
    /// Follow the parent's decision when there is a parent (local or remote), otherwise ask the
    /// inner sampler. The default is `ParentBased(AlwaysOn)`.
    ParentBased(Box<Sampler>),
}

impl Default for Sampler {
    fn default() -> Self {
        Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
    }
}

/// The sampler flattened for the hot path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeadSampler {
    follow_parent: bool,
    root: RootRule,
}

#[derive(Clone, Copy, Debug)]
enum RootRule {
    On,
    Off,
    /// Sample when `(low 64 bits of the trace id) >> 1` is below this bound.
    Below(u64),
}

impl HeadSampler {
    pub(crate) fn new(sampler: &Sampler) -> Self {
        match sampler {
            Sampler::ParentBased(inner) => HeadSampler {
                follow_parent: true,
                root: HeadSampler::new(inner).root,
            },
            Sampler::AlwaysOn => HeadSampler {
                follow_parent: false,
                root: RootRule::On,
            },
            Sampler::AlwaysOff => HeadSampler {
                follow_parent: false,
                root: RootRule::Off,
            },
            Sampler::TraceIdRatio(ratio) => HeadSampler {
                follow_parent: false,
                root: if *ratio >= 1.0 {
                    RootRule::On
                } else if ratio.is_nan() || *ratio <= 0.0 {
                    RootRule::Off
                } else {
                    RootRule::Below((ratio * (1u64 << 63) as f64) as u64)
                },
            },
        }
    }

    /// The same decisions, for a pipeline that counts every call in the metrics: a sampler
    /// that samples no root still decides per trace, so that a sampled-out call reaches the
    /// branch that tallies it (see `Span::start_sampled`). Without metrics the shortcut of
    /// [`never_samples_roots`](Self::never_samples_roots) stays.
    pub(crate) fn counting_every_call(mut self) -> Self {
        if let RootRule::Off = self.root {
            self.root = RootRule::Below(0);
        }
        self
    }

    /// Roots are never sampled: starting one needs no ids at all.
    #[inline]
    pub(crate) fn never_samples_roots(&self) -> bool {
        matches!(self.root, RootRule::Off)
    }

    #[inline]
    pub(crate) fn sample_root(&self, trace_id: u128) -> bool {
        match self.root {
            RootRule::On => true,
            RootRule::Off => false,
            RootRule::Below(bound) => ((trace_id as u64) >> 1) < bound,
        }
    }

    #[inline]
    pub(crate) fn sample_child(&self, parent_sampled: bool, trace_id: u128) -> bool {
        if self.follow_parent {
            parent_sampled
        } else {
            self.sample_root(trace_id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_matches_opentelemetry() {
        use opentelemetry::trace::{SpanKind, TraceId};
        use opentelemetry_sdk::trace::{Sampler as OtelSampler, SamplingDecision, ShouldSample};
        let ours = HeadSampler::new(&Sampler::TraceIdRatio(0.25));
        let theirs = OtelSampler::TraceIdRatioBased(0.25);
        let mut kept = 0;
        for i in 0..2000u64 {
            let id = (u128::from(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)) << 64)
                | u128::from(i.wrapping_mul(0xD1B5_4A32_D192_ED03));
            let decision = theirs
                .should_sample(None, TraceId::from(id), "x", &SpanKind::Internal, &[], &[])
                .decision;
            let otel = decision == SamplingDecision::RecordAndSample;
            assert_eq!(ours.sample_root(id), otel, "trace id {id:032x}");
            kept += usize::from(otel);
        }
        assert!((350..650).contains(&kept), "kept {kept} of 2000");
    }

    #[test]
    fn counting_every_call_decides_per_trace_and_samples_the_same() {
        let off = HeadSampler::new(&Sampler::AlwaysOff);
        assert!(off.never_samples_roots());
        let counting = off.counting_every_call();
        assert!(!counting.never_samples_roots());
        for id in [
            0u128,
            1,
            u128::MAX,
            0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736,
        ] {
            assert!(!counting.sample_root(id));
            assert!(!counting.sample_child(false, id));
        }
        // Samplers that decide per trace already are unchanged.
        let ratio = HeadSampler::new(&Sampler::TraceIdRatio(0.5));
        let id = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736;
        assert_eq!(
            ratio.counting_every_call().sample_root(id),
            ratio.sample_root(id)
        );
    }

    #[test]
    fn parent_based_follows_parent() {
        let s = HeadSampler::new(&Sampler::default());
        assert!(s.sample_child(true, 1));
        assert!(!s.sample_child(false, 1));
        assert!(s.sample_root(1));
        let off = HeadSampler::new(&Sampler::ParentBased(Box::new(Sampler::AlwaysOff)));
        assert!(off.never_samples_roots());
        assert!(off.sample_child(true, 1));
    }
}
