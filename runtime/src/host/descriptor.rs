//! Open descriptors and every operation on them.
//!
//! A [`Descriptor`] is a platform handle plus what the guest may do with it: its kind,
//! the access mode it was opened with, whether it belongs to a read-only grant, and its
//! rights. Each operation checks, in this order, that the descriptor is of a kind the
//! operation applies to (`EBADF`, `ENOTDIR`, `ESPIPE`, `ENOTSOCK`), that it was opened
//! for the access needed (`EBADF`, as the kernel reports a read from a write-only file),
//! that its grant allows changes (`EPERM`, wasmtime's errno for read-only preopens),
//! and that it holds the rights (`ENOTCAPABLE`); then it asks the platform.
//!
//! The ABIs call the `check_*` functions themselves where they must report a kind
//! error before decoding the rest of their arguments.

use super::rights::{self, DIRECTORY_RIGHTS, FILE_RIGHTS, SOCKET_RIGHTS, WRITE_RIGHTS};
use crate::errno::{Errno, Result};
use crate::sys::{
    Advice, Current, DirEntry, FileKind, FileStat, IoVec, OpenOptions, PATH_MAX, Platform,
    RawHandle, SetTime, Shutdown, StatusFlags, Whence,
};

/// What a descriptor refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Standard input, output or error: never closed on the platform, since the
    /// runtime reports traps there. Always a stream, whatever the host put behind it.
    Stdio,
    /// A regular file, device or pipe opened beneath a directory.
    File,
    /// A directory: a granted one (with its position among the directory grants), or one
    /// opened beneath it.
    Directory {
        /// Which directory grant, for preview1's `fd_prestat_*`.
        preopen: Option<u16>,
    },
    /// A TCP socket: a granted listener, or a connection it accepted.
    Socket {
        /// A listener accepts; a connection sends and receives.
        listening: bool,
    },
}

/// How a descriptor was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Access {
    /// For reading.
    pub read: bool,
    /// For writing.
    pub write: bool,
}

impl Access {
    /// Reading and writing.
    pub const READ_WRITE: Access = Access {
        read: true,
        write: true,
    };
    /// Reading only.
    pub const READ: Access = Access {
        read: true,
        write: false,
    };
    /// Writing only.
    pub const WRITE: Access = Access {
        read: false,
        write: true,
    };
}

/// An open descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Descriptor {
    /// The platform's handle.
    pub handle: RawHandle,
    /// What it is.
    pub kind: Kind,
    /// How it was opened.
    pub access: Access,
    /// Part of a read-only grant: nothing may be created, changed or removed through it.
    pub read_only: bool,
    /// Rights on this descriptor.
    pub rights_base: u64,
    /// Rights passed on to descriptors opened through it.
    pub rights_inheriting: u64,
}

/// Offsets are unsigned in WASI but the platform's are signed.
fn check_offset(offset: u64) -> Result {
    if offset > i64::MAX as u64 {
        return Err(Errno::INVAL);
    }
    Ok(())
}

impl Descriptor {
    /// Standard stream `n` (0, 1 or 2): a stream, readable (stdin) or writable.
    pub fn stdio(n: RawHandle) -> Descriptor {
        // Standard streams are streams: no seeking, whatever the host put behind them.
        let (access, withheld) = if n == 0 {
            (
                Access::READ,
                WRITE_RIGHTS | rights::FD_SEEK | rights::FD_TELL,
            )
        } else {
            (
                Access::WRITE,
                rights::FD_READ | rights::FD_SEEK | rights::FD_TELL,
            )
        };
        Descriptor {
            handle: n,
            kind: Kind::Stdio,
            access,
            read_only: false,
            rights_base: FILE_RIGHTS & !withheld,
            rights_inheriting: 0,
        }
    }

