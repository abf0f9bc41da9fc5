//! WASI preview1 (`wasi_snapshot_preview1`): the import signatures the compiler checks and
//! the runtime implements, and the errno values.

/// A core wasm value type as it appears in a WASI preview1 signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValType {
    /// `i32`
    I32,
    /// `i64`
    I64,
}

use ValType::{I32, I64};

/// A WASI preview1 function: its name and its core wasm signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preview1Func {
    /// The import field name.
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [ValType],
    /// Result types (`proc_exit` has none; every other function returns an errno).
    pub results: &'static [ValType],
}

const fn f(
    name: &'static str,
    params: &'static [ValType],
    results: &'static [ValType],
) -> Preview1Func {
    Preview1Func {
        name,
        params,
        results,
    }
}

/// Every WASI preview1 function, sorted by name. The runtime defines a host function for
/// each one (see [`crate::symbols::WASI_PREVIEW1_PREFIX`]); functions it does not
/// implement return [`errno::NOSYS`].
pub const PREVIEW1: &[Preview1Func] = &[
    f("args_get", &[I32, I32], &[I32]),
    f("args_sizes_get", &[I32, I32], &[I32]),
    f("clock_res_get", &[I32, I32], &[I32]),
    f("clock_time_get", &[I32, I64, I32], &[I32]),
    f("environ_get", &[I32, I32], &[I32]),
    f("environ_sizes_get", &[I32, I32], &[I32]),
    f("fd_advise", &[I32, I64, I64, I32], &[I32]),
    f("fd_allocate", &[I32, I64, I64], &[I32]),
    f("fd_close", &[I32], &[I32]),
    f("fd_datasync", &[I32], &[I32]),
    f("fd_fdstat_get", &[I32, I32], &[I32]),
    f("fd_fdstat_set_flags", &[I32, I32], &[I32]),
    f("fd_fdstat_set_rights", &[I32, I64, I64], &[I32]),
    f("fd_filestat_get", &[I32, I32], &[I32]),
    f("fd_filestat_set_size", &[I32, I64], &[I32]),
    f("fd_filestat_set_times", &[I32, I64, I64, I32], &[I32]),
    f("fd_pread", &[I32, I32, I32, I64, I32], &[I32]),
    f("fd_prestat_dir_name", &[I32, I32, I32], &[I32]),
    f("fd_prestat_get", &[I32, I32], &[I32]),
    f("fd_pwrite", &[I32, I32, I32, I64, I32], &[I32]),
    f("fd_read", &[I32, I32, I32, I32], &[I32]),
    f("fd_readdir", &[I32, I32, I32, I64, I32], &[I32]),
    f("fd_renumber", &[I32, I32], &[I32]),
    f("fd_seek", &[I32, I64, I32, I32], &[I32]),
    f("fd_sync", &[I32], &[I32]),
    f("fd_tell", &[I32, I32], &[I32]),
    f("fd_write", &[I32, I32, I32, I32], &[I32]),
    f("path_create_directory", &[I32, I32, I32], &[I32]),
    f("path_filestat_get", &[I32, I32, I32, I32, I32], &[I32]),
    f(
        "path_filestat_set_times",
        &[I32, I32, I32, I32, I64, I64, I32],
        &[I32],
    ),
    f("path_link", &[I32, I32, I32, I32, I32, I32, I32], &[I32]),
    f(
        "path_open",
        &[I32, I32, I32, I32, I32, I64, I64, I32, I32],
        &[I32],
    ),
    f("path_readlink", &[I32, I32, I32, I32, I32, I32], &[I32]),
    f("path_remove_directory", &[I32, I32, I32], &[I32]),
    f("path_rename", &[I32, I32, I32, I32, I32, I32], &[I32]),
    f("path_symlink", &[I32, I32, I32, I32, I32], &[I32]),
    f("path_unlink_file", &[I32, I32, I32], &[I32]),
    f("poll_oneoff", &[I32, I32, I32, I32], &[I32]),
    f("proc_exit", &[I32], &[]),
    f("proc_raise", &[I32], &[I32]),
    f("random_get", &[I32, I32], &[I32]),
    f("sched_yield", &[], &[I32]),
    f("sock_accept", &[I32, I32, I32], &[I32]),
    f("sock_recv", &[I32, I32, I32, I32, I32, I32], &[I32]),
    f("sock_send", &[I32, I32, I32, I32, I32], &[I32]),
    f("sock_shutdown", &[I32, I32], &[I32]),
];

