//! The ARM PL061 GPIO controller (QEMU aarch64 virt): eight pins.

use super::Register;
use crate::errno::{Errno, Result};

/// A PL061 at `BASE`.
#[derive(Debug)]
pub struct Pl061<const BASE: usize>;

/// The direction register: a set bit makes the pin an output.
const DIR: usize = 0x400;
/// Pins this controller has.
pub const PINS: u32 = 8;

impl<const BASE: usize> Pl061<BASE> {
    /// The data register masked to `pin`: address bits 9:2 select which bits a read or
    /// write touches, so one pin changes without a read-modify-write.
    fn data(pin: u32) -> Register {
        Register(BASE).at(4 << pin)
    }

    fn check(pin: u32) -> Result {
        if pin >= PINS {
            return Err(Errno::INVAL);
        }
        Ok(())
    }

    /// Makes `pin` an output.
    pub fn make_output(pin: u32) -> Result {
        Self::check(pin)?;
        let dir = Register(BASE).at(DIR);
        dir.write(dir.read() | 1 << pin);
        Ok(())
    }

    /// Drives `pin`.
    pub fn set(pin: u32, high: bool) -> Result {
        Self::check(pin)?;
        Self::data(pin).write(if high { 1 << pin } else { 0 });
        Ok(())
    }

    /// Reads `pin`.
    pub fn get(pin: u32) -> Result<bool> {
        Self::check(pin)?;
        Ok(Self::data(pin).read() & (1 << pin) != 0)
    }
}
