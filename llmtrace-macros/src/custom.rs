//! Custom attributes: `attributes(app.tier = "pro", app.region = region)`.
//!
//! Keys are dotted lowercase names. They may not take over the namespaces llmtrace fills
//! (`llm.*`, `openinference.*`, `langfuse.*`, `llmtrace.*`), nor a key an argument sets; a
//! `gen_ai.*` key must be a registered, non-deprecated attribute given a value of its type.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, Ident, LitStr, Token};

use crate::ctxt::{Ctxt, did_you_mean};
use crate::kind::Kind;
use crate::registry::{self, AttrType};
use crate::value::{CustomAttr, Lit, SynLitRef, Val, found, literal};

/// Namespaces llmtrace fills itself.
const RESERVED: &[&str] = &["llm", "openinference", "langfuse", "llmtrace"];

/// Keys the OpenInference and Langfuse compatibility layers set.
const RESERVED_KEYS: &[&str] = &[
    "input.value",
    "input.mime_type",
    "output.value",
    "output.mime_type",
    "session.id",
    "user.id",
    "tag.tags",
    "metadata",
];

struct Entry {
    key: String,
    key_span: Span,
    value: Expr,
}

fn parse_entry(input: ParseStream<'_>) -> syn::Result<Entry> {
    let (key, key_span) = if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        (lit.value(), lit.span())
    } else {
        let first = input.call(Ident::parse_any)?;
        let mut key = first.to_string();
        let mut span = first.span();
        while input.peek(Token![.]) {
            input.parse::<Token![.]>()?;
            let seg = input.call(Ident::parse_any)?;
            key.push('.');
            key.push_str(&seg.to_string());
            span = span.join(seg.span()).unwrap_or(span);
        }
        (key, span)
    };
    input.parse::<Token![=]>()?;
    Ok(Entry {
        key,
        key_span,
        value: input.parse()?,
    })
}

/// Parses and checks `attributes(..)`.
pub(crate) fn parse(tokens: TokenStream, kind: Kind, cx: &Ctxt) -> Vec<CustomAttr> {
    let parser = |input: ParseStream<'_>| {
        syn::punctuated::Punctuated::<Entry, Token![,]>::parse_terminated_with(input, parse_entry)
    };
    let entries = match parser.parse2(tokens) {
        Ok(e) => e,
        Err(e) => {
            cx.error_at(
                e.span(),
                "write custom attributes as `key = value` pairs: `attributes(app.tier = \"pro\", app.region = region)`",
            );
            return Vec::new();
        }
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for entry in entries {
        if !seen.insert(entry.key.clone()) {
            cx.error_at(
                entry.key_span,
                format!(
                    "custom attribute `{}` is given more than once; remove all but one",
                    entry.key
                ),
            );
            continue;
        }
        if let Some(attr) = check(kind, entry, cx) {
            out.push(attr);
        }
    }
    out
}

