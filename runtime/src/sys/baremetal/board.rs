//! The board interface: what a bare-metal platform needs from one particular board.
//!
//! Each board implements [`Board`] in its own folder (`targets/<board>/board.rs`),
//! composing the device drivers of `devices/`; the runtime includes the file of the
//! board it is built for. Boards never reach into the runtime's internals: everything
//! they are asked for is here, and everything they need is a device driver.

use crate::errno::Result;

/// How a board ends a program (the image descriptor says which one the build chose).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitMethod {
    /// Semihosting `SYS_EXIT`: ends QEMU (or a debugger session) with the exit code. On
    /// real hardware without a debugger it traps.
    Semihosting,
    /// Parks every core with interrupts masked.
    Halt,
    /// Resets the board (PSCI, a watchdog or a test device).
    Reset,
}

/// One board.
pub trait Board {
    /// The board's name, as `wafer targets` lists it.
    const NAME: &'static str;
    /// The hart (RISC-V) that runs the program; the others park.
    const BOOT_HART: usize = 0;
    /// Ticks per second of [`Board::ticks`].
    fn ticks_per_second() -> u64;
    /// A free-running counter that never goes back.
    fn ticks() -> u64;

    /// Sets the devices up; runs once on the boot core before the guest.
    fn init();
    /// Writes `bytes` to the console, waiting for room.
    fn console_write(bytes: &[u8]);
    /// Reads what the console has received, up to `buf.len()` bytes, without waiting.
    fn console_read(buf: &mut [u8]) -> usize;
    /// Waits until everything written to the console has left it (or long enough that
    /// it must have), before the program ends.
    fn console_flush() {}

    /// The real time in nanoseconds since the epoch, from the board's RTC.
    fn rtc_now() -> Option<u64> {
        None
    }
    /// Fills `buf` from a hardware random source; `false` if the board has none.
    fn hardware_random(_buf: &mut [u8]) -> bool {
        false
    }
    /// Resets the board; returns only if it cannot.
    fn reset() {}

    /// Makes GPIO `pin` an output.
    fn gpio_make_output(_pin: u32) -> Result {
        Err(crate::errno::Errno::NOSYS)
    }
    /// Drives output `pin` high or low.
    fn gpio_set(_pin: u32, _high: bool) -> Result {
        Err(crate::errno::Errno::NOSYS)
    }
    /// Reads `pin`'s level.
    fn gpio_get(_pin: u32) -> Result<bool> {
        Err(crate::errno::Errno::NOSYS)
    }
}
