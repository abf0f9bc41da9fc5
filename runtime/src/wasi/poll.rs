//! `poll_oneoff`: waiting for clocks and descriptor readiness.

use super::fd::{self, FdKind, READ, WRITE};
use super::{Errno, WasiResult, le_bytes};
use crate::guest::GuestMemory;
use crate::sys::{self, fs, poll};
use wafer_abi::wasi::{errno, event, rights};

/// Descriptor subscriptions one call may wait on.
const MAX_POLL_FDS: usize = 512;

const CLOCK_REALTIME: u32 = 0;
const CLOCK_MONOTONIC: u32 = 1;

/// One parsed subscription.
enum Subscription {
    /// Due at `deadline` on the monotonic clock.
    Clock { userdata: u64, deadline: u64 },
    /// Readiness of a descriptor.
    Fd {
        userdata: u64,
        kind: u8,
        host_fd: i32,
        /// Regular files never block: always ready.
        always_ready: bool,
    },
}

/// The clocks when the call began, so every pass computes the same deadlines.
struct Start {
    monotonic: u64,
    realtime: u64,
}

fn read_subscription(memory: &GuestMemory, at: u32, start: &Start) -> WasiResult<Subscription> {
    let bytes: [u8; event::SUBSCRIPTION_SIZE as usize] = memory.read(at)?;
    let userdata = u64::from_le_bytes(le_bytes(&bytes, 0));
    match u8::from_le_bytes(le_bytes(&bytes, 8)) {
        event::CLOCK => {
            let id = u32::from_le_bytes(le_bytes(&bytes, 16));
            let timeout = u64::from_le_bytes(le_bytes(&bytes, 24));
            let flags = u16::from_le_bytes(le_bytes(&bytes, 40));
            if flags & !event::CLOCK_ABSTIME != 0 {
                return Err(Errno(errno::INVAL));
            }
            let absolute = flags & event::CLOCK_ABSTIME != 0;
            // The CPU-time clocks cannot be waited on alongside descriptors (and
            // wasmtime refuses them too).
            let remaining = match (id, absolute) {
                (CLOCK_MONOTONIC | CLOCK_REALTIME, false) => timeout,
                (CLOCK_MONOTONIC, true) => timeout.saturating_sub(start.monotonic),
                (CLOCK_REALTIME, true) => timeout.saturating_sub(start.realtime),
                _ => return Err(Errno(errno::INVAL)),
            };
            Ok(Subscription::Clock {
                userdata,
                deadline: start.monotonic.saturating_add(remaining),
            })
        }
        kind @ (event::FD_READ | event::FD_WRITE) => {
            let fd = i32::from_le_bytes(le_bytes(&bytes, 16));
            let entry = fd::get(fd)?;
            let direction = if kind == event::FD_READ { READ } else { WRITE };
            let always_ready = match entry.kind {
                FdKind::Directory { .. } => return Err(Errno(errno::BADF)),
                FdKind::Stdio => {
                    entry.opened_for(direction)?;
                    false
                }
                FdKind::Socket { .. } => false,
                FdKind::File => fs::fstat(entry.host_fd)?.file_type() == fs::S_IFREG,
            };
            entry.require(rights::POLL_FD_READWRITE)?;
            Ok(Subscription::Fd {
                userdata,
                kind,
                host_fd: entry.host_fd,
                always_ready,
            })
        }
        _ => Err(Errno(errno::INVAL)),
    }
}

fn subscriptions<'m>(
    memory: &'m GuestMemory,
    subs: u32,
    count: u32,
    start: &'m Start,
) -> impl Iterator<Item = WasiResult<Subscription>> + 'm {
    (0..count).map(move |i| read_subscription(memory, subs + i * event::SUBSCRIPTION_SIZE, start))
}

