//! One summary per trace, built span by span in any order (the spans of a trace may be spread
//! over lines and files): its root, start and duration, span and error counts, token and cost
//! totals, session and user. The same rules as the runtime's tree: a root has no parent, a
//! remote one, or one in another tracing system; the totals are the root's roll-up where it
//! has it, else the sum over the spans.

use crate::hash::FastMap;
use crate::source::{Accumulator, Reads};
use crate::span::SpanFacts;
use crate::usd::{self, Usd};

/// What `ls`, `top` and `anomalies` filter traces on.
#[derive(Debug, Default, Clone)]
pub(crate) struct Filters {
    /// Traces that started at or after this time (ns since the epoch).
    pub(crate) since: Option<u64>,
    /// Root name contains this.
    pub(crate) name: Option<String>,
    pub(crate) session: Option<String>,
    pub(crate) user: Option<String>,
    /// Only traces with an error.
    pub(crate) errors: bool,
    pub(crate) min_cost: Option<f64>,
    /// Nanoseconds.
    pub(crate) min_duration: Option<u64>,
    /// `key=value` on any span attribute; every clause must match some span of the trace.
    pub(crate) wheres: Vec<(String, String)>,
}

impl Filters {
    /// Whether `t` passes every filter.
    pub(crate) fn keep(&self, t: &TraceSummary) -> bool {
        self.since.is_none_or(|s| t.start >= s)
            && self
                .name
                .as_ref()
                .is_none_or(|n| t.root_name.contains(n.as_str()))
            && self
                .session
                .as_ref()
                .is_none_or(|s| t.session.as_deref() == Some(s))
            && self
                .user
                .as_ref()
                .is_none_or(|u| t.user.as_deref() == Some(u))
            && (!self.errors || t.errors > 0)
            && self
                .min_cost
                .is_none_or(|c| t.cost.is_some_and(|tc| tc >= c))
            && self.min_duration.is_none_or(|d| t.duration >= d)
            && (self.wheres.is_empty() || t.where_matched == (1u64 << self.wheres.len()) - 1)
    }

    /// Which `--where` clauses `span` matches, as bits.
    fn where_bits(&self, span: &SpanFacts<'_>) -> u64 {
        let mut bits = 0;
        for (i, (k, v)) in self.wheres.iter().enumerate().take(64) {
            if span.attribute_text(k).is_some_and(|t| t == *v) {
                bits |= 1 << i;
            }
        }
        bits
    }
}

/// The root span of a trace, as far as a summary needs it.
#[derive(Debug, Clone)]
struct Root {
    span_id: u64,
    label: String,
    start: u64,
    end: u64,
    rollup_input: Option<i64>,
    rollup_output: Option<i64>,
    rollup_cost: Option<f64>,
    rollup_unpriced: bool,
    external: bool,
}

/// A value with the start time of the span it came from: the earliest span's wins, so merging
/// in any order gives the same result.
#[derive(Debug, Clone)]
struct First<T> {
    at: (u64, u64),
    value: T,
}

/// Keeps `value` seen at `at` if it is earlier than the value kept; the text is copied only
/// then (most spans of a trace come after the one that set it).
fn keep_first_str(slot: &mut Option<First<String>>, at: (u64, u64), value: Option<&str>) {
    let Some(value) = value else { return };
    match slot {
        Some(s) if at < s.at => {
            s.at = at;
            s.value.clear();
            s.value.push_str(value);
        }
        Some(_) => {}
        None => {
            *slot = Some(First {
                at,
                value: value.to_owned(),
            })
        }
    }
}

fn keep_first<T>(slot: &mut Option<First<T>>, other: Option<First<T>>) {
    if let Some(o) = other {
        if slot.as_ref().is_none_or(|s| o.at < s.at) {
            *slot = Some(o);
        }
    }
}

/// A trace, gathered so far.
#[derive(Debug, Clone, Default)]
struct Acc {
    spans: u32,
    errors: u32,
    start: u64,
    end: u64,
    root: Option<Root>,
    /// With no root: the earliest span's name.
    first_name: Option<First<String>>,
    input: Option<i64>,
    output: Option<i64>,
    cost: Option<Usd>,
    lower_bound: bool,
    session: Option<First<String>>,
    user: Option<First<String>>,
    service: Option<First<String>>,
    where_matched: u64,
}

fn add_opt<T: std::ops::Add<Output = T>>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

impl Acc {
    fn add(&mut self, s: &SpanFacts<'_>, filters: &Filters) {
        let at = (s.start, s.span_id);
        if self.spans == 0 {
            self.start = s.start;
            self.end = s.end;
        } else {
            self.start = self.start.min(s.start);
            self.end = self.end.max(s.end);
        }
        self.spans += 1;
        self.errors += u32::from(s.error);
        self.input = add_opt(self.input, s.input_tokens);
        self.output = add_opt(self.output, s.output_tokens);
        self.cost = usd::add(self.cost, s.cost);
        self.lower_bound |= s.usage_missing || s.unpriced;
        keep_first_str(&mut self.session, at, s.session);
        keep_first_str(&mut self.user, at, s.user);
        keep_first_str(&mut self.service, at, s.service);
        keep_first_str(&mut self.first_name, at, Some(s.name));
        if !filters.wheres.is_empty() {
            self.where_matched |= filters.where_bits(s);
        }
        if s.is_root() {
            let root = Root {
                span_id: s.span_id,
                label: s.workflow.unwrap_or(s.name).to_owned(),
                start: s.start,
                end: s.end,
                rollup_input: s.rollup_input,
                rollup_output: s.rollup_output,
                rollup_cost: s.rollup_cost,
                rollup_unpriced: s.rollup_unpriced.is_some_and(|n| n > 0),
                external: s.parent_external || s.parent_remote,
            };
            self.merge_root(Some(root));
        }
    }

