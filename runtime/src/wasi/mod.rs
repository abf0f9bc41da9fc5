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

pub mod env;
pub mod fd;
mod files;
mod paths;
mod poll;
mod preview1;
mod sockets;

use crate::guest::{GuestMemory, OutOfBounds};
use crate::sys::{self, IoVec, fs};
use wafer_abi::wasi::{errno, filetype};

/// A WASI errno value; `Ok(())` maps to `errno::SUCCESS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub u16);

/// Result of a host function.
pub type WasiResult<T = ()> = Result<T, Errno>;

impl From<OutOfBounds> for Errno {
    fn from(_: OutOfBounds) -> Self {
        Errno(errno::FAULT)
    }
}

impl From<crate::sys::Errno> for Errno {
    fn from(err: crate::sys::Errno) -> Self {
        Errno(from_linux_errno(err.0))
    }
}

/// The WASI errno for a Linux errno (the same numbers on every Linux architecture wafer
/// supports).
pub fn from_linux_errno(linux: i32) -> u16 {
    const PAIRS: &[(usize, u16)] = &[
        (1, errno::PERM),
        (2, errno::NOENT),
        (3, errno::SRCH),
        (4, errno::INTR),
        (5, errno::IO),
        (6, errno::NXIO),
        (7, errno::TOOBIG),
        (8, errno::NOEXEC),
        (9, errno::BADF),
        (10, errno::CHILD),
        (11, errno::AGAIN),
        (12, errno::NOMEM),
        (13, errno::ACCES),
        (14, errno::FAULT),
        (16, errno::BUSY),
        (17, errno::EXIST),
        (18, errno::XDEV),
        (19, errno::NODEV),
        (20, errno::NOTDIR),
        (21, errno::ISDIR),
        (22, errno::INVAL),
        (23, errno::NFILE),
        (24, errno::MFILE),
        (25, errno::NOTTY),
        (26, errno::TXTBSY),
        (27, errno::FBIG),
        (28, errno::NOSPC),
        (29, errno::SPIPE),
        (30, errno::ROFS),
        (31, errno::MLINK),
        (32, errno::PIPE),
        (33, errno::DOM),
        (34, errno::RANGE),
        (35, errno::DEADLK),
        (36, errno::NAMETOOLONG),
        (37, errno::NOLCK),
        (38, errno::NOSYS),
        (39, errno::NOTEMPTY),
        (40, errno::LOOP),
        (42, errno::NOMSG),
        (43, errno::IDRM),
        (67, errno::NOLINK),
        (71, errno::PROTO),
        (72, errno::MULTIHOP),
        (74, errno::BADMSG),
        (75, errno::OVERFLOW),
        (84, errno::ILSEQ),
        (88, errno::NOTSOCK),
        (89, errno::DESTADDRREQ),
        (90, errno::MSGSIZE),
        (91, errno::PROTOTYPE),
        (92, errno::NOPROTOOPT),
        (93, errno::PROTONOSUPPORT),
        (95, errno::NOTSUP),
        (97, errno::AFNOSUPPORT),
        (98, errno::ADDRINUSE),
        (99, errno::ADDRNOTAVAIL),
        (100, errno::NETDOWN),
        (101, errno::NETUNREACH),
        (102, errno::NETRESET),
        (103, errno::CONNABORTED),
        (104, errno::CONNRESET),
        (105, errno::NOBUFS),
        (106, errno::ISCONN),
        (107, errno::NOTCONN),
        (110, errno::TIMEDOUT),
        (111, errno::CONNREFUSED),
        (113, errno::HOSTUNREACH),
        (114, errno::ALREADY),
        (115, errno::INPROGRESS),
        (116, errno::STALE),
        (122, errno::DQUOT),
        (125, errno::CANCELED),
        (130, errno::OWNERDEAD),
        (131, errno::NOTRECOVERABLE),
    ];
    // Indexed by the Linux errno, 0 where WASI has no equivalent: a byte per errno
    // rather than eight per pair keeps it small in every image.
    const DENSE: [u8; 132] = {
        let mut dense = [0u8; 132];
        let mut i = 0;
        while i < PAIRS.len() {
            let (linux, wasi) = PAIRS[i];
            assert!(wasi > 0 && wasi <= u8::MAX as u16);
            dense[linux] = wasi as u8;
            i += 1;
        }
        dense
    };
    match usize::try_from(linux).ok().and_then(|i| DENSE.get(i)) {
        Some(&wasi) if wasi != 0 => u16::from(wasi),
        _ => errno::IO,
    }
}

/// The errno for a failed path resolution: an escape from the granted directory is
/// `EPERM`, as in wasmtime.
fn resolve_error(err: sys::Errno) -> Errno {
    if err == sys::Errno::XDEV {
        Errno(errno::PERM)
    } else {
        err.into()
    }
}

/// A `u16` flags argument (passed as an `i32`): `EINVAL` if bits beyond the type are set,
/// rather than ignoring them.
fn flags16(value: i32) -> WasiResult<u16> {
    u16::try_from(value as u32).map_err(|_| Errno(errno::INVAL))
}

/// A `u8` flags or enum argument, as [`flags16`].
fn flags8(value: i32) -> WasiResult<u8> {
    u8::try_from(value as u32).map_err(|_| Errno(errno::INVAL))
}

/// The WASI file type for an `st_mode`.
fn filetype_of(mode: u32) -> u8 {
    match mode & fs::S_IFMT {
        fs::S_IFREG => filetype::REGULAR_FILE,
        fs::S_IFDIR => filetype::DIRECTORY,
        fs::S_IFCHR => filetype::CHARACTER_DEVICE,
        fs::S_IFBLK => filetype::BLOCK_DEVICE,
        fs::S_IFSOCK => filetype::SOCKET_STREAM,
        fs::S_IFLNK => filetype::SYMBOLIC_LINK,
        _ => filetype::UNKNOWN,
    }
}

/// Copies the guest path at `ptr` into `buf`: `ENAMETOOLONG` if it cannot fit with a
/// NUL, `EINVAL` if it holds a NUL, `EILSEQ` if it is not UTF-8 (WASI strings are).
fn read_path<'b>(
    memory: &GuestMemory,
    ptr: i32,
    len: i32,
    buf: &'b mut [u8; fs::PATH_MAX],
) -> WasiResult<&'b [u8]> {
    let len = len as u32 as usize;
    if len >= fs::PATH_MAX {
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
    mut io: impl FnMut(&[IoVec], u64) -> Result<usize, sys::Errno>,
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
            Err(err) => return Err(err.into()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_errnos_map_to_wasi() {
        assert_eq!(from_linux_errno(9), errno::BADF);
        assert_eq!(from_linux_errno(29), errno::SPIPE);
        assert_eq!(from_linux_errno(38), errno::NOSYS);
        assert_eq!(from_linux_errno(1), errno::PERM);
        assert_eq!(from_linux_errno(131), errno::NOTRECOVERABLE);
        for unmapped in [-5, 0, 15, 41, 132, 9999] {
            assert_eq!(from_linux_errno(unmapped), errno::IO, "{unmapped}");
        }
    }
}
