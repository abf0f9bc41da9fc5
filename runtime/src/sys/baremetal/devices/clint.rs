//! The RISC-V core-local interruptor's timer (`mtime`).

use super::Register;

/// A CLINT at `BASE`.
#[derive(Debug)]
pub struct Clint<const BASE: usize>;

const MTIME: usize = 0xbff8;

impl<const BASE: usize> Clint<BASE> {
    /// The machine timer.
    pub fn mtime() -> u64 {
        Register(BASE).at(MTIME).read64()
    }
}
