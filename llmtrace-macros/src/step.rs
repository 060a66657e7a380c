//! `step!`: a block run as a span, going through the same schema table (`Kind::Step`) as the
//! attribute macros.
//!
//! ```text
//! step!("build_context", attributes(app.chunks = n), links = [handoff], { block })
//! step!("think", async move { .. })        // a future, instrumented as an `async fn` is
//! ```
//!
//! The first argument is the step's name (`name = ..`), the last the block; in between, the
//! step's arguments. The block runs as a closure (sync) or is the future (async): `?` and
//! `return` leave the step, not the enclosing function. Its value is the step's output, an `Err`
//! its error, as a function's return value is.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Token};

use crate::attr::{Args, RawArg, RawValue};
use crate::ctxt::Ctxt;
use crate::expand::{Locals, start, static_value};
use crate::kind::Kind;
use crate::value::Val;

/// The macro's input as written.
struct Input {
    args: Vec<RawArg>,
    body: Expr,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(syn::Error::new(
                input.span(),
                "`step!` takes the step's name and a block; write `step!(\"build_context\", { .. })`",
            ));
        }
        if input.peek(syn::token::Brace) || input.peek(Token![async]) {
            return Err(input.error(
                "`step!` takes the step's name first; add it: `step!(\"build_context\", { .. })`",
            ));
        }
        let name: Expr = input.parse()?;
        let mut args = vec![RawArg {
            key: Ident::new("name", name.span()),
            value: RawValue::Assign(name),
        }];
        loop {
            if input.is_empty() {
                // At the end of the input, `input.error` would start with "unexpected end of
                // input": the message says what to add.
                return Err(syn::Error::new(
                    input.span(),
                    "`step!` ends with the block to run; add it: `step!(\"build_context\", { .. })`",
                ));
            }
            input.parse::<Token![,]>()?;
            if input.peek(syn::token::Brace) || input.peek(Token![async]) {
                let body: Expr = input.parse()?;
                let _ = input.parse::<Option<Token![,]>>()?;
                if !input.is_empty() {
                    return Err(input.error("the block is the last argument of `step!`"));
                }
                return Ok(Input { args, body });
            }
            if !input.peek(syn::Ident::peek_any) {
                return Err(input.error(
                    "`step!` ends with the block to run, in braces; write `step!(\"build_context\", { .. })`",
                ));
            }
            args.push(input.parse()?);
        }
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let Input { args: raw, body } = match syn::parse2::<Input>(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let cx = Ctxt::default();
    let args = Args::from_raw(Kind::Step, raw, &cx);
    crate::valid::required(Kind::Step, &args, &cx);
    let is_async = matches!(body, Expr::Async(_));
    if !is_async && !matches!(body, Expr::Block(_)) {
        cx.error_spanned(
            &body,
            "`step!` runs a block: write it in braces, `{ .. }`, or as an `async { .. }` block",
        );
    }
    if let Err(errors) = cx.into_result() {
        let errors = errors.to_compile_error();
        // The block still stands for the value (run as the expansion runs it, in a closure), so
        // the code around it type-checks as written.
        return quote! {{ #errors (|| #body)() }};
    }
    expand_checked(&args, body, is_async)
}

fn expand_checked(args: &Args, body: Expr, is_async: bool) -> TokenStream {
    let root = match &args.krate {
        Some(path) => quote!(#path),
        None => quote!(::llmtrace_runtime),
    };
    let private = quote!(#root::__private);
    let l = Locals::new();
    let statics = args.values.iter().filter_map(|v| {
        let field = format_ident!("{}", v.spec.field?);
        let Val::Lit(lit) = &v.value else { return None };
        let value = static_value(lit, &private);
        Some(quote!((#private::Field::#field, #value)))
    });
    let custom = args.custom.iter().filter_map(|c| {
        let Val::Lit(lit) = &c.value else { return None };
        let (key, value) = (&c.key, static_value(lit, &private));
        Some(quote!((#key, #value)))
    });
    let output = args.output.as_ref().is_none_or(|(on, _)| *on);
    let options = if output {
        quote!(#private::CAPTURE_OUTPUT)
    } else {
        quote!(0)
    };
    let custom_keys = args.custom.iter().map(|c| &c.key);
    // The span is named after the step's name (a literal in the callsite, or evaluated at the
    // step); the callsite's own name is the macro's.
    let callsite = quote! {
        static __LLMTRACE_CALLSITE: #private::Callsite = #private::Callsite::new(
            #private::Kind::Step,
            "step",
            ::core::module_path!(),
            &[#(#statics),*],
            &[#(#custom),*],
            #options,
        )
        .with_tracing(#private::tracing_callsite!(Step, "step" #(, #custom_keys)*));
    };
    let start = start(args, &[], false, &root, &private, &l);
    let Locals { span, rec, ret, .. } = &l;
    let record_output = output.then(|| {
        quote! {
            if #private::capture_output() {
                (&&&&#private::ret::Ret(#ret)).__llmtrace_output(#rec, #private::Field::Output);
            }
        }
    });
    let capture = quote! {
        |#rec: &mut #private::Record, #ret: &_| {
            #[allow(unused_imports)]
            use #private::ret::{
                ErrorNone as _, ErrorViaDebug as _, ErrorViaDisplay as _, ErrorViaErrorType as _,
                OutputNone as _, OutputOk as _, OutputOkUnserializable as _, OutputSerialize as _,
            };
            (&&&&#private::ret::Ret(#ret)).__llmtrace_error(&mut #private::Target::Record(&mut *#rec));
            #record_output
        }
    };
    if is_async {
        let Expr::Async(block) = &body else {
            unreachable!("checked by `expand`");
        };
        // The step's future moves what the block moves, and borrows what it borrows.
        let capture_mode = &block.capture;
        quote! {
            async #capture_mode {
                #callsite
                #start
                #private::Instrumented::new(#span, #body, #capture).await
            }
        }
    } else {
        quote! {{
            #callsite
            #start
            #[allow(clippy::redundant_closure_call)]
            #private::call_sync(&mut #span, || #body, #capture)
        }}
    }
}
