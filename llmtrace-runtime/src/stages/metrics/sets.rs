//! The attribute sets the metrics are recorded under, and the instruments bound to each.
//!
//! Recording a point under a list of attributes makes the metrics SDK hash the whole list and
//! compare it with the lists it holds to find the point's aggregator: in a profile of the export
//! worker draining model calls into OTLP, that lookup (SipHash of every key and value, then the
//! comparison) was a fifth of the worker's time, for five to eight points per call. A set seen
//! before is found here instead, by its values (one fast hash of a few short strings, no list
//! built), and its instruments are bound to it once (the SDK's bound instruments), so that a
//! point is one update of its aggregator.
//!
//! At most [`BOUND_SETS`] sets are bound: a bound aggregator is never evicted by the SDK (an
//! unbound one is, once stale under delta temporality), and each counts against the SDK's
//! cardinality limit (2,000 series per instrument by default, past which points go to an overflow
//! series). 256 sets make at most 512 token-usage series (input and output). Past them, a set's
//! points are recorded with its attribute list.

use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{BoundCounter, BoundHistogram, Counter, Histogram};

use crate::semconv::keys::{gen_ai, metric_attr};

/// Attribute sets bound at most (see the module docs).
pub(super) const BOUND_SETS: usize = 256;

/// The values a metric point's attributes are made of, borrowed from the record (`S = &str`) or
/// owned by the cache (`S = Box<str>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Set<S> {
    /// A model call (inference or embeddings).
    Model {
        operation: S,
        /// `None` is counted as `_OTHER`, which the conventions require.
        provider: Option<S>,
        model: Option<S>,
        response_model: Option<S>,
        server: Option<S>,
        port: Option<i64>,
        /// The call failed, with this error type.
        error: Option<S>,
    },
    /// A tool call.
    Tool {
        name: S,
        tool_type: Option<S>,
        agent: Option<S>,
        error: Option<S>,
    },
    /// An agent invocation.
    Agent {
        operation: S,
        provider: Option<S>,
        agent: Option<S>,
        model: Option<S>,
        error: Option<S>,
    },
}

/// Which attributes of a set an instrument is recorded under.
#[derive(Clone, Copy, Debug)]
pub(super) enum Part {
    /// A model call's operation, provider and models: what cost is counted under.
    Priced,
    /// [`Part::Priced`] and the server; an agent's operation, provider, name and model.
    Common,
    /// [`Part::Common`] and `error.type` on a failure; a tool call's attributes.
    Outcome,
    /// [`Part::Common`] and `gen_ai.token.type`.
    TokenType(&'static str),
    /// [`Part::Common`] and `gen_ai.token.modality` (`unknown`).
    Modality,
}

impl<S: AsRef<str>> Set<S> {
    fn map<'s, T>(&'s self, f: impl Fn(&'s S) -> T) -> Set<T> {
        match self {
            Set::Model {
                operation,
                provider,
                model,
                response_model,
                server,
                port,
                error,
            } => Set::Model {
                operation: f(operation),
                provider: provider.as_ref().map(&f),
                model: model.as_ref().map(&f),
                response_model: response_model.as_ref().map(&f),
                server: server.as_ref().map(&f),
                port: *port,
                error: error.as_ref().map(&f),
            },
            Set::Tool {
                name,
                tool_type,
                agent,
                error,
            } => Set::Tool {
                name: f(name),
                tool_type: tool_type.as_ref().map(&f),
                agent: agent.as_ref().map(&f),
                error: error.as_ref().map(&f),
            },
            Set::Agent {
                operation,
                provider,
                agent,
                model,
                error,
            } => Set::Agent {
                operation: f(operation),
                provider: provider.as_ref().map(&f),
                agent: agent.as_ref().map(&f),
                model: model.as_ref().map(&f),
                error: error.as_ref().map(&f),
            },
        }
    }

    pub(super) fn as_borrowed(&self) -> Set<&str> {
        self.map(|s| s.as_ref())
    }
}

impl Set<&str> {
    fn owned(&self) -> Set<Box<str>> {
        self.map(|s| Box::from(*s))
    }

