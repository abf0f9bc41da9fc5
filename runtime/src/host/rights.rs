//! Capability rights (preview1's `rights` bits): what each kind of descriptor can do.
//!
//! Every descriptor carries its rights, and every operation checks them (`ENOTCAPABLE`
//! when one is missing). preview1 guests see and reduce them; WASI 0.2 descriptors get
//! the rights their descriptor flags stand for.

pub use wafer_abi::wasi::rights::*;

/// Rights that need a descriptor opened for writing.
pub const WRITE_RIGHTS: u64 = FD_WRITE | FD_ALLOCATE | FD_FILESTAT_SET_SIZE;

/// Rights that only make sense on a directory.
pub const DIRECTORY_RIGHTS: u64 = PATH_CREATE_DIRECTORY
    | PATH_CREATE_FILE
    | PATH_LINK_SOURCE
    | PATH_LINK_TARGET
    | PATH_OPEN
    | FD_READDIR
    | PATH_READLINK
    | PATH_RENAME_SOURCE
    | PATH_RENAME_TARGET
    | PATH_FILESTAT_GET
    | PATH_FILESTAT_SET_SIZE
    | PATH_FILESTAT_SET_TIMES
    | PATH_SYMLINK
    | PATH_REMOVE_DIRECTORY
    | PATH_UNLINK_FILE
    | FD_FILESTAT_GET
    | FD_FILESTAT_SET_TIMES
    | FD_FDSTAT_SET_FLAGS
    | FD_SYNC
    | FD_DATASYNC
    | FD_ADVISE;

/// Rights of an open file (anything but a directory or socket).
pub const FILE_RIGHTS: u64 = FD_DATASYNC
    | FD_READ
    | FD_SEEK
    | FD_FDSTAT_SET_FLAGS
    | FD_SYNC
    | FD_TELL
    | FD_WRITE
    | FD_ADVISE
    | FD_ALLOCATE
    | FD_FILESTAT_GET
    | FD_FILESTAT_SET_SIZE
    | FD_FILESTAT_SET_TIMES
    | POLL_FD_READWRITE;

/// Rights of a socket.
pub const SOCKET_RIGHTS: u64 = FD_READ
    | FD_WRITE
    | FD_FDSTAT_SET_FLAGS
    | FD_FILESTAT_GET
    | POLL_FD_READWRITE
    | SOCK_SHUTDOWN
    | SOCK_ACCEPT;
