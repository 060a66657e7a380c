//! The path the expansion names the runtime by: `crate = path` when given, else the name the
//! using crate's `Cargo.toml` gives `llmtrace-runtime` (renamed with `package = ..` or not).

use proc_macro_crate::{Error, FoundCrate, crate_name};
use proc_macro2::{Span, TokenStream};
use quote::quote;

/// The runtime's package name, as users depend on it.
const RUNTIME: &str = "llmtrace-runtime";

/// The root path of the runtime for the crate being compiled, or the error to report when that
/// crate does not depend on it.
pub(crate) fn runtime_root() -> Result<TokenStream, syn::Error> {
    root_of(crate_name(RUNTIME))
}

fn root_of(found: Result<FoundCrate, Error>) -> Result<TokenStream, syn::Error> {
    match found {
        Ok(FoundCrate::Name(name)) => {
            let ident = syn::Ident::new(&name, Span::call_site());
            Ok(quote!(::#ident))
        }
        // The runtime's own doctests and examples: it is an extern crate there, by its own name.
        Ok(FoundCrate::Itself) => Ok(quote!(::llmtrace_runtime)),
        Err(Error::CrateNotFound { .. }) => Err(syn::Error::new(
            Span::call_site(),
            format!(
                "this crate does not depend on `{RUNTIME}`, which the llmtrace attributes expand to: \
                 add `{RUNTIME} = \"{}\"` to `[dependencies]` in its Cargo.toml, or, when the \
                 attributes are re-exported by another crate, give its path as `crate = path`",
                concat!(
                    env!("CARGO_PKG_VERSION_MAJOR"),
                    ".",
                    env!("CARGO_PKG_VERSION_MINOR")
                ),
            ),
        )),
        // No manifest to read (a build system other than cargo): the name as published.
        Err(_) => Ok(quote!(::llmtrace_runtime)),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn renamed_dependency_is_named_as_the_manifest_says() {
        let root = root_of(Ok(FoundCrate::Name("tracer".into()))).unwrap();
        assert_eq!(root.to_string(), ":: tracer");
        let root = root_of(Ok(FoundCrate::Itself)).unwrap();
        assert_eq!(root.to_string(), ":: llmtrace_runtime");
    }

    #[test]
    fn a_missing_dependency_names_what_to_add() {
        let err = root_of(Err(Error::CrateNotFound {
            crate_name: RUNTIME.into(),
            path: PathBuf::from("Cargo.toml"),
        }))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("add `llmtrace-runtime = \"0.1\"` to `[dependencies]`"),
            "{err}"
        );
        assert!(err.contains("`crate = path`"), "{err}");
    }

    #[test]
    fn an_unreadable_manifest_falls_back_to_the_published_name() {
        let root = root_of(Err(Error::CargoManifestDirNotSet)).unwrap();
        assert_eq!(root.to_string(), ":: llmtrace_runtime");
    }
}
