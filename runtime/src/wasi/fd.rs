//! The guest's file descriptor table.
//!
//! Guest descriptor numbers are indexes into a fixed table; each entry names a host
//! descriptor and what the guest may do with it. At start-up the table holds stdio
//! (0–2), then one entry per granted directory in grant order, then the granted
//! listening sockets. Nothing else is reachable: every other host descriptor the process
//! might have inherited is invisible to the guest.

use core::mem::MaybeUninit;

use crate::global::Global;
use crate::sys::fs;
use wafer_abi::grants::Grant;
use wafer_abi::wasi::{errno, rights};

use super::{Errno, WasiResult};

/// How many descriptors a guest may have open at once.
pub const MAX_FDS: usize = 1024;

/// What a guest descriptor refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdKind {
    /// Host stdin, stdout or stderr: never closed on the host, since the runtime reports
    /// traps on stderr.
    Stdio,
    /// A regular file, device or pipe opened by `path_open`.
    File,
    /// A directory: a preopen (with the index of its grant among the preopen grants) or
    /// one opened by `path_open`.
    Directory {
        /// Which preopen grant, for `fd_prestat_*`.
        preopen: Option<u16>,
    },
    /// A TCP socket: a granted listener, or a connection it accepted.
    Socket {
        /// A listener accepts; a connection sends and receives.
        listening: bool,
    },
}

/// One open guest descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdEntry {
    /// The host descriptor behind it.
    pub host_fd: i32,
    /// What it is.
    pub kind: FdKind,
    /// Rights on this descriptor.
    pub rights_base: u64,
    /// Rights passed on to descriptors opened through it.
    pub rights_inheriting: u64,
    /// Part of a read-only grant: nothing may be created, changed or removed through it.
    pub read_only: bool,
    /// How it was opened: [`READ`], [`WRITE`] or both.
    pub access: u8,
}

/// [`FdEntry::access`]: opened for reading.
pub const READ: u8 = 1;
/// [`FdEntry::access`]: opened for writing.
pub const WRITE: u8 = 2;

impl FdEntry {
    /// The entry if it has every right in `required`, else `ENOTCAPABLE`.
    pub fn require(self, required: u64) -> WasiResult<FdEntry> {
        if self.rights_base & required != required {
            return Err(Errno(errno::NOTCAPABLE));
        }
        Ok(self)
    }

    /// The entry if it was opened for `access`, else `EBADF` (as the kernel reports a
    /// read from a write-only descriptor).
    pub fn opened_for(self, access: u8) -> WasiResult<FdEntry> {
        if self.access & access != access {
            return Err(Errno(errno::BADF));
        }
        Ok(self)
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, FdKind::Directory { .. })
    }
}

/// Rights that need a descriptor opened for writing.
pub const WRITE_RIGHTS: u64 = rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE;

/// Rights that only make sense on a directory.
pub const DIRECTORY_RIGHTS: u64 = rights::PATH_CREATE_DIRECTORY
    | rights::PATH_CREATE_FILE
    | rights::PATH_LINK_SOURCE
    | rights::PATH_LINK_TARGET
    | rights::PATH_OPEN
    | rights::FD_READDIR
    | rights::PATH_READLINK
    | rights::PATH_RENAME_SOURCE
    | rights::PATH_RENAME_TARGET
    | rights::PATH_FILESTAT_GET
    | rights::PATH_FILESTAT_SET_SIZE
    | rights::PATH_FILESTAT_SET_TIMES
    | rights::PATH_SYMLINK
    | rights::PATH_REMOVE_DIRECTORY
    | rights::PATH_UNLINK_FILE
    | rights::FD_FILESTAT_GET
    | rights::FD_FILESTAT_SET_TIMES
    | rights::FD_FDSTAT_SET_FLAGS
    | rights::FD_SYNC
    | rights::FD_DATASYNC
    | rights::FD_ADVISE;

/// Rights of an open file (anything but a directory or socket).
pub const FILE_RIGHTS: u64 = rights::FD_DATASYNC
    | rights::FD_READ
    | rights::FD_SEEK
    | rights::FD_FDSTAT_SET_FLAGS
    | rights::FD_SYNC
    | rights::FD_TELL
    | rights::FD_WRITE
    | rights::FD_ADVISE
    | rights::FD_ALLOCATE
    | rights::FD_FILESTAT_GET
    | rights::FD_FILESTAT_SET_SIZE
    | rights::FD_FILESTAT_SET_TIMES
    | rights::POLL_FD_READWRITE;

