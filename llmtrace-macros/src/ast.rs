//! The annotated item, seen as the function to instrument: its shape (sync, `async fn`, or an
//! `#[async_trait]` method already expanded into `Box::pin(async move { .. })`) and the parameter
//! bindings that can be captured.

use proc_macro2::TokenStream;
use syn::{Attribute, Block, Expr, Ident, ItemFn, Pat, ReturnType, Signature, Stmt, Visibility};

use crate::ctxt::Ctxt;
use crate::kind::Kind;

pub(crate) enum Shape {
    Sync,
    Async,
    /// `fn f(..) -> Pin<Box<dyn Future<..>>> { ..; Box::pin(async move { .. }) }`: the last
    /// statement's inner `async` block is instrumented.
    AsyncTrait,
}

/// A parameter binding.
pub(crate) struct Param {
    pub(crate) ident: Ident,
    /// Named like a secret (`api_key`, `password`): never captured.
    pub(crate) secret: bool,
}

pub(crate) struct Func {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    pub(crate) block: Box<Block>,
    pub(crate) shape: Shape,
    pub(crate) params: Vec<Param>,
    pub(crate) track_caller: bool,
}

impl Func {
    /// Parses the item; reports why it cannot be instrumented otherwise.
    pub(crate) fn parse(kind: Kind, item: TokenStream, cx: &Ctxt) -> Option<Func> {
        let name = kind.name();
        let func: ItemFn = match syn::parse2(item.clone()) {
            Ok(f) => f,
            Err(_) => {
                not_a_function(kind, item, cx);
                return None;
            }
        };
        let sig = &func.sig;
        let mut ok = true;
        if let Some(c) = &sig.constness {
            cx.error_spanned(
                c,
                format!(
                    "`#[{name}]` cannot instrument a `const fn`: spans are recorded at run time; \
                     remove `const` or the attribute"
                ),
            );
            ok = false;
        }
        if let Some(abi) = &sig.abi {
            cx.error_spanned(
                abi,
                format!(
                    "`#[{name}]` cannot instrument an `extern` fn; instrument a Rust function it calls instead"
                ),
            );
            ok = false;
        }
        if let Some(v) = &sig.variadic {
            cx.error_spanned(
                v,
                format!("`#[{name}]` cannot instrument a variadic function"),
            );
            ok = false;
        }
        if !ok {
            return None;
        }
        let shape = if sig.asyncness.is_some() {
            Shape::Async
        } else if is_async_trait_body(&func.block) {
            Shape::AsyncTrait
        } else {
            Shape::Sync
        };
        let mut params = Vec::new();
        for input in &sig.inputs {
            if let syn::FnArg::Typed(pt) = input {
                bindings(&pt.pat, &mut params);
            }
        }
        let track_caller = func.attrs.iter().any(|a| a.path().is_ident("track_caller"));
        Some(Func {
            attrs: func.attrs,
            vis: func.vis,
            sig: func.sig,
            block: func.block,
            shape,
            params,
            track_caller,
        })
    }

    /// The type of the value the instrumented body produces, `None` for `()`: the declared
    /// return type, or for an `#[async_trait]` method the boxed future's `Output`.
    pub(crate) fn return_type(&self) -> Option<&syn::Type> {
        let declared = match &self.sig.output {
            ReturnType::Default => return None,
            ReturnType::Type(_, ty) => &**ty,
        };
        let ty = match self.shape {
            Shape::AsyncTrait => future_output(declared)?,
            Shape::Sync | Shape::Async => declared,
        };
        match ty {
            syn::Type::Tuple(t) if t.elems.is_empty() => None,
            ty => Some(ty),
        }
    }

    /// Whether the return type contains `impl Trait`, which cannot be written in a `let`.
    pub(crate) fn returns_impl_trait(&self) -> bool {
        self.return_type().is_some_and(contains_impl_trait)
    }
}

/// `X` in `Pin<Box<dyn Future<Output = X> + Send + 'a>>`.
fn future_output(ty: &syn::Type) -> Option<&syn::Type> {
    match ty {
        syn::Type::Path(p) => path_output(&p.path),
        syn::Type::TraitObject(t) => t.bounds.iter().find_map(|b| match b {
            syn::TypeParamBound::Trait(tb) => path_output(&tb.path),
            _ => None,
        }),
        syn::Type::Paren(p) => future_output(&p.elem),
        syn::Type::Group(g) => future_output(&g.elem),
        _ => None,
    }
}

fn path_output(path: &syn::Path) -> Option<&syn::Type> {
    path.segments.iter().find_map(|seg| match &seg.arguments {
        syn::PathArguments::AngleBracketed(args) => args.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::AssocType(a) if a.ident == "Output" => Some(&a.ty),
            syn::GenericArgument::Type(t) => future_output(t),
            _ => None,
        }),
        _ => None,
    })
}

fn contains_impl_trait(ty: &syn::Type) -> bool {
    fn walk(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "impl",
            proc_macro2::TokenTree::Group(g) => walk(g.stream()),
            _ => false,
        })
    }
    walk(quote::ToTokens::to_token_stream(ty))
}

