//! The wafer runtime: the native code linked into every image next to the compiled wasm.
//!
//! It provides the process entry point, linear memories and tables, the trap reporter,
//! the WASI host functions and the helpers compiled code calls. It is `no_std`; only
//! the component model's state (handle tables, the harness's values) allocates, from
//! [`heap`] (a board's heap on boards), so images without it never allocate.
//! Everything it needs from the OS or board goes through the [`sys::Platform`]
//! interface, which each platform implements once.
//!
//! Compiled code and the runtime agree only through the `wafer-abi` crate.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

// Linked for its `memcpy` & co., which nothing references by name from Rust.
use wafer_rt_mem as _;

/// The allocator of images on platforms with virtual memory (boards install theirs).
#[cfg(all(feature = "image", not(test), not(target_os = "none")))]
#[global_allocator]
static ALLOCATOR: heap::Allocator = heap::Allocator;

pub mod chacha;
pub mod component;
pub mod devices;
pub mod entry;
pub mod errno;
pub mod exceptions;
pub mod fiber;
pub mod global;
pub mod guest;
pub mod harness;
#[cfg(not(target_os = "none"))]
pub mod heap;
pub mod host;
pub mod http;
pub mod image;
pub mod math;
pub mod memory;
pub mod meter;
pub mod out;
pub mod p2;
pub mod slots;
pub mod stack;
pub mod sys;
pub mod table;
pub mod trap;
pub mod wasi;

/// Reports an internal runtime failure (not a guest trap) and exits with
/// [`wafer_abi::INTERNAL_ERROR_EXIT_CODE`].
pub fn fatal(message: &[u8]) -> ! {
    let mut line = out::Line::new();
    line.str(b"wafer: internal error: ").str(message).str(b"\n");
    line.write_to(2);
    host::exit(wafer_abi::INTERNAL_ERROR_EXIT_CODE)
}

#[cfg(all(feature = "image", not(test)))]
#[panic_handler]
fn on_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    // Format nothing: core::fmt would add kilobytes to every image.
    let mut line = out::Line::new();
    line.str(b"wafer: internal error: runtime panic");
    if let Some(location) = info.location() {
        line.str(b" at ")
            .str(location.file().as_bytes())
            .str(b":")
            .dec(location.line() as u64);
    }
    line.str(b"\n").write_to(2);
    host::exit(wafer_abi::INTERNAL_ERROR_EXIT_CODE)
}
