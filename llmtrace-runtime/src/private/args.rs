//! Conversions of macro argument expressions into span values. Each trait is implemented for the
//! types an argument accepts, so a wrong type is a type error at the user's expression, with the
//! message below.

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

use crate::span::Value;

/// A string argument (`model`, `provider`, `name`, ...).
#[diagnostic::on_unimplemented(
    message = "this llmtrace argument expects a string, not `{Self}`",
    label = "expected `&str`, `String`, `Cow<str>` or an `Option` of one",
    note = "format other values first, e.g. `model = id.to_string()`"
)]
pub trait StrArg {
    /// The span value; `None` records nothing.
    fn to_value(&self) -> Option<Value>;
}

/// An integer argument (`max_tokens`, `top_k`, `seed`, ...).
#[diagnostic::on_unimplemented(
    message = "this llmtrace argument expects an integer, not `{Self}`",
    label = "expected an integer type or an `Option` of one"
)]
pub trait IntArg {
    /// The span value; `None` records nothing.
    fn to_value(&self) -> Option<Value>;
}

/// A number argument (`temperature`, `top_p`, ...).
#[diagnostic::on_unimplemented(
    message = "this llmtrace argument expects a number, not `{Self}`",
    label = "expected `f64`, `f32`, an integer, or an `Option` of one"
)]
pub trait FloatArg {
    /// The span value; `None` records nothing.
    fn to_value(&self) -> Option<Value>;
}

/// A boolean argument.
#[diagnostic::on_unimplemented(
    message = "this llmtrace argument expects a `bool`, not `{Self}`",
    label = "expected `bool` or `Option<bool>`"
)]
pub trait BoolArg {
    /// The span value; `None` records nothing.
    fn to_value(&self) -> Option<Value>;
}

/// A list-of-strings argument (`stop_sequences`).
#[diagnostic::on_unimplemented(
    message = "this llmtrace argument expects a list of strings, not `{Self}`",
    label = "expected `Vec<String>`, `&[&str]`, an array of strings, or an `Option` of one"
)]
pub trait StrListArg {
    /// The span value; `None` records nothing.
    fn to_value(&self) -> Option<Value>;
}

macro_rules! forward_refs {
    ($tr:ident) => {
        impl<T: $tr + ?Sized> $tr for &T {
            #[inline]
            fn to_value(&self) -> Option<Value> {
                (**self).to_value()
            }
        }
        impl<T: $tr + ?Sized> $tr for &mut T {
            #[inline]
            fn to_value(&self) -> Option<Value> {
                (**self).to_value()
            }
        }
        impl<T: $tr> $tr for Option<T> {
            #[inline]
            fn to_value(&self) -> Option<Value> {
                self.as_ref().and_then($tr::to_value)
            }
        }
        impl<T: $tr + ?Sized> $tr for Box<T> {
            #[inline]
            fn to_value(&self) -> Option<Value> {
                (**self).to_value()
            }
        }
    };
}

forward_refs!(StrArg);
forward_refs!(IntArg);
forward_refs!(FloatArg);
forward_refs!(BoolArg);
forward_refs!(StrListArg);

impl StrArg for str {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::String(self.into()))
    }
}

impl StrArg for String {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        self.as_str().to_value()
    }
}

impl StrArg for Cow<'_, str> {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        (**self).to_value()
    }
}

impl StrArg for Arc<str> {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        (**self).to_value()
    }
}

impl StrArg for Rc<str> {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        (**self).to_value()
    }
}

macro_rules! int_arg {
    ($($t:ty),*) => {$(
        impl IntArg for $t {
            #[inline]
            fn to_value(&self) -> Option<Value> {
                Some(Value::from(*self))
            }
        }
        impl FloatArg for $t {
            #[inline]
            fn to_value(&self) -> Option<Value> {
                Some(Value::F64(*self as f64))
            }
        }
    )*};
}
int_arg!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl FloatArg for f64 {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::F64(*self))
    }
}

impl FloatArg for f32 {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::F64(f64::from(*self)))
    }
}

impl BoolArg for bool {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::Bool(*self))
    }
}

impl<S: AsRef<str>> StrListArg for [S] {
    fn to_value(&self) -> Option<Value> {
        Some(Value::StringList(
            self.iter().map(|s| Box::<str>::from(s.as_ref())).collect(),
        ))
    }
}

impl<S: AsRef<str>, const N: usize> StrListArg for [S; N] {
    fn to_value(&self) -> Option<Value> {
        self.as_slice().to_value()
    }
}

impl<S: AsRef<str>> StrListArg for Vec<S> {
    fn to_value(&self) -> Option<Value> {
        self.as_slice().to_value()
    }
}
