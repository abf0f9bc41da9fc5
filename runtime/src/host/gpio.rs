//! GPIO pins the image was granted, claimed as output pins: a small table of claims,
//! each with the pin it drives.

use crate::errno::{Errno, Result};
use crate::global::Global;
use crate::sys::{Current, Platform};
use wafer_abi::grants::Grant;

/// Pins that may be claimed at once.
const CLAIMS: usize = 32;

static CLAIMED: Global<[Option<u32>; CLAIMS]> = Global::new([None; CLAIMS]);

/// Why a pin operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinError {
    /// The image was not granted the pin (or the handle names no claim).
    NotGranted,
    /// The board has no such pin.
    NoSuchPin,
    /// The pin is already claimed.
    Busy,
    /// The device failed.
    Other,
}

impl From<Errno> for PinError {
    fn from(err: Errno) -> Self {
        match err {
            Errno::INVAL => PinError::NoSuchPin,
            Errno::NOSYS => PinError::NoSuchPin,
            _ => PinError::Other,
        }
    }
}

fn granted(pin: u32) -> bool {
    super::grants::grants().any(|grant| grant == Grant::Gpio(pin))
}

/// Claims granted `pin` as an output driven low; returns its handle (1 and up).
pub fn claim(pin: u32) -> core::result::Result<u32, PinError> {
    if !granted(pin) {
        return Err(PinError::NotGranted);
    }
    let slot = CLAIMED.with(|claims| {
        if claims.contains(&Some(pin)) {
            return Err(PinError::Busy);
        }
        let free = claims
            .iter()
            .position(Option::is_none)
            .ok_or(PinError::Busy)?;
        if let Some(slot) = claims.get_mut(free) {
            *slot = Some(pin);
        }
        Ok(free)
    })?;
    let set_up = Current::gpio_set(pin, false).and_then(|()| Current::gpio_make_output(pin));
    if let Err(err) = set_up {
        release(slot as u32 + 1);
        return Err(err.into());
    }
    Ok(slot as u32 + 1)
}

/// The pin a handle drives.
fn pin(handle: u32) -> core::result::Result<u32, PinError> {
    let index = (handle as usize)
        .checked_sub(1)
        .ok_or(PinError::NotGranted)?;
    CLAIMED
        .with(|claims| claims.get(index).copied().flatten())
        .ok_or(PinError::NotGranted)
}

/// Drives the claimed pin.
pub fn set(handle: u32, high: bool) -> core::result::Result<(), PinError> {
    Ok(Current::gpio_set(pin(handle)?, high)?)
}

/// The claimed pin's level.
pub fn get(handle: u32) -> core::result::Result<bool, PinError> {
    Ok(Current::gpio_get(pin(handle)?)?)
}

/// Ends a claim.
pub fn release(handle: u32) {
    if let Some(index) = (handle as usize).checked_sub(1) {
        CLAIMED.with(|claims| {
            if let Some(slot) = claims.get_mut(index) {
                *slot = None;
            }
        });
    }
}

/// Waits at least `ns` nanoseconds.
pub fn delay(ns: u64) -> Result {
    let now = Current::now(crate::sys::Clock::Monotonic)?;
    Current::sleep_until(now.saturating_add(ns))
}
