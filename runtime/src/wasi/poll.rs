//! `poll_oneoff`: waiting for clocks and descriptor readiness.

use super::fd;
use super::{Errno, WasiResult, le_bytes};
use crate::guest::GuestMemory;
use crate::host::{self, poll::Target};
use crate::sys::{Clock, Interest};
use wafer_abi::wasi::{errno, event};

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
        target: Target,
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
            let interest = if kind == event::FD_READ {
                Interest::Read
            } else {
                Interest::Write
            };
            Ok(Subscription::Fd {
                userdata,
                kind,
                target: fd::get(fd)?.poll_target(interest)?,
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
        monotonic: host::now(Clock::Monotonic)?,
        realtime: host::now(Clock::Realtime)?,
    };

    // First pass: validate everything, gather the descriptors and the earliest deadline.
    let mut targets = [Target::default(); MAX_POLL_FDS];
    let mut target_count = 0;
    let mut earliest: Option<u64> = None;
    for subscription in subscriptions(memory, subs, count, &start) {
        match subscription? {
            Subscription::Clock { deadline, .. } => {
                earliest = Some(earliest.map_or(deadline, |e| e.min(deadline)));
            }
            Subscription::Fd { target, .. } => {
                *targets.get_mut(target_count).ok_or(Errno(errno::NOMEM))? = target;
                target_count += 1;
            }
        }
    }
    let targets = targets.get_mut(..target_count).unwrap_or_default();
    host::poll::wait(targets, earliest)?;

    // Second pass: one event per ready subscription, in subscription order.
    let now = host::now(Clock::Monotonic)?;
    let mut written = 0u32;
    let mut next_target = targets.iter();
    for subscription in subscriptions(memory, subs, count, &start) {
        let out = match subscription? {
            Subscription::Clock { userdata, deadline } => {
                if deadline > now {
                    continue;
                }
                encode_event(userdata, 0, event::CLOCK, 0, 0)
            }
            Subscription::Fd { userdata, kind, .. } => {
                let Some(target) = next_target.next().filter(|t| t.is_ready()) else {
                    continue;
                };
                let found = target.event();
                let hangup = if found.hangup {
                    event::FD_READWRITE_HANGUP
                } else {
                    0
                };
                let error = found.error.map_or(0, |Errno(code)| code);
                encode_event(userdata, error, kind, found.nbytes, hangup)
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