fn well_formed(key: &str) -> bool {
    let segments: Vec<&str> = key.split('.').collect();
    segments.len() >= 2
        && segments.iter().all(|s| {
            let mut chars = s.chars();
            chars.next().is_some_and(|c| c.is_ascii_lowercase())
                && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

fn check(kind: Kind, entry: Entry, cx: &Ctxt) -> Option<CustomAttr> {
    let Entry {
        key,
        key_span,
        value,
    } = entry;
    if !well_formed(&key) {
        cx.error_at(
            key_span,
            format!(
                "`{key}` is not a custom attribute key: use a dotted lowercase name with a namespace, like `app.tier` \
                 (lowercase letters, digits and `_` between the dots)"
            ),
        );
        return None;
    }
    let namespace = key.split('.').next().unwrap_or_default();
    if RESERVED.contains(&namespace) || RESERVED_KEYS.contains(&key.as_str()) {
        let rest = key.split_once('.').map_or(key.as_str(), |(_, r)| r);
        cx.error_at(
            key_span,
            format!(
                "`{key}` is reserved: llmtrace sets the `{namespace}` keys itself; \
                 use a namespace of your own, like `app.{rest}`"
            ),
        );
        return None;
    }
    if let Some(arg) = kind.args().find(|a| a.keys.contains(&key.as_str())) {
        cx.error_at(
            key_span,
            format!(
                "`{key}` is set by the `{}` argument of `#[{}]`; write `{} = ...` instead",
                arg.name,
                kind.name(),
                arg.name
            ),
        );
        return None;
    }
    let registered = if namespace == "gen_ai" {
        match registry::lookup(&key) {
            Some(r) if r.deprecated => {
                cx.error_at(
                    key_span,
                    format!("`{key}` is deprecated in the GenAI conventions; it cannot be set as a custom attribute"),
                );
                return None;
            }
            Some(r) if r.ty == AttrType::Other => {
                cx.error_at(
                    key_span,
                    format!("`{key}` holds structured content llmtrace records itself; it cannot be set as a custom attribute"),
                );
                return None;
            }
            Some(r) => Some(r.ty),
            None => {
                let names: Vec<&str> = registry::all()
                    .filter(|r| !r.deprecated)
                    .map(|r| r.name)
                    .collect();
                let hint = did_you_mean(&key, names.iter().copied())
                    .map(|n| format!("did you mean `{n}`? "))
                    .unwrap_or_default();
                cx.error_at(
                    key_span,
                    format!(
                        "`{key}` is not a registered GenAI attribute; {hint}`gen_ai.*` keys must be registered ones \
                         (use a namespace of your own for other attributes, like `app.{}`)",
                        key.trim_start_matches("gen_ai.")
                    ),
                );
                return None;
            }
        }
    } else {
        None
    };
    let value = value_of(&key, registered, &value, cx)?;
    Some(CustomAttr {
        key,
        value,
        expr_trait: registered.map_or("AttrArg", AttrType::expr_trait),
    })
}

/// The value, checked against the registered type when there is one.
fn value_of(key: &str, registered: Option<AttrType>, expr: &Expr, cx: &Ctxt) -> Option<Val> {
    if let Expr::Array(array) = expr {
        let mut items = Vec::new();
        for elem in &array.elems {
            match literal(elem) {
                Some(SynLitRef::Str(s)) => items.push(s),
                _ => {
                    cx.error_spanned(
                        elem,
                        format!(
                            "`{key}`: a list value holds string literals, like `[\"a\", \"b\"]`"
                        ),
                    );
                    return None;
                }
            }
        }
        if registered.is_some_and(|t| t != AttrType::StringArray) {
            cx.error_spanned(expr, mismatch(key, registered, "a list of strings"));
            return None;
        }
        return Some(Val::Lit(Lit::StrList(items)));
    }
    let Some(lit) = literal(expr) else {
        return Some(Val::Expr(expr.clone()));
    };
    let value = match &lit {
        SynLitRef::Str(s) => Lit::Str(s.clone()),
        SynLitRef::Int(i) => match i64::try_from(*i) {
            Ok(i) => Lit::Int(i),
            Err(_) => {
                cx.error_spanned(
                    expr,
                    format!("`{key}`: {i} does not fit a signed 64-bit integer"),
                );
                return None;
            }
        },
        SynLitRef::Float(f) => Lit::Float(*f),
        SynLitRef::Bool(b) => Lit::Bool(*b),
        SynLitRef::Other => {
            cx.error_spanned(
                expr,
                format!("`{key}` takes a string, number or bool literal, or an expression"),
            );
            return None;
        }
    };
    let fits = matches!(
        (registered, &value),
        (None, _)
            | (Some(AttrType::String), Lit::Str(_))
            | (Some(AttrType::Int), Lit::Int(_))
            | (Some(AttrType::Double), Lit::Float(_) | Lit::Int(_))
            | (Some(AttrType::Boolean), Lit::Bool(_))
    );
    if !fits {
        cx.error_spanned(expr, mismatch(key, registered, found(&lit)));
        return None;
    }
    // A registered double given as an integer literal is still a double.
    if let (Some(AttrType::Double), Lit::Int(i)) = (registered, &value) {
        return Some(Val::Lit(Lit::Float(*i as f64)));
    }
    Some(Val::Lit(value))
}

fn mismatch(key: &str, registered: Option<AttrType>, found: &str) -> String {
    let expected = registered.map_or("a value", AttrType::describe);
    format!("`{key}` is {expected} in the GenAI conventions, found {found}; use {expected}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn errors(tokens: TokenStream) -> (usize, Vec<String>) {
        let cx = Ctxt::default();
        let attrs = parse(tokens, Kind::LlmCall, &cx);
        let errs = match cx.into_result() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        };
        (attrs.len(), errs)
    }

    #[test]
    fn accepts_namespaced_keys_and_registered_genai_keys() {
        let (n, e) = errors(quote!(
            app.tier = "pro",
            app.retries = 3,
            app.beta = true,
            "team.owner" = owner,
            gen_ai.conversation.compacted = true,
            gen_ai.request.previous_response.id = prev
        ));
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(n, 6);
    }

    #[test]
    fn rejects_malformed_reserved_and_mistyped_keys() {
        let (_, e) = errors(quote!(
            Tier = "x",
            tier = "x",
            llm.model_name = "x",
            langfuse.user.id = "x",
            gen_ai.request.model = "x",
            gen_ai.system = "x",
            gen_ai.agent.nam = "x",
            gen_ai.embeddings.dimension.count = "7",
            app.a = 1,
            app.a = 2
        ));
        assert_eq!(e.len(), 9, "{e:?}");
        assert!(e[0].contains("dotted lowercase"));
        assert!(e[1].contains("dotted lowercase"));
        assert!(e[2].contains("reserved"));
        assert!(e[3].contains("reserved"));
        assert!(e[4].contains("set by the `model` argument"));
        assert!(e[5].contains("deprecated"));
        assert!(e[6].contains("did you mean `gen_ai.agent.name`"));
        assert!(e[7].contains("is an integer in the GenAI conventions, found a string"));
        assert!(e[8].contains("more than once"));
    }
}