/// Looks up a preview1 function by its import name.
pub fn preview1(name: &str) -> Option<&'static Preview1Func> {
    PREVIEW1
        .binary_search_by(|func| func.name.cmp(name))
        .ok()
        .map(|index| &PREVIEW1[index])
}

/// WASI preview1 `errno` values.
#[allow(missing_docs, reason = "the names are the WASI spec's")]
pub mod errno {
    pub const SUCCESS: u16 = 0;
    pub const TOOBIG: u16 = 1;
    pub const ACCES: u16 = 2;
    pub const ADDRINUSE: u16 = 3;
    pub const ADDRNOTAVAIL: u16 = 4;
    pub const AFNOSUPPORT: u16 = 5;
    pub const AGAIN: u16 = 6;
    pub const ALREADY: u16 = 7;
    pub const BADF: u16 = 8;
    pub const BADMSG: u16 = 9;
    pub const BUSY: u16 = 10;
    pub const CANCELED: u16 = 11;
    pub const CHILD: u16 = 12;
    pub const CONNABORTED: u16 = 13;
    pub const CONNREFUSED: u16 = 14;
    pub const CONNRESET: u16 = 15;
    pub const DEADLK: u16 = 16;
    pub const DESTADDRREQ: u16 = 17;
    pub const DOM: u16 = 18;
    pub const DQUOT: u16 = 19;
    pub const EXIST: u16 = 20;
    pub const FAULT: u16 = 21;
    pub const FBIG: u16 = 22;
    pub const HOSTUNREACH: u16 = 23;
    pub const IDRM: u16 = 24;
    pub const ILSEQ: u16 = 25;
    pub const INPROGRESS: u16 = 26;
    pub const INTR: u16 = 27;
    pub const INVAL: u16 = 28;
    pub const IO: u16 = 29;
    pub const ISCONN: u16 = 30;
    pub const ISDIR: u16 = 31;
    pub const LOOP: u16 = 32;
    pub const MFILE: u16 = 33;
    pub const MLINK: u16 = 34;
    pub const MSGSIZE: u16 = 35;
    pub const MULTIHOP: u16 = 36;
    pub const NAMETOOLONG: u16 = 37;
    pub const NETDOWN: u16 = 38;
    pub const NETRESET: u16 = 39;
    pub const NETUNREACH: u16 = 40;
    pub const NFILE: u16 = 41;
    pub const NOBUFS: u16 = 42;
    pub const NODEV: u16 = 43;
    pub const NOENT: u16 = 44;
    pub const NOEXEC: u16 = 45;
    pub const NOLCK: u16 = 46;
    pub const NOLINK: u16 = 47;
    pub const NOMEM: u16 = 48;
    pub const NOMSG: u16 = 49;
    pub const NOPROTOOPT: u16 = 50;
    pub const NOSPC: u16 = 51;
    pub const NOSYS: u16 = 52;
    pub const NOTCONN: u16 = 53;
    pub const NOTDIR: u16 = 54;
    pub const NOTEMPTY: u16 = 55;
    pub const NOTRECOVERABLE: u16 = 56;
    pub const NOTSOCK: u16 = 57;
    pub const NOTSUP: u16 = 58;
    pub const NOTTY: u16 = 59;
    pub const NXIO: u16 = 60;
    pub const OVERFLOW: u16 = 61;
    pub const OWNERDEAD: u16 = 62;
    pub const PERM: u16 = 63;
    pub const PIPE: u16 = 64;
    pub const PROTO: u16 = 65;
    pub const PROTONOSUPPORT: u16 = 66;
    pub const PROTOTYPE: u16 = 67;
    pub const RANGE: u16 = 68;
    pub const ROFS: u16 = 69;
    pub const SPIPE: u16 = 70;
    pub const SRCH: u16 = 71;
    pub const STALE: u16 = 72;
    pub const TIMEDOUT: u16 = 73;
    pub const TXTBSY: u16 = 74;
    pub const XDEV: u16 = 75;
    pub const NOTCAPABLE: u16 = 76;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_complete() {
        assert_eq!(PREVIEW1.len(), 46);
        for pair in PREVIEW1.windows(2) {
            assert!(pair[0].name < pair[1].name, "{} out of order", pair[1].name);
        }
        assert_eq!(preview1("fd_write").unwrap().params.len(), 4);
        assert_eq!(preview1("proc_exit").unwrap().results, &[]);
        assert!(preview1("fd_nonexistent").is_none());
    }
}

