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
}
