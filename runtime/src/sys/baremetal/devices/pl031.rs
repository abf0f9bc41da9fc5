//! The ARM PL031 real-time clock (QEMU aarch64 virt).

use super::Register;

/// A PL031 at `BASE`.
#[derive(Debug)]
pub struct Pl031<const BASE: usize>;

impl<const BASE: usize> Pl031<BASE> {
    /// Seconds since the epoch.
    pub fn seconds() -> u64 {
        Register(BASE).read() as u64
    }
}
