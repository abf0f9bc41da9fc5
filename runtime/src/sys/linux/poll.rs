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

/// `EPOLLIN`.
pub const EPOLLIN: u32 = 0x1;
/// `EPOLLOUT`.
pub const EPOLLOUT: u32 = 0x4;
/// `EPOLLERR`.
pub const EPOLLERR: u32 = 0x8;
/// `EPOLLHUP`.
pub const EPOLLHUP: u32 = 0x10;
/// `EPOLLRDHUP`.
pub const EPOLLRDHUP: u32 = 0x2000;
/// `EPOLLET`: edge-triggered.
pub const EPOLLET: u32 = 1 << 31;

/// `struct epoll_event`: packed on x86_64 (the kernel's ABI there), naturally aligned
/// elsewhere.
#[repr(C)]
#[cfg_attr(target_arch = "x86_64", repr(packed))]
#[derive(Debug, Clone, Copy, Default)]
pub struct EpollEvent {
    /// The events.
    pub events: u32,
    /// The caller's token.
    pub data: u64,
}

/// `epoll_create1(EPOLL_CLOEXEC)`.
pub fn epoll_create() -> Result<i32, Errno> {
    const EPOLL_CLOEXEC: usize = 0o2_000_000;
    // SAFETY: no pointers.
    check(unsafe { syscall6(nr::EPOLL_CREATE1, EPOLL_CLOEXEC, 0, 0, 0, 0, 0) }).map(|fd| fd as i32)
}

/// `epoll_ctl(EPOLL_CTL_ADD)` of `fd` for `events`, reported with `token`.
pub fn epoll_add(epoll: i32, fd: i32, events: u32, token: u64) -> Result<(), Errno> {
    const EPOLL_CTL_ADD: usize = 1;
    let event = EpollEvent {
        events,
        data: token,
    };
    // SAFETY: `event` is one `struct epoll_event`, read by the call.
    check(unsafe {
        syscall6(
            nr::EPOLL_CTL,
            epoll as usize,
            EPOLL_CTL_ADD,
            fd as usize,
            &event as *const EpollEvent as usize,
            0,
            0,
        )
    })
    .map(drop)
}

/// `epoll_pwait(2)`: fills `events` with what is ready, waiting at most `timeout`
/// nanoseconds (`None`: forever; rounded up to milliseconds); returns how many.
pub fn epoll_wait(
    epoll: i32,
    events: &mut [EpollEvent],
    timeout: Option<u64>,
) -> Result<usize, Errno> {
    let timeout_ms = match timeout {
        None => -1isize,
        Some(ns) => ns.div_ceil(1_000_000).min(i32::MAX as u64) as isize,
    };
    // SAFETY: `events` is an array of `struct epoll_event` the kernel fills; no mask.
    check(unsafe {
        syscall6(
            nr::EPOLL_PWAIT,
            epoll as usize,
            events.as_mut_ptr() as usize,
            events.len(),
            timeout_ms as usize,
            0,
            8,
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
