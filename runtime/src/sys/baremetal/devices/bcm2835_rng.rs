//! The BCM2835 hardware random number generator (Raspberry Pi 3).

use super::Register;

/// The RNG at `BASE`.
#[derive(Debug)]
pub struct Bcm2835Rng<const BASE: usize>;

const CTRL: usize = 0x0;
const STATUS: usize = 0x4;
const DATA: usize = 0x8;
/// Warm-up count the firmware writes before enabling it.
const WARMUP: u32 = 0x4_0000;

impl<const BASE: usize> Bcm2835Rng<BASE> {
    /// Starts the generator.
    pub fn init() {
        Register(BASE).at(STATUS).write(WARMUP);
        Register(BASE).at(CTRL).write(1);
    }

    /// Fills `buf`, waiting for words as the generator makes them.
    pub fn fill(buf: &mut [u8]) {
        for chunk in buf.chunks_mut(4) {
            // Bits 31:24 of STATUS count the words ready.
            while Register(BASE).at(STATUS).read() >> 24 == 0 {}
            let word = Register(BASE).at(DATA).read().to_le_bytes();
            for (slot, byte) in chunk.iter_mut().zip(word) {
                *slot = byte;
            }
        }
    }
}