/// Rights of a socket.
pub const SOCKET_RIGHTS: u64 = rights::FD_READ
    | rights::FD_WRITE
    | rights::FD_FDSTAT_SET_FLAGS
    | rights::FD_FILESTAT_GET
    | rights::POLL_FD_READWRITE
    | rights::SOCK_SHUTDOWN
    | rights::SOCK_ACCEPT;

/// The table, in `.bss`: `None` is not an all-zero bit pattern, so an initialised
/// `[Option<FdEntry>; MAX_FDS]` would put tens of kilobytes of `.data` into every image.
/// It starts as zeroed bytes and becomes `None`s on first use.
struct Table {
    slots: MaybeUninit<[Option<FdEntry>; MAX_FDS]>,
    ready: bool,
}

static FDS: Global<Table> = Global::new(Table {
    slots: MaybeUninit::zeroed(),
    ready: false,
});

/// Runs `f` on the table.
fn with_table<R>(f: impl FnOnce(&mut [Option<FdEntry>; MAX_FDS]) -> R) -> R {
    FDS.with(|table| {
        if !table.ready {
            let first = table.slots.as_mut_ptr() as *mut Option<FdEntry>;
            for index in 0..MAX_FDS {
                // SAFETY: `index` is within the array `first` points to, which `table`
                // owns; writing a value needs no valid old one.
                unsafe { first.add(index).write(None) };
            }
            table.ready = true;
        }
        // SAFETY: every slot was written above, on this or an earlier call.
        f(unsafe { table.slots.assume_init_mut() })
    })
}

/// The preopen grants, in order.
pub fn preopens() -> impl Iterator<Item = (&'static [u8], &'static [u8], bool)> {
    super::env::grants().filter_map(|grant| match grant {
        Grant::Preopen {
            host,
            guest,
            read_only,
        } => Some((host, guest, read_only)),
        _ => None,
    })
}

/// Sets up the standard streams (fds 0-2); called once before the guest runs.
pub fn init_stdio() {
    for fd in 0..3 {
        // Standard streams are streams: no seeking, whatever the host put behind them.
        let (access, withheld) = if fd == 0 {
            (READ, WRITE_RIGHTS | rights::FD_SEEK | rights::FD_TELL)
        } else {
            (WRITE, rights::FD_READ | rights::FD_SEEK | rights::FD_TELL)
        };
        let entry = FdEntry {
            host_fd: fd,
            kind: FdKind::Stdio,
            rights_base: FILE_RIGHTS & !withheld,
            rights_inheriting: 0,
            read_only: false,
            access,
        };
        store(fd, entry);
    }
}

/// Checks the image's grants, then opens the granted sockets and directories as fds 3
/// and up. A grant that cannot be honoured ends the process: running without a
/// directory the program was promised would only fail later and less clearly.
///
/// Compiled code calls it first thing (from `wafer_image_init`) only when the image has
/// grants, so an image without any carries none of this code: no grant parsing, socket
/// or directory opening, or their error reporting.
#[unsafe(no_mangle)]
pub extern "C" fn wafer_rt_apply_grants() {
    if !super::env::check_grants(crate::image::descriptor().grants) {
        crate::fatal(b"the image's grants are unreadable (an image from another wafer version?)");
    }
    let mut next = 3;
    for (index, (host, _, read_only)) in preopens().enumerate() {
        let mut path = fs::PathBuf::new();
        let opened = path
            .c_path(host)
            .and_then(|c_path| fs::openat(fs::AT_FDCWD, c_path, fs::O_RDONLY | fs::O_DIRECTORY, 0));
        let host_fd = match opened {
            Ok(fd) => fd,
            Err(err) => grant_failed(b"cannot open the granted directory ", host, err),
        };
        store(
            next,
            FdEntry {
                host_fd,
                kind: FdKind::Directory {
                    preopen: Some(index as u16),
                },
                // A read-only grant keeps every right: wasi-libc asks only for rights the
                // directory passes on, so withholding them would turn an open for
                // writing into a read-only open that fails later. `read_only` refuses
                // it at once instead.
                rights_base: DIRECTORY_RIGHTS,
                rights_inheriting: DIRECTORY_RIGHTS | FILE_RIGHTS,
                read_only,
                access: READ,
            },
        );
        next += 1;
    }
    // Listeners come after the directories: wasi-libc finds its preopens by asking
    // fd 3, 4, ... until one is not a preopen, so a listener before them would hide them.
    // Without directory grants, the first listener is fd 3 (as systemd's LISTEN_FDS).
    for grant in super::env::grants() {
        if let Grant::Listen(addr) = grant {
            let host_fd = match crate::sys::net::listen(&addr) {
                Ok(fd) => fd,
                Err(err) => {
                    let mut text = crate::out::Line::new();
                    write_listen_addr(&mut text, &addr);
                    grant_failed(
                        b"cannot listen on the granted address ",
                        text.as_bytes(),
                        err,
                    )
                }
            };
            store(
                next,
                FdEntry {
                    host_fd,
                    kind: FdKind::Socket { listening: true },
                    rights_base: SOCKET_RIGHTS,
                    rights_inheriting: SOCKET_RIGHTS,
                    read_only: false,
                    access: READ | WRITE,
                },
            );
            next += 1;
        }
    }
}

