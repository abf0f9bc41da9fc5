//! Device drivers boards compose. Each driver is a zero-sized type parameterised by its
//! base address, so a board names its devices as types and nothing is stored.

pub mod bcm2835_rng;
pub mod clint;
pub mod goldfish_rtc;
pub mod ns16550;
pub mod pl011;
pub mod pl031;
pub mod pl061;
pub mod sifive_uart;

/// A device register at a fixed address.
#[derive(Debug, Clone, Copy)]
pub struct Register(pub usize);

impl Register {
    /// Reads 32 bits.
    pub fn read(self) -> u32 {
        // SAFETY: boards only name registers of devices in their memory map, which are
        // mapped as device memory; a volatile read of one has no effect on Rust state.
        unsafe { (self.0 as *const u32).read_volatile() }
    }

    /// Writes 32 bits.
    pub fn write(self, value: u32) {
        // SAFETY: as for `read`: a device register of the board's memory map.
        unsafe { (self.0 as *mut u32).write_volatile(value) }
    }

    /// Reads 8 bits.
    pub fn read8(self) -> u8 {
        // SAFETY: as for `read`.
        unsafe { (self.0 as *const u8).read_volatile() }
    }

    /// Writes 8 bits.
    pub fn write8(self, value: u8) {
        // SAFETY: as for `read`.
        unsafe { (self.0 as *mut u8).write_volatile(value) }
    }

    /// Reads 64 bits.
    pub fn read64(self) -> u64 {
        // SAFETY: as for `read`.
        unsafe { (self.0 as *const u64).read_volatile() }
    }

    /// The register `offset` bytes further on.
    pub const fn at(self, offset: usize) -> Register {
        Register(self.0 + offset)
    }
}
