//! Agents handing off to agents, fully offline (a deterministic mock model, no API key, no
//! network): a planner agent hands the research to a researcher agent, a child of its span, and
//! the write-up to a writer agent in a trace of its own, linked back to the planner.
//!
//! The researcher embeds the question, retrieves papers, reranks them, builds its context in a
//! step, asks the model, fetches a page with a tool (the first fetch times out and is retried,
//! the retry linked to the failed attempt) and checks its answer with a guardrail. Every kind
//! llmtrace has is in the two trees it prints:
//!
//! ```text
//! research_report                        (workflow)
//! └─ invoke_agent planner                (AGENT: its own calls counted, not the researcher's)
//!    ├─ chat gpt-4o
//!    └─ invoke_agent researcher          (AGENT)
//!       ├─ embeddings text-embedding-3-small   (EMBEDDING: the text, never the vectors)
//!       ├─ retrieval papers                    (RETRIEVER)
//!       ├─ rerank rerank-v3.5                  (RERANKER: scores before and after)
//!       ├─ build_context                       (CHAIN: a block span)
//!       ├─ chat gpt-4o-mini
//!       ├─ execute_tool fetch_page             ✗ timed out
//!       ├─ execute_tool fetch_page             ↻ attempt 2  ↗ retry of the failed one
//!       ├─ chat gpt-4o-mini
//!       └─ guardrail cites_its_sources         (GUARDRAIL)
//! invoke_agent writer                    ↗ linked to the planner's trace
//! ├─ chat gpt-4o
//! └─ guardrail no_unsupported_claims     ⚠ failed: not a span error
//! ```
//!
//! ```sh
//! cargo run -p llmtrace-examples --bin research_agent
//! ```
//!
//! With nothing configured, the trees are printed on stderr and the spans are written to
//! `./llmtrace-traces.jsonl`; with `OTEL_EXPORTER_OTLP_ENDPOINT` set they go to that collector
//! (Phoenix shows the AGENT, RERANKER, EMBEDDING and GUARDRAIL kinds).

use std::collections::HashSet;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use llmtrace::step::Tool;
use llmtrace::{TraceContext, Verdict};
use llmtrace_runtime as llmtrace;
use serde::Serialize;

/// A paper in the (in-memory) index.
#[derive(Clone, Debug, Serialize)]
struct Paper {
    id: &'static str,
    score: f64,
    content: &'static str,
}

const PAPERS: [(&str, &str); 5] = [
    (
        "tides-01",
        "Tides are driven by the Moon's gravity and, to a lesser extent, the Sun's.",
    ),
    (
        "tides-02",
        "Spring tides occur when the Sun and Moon align, neap tides at right angles.",
    ),
    (
        "moon-07",
        "The Moon is slowly receding from the Earth, by about 3.8 cm a year.",
    ),
    (
        "ocean-11",
        "Ocean currents are driven by wind, temperature and salinity.",
    ),
    (
        "tides-05",
        "Tidal friction slows the Earth's rotation, lengthening the day.",
    ),
];

/// What the mock model answered, and the tokens it took.
#[derive(Debug, Serialize)]
struct Completion {
    text: String,
    #[serde(skip)]
    model: &'static str,
    #[serde(skip)]
    prompt_tokens: u64,
    #[serde(skip)]
    completion_tokens: u64,
}

/// How llmtrace reads a response: usage (priced from the genai-prices database) and the model
/// that answered.
impl llmtrace::LlmResponse for Completion {
    fn usage(&self) -> Option<llmtrace::Usage> {
        Some(llmtrace::Usage::new(
            self.prompt_tokens,
            self.completion_tokens,
        ))
    }

    fn response_model(&self) -> Option<&str> {
        Some(self.model)
    }

    fn finish_reasons(&self) -> Vec<&str> {
        vec!["stop"]
    }
}

/// Tokens in a text, as a tokenizer would roughly count them.
fn tokens(text: &str) -> u64 {
    (text.split_whitespace().count() as u64 * 4).div_ceil(3)
}

/// The mock model: deterministic, offline.
async fn complete(model: &'static str, prompt: &str, answer: String) -> Completion {
    let (input, output) = (tokens(prompt) + 12, tokens(&answer));
    tokio::time::sleep(Duration::from_millis(10 + input / 8 + output)).await;
    Completion {
        text: answer,
        model,
        prompt_tokens: input,
        completion_tokens: output,
    }
}