/// WASI preview1 `rights` bits.
#[allow(missing_docs, reason = "the names are the WASI spec's")]
pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;
    /// Every right.
    pub const ALL: u64 = (1 << 30) - 1;
}

/// WASI preview1 `filetype` values.
#[allow(missing_docs, reason = "the names are the WASI spec's")]
pub mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_DGRAM: u8 = 5;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// File descriptor flags (`fdflags`).
#[allow(missing_docs, reason = "the names are the WASI spec's")]
pub mod fdflags {
    pub const APPEND: u16 = 1 << 0;
    pub const DSYNC: u16 = 1 << 1;
    pub const NONBLOCK: u16 = 1 << 2;
    pub const RSYNC: u16 = 1 << 3;
    pub const SYNC: u16 = 1 << 4;
    pub const ALL: u16 = (1 << 5) - 1;
}

/// `path_open` flags (`oflags`).
#[allow(missing_docs, reason = "the names are the WASI spec's")]
pub mod oflags {
    pub const CREAT: u16 = 1 << 0;
    pub const DIRECTORY: u16 = 1 << 1;
    pub const EXCL: u16 = 1 << 2;
    pub const TRUNC: u16 = 1 << 3;
    pub const ALL: u16 = (1 << 4) - 1;
}

/// Path lookup flags (`lookupflags`).
#[allow(missing_docs, reason = "the names are the WASI spec's")]
pub mod lookupflags {
    pub const SYMLINK_FOLLOW: u32 = 1 << 0;
}

/// Which timestamps to set (`fstflags`).
#[allow(missing_docs, reason = "the names are the WASI spec's")]
pub mod fstflags {
    pub const ATIM: u16 = 1 << 0;
    pub const ATIM_NOW: u16 = 1 << 1;
    pub const MTIM: u16 = 1 << 2;
    pub const MTIM_NOW: u16 = 1 << 3;
    pub const ALL: u16 = (1 << 4) - 1;
}

/// `fd_advise` advice values.
#[allow(missing_docs, reason = "the names are the WASI spec's")]
pub mod advice {
    pub const NORMAL: u8 = 0;
    pub const SEQUENTIAL: u8 = 1;
    pub const RANDOM: u8 = 2;
    pub const WILLNEED: u8 = 3;
    pub const DONTNEED: u8 = 4;
    pub const NOREUSE: u8 = 5;
}

/// `poll_oneoff` subscription and event types (`eventtype`) and their flags.
#[allow(missing_docs, reason = "the names are the WASI spec's")]
pub mod event {
    pub const CLOCK: u8 = 0;
    pub const FD_READ: u8 = 1;
    pub const FD_WRITE: u8 = 2;
    /// `subclockflags::SUBSCRIPTION_CLOCK_ABSTIME`.
    pub const CLOCK_ABSTIME: u16 = 1 << 0;
    /// `eventrwflags::FD_READWRITE_HANGUP`.
    pub const FD_READWRITE_HANGUP: u16 = 1 << 0;
    /// Size of a `subscription`.
    pub const SUBSCRIPTION_SIZE: u32 = 48;
    /// Size of an `event`.
    pub const EVENT_SIZE: u32 = 32;
}

/// Socket flags: `riflags`, `roflags` and `sdflags`.
#[allow(missing_docs, reason = "the names are the WASI spec's")]
pub mod sock {
    pub const RECV_PEEK: u16 = 1 << 0;
    pub const RECV_WAITALL: u16 = 1 << 1;
    pub const RECV_DATA_TRUNCATED: u16 = 1 << 0;
    pub const SHUT_RD: u8 = 1 << 0;
    pub const SHUT_WR: u8 = 1 << 1;
}

/// Sizes of the structures host functions write.
#[allow(missing_docs, reason = "the names are the WASI spec's")]
pub mod layout {
    pub const FDSTAT_SIZE: usize = 24;
    pub const FILESTAT_SIZE: usize = 64;
    pub const DIRENT_SIZE: usize = 24;
    pub const PRESTAT_SIZE: usize = 8;
}
