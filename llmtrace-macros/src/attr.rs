//! Parsing the macro's arguments: first the syntax (`key`, `key = value`, `key(...)`), then each
//! argument against the schema table, keeping the tokens so every error points at them.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Ident, Lit as SynLit, Token};

use crate::ctxt::{Ctxt, did_you_mean};
use crate::kind::{self, ArgSpec, ArgType, Flag, Kind, PROVIDERS, ParamList};
use crate::value::{CustomAttr, Lit, SynLitRef, Val, found, literal};

/// One argument as written.
pub(crate) struct RawArg {
    pub(crate) key: Ident,
    pub(crate) value: RawValue,
}

pub(crate) enum RawValue {
    /// `key`
    Flag,
    /// `key = expr`
    Assign(Expr),
    /// `key(tokens)`
    List(TokenStream, Span),
}

impl Parse for RawArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key = input.call(Ident::parse_any)?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            RawValue::Assign(input.parse()?)
        } else if input.peek(syn::token::Paren) {
            let content;
            let paren = syn::parenthesized!(content in input);
            RawValue::List(content.parse()?, paren.span.join())
        } else {
            RawValue::Flag
        };
        Ok(RawArg { key, value })
    }
}

pub(crate) fn parse_raw(args: TokenStream) -> syn::Result<Vec<RawArg>> {
    let parsed = Punctuated::<RawArg, Token![,]>::parse_terminated.parse2(args)?;
    Ok(parsed.into_iter().collect())
}

/// A schema argument's checked value.
pub(crate) struct ArgValue {
    pub(crate) spec: &'static ArgSpec,
    pub(crate) value: Val,
}

/// The checked arguments of one macro use.
pub(crate) struct Args {
    pub(crate) values: Vec<ArgValue>,
    pub(crate) custom: Vec<CustomAttr>,
    pub(crate) skip: Vec<Ident>,
    pub(crate) skip_key: Option<Ident>,
    /// Parameters captured as a redaction marker instead of their value.
    pub(crate) redact: Vec<Ident>,
    pub(crate) redact_key: Option<Ident>,
    pub(crate) skip_all: Option<Ident>,
    pub(crate) stream: Option<Ident>,
    pub(crate) output: Option<(bool, Ident)>,
    pub(crate) krate: Option<syn::Path>,
    /// `links = [a, b]`: each element, or the one expression given.
    pub(crate) links: Vec<Expr>,
    /// `documents(hits)`: the parameter holding a reranker's input documents.
    pub(crate) documents: Option<Ident>,
    /// Names given, with where they were given first.
    pub(crate) given: HashMap<String, Span>,
    /// Names suggested for unknown arguments (a typo of a required argument is not reported
    /// again as the argument missing).
    pub(crate) suggested: Vec<&'static str>,
}

impl Args {
    /// The expression given to an `ArgType::Expr` argument.
    pub(crate) fn expr(&self, name: &str) -> Option<&Expr> {
        self.values.iter().find_map(|v| match &v.value {
            Val::Expr(e) if v.spec.name == name => Some(e),
            _ => None,
        })
    }

    pub(crate) fn from_raw(kind: Kind, raw: Vec<RawArg>, cx: &Ctxt) -> Args {
        let mut args = Args {
            values: Vec::new(),
            custom: Vec::new(),
            skip: Vec::new(),
            skip_key: None,
            redact: Vec::new(),
            redact_key: None,
            skip_all: None,
            stream: None,
            output: None,
            krate: None,
            links: Vec::new(),
            documents: None,
            given: HashMap::new(),
            suggested: Vec::new(),
        };
        for arg in raw {
            let name = arg.key.unraw().to_string();
            let Some(spec) = kind::lookup(kind, &name) else {
                args.suggested
                    .extend(unknown_argument(kind, &arg.key, &name, cx));
                continue;
            };
            if args.given.contains_key(&name) {
                cx.error_spanned(
                    &arg.key,
                    format!("`{name}` is given more than once; remove all but one"),
                );
                continue;
            }
            args.given.insert(name, arg.key.span());
            args.take(kind, spec, arg, cx);
        }
        args
    }