#[derive(Debug)]
enum ResearchError {
    Timeout { url: String, attempt: TraceContext },
}

impl fmt::Display for ResearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResearchError::Timeout { url, .. } => write!(f, "timed out fetching {url}"),
        }
    }
}

impl std::error::Error for ResearchError {}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", temperature = 0.2)]
async fn plan(topic: &str) -> Completion {
    let text = format!("1. find sources on {topic}; 2. summarize the mechanism; 3. write it up");
    complete("gpt-4o-2024-08-06", topic, text).await
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o-mini", max_tokens = 256)]
async fn ask(prompt: &str) -> Completion {
    let answer = if prompt.contains("page:") {
        "The Moon's gravity raises two tidal bulges [tides-01]; the Sun modulates them into spring and neap tides [tides-02].".to_owned()
    } else {
        "fetch https://example.org/tides for the details".to_owned()
    };
    complete("gpt-4o-mini-2024-07-18", prompt, answer).await
}

#[llmtrace::embeddings(provider = "openai", model = "text-embedding-3-small")]
async fn embed(texts: &[&str]) -> Result<Embedded, ResearchError> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    Ok(Embedded {
        vectors: texts.iter().map(|t| pseudo_vector(t)).collect(),
        prompt_tokens: texts.iter().map(|t| tokens(t)).sum(),
    })
}

/// The embeddings API's response: the vectors (never recorded) and the tokens read.
struct Embedded {
    vectors: Vec<Vec<f32>>,
    prompt_tokens: u64,
}

impl llmtrace::LlmResponse for Embedded {
    fn usage(&self) -> Option<llmtrace::Usage> {
        Some(llmtrace::Usage::new(self.prompt_tokens, 0))
    }
}

impl llmtrace::EmbeddingVectors for Embedded {
    fn count(&self) -> usize {
        self.vectors.len()
    }

    fn dimension(&self) -> Option<usize> {
        self.vectors.first().map(Vec::len)
    }
}

/// A deterministic stand-in for an embedding: letter frequencies.
fn pseudo_vector(text: &str) -> Vec<f32> {
    let mut v = [0.0_f32; 26];
    for c in text.to_lowercase().bytes().filter(u8::is_ascii_lowercase) {
        v[usize::from(c - b'a')] += 1.0;
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1.0);
    v.iter().map(|x| x / norm).collect()
}

fn similarity(a: &[f32], b: &[f32]) -> f64 {
    f64::from(a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>())
}

#[llmtrace::retrieval(data_source = "papers", top_k = 4, skip(query_vector))]
async fn search(query_vector: &[f32], topic: &str) -> Vec<Paper> {
    tokio::time::sleep(Duration::from_millis(8)).await;
    let mut hits: Vec<Paper> = PAPERS
        .iter()
        .map(|(id, content)| Paper {
            id,
            score: (similarity(query_vector, &pseudo_vector(content)) * 1000.0).round() / 1000.0,
            content,
        })
        .collect();
    hits.sort_by(|a, b| b.score.total_cmp(&a.score));
    hits.truncate(4);
    let _ = topic;
    hits
}

