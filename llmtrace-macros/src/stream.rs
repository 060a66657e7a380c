//! Code generation for `#[llm_call(stream)]`: the span moves into the returned stream instead of
//! ending when the function returns. Which wrapper applies is read from the declared return
//! type, since an `impl Stream` cannot be named and a named type must be returned as declared.

use proc_macro2::TokenTree;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Ident, Type};

/// `|value, span| ..`: moves `span` into the stream `value` (of type `ty`), or ends it with the
/// error when `value` is an `Err`.
pub(crate) fn wrap_closure(ty: &Type, root: &TokenStream, private: &TokenStream) -> TokenStream {
    let value = Ident::new("__llmtrace_value", Span::mixed_site());
    let span = Ident::new("__llmtrace_span", Span::mixed_site());
    let body = wrap(ty, &value, &span, root, private);
    quote! {
        |#value, #span: #private::Span| #body
    }
}

fn wrap(
    ty: &Type,
    value: &Ident,
    span: &Ident,
    root: &TokenStream,
    private: &TokenStream,
) -> TokenStream {
    match ty {
        Type::Paren(p) => wrap(&p.elem, value, span, root, private),
        Type::Group(g) => wrap(&g.elem, value, span, root, private),
        // Cannot be named: wrap it, the wrapper is an `impl Stream` too (an item type that is
        // no chunk is then reported at the return type).
        Type::ImplTrait(_) => quote! {
            #private::stream::attach(#value, #span)
        },
        _ => match result_ok_type(ty) {
            Some(ok) => {
                let stream = Ident::new("__llmtrace_stream", Span::mixed_site());
                let error = Ident::new("__llmtrace_error", Span::mixed_site());
                let result = Ident::new("__llmtrace_result", Span::mixed_site());
                let rec = Ident::new("__llmtrace_rec", Span::mixed_site());
                let inner = wrap(ok, &stream, span, root, private);
                quote! {
                    match #value {
                        ::core::result::Result::Ok(#stream) => ::core::result::Result::Ok(#inner),
                        ::core::result::Result::Err(#error) => {
                            // Recorded like any returned error: through the same impls.
                            let #result: ::core::result::Result<(), _> =
                                ::core::result::Result::Err(#error);
                            let mut #span = #span;
                            #span.finish_with(|#rec| {
                                #[allow(unused_imports)]
                                use #private::ret::{
                                    ErrorNone as _, ErrorViaDebug as _, ErrorViaDisplay as _,
                                    ErrorViaErrorType as _,
                                };
                                (&&&&#private::ret::Ret(&#result)).__llmtrace_error(&mut #private::Target::Record(&mut *#rec));
                            });
                            match #result {
                                ::core::result::Result::Err(#error) => {
                                    ::core::result::Result::Err(#error)
                                }
                                ::core::result::Result::Ok(()) => ::core::unreachable!(),
                            }
                        }
                    }
                }
            }
            // A named stream type: returned as declared, with the span inside. Every token is
            // located at the return type, so a type that cannot be traced is reported there.
            None => respan(
                quote! {
                    #root::stream::StreamReturn::attach_span(#value, #span)
                },
                ty.span(),
            ),
        },
    }
}

/// `tokens`, each located at `at` (name resolution unchanged).
fn respan(tokens: TokenStream, at: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut t| {
            if let TokenTree::Group(g) = &t {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), at));
                group.set_span(g.span().located_at(at));
                t = TokenTree::Group(group);
            } else {
                t.set_span(t.span().located_at(at));
            }
            t
        })
        .collect()
}

/// `T` in `Result<T, E>` (any path ending in `Result` with a first type argument:
/// `io::Result<T>`, `anyhow::Result<T>`).
fn result_ok_type(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// `ty` with every `impl Trait` replaced by `_`, so it can annotate a `let` or a closure.
pub(crate) fn inferable(ty: &Type) -> Type {
    struct Infer;
    impl VisitMut for Infer {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(i) = ty {
                *ty = Type::Infer(syn::TypeInfer {
                    attrs: Vec::new(),
                    underscore_token: syn::Token![_](i.impl_token.span),
                });
                return;
            }
            visit_mut::visit_type_mut(self, ty);
        }
    }
    let mut ty = ty.clone();
    Infer.visit_type_mut(&mut ty);
    ty
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impl_trait_becomes_inferred() {
        let ty: Type = syn::parse_quote!(Result<impl Stream<Item = u8> + Send, io::Error>);
        let out = inferable(&ty);
        assert_eq!(
            quote!(#out).to_string(),
            quote!(Result<_, io::Error>).to_string()
        );
    }

    #[test]
    fn finds_result_ok_types() {
        let ty: Type = syn::parse_quote!(anyhow::Result<BoxStream<'static, u8>>);
        let ok = result_ok_type(&ty).unwrap();
        assert_eq!(
            quote!(#ok).to_string(),
            quote!(BoxStream<'static, u8>).to_string()
        );
        let ty: Type = syn::parse_quote!(Pin<Box<dyn Stream<Item = u8>>>);
        assert!(result_ok_type(&ty).is_none());
    }
}
