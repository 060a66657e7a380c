//! Code generation. Every path is absolute through the runtime's hidden `__private` module
//! (the runtime under the name the crate's manifest gives it, unless `crate = path` says otherwise); generated locals are hygienic
//! (`Span::mixed_site`), so the body cannot see or shadow them.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident};

use crate::ast::{Func, Shape, async_trait_inner};
use crate::attr::{ArgValue, Args};
use crate::kind::{ArgType, Kind};
use crate::value::{Lit, Val};

/// Names of generated locals.
pub(crate) struct Locals {
    pub(crate) span: Ident,
    pub(crate) rec: Ident,
    pub(crate) ret: Ident,
    input: Ident,
    entered: Ident,
    fut: Ident,
    label: syn::Lifetime,
}

impl Locals {
    pub(crate) fn new() -> Self {
        let s = Span::mixed_site();
        Locals {
            span: Ident::new("__llmtrace_span", s),
            rec: Ident::new("__llmtrace_rec", s),
            ret: Ident::new("__llmtrace_ret", s),
            input: Ident::new("__llmtrace_input", s),
            entered: Ident::new("__llmtrace_entered", s),
            fut: Ident::new("__llmtrace_fut", s),
            label: syn::Lifetime::new("'__llmtrace_body", s),
        }
    }
}

