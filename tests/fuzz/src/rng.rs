//! A small deterministic generator: every case of the stable runner derives from the run's
//! seed and the case's number, so a failure is reproduced from those two numbers alone.

/// SplitMix64: tiny, fast, and good enough to drive test generation.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for case `index` of the run seeded with `seed`.
    pub fn for_case(seed: u64, index: u64) -> Self {
        let mut rng = Rng(seed ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03));
        rng.next_u64();
        rng
    }

    /// A generator seeded from bytes (the cargo-fuzz drivers' input).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Rng(wafer_abi::harness::hash_words(bytes))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound > 0`).
    pub fn below(&mut self, bound: u64) -> u64 {
        ((self.next_u64() as u128 * bound as u128) >> 64) as u64
    }

    /// True with probability `numerator / denominator`.
    pub fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        self.below(denominator) < numerator
    }

    /// One element of `items` (non-empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// `length` random bytes.
    pub fn bytes(&mut self, length: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(length + 8);
        while out.len() < length {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(length);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_reproducible_and_distinct() {
        assert_eq!(
            Rng::for_case(1, 2).next_u64(),
            Rng::for_case(1, 2).next_u64()
        );
        assert_ne!(
            Rng::for_case(1, 2).next_u64(),
            Rng::for_case(1, 3).next_u64()
        );
        assert_ne!(
            Rng::for_case(1, 2).next_u64(),
            Rng::for_case(2, 2).next_u64()
        );
        let mut rng = Rng::for_case(7, 0);
        assert!((0..1000).all(|_| rng.below(10) < 10));
        assert_eq!(rng.bytes(13).len(), 13);
    }
}