    /// The attribute list of `part`, as the conventions name them.
    pub(super) fn attributes(&self, part: Part) -> Vec<KeyValue> {
        let mut attrs = Vec::with_capacity(8);
        let mut push = |key: &'static str, value: Option<&str>| {
            if let Some(v) = value {
                attrs.push(KeyValue::new(key, v.to_owned()));
            }
        };
        let error = match *self {
            Set::Model {
                operation,
                provider,
                model,
                response_model,
                server,
                port,
                error,
            } => {
                push(gen_ai::OPERATION_NAME, Some(operation));
                push(gen_ai::PROVIDER_NAME, Some(provider.unwrap_or("_OTHER")));
                push(gen_ai::REQUEST_MODEL, model);
                push(gen_ai::RESPONSE_MODEL, response_model);
                if !matches!(part, Part::Priced) {
                    push(gen_ai::SERVER_ADDRESS, server);
                    if let Some(port) = port {
                        attrs.push(KeyValue::new(gen_ai::SERVER_PORT, port));
                    }
                }
                error
            }
            Set::Tool {
                name,
                tool_type,
                agent,
                error,
            } => {
                push(gen_ai::OPERATION_NAME, Some("execute_tool"));
                push(gen_ai::TOOL_NAME, Some(name));
                push(gen_ai::TOOL_TYPE, tool_type);
                push(gen_ai::AGENT_NAME, agent);
                error
            }
            Set::Agent {
                operation,
                provider,
                agent,
                model,
                error,
            } => {
                push(gen_ai::OPERATION_NAME, Some(operation));
                push(gen_ai::PROVIDER_NAME, provider);
                push(gen_ai::AGENT_NAME, agent);
                push(gen_ai::REQUEST_MODEL, model);
                error
            }
        };
        match part {
            Part::Priced | Part::Common => {}
            Part::Outcome => {
                if let Some(error) = error {
                    attrs.push(KeyValue::new(gen_ai::ERROR_TYPE, error.to_owned()));
                }
            }
            Part::TokenType(t) => attrs.push(KeyValue::new(metric_attr::TOKEN_TYPE, t)),
            Part::Modality => attrs.push(KeyValue::new(metric_attr::TOKEN_MODALITY, "unknown")),
        }
        attrs
    }
}

/// The instruments bound to one set, each bound when first recorded (an aggregator that was
/// bound but never recorded would still be exported under cumulative temporality, as a point
/// with a count of 0).
#[derive(Default)]
pub(super) struct Slots {
    pub(super) input_tokens: Option<BoundHistogram<u64>>,
    pub(super) output_tokens: Option<BoundHistogram<u64>>,
    pub(super) time_to_first_chunk: Option<BoundHistogram<f64>>,
    pub(super) time_per_output_chunk: Option<BoundHistogram<f64>>,
    pub(super) duration: Option<BoundHistogram<f64>>,
    pub(super) cost: Option<BoundCounter<f64>>,
    pub(super) unpriced: Option<BoundCounter<u64>>,
    pub(super) latest_duration: Option<BoundHistogram<f64>>,
    pub(super) latest_usage: [Option<BoundCounter<u64>>; 5],
    pub(super) agent_inference_calls: Option<BoundHistogram<u64>>,
    pub(super) agent_tool_calls: Option<BoundHistogram<u64>>,
    /// The model call's row in the summary (`None` inside: not summarised).
    pub(super) summary_row: Option<Option<usize>>,
}

struct Bound {
    set: Set<Box<str>>,
    slots: Slots,
}

/// The bound sets. They are kept in a list, where each stays at its index, and found through a
/// table of those indices; the set found last is tried first, by its values, since consecutive
/// calls (a batch job, a loop over documents) mostly share their set: in a profile of the export
/// worker draining model calls, hashing the set and probing the table were a third of the
/// metrics stage.
pub(super) struct Sets {
    bound: Vec<Bound>,
    table: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    last: Option<u32>,
}

impl Default for Sets {
    fn default() -> Self {
        Sets {
            bound: Vec::new(),
            table: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            last: None,
        }
    }
}

impl Sets {
    pub(super) fn get(&mut self, set: &Set<&str>) -> Option<&mut Slots> {
        let index = match self.last {
            Some(i) if self.bound[i as usize].set.as_borrowed() == *set => i,
            _ => {
                let found = self.find(set);
                self.last = found;
                found?
            }
        };
        Some(&mut self.bound[index as usize].slots)
    }