/// A cross-encoder stand-in: papers about tides first.
#[llmtrace::rerank(model = "rerank-v3.5", provider = "cohere", top_k = 2, query = topic)]
async fn rerank(topic: &str, candidates: Vec<Paper>) -> Vec<Paper> {
    tokio::time::sleep(Duration::from_millis(6)).await;
    let mut ranked: Vec<Paper> = candidates
        .into_iter()
        .map(|p| Paper {
            score: if p.content.to_lowercase().contains(topic) {
                0.9 + p.score / 10.0
            } else {
                p.score / 4.0
            },
            ..p
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
    ranked.truncate(2);
    ranked
}

/// Pages that time out on the first fetch (a flaky network, deterministic here).
static FETCHED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

#[llmtrace::tool(name = "fetch_page", description = "Fetch a web page", skip(retry_of))]
async fn fetch_page(url: &str, retry_of: Option<&TraceContext>) -> Result<String, ResearchError> {
    if let Some(failed) = retry_of {
        // The span says which attempt it is and links to the one that failed.
        llmtrace::current().retry_of(failed);
    }
    tokio::time::sleep(Duration::from_millis(12)).await;
    let first = FETCHED
        .lock()
        .unwrap()
        .get_or_insert_with(HashSet::new)
        .insert(url.to_owned());
    if first {
        return Err(ResearchError::Timeout {
            url: url.into(),
            attempt: llmtrace::current().context(),
        });
    }
    Ok("page: tidal bulges, spring and neap tides".into())
}

/// Fetches a page, retrying once after a timeout.
async fn fetch_with_retry(url: &str) -> Result<String, ResearchError> {
    match fetch_page(url, None).await {
        Err(ResearchError::Timeout { attempt, .. }) => fetch_page(url, Some(&attempt)).await,
        other => other,
    }
}

#[llmtrace::guardrail(name = "cites_its_sources")]
fn cites_sources(answer: &str, sources: &[Paper]) -> Verdict {
    match sources.iter().find(|p| !answer.contains(p.id)) {
        Some(missing) => Verdict::fail(format!("does not cite {}", missing.id)),
        None => Verdict::pass(),
    }
}

#[llmtrace::guardrail(name = "no_unsupported_claims")]
fn no_unsupported_claims(report: &str) -> Verdict {
    if report.contains("always") {
        Verdict::fail("claims 'always' without a source")
    } else {
        Verdict::pass()
    }
}

#[llmtrace::agent(
    name = "researcher",
    description = "Finds and reads sources",
    version = "1.2"
)]
async fn researcher(topic: &str) -> Result<String, ResearchError> {
    let query = embed(&[topic]).await?;
    let papers = search(&query.vectors[0], topic).await;
    let best = rerank(topic, papers).await;
    // A step inside the function: the context the model is given.
    let context = llmtrace::step("build_context")
        .attribute("app.papers", best.len())
        .in_scope(|| {
            best.iter()
                .map(|p| format!("[{}] {}", p.id, p.content))
                .collect::<Vec<_>>()
                .join("\n")
        });
    let first = ask(&format!("{topic}\n{context}")).await;
    let url = first
        .text
        .trim_start_matches("fetch ")
        .split(' ')
        .next()
        .unwrap_or("");
    let page = fetch_with_retry(url).await?;
    let answer = ask(&format!("{topic}\n{context}\n{page}")).await.text;
    let _ = cites_sources(&answer, &best);
    Ok(answer)
}

#[llmtrace::agent(name = "writer", description = "Writes the report", links = [handoff], skip(handoff))]
async fn writer(topic: &str, findings: &str, handoff: &TraceContext) -> String {
    let report = draft(topic, findings).await.text;
    let _ = no_unsupported_claims(&report);
    // A tool step: the write-up is saved, as a tool call of the writer's.
    llmtrace::step("save_report")
        .kind(Tool::new().description("Save the report"))
        .in_scope(|| report.len());
    report
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", temperature = 0.7)]
async fn draft(topic: &str, findings: &str) -> Completion {
    let text = format!("Report on {topic}: {findings} The Moon always wins.");
    complete("gpt-4o-2024-08-06", findings, text).await
}

#[llmtrace::agent(name = "planner", description = "Plans the research and the write-up")]
async fn planner(topic: &str) -> Result<String, ResearchError> {
    let steps = plan(topic).await;
    // Handoff to a sub-agent: a child of this span, whose calls count for it, not for us.
    let findings = researcher(topic).await?;
    // Handoff to an agent that works in a trace of its own, linked back to this span.
    let here = llmtrace::current().context();
    let report = here
        .new_trace()
        .instrument(writer(topic, &findings, &here))
        .await;
    Ok(format!("{}\n\n{report}", steps.text))
}

#[llmtrace::workflow(name = "research_report")]
async fn research_report(topic: &str) -> Result<String, ResearchError> {
    planner(topic).await
}

#[tokio::main]
async fn main() {
    let _guard = llmtrace::init().service_name("research-agent").install();
    let topic = "tides";
    let report = llmtrace::scope()
        .session_id("research-1")
        .user_id("analyst-3")
        .instrument(research_report(topic))
        .await;
    match report {
        Ok(r) => println!("{r}"),
        Err(e) => println!("failed: {e}"),
    }
}
