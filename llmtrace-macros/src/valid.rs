//! Rules across arguments and the function: required arguments, `skip` of real parameters, and
//! options that contradict each other.

use proc_macro2::Span;

use crate::ast::Func;
use crate::attr::Args;
use crate::ctxt::Ctxt;
use crate::kind::Kind;

/// The required arguments not given, reported at the macro with an example of each.
pub(crate) fn required(kind: Kind, args: &Args, cx: &Ctxt) {
    let missing: Vec<&str> = kind
        .args()
        .filter(|a| a.required && !args.given.contains_key(a.name))
        .filter(|a| !args.suggested.contains(&a.name))
        .map(|a| a.name)
        .collect();
    if missing.is_empty() {
        return;
    }
    let list: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
    let example: Vec<String> = kind
        .args()
        .filter(|a| a.required)
        .map(|a| format!("{} = {}", a.name, example_value(kind, a.name)))
        .collect();
    let example = match kind {
        Kind::Step => "`step!(\"build_context\", { .. })`".to_owned(),
        _ => format!("`#[{}({})]`", kind.name(), example.join(", ")),
    };
    cx.error_at(
        Span::call_site(),
        format!(
            "{} needs {}; add it, for example {example}",
            kind.written(),
            list.join(" and ")
        ),
    );
}

/// A plausible value of a required argument, for messages.
fn example_value(kind: Kind, name: &str) -> &'static str {
    match (kind, name) {
        (_, "provider") => "\"openai\"",
        (Kind::Embeddings, "model") => "\"text-embedding-3-small\"",
        (Kind::Rerank, "model") => "\"rerank-v3.5\"",
        (_, "model") => "\"gpt-4o\"",
        _ => "\"...\"",
    }
}

pub(crate) fn check(kind: Kind, args: &Args, func: &Func, cx: &Ctxt) {
    required(kind, args, cx);

    let params: Vec<String> = func.params.iter().map(|p| p.ident.to_string()).collect();
    for (arg, named) in args
        .skip
        .iter()
        .map(|s| ("skip", s))
        .chain(args.redact.iter().map(|r| ("redact", r)))
    {
        if params.iter().any(|p| named == p) {
            continue;
        }
        let known = if params.is_empty() {
            "it has none".to_owned()
        } else {
            format!("its parameters are: {}", params.join(", "))
        };
        let name = named.to_string();
        let fix = match crate::ctxt::did_you_mean(&name, params.iter().map(String::as_str)) {
            Some(p) => format!("did you mean `{p}`?"),
            None => format!("remove it from `{arg}(..)`"),
        };
        cx.error_spanned(
            named,
            format!(
                "`{arg}` names `{named}`, which is not a parameter of `{}` ({known}); {fix}",
                func.sig.ident
            ),
        );
    }
    for redacted in &args.redact {
        if args.skip.contains(redacted) {
            cx.error_spanned(
                redacted,
                format!(
                    "`{redacted}` is both skipped and redacted: `skip` leaves it out, `redact` records a marker in its place; remove it from one of them"
                ),
            );
        }
    }
    if let (Some(_), Some(redact)) = (&args.skip_all, &args.redact_key) {
        cx.error_spanned(
            redact,
            "`redact(..)` has no effect next to `skip_all`, which captures no parameter; remove one of them",
        );
    }
    if let (Some(_), Some(skip)) = (&args.skip_all, &args.skip_key) {
        cx.error_spanned(
            skip,
            "`skip(..)` has no effect next to `skip_all`, which already captures no parameter; remove one of them",
        );
    }
    stream_and_usage(args, func, cx);
    match kind {
        Kind::Rerank => rerank_documents(args, func, cx),
        Kind::Guardrail if func.return_type().is_none() => cx.error_spanned(
            &func.sig.ident,
            format!(
                "`#[guardrail]` records whether the check passed from the value `{}` returns, and it returns nothing; \
                 add a return type: `-> bool`, or `-> llmtrace::Verdict` (`Verdict::fail(\"why\")`)",
                func.sig.ident
            ),
        ),
        _ => {}
    }
}

/// The parameter holding a reranker's input documents: the one `documents(..)` names, else the
/// one named `documents` or `candidates`.
pub(crate) fn rerank_documents_param<'a>(args: &'a Args, func: &'a Func) -> Option<&'a syn::Ident> {
    match &args.documents {
        Some(named) => func.params.iter().map(|p| &p.ident).find(|p| *p == named),
        None => func
            .params
            .iter()
            .map(|p| &p.ident)
            .find(|p| *p == "documents" || *p == "candidates"),
    }
}

fn rerank_documents(args: &Args, func: &Func, cx: &Ctxt) {
    let params: Vec<String> = func.params.iter().map(|p| p.ident.to_string()).collect();
    match &args.documents {
        Some(named) if rerank_documents_param(args, func).is_none() => {
            let fix = match crate::ctxt::did_you_mean(&named.to_string(), params.iter().map(String::as_str)) {
                Some(p) => format!("did you mean `{p}`?"),
                None => "name one of its parameters".to_owned(),
            };
            cx.error_spanned(
                named,
                format!(
                    "`documents` names `{named}`, which is not a parameter of `{}`; {fix}",
                    func.sig.ident
                ),
            );
        }
        Some(named) if args.skip.contains(named) => cx.error_spanned(
            named,
            format!("`{named}` holds the documents to rerank, which are recorded as documents; remove it from `skip(..)`"),
        ),
        Some(_) => {}
        // A `documents` given in the wrong form was reported as such.
        None if args.given.contains_key("documents") => {}
        None if rerank_documents_param(args, func).is_none() => cx.error_spanned(
            &func.sig.ident,
            format!(
                "`#[rerank]` records the documents it is given from a parameter named `documents` or `candidates`, \
                 and `{}` has none; add `documents(..)` naming the parameter that holds them, for example `#[rerank(model = \"..\", documents({}))]`",
                func.sig.ident,
                params
                    .iter()
                    .rev()
                    .find(|p| *p != "query")
                    .map_or("hits", String::as_str)
            ),
        ),
        None => {}
    }
}

/// `stream` and `usage` need a returned value, and do not combine.
fn stream_and_usage(args: &Args, func: &Func, cx: &Ctxt) {
    let usage = args.values.iter().find(|v| v.spec.name == "usage");
    let returns = func.return_type().is_some();
    if let Some(stream) = &args.stream {
        if !returns {
            cx.error_spanned(
                stream,
                format!(
                    "`stream` needs `{}` to return a stream (`impl Stream<Item = ..>`, `Pin<Box<dyn Stream<..>>>`, \
                     or a `Result` of one); remove `stream` or return the stream",
                    func.sig.ident
                ),
            );
        } else if func.track_caller {
            cx.error_spanned(
                stream,
                "`stream` cannot be combined with `#[track_caller]`: the span outlives the call; remove one of them",
            );
        }
        if usage.is_some() {
            if let Some(key) = args.given.get("usage") {
                cx.error_at(
                    *key,
                    "`usage = ..` reads a returned value, but with `stream` the chunks report usage \
                     (through `llmtrace::StreamChunk`); remove `usage`",
                );
            }
        }
    } else if usage.is_some() && !returns {
        if let Some(key) = args.given.get("usage") {
            cx.error_at(
                *key,
                format!(
                    "`usage = ..` reads the value `{}` returns, and it returns nothing; remove `usage` \
                     or record usage with `llmtrace::current().record_usage(..)`",
                    func.sig.ident
                ),
            );
        }
    }
}