    /// A granted directory, the `index`th directory grant.
    pub fn granted_dir(handle: RawHandle, index: u16, read_only: bool) -> Descriptor {
        Descriptor {
            handle,
            kind: Kind::Directory {
                preopen: Some(index),
            },
            access: Access::READ,
            read_only,
            // A read-only grant keeps every right: wasi-libc asks only for rights the
            // directory passes on, so withholding them would turn an open for writing
            // into a read-only open that fails later. `read_only` refuses it at once.
            rights_base: DIRECTORY_RIGHTS,
            rights_inheriting: DIRECTORY_RIGHTS | FILE_RIGHTS,
        }
    }

    /// A granted listening socket.
    pub fn granted_listener(handle: RawHandle) -> Descriptor {
        Descriptor {
            handle,
            kind: Kind::Socket { listening: true },
            access: Access::READ_WRITE,
            read_only: false,
            rights_base: SOCKET_RIGHTS,
            rights_inheriting: SOCKET_RIGHTS,
        }
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Directory { .. })
    }

    /// The descriptor if it has every right in `required`, else `ENOTCAPABLE`.
    pub fn require(self, required: u64) -> Result<Descriptor> {
        if self.rights_base & required != required {
            return Err(Errno::NOTCAPABLE);
        }
        Ok(self)
    }

    /// The descriptor if it was opened for reading, else `EBADF`.
    pub fn check_readable(self) -> Result<Descriptor> {
        if !self.access.read {
            return Err(Errno::BADF);
        }
        Ok(self)
    }

    /// The descriptor if it was opened for writing, else `EBADF`.
    pub fn check_writable(self) -> Result<Descriptor> {
        if !self.access.write {
            return Err(Errno::BADF);
        }
        Ok(self)
    }

    /// The descriptor if it may be changed through: `EPERM` in a read-only grant.
    pub fn check_changeable(self) -> Result<Descriptor> {
        if self.read_only {
            return Err(Errno::PERM);
        }
        Ok(self)
    }

    /// The descriptor if it is a directory, else `EBADF`.
    pub fn check_dir(self) -> Result<Descriptor> {
        if !self.is_dir() {
            return Err(Errno::BADF);
        }
        Ok(self)
    }

    /// The descriptor if bytes can be read from or written to it (not a directory),
    /// else `EBADF`.
    pub fn check_stream(self) -> Result<Descriptor> {
        if self.is_dir() {
            return Err(Errno::BADF);
        }
        Ok(self)
    }

    /// The descriptor if it is an open file (not stdio, a directory or a socket), else
    /// `EBADF`, as wasmtime reports file operations on other descriptors.
    pub fn check_file(self) -> Result<Descriptor> {
        match self.kind {
            Kind::File => Ok(self),
            _ => Err(Errno::BADF),
        }
    }

    /// `ESPIPE` for stdio: the guest sees its standard streams as streams, never the
    /// file that may be behind them (which other processes may share), as in wasmtime.
    pub fn check_seekable(self) -> Result<Descriptor> {
        if self.kind == Kind::Stdio {
            return Err(Errno::SPIPE);
        }
        Ok(self)
    }

    /// Files and directories can be synced (a directory, to make renames in it
    /// durable); stdio and sockets cannot.
    pub fn check_syncable(self) -> Result<Descriptor> {
        match self.kind {
            Kind::File | Kind::Directory { .. } => Ok(self),
            _ => Err(Errno::BADF),
        }
    }

    /// The descriptor and whether it listens, if it is a socket (`ENOTSOCK` otherwise).
    pub fn check_socket(self) -> Result<(Descriptor, bool)> {
        match self.kind {
            Kind::Socket { listening } => Ok((self, listening)),
            _ => Err(Errno::NOTSOCK),
        }
    }

    /// A connection (not a listener: it has no peer, `ENOTCONN`).
    pub fn check_connection(self) -> Result<Descriptor> {
        match self.check_socket()? {
            (desc, false) => Ok(desc),
            (_, true) => Err(Errno::NOTCONN),
        }
    }

    /// Closes the platform handle (stdio stays open for the runtime).
    pub fn close(self) {
        if self.kind != Kind::Stdio {
            Current::close(self.handle);
        }
    }

    // --- bytes ---

    /// Reads into `bufs` in one call.
    ///
    /// # Safety
    /// Every buffer must be writable for its length.
    pub unsafe fn read(self, bufs: &[IoVec]) -> Result<usize> {
        let desc = self
            .check_stream()?
            .check_readable()?
            .require(rights::FD_READ)?;
        // SAFETY: forwarded from the caller.
        unsafe { Current::read(desc.handle, bufs) }
    }

    /// Writes from `bufs` in one call.
    ///
    /// # Safety
    /// Every buffer must be readable for its length.
    pub unsafe fn write(self, bufs: &[IoVec]) -> Result<usize> {
        let desc = self
            .check_stream()?
            .check_writable()?
            .require(rights::FD_WRITE)?;
        // SAFETY: forwarded from the caller.
        unsafe { Current::write(desc.handle, bufs) }
    }

    /// Checks a positioned read at `offset` is allowed.
    pub fn check_pread(self, offset: u64) -> Result<Descriptor> {
        let desc = self
            .check_stream()?
            .check_readable()?
            .check_seekable()?
            .require(rights::FD_READ | rights::FD_SEEK)?;
        check_offset(offset)?;
        Ok(desc)
    }

    /// Checks a positioned write at `offset` is allowed.
    pub fn check_pwrite(self, offset: u64) -> Result<Descriptor> {
        let desc = self
            .check_stream()?
            .check_writable()?
            .check_seekable()?
            .require(rights::FD_WRITE | rights::FD_SEEK)?;
        check_offset(offset)?;
        Ok(desc)
    }

    /// Reads at `offset` (see [`Descriptor::check_pread`]).
    ///
    /// # Safety
    /// As [`Descriptor::read`].
    pub unsafe fn pread(self, bufs: &[IoVec], offset: u64) -> Result<usize> {
        let desc = self.check_pread(offset)?;
        // SAFETY: forwarded from the caller.
        unsafe { Current::pread(desc.handle, bufs, offset) }
    }

    /// Writes at `offset` (see [`Descriptor::check_pwrite`]).
    ///
    /// # Safety
    /// As [`Descriptor::write`].
    pub unsafe fn pwrite(self, bufs: &[IoVec], offset: u64) -> Result<usize> {
        let desc = self.check_pwrite(offset)?;
        // SAFETY: forwarded from the caller.
        unsafe { Current::pwrite(desc.handle, bufs, offset) }
    }

    /// Writes at the end of the file, whatever its flags (a WASI 0.2 append stream).
    ///
    /// # Safety
    /// As [`Descriptor::write`].
    pub unsafe fn append(self, bufs: &[IoVec]) -> Result<usize> {
        let desc = self
            .check_stream()?
            .check_writable()?
            .check_seekable()?
            .require(rights::FD_WRITE)?;
        // SAFETY: forwarded from the caller.
        unsafe { Current::append(desc.handle, bufs) }
    }

    /// Moves the position; `whence` in WASI numbering (0 set, 1 current, 2 end).
    pub fn seek(self, offset: i64, whence: u8) -> Result<u64> {
        let desc = self.check_stream()?.check_seekable()?;
        let whence = match whence {
            0 => Whence::Start,
            1 => Whence::Current,
            2 => Whence::End,
            _ => return Err(Errno::INVAL),
        };
        let required = if offset == 0 && whence == Whence::Current {
            rights::FD_TELL
        } else {
            rights::FD_SEEK
        };
        Current::seek(desc.require(required)?.handle, offset, whence)
    }

    /// The current position.
    pub fn tell(self) -> Result<u64> {
        let desc = self
            .check_stream()?
            .check_seekable()?
            .require(rights::FD_TELL)?;
        Current::seek(desc.handle, 0, Whence::Current)
    }

    // --- metadata ---

    /// What the guest is told the descriptor is: stdio is a character device if it is a
    /// terminal and of unknown type otherwise (a pipe, file or anything else behind it
    /// is still a stream).
    pub fn file_kind(self) -> Result<FileKind> {
        match self.kind {
            Kind::Stdio => Ok(if Current::is_terminal(self.handle) {
                FileKind::CharacterDevice
            } else {
                FileKind::Unknown
            }),
            _ => Current::kind(self.handle),
        }
    }

    /// The descriptor's metadata; for stdio only its kind.
    pub fn stat(self) -> Result<FileStat> {
        let desc = self.require(rights::FD_FILESTAT_GET)?;
        if desc.kind == Kind::Stdio {
            return Ok(FileStat {
                kind: desc.file_kind()?,
                ..FileStat::default()
            });
        }
        Current::stat(desc.handle)
    }

    /// The descriptor's flags (none for a directory).
    pub fn status_flags(self) -> Result<StatusFlags> {
        if self.is_dir() {
            return Ok(StatusFlags::default());
        }
        Current::status_flags(self.handle)
    }

    /// Changes `append` and `nonblock`; the sync modes cannot change after open
    /// (`EINVAL` if asked to).
    pub fn set_status_flags(self, flags: StatusFlags) -> Result {
        if !matches!(self.kind, Kind::File | Kind::Socket { .. }) {
            return Err(Errno::BADF);
        }
        let desc = self.require(rights::FD_FDSTAT_SET_FLAGS)?;
        let current = Current::status_flags(desc.handle)?;
        if (flags.dsync, flags.rsync, flags.sync) != (current.dsync, current.rsync, current.sync) {
            return Err(Errno::INVAL);
        }
        if flags.append {
            desc.check_changeable()?;
        }
        Current::set_status_flags(desc.handle, flags)
    }

    /// Sets the file's size.
    pub fn set_size(self, size: u64) -> Result {
        let desc = self.check_file()?.check_changeable()?;
        // The kernel's answer for a descriptor not opened for writing (and wasmtime's).
        let desc = desc
            .check_writable()
            .map_err(|_| Errno::INVAL)?
            .require(rights::FD_FILESTAT_SET_SIZE)?;
        check_offset(size)?;
        Current::set_size(desc.handle, size)
    }

    /// Sets the access and modification times.
    pub fn set_times(self, atime: SetTime, mtime: SetTime) -> Result {
        let desc = self
            .check_syncable()?
            .check_changeable()?
            .require(rights::FD_FILESTAT_SET_TIMES)?;
        Current::set_times(desc.handle, atime, mtime)
    }

    /// Stores data and metadata.
    pub fn sync(self) -> Result {
        let desc = self.check_syncable()?.require(rights::FD_SYNC)?;
        Current::sync(desc.handle)
    }

    /// Stores data.
    pub fn datasync(self) -> Result {
        let desc = self.check_syncable()?.require(rights::FD_DATASYNC)?;
        Current::datasync(desc.handle)
    }

    /// Advises on how a range will be accessed.
    pub fn advise(self, offset: u64, len: u64, advice: Advice) -> Result {
        let desc = self.check_file()?.require(rights::FD_ADVISE)?;
        check_offset(offset)?;
        check_offset(len)?;
        Current::advise(desc.handle, offset, len, advice)
    }

    /// Allocates a range. Where the filesystem cannot, `ENOTSUP`: extending the file by
    /// hand instead would race with other writers.
    pub fn allocate(self, offset: u64, len: u64) -> Result {
        let desc = self
            .check_file()?
            .check_writable()?
            .require(rights::FD_ALLOCATE)?;
        check_offset(offset)?;
        check_offset(len)?;
        offset
            .checked_add(len)
            .filter(|&end| end <= i64::MAX as u64)
            .ok_or(Errno::FBIG)?;
        Current::allocate(desc.handle, offset, len)
    }

    /// Checks the directory may be listed.
    pub fn check_read_dir(self) -> Result<Descriptor> {
        self.check_dir()?.require(rights::FD_READDIR)
    }

    /// Lists the directory from `cookie` (see `Platform::read_dir`).
    pub fn read_dir(self, cookie: u64, each: &mut dyn FnMut(DirEntry<'_>) -> bool) -> Result {
        let desc = self.check_read_dir()?;
        Current::read_dir(desc.handle, cookie, each)
    }

    // --- paths beneath a directory ---

    /// Opens `path` beneath this directory with `options`. The new descriptor has
    /// exactly the requested rights `base` (and `inheriting`), as far as this directory
    /// passes them on and the descriptor can use them: no writing rights without write
    /// access, no reading without read access, no seeking a pipe or a device.
    pub fn open_at(
        self,
        path: &[u8],
        options: &OpenOptions,
        base: u64,
        inheriting: u64,
    ) -> Result<Descriptor> {
        match self.kind {
            Kind::Directory { .. } => {}
            Kind::Stdio => return Err(Errno::BADF),
            _ => return Err(Errno::NOTDIR),
        }
        let dir = self.require(rights::PATH_OPEN)?;
        if options.directory && (options.create || options.exclusive || options.truncate) {
            return Err(Errno::INVAL);
        }
        if options.write || options.status.append {
            dir.check_changeable()?;
        }
        if options.create {
            dir.require(rights::PATH_CREATE_FILE)?;
        }
        if options.truncate {
            dir.require(rights::PATH_FILESTAT_SET_SIZE)?;
        }
        let handle = Current::open_at(dir.handle, path, options)?;
        let opened = Self::describe_opened(handle, dir, options, base, inheriting);
        if opened.is_err() {
            Current::close(handle);
        }
        opened
    }

    fn describe_opened(
        handle: RawHandle,
        dir: Descriptor,
        options: &OpenOptions,
        base: u64,
        inheriting: u64,
    ) -> Result<Descriptor> {
        let is_dir = Current::kind(handle)? == FileKind::Directory;
        let (kind, allowed, access) = if is_dir {
            (
                Kind::Directory { preopen: None },
                DIRECTORY_RIGHTS,
                Access::READ,
            )
        } else {
            let mut allowed = FILE_RIGHTS;
            if !options.write {
                allowed &= !WRITE_RIGHTS;
            }
            if !options.read {
                allowed &= !rights::FD_READ;
            }
            if Current::seek(handle, 0, Whence::Current).is_err() {
                allowed &= !(rights::FD_SEEK | rights::FD_TELL);
            }
            let access = Access {
                read: options.read,
                write: options.write,
            };
            (Kind::File, allowed, access)
        };
        Ok(Descriptor {
            handle,
            kind,
            access,
            read_only: dir.read_only,
            rights_base: base & dir.rights_inheriting & allowed,
            rights_inheriting: inheriting & dir.rights_inheriting,
        })
    }

    /// The metadata of what `path` names.
    pub fn stat_at(self, path: &[u8], follow: bool) -> Result<FileStat> {
        let dir = self.check_dir()?.require(rights::PATH_FILESTAT_GET)?;
        Current::stat_at(dir.handle, path, follow)
    }

    /// Sets the times of what `path` names (with both omitted, not even a lookup, as
    /// `utimensat(2)`).
    pub fn set_times_at(self, path: &[u8], follow: bool, atime: SetTime, mtime: SetTime) -> Result {
        let dir = self.check_dir()?;
        if atime == SetTime::Omit && mtime == SetTime::Omit {
            return Ok(());
        }
        let dir = dir
            .check_changeable()?
            .require(rights::PATH_FILESTAT_SET_TIMES)?;
        Current::set_times_at(dir.handle, path, follow, atime, mtime)
    }

    /// Creates directory `path`.
    pub fn create_dir_at(self, path: &[u8]) -> Result {
        let dir = self
            .check_dir()?
            .check_changeable()?
            .require(rights::PATH_CREATE_DIRECTORY)?;
        Current::create_dir_at(dir.handle, path)
    }

    /// Removes the empty directory `path`.
    pub fn remove_dir_at(self, path: &[u8]) -> Result {
        let dir = self
            .check_dir()?
            .check_changeable()?
            .require(rights::PATH_REMOVE_DIRECTORY)?;
        Current::remove_dir_at(dir.handle, path)
    }

    /// Removes the file `path`.
    pub fn unlink_file_at(self, path: &[u8]) -> Result {
        let dir = self
            .check_dir()?
            .check_changeable()?
            .require(rights::PATH_UNLINK_FILE)?;
        Current::unlink_file_at(dir.handle, path)
    }

    /// Reads symlink `path`; returns the target's length in `target`.
    pub fn readlink_at(self, path: &[u8], target: &mut [u8; PATH_MAX]) -> Result<usize> {
        let dir = self.check_dir()?.require(rights::PATH_READLINK)?;
        Current::readlink_at(dir.handle, path, target)
    }

    /// Links `new_path` beneath `new_dir` to `path` beneath this directory. A new link
    /// changes the source's inode (its link count), so both sides must be changeable.
    pub fn link_at(self, path: &[u8], new_dir: Descriptor, new_path: &[u8]) -> Result {
        let (old, new_dir) = (self.check_dir()?, new_dir.check_dir()?);
        let old = old.check_changeable()?.require(rights::PATH_LINK_SOURCE)?;
        let new = new_dir
            .check_changeable()?
            .require(rights::PATH_LINK_TARGET)?;
        Current::link_at(old.handle, path, new.handle, new_path)
    }

    /// Renames `path` beneath this directory to `new_path` beneath `new_dir`.
    pub fn rename_at(self, path: &[u8], new_dir: Descriptor, new_path: &[u8]) -> Result {
        let (old, new_dir) = (self.check_dir()?, new_dir.check_dir()?);
        let old = old
            .check_changeable()?
            .require(rights::PATH_RENAME_SOURCE)?;
        let new = new_dir
            .check_changeable()?
            .require(rights::PATH_RENAME_TARGET)?;
        Current::rename_at(old.handle, path, new.handle, new_path)
    }

    /// Creates symlink `path` pointing at `target`.
    pub fn symlink_at(self, target: &[u8], path: &[u8]) -> Result {
        let dir = self
            .check_dir()?
            .check_changeable()?
            .require(rights::PATH_SYMLINK)?;
        Current::symlink_at(target, dir.handle, path)
    }

    // --- sockets ---

    /// Accepts a connection on a listener (`EINVAL` on a connection).
    pub fn accept(self, nonblock: bool) -> Result<Descriptor> {
        let (desc, listening) = self.check_socket()?;
        if !listening {
            return Err(Errno::INVAL);
        }
        let desc = desc.require(rights::SOCK_ACCEPT)?;
        let handle = Current::accept(desc.handle, nonblock)?;
        let connection_rights = SOCKET_RIGHTS & !rights::SOCK_ACCEPT;
        Ok(Descriptor {
            handle,
            kind: Kind::Socket { listening: false },
            access: Access::READ_WRITE,
            read_only: false,
            rights_base: connection_rights,
            rights_inheriting: connection_rights,
        })
    }

    /// Checks the descriptor is a connection that may receive.
    pub fn check_recv(self) -> Result<Descriptor> {
        self.check_connection()?.require(rights::FD_READ)
    }

    /// Checks the descriptor is a connection that may send.
    pub fn check_send(self) -> Result<Descriptor> {
        self.check_connection()?.require(rights::FD_WRITE)
    }

    /// Receives; returns the bytes received and whether a datagram was cut short.
    ///
    /// # Safety
    /// As [`Descriptor::read`].
    pub unsafe fn recv(self, bufs: &[IoVec], peek: bool, wait_all: bool) -> Result<(usize, bool)> {
        let desc = self.check_recv()?;
        // SAFETY: forwarded from the caller.
        unsafe { Current::recv(desc.handle, bufs, peek, wait_all) }
    }

    /// Sends.
    ///
    /// # Safety
    /// As [`Descriptor::write`].
    pub unsafe fn send(self, bufs: &[IoVec]) -> Result<usize> {
        let desc = self.check_send()?;
        // SAFETY: forwarded from the caller.
        unsafe { Current::send(desc.handle, bufs) }
    }

    /// Shuts down `how` (`None`: an invalid request, `EINVAL` once the descriptor
    /// passed its checks).
    pub fn shutdown(self, how: Option<Shutdown>) -> Result {
        let (desc, _) = self.check_socket()?;
        let desc = desc.require(rights::SOCK_SHUTDOWN)?;
        Current::shutdown(desc.handle, how.ok_or(Errno::INVAL)?)
    }
}
