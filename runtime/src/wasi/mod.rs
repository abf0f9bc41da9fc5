//! WASI preview1 host functions.
//!
//! Every function of `wasi_abi::wasi::PREVIEW1` has an exported symbol here (see
//! `wafer_abi::symbols::WASI_PREVIEW1_PREFIX`). Those not implemented yet return
//! `ENOSYS`, so a module that imports them still links and runs until it calls one.

pub mod env;
pub mod fd;
mod preview1;

use crate::guest::OutOfBounds;
use wafer_abi::wasi::errno;

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
    const MAP: &[(i32, u16)] = &[
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
    MAP.iter()
        .find(|(l, _)| *l == linux)
        .map_or(errno::IO, |(_, w)| *w)
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
        assert_eq!(from_linux_errno(9999), errno::IO);
    }
}
