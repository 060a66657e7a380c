//! Attribute macros of llmtrace. Use them through `llmtrace-runtime`, which re-exports them; this
//! crate is an implementation detail.
//!
//! Each entry point runs the same engine: parse the arguments against the schema table
//! (`kind.rs`), parse the function (`ast.rs`), check the rules that span both (`valid.rs`), then
//! generate the instrumented function (`expand.rs`), or, when anything is wrong, emit the
//! function unchanged with every error (`fallback.rs`).

mod ast;
mod attr;
mod ctxt;
mod custom;
#[cfg(test)]
mod docs;
mod expand;
mod fallback;
mod kind;
mod krate;
mod registry;
mod step;
mod stream;
mod valid;
mod value;

use proc_macro::TokenStream;

use kind::Kind;

#[doc = include_str!("../docs/workflow.md")]
#[proc_macro_attribute]
pub fn workflow(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument(Kind::Workflow, args, item)
}

#[doc = include_str!("../docs/llm_call.md")]
#[proc_macro_attribute]
pub fn llm_call(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument(Kind::LlmCall, args, item)
}

#[doc = include_str!("../docs/retrieval.md")]
#[proc_macro_attribute]
pub fn retrieval(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument(Kind::Retrieval, args, item)
}

#[doc = include_str!("../docs/tool.md")]
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument(Kind::Tool, args, item)
}

#[doc = include_str!("../docs/agent.md")]
#[proc_macro_attribute]
pub fn agent(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument(Kind::Agent, args, item)
}

#[doc = include_str!("../docs/embeddings.md")]
#[proc_macro_attribute]
pub fn embeddings(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument(Kind::Embeddings, args, item)
}

#[doc = include_str!("../docs/rerank.md")]
#[proc_macro_attribute]
pub fn rerank(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument(Kind::Rerank, args, item)
}

#[doc = include_str!("../docs/guardrail.md")]
#[proc_macro_attribute]
pub fn guardrail(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument(Kind::Guardrail, args, item)
}

#[doc = include_str!("../docs/evaluator.md")]
#[proc_macro_attribute]
pub fn evaluator(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument(Kind::Evaluator, args, item)
}

#[doc = include_str!("../docs/step.md")]
#[proc_macro]
pub fn step(input: TokenStream) -> TokenStream {
    step::expand(input.into()).into()
}

fn instrument(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    expand_attribute(kind, args.into(), item.into()).into()
}

/// Parse, validate, expand; on any error, the item unchanged plus all errors.
fn expand_attribute(
    kind: Kind,
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let cx = ctxt::Ctxt::default();
    let raw = attr::parse_raw(args).unwrap_or_else(|e| {
        cx.push(e);
        Vec::new()
    });
    let args = attr::Args::from_raw(kind, raw, &cx);
    let func = ast::Func::parse(kind, item.clone(), &cx);
    if let Some(func) = &func {
        valid::check(kind, &args, func, &cx);
    }
    // `crate = path` wins; otherwise the runtime under the name the crate's manifest gives it.
    let root = match &args.krate {
        Some(path) => Some(quote::quote!(#path)),
        None => krate::runtime_root().map_err(|e| cx.push(e)).ok(),
    };
    match (cx.into_result(), func, root) {
        (Ok(()), Some(func), Some(root)) => expand::expand(kind, &args, func, root),
        (Err(errors), _, _) => fallback::item_with_errors(item, errors),
        (Ok(()), _, _) => item,
    }
}