pub(super) fn poll_oneoff(
    memory: &GuestMemory,
    subs: i32,
    events: i32,
    count: i32,
    nevents: i32,
) -> WasiResult {
    let (subs, events, count) = (subs as u32, events as u32, count as u32);
    if count == 0 {
        return Err(Errno(errno::INVAL));
    }
    let fault = Errno(errno::FAULT);
    let subs_len = count.checked_mul(event::SUBSCRIPTION_SIZE).ok_or(fault)?;
    let events_len = count.checked_mul(event::EVENT_SIZE).ok_or(fault)?;
    memory.range(subs, subs_len)?;
    memory.range(events, events_len)?;
    // Subscriptions are read twice (to wait, then to report) with events written in
    // between; arrays that overlap would change what the second reading sees.
    let subs_end = subs as u64 + subs_len as u64;
    let events_end = events as u64 + events_len as u64;
    if (subs as u64) < events_end && (events as u64) < subs_end {
        return Err(Errno(errno::INVAL));
    }
    let start = Start {
        monotonic: sys::clock_gettime(CLOCK_MONOTONIC)?,
        realtime: sys::clock_gettime(CLOCK_REALTIME)?,
    };

    // First pass: validate everything, gather the descriptors and the earliest deadline.
    let mut fds = [poll::PollFd::default(); MAX_POLL_FDS];
    let mut fd_count = 0;
    let mut earliest: Option<u64> = None;
    let mut ready_now = false;
    for subscription in subscriptions(memory, subs, count, &start) {
        match subscription? {
            Subscription::Clock { deadline, .. } => {
                earliest = Some(earliest.map_or(deadline, |e| e.min(deadline)));
                ready_now |= deadline <= start.monotonic;
            }
            Subscription::Fd {
                always_ready: true, ..
            } => ready_now = true,
            Subscription::Fd { kind, host_fd, .. } => {
                let slot = fds.get_mut(fd_count).ok_or(Errno(errno::NOMEM))?;
                *slot = poll::PollFd {
                    fd: host_fd,
                    events: if kind == event::FD_READ {
                        poll::POLLIN
                    } else {
                        poll::POLLOUT
                    },
                    revents: 0,
                };
                fd_count += 1;
            }
        }
    }

    // Wait.
    loop {
        let now = sys::clock_gettime(CLOCK_MONOTONIC)?;
        let timeout = if ready_now {
            Some(0)
        } else {
            earliest.map(|deadline| deadline.saturating_sub(now))
        };
        if fd_count == 0 {
            if let Some(deadline) = earliest.filter(|_| !ready_now) {
                poll::sleep(CLOCK_MONOTONIC, poll::TIMER_ABSTIME, deadline)?;
            }
            break;
        }
        match poll::ppoll(fds.get_mut(..fd_count).unwrap_or_default(), timeout) {
            Ok(_) => break,
            Err(sys::Errno::INTR) => continue,
            Err(err) => return Err(err.into()),
        }
    }

    // Second pass: one event per ready subscription, in subscription order.
    let now = sys::clock_gettime(CLOCK_MONOTONIC)?;
    let mut written = 0u32;
    let mut fd_index = 0;
    for subscription in subscriptions(memory, subs, count, &start) {
        let out = match subscription? {
            Subscription::Clock { userdata, deadline } => {
                if deadline > now {
                    continue;
                }
                encode_event(userdata, 0, event::CLOCK, 0, 0)
            }
            Subscription::Fd {
                userdata,
                kind,
                host_fd,
                always_ready,
            } => {
                let (nbytes, flags, error) = if always_ready {
                    (file_bytes(host_fd, kind), 0, 0)
                } else {
                    let revents = fds.get(fd_index).map_or(0, |fd| fd.revents);
                    fd_index += 1;
                    if revents == 0 {
                        continue;
                    }
                    fd_event(host_fd, kind, revents)
                };
                encode_event(userdata, error, kind, nbytes, flags)
            }
        };
        memory.write(events + written * event::EVENT_SIZE, &out)?;
        written += 1;
    }
    memory.write_u32(nevents as u32, written)?;
    Ok(())
}

/// An `event` record.
fn encode_event(userdata: u64, error: u16, kind: u8, nbytes: u64, flags: u16) -> [u8; 32] {
    let mut out = [0u8; event::EVENT_SIZE as usize];
    let fields: [(usize, &[u8]); 5] = [
        (0, &userdata.to_le_bytes()),
        (8, &error.to_le_bytes()),
        (10, &[kind]),
        (16, &nbytes.to_le_bytes()),
        (24, &flags.to_le_bytes()),
    ];
    for (offset, bytes) in fields {
        if let Some(slot) = out.get_mut(offset..offset + bytes.len()) {
            slot.copy_from_slice(bytes);
        }
    }
    out
}

/// For a regular file: the bytes left to read from the current position (writes can
/// always proceed; 0 says nothing about how much).
fn file_bytes(host_fd: i32, kind: u8) -> u64 {
    if kind != event::FD_READ {
        return 0;
    }
    let size = fs::fstat(host_fd).map_or(0, |stat| stat.size);
    let position = sys::lseek(host_fd, 0, 1).unwrap_or(size);
    size.saturating_sub(position)
}

/// Event fields (nbytes, flags, error) for a descriptor `ppoll` reported.
fn fd_event(host_fd: i32, kind: u8, revents: i16) -> (u64, u16, u16) {
    if revents & poll::POLLNVAL != 0 {
        return (0, 0, errno::BADF);
    }
    let hangup = if revents & poll::POLLHUP != 0 {
        event::FD_READWRITE_HANGUP
    } else {
        0
    };
    if revents & poll::POLLERR != 0 && revents & (poll::POLLIN | poll::POLLOUT) == 0 {
        return (0, hangup, errno::IO);
    }
    let nbytes = if kind == event::FD_READ {
        fs::bytes_readable(host_fd).unwrap_or(0)
    } else {
        0
    };
    (nbytes, hangup, 0)
}
