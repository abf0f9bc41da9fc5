//! Board devices a core module may import besides WASI: the `wafer:board@0.1.0` WIT
//! package (`wit/wafer-board/`), as a component's `canon lower` would give its functions.
//! The compiler checks each import's signature here and calls the runtime symbol; the
//! runtime implements them on boards (and answers `not-granted` elsewhere).

use crate::wasi::ValType::{self, I32};

/// The digital pins interface.
pub const DIGITAL: &str = "wafer:board/digital@0.1.0";
/// The delay interface.
pub const DELAY: &str = "wafer:board/delay@0.1.0";

/// One device function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceFunc {
    /// The import's module name (the interface).
    pub module: &'static str,
    /// The import's field name.
    pub name: &'static str,
    /// Parameter types (after the caller's VM context, which the runtime gets first).
    pub params: &'static [ValType],
    /// Result types.
    pub results: &'static [ValType],
    /// The runtime's symbol.
    pub symbol: &'static str,
}

const fn f(
    module: &'static str,
    name: &'static str,
    params: &'static [ValType],
    symbol: &'static str,
) -> DeviceFunc {
    DeviceFunc {
        module,
        name,
        params,
        results: &[],
        symbol,
    }
}

/// Every device function. Results of type `result<..>` go through a return pointer (the
/// last parameter): a discriminant byte at offset 0 (0 ok, 1 error), then the payload at
/// its alignment: the pin handle (`u32`) at 4, a `bool` or an error code (`u8`) at 1.
pub const DEVICES: &[DeviceFunc] = &[
    f(
        DIGITAL,
        "[static]output-pin.claim",
        &[I32, I32],
        "wafer_board_digital_claim",
    ),
    f(
        DIGITAL,
        "[method]output-pin.set-low",
        &[I32, I32],
        "wafer_board_digital_set_low",
    ),
    f(
        DIGITAL,
        "[method]output-pin.set-high",
        &[I32, I32],
        "wafer_board_digital_set_high",
    ),
    f(
        DIGITAL,
        "[method]output-pin.is-set-high",
        &[I32, I32],
        "wafer_board_digital_is_set_high",
    ),
    f(
        DIGITAL,
        "[method]output-pin.toggle",
        &[I32, I32],
        "wafer_board_digital_toggle",
    ),
    f(
        DIGITAL,
        "[resource-drop]output-pin",
        &[I32],
        "wafer_board_digital_drop",
    ),
    f(DELAY, "delay-ns", &[I32], "wafer_board_delay_ns"),
    f(DELAY, "delay-us", &[I32], "wafer_board_delay_us"),
    f(DELAY, "delay-ms", &[I32], "wafer_board_delay_ms"),
];

/// The device function a module imports as `module.name`.
pub fn device(module: &str, name: &str) -> Option<&'static DeviceFunc> {
    DEVICES
        .iter()
        .find(|func| func.module == module && func.name == name)
}

/// `error-code` of the digital interface.
pub mod error_code {
    /// The image was not granted this pin.
    pub const NOT_GRANTED: u8 = 0;
    /// The board has no such pin.
    pub const NO_SUCH_PIN: u8 = 1;
    /// Another resource holds the pin.
    pub const BUSY: u8 = 2;
    /// The device failed.
    pub const OTHER: u8 = 3;
}
