//! The console exporter end to end: batches in, text out. The layout is pinned by snapshots.

use std::future::Future;
use std::io::{self, Write};
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use opentelemetry_sdk::error::OTelSdkError;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::ConsoleExporter;
use super::test_spans::{Build, OTHER_TRACE, THIRD_TRACE, TRACE, at, span};
use crate::semconv::keys::{gen_ai, llmtrace as lt, openinference as oi};

/// The console, as a test sees it.
#[derive(Clone, Default)]
struct Screen(Arc<Mutex<Vec<u8>>>);

impl Write for Screen {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Screen {
    /// What was printed since the last call.
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

/// A clock the test moves by hand, in milliseconds since the epoch.
#[derive(Clone, Default)]
struct TestClock(Arc<AtomicU64>);

impl TestClock {
    fn set(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

fn console() -> (ConsoleExporter, Screen, TestClock) {
    let screen = Screen::default();
    let clock = TestClock::default();
    let now = clock.clone();
    let exporter = ConsoleExporter::with_writer(screen.clone())
        .with_clock(move || at(now.0.load(Ordering::SeqCst)));
    (exporter, screen, clock)
}

/// The export future does its work before it is returned, so one poll completes it.
fn block_on<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the console export future is always ready"),
    }
}

fn send(exporter: &ConsoleExporter, batch: Vec<SpanData>) {
    block_on(exporter.export(batch)).unwrap();
}

/// Exports each batch in turn and collects what each one printed, under a heading.
fn steps(exporter: &ConsoleExporter, screen: &Screen, batches: Vec<Vec<SpanData>>) -> String {
    let mut out = String::new();
    for (n, batch) in batches.into_iter().enumerate() {
        send(exporter, batch);
        out += &format!("--- batch {} ---\n{}", n + 1, screen.take());
    }
    out
}

fn support_answer() -> Vec<SpanData> {
    vec![
        span(TRACE, 1, 0, "invoke_workflow support_answer", 0, 2410).workflow("support_answer"),
        span(TRACE, 2, 1, "retrieval help_center", 5, 125).attr(lt::RETRIEVAL_DOCUMENT_COUNT, 5),
        span(TRACE, 6, 2, "embeddings text-embedding-3-small", 8, 48)
            .attr(gen_ai::USAGE_INPUT_TOKENS, 12),
        span(TRACE, 3, 1, "chat gpt-4o", 130, 1020)
            .usage(3200, 450)
            .cost(0.012)
            .attr(gen_ai::RESPONSE_TIME_TO_FIRST_CHUNK, 0.32),
        span(TRACE, 4, 1, "execute_tool lookup_order", 1030, 1045)
            .failed("OrderNotFound", "no order B-7"),
        span(TRACE, 5, 1, "chat gpt-4o", 1050, 1660)
            .usage(450, 70)
            .cost(0.003),
    ]
}

#[test]
fn workflow_tree_printed_when_the_root_ends() {
    let (exporter, screen, _) = console();
    let mut s = support_answer().into_iter().map(Some).collect::<Vec<_>>();
    let mut take = |i: usize| s[i].take().unwrap();
    // Shuffled over three batches, the root first in the last one.
    let batches = vec![
        vec![take(5), take(4)],
        vec![take(2), take(1)],
        vec![take(0), take(3)],
    ];
    insta::assert_snapshot!(steps(&exporter, &screen, batches));
}

#[test]
fn slowest_child_marked_at_every_level() {
    let (exporter, screen, _) = console();
    let batch = vec![
        span(TRACE, 1, 0, "invoke_workflow agent", 0, 5000).workflow("agent"),
        span(TRACE, 2, 1, "chat gpt-4o", 0, 800),
        span(TRACE, 3, 1, "invoke_workflow research", 900, 4500),
        span(TRACE, 4, 3, "retrieval web", 900, 1900),
        span(TRACE, 5, 3, "retrieval wiki", 900, 3900),
        span(TRACE, 6, 3, "chat claude-sonnet", 3900, 4500),
        // Equally slow siblings: nothing stands out, nothing is marked.
        span(TRACE, 7, 6, "execute_tool a", 3950, 4000),
        span(TRACE, 8, 6, "execute_tool b", 4000, 4050),
        span(TRACE, 9, 1, "chat gpt-4o", 4500, 4990),
    ];
    let mut batch = batch;
    batch.reverse();
    send(&exporter, batch);
    insta::assert_snapshot!(screen.take());
}

#[test]
fn cancelled_and_usage_missing_spans() {
    let (exporter, screen, _) = console();
    send(
        &exporter,
        vec![
            span(TRACE, 3, 1, "chat gpt-4o", 40, 3000)
                .attr(lt::CANCELLED, true)
                .attr(lt::USAGE_MISSING, true),
            span(TRACE, 2, 1, "chat local-llama", 0, 30).attr(lt::USAGE_MISSING, true),
            span(TRACE, 1, 0, "invoke_workflow answer_with_timeout", 0, 3001)
                .workflow("answer_with_timeout")
                .failed("Elapsed", "deadline has elapsed"),
        ],
    );
    insta::assert_snapshot!(screen.take());
}

#[test]
fn late_children_get_one_line_each() {
    let (exporter, screen, _) = console();
    let batches = vec![
        vec![
            span(TRACE, 2, 1, "chat gpt-4o", 10, 400).usage(100, 20),
            span(TRACE, 1, 0, "invoke_workflow support_answer", 0, 850).workflow("support_answer"),
        ],
        // A spawned task that outlived the workflow, and one that ended in time but was
        // exported from another thread's buffer after the root.
        vec![
            span(TRACE, 3, 1, "chat gpt-4o", 20, 1200)
                .usage(450, 70)
                .cost(0.003),
            span(TRACE, 4, 1, "execute_tool notify", 30, 800),
        ],
    ];
    insta::assert_snapshot!(steps(&exporter, &screen, batches));
}

#[test]
fn totals_from_roll_up_or_summed() {
    let (exporter, screen, _) = console();
    let batches = vec![
        // The roll-up counts spans this exporter never saw (sampled out, other process).
        vec![
            span(TRACE, 2, 1, "chat gpt-4o", 0, 100)
                .usage(1200, 300)
                .cost(0.01),
            span(TRACE, 1, 0, "invoke_workflow with_roll_up", 0, 200)
                .workflow("with_roll_up")
                .attr(lt::TRACE_INPUT_TOKENS, 25_000)
                .attr(lt::TRACE_OUTPUT_TOKENS, 4_000)
                .attr(lt::TRACE_COST_USD, 0.375),
        ],
        vec![
            span(OTHER_TRACE, 2, 1, "chat gpt-4o", 0, 100)
                .usage(1200, 300)
                .cost(0.01),
            span(OTHER_TRACE, 3, 1, "chat gpt-4o-mini", 100, 150)
                .usage(800, 40)
                .cost(0.000_15),
            span(OTHER_TRACE, 1, 0, "invoke_workflow summed", 0, 200)
                .workflow("summed")
                .usage(5, 5),
        ],
    ];
    insta::assert_snapshot!(steps(&exporter, &screen, batches));
}

#[test]
fn agents_guardrails_retries_and_links() {
    let (exporter, screen, _) = console();
    let mut researcher = span(TRACE, 2, 1, "invoke_agent researcher", 0, 300)
        .usage(1200, 300)
        .attr(lt::AGENT_COST_USD, 0.01)
        .attr(lt::AGENT_INFERENCE_CALLS, 1)
        .attr(lt::AGENT_TOOL_CALLS, 2)
        .attr(lt::AGENT_STEPS, 1);
    researcher.links.links.push(link(OTHER_TRACE, 9, false));
    let mut retry =
        span(TRACE, 5, 2, "execute_tool fetch_page", 150, 200).attr(lt::RETRY_ATTEMPT, 2);
    retry.links.links.push(link(TRACE, 4, true));
    let batches = vec![vec![
        span(TRACE, 3, 2, "chat gpt-4o", 0, 100)
            .usage(1200, 300)
            .cost(0.01),
        span(TRACE, 4, 2, "execute_tool fetch_page", 100, 140).failed("Timeout", "timed out"),
        retry,
        span(TRACE, 7, 2, "rerank rerank-v3.5", 200, 210)
            .attr(lt::RERANK_INPUT_DOCUMENT_COUNT, 4)
            .attr(lt::RERANK_OUTPUT_DOCUMENT_COUNT, 2),
        span(TRACE, 6, 2, "guardrail no_pii", 250, 260)
            .attr(lt::GUARDRAIL_PASSED, false)
            .attr(lt::GUARDRAIL_REASON, "quotes an email address"),
        researcher,
        // No roll-up: the totals are summed, without the agent's sum of its calls again.
        span(TRACE, 1, 0, "invoke_workflow research", 0, 400).workflow("research"),
    ]];
    insta::assert_snapshot!(steps(&exporter, &screen, batches));
    let spans: Vec<SpanData> = vec![
        span(TRACE, 3, 2, "chat gpt-4o", 0, 100)
            .usage(1200, 300)
            .cost(0.01),
        span(TRACE, 2, 1, "invoke_agent researcher", 0, 300)
            .usage(1200, 300)
            .attr(lt::AGENT_INFERENCE_CALLS, 1),
        span(TRACE, 1, 0, "invoke_workflow research", 0, 400),
    ];
    let trees = crate::export::tree::build(spans.iter());
    assert_eq!(trees[0].totals().input_tokens, Some(1200));
    let agent = trees[0].root().unwrap().children().next().unwrap();
    assert_eq!(agent.agent_counts().map(|c| c.inference_calls), Some(1));
}

fn link(trace: u128, span: u64, retry: bool) -> opentelemetry::trace::Link {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    let context = SpanContext::new(
        TraceId::from(trace),
        SpanId::from(span),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    );
    let attributes = if retry {
        vec![opentelemetry::KeyValue::new(
            crate::semconv::keys::link::TYPE,
            crate::semconv::keys::link::RETRY_OF,
        )]
    } else {
        Vec::new()
    };
    opentelemetry::trace::Link::new(context, attributes, 0)
}

#[test]
fn pending_traces_printed_incomplete_at_shutdown() {
    let (exporter, screen, _) = console();
    send(
        &exporter,
        vec![
            span(TRACE, 3, 2, "execute_tool search", 100, 180),
            span(TRACE, 2, 1, "chat gpt-4o", 50, 900)
                .usage(640, 12)
                .cost(0.0017),
            span(TRACE, 4, 1, "chat gpt-4o", 950, 1400).usage(700, 88),
            span(OTHER_TRACE, 7, 6, "retrieval docs", 0, 20),
        ],
    );
    assert_eq!(screen.take(), "", "nothing printed before the roots end");
    exporter.force_flush().unwrap();
    assert_eq!(
        screen.take(),
        "",
        "a flush does not give up on running roots"
    );
    exporter.shutdown().unwrap();
    insta::assert_snapshot!(screen.take());
    assert!(matches!(
        block_on(exporter.export(vec![span(TRACE, 1, 0, "late", 0, 1)])),
        Err(OTelSdkError::AlreadyShutdown)
    ));
    assert!(exporter.shutdown().is_err());
}

#[test]
fn spans_over_the_per_trace_cap_are_counted() {
    let (mut exporter, screen, _) = console();
    exporter.limits.spans_per_trace = 3;
    let children: Vec<SpanData> = (2..=6)
        .map(|id| span(TRACE, id, 1, "execute_tool step", id * 10, id * 10 + 5))
        .collect();
    send(&exporter, children[..2].to_vec());
    send(&exporter, children[2..].to_vec());
    send(
        &exporter,
        vec![span(TRACE, 1, 0, "invoke_workflow many_steps", 0, 100).workflow("many_steps")],
    );
    insta::assert_snapshot!(screen.take());
}

#[test]
fn traces_waiting_too_long_printed_incomplete() {
    let (exporter, screen, clock) = console();
    let mut out = String::new();
    let mut step = |now_ms: u64, batch: Vec<SpanData>| {
        clock.set(now_ms);
        send(&exporter, batch);
        out += &format!("--- clock at {now_ms} ms ---\n{}", screen.take());
    };
    step(
        0,
        vec![span(TRACE, 2, 1, "chat gpt-4o", 0, 500).usage(10, 2)],
    );
    step(30_000, vec![span(OTHER_TRACE, 2, 1, "chat gpt-4o", 0, 500)]);
    // The first trace has waited more than a minute, the second not yet.
    step(61_000, Vec::new());
    // Its root does come after all: printed with the spans kept since, not as late lines.
    step(61_500, vec![span(TRACE, 3, 1, "chat gpt-4o", 600, 61_400)]);
    step(
        62_000,
        vec![span(TRACE, 1, 0, "invoke_workflow slow_agent", 0, 62_000).workflow("slow_agent")],
    );
    step(91_000, Vec::new());
    insta::assert_snapshot!(out);
}

#[test]
fn oldest_pending_trace_evicted_when_full() {
    let (mut exporter, screen, _) = console();
    exporter.limits.pending_traces = 2;
    let batches = vec![
        vec![span(TRACE, 2, 1, "chat a", 0, 10)],
        vec![span(OTHER_TRACE, 2, 1, "chat b", 0, 10)],
        vec![
            span(OTHER_TRACE, 3, 1, "chat b", 10, 20),
            span(THIRD_TRACE, 2, 1, "chat c", 0, 10),
        ],
    ];
    insta::assert_snapshot!(steps(&exporter, &screen, batches));
    assert_eq!(exporter.lock().traces.len(), 2);
}

#[test]
fn odd_spans_never_panic() {
    let (exporter, screen, _) = console();
    let batch = vec![
        // Parent never seen.
        span(TRACE, 2, 99, "chat gpt-4o", 10, 20),
        // Ends before it starts; a NaN cost and a negative count are ignored.
        span(TRACE, 3, 1, "backwards", 50, 40)
            .cost(f64::NAN)
            .attr(lt::RETRIEVAL_DOCUMENT_COUNT, -1)
            .attr(gen_ai::RESPONSE_TIME_TO_FIRST_CHUNK, -0.5),
        // A parent cycle, and its own parent.
        span(TRACE, 4, 5, "cycle a", 60, 70),
        span(TRACE, 5, 4, "cycle b", 61, 71),
        span(TRACE, 6, 6, "self parent", 80, 90),
        // Values of unexpected types, and text that would break the line.
        span(
            TRACE,
            7,
            1,
            "multi\nline\tname that goes on and on and on and on and on and on",
            100,
            110,
        )
        .attr(gen_ai::USAGE_INPUT_TOKENS, "1500")
        .attr(gen_ai::USAGE_OUTPUT_TOKENS, 12.0)
        .attr(oi::LLM_COST_TOTAL, "0.5")
        .failed("", "line one\nline two"),
        span(TRACE, 8, 1, "only output", 120, 130).attr(gen_ai::USAGE_OUTPUT_TOKENS, 9),
        span(TRACE, 1, 0, "root without workflow name", 0, 200),
    ];
    send(&exporter, batch);
    insta::assert_snapshot!(screen.take());
}

#[test]
fn remote_parent_makes_a_root() {
    let (exporter, screen, _) = console();
    let mut root = span(TRACE, 1, 77, "POST /answer", 0, 300);
    root.parent_span_is_remote = true;
    send(
        &exporter,
        vec![
            span(TRACE, 2, 1, "chat gpt-4o", 10, 290).usage(10, 10),
            root,
        ],
    );
    insta::assert_snapshot!(screen.take());
}

#[test]
fn a_span_under_a_foreign_parent_prints_as_the_root() {
    let (exporter, screen, _) = console();
    // The workflow's parent is an HTTP server's request span, which never reaches the console.
    send(
        &exporter,
        vec![
            span(TRACE, 2, 1, "chat gpt-4o", 10, 90).usage(10, 2),
            span(TRACE, 1, 77, "invoke_workflow answer", 0, 100)
                .workflow("answer")
                .attr(crate::semconv::keys::llmtrace::PARENT_EXTERNAL, true),
        ],
    );
    assert_eq!(
        screen.take(),
        "answer          100ms  10 in / 2 out tokens  (foreign parent)  trace 4bf92f3577b34da6\n\
         └─ chat gpt-4o   80ms  10 in / 2 out tokens\n"
    );
}

#[test]
fn missing_usage_and_price_are_marked() {
    let (exporter, screen, _) = console();
    send(
        &exporter,
        vec![
            span(TRACE, 2, 1, "chat gpt-4o", 0, 40)
                .usage(1200, 300)
                .cost(0.0122),
            span(TRACE, 3, 1, "chat local-llama", 40, 60).attr(lt::USAGE_MISSING, true),
            span(TRACE, 4, 1, "chat new-model", 60, 90)
                .usage(100, 10)
                .attr(lt::COST_UNPRICED, true),
            span(TRACE, 1, 0, "invoke_workflow answer", 0, 100).workflow("answer"),
        ],
    );
    insta::assert_snapshot!(screen.take());
}

#[test]
fn pending_traces_expire_without_new_traffic() {
    let (exporter, screen, clock) = console();
    send(&exporter, vec![span(TRACE, 2, 1, "chat gpt-4o", 0, 500)]);
    assert_eq!(screen.take(), "");
    // No batch comes; the timer (here called directly, as the exporter's timer and
    // `force_flush` do) prints the trace once it has waited too long.
    clock.set(30_000);
    exporter.expire_now();
    assert_eq!(screen.take(), "");
    clock.set(61_000);
    exporter.force_flush().unwrap();
    assert!(
        screen.take().starts_with("(incomplete: root not seen)"),
        "expired on flush"
    );
}

/// An evaluation result as the worker hands it to the console.
fn result(
    trace: u128,
    span: u64,
    name: &'static str,
    score: f64,
    label: &'static str,
) -> crate::record::EvaluationResult {
    crate::record::EvaluationResult {
        trace_id: trace,
        span_id: span,
        sampled: true,
        time: at(0),
        name: name.into(),
        score: Some(score),
        label: Some(label.into()),
        explanation: None,
        response_id: None,
    }
}

#[test]
fn evaluations_show_under_a_pending_trace_else_on_their_own_line() {
    let (exporter, screen, _) = console();
    let evaluations = exporter.evaluations();
    // A child ended, the root not yet: the result waits with the trace, under its tree.
    send(&exporter, vec![span(TRACE, 3, 1, "chat gpt-4o", 130, 1020)]);
    evaluations.show(&[result(TRACE, 3, "relevance", 0.82, "relevant")]);
    assert_eq!(screen.take(), "");
    // An event on the root itself shows there too.
    let mut root =
        span(TRACE, 1, 0, "invoke_workflow support_answer", 0, 2410).workflow("support_answer");
    root.events.events.push(opentelemetry::trace::Event::new(
        crate::semconv::keys::event::EVALUATION_RESULT,
        at(2400),
        vec![
            opentelemetry::KeyValue::new(gen_ai::EVALUATION_NAME, "format"),
            opentelemetry::KeyValue::new(gen_ai::EVALUATION_SCORE_VALUE, 1.0),
        ],
        0,
    ));
    send(&exporter, vec![root]);
    let printed = screen.take();
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 4, "{printed}");
    assert!(lines[0].starts_with("support_answer"), "{printed}");
    assert!(lines[1].starts_with("└─ chat gpt-4o"), "{printed}");
    assert_eq!(lines[2], "  ★ relevance 0.82 (relevant)");
    assert_eq!(lines[3], "  ★ format 1");

    // After the tree was printed: a line of its own, naming the root and the trace.
    evaluations.show(&[result(TRACE, 1, "user_feedback", 0.0, "thumbs_down")]);
    assert_eq!(
        screen.take(),
        "★ user_feedback 0 (thumbs_down)  on support_answer (trace 4bf92f3577b34da6)\n"
    );
    // A trace this console never saw (sampled out, or long gone).
    evaluations.show(&[result(OTHER_TRACE, 9, "relevance", 0.1, "irrelevant")]);
    let text = screen.take();
    assert!(
        text.starts_with("★ relevance 0.1 (irrelevant)  (trace ") && text.ends_with(")\n"),
        "{text}"
    );
}
