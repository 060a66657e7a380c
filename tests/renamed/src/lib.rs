//! Instrumented functions compiled against a renamed runtime (found by name or given as
//! `crate = path`), in edition 2024, inside a module
//! without the implicit prelude: the expansion must use only absolute paths.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

/// Functions whose expansions see no prelude.
#[allow(missing_docs)]
pub mod bare {
    #![no_implicit_prelude]

    #[::tracer::llm_call(crate = ::tracer, provider = "openai", model = "gpt-4o")]
    pub fn chat(
        prompt: &str,
    ) -> ::std::result::Result<::std::string::String, ::std::string::String> {
        if prompt.is_empty() {
            return ::std::result::Result::Err(::std::string::ToString::to_string("empty"));
        }
        ::std::result::Result::Ok(::std::string::ToString::to_string(prompt))
    }

    // No `crate = path`: the attribute finds the runtime under its name in Cargo.toml.
    #[::tracer::llm_call(provider = "openai", model = "gpt-4o-mini")]
    pub fn chat_found_by_name(prompt: &str) -> ::std::string::String {
        ::std::string::ToString::to_string(prompt)
    }

    #[::tracer::tool(crate = "::tracer", name = "lookup")]
    pub async fn lookup(id: u32) -> ::std::option::Option<u32> {
        ::std::option::Option::Some(id + 1)
    }

    #[::tracer::agent(crate = ::tracer, name = "planner", links = [handoff])]
    pub fn plan(topic: &str, handoff: &::tracer::TraceContext) -> ::std::string::String {
        let _ = ::tracer::step!("think", crate = ::tracer, { topic.len() });
        let texts = [topic];
        let _ = embed(&texts);
        let _ = rerank(::std::vec::Vec::new());
        let _ = check(topic);
        ::std::string::ToString::to_string(topic)
    }

    #[::tracer::embeddings(crate = ::tracer, provider = "openai", model = "text-embedding-3-small")]
    pub fn embed(texts: &[&str]) -> ::std::vec::Vec<::std::vec::Vec<f32>> {
        ::std::iter::Iterator::collect(::std::iter::Iterator::map(
            texts.iter(),
            |_| ::std::vec![0.5_f32; 2],
        ))
    }

    #[::tracer::rerank(crate = ::tracer, model = "rerank-v3.5")]
    pub fn rerank(
        documents: ::std::vec::Vec<::std::string::String>,
    ) -> ::std::vec::Vec<::std::string::String> {
        documents
    }

    #[::tracer::guardrail(crate = ::tracer)]
    pub async fn check_async(text: &str) -> bool {
        !text.is_empty()
    }

    #[::tracer::guardrail(crate = ::tracer)]
    pub fn check(text: &str) -> ::std::result::Result<::tracer::Verdict, ::std::string::String> {
        ::std::result::Result::Ok(if text.is_empty() {
            ::tracer::Verdict::fail("empty")
        } else {
            ::tracer::Verdict::pass()
        })
    }

    pub async fn think(topic: &str) -> usize {
        ::tracer::step!("think_async", crate = ::tracer, async { topic.len() }).await
    }
}