fn not_a_function(kind: Kind, item: TokenStream, cx: &Ctxt) {
    let name = kind.name();
    // A trait method without a body parses as a trait item.
    if let Ok(m) = syn::parse2::<syn::TraitItemFn>(item.clone()) {
        if m.default.is_none() {
            cx.error_spanned(
                &m.sig,
                format!(
                    "`#[{name}]` instruments a function body, and this declaration has none; \
                     put the attribute on the method in each `impl` block"
                ),
            );
            return;
        }
    }
    let what = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Struct(_)) => "a struct",
        Ok(syn::Item::Enum(_)) => "an enum",
        Ok(syn::Item::Impl(_)) => "an `impl` block",
        Ok(syn::Item::Trait(_)) => "a trait",
        Ok(syn::Item::Mod(_)) => "a module",
        Ok(syn::Item::Static(_) | syn::Item::Const(_)) => {
            "a `static` or `const` (a closure cannot be instrumented: write it as a function)"
        }
        Ok(syn::Item::ForeignMod(_)) => "an `extern` block",
        _ => "this item",
    };
    let span = item
        .clone()
        .into_iter()
        .find(|t| !matches!(t, proc_macro2::TokenTree::Punct(p) if p.as_char() == '#'))
        .map_or_else(proc_macro2::Span::call_site, |t| t.span());
    cx.error_at(
        span,
        format!(
            "`#[{name}]` can only be applied to functions and methods, not {what}; put the attribute on a function"
        ),
    );
}

/// `Box::pin(async move { .. })` as the last statement, as `#[async_trait]` expands a method.
fn is_async_trait_body(block: &Block) -> bool {
    async_trait_inner(block).is_some()
}

/// The inner `async move` block of an `#[async_trait]` body.
pub(crate) fn async_trait_inner(block: &Block) -> Option<&syn::ExprAsync> {
    let Some(Stmt::Expr(Expr::Call(call), None)) = block.stmts.last() else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    let segments: Vec<_> = func
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if segments.len() < 2 || segments[segments.len() - 2..] != ["Box", "pin"] {
        return None;
    }
    match call.args.first() {
        Some(Expr::Async(inner)) if call.args.len() == 1 && inner.capture.is_some() => Some(inner),
        _ => None,
    }
}

/// Collects the identifiers a parameter pattern binds.
fn bindings(pat: &Pat, out: &mut Vec<Param>) {
    match pat {
        Pat::Ident(p) => {
            if p.ident == "self" {
                return;
            }
            if let Some((_, sub)) = &p.subpat {
                bindings(sub, out);
            }
            let name = p.ident.to_string();
            out.push(Param {
                secret: is_secret_name(name.trim_start_matches("r#")),
                ident: p.ident.clone(),
            });
        }
        Pat::Tuple(t) => t.elems.iter().for_each(|p| bindings(p, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| bindings(p, out)),
        Pat::Struct(s) => s.fields.iter().for_each(|f| bindings(&f.pat, out)),
        Pat::Reference(r) => bindings(&r.pat, out),
        Pat::Slice(s) => s.elems.iter().for_each(|p| bindings(p, out)),
        Pat::Type(t) => bindings(&t.pat, out),
        Pat::Paren(p) => bindings(&p.pat, out),
        _ => {}
    }
}

/// Whole snake_case segments that mark a parameter as a secret (`api_key`, `password`,
/// `auth_token`), matched whole so that `max_tokens` or `keyboard` are not.
const SECRET_SEGMENTS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "secrets",
    "token",
    "key",
    "apikey",
    "credential",
    "credentials",
    "auth",
    "authorization",
    "bearer",
    "cookie",
    "cookies",
    "jwt",
    "otp",
    "private",
    "ssn",
];

pub(crate) fn is_secret_name(name: &str) -> bool {
    name.split('_')
        .filter(|s| !s.is_empty())
        .any(|s| SECRET_SEGMENTS.contains(&s.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_match_whole_segments() {
        for yes in [
            "api_key",
            "password",
            "auth_token",
            "openai_api_key",
            "Secret",
            "apikey",
            "jwt",
        ] {
            assert!(is_secret_name(yes), "{yes}");
        }
        for no in [
            "max_tokens",
            "keyboard",
            "monkey",
            "tokens_used",
            "author",
            "question",
            "primary",
        ] {
            assert!(!is_secret_name(no), "{no}");
        }
    }

    #[test]
    fn detects_shapes() {
        let cx = Ctxt::default();
        let f = Func::parse(
            Kind::Tool,
            quote::quote!(
                fn f(
                    &self,
                    (a, b): (u8, u8),
                    api_key: &str,
                ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
                    Box::pin(async move {
                        let _ = (a, b);
                    })
                }
            ),
            &cx,
        )
        .unwrap();
        assert!(matches!(f.shape, Shape::AsyncTrait));
        let names: Vec<_> = f
            .params
            .iter()
            .map(|p| (p.ident.to_string(), p.secret))
            .collect();
        assert_eq!(
            names,
            [
                ("a".into(), false),
                ("b".into(), false),
                ("api_key".into(), true)
            ]
        );
        assert!(cx.into_result().is_ok());
    }

    #[test]
    fn rejects_const_and_extern() {
        let cx = Ctxt::default();
        assert!(
            Func::parse(
                Kind::Tool,
                quote::quote!(
                    const fn f() {}
                ),
                &cx
            )
            .is_none()
        );
        assert!(
            Func::parse(
                Kind::Tool,
                quote::quote!(
                    extern "C" fn f() {}
                ),
                &cx
            )
            .is_none()
        );
        assert!(
            Func::parse(
                Kind::Tool,
                quote::quote!(
                    struct S;
                ),
                &cx
            )
            .is_none()
        );
        let errors: Vec<String> = cx
            .into_result()
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert!(errors[0].contains("`const fn`"), "{errors:?}");
        assert!(errors[1].contains("`extern` fn"), "{errors:?}");
        assert!(errors[2].contains("not a struct"), "{errors:?}");
    }
}