    fn merge_root(&mut self, other: Option<Root>) {
        if let Some(o) = other {
            if self
                .root
                .as_ref()
                .is_none_or(|r| (o.start, o.span_id) < (r.start, r.span_id))
            {
                self.root = Some(o);
            }
        }
    }

    fn merge(&mut self, o: Acc) {
        if self.spans == 0 {
            *self = o;
            return;
        }
        if o.spans == 0 {
            return;
        }
        self.spans += o.spans;
        self.errors += o.errors;
        self.start = self.start.min(o.start);
        self.end = self.end.max(o.end);
        self.input = add_opt(self.input, o.input);
        self.output = add_opt(self.output, o.output);
        self.cost = usd::merge(self.cost, o.cost);
        self.lower_bound |= o.lower_bound;
        keep_first(&mut self.session, o.session);
        keep_first(&mut self.user, o.user);
        keep_first(&mut self.service, o.service);
        keep_first(&mut self.first_name, o.first_name);
        self.where_matched |= o.where_matched;
        self.merge_root(o.root);
    }

    fn finish(self, trace_id: u128) -> TraceSummary {
        let rollup_unpriced = self.root.as_ref().is_some_and(|r| r.rollup_unpriced);
        let (root_name, start, duration, input, output, cost, root_found, foreign) = match self.root
        {
            Some(r) => (
                r.label,
                r.start,
                r.end.saturating_sub(r.start),
                r.rollup_input.or(self.input),
                r.rollup_output.or(self.output),
                r.rollup_cost.or(self.cost.map(Usd::dollars)),
                true,
                r.external,
            ),
            None => (
                self.first_name.map(|f| f.value).unwrap_or_default(),
                self.start,
                self.end.saturating_sub(self.start),
                self.input,
                self.output,
                self.cost.map(Usd::dollars),
                false,
                false,
            ),
        };
        TraceSummary {
            trace_id,
            root_name,
            root_found,
            foreign_parent: foreign,
            start,
            duration,
            spans: self.spans,
            errors: self.errors,
            input_tokens: input,
            output_tokens: output,
            cost,
            lower_bound: self.lower_bound || rollup_unpriced,
            session: self.session.map(|f| f.value),
            user: self.user.map(|f| f.value),
            service: self.service.map(|f| f.value),
            where_matched: self.where_matched,
        }
    }
}

/// One trace, summed up.
#[derive(Debug, Clone)]
pub(crate) struct TraceSummary {
    pub(crate) trace_id: u128,
    /// The root's workflow name, else its span name; without a root, the earliest span's name.
    pub(crate) root_name: String,
    /// Whether the root was among the spans read.
    pub(crate) root_found: bool,
    /// The root's parent is in another process or another tracing system.
    pub(crate) foreign_parent: bool,
    /// ns since the epoch.
    pub(crate) start: u64,
    /// ns.
    pub(crate) duration: u64,
    pub(crate) spans: u32,
    pub(crate) errors: u32,
    pub(crate) input_tokens: Option<i64>,
    pub(crate) output_tokens: Option<i64>,
    pub(crate) cost: Option<f64>,
    /// Some call reported no usage or had no price: the totals are lower bounds.
    pub(crate) lower_bound: bool,
    pub(crate) session: Option<String>,
    pub(crate) user: Option<String>,
    pub(crate) service: Option<String>,
    where_matched: u64,
}

impl TraceSummary {
    /// Input plus output tokens.
    pub(crate) fn tokens(&self) -> i64 {
        self.input_tokens
            .unwrap_or(0)
            .saturating_add(self.output_tokens.unwrap_or(0))
    }
}

/// Every trace read, summed up.
#[derive(Debug)]
pub(crate) struct Traces {
    filters: std::sync::Arc<Filters>,
    by_id: FastMap<u128, Acc>,
}

impl Traces {
    pub(crate) fn new(filters: std::sync::Arc<Filters>) -> Self {
        Traces {
            filters,
            by_id: FastMap::default(),
        }
    }

    /// The summaries, unfiltered, in no particular order.
    pub(crate) fn finish(self) -> Vec<TraceSummary> {
        self.by_id
            .into_iter()
            .map(|(id, acc)| acc.finish(id))
            .collect()
    }

    /// The summaries that pass the filters.
    pub(crate) fn filtered(self) -> Vec<TraceSummary> {
        let filters = self.filters.clone();
        let mut all = self.finish();
        all.retain(|t| filters.keep(t));
        all
    }
}

impl Accumulator for Traces {
    fn add(&mut self, span: &SpanFacts<'_>) {
        self.by_id
            .entry(span.trace_id)
            .or_default()
            .add(span, &self.filters);
    }

    fn reads(&self) -> Reads {
        // `--where` looks at any attribute.
        if self.filters.wheres.is_empty() {
            Reads::Facts
        } else {
            Reads::Raw
        }
    }

    fn merge(&mut self, other: Self) {
        if self.by_id.len() < other.by_id.len() {
            let mine = std::mem::replace(&mut self.by_id, other.by_id);
            for (id, acc) in mine {
                self.by_id.entry(id).or_default().merge(acc);
            }
        } else {
            for (id, acc) in other.by_id {
                self.by_id.entry(id).or_default().merge(acc);
            }
        }
    }
}
