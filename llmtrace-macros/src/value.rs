//! What an argument's value can be, shared by the argument parser (`attr.rs`) and the custom
//! attribute checks (`custom.rs`): a literal as written, a literal checked against its type, a
//! literal-or-expression value, and the custom attribute that carries one.

use syn::{Expr, ExprLit, ExprUnary, Lit as SynLit, UnOp};

/// A literal as written, before checking it against a type.
pub(crate) enum SynLitRef {
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Other,
}

/// The literal `expr` is, if it is one (a negated number counts: `seed = -1`).
pub(crate) fn literal(expr: &Expr) -> Option<SynLitRef> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => Some(match lit {
            SynLit::Str(s) => SynLitRef::Str(s.value()),
            SynLit::Int(i) => i
                .base10_parse::<i128>()
                .map_or(SynLitRef::Other, SynLitRef::Int),
            SynLit::Float(f) => f
                .base10_parse::<f64>()
                .map_or(SynLitRef::Other, SynLitRef::Float),
            SynLit::Bool(b) => SynLitRef::Bool(b.value),
            _ => SynLitRef::Other,
        }),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => match literal(expr)? {
            SynLitRef::Int(i) => Some(SynLitRef::Int(-i)),
            SynLitRef::Float(f) => Some(SynLitRef::Float(-f)),
            _ => Some(SynLitRef::Other),
        },
        Expr::Group(g) => literal(&g.expr),
        _ => None,
    }
}

/// How a literal reads in a "found ..." message.
pub(crate) fn found(lit: &SynLitRef) -> &'static str {
    match lit {
        SynLitRef::Str(_) => "a string",
        SynLitRef::Int(_) => "an integer",
        SynLitRef::Float(_) => "a number",
        SynLitRef::Bool(_) => "a bool",
        SynLitRef::Other => "another literal",
    }
}

/// A literal value, checked against its argument's type.
#[derive(Debug, Clone)]
pub(crate) enum Lit {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    StrList(Vec<String>),
}

/// An argument's value: a literal (stored in the static callsite) or an expression (evaluated
/// when the span starts).
pub(crate) enum Val {
    Lit(Lit),
    Expr(Expr),
}

/// A custom attribute: `app.tier = "pro"`.
pub(crate) struct CustomAttr {
    pub(crate) key: String,
    pub(crate) value: Val,
    /// The runtime trait an expression value goes through.
    pub(crate) expr_trait: &'static str,
}