/// `addr` as `1.2.3.4:80` or `[0:0:0:0:0:0:0:1]:80`.
fn write_listen_addr(line: &mut crate::out::Line, addr: &wafer_abi::grants::ListenAddr) {
    if addr.ipv6 {
        line.str(b"[");
        for (i, pair) in addr.ip.chunks_exact(2).enumerate() {
            if i > 0 {
                line.str(b":");
            }
            let word = u16::from_be_bytes(pair.try_into().unwrap_or_default());
            line.digits(word as u64, 16);
        }
        line.str(b"]");
    } else {
        for (i, byte) in addr.ip.iter().take(4).enumerate() {
            if i > 0 {
                line.str(b".");
            }
            line.dec(*byte as u64);
        }
    }
    line.str(b":").dec(addr.port as u64);
}

fn grant_failed(what: &[u8], name: &[u8], err: crate::sys::Errno) -> ! {
    let mut line = crate::out::Line::new();
    line.str(b"wafer: error: ").str(what).str(name).str(b": ");
    crate::sys::describe_errno(&mut line, err);
    line.str(b"\n");
    line.write_to(2);
    crate::sys::exit(wafer_abi::INTERNAL_ERROR_EXIT_CODE)
}

fn store(fd: i32, entry: FdEntry) {
    with_table(|table| {
        if let Some(slot) = table.get_mut(fd as usize) {
            *slot = Some(entry);
        }
    });
}

/// The entry for guest descriptor `fd`, or `EBADF`.
pub fn get(fd: i32) -> WasiResult<FdEntry> {
    usize::try_from(fd)
        .ok()
        .and_then(|fd| with_table(|table| table.get(fd).copied().flatten()))
        .ok_or(Errno(errno::BADF))
}

/// Adds `entry` at the lowest free descriptor, as POSIX `open` does; closes the host
/// descriptor and fails with `EMFILE` if the table is full.
pub fn insert(entry: FdEntry) -> WasiResult<i32> {
    let slot = with_table(|table| {
        let free = table.iter().position(Option::is_none)?;
        *table.get_mut(free)? = Some(entry);
        Some(free as i32)
    });
    slot.ok_or_else(|| {
        fs::close(entry.host_fd);
        Errno(errno::MFILE)
    })
}

/// Replaces the entry of an open descriptor.
pub fn update(fd: i32, entry: FdEntry) {
    with_table(|table| {
        if let Some(slot) = usize::try_from(fd).ok().and_then(|fd| table.get_mut(fd)) {
            *slot = Some(entry);
        }
    });
}

/// Removes guest descriptor `fd`, returning what it was.
pub fn remove(fd: i32) -> WasiResult<FdEntry> {
    usize::try_from(fd)
        .ok()
        .and_then(|fd| with_table(|table| table.get_mut(fd).and_then(Option::take)))
        .ok_or(Errno(errno::BADF))
}

/// Closes the host side of a removed entry (stdio stays open for the runtime).
pub fn close_host(entry: FdEntry) {
    if entry.kind != FdKind::Stdio {
        fs::close(entry.host_fd);
    }
}

/// `fd_renumber`: moves `from` onto `to`, closing what `to` was. Both must be open.
pub fn renumber(from: i32, to: i32) -> WasiResult {
    let entry = get(from)?;
    let previous = get(to)?;
    if from == to {
        return Ok(());
    }
    remove(from)?;
    update(to, entry);
    close_host(previous);
    Ok(())
}
