//! WASI preview1 host functions.
//!
//! Every function of `wafer_abi::wasi::PREVIEW1` has an exported symbol (see
//! `wafer_abi::symbols::WASI_PREVIEW1_PREFIX`), defined in `preview1` and implemented
//! by concept: descriptors in `files`, paths in `paths`, waiting in `poll` and sockets
//! in `sockets`. Everything runs inside the image's grants: the descriptor table
//! ([`fd`]) holds only stdio and what was granted, and every path is resolved beneath
//! a granted directory (`sys::beneath`).
//!
//! Where the spec leaves an error open, the errno is the one wasmtime gives, so programs
//! behave alike under both; the few deliberate differences are listed in
//! ARCHITECTURE.md.

pub mod fd;
mod files;
mod paths;
mod poll;
mod preview1;
mod sockets;

use crate::guest::GuestMemory;
use crate::sys::{FileKind, IoVec, PATH_MAX};
use wafer_abi::wasi::{errno, filetype};

pub use crate::errno::Errno;

/// Result of a host function.
pub type WasiResult<T = ()> = crate::errno::Result<T>;

/// A `u16` flags argument (passed as an `i32`): `EINVAL` if bits beyond the type are set,
/// rather than ignoring them.
fn flags16(value: i32) -> WasiResult<u16> {
    u16::try_from(value as u32).map_err(|_| Errno(errno::INVAL))
}

/// A `u8` flags or enum argument, as [`flags16`].
fn flags8(value: i32) -> WasiResult<u8> {
    u8::try_from(value as u32).map_err(|_| Errno(errno::INVAL))
}

/// The preview1 `filetype` of a kind of file (a FIFO is of unknown type in preview1).
fn filetype_of(kind: FileKind) -> u8 {
    match kind {
        FileKind::RegularFile => filetype::REGULAR_FILE,
        FileKind::Directory => filetype::DIRECTORY,
        FileKind::CharacterDevice => filetype::CHARACTER_DEVICE,
        FileKind::BlockDevice => filetype::BLOCK_DEVICE,
        FileKind::SocketStream => filetype::SOCKET_STREAM,
        FileKind::SocketDgram => filetype::SOCKET_DGRAM,
        FileKind::SymbolicLink => filetype::SYMBOLIC_LINK,
        FileKind::Fifo | FileKind::Unknown => filetype::UNKNOWN,
    }
}

/// Copies the guest path at `ptr` into `buf`: `ENAMETOOLONG` if it cannot fit with a
/// NUL, `EINVAL` if it holds a NUL, `EILSEQ` if it is not UTF-8 (WASI strings are).
fn read_path<'b>(
    memory: &GuestMemory,
    ptr: i32,
    len: i32,
    buf: &'b mut [u8; PATH_MAX],
) -> WasiResult<&'b [u8]> {
    let len = len as u32 as usize;
    if len >= PATH_MAX {
        // Still a fault if the guest passed memory it does not have.
        memory.range(ptr as u32, len as u32)?;
        return Err(Errno(errno::NAMETOOLONG));
    }
    let path = &mut buf[..len];
    memory.read_into(ptr as u32, path)?;
    if path.contains(&0) {
        return Err(Errno(errno::INVAL));
    }
    if core::str::from_utf8(path).is_err() {
        return Err(Errno(errno::ILSEQ));
    }
    Ok(path)
}

/// The little-endian integer of `N` bytes at `offset` in `bytes` (zero past the end).
/// Host functions decode guest structures with it instead of indexing, which would
/// bring a panic path (and `core::fmt`) into every image.
fn le_bytes<const N: usize>(bytes: &[u8], offset: usize) -> [u8; N] {
    bytes
        .get(offset..offset + N)
        .and_then(|field| field.try_into().ok())
        .unwrap_or([0; N])
}

/// Host iovecs translated per system call.
const IOV_BATCH: usize = 64;

/// How [`vectored`] moves data.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Transfer {
    /// One system call: a read returns what is there (on a pipe or socket a second call
    /// could block with data already read, and a peek would read the same bytes twice).
    Read,
    /// System calls until the buffers are done or one comes up short.
    Write,
}

/// The most one call moves: what a wasm32 `ssize_t` can report.
const MAX_TRANSFER: u64 = i32::MAX as u64;

/// Runs `io` over the guest's iovec array, skipping empty buffers, in batches of up to
/// [`IOV_BATCH`]; `io` gets each batch and the bytes moved before it. Returns the total,
/// and an error only if nothing moved.
fn vectored(
    memory: &GuestMemory,
    iovs: i32,
    iovs_len: i32,
    transfer: Transfer,
    mut io: impl FnMut(&[IoVec], u64) -> WasiResult<usize>,
) -> WasiResult<u32> {
    let fault = Errno(errno::FAULT);
    let count = iovs_len as u32;
    let mut total: u64 = 0;
    let mut next = 0u32;
    while next < count {
        let mut host = [IoVec {
            base: core::ptr::null_mut(),
            len: 0,
        }; IOV_BATCH];
        let mut filled = 0;
        let mut wanted = 0u64;
        while next < count && filled < IOV_BATCH {
            let at = (iovs as u32)
                .checked_add(next.checked_mul(8).ok_or(fault)?)
                .ok_or(fault)?;
            let buf = memory.read_u32(at)?;
            let len = memory.read_u32(at.checked_add(4).ok_or(fault)?)?;
            let base = memory.range(buf, len)?;
            next += 1;
            if len == 0 {
                continue;
            }
            // Stop before the total could overflow what the guest can be told.
            if total + wanted + len as u64 > MAX_TRANSFER {
                next = count;
                break;
            }
            if let Some(slot) = host.get_mut(filled) {
                *slot = IoVec {
                    base,
                    len: len as usize,
                };
            }
            filled += 1;
            wanted += len as u64;
        }
        if filled == 0 {
            break;
        }
        let moved = match io(host.get(..filled).unwrap_or_default(), total) {
            Ok(moved) => moved as u64,
            Err(_) if total > 0 => break,
            Err(err) => return Err(err),
        };
        total += moved;
        if transfer == Transfer::Read || moved < wanted {
            break;
        }
    }
    Ok(total as u32)
}

/// Converts a host function's result to the errno it returns to the guest.
fn ret(result: WasiResult) -> i32 {
    match result {
        Ok(()) => errno::SUCCESS as i32,
        Err(Errno(code)) => code as i32,
    }
}
