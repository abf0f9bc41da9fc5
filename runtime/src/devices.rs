//! The `wafer:board` device functions (`wafer_abi::devices`) for core modules: one
//! exported symbol per function, lowered as the canonical ABI lowers them (handles as
//! `i32`, results through a return pointer), over the host core's GPIO claims.

use crate::guest::GuestMemory;
use crate::host::gpio::{self, PinError};
use wafer_abi::devices::error_code;

fn code(error: PinError) -> u8 {
    match error {
        PinError::NotGranted => error_code::NOT_GRANTED,
        PinError::NoSuchPin => error_code::NO_SUCH_PIN,
        PinError::Busy => error_code::BUSY,
        PinError::Other => error_code::OTHER,
    }
}

/// Writes a `result<T, error-code>` at `ret`: the discriminant, then at `payload_offset`
/// (the alignment of the larger case) the ok value's bytes or the error code.
fn store_result(memory: &GuestMemory, ret: i32, ok: Result<&[u8], PinError>, payload_offset: u32) {
    let ret = ret as u32;
    // A bad return pointer is the guest's bug: nothing can be reported through it.
    let (discriminant, payload) = match ok {
        Ok(bytes) => (0u8, bytes),
        Err(error) => (1u8, &[code(error)][..]),
    };
    let _ = memory
        .write(ret, &[discriminant])
        .and_then(|()| memory.write(ret.wrapping_add(payload_offset), payload));
}

/// `[static]output-pin.claim(number: u32) -> result<output-pin, error-code>`.
///
/// # Safety
/// `vmctx` must be the calling instance's VM context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_board_digital_claim(vmctx: *mut u8, number: i32, ret: i32) {
    // SAFETY: compiled code passes its own VM context.
    let memory = unsafe { GuestMemory::for_wasi(vmctx) };
    let claimed = gpio::claim(number as u32).map(u32::to_le_bytes);
    store_result(
        &memory,
        ret,
        claimed.as_ref().map(|b| &b[..]).map_err(|e| *e),
        4,
    );
}

fn unit_result(vmctx: *mut u8, ret: i32, outcome: Result<(), PinError>) {
    // SAFETY: the exported functions pass their VM context on.
    let memory = unsafe { GuestMemory::for_wasi(vmctx) };
    store_result(&memory, ret, outcome.map(|()| &[][..]), 1);
}

/// `[method]output-pin.set-low(self) -> result<_, error-code>`.
///
/// # Safety
/// `vmctx` must be the calling instance's VM context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_board_digital_set_low(vmctx: *mut u8, pin: i32, ret: i32) {
    unit_result(vmctx, ret, gpio::set(pin as u32, false));
}

/// `[method]output-pin.set-high(self) -> result<_, error-code>`.
///
/// # Safety
/// `vmctx` must be the calling instance's VM context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_board_digital_set_high(vmctx: *mut u8, pin: i32, ret: i32) {
    unit_result(vmctx, ret, gpio::set(pin as u32, true));
}

/// `[method]output-pin.toggle(self) -> result<_, error-code>`.
///
/// # Safety
/// `vmctx` must be the calling instance's VM context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_board_digital_toggle(vmctx: *mut u8, pin: i32, ret: i32) {
    let outcome = gpio::get(pin as u32).and_then(|high| gpio::set(pin as u32, !high));
    unit_result(vmctx, ret, outcome);
}

/// `[method]output-pin.is-set-high(self) -> result<bool, error-code>`.
///
/// # Safety
/// `vmctx` must be the calling instance's VM context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_board_digital_is_set_high(vmctx: *mut u8, pin: i32, ret: i32) {
    // SAFETY: compiled code passes its own VM context.
    let memory = unsafe { GuestMemory::for_wasi(vmctx) };
    let level = gpio::get(pin as u32).map(|high| [u8::from(high)]);
    store_result(
        &memory,
        ret,
        level.as_ref().map(|b| &b[..]).map_err(|e| *e),
        1,
    );
}

/// `[resource-drop]output-pin(self)`.
///
/// # Safety
/// `vmctx` must be the calling instance's VM context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_board_digital_drop(_vmctx: *mut u8, pin: i32) {
    gpio::release(pin as u32);
}

/// `delay-ns(ns: u32)`.
///
/// # Safety
/// `vmctx` must be the calling instance's VM context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_board_delay_ns(_vmctx: *mut u8, ns: i32) {
    let _ = gpio::delay(ns as u32 as u64);
}

/// `delay-us(us: u32)`.
///
/// # Safety
/// `vmctx` must be the calling instance's VM context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_board_delay_us(_vmctx: *mut u8, us: i32) {
    let _ = gpio::delay(us as u32 as u64 * 1_000);
}

/// `delay-ms(ms: u32)`.
///
/// # Safety
/// `vmctx` must be the calling instance's VM context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_board_delay_ms(_vmctx: *mut u8, ms: i32) {
    let _ = gpio::delay(ms as u32 as u64 * 1_000_000);
}