    /// The index of `set`, bound now if it is new and there is room.
    fn find(&mut self, set: &Set<&str>) -> Option<u32> {
        let (hasher, bound) = (&self.hasher, &mut self.bound);
        let hash = hasher.hash_one(set);
        match self.table.entry(
            hash,
            |&i| bound[i as usize].set.as_borrowed() == *set,
            |&i| hasher.hash_one(bound[i as usize].set.as_borrowed()),
        ) {
            Entry::Occupied(e) => Some(*e.get()),
            Entry::Vacant(_) if bound.len() >= BOUND_SETS => None,
            Entry::Vacant(e) => {
                let i = bound.len() as u32;
                bound.push(Bound {
                    set: set.owned(),
                    slots: Slots::default(),
                });
                e.insert(i);
                Some(i)
            }
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.bound.len()
    }
}

pub(super) trait Instrument<T> {
    type Bound;
    fn bind(&self, attributes: &[KeyValue]) -> Self::Bound;
    fn measure(&self, value: T, attributes: &[KeyValue]);
    fn measure_bound(bound: &Self::Bound, value: T);
}

/// `Instrument` for an instrument type, its bound type, and the method both record with.
macro_rules! instrument {
    ($instrument:ident, $bound:ident, $method:ident) => {
        impl<T> Instrument<T> for $instrument<T> {
            type Bound = $bound<T>;
            fn bind(&self, attributes: &[KeyValue]) -> $bound<T> {
                $instrument::bind(self, attributes)
            }
            fn measure(&self, value: T, attributes: &[KeyValue]) {
                self.$method(value, attributes);
            }
            fn measure_bound(bound: &$bound<T>, value: T) {
                bound.$method(value);
            }
        }
    };
}

instrument!(Histogram, BoundHistogram, record);
instrument!(Counter, BoundCounter, add);

/// Records `value` on `slot`'s bound instrument, binding it to `attributes` first if needed;
/// without a slot (the set is not bound), on `instrument` under `attributes`.
pub(super) fn measure<T, I: Instrument<T>>(
    instrument: &I,
    slot: Option<&mut Option<I::Bound>>,
    attributes: impl FnOnce() -> Vec<KeyValue>,
    value: T,
) {
    match slot {
        Some(slot) => I::measure_bound(
            slot.get_or_insert_with(|| instrument.bind(&attributes())),
            value,
        ),
        None => instrument.measure(value, &attributes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(model: &str, error: Option<&'static str>) -> Set<&'static str> {
        Set::Model {
            operation: "chat",
            provider: Some("openai"),
            model: Some(Box::leak(model.to_owned().into_boxed_str())),
            response_model: None,
            server: Some("api.openai.com"),
            port: Some(443),
            error,
        }
    }

    #[test]
    fn a_set_is_found_by_its_values_and_keeps_its_slots() {
        let mut sets = Sets::default();
        let first = model("gpt-4o", None);
        sets.get(&first).expect("bound").summary_row = Some(Some(7));
        // Equal values from other strings find the same set.
        let again = model(&String::from("gpt-4o"), None);
        assert_eq!(sets.get(&again).expect("bound").summary_row, Some(Some(7)));
        // Another error type is another set.
        assert_eq!(
            sets.get(&model("gpt-4o", Some("timeout")))
                .expect("bound")
                .summary_row,
            None
        );
        assert_eq!(sets.len(), 2);
    }

    #[test]
    fn the_last_set_and_the_others_each_keep_their_slots() {
        let mut sets = Sets::default();
        let (a, b) = (model("a", None), model("b", None));
        sets.get(&a).expect("bound").summary_row = Some(Some(1));
        sets.get(&b).expect("bound").summary_row = Some(Some(2));
        for (set, row) in [(&b, 2), (&a, 1), (&a, 1), (&b, 2), (&a, 1)] {
            assert_eq!(sets.get(set).expect("bound").summary_row, Some(Some(row)));
        }
        // The last set differs from the next in one value only.
        assert_eq!(
            sets.get(&model("a", Some("timeout")))
                .expect("bound")
                .summary_row,
            None
        );
        assert_eq!(sets.len(), 3);
    }

    #[test]
    fn past_the_bound_sets_a_new_set_is_not_bound() {
        let mut sets = Sets::default();
        for i in 0..BOUND_SETS {
            assert!(sets.get(&model(&format!("m{i}"), None)).is_some());
        }
        assert!(sets.get(&model("one more", None)).is_none());
        // The bound ones are still found.
        assert!(sets.get(&model("m3", None)).is_some());
        assert_eq!(sets.len(), BOUND_SETS);
    }

    #[test]
    fn attributes_of_each_part() {
        let set = model("gpt-4o", Some("timeout"));
        let keys = |part| {
            set.attributes(part)
                .into_iter()
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect::<Vec<_>>()
        };
        let priced = [
            "gen_ai.operation.name=chat",
            "gen_ai.provider.name=openai",
            "gen_ai.request.model=gpt-4o",
        ];
        assert_eq!(keys(Part::Priced), priced);
        let common = [
            &priced[..],
            &["server.address=api.openai.com", "server.port=443"],
        ]
        .concat();
        assert_eq!(keys(Part::Common), common);
        assert_eq!(
            keys(Part::Outcome),
            [&common[..], &["error.type=timeout"]].concat()
        );
        assert_eq!(
            keys(Part::TokenType("input")),
            [&common[..], &["gen_ai.token.type=input"]].concat()
        );
        let unnamed = Set::Model {
            operation: "chat",
            provider: None,
            model: None,
            response_model: None,
            server: None,
            port: None,
            error: None,
        };
        assert_eq!(
            unnamed
                .attributes(Part::Outcome)
                .iter()
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect::<Vec<_>>(),
            ["gen_ai.operation.name=chat", "gen_ai.provider.name=_OTHER"]
        );
    }
}
