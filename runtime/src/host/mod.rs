//! The host core: what every WASI ABI shares, written once over the platform.
//!
//! - [`grants`]: what the image was granted (directories, listeners, environment) and
//!   the guest's arguments and environment;
//! - [`descriptor`]: open descriptors (stdio, files, directories, sockets) with their
//!   access mode, read-only grant and rights, and every operation on them, with the
//!   checks and errnos every ABI gives (wasmtime's, where the spec leaves them open);
//! - [`net`]: the network grants and the socket operations, checked against them;
//! - [`dns`]: name lookup (`/etc/hosts`, then DNS over UDP), without a C library;
//! - [`poll`]: waiting for descriptors and clocks;
//! - [`rights`]: the capability rights of each kind of descriptor.
//!
//! The ABIs above (`wasi` for preview1) translate guest memory and numbering into
//! calls here; the platform below (`sys::Platform`) does the I/O. Nothing here names an
//! OS or a board.

pub mod descriptor;
pub mod dns;
pub mod gpio;
pub mod grants;
pub mod net;
pub mod poll;
pub mod rights;

pub use crate::errno::{Errno, Result};
pub use descriptor::{Access, Descriptor, Kind};

use crate::sys::{Clock, Current, Platform};

/// The time of `clock` in nanoseconds.
pub fn now(clock: Clock) -> Result<u64> {
    Current::now(clock)
}

/// The resolution of `clock` in nanoseconds.
pub fn resolution(clock: Clock) -> Result<u64> {
    Current::resolution(clock)
}

/// Fills `len` bytes at `dst` with random bytes.
///
/// # Safety
/// `dst` must be writable for `len` bytes.
pub unsafe fn random(dst: *mut u8, len: usize) -> Result {
    // SAFETY: forwarded from the caller.
    unsafe { Current::random(dst, len) }
}

/// Lets other work run.
pub fn yield_now() {
    Current::yield_now()
}

/// Raises WASI signal `signal` with its default action.
pub fn raise(signal: u8) -> Result {
    Current::raise(signal)
}

/// Ends the program with `code`.
pub fn exit(code: i32) -> ! {
    Current::exit(code)
}

/// Appends a short description of `err` to `line`, for start-up errors.
pub fn describe(line: &mut crate::out::Line, err: Errno) {
    let text: &[u8] = match err {
        Errno::PERM => b"operation not permitted",
        Errno::NOENT => b"no such file or directory",
        Errno::ACCES => b"permission denied",
        Errno::NOTDIR => b"not a directory",
        Errno::MFILE => b"too many open files",
        Errno(errno) if errno == wafer_abi::wasi::errno::ADDRINUSE => b"address already in use",
        Errno(errno) if errno == wafer_abi::wasi::errno::ADDRNOTAVAIL => b"address not available",
        Errno(errno) if errno == wafer_abi::wasi::errno::AFNOSUPPORT => {
            b"address family not supported"
        }
        Errno(errno) if errno == wafer_abi::wasi::errno::NOSYS => b"not supported here",
        Errno(errno) => {
            line.str(b"errno ").dec(errno as u64);
            return;
        }
    };
    line.str(text);
}
