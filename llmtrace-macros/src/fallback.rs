//! The error path: the user's item, unchanged, followed by every error. Keeping the item avoids
//! a cascade of "cannot find function" errors at its callers and keeps IDE completion working.

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn item_with_errors(item: TokenStream, errors: syn::Error) -> TokenStream {
    let errors = errors.to_compile_error();
    quote! {
        #item
        #errors
    }
}
