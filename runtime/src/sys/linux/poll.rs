//! Waiting: `ppoll` on descriptors and sleeping on a clock.

use super::syscall::{nr, syscall6};
use super::{Errno, check};

/// `POLLIN`.
pub const POLLIN: i16 = 0x1;
/// `POLLOUT`.
pub const POLLOUT: i16 = 0x4;
/// `POLLERR`.
pub const POLLERR: i16 = 0x8;
/// `POLLHUP`.
pub const POLLHUP: i16 = 0x10;
/// `POLLNVAL`.
pub const POLLNVAL: i16 = 0x20;

/// `struct pollfd`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct PollFd {
    /// The descriptor (negative: ignored).
    pub fd: i32,
    /// Requested events.
    pub events: i16,
    /// Returned events.
    pub revents: i16,
}

fn timespec(ns: u64) -> [i64; 2] {
    [(ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64]
}

/// `ppoll(2)`: waits until a descriptor is ready or `timeout` nanoseconds pass (`None`:
/// forever); returns how many descriptors have events.
pub fn ppoll(fds: &mut [PollFd], timeout: Option<u64>) -> Result<usize, Errno> {
    let ts = timeout.map(timespec);
    // SAFETY: `fds` is an array of `struct pollfd` and `ts`, when present, one
    // `struct timespec`; the signal mask pointer is null.
    check(unsafe {
        syscall6(
            nr::PPOLL,
            fds.as_mut_ptr() as usize,
            fds.len(),
            ts.as_ref().map_or(0, |ts| ts.as_ptr() as usize),
            0,
            8,
            0,
        )
    })
}

/// `TIMER_ABSTIME`: the time is a deadline on the clock, not a duration.
pub const TIMER_ABSTIME: u32 = 1;

/// `clock_nanosleep(2)` on `clock` until `ns` (with [`TIMER_ABSTIME`]) or for `ns`.
/// Retries when a signal interrupts it.
pub fn sleep(clock: u32, flags: u32, ns: u64) -> Result<(), Errno> {
    let mut ts = timespec(ns);
    loop {
        let mut remaining = [0i64; 2];
        // SAFETY: both pointers are `struct timespec`s.
        let result = check(unsafe {
            syscall6(
                nr::CLOCK_NANOSLEEP,
                clock as usize,
                flags as usize,
                ts.as_ptr() as usize,
                remaining.as_mut_ptr() as usize,
                0,
                0,
            )
        });
        match result {
            Err(Errno::INTR) => {
                if flags & TIMER_ABSTIME == 0 {
                    ts = remaining;
                }
            }
            other => return other.map(drop),
        }
    }
}
