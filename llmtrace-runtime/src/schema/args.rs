//! What an argument given as an expression must be. Each trait is implemented for the types the
//! argument accepts, so an expression of another type is a type error at the expression, with
//! the trait's message.
//!
//! Every impl is `#[diagnostic::do_not_recommend]`: the messages list the accepted types, and an
//! error then names the expression's own type (not `&T`'s or `Option<T>`'s inner one) and lists
//! no impls (a short list would point into these sources).

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

use crate::record::Value;

/// A string argument (`model`, `provider`, `name`, ...).
#[diagnostic::on_unimplemented(
    message = "this llmtrace argument expects a string, not `{Self}`",
    label = "expected `&str`, `String`, `Cow<str>` or an `Option` of one",
    note = "turn other values into a string first, e.g. `value.to_string()`"
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
        #[diagnostic::do_not_recommend]
        impl<T: $tr + ?Sized> $tr for &T {
            #[inline]
            fn to_value(&self) -> Option<Value> {
                $tr::to_value(&**self)
            }
        }
        #[diagnostic::do_not_recommend]
        impl<T: $tr + ?Sized> $tr for &mut T {
            #[inline]
            fn to_value(&self) -> Option<Value> {
                $tr::to_value(&**self)
            }
        }
        #[diagnostic::do_not_recommend]
        impl<T: $tr> $tr for Option<T> {
            #[inline]
            fn to_value(&self) -> Option<Value> {
                self.as_ref().and_then($tr::to_value)
            }
        }
        #[diagnostic::do_not_recommend]
        impl<T: $tr + ?Sized> $tr for Box<T> {
            #[inline]
            fn to_value(&self) -> Option<Value> {
                $tr::to_value(&**self)
            }
        }
    };
}

forward_refs!(StrArg);
forward_refs!(IntArg);
forward_refs!(FloatArg);
forward_refs!(BoolArg);
forward_refs!(StrListArg);

#[diagnostic::do_not_recommend]
impl StrArg for str {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::String(self.into()))
    }
}

#[diagnostic::do_not_recommend]
impl StrArg for String {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        StrArg::to_value(self.as_str())
    }
}

#[diagnostic::do_not_recommend]
impl StrArg for Cow<'_, str> {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        StrArg::to_value(&**self)
    }
}

#[diagnostic::do_not_recommend]
impl StrArg for Arc<str> {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        StrArg::to_value(&**self)
    }
}

#[diagnostic::do_not_recommend]
impl StrArg for Rc<str> {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        StrArg::to_value(&**self)
    }
}

macro_rules! int_arg {
    ($($t:ty),*) => {$(
        #[diagnostic::do_not_recommend]
        impl IntArg for $t {
            #[inline]
            fn to_value(&self) -> Option<Value> {
                Some(Value::from(*self))
            }
        }
        #[diagnostic::do_not_recommend]
        impl FloatArg for $t {
            #[inline]
            fn to_value(&self) -> Option<Value> {
                Some(Value::F64(*self as f64))
            }
        }
    )*};
}
int_arg!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

#[diagnostic::do_not_recommend]
impl FloatArg for f64 {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::F64(*self))
    }
}

#[diagnostic::do_not_recommend]
impl FloatArg for f32 {
    /// The decimal written (`0.2`), not the widened binary value (`0.20000000298023224`).
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::from(*self))
    }
}

#[diagnostic::do_not_recommend]
impl BoolArg for bool {
    #[inline]
    fn to_value(&self) -> Option<Value> {
        Some(Value::Bool(*self))
    }
}

#[diagnostic::do_not_recommend]
impl<S: AsRef<str>> StrListArg for [S] {
    fn to_value(&self) -> Option<Value> {
        Some(Value::StringList(
            self.iter().map(|s| Box::<str>::from(s.as_ref())).collect(),
        ))
    }
}

#[diagnostic::do_not_recommend]
impl<S: AsRef<str>, const N: usize> StrListArg for [S; N] {
    fn to_value(&self) -> Option<Value> {
        StrListArg::to_value(self.as_slice())
    }
}

#[diagnostic::do_not_recommend]
impl<S: AsRef<str>> StrListArg for Vec<S> {
    fn to_value(&self) -> Option<Value> {
        StrListArg::to_value(self.as_slice())
    }
}

/// A custom attribute's value: a string, a number, a bool, or a list of strings.
#[diagnostic::on_unimplemented(
    message = "a custom attribute's value must be a string, a number, a bool or a list of strings, not `{Self}`",
    label = "not an attribute value",
    note = "format other values first, e.g. `app.region = region.to_string()`"
)]
pub trait AttrArg {
    /// The span value; `None` records nothing.
    fn to_value(&self) -> Option<Value>;
}

forward_refs!(AttrArg);

#[diagnostic::do_not_recommend]
impl AttrArg for str {
    fn to_value(&self) -> Option<Value> {
        StrArg::to_value(self)
    }
}

#[diagnostic::do_not_recommend]
impl AttrArg for String {
    fn to_value(&self) -> Option<Value> {
        StrArg::to_value(self)
    }
}

#[diagnostic::do_not_recommend]
impl AttrArg for Cow<'_, str> {
    fn to_value(&self) -> Option<Value> {
        StrArg::to_value(self)
    }
}

#[diagnostic::do_not_recommend]
impl AttrArg for bool {
    fn to_value(&self) -> Option<Value> {
        BoolArg::to_value(self)
    }
}

#[diagnostic::do_not_recommend]
impl AttrArg for f64 {
    fn to_value(&self) -> Option<Value> {
        FloatArg::to_value(self)
    }
}

#[diagnostic::do_not_recommend]
impl AttrArg for f32 {
    fn to_value(&self) -> Option<Value> {
        FloatArg::to_value(self)
    }
}

macro_rules! int_attr {
    ($($t:ty),*) => {$(
        #[diagnostic::do_not_recommend]
        impl AttrArg for $t {
            fn to_value(&self) -> Option<Value> {
                IntArg::to_value(self)
            }
        }
    )*};
}
int_attr!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

#[diagnostic::do_not_recommend]
impl<S: AsRef<str>> AttrArg for Vec<S> {
    fn to_value(&self) -> Option<Value> {
        StrListArg::to_value(self)
    }
}
