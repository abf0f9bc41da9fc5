//! `wasi:clocks` and `wasi:random`.

use wafer_abi::wasi_p2::resource;

use super::io::Wait;
use super::objects::Object;
use super::{Call, HostResult, host_fns};
use crate::host;
use crate::sys::Clock;

/// The monotonic clock, in nanoseconds (0 if the platform refuses, which none does for
/// this clock).
pub(super) fn monotonic_now() -> u64 {
    host::now(Clock::Monotonic).unwrap_or(0)
}

/// Stores a `datetime` (`seconds: u64, nanoseconds: u32`) at `ret`.
fn store_datetime(call: &Call, ret: i32, ns: u64) -> HostResult<()> {
    call.store_u64(ret as u32, ns / 1_000_000_000)?;
    call.store_u32(ret as u32 + 8, (ns % 1_000_000_000) as u32)
}

/// A pollable ready once the monotonic clock reaches `deadline`.
fn subscribe(call: &Call, deadline: u64) -> HostResult<u32> {
    call.new_object(
        resource::POLLABLE,
        Object::Pollable(Wait::Deadline(deadline)),
    )
}

/// `len` random bytes as a `list<u8>`, stored at `ret`.
fn random_bytes(call: &Call, len: i64, ret: i32) -> HostResult<()> {
    let len = u32::try_from(len as u64).map_err(|_| wafer_abi::trap::TrapKind::ListOutOfBounds)?;
    let ptr = call.allocate(1, len)?;
    let target = call
        .memory()
        .range(ptr, len)
        .map_err(|_| wafer_abi::trap::TrapKind::ListOutOfBounds)?;
    // SAFETY: `range` checked the buffer, which lies in guest memory. The platform fails
    // only if it has no entropy source at all, when the guest gets what is there.
    let _ = unsafe { host::random(target, len as usize) };
    call.store_u32(ret as u32, ptr)?;
    call.store_u32(ret as u32 + 4, len)
}

/// A random `u64`.
fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    // SAFETY: `bytes` is writable for 8 bytes.
    let _ = unsafe { host::random(bytes.as_mut_ptr(), bytes.len()) };
    u64::from_le_bytes(bytes)
}

host_fns! {
    /// `wasi:clocks/monotonic-clock.now`.
    wafer_p2_clocks_monotonic_now() -> u64 => |_| Ok(monotonic_now());
    /// `wasi:clocks/monotonic-clock.resolution`.
    wafer_p2_clocks_monotonic_resolution() -> u64 => |_| Ok(host::resolution(Clock::Monotonic).unwrap_or(1));
    /// `wasi:clocks/monotonic-clock.subscribe-instant`.
    wafer_p2_clocks_subscribe_instant(when: i64) -> u32 => |call, when: i64| subscribe(call, when as u64);
    /// `wasi:clocks/monotonic-clock.subscribe-duration`.
    wafer_p2_clocks_subscribe_duration(duration: i64) -> u32 => |call, duration: i64| {
        subscribe(call, monotonic_now().saturating_add(duration as u64))
    };
    /// `wasi:clocks/wall-clock.now`.
    wafer_p2_clocks_wall_now(ret: i32) => |call, ret| {
        store_datetime(call, ret, host::now(Clock::Realtime).unwrap_or(0))
    };
    /// `wasi:clocks/wall-clock.resolution`.
    wafer_p2_clocks_wall_resolution(ret: i32) => |call, ret| {
        store_datetime(call, ret, host::resolution(Clock::Realtime).unwrap_or(1))
    };
    /// `wasi:random/random.get-random-bytes`.
    wafer_p2_random_get_random_bytes(len: i64, ret: i32) => random_bytes;
    /// `wasi:random/random.get-random-u64`.
    wafer_p2_random_get_random_u64() -> u64 => |_| Ok(random_u64());
    /// `wasi:random/insecure.get-insecure-random-bytes`.
    wafer_p2_random_get_insecure_random_bytes(len: i64, ret: i32) => random_bytes;
    /// `wasi:random/insecure.get-insecure-random-u64`.
    wafer_p2_random_get_insecure_random_u64() -> u64 => |_| Ok(random_u64());
    /// `wasi:random/insecure-seed.insecure-seed`: `tuple<u64, u64>`.
    wafer_p2_random_insecure_seed(ret: i32) => |call: &Call, ret: i32| {
        call.store_u64(ret as u32, random_u64())?;
        call.store_u64(ret as u32 + 8, random_u64())
    };
}
