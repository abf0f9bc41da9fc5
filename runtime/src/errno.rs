//! The error of every host operation, on every platform: a WASI errno.
//!
//! Platforms translate their own error codes into it (Linux in `sys::linux`), the host
//! core passes it on, and each ABI turns it into what its guests see: preview1 returns
//! the number itself, WASI 0.2 maps it to `error-code`.

use wafer_abi::wasi::errno;

/// A WASI errno value (preview1 numbering); `Ok(())` stands for `errno::SUCCESS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub u16);

/// The result of a host operation.
pub type Result<T = ()> = core::result::Result<T, Errno>;

#[allow(missing_docs, reason = "the WASI names")]
impl Errno {
    pub const ACCES: Errno = Errno(errno::ACCES);
    pub const AGAIN: Errno = Errno(errno::AGAIN);
    pub const BADF: Errno = Errno(errno::BADF);
    pub const CONNREFUSED: Errno = Errno(errno::CONNREFUSED);
    pub const EXIST: Errno = Errno(errno::EXIST);
    pub const FAULT: Errno = Errno(errno::FAULT);
    pub const FBIG: Errno = Errno(errno::FBIG);
    pub const ILSEQ: Errno = Errno(errno::ILSEQ);
    pub const INPROGRESS: Errno = Errno(errno::INPROGRESS);
    pub const INTR: Errno = Errno(errno::INTR);
    pub const INVAL: Errno = Errno(errno::INVAL);
    pub const IO: Errno = Errno(errno::IO);
    pub const ISDIR: Errno = Errno(errno::ISDIR);
    pub const LOOP: Errno = Errno(errno::LOOP);
    pub const MFILE: Errno = Errno(errno::MFILE);
    pub const NAMETOOLONG: Errno = Errno(errno::NAMETOOLONG);
    pub const NOENT: Errno = Errno(errno::NOENT);
    pub const NOMEM: Errno = Errno(errno::NOMEM);
    pub const NOSYS: Errno = Errno(errno::NOSYS);
    pub const NOTCAPABLE: Errno = Errno(errno::NOTCAPABLE);
    pub const NOTCONN: Errno = Errno(errno::NOTCONN);
    pub const NOTDIR: Errno = Errno(errno::NOTDIR);
    pub const NOTEMPTY: Errno = Errno(errno::NOTEMPTY);
    pub const NOTSOCK: Errno = Errno(errno::NOTSOCK);
    pub const NOTSUP: Errno = Errno(errno::NOTSUP);
    pub const PERM: Errno = Errno(errno::PERM);
    pub const ROFS: Errno = Errno(errno::ROFS);
    pub const SPIPE: Errno = Errno(errno::SPIPE);
}

impl From<crate::guest::OutOfBounds> for Errno {
    fn from(_: crate::guest::OutOfBounds) -> Self {
        Errno::FAULT
    }
}
