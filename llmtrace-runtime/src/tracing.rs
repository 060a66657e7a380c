//! Interop with the [`tracing`](https://docs.rs/tracing) ecosystem (the `tracing` feature).
//!
//! - **Parents.** A span started with no llmtrace parent inside a `tracing` span that
//!   tracing-opentelemetry bridges (an axum or tower request span, say) becomes its child.
//! - **`tracing` mode.** [`Builder::tracing_mode`](crate::Builder::tracing_mode) sends llmtrace
//!   spans to the application's subscriber as `tracing` spans, every attribute a declared field.
//! - **Events.** In native mode, [`EventsLayer`] turns `tracing` events emitted inside an
//!   llmtrace span into events of that span.
//! - **Other crates' GenAI spans.** [`GenAiLayer`] records the `tracing` spans that crates such
//!   as genai and rig emit with GenAI fields as llmtrace spans, nested with the macros' spans in
//!   one trace.
//!
//! ```
//! use llmtrace_runtime as llmtrace;
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let subscriber = tracing_subscriber::registry().with(llmtrace::tracing::EventsLayer::new());
//! tracing::subscriber::with_default(subscriber, || {
//!     // `tracing::info!` inside an llmtrace span is now one of its events
//! });
//! ```

mod genai;

use std::borrow::Cow;
use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::record::Value;
use crate::state::{self, Output};

pub use genai::GenAiLayer;

/// A `tracing_subscriber` layer that adds the `tracing` events emitted inside an llmtrace span
/// to that span, as span events: named after the event's message (else its callsite name), with
/// its `level`, its `target` and its fields as attributes, the way tracing-opentelemetry records
/// events (integers wider than `i64` and other values as their `Debug` text).
///
/// Events outside any recorded llmtrace span are left alone. In `tracing` mode the layer does
/// nothing: llmtrace spans are `tracing` spans there, and the subscriber's own layers see their
/// events.
#[derive(Clone, Copy, Debug, Default)]
pub struct EventsLayer {
    _private: (),
}

impl EventsLayer {
    /// The layer.
    pub fn new() -> Self {
        EventsLayer::default()
    }
}

impl<S: Subscriber> Layer<S> for EventsLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if !state::is_enabled()
            || state::get().is_some_and(|p| matches!(p.output, Output::Tracing(_)))
        {
            return;
        }
        let span = crate::current();
        if !span.is_recording() {
            return;
        }
        let meta = event.metadata();
        let mut fields = Fields {
            name: None,
            attributes: vec![
                ("level", Value::Str(meta.level().as_str())),
                ("target", Value::Str(meta.target())),
            ],
        };
        // Formats the fields (user code) before the record is touched.
        event.record(&mut fields);
        let name = fields.name.unwrap_or(Cow::Borrowed(meta.name()));
        span.add_event(name, fields.attributes);
    }
}

/// An event's name and attributes.
struct Fields {
    name: Option<Cow<'static, str>>,
    attributes: Vec<(&'static str, Value)>,
}

impl Fields {
    fn push(&mut self, field: &Field, value: Value) {
        match field.name() {
            "message" => {
                self.name = Some(Cow::Owned(match value {
                    Value::String(s) => s.into(),
                    other => format!("{other:?}"),
                }))
            }
            // Metadata of `log` records, already in the event's metadata.
            name if name.starts_with("log.") => {}
            name => self.attributes.push((name, value)),
        }
    }
}

impl Visit for Fields {
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Value::Bool(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, Value::I64(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, Value::F64(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, Value::String(value.into()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, Value::String(format!("{value:?}").into()));
    }
}