    fn take(&mut self, kind: Kind, spec: &'static ArgSpec, arg: RawArg, cx: &Ctxt) {
        let RawArg { key, value } = arg;
        let name = spec.name;
        match (spec.ty, value) {
            // No wildcard: a new effect is applied here or does not compile.
            (ArgType::Flag(flag), RawValue::Flag) => match flag {
                Flag::SkipAll => self.skip_all = Some(key),
                Flag::Stream => self.stream = Some(key),
            },
            (ArgType::Flag(_), _) => cx.error_spanned(
                &key,
                format!("`{name}` takes no value; write just `{name}`"),
            ),
            (ArgType::Params(list), RawValue::List(tokens, _)) => {
                match Punctuated::<Ident, Token![,]>::parse_terminated.parse2(tokens) {
                    // No wildcard: a new list's effect is applied here or does not compile.
                    Ok(idents) => match list {
                        ParamList::Redact => {
                            self.redact.extend(idents);
                            self.redact_key = Some(key);
                        }
                        ParamList::Skip => {
                            self.skip.extend(idents);
                            self.skip_key = Some(key);
                        }
                        ParamList::Documents => {
                            let mut idents = idents.into_iter();
                            match (idents.next(), idents.next()) {
                                (Some(one), None) => self.documents = Some(one),
                                (None, _) => cx.error_spanned(
                                    &key,
                                    format!("`{name}(..)` takes the one parameter holding the documents: `{name}(hits)`"),
                                ),
                                (Some(_), Some(second)) => cx.error_spanned(
                                    &second,
                                    format!("`{name}(..)` takes one parameter, the one holding the documents; remove the others"),
                                ),
                            }
                        }
                    },
                    Err(e) => cx.error_at(
                        e.span(),
                        format!("`{name}(..)` takes parameter names, like `{name}(client, cache)`"),
                    ),
                }
            }
            (ArgType::Attributes, RawValue::List(tokens, _)) => {
                self.custom = crate::custom::parse(tokens, kind, cx);
            }
            (ArgType::Attributes, _) => cx.error_spanned(
                &key,
                format!("`{name}` takes a list: `{name}(app.tier = \"pro\", app.region = region)`"),
            ),
            (ArgType::Params(ParamList::Documents), _) => cx.error_spanned(
                &key,
                format!("`{name}` takes the parameter holding the documents, in parentheses; write `{name}(hits)`"),
            ),
            (ArgType::Params(_), _) => cx.error_spanned(
                &key,
                format!("`{name}` takes a list of parameter names: `{name}(client, cache)`"),
            ),
            (ArgType::Links, RawValue::Assign(Expr::Array(array))) => {
                self.links.extend(array.elems);
            }
            (ArgType::Links, RawValue::Assign(expr)) => self.links.push(expr),
            (ArgType::Links, _) => cx.error_spanned(
                &key,
                format!("`{name}` takes a list of trace contexts; write `{name} = [handoff, previous_attempt]`"),
            ),
            (ArgType::Path, RawValue::Assign(expr)) => match path_of(&expr) {
                Some(path) => self.krate = Some(path),
                None => cx.error_spanned(
                    &expr,
                    "`crate` takes a path to the runtime crate, like `crate = my_llmtrace`",
                ),
            },
            (ArgType::Switch, RawValue::Assign(expr)) => match literal(&expr) {
                Some(SynLitRef::Bool(b)) => self.output = Some((b, key)),
                _ => cx.error_spanned(
                    &expr,
                    format!(
                        "`{name}` takes `true` or `false` (a literal: it is decided at compile time); write `{name} = false`"
                    ),
                ),
            },
            (ArgType::Path | ArgType::Switch, _) => cx.error_spanned(
                &key,
                format!("`{name}` needs a value: `{name} = ...`"),
            ),
            (_, RawValue::Assign(expr)) => {
                if let Some(value) = check_value(kind, spec, &expr, cx) {
                    self.values.push(ArgValue { spec, value });
                }
            }
            (ArgType::Provider, RawValue::List(_, span)) => {
                // `provider(..)` is a common slip for `provider = custom(..)`.
                cx.error_at(
                    span,
                    format!("write `{name} = \"openai\"` (or `{name} = custom(\"my_provider\")`)"),
                );
            }
            (ty, _) => cx.error_spanned(
                &key,
                format!(
                    "`{name}` needs a value: `{name} = ...` ({})",
                    ty.describe()
                ),
            ),
        }
    }
}

