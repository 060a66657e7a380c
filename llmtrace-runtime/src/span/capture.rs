//! What the expansions hand the span guard to record a call's return value: into the span's
//! record, or, for a sampled-out call counted in the metrics, into its tally.

use crate::record::{Record, Tally, Target};

/// Records a call's return value when its span ends.
///
/// A closure over the record (`|rec: &mut Record, ret: &R| ..`) records into spans only; a
/// [`Tallying`] closure also reads what the metrics need from a sampled-out call's value.
pub trait Capture<R: ?Sized> {
    /// Records into the span's record.
    fn record(self, rec: &mut Record, ret: &R);
    /// Reads what the metrics need into a sampled-out call's tally.
    fn tally(self, tally: &mut Tally, ret: &R);
}

impl<R: ?Sized, F: FnOnce(&mut Record, &R)> Capture<R> for F {
    #[inline]
    fn record(self, rec: &mut Record, ret: &R) {
        self(rec, ret);
    }

    #[inline]
    fn tally(self, _: &mut Tally, _: &R) {}
}

/// A capture closure that records into either target: the span's record, or a sampled-out
/// call's tally.
#[derive(Debug)]
pub struct Tallying<F>(F);

impl<F> Tallying<F> {
    /// Wraps the closure. (The entry points that take one bound it by `FnOnce(Target, &R)`
    /// themselves, so that its signature is deduced where the return type is known.)
    #[inline]
    pub(crate) fn new<R: ?Sized>(f: F) -> Self
    where
        F: FnOnce(Target<'_>, &R),
    {
        Tallying(f)
    }
}

impl<R: ?Sized, F: FnOnce(Target<'_>, &R)> Capture<R> for Tallying<F> {
    #[inline]
    fn record(self, rec: &mut Record, ret: &R) {
        (self.0)(Target::Record(rec), ret);
    }

    #[inline]
    fn tally(self, tally: &mut Tally, ret: &R) {
        (self.0)(Target::Tally(tally), ret);
    }
}
