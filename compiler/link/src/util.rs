//! Small helpers: a fast hash for symbol names and checked alignment arithmetic.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The Firefox/rustc hash: much faster than SipHash for short keys, and the keys here
/// (symbol names of our own inputs) are not attacker-chosen for hash flooding.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Rounds `value` up to a multiple of `align` (a power of two); `None` on overflow.
pub(crate) fn align_up(value: u64, align: u64) -> Option<u64> {
    debug_assert!(align.is_power_of_two());
    Some(value.checked_add(align - 1)? & !(align - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_up_rounds_and_detects_overflow() {
        assert_eq!(align_up(0, 8), Some(0));
        assert_eq!(align_up(1, 8), Some(8));
        assert_eq!(align_up(8, 8), Some(8));
        assert_eq!(align_up(0x1001, 0x1000), Some(0x2000));
        assert_eq!(align_up(u64::MAX, 2), None);
        assert_eq!(align_up(u64::MAX, 1), Some(u64::MAX));
    }

    #[test]
    fn fast_map_finds_keys() {
        let mut map: FastMap<&[u8], u32> = FastMap::default();
        for (i, name) in [
            &b"memcpy"[..],
            b"memset",
            b"a",
            b"",
            b"a_rather_long_symbol_name",
        ]
        .iter()
        .enumerate()
        {
            map.insert(name, i as u32);
        }
        assert_eq!(map.get(&b"memset"[..]), Some(&1));
        assert_eq!(map.get(&b""[..]), Some(&3));
        assert_eq!(map.get(&b"a_rather_long_symbol_name"[..]), Some(&4));
        assert_eq!(map.get(&b"memmove"[..]), None);
    }
}