/// Reports an unknown argument; returns the argument suggested instead, if any.
fn unknown_argument(kind: Kind, key: &Ident, name: &str, cx: &Ctxt) -> Option<&'static str> {
    let written = kind.written();
    if let Some((.., why)) = kind::REFUSED
        .iter()
        .find(|(k, arg, _)| *k == kind && *arg == name)
    {
        cx.error_spanned(
            key,
            format!("`{name}` is not an argument of {written}: {why}; remove it"),
        );
        return None;
    }
    let others = kind::kinds_accepting(name);
    if !others.is_empty() {
        let list: Vec<String> = others.iter().map(|k| k.written()).collect();
        let list = match list.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        };
        cx.error_spanned(
            key,
            format!("`{name}` belongs to {list}, not {written}; remove it here"),
        );
        return None;
    }
    let valid: Vec<&'static str> = kind.args().map(|a| a.name).collect();
    let suggestion = did_you_mean(name, valid.iter().copied());
    let hint = match suggestion {
        Some(s) => format!("did you mean `{s}`? "),
        None => String::new(),
    };
    cx.error_spanned(
        key,
        format!(
            "unknown argument `{name}` for {written}; {hint}the arguments are: {}",
            valid.join(", ")
        ),
    );
    suggestion
}

fn path_of(expr: &Expr) -> Option<syn::Path> {
    match expr {
        Expr::Path(p) if p.qself.is_none() => Some(p.path.clone()),
        Expr::Lit(ExprLit {
            lit: SynLit::Str(s),
            ..
        }) => s.parse().ok(),
        _ => None,
    }
}

/// Checks one `key = value` against its spec.
fn check_value(kind: Kind, spec: &'static ArgSpec, expr: &Expr, cx: &Ctxt) -> Option<Val> {
    let name = spec.name;
    if let ArgType::Expr(_) = spec.ty {
        // Any expression, a literal included: its type is checked by the compiler.
        return Some(Val::Expr(expr.clone()));
    }
    let Some(lit) = literal(expr) else {
        if let ArgType::Provider = spec.ty {
            if let Some(custom) = custom_provider(expr, cx) {
                return custom.map(|s| Val::Lit(Lit::Str(s)));
            }
        }
        if let ArgType::StrList = spec.ty {
            if let Expr::Array(array) = expr {
                return str_list(spec, array, cx).map(|l| Val::Lit(Lit::StrList(l)));
            }
        }
        if spec.ty.accepts_expr() {
            return Some(Val::Expr(expr.clone()));
        }
        cx.error_spanned(
            expr,
            format!(
                "`{name}` takes a literal, not an expression{}",
                choices(spec)
            ),
        );
        return None;
    };
    let mismatch = |expected: &str| {
        cx.error_spanned(
            expr,
            format!(
                "`{name}` expects {expected}, found {}{}",
                found(&lit),
                example(spec)
            ),
        );
        None
    };
    match (spec.ty, &lit) {
        (ArgType::Str, SynLitRef::Str(s)) => Some(Val::Lit(Lit::Str(s.clone()))),
        (ArgType::Str, _) => mismatch("a string"),
        (ArgType::Enum(values), SynLitRef::Str(s)) => {
            if let Some((.., instead)) = kind::MOVED
                .iter()
                .find(|(k, arg, value, _)| *k == kind && *arg == name && value == s)
            {
                cx.error_spanned(expr, instead);
                return None;
            }
            if values.contains(&s.as_str()) {
                Some(Val::Lit(Lit::Str(s.clone())))
            } else {
                let hint = did_you_mean(s, values.iter().copied())
                    .map(|v| format!("did you mean `\"{v}\"`? "))
                    .unwrap_or_default();
                cx.error_spanned(
                    expr,
                    format!(
                        "`{name}` cannot be \"{s}\"; {hint}use one of {}",
                        quoted(values)
                    ),
                );
                None
            }
        }
        (ArgType::Enum(values), _) => mismatch(&format!("a string: {}", choices_text(values))),
        (ArgType::Provider, SynLitRef::Str(s)) => {
            if PROVIDERS.contains(&s.as_str()) {
                return Some(Val::Lit(Lit::Str(s.clone())));
            }
            let hint = did_you_mean(s, PROVIDERS.iter().copied())
                .map(|v| format!("did you mean `\"{v}\"`? "))
                .unwrap_or_default();
            cx.error_spanned(
                expr,
                format!(
                    "\"{s}\" is not a well-known `gen_ai.provider.name`; {hint}the well-known names are: {}; \
                     for another provider write `{name} = custom(\"{s}\")`",
                    PROVIDERS.join(", ")
                ),
            );
            None
        }
        (ArgType::Provider, _) => mismatch("a provider name string"),
        (ArgType::Int { min, max }, SynLitRef::Int(i)) => {
            if *i < i128::from(min) || *i > i128::from(max) {
                cx.error_spanned(
                    expr,
                    format!(
                        "`{name}` must be {}, found {i}; use a value in that range",
                        range_text(min, max)
                    ),
                );
                None
            } else {
                Some(Val::Lit(Lit::Int(*i as i64)))
            }
        }
        (ArgType::Int { .. }, _) => mismatch("an integer"),
        (ArgType::Float { min, max }, SynLitRef::Float(_) | SynLitRef::Int(_)) => {
            let v = match lit {
                SynLitRef::Float(f) => f,
                SynLitRef::Int(i) => i as f64,
                _ => unreachable!("matched above"),
            };
            if v < min || v > max {
                cx.error_spanned(
                    expr,
                    format!(
                        "`{name}` must be between {min:?} and {max:?}, found {v:?}; use a value in that range"
                    ),
                );
                None
            } else {
                Some(Val::Lit(Lit::Float(v)))
            }
        }
        (ArgType::Float { .. }, _) => mismatch("a number"),
        (ArgType::StrList, _) => mismatch("a list of strings like `[\"a\", \"b\"]`"),
        (
            ArgType::Switch
            | ArgType::Params(_)
            | ArgType::Flag(_)
            | ArgType::Path
            | ArgType::Attributes
            | ArgType::Links
            | ArgType::Expr(_),
            _,
        ) => None,
    }
}

