//! The Goldfish real-time clock (QEMU riscv virt).

use super::Register;

/// A Goldfish RTC at `BASE`.
#[derive(Debug)]
pub struct GoldfishRtc<const BASE: usize>;

impl<const BASE: usize> GoldfishRtc<BASE> {
    /// Nanoseconds since the epoch. Reading the low word latches the high one.
    pub fn nanoseconds() -> u64 {
        let low = Register(BASE).read() as u64;
        let high = Register(BASE).at(4).read() as u64;
        (high << 32) | low
    }
}
