//! What an `#[embeddings]` function returns, as far as llmtrace reads it: how many vectors and
//! of what dimension. The vectors themselves are never recorded.

use crate::record::{Field, Record, Value};

/// The vectors an embeddings call returned: how many, and their dimension.
///
/// Implemented for lists of vectors (`Vec<Vec<f32>>`, `Vec<Vec<f64>>`, slices of them) and a
/// single vector; implement it for a client's response type. A return type that does not
/// implement it records no count (the call's usage is still read through
/// [`LlmResponse`](crate::LlmResponse)).
///
/// ```
/// struct EmbeddingResponse { data: Vec<Vec<f32>> }
///
/// impl llmtrace_runtime::EmbeddingVectors for EmbeddingResponse {
///     fn count(&self) -> usize {
///         self.data.len()
///     }
///     fn dimension(&self) -> Option<usize> {
///         self.data.first().map(Vec::len)
///     }
/// }
/// ```
pub trait EmbeddingVectors {
    /// How many vectors (`llmtrace.embeddings.count`).
    fn count(&self) -> usize;

    /// Their dimension (`gen_ai.embeddings.dimension.count`).
    fn dimension(&self) -> Option<usize>;
}

/// One vector's components.
trait Vector {
    fn len(&self) -> usize;
}

macro_rules! vectors {
    ($($t:ty),*) => {$(
        impl Vector for Vec<$t> {
            fn len(&self) -> usize {
                <[$t]>::len(self)
            }
        }
        impl Vector for [$t] {
            fn len(&self) -> usize {
                <[$t]>::len(self)
            }
        }
        impl Vector for Box<[$t]> {
            fn len(&self) -> usize {
                <[$t]>::len(self)
            }
        }
        impl<const N: usize> Vector for [$t; N] {
            fn len(&self) -> usize {
                N
            }
        }
        impl EmbeddingVectors for Vec<$t> {
            fn count(&self) -> usize {
                1
            }
            fn dimension(&self) -> Option<usize> {
                Some(<[$t]>::len(self))
            }
        }
    )*};
}
vectors!(f32, f64, i8, u8);

#[allow(private_bounds)]
impl<V: Vector> EmbeddingVectors for [V] {
    fn count(&self) -> usize {
        <[V]>::len(self)
    }

    fn dimension(&self) -> Option<usize> {
        self.first().map(Vector::len)
    }
}

#[allow(private_bounds)]
impl<V: Vector> EmbeddingVectors for Vec<V> {
    fn count(&self) -> usize {
        self.as_slice().count()
    }

    fn dimension(&self) -> Option<usize> {
        self.as_slice().dimension()
    }
}

impl<T: EmbeddingVectors + ?Sized> EmbeddingVectors for &T {
    fn count(&self) -> usize {
        (**self).count()
    }

    fn dimension(&self) -> Option<usize> {
        (**self).dimension()
    }
}

/// Records the count and dimension of `vectors`; a panic in user code records nothing.
fn record<T: EmbeddingVectors + ?Sized>(rec: &mut Record, vectors: &T) {
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        (vectors.count(), vectors.dimension())
    }));
    if let Ok((count, dimension)) = read {
        rec.set(Field::EmbeddingCount, Value::from(count));
        if let Some(d) = dimension {
            rec.set(Field::EmbeddingDimension, Value::from(d));
        }
    }
}

/// Picks how an embeddings call's return value is read: a `Result`'s `Ok` value, then the
/// value itself; anything else records nothing. The expansion calls
/// `(&&&Ret(&value)).__llmtrace_vectors(rec)`.
pub mod vectors {
    use super::*;

    /// The value being recorded.
    #[derive(Debug)]
    pub struct Ret<'a, T: ?Sized>(pub &'a T);

    /// `Result<T: EmbeddingVectors, E>`.
    pub trait OkVectors {
        /// Records the count and dimension.
        fn __llmtrace_vectors(&self, rec: &mut Record);
    }

    impl<T: EmbeddingVectors, E> OkVectors for &&Ret<'_, Result<T, E>> {
        fn __llmtrace_vectors(&self, rec: &mut Record) {
            if let Ok(v) = self.0 {
                record(rec, v);
            }
        }
    }

    /// `T: EmbeddingVectors`.
    pub trait ValueVectors {
        /// Records the count and dimension.
        fn __llmtrace_vectors(&self, rec: &mut Record);
    }

    impl<T: EmbeddingVectors + ?Sized> ValueVectors for &Ret<'_, T> {
        fn __llmtrace_vectors(&self, rec: &mut Record) {
            record(rec, self.0);
        }
    }

    /// Anything else records nothing.
    pub trait NoVectors {
        /// Records nothing.
        fn __llmtrace_vectors(&self, rec: &mut Record);
    }

    impl<T: ?Sized> NoVectors for Ret<'_, T> {
        #[inline]
        fn __llmtrace_vectors(&self, _rec: &mut Record) {}
    }
}