/// `custom("name")`: an explicit provider outside the well-known list. `Some(None)` when it is
/// malformed (an error was reported).
fn custom_provider(expr: &Expr, cx: &Ctxt) -> Option<Option<String>> {
    let Expr::Call(call) = expr else { return None };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    if !func.path.is_ident("custom") {
        return None;
    }
    match (call.args.len(), call.args.first().and_then(literal)) {
        (1, Some(SynLitRef::Str(s))) if !s.is_empty() => Some(Some(s)),
        _ => {
            cx.error_spanned(
                expr,
                "`custom(..)` takes the provider's name as a string literal; write `custom(\"my_provider\")`",
            );
            Some(None)
        }
    }
}

fn str_list(spec: &ArgSpec, array: &syn::ExprArray, cx: &Ctxt) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut ok = true;
    for elem in &array.elems {
        match literal(elem) {
            Some(SynLitRef::Str(s)) => out.push(s),
            _ => {
                ok = false;
                cx.error_spanned(
                    elem,
                    format!(
                        "`{}` takes a list of string literals, like `[\"END\", \"\\n\\n\"]`",
                        spec.name
                    ),
                );
            }
        }
    }
    ok.then_some(out)
}

fn range_text(min: i64, max: i64) -> String {
    match (min, max) {
        (i64::MIN, i64::MAX) => "an integer".into(),
        (min, i64::MAX) => format!("at least {min}"),
        (min, max) => format!("between {min} and {max}"),
    }
}

fn quoted(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
    quoted.join(", ")
}

fn choices_text(values: &[&str]) -> String {
    format!("expected one of {}", quoted(values))
}

fn choices(spec: &ArgSpec) -> String {
    match spec.ty {
        ArgType::Enum(values) => format!("; {}", choices_text(values)),
        _ => String::new(),
    }
}

