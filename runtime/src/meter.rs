//! The meter of `--fuel` and `--deadline`: compiled code counts down `wafer_rt_meter`
//! and calls [`wafer_rt_meter_exhausted`] when it goes below zero at a check (the scheme
//! is described in the compiler's `metering.rs`). Only metered images reference either
//! symbol, so others carry none of this.
//!
//! The meter starts at zero, so the first check after the first charge lands here, which
//! is when the budget and the deadline are read from the image: no start-up code needed.

use core::sync::atomic::{AtomicI64, Ordering};

use wafer_abi::trap::TrapKind;

use crate::global::Global;
use crate::sys::Clock;

/// What compiled code may still do before it asks again. Compiled code reads and writes
/// it with plain 64-bit loads and stores, which an `AtomicI64` has the layout of.
#[unsafe(export_name = "wafer_rt_meter")]
pub static METER: AtomicI64 = AtomicI64::new(0);

/// Checks between two readings of the clock when only a deadline is set (each loop
/// iteration and call is one check): frequent enough to stop within microseconds.
const TICKS_PER_CLOCK_READING: i64 = 10_000;

/// Fuel between two readings of the clock when both are set.
const FUEL_PER_CLOCK_READING: i64 = 100_000;

struct State {
    started: bool,
    /// The budget not yet handed to compiled code (`None`: no fuel limit).
    fuel_left: Option<i64>,
    /// The monotonic clock's reading at which the program is out of time.
    deadline: Option<u64>,
    /// What the meter was last set to, so what was used since is `handed_out - meter`.
    handed_out: i64,
}

static STATE: Global<State> = Global::new(State {
    started: false,
    fuel_left: None,
    deadline: None,
    handed_out: 0,
});

fn monotonic_now() -> u64 {
    crate::host::now(Clock::Monotonic).unwrap_or(0)
}

/// Called by compiled code with the meter stored and below zero: charges what was used,
/// then returns the next stretch, or a negated trap code when the fuel is gone (`-47`)
/// or the deadline has passed (`-48`); the caller traps with that kind. The answer is
/// stored in the meter too, where the compiler's register-preserving shim, which returns
/// nothing, lets compiled code read it.
#[unsafe(no_mangle)]
pub extern "C" fn wafer_rt_meter_exhausted() -> i64 {
    let answer = next_stretch();
    METER.store(answer, Ordering::Relaxed);
    answer
}

fn next_stretch() -> i64 {
    STATE.with(|state| {
        if !state.started {
            state.started = true;
            let image = crate::image::descriptor();
            state.fuel_left = (image.fuel != 0).then(|| image.fuel.min(i64::MAX as u64) as i64);
            state.deadline = (image.deadline_nanos != 0)
                .then(|| monotonic_now().saturating_add(image.deadline_nanos));
        }
        let used = state.handed_out - METER.load(Ordering::Relaxed);
        let next = match (&mut state.fuel_left, state.deadline) {
            (Some(fuel), deadline) => {
                *fuel -= used;
                if *fuel < 0 {
                    return -(TrapKind::OutOfFuel as i64);
                }
                match deadline {
                    Some(_) => (*fuel).min(FUEL_PER_CLOCK_READING),
                    None => *fuel,
                }
            }
            (None, _) => TICKS_PER_CLOCK_READING,
        };
        if state
            .deadline
            .is_some_and(|deadline| monotonic_now() >= deadline)
        {
            return -(TrapKind::DeadlineExceeded as i64);
        }
        state.handed_out = next;
        next
    })
}
