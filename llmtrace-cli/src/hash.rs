//! A small, fast 64-bit hash that never changes between builds: for the checksums of the cache
//! and the repeat keys of `loops`, which are written to disk and compared with values computed
//! by a later run (`std`'s `DefaultHasher` may change with the toolchain), and for the hash
//! maps that intern strings while the cache is written.
//!
//! Not for adversarial input: the files read are the user's own.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const P0: u64 = 0xa076_1d64_78bd_642f;
const P1: u64 = 0xe703_7ed1_a0b4_28db;
const P2: u64 = 0x8ebc_6af0_9c88_c6e3;

/// The high and low halves of the 128-bit product, folded: every input bit reaches every
/// output bit in one multiplication.
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

fn word(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w[..bytes.len()].copy_from_slice(bytes);
    u64::from_le_bytes(w)
}

/// The hash of `bytes`, starting from `seed`.
pub(crate) fn hash64(bytes: &[u8], seed: u64) -> u64 {
    let mut h = seed ^ P0 ^ (bytes.len() as u64).wrapping_mul(P1);
    let mut chunks = bytes.chunks_exact(16);
    // Each 16 bytes are folded on their own and then rotated into the state, so the
    // multiplications do not wait for each other, and no input word can cancel the state.
    for c in &mut chunks {
        let (a, b) = c.split_at(8);
        h = h.rotate_left(23) ^ fold(word(a) ^ P0, word(b) ^ P1);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let (a, b) = rest.split_at(rest.len().min(8));
        h = h.rotate_left(23) ^ fold(word(a) ^ P0, word(b) ^ P2);
    }
    fold(h ^ P2, P1)
}

/// A [`Hasher`] over [`hash64`], for hash maps keyed by strings and ids.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash64(bytes, self.0);
    }

    // `str` hashes as its bytes then `0xff`: one step, not a second pass of `hash64`.
    fn write_u8(&mut self, v: u8) {
        self.write_u64(u64::from(v));
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = fold(self.0 ^ v ^ P0, P1);
    }

    fn write_u128(&mut self, v: u128) {
        self.0 = fold(self.0 ^ (v as u64) ^ P0, ((v >> 64) as u64) ^ P1);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FastHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_sensitive() {
        // The value is written to disk: it must not change from one build to the next.
        let base = hash64(b"the quick brown fox jumps over the lazy dog", 0);
        assert_eq!(base, 0xccc1_446b_a1fa_f06e);
        assert_eq!(hash64(b"", 0), 0x55ba_897d_2af3_577c);
        assert_eq!(hash64(b"0123456789abcdef0", 7), 0x249f_7b26_d1ca_81a6);
        let mut seen = std::collections::HashSet::new();
        let text = b"the quick brown fox jumps over the lazy dog".to_vec();
        for i in 0..text.len() {
            for bit in 0..8 {
                let mut t = text.clone();
                t[i] ^= 1 << bit;
                assert!(seen.insert(hash64(&t, 0)), "byte {i} bit {bit}");
            }
        }
        assert!(!seen.contains(&base));
        assert_ne!(hash64(b"ab", 0), hash64(b"ab\0", 0));
        assert_ne!(hash64(b"ab", 0), hash64(b"ab", 1));
    }
}
