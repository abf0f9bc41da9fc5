//! The contract between code compiled by wafer and the wafer runtime.
//!
//! Everything the two sides must agree on lives here and nowhere else:
//!
//! * [`symbols`]: the names of every symbol one side defines and the other uses;
//! * [`vmctx`]: the layout of an instance's VM context, computed for the *target's*
//!   pointer width;
//! * [`image`]: the image descriptor the compiler emits and the runtime reads at start-up;
//! * [`trap`]: trap kinds, their messages, and the trap table format;
//! * [`component`]: the descriptor of a component image's instances and handle tables,
//!   and the results of the runtime's canonical built-ins;
//! * [`grants`]: the capability grants stored in an image;
//! * [`wasi`]: the WASI preview1 import signatures and errno values;
//! * [`wasi_p2`]: the WASI 0.2 host functions, host resource types and the
//!   canonical-ABI context of component imports.
//!
//! The crate is `no_std`, has no dependencies and no unsafe code, so both the compiler
//! (on the host) and the runtime (on every target) can use it.

#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod component;
pub mod devices;
pub mod exceptions;
pub mod files;
pub mod grants;
pub mod harness;
pub mod image;
pub mod symbols;
pub mod trap;
pub mod vmctx;
pub mod wasi;
pub mod wasi_p2;

mod bytes;

/// Wasm page size for memories that use the default page size (64 KiB).
pub const WASM_PAGE_SIZE: u64 = 65536;

/// Address space reserved for each 32-bit linear memory on 64-bit hosts: any `u32` index
/// plus any `u32` static offset plus a 16-byte access stays inside it, so compiled code
/// needs no bounds checks. Pages past the memory's current size are inaccessible.
pub const GUARDED_MEMORY_RESERVATION: u64 = (1 << 33) + (1 << 16);

/// Where an x86_64 Linux image places the one linear memory its code addresses as a
/// constant (see `wafer::codegen::fixed_memory`): a 32-bit displacement then holds the
/// base, so `mov disp32(%index)` reaches guest memory with no register kept for it. It
/// lies above any image (images load at 4 MiB and must end below it), above the 1.4 GiB
/// where Valgrind loads itself, and 512 MiB below 2 GiB, so the displacement plus a
/// static offset under 512 MiB still fits the signed 32-bit field. The reservation runs
/// from here to 9.5 GiB.
pub const FIXED_MEMORY_BASE: u64 = 0x6000_0000;

/// The most elements a table may have (the address space the runtime reserves for it).
/// Larger initial sizes are a build error; `table.grow` past it fails.
pub const MAX_TABLE_ELEMENTS: u64 = 1 << 26;

/// Exit status of a process whose guest trapped (the shell's value for SIGABRT).
pub const TRAP_EXIT_CODE: i32 = 134;

/// Exit status of a process whose entry point let an exception escape (wasmtime's).
pub const UNCAUGHT_EXCEPTION_EXIT_CODE: i32 = 1;

/// Exit status when the runtime itself fails (an internal error, not a guest trap).
pub const INTERNAL_ERROR_EXIT_CODE: i32 = 70;