fn example(spec: &ArgSpec) -> String {
    let name = spec.name;
    match spec.ty {
        ArgType::Str | ArgType::Provider => {
            format!("; write `{name} = \"...\"` or an expression of a string type")
        }
        ArgType::Int { .. } => format!("; write `{name} = 5` or an integer expression"),
        ArgType::Float { .. } => format!("; write `{name} = 0.7` or a number expression"),
        ArgType::StrList => format!("; write `{name} = [\"a\", \"b\"]` or a list expression"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::{ToTokens, quote};

    fn errors(kind: Kind, tokens: TokenStream) -> Vec<String> {
        let cx = Ctxt::default();
        let raw = parse_raw(tokens).expect("syntax");
        let _ = Args::from_raw(kind, raw, &cx);
        match cx.into_result() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn accepts_literals_and_expressions() {
        let e = errors(
            Kind::LlmCall,
            quote!(
                provider = "openai",
                model = req.model.as_str(),
                temperature = 0.3,
                max_tokens = 256,
                seed = -1,
                stop_sequences = ["END"]
            ),
        );
        assert!(e.is_empty(), "{e:?}");
    }

    #[test]
    fn reports_every_mistake() {
        let e = errors(
            Kind::LlmCall,
            quote!(
                provider = "opeanai",
                modle = "gpt-4o",
                temperature = "hot",
                max_tokens = 0,
                top_k = 1,
                top_k = 2
            ),
        );
        assert_eq!(e.len(), 5, "{e:?}");
        assert!(e[0].contains("did you mean `\"openai\"`"), "{}", e[0]);
        assert!(e[1].contains("did you mean `model`"), "{}", e[1]);
        assert!(
            e[2].contains("expects a number, found a string"),
            "{}",
            e[2]
        );
        assert!(e[3].contains("at least 1, found 0"), "{}", e[3]);
        assert!(e[4].contains("more than once"), "{}", e[4]);
    }

    #[test]
    fn names_the_kind_an_argument_belongs_to() {
        let e = errors(Kind::Tool, quote!(data_source = "kb"));
        assert_eq!(
            e,
            ["`data_source` belongs to `#[retrieval]`, not `#[tool]`; remove it here"]
        );
        let e = errors(Kind::Workflow, quote!(top_k = 3));
        assert_eq!(
            e,
            [
                "`top_k` belongs to `#[llm_call]`, `#[retrieval]` and `#[rerank]`, not `#[workflow]`; remove it here"
            ]
        );
    }

    #[test]
    fn out_of_range_and_custom_providers() {
        assert!(
            errors(Kind::LlmCall, quote!(temperature = 7.0))[0]
                .contains("between 0.0 and 2.0, found 7.0")
        );
        assert!(
            errors(
                Kind::LlmCall,
                quote!(provider = custom("acme"), model = "m")
            )
            .is_empty()
        );
        assert!(errors(Kind::LlmCall, quote!(provider = custom(1)))[0].contains("string literal"));
        assert!(errors(Kind::Retrieval, quote!(top_k = -1))[0].contains("at least 1"));
    }

    /// What each effect sets on `Args` (exhaustive, like the parser).
    fn effect(args: &Args, flag: Flag) -> Option<&Ident> {
        match flag {
            Flag::SkipAll => args.skip_all.as_ref(),
            Flag::Stream => args.stream.as_ref(),
        }
    }

    #[test]
    fn each_flag_sets_exactly_its_own_effect() {
        let mut used = Vec::new();
        for spec in kind::ARGS {
            let ArgType::Flag(own) = spec.ty else {
                continue;
            };
            assert!(Flag::ALL.contains(&own), "list {own:?} in `Flag::ALL`");
            used.push(own);
            for &kind in spec.kinds {
                let cx = Ctxt::default();
                let raw = parse_raw(Ident::new(spec.name, Span::call_site()).into_token_stream())
                    .expect("syntax");
                let args = Args::from_raw(kind, raw, &cx);
                assert!(cx.into_result().is_ok(), "`{}` on {kind:?}", spec.name);
                for flag in Flag::ALL {
                    assert_eq!(
                        effect(&args, flag).is_some(),
                        flag == own,
                        "`{}` on {kind:?}: {flag:?}",
                        spec.name
                    );
                }
                assert!(
                    args.values.is_empty()
                        && args.custom.is_empty()
                        && args.skip_key.is_none()
                        && args.redact_key.is_none()
                        && args.output.is_none()
                        && args.krate.is_none()
                        && args.links.is_empty()
                        && args.documents.is_none(),
                    "`{}` on {kind:?} sets more than its flag",
                    spec.name
                );
            }
        }
        // Every effect is some flag's: an effect no table entry names is dead.
        for flag in Flag::ALL {
            assert!(used.contains(&flag), "no flag in the table sets {flag:?}");
        }
    }

    #[test]
    fn links_and_moved_values() {
        let cx = Ctxt::default();
        let raw = parse_raw(quote!(links = [a, b.context()])).expect("syntax");
        let args = Args::from_raw(Kind::Agent, raw, &cx);
        assert!(cx.into_result().is_ok());
        assert_eq!(args.links.len(), 2);
        assert!(errors(Kind::Step, quote!(links = handoffs)).is_empty());
        assert!(errors(Kind::Tool, quote!(links(a)))[0].contains("write `links = ["));
        let e = errors(Kind::LlmCall, quote!(operation = "embeddings"));
        assert!(
            e[0].contains("`#[embeddings(provider = .., model = ..)]`"),
            "{e:?}"
        );
        assert!(errors(Kind::Rerank, quote!(documents(a, b)))[0].contains("takes one parameter"));
        assert!(errors(Kind::Rerank, quote!(documents = a))[0].contains("`documents(hits)`"));
    }

    #[test]
    fn flags_lists_and_switches() {
        assert!(errors(Kind::Tool, quote!(skip(a, b), output = false)).is_empty());
        assert!(errors(Kind::Tool, quote!(skip_all = true))[0].contains("takes no value"));
        assert!(errors(Kind::Tool, quote!(output = yes))[0].contains("`true` or `false`"));
        assert!(errors(Kind::Tool, quote!(skip = a))[0].contains("list of parameter names"));
    }
}