/// The instrumented function; `root` is the path of the runtime crate (see `krate.rs`).
pub(crate) fn expand(kind: Kind, args: &Args, func: Func, root: TokenStream) -> TokenStream {
    let private = quote!(#root::__private);
    let l = Locals::new();
    // With `messages = ..`, the messages are the call's input: parameters are not captured.
    // A reranker's input documents are recorded as documents, not among the parameters.
    let documents = match kind {
        Kind::Rerank => crate::valid::rerank_documents_param(args, &func).cloned(),
        _ => None,
    };
    let captured: Vec<&Ident> = if args.skip_all.is_some() || args.expr("messages").is_some() {
        Vec::new()
    } else {
        func.params
            .iter()
            .filter(|p| !p.secret && !args.skip.contains(&p.ident))
            .filter(|p| documents.as_ref() != Some(&p.ident))
            .map(|p| &p.ident)
            .collect()
    };
    let callsite = callsite(kind, args, &func, &private, !captured.is_empty());
    let tallied = matches!(
        kind,
        Kind::LlmCall | Kind::Embeddings | Kind::Tool | Kind::Agent
    );
    let mut start = start(args, &captured, tallied, &root, &private, &l);
    start.extend(kind_start(kind, documents.as_ref(), &root, &private, &l));
    let (capture, tallies) = capture_closure(kind, args, &func, &root, &private, &l);
    // Sampled-out calls of these functions still count in the metrics: their capture closure
    // records into the span's record or the call's tally.
    let (call_sync, instrumented_new, finish) = if tallies {
        (
            quote!(call_sync_tallying),
            quote!(Instrumented::tallying),
            quote!(finish_tallying),
        )
    } else {
        (
            quote!(call_sync),
            quote!(Instrumented::new),
            quote!(finish_capture),
        )
    };
    let Func {
        attrs,
        vis,
        sig,
        block,
        shape,
        track_caller,
        ..
    } = &func;
    let span = &l.span;

    let stream_wrap = match (&args.stream, func.return_type()) {
        (Some(_), Some(ty)) => Some(crate::stream::wrap_closure(ty, &root, &private)),
        _ => None,
    };
    let body = match shape {
        Shape::Sync if stream_wrap.is_some() => {
            let ret_ty = closure_return_type(&func);
            quote! {
                #callsite
                #start
                #private::stream::call_sync(&mut #span, move || #ret_ty #block, #stream_wrap)
            }
        }
        Shape::Async if stream_wrap.is_some() => {
            let inner = annotated_body(&func, block, &l);
            let fut = &l.fut;
            quote! {
                #callsite
                #start
                #[allow(clippy::async_yields_async)]
                let #fut = async move #inner;
                #private::stream::InstrumentedStream::new(#span, #fut, #stream_wrap).await
            }
        }
        Shape::Sync if *track_caller => {
            // A closure would hide the caller's location from `#[track_caller]`: keep the body in
            // place, turning its `return`s and `?`s into breaks out of a labeled block so the
            // return value is still recorded.
            let mut block = (**block).clone();
            ReturnToBreak {
                label: &l.label,
                root: &root,
            }
            .visit_block_mut(&mut block);
            let label = &l.label;
            let ret = &l.ret;
            let entered = &l.entered;
            let ret_ty = func
                .return_type()
                .filter(|_| !func.returns_impl_trait())
                .map(|ty| quote!(: #ty));
            quote! {
                #callsite
                #start
                #span.end_on_early_return();
                let #ret #ret_ty = {
                    let #entered = #span.enter_scope();
                    #label: #block
                };
                #[allow(unreachable_code)]
                #span.#finish(#capture, &#ret);
                #[allow(unreachable_code)]
                #ret
            }
        }
        Shape::Sync => {
            let ret_ty = closure_return_type(&func);
            quote! {
                #callsite
                #start
                #private::#call_sync(&mut #span, move || #ret_ty #block, #capture)
            }
        }
        Shape::Async => {
            let inner = annotated_body(&func, block, &l);
            let fut = &l.fut;
            quote! {
                #callsite
                #start
                // The body is `async move { body }`, which clippy flags when the function itself
                // returns a future (a `JoinHandle`, say): that is the function's signature, not
                // a missing `.await`.
                #[allow(clippy::async_yields_async)]
                let #fut = async move #inner;
                #private::#instrumented_new(#span, #fut, #capture).await
            }
        }
        Shape::AsyncTrait => {
            let mut block = (**block).clone();
            let Some(syn::Stmt::Expr(Expr::Call(call), None)) = block.stmts.last_mut() else {
                unreachable!("shape checked by ast::async_trait_inner");
            };
            let inner = async_trait_inner_owned(call);
            let instrumented = match &stream_wrap {
                Some(wrap) => {
                    quote!(#private::stream::InstrumentedStream::new(#span, #inner, #wrap).await)
                }
                None => quote!(#private::#instrumented_new(#span, #inner, #capture).await),
            };
            call.args = syn::parse_quote! {
                async move {
                    #callsite
                    #start
                    #instrumented
                }
            };
            let stmts = &block.stmts;
            quote!(#(#stmts)*)
        }
    };

    quote! {
        #(#attrs)*
        #vis #sig {
            #body
        }
    }
}

fn async_trait_inner_owned(call: &syn::ExprCall) -> syn::ExprAsync {
    let block = syn::Block {
        brace_token: Default::default(),
        stmts: vec![syn::Stmt::Expr(Expr::Call(call.clone()), None)],
    };
    async_trait_inner(&block)
        .cloned()
        .expect("shape checked by ast::async_trait_inner")
}

/// `-> R` for the closure that runs a sync body: with the declared return type on it, what the
/// body returns is coerced to that type (`Box<dyn Error>`, `Box<dyn Fn()>`) as in the function
/// itself (`impl Trait` becomes `_`, which a closure cannot name).
fn closure_return_type(func: &Func) -> TokenStream {
    func.return_type()
        .map(|ty| {
            let ty = crate::stream::inferable(ty);
            quote!(-> #ty)
        })
        .unwrap_or_default()
}

/// `{ let __ret: R = { body }; __ret }` so the async block's output type is known where the
/// capture closure needs it (not possible for `impl Trait` returns, which are left as they are).
fn annotated_body(func: &Func, block: &syn::Block, l: &Locals) -> TokenStream {
    match func.return_type() {
        Some(ty) => {
            // `impl Trait` cannot annotate a `let`; `_` in its place keeps the rest (the error
            // type `?` converts into, say).
            let ty = crate::stream::inferable(ty);
            let ret = &l.ret;
            quote!({
                let #ret: #ty = #block;
                #[allow(unreachable_code)]
                #ret
            })
        }
        None => quote!(#block),
    }
}

/// The `static` describing this function: kind, name and literal arguments.
fn callsite(
    kind: Kind,
    args: &Args,
    func: &Func,
    private: &TokenStream,
    capture_input: bool,
) -> TokenStream {
    let kind_variant = format_ident!("{}", kind.runtime_variant());
    let fn_name = func.sig.ident.to_string();
    let fn_name = fn_name.trim_start_matches("r#");
    let statics = args.values.iter().filter_map(|v| {
        let field = format_ident!("{}", v.spec.field?);
        let Val::Lit(lit) = &v.value else { return None };
        let value = static_value(lit, private);
        Some(quote!((#private::Field::#field, #value)))
    });
    let stream = args
        .stream
        .as_ref()
        .map(|_| quote!((#private::Field::Stream, #private::Value::Bool(true))));
    // An agent is named after its function unless it says otherwise (a literal default, so the
    // callsite's request attributes stay cached).
    let agent_name = (kind == Kind::Agent && !args.given.contains_key("name"))
        .then(|| quote!((#private::Field::AgentName, #private::Value::Str(#fn_name))));
    let statics = statics.chain(stream).chain(agent_name);
    let custom = args.custom.iter().filter_map(|c| {
        let Val::Lit(lit) = &c.value else { return None };
        let (key, value) = (&c.key, static_value(lit, private));
        Some(quote!((#key, #value)))
    });
    let mut options = Vec::new();
    if capture_input {
        options.push(quote!(#private::CAPTURE_INPUT));
    }
    if output_enabled(kind, args, func) {
        options.push(quote!(#private::CAPTURE_OUTPUT));
    }
    // A hosted agent or reranker (one given a provider) is a CLIENT span.
    if matches!(kind, Kind::Agent | Kind::Rerank) && args.given.contains_key("provider") {
        options.push(quote!(#private::HOSTED));
    }
    let options = if options.is_empty() {
        quote!(0)
    } else {
        quote!(#(#options)|*)
    };
    // Every custom key is a field of the `tracing` callsite too (the runtime declares the
    // schema's keys and decides, by its features, whether there is one).
    let custom_keys = args.custom.iter().map(|c| &c.key);
    quote! {
        static __LLMTRACE_CALLSITE: #private::Callsite = #private::Callsite::new(
            #private::Kind::#kind_variant,
            #fn_name,
            ::core::module_path!(),
            &[#(#statics),*],
            &[#(#custom),*],
            #options,
        )
        .with_tracing(#private::tracing_callsite!(#kind_variant, #fn_name #(, #custom_keys)*));
    }
}

/// A literal as a `Value` constant.
pub(crate) fn static_value(lit: &Lit, private: &TokenStream) -> TokenStream {
    match lit {
        Lit::Str(s) => quote!(#private::Value::Str(#s)),
        Lit::Int(i) => {
            let i = Literal::i64_suffixed(*i);
            quote!(#private::Value::I64(#i))
        }
        Lit::Float(f) => {
            let f = Literal::f64_suffixed(*f);
            quote!(#private::Value::F64(#f))
        }
        Lit::Bool(b) => quote!(#private::Value::Bool(#b)),
        Lit::StrList(items) => quote!(#private::Value::StrList(&[#(#items),*])),
    }
}

fn output_enabled(kind: Kind, args: &Args, func: &Func) -> bool {
    kind.output_field().is_some()
        && func.return_type().is_some()
        && args.output.as_ref().is_none_or(|(on, _)| *on)
}

/// What a kind records once the span has started and its arguments are recorded: a reranker's
/// input documents; an agent or an evaluator opens its scope for the spans inside it.
fn kind_start(
    kind: Kind,
    documents: Option<&Ident>,
    root: &TokenStream,
    private: &TokenStream,
    l: &Locals,
) -> TokenStream {
    let Locals { span, rec, .. } = l;
    match (kind, documents) {
        (Kind::Agent, _) => quote! {
            #span.begin_agent();
        },
        (Kind::Evaluator, _) => quote! {
            #span.begin_evaluator();
        },
        (Kind::Rerank, Some(documents)) => {
            // Spanned at the parameter: documents that cannot be recorded are reported there.
            let record = quote_spanned! {documents.span()=>
                #root::schema::RetrievalOutput::record(
                    (&&&&&#root::schema::documents::Ret(&#documents)).__llmtrace_documents(),
                    #rec,
                );
            };
            quote! {
                if let ::core::option::Option::Some(#rec) = #span.recording() {
                    if #private::capture_output() {
                        #[allow(unused_imports)]
                        use #root::schema::documents::{
                            OkDocuments as _, OkSerialize as _, ValueOther as _, ValueSerialize as _,
                            VecDocuments as _,
                        };
                        #record
                        #root::schema::record_input_documents(#rec);
                    }
                }
            }
        }
        _ => quote!(),
    }
}

/// Whether the tally of a sampled-out call keeps this field (the runtime's `Tally::keeps`, but
/// the cost, which no argument sets): the metrics' attributes read it. A test checks the two
/// lists agree.
fn counted_field(field: &str) -> bool {
    matches!(
        field,
        "Provider"
            | "Model"
            | "Operation"
            | "ServerAddress"
            | "ServerPort"
            | "ToolType"
            | "AgentName"
            | "Name"
    )
}

/// Starts the span; when it records, evaluates expression arguments and captures parameters.
/// For a kind whose sampled-out calls are `tallied` (counted in the metrics), the expression
/// arguments the metrics read are evaluated into the tally too; a span that is off or sampled
/// out without metrics evaluates none.
pub(crate) fn start(
    args: &Args,
    captured: &[&Ident],
    tallied: bool,
    root: &TokenStream,
    private: &TokenStream,
    l: &Locals,
) -> TokenStream {
    let Locals {
        span, rec, input, ..
    } = l;
    let target = Ident::new("__llmtrace_args", Span::mixed_site());
    // An expression argument, set on `into` (the record, or the record or tally); spanned at
    // the expression, so a type mismatch is reported there.
    let set = |v: &&ArgValue, into: &Ident| {
        let field = format_ident!("{}", v.spec.field?);
        let Val::Expr(expr) = &v.value else {
            return None;
        };
        let conv = format_ident!("{}", v.spec.ty.expr_trait());
        Some(quote_spanned! {expr.span()=>
            #into.set_opt(#private::Field::#field, #root::schema::#conv::to_value(&(#expr)));
        })
    };
    let (counted, recorded): (Vec<&ArgValue>, Vec<&ArgValue>) = args
        .values
        .iter()
        .filter(|v| !matches!(v.spec.ty, ArgType::Expr(_)))
        .partition(|v| tallied && v.spec.field.is_some_and(counted_field));
    let counted: Vec<TokenStream> = counted.iter().filter_map(|v| set(v, &target)).collect();
    let dynamic: Vec<TokenStream> = recorded
        .iter()
        .filter_map(|v| set(v, rec))
        .chain(args.custom.iter().filter_map(|c| {
            let Val::Expr(expr) = &c.value else {
                return None;
            };
            let (key, conv) = (&c.key, format_ident!("{}", c.expr_trait));
            Some(quote_spanned! {expr.span()=>
                #rec.set_attribute(#key, #root::schema::#conv::to_value(&(#expr)));
            })
        }))
        .chain(args.links.iter().map(|expr| {
            // Spanned at the expression: a value that is not a trace context is reported there.
            quote_spanned! {expr.span()=>
                #root::schema::LinkArg::__llmtrace_links(&(#expr), #rec);
            }
        }))
        .chain(args.expr("messages").map(|expr| {
            // A call of the trait's own method, spanned at the expression: a value that is not
            // messages is reported there, with `Messages`' message (a generic function's bound
            // would also point into the runtime's sources).
            quote_spanned! {expr.span()=>
                #root::Messages::__llmtrace_record_input(&(#expr), #rec);
            }
        }))
        .collect();
    let input_capture = if captured.is_empty() {
        quote!()
    } else {
        // Spanned at the parameter: a type that is not `Serialize` does not implement
        // `SpanInput`, and the error points at the parameter with that trait's message.
        let fields = captured.iter().map(|ident| {
            let name = ident.to_string();
            let name = name.trim_start_matches("r#");
            if args.redact.contains(ident) {
                return quote!(#input.redacted(#name););
            }
            quote_spanned! {ident.span()=>
                #root::schema::SpanInput::__llmtrace_write_to(&#ident, &mut #input, #name);
            }
        });
        // The names in the order the fields are written, as a promoted `'static` slice.
        let names = captured.iter().map(|ident| {
            let name = ident.to_string();
            name.trim_start_matches("r#").to_owned()
        });
        quote! {
            if #private::capture_input(&__LLMTRACE_CALLSITE) {
                let mut #input = #private::InputWriter::named(&[#(#names),*]);
                #(#fields)*
                #input.finish(#rec);
            }
        }
    };
    let record = if !counted.is_empty() {
        quote! {
            if let ::core::option::Option::Some(mut #target) = #span.target() {
                #(#counted)*
                if let ::core::option::Option::Some(#rec) = #target.record() {
                    #(#dynamic)*
                    #input_capture
                }
            }
        }
    } else if dynamic.is_empty() && captured.is_empty() {
        quote!()
    } else {
        quote! {
            if let ::core::option::Option::Some(#rec) = #span.recording() {
                #(#dynamic)*
                #input_capture
            }
        }
    };
    quote! {
        let mut #span = #private::Span::start(&__LLMTRACE_CALLSITE);
        #record
    }
}

/// The closure that records the return value (output and error) into the record; and whether
/// it also reads a sampled-out call's tally (model calls and tools: their metrics count every
/// call), taking a `Target` rather than the record.
fn capture_closure(
    kind: Kind,
    args: &Args,
    func: &Func,
    root: &TokenStream,
    private: &TokenStream,
    l: &Locals,
) -> (TokenStream, bool) {
    let Locals { rec, ret, .. } = l;
    if func.return_type().is_none() {
        return (quote!(|_: &mut #private::Record, _: &_| {}), false);
    }
    let tallies = matches!(kind, Kind::LlmCall | Kind::Embeddings | Kind::Tool);
    let target = Ident::new("__llmtrace_target", Span::mixed_site());
    // The return type, when it can be written, pins the closure's argument type: method
    // resolution below picks impls by that type, so it must be known here, not inferred later.
    let ret_ty = match func.return_type() {
        Some(ty) if !func.returns_impl_trait() => quote!(#ty),
        _ => quote!(_),
    };
    let messages = Ident::new("__llmtrace_messages", Span::mixed_site());
    let model_call = matches!(kind, Kind::LlmCall | Kind::Embeddings);
    let (response, vectors) = if model_call {
        // An embeddings call's response gives usage and the model, never output messages.
        let content = if kind == Kind::LlmCall && output_enabled(kind, args, func) {
            quote!(#private::capture_output())
        } else {
            quote!(false)
        };
        let read = match args.expr("usage") {
            // The closure runs on the value (its `Ok` value for a `Result`); what it returns is
            // recorded through `LlmResponse`'s own method, spanned at the closure, so a closure
            // returning something else is reported there.
            Some(usage) => {
                // Located at the closure (hygiene stays the macro's): the error points there.
                let response = Ident::new(
                    "__llmtrace_response",
                    Span::mixed_site().located_at(usage.span()),
                );
                let read = quote_spanned! {usage.span()=>
                    (&&#private::ret::Ret(#ret)).read_usage(#usage)
                };
                let record = quote_spanned! {usage.span()=>
                    #root::LlmResponse::__llmtrace_record(&#response, &mut #target, #content)
                };
                quote! {
                    let #messages = match #read {
                        ::core::option::Option::Some(#response) => #record,
                        ::core::option::Option::None => false,
                    };
                }
            }
            None => quote! {
                let #messages = (&&&#private::ret::Ret(#ret)).__llmtrace_response(&mut #target, #content);
            },
        };
        let vectors = (kind == Kind::Embeddings).then(|| {
            quote! {
                let _ = #messages;
                #[allow(unused_imports)]
                use #root::schema::vectors::{NoVectors as _, OkVectors as _, ValueVectors as _};
                (&&#root::schema::vectors::Ret(#ret)).__llmtrace_vectors(#rec);
            }
        });
        (read, vectors)
    } else {
        (quote!(), None)
    };
    let verdict = (kind == Kind::Guardrail).then(|| {
        // The verdict must be readable: an error here points at the return type.
        let ty = func
            .return_type()
            .map_or_else(|| func.sig.ident.span(), Spanned::span);
        let record = quote_spanned! {ty=>
            #root::schema::GuardrailReturn::record(
                (&&&#root::schema::guardrail::Ret(#ret)).__llmtrace_verdict(),
                #rec,
                #private::capture_output(),
            );
        };
        quote! {
            #[allow(unused_imports)]
            use #root::schema::guardrail::{
                OkOutcome as _, OutcomeOther as _, ValueOutcome as _,
            };
            #record
        }
    });
    let not_messages = (kind == Kind::LlmCall).then(|| quote!(!#messages &&));
    let output = match (output_enabled(kind, args, func), kind) {
        (false, _) => quote!(),
        // The documents must be recordable: an error here points at the return type.
        (true, Kind::Retrieval | Kind::Rerank) => {
            let ty = func
                .return_type()
                .map_or_else(|| func.sig.ident.span(), Spanned::span);
            let record = quote_spanned! {ty=>
                #root::schema::RetrievalOutput::record(
                    (&&&&&#root::schema::documents::Ret(#ret)).__llmtrace_documents(),
                    #rec,
                );
            };
            quote! {
                if #private::capture_output() {
                    #[allow(unused_imports)]
                    use #root::schema::documents::{
                        OkDocuments as _, OkSerialize as _, ValueOther as _, ValueSerialize as _,
                        VecDocuments as _,
                    };
                    #record
                }
            }
        }
        (true, _) => {
            let field = format_ident!("{}", kind.output_field().unwrap_or("Output"));
            // Output messages, when the response gave them, are the output.
            quote! {
                if #not_messages #private::capture_output() {
                    (&&&&#private::ret::Ret(#ret)).__llmtrace_output(#rec, #private::Field::#field);
                }
            }
        }
    };
    let imports = quote! {
        #[allow(unused_imports)]
        use #private::ret::{
            ErrorNone as _, ErrorViaDebug as _, ErrorViaDisplay as _, ErrorViaErrorType as _,
            OutputNone as _, OutputOk as _, OutputOkUnserializable as _, OutputSerialize as _,
            ResponseNone as _, ResponseOk as _, ResponseValue as _,
        };
        #[allow(unused_imports)]
        use #root::schema::{UsageFromOk as _, UsageFromValue as _};
    };
    if tallies {
        // The error and the response go to either target; the rest only to a record.
        let closure = quote! {
            |mut #target: #private::Target<'_>, #ret: &#ret_ty| {
                #imports
                (&&&&#private::ret::Ret(#ret)).__llmtrace_error(&mut #target);
                #response
                if let ::core::option::Option::Some(#rec) = #target.record() {
                    #vectors
                    #verdict
                    #output
                }
            }
        };
        return (closure, true);
    }
    let closure = quote! {
        |#rec: &mut #private::Record, #ret: &#ret_ty| {
            #imports
            (&&&&#private::ret::Ret(#ret))
                .__llmtrace_error(&mut #private::Target::Record(&mut *#rec));
            #response
            #vectors
            #verdict
            #output
        }
    };
    (closure, false)
}

/// Rewrites `return e` into `break 'label e` and `e?` into a match that breaks with the error,
/// in the function's own body only (not in closures, async blocks or nested items).
struct ReturnToBreak<'a> {
    label: &'a syn::Lifetime,
    root: &'a TokenStream,
}

impl VisitMut for ReturnToBreak<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => return,
            Expr::Return(r) => {
                if let Some(e) = &mut r.expr {
                    self.visit_expr_mut(e);
                }
                let label = self.label;
                let value = r.expr.take().map_or_else(|| quote!(()), |e| quote!(#e));
                *expr = syn::parse_quote!(break #label #value);
                return;
            }
            Expr::Try(t) => {
                self.visit_expr_mut(&mut t.expr);
                let label = self.label;
                let root = self.root;
                let inner = &t.expr;
                // The paths carry the user's tokens' spans, so every obligation they bring (a
                // call's and its signature's) is reported there, once: a value `?` does not apply
                // to at the value, an error the return type cannot hold at the `?`. (A path from
                // the crate root resolves the same with either span.)
                let branch = with_span(quote!(#root::schema::QuestionMark::branch), inner.span());
                let branch = quote_spanned!(inner.span()=> #branch(#inner));
                let at_mark = with_span(quote!(#root::schema), t.question_token.span);
                *expr = syn::parse_quote_spanned! {t.question_token.span=>
                    match #branch {
                        ::core::ops::ControlFlow::Continue(v) => v,
                        ::core::ops::ControlFlow::Break(r) => {
                            break #label #at_mark::QuestionMarkReturn::from_residual(r)
                        }
                    }
                };
                return;
            }
            _ => {}
        }
        visit_mut::visit_expr_mut(self, expr);
    }

    fn visit_item_mut(&mut self, _item: &mut syn::Item) {
        // Nested items have their own `return`s.
    }
}

/// `tokens` with every span set to `span`.
fn with_span(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut t| {
            if let proc_macro2::TokenTree::Group(g) = &t {
                let mut group = proc_macro2::Group::new(g.delimiter(), with_span(g.stream(), span));
                group.set_span(span);
                t = proc_macro2::TokenTree::Group(group);
            } else {
                t.set_span(span);
            }
            t
        })
        .collect()
}

#[cfg(test)]
mod tests {
    /// The arguments evaluated into a sampled-out call's tally are the fields the runtime's
    /// tally keeps: one more here would be evaluated and thrown away, one fewer would leave the
    /// metrics without it.
    #[test]
    fn counted_fields_are_those_a_tally_keeps() {
        for field in llmtrace_runtime::Field::ALL {
            let name = format!("{field:?}");
            assert_eq!(
                super::counted_field(&name),
                llmtrace_runtime::__private::tally_keeps(field),
                "`Field::{name}`: `counted_field` and `Tally::keeps` disagree"
            );
        }
    }
}
