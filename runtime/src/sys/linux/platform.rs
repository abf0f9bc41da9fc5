//! [`Platform`] for Linux: the runtime's interface over the system calls of this folder.
//!
//! Paths are resolved beneath their directory by [`beneath`], never by the kernel walking
//! a guest string from an unconfined starting point. Operations on a name split the path
//! into its parent (opened beneath the root) and the last component, and use the `*at`
//! call that does not follow a symlink there, so a link swapped in between cannot
//! redirect them. Where POSIX leaves a corner open (trailing slashes, a final symlink),
//! the answers are wasmtime's.

use super::beneath::{self, Located};
use super::fs::{self, CPath, PathBuf};
use super::{Errno as LinuxErrno, net, poll, signals};
use crate::errno::{Errno, Result};
use crate::sys::{
    Advice, Clock, DirEntry, FileKind, FileStat, Interest, IoVec, OpenOptions, PATH_MAX, Platform,
    PollFd, RawHandle, Readiness, SetTime, Shutdown, SocketAddr, SocketOption, StatusFlags, Whence,
};

/// The Linux platform.
#[derive(Debug, Clone, Copy)]
pub struct Linux;

/// The WASI errno for a Linux errno (the same numbers on every Linux architecture).
pub fn wasi_errno(linux: LinuxErrno) -> Errno {
    use wafer_abi::wasi::errno;
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
    match usize::try_from(linux.0).ok().and_then(|i| DENSE.get(i)) {
        Some(&wasi) if wasi != 0 => Errno(u16::from(wasi)),
        _ => Errno::IO,
    }
}

impl From<LinuxErrno> for Errno {
    fn from(err: LinuxErrno) -> Self {
        wasi_errno(err)
    }
}

/// The errno for a failed path resolution: an escape from the granted directory is
/// `EPERM`, as in wasmtime.
fn resolve_error(err: LinuxErrno) -> Errno {
    if err == LinuxErrno::XDEV {
        Errno::PERM
    } else {
        err.into()
    }
}

fn locate(dir: RawHandle, path: &[u8]) -> Result<Located<'_>> {
    beneath::locate(dir, path).map_err(resolve_error)
}

fn open_beneath(dir: RawHandle, path: &[u8], flags: u32) -> Result<fs::OwnedFd> {
    beneath::open_beneath(dir, path, flags, 0o666).map_err(resolve_error)
}

/// `name` NUL-terminated in `buf`.
fn c_name<'b>(buf: &'b mut PathBuf, name: &[u8]) -> Result<CPath<'b>> {
    Ok(buf.c_path(name)?)
}

/// `path` without trailing slashes, as metadata lookups treat it (a lone `/` stays, to
/// be refused as absolute).
fn without_trailing_slashes(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b != b'/') {
        Some(last) => path.get(..=last).unwrap_or(path),
        None => path,
    }
}

/// What an `st_mode` says a file is.
pub fn kind_of(mode: u32) -> FileKind {
    match mode & fs::S_IFMT {
        fs::S_IFREG => FileKind::RegularFile,
        fs::S_IFDIR => FileKind::Directory,
        fs::S_IFCHR => FileKind::CharacterDevice,
        fs::S_IFBLK => FileKind::BlockDevice,
        fs::S_IFSOCK => FileKind::SocketStream,
        fs::S_IFLNK => FileKind::SymbolicLink,
        fs::S_IFIFO => FileKind::Fifo,
        _ => FileKind::Unknown,
    }
}

fn file_stat(stat: fs::FileStat) -> FileStat {
    FileStat {
        dev: stat.dev,
        ino: stat.ino,
        kind: kind_of(stat.mode),
        nlink: stat.nlink,
        size: stat.size,
        atime: stat.atime,
        mtime: stat.mtime,
        ctime: stat.ctime,
    }
}

fn set_time(time: SetTime) -> fs::SetTime {
    match time {
        SetTime::Omit => fs::SetTime::Omit,
        SetTime::Now => fs::SetTime::Now,
        SetTime::At(ns) => fs::SetTime::At(ns),
    }
}

fn clock_id(clock: Clock) -> u32 {
    match clock {
        Clock::Realtime => 0,
        Clock::Monotonic => 1,
        Clock::ProcessCpuTime => 2,
        Clock::ThreadCpuTime => 3,
    }
}

/// `d_type` values of `getdents64`.
const DT_FIFO: u8 = 1;
const DT_CHR: u8 = 2;
const DT_DIR: u8 = 4;
const DT_BLK: u8 = 6;
const DT_REG: u8 = 8;
const DT_LNK: u8 = 10;
const DT_SOCK: u8 = 12;
const DT_UNKNOWN: u8 = 0;

/// Splits the first `struct linux_dirent64` off `records`.
fn next_dirent(records: &[u8]) -> Option<(&[u8], &[u8])> {
    let reclen = u16::from_le_bytes(le_bytes(records, 16)) as usize;
    if reclen < 19 {
        return None;
    }
    records.split_at_checked(reclen)
}

/// The little-endian integer of `N` bytes at `offset` in `bytes` (zero past the end),
/// decoded without a panic path.
fn le_bytes<const N: usize>(bytes: &[u8], offset: usize) -> [u8; N] {
    bytes
        .get(offset..offset + N)
        .and_then(|field| field.try_into().ok())
        .unwrap_or([0; N])
}

/// The kind of a directory entry whose filesystem did not report one.
fn unknown_kind(dir: i32, name: &[u8]) -> FileKind {
    let mut path = PathBuf::new();
    path.c_path(name)
        .ok()
        .and_then(|name| fs::statx(dir, name, fs::AT_SYMLINK_NOFOLLOW).ok())
        .map_or(FileKind::Unknown, |stat| kind_of(stat.mode))
}

impl Platform for Linux {
    fn exit(code: i32) -> ! {
        super::exit(code)
    }

    fn args() -> impl Iterator<Item = &'static [u8]> + Clone {
        super::process::args()
    }

    fn host_env() -> impl Iterator<Item = &'static [u8]> + Clone {
        super::process::host_env()
    }

    fn yield_now() {
        super::sched_yield()
    }

    fn raise(signal: u8) -> Result {
        // WASI signal numbers are Linux's up to `SIGTERM` (15); Linux then has
        // `SIGSTKFLT`, which WASI skips.
        let linux = match signal {
            0 => return Ok(()),
            1..=15 => signal as i32,
            16..=30 => signal as i32 + 1,
            _ => return Err(Errno::INVAL),
        };
        Ok(signals::raise_default(linux)?)
    }

    fn stack_bottom() -> usize {
        super::signals::guest_stack_bottom()
    }

    fn fiber_stack(size: usize) -> Option<(usize, usize, usize)> {
        super::signals::allocate_fiber_stack(size)
    }

    fn set_fiber_guard(guard: Option<(usize, usize)>) {
        super::signals::set_fiber_guard(guard);
    }

    fn console_write(stream: RawHandle, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            // SAFETY: `rest` is a live slice.
            match unsafe { super::write(stream, rest.as_ptr(), rest.len()) } {
                Ok(0) | Err(_) => return,
                Ok(n) => rest = rest.get(n..).unwrap_or_default(),
            }
        }
    }

    fn catch_traps<F: FnOnce()>(f: F) -> core::result::Result<(), crate::trap::TrapKind> {
        crate::sys::catch::catch_traps(f)
    }

    fn land_if_catching(kind: crate::trap::TrapKind) {
        crate::sys::catch::land_if_catching(kind)
    }

    unsafe fn resume(pc: usize, sp: usize, fp: usize, exception: *mut u8) -> ! {
        // SAFETY: forwarded from the caller.
        unsafe { crate::sys::isa::wafer_rt_resume(pc, sp, fp, exception) }
    }

    fn reserve_linear_memory(max_bytes: u64) -> Option<(*mut u8, u64)> {
        let base = super::reserve(wafer_abi::GUARDED_MEMORY_RESERVATION as usize)?;
        Some((base, max_bytes))
    }

    fn reserve_growable(_initial: usize, wanted: usize) -> Option<(*mut u8, usize)> {
        Some((super::reserve(wanted)?, wanted))
    }

    const TABLES_MOVE: bool = false;

    fn allocate_block(_len: usize) -> Option<*mut u8> {
        None
    }

    unsafe fn move_block(_base: *mut u8, _len: usize, _new_len: usize) -> Option<*mut u8> {
        None
    }

    fn page_size() -> usize {
        super::page_size()
    }

    fn reserve(len: usize) -> Option<*mut u8> {
        super::reserve(len)
    }

    unsafe fn reserve_at(addr: usize, len: usize, replace: bool) -> bool {
        // SAFETY: forwarded from the caller.
        unsafe { super::reserve_at(addr, len, replace) }
    }

    unsafe fn commit(addr: *mut u8, len: usize) -> bool {
        // SAFETY: forwarded from the caller.
        unsafe { super::commit(addr, len) }
    }

    unsafe fn read(handle: RawHandle, bufs: &[IoVec]) -> Result<usize> {
        // SAFETY: the caller guarantees the buffers.
        Ok(unsafe { super::readv(handle, bufs.as_ptr(), bufs.len()) }?)
    }

    unsafe fn write(handle: RawHandle, bufs: &[IoVec]) -> Result<usize> {
        // SAFETY: the caller guarantees the buffers.
        Ok(unsafe { super::writev(handle, bufs.as_ptr(), bufs.len()) }?)
    }

    unsafe fn pread(handle: RawHandle, bufs: &[IoVec], offset: u64) -> Result<usize> {
        // SAFETY: the caller guarantees the buffers.
        Ok(unsafe { fs::preadv(handle, bufs, offset) }?)
    }

    unsafe fn pwrite(handle: RawHandle, bufs: &[IoVec], offset: u64) -> Result<usize> {
        // SAFETY: the caller guarantees the buffers.
        Ok(unsafe { fs::pwritev(handle, bufs, offset) }?)
    }

    unsafe fn append(handle: RawHandle, bufs: &[IoVec]) -> Result<usize> {
        // SAFETY: the caller guarantees the buffers.
        match unsafe { fs::append(handle, bufs) }.map_err(Errno::from) {
            // Kernels before 4.16: at the size now (another writer may race with it,
            // as with any write at an offset).
            Err(Errno::NOTSUP | Errno::NOSYS | Errno::INVAL) => {
                let size = Self::stat(handle)?.size;
                // SAFETY: as above.
                Ok(unsafe { fs::pwritev(handle, bufs, size) }?)
            }
            other => other,
        }
    }

    fn seek(handle: RawHandle, offset: i64, whence: Whence) -> Result<u64> {
        let whence = match whence {
            Whence::Start => 0,
            Whence::Current => 1,
            Whence::End => 2,
        };
        Ok(super::lseek(handle, offset, whence)?)
    }

    fn close(handle: RawHandle) {
        fs::close(handle)
    }

    fn stat(handle: RawHandle) -> Result<FileStat> {
        Ok(file_stat(fs::fstat(handle)?))
    }

    fn kind(handle: RawHandle) -> Result<FileKind> {
        Ok(kind_of(fs::file_mode(handle)?))
    }

    fn is_terminal(handle: RawHandle) -> bool {
        fs::is_terminal(handle)
    }

    fn set_size(handle: RawHandle, size: u64) -> Result {
        Ok(fs::ftruncate(handle, size)?)
    }

    fn set_times(handle: RawHandle, atime: SetTime, mtime: SetTime) -> Result {
        Ok(fs::utimensat(
            handle,
            None,
            set_time(atime),
            set_time(mtime),
            0,
        )?)
    }

    fn sync(handle: RawHandle) -> Result {
        Ok(fs::fsync(handle)?)
    }

    fn datasync(handle: RawHandle) -> Result {
        Ok(fs::fdatasync(handle)?)
    }

    fn advise(handle: RawHandle, offset: u64, len: u64, advice: Advice) -> Result {
        let posix = match advice {
            Advice::Normal => 0,
            Advice::Random => 1,
            Advice::Sequential => 2,
            Advice::WillNeed => 3,
            Advice::DontNeed => 4,
            Advice::NoReuse => 5,
        };
        Ok(fs::fadvise(handle, offset, len, posix)?)
    }

    fn allocate(handle: RawHandle, offset: u64, len: u64) -> Result {
        Ok(fs::fallocate(handle, offset, len)?)
    }

    fn status_flags(handle: RawHandle) -> Result<StatusFlags> {
        let status = fs::get_status_flags(handle)?;
        Ok(StatusFlags {
            append: status & fs::O_APPEND != 0,
            nonblock: status & fs::O_NONBLOCK != 0,
            dsync: status & fs::O_DSYNC != 0,
            rsync: status & fs::O_SYNC == fs::O_SYNC,
            sync: status & fs::O_SYNC == fs::O_SYNC,
        })
    }

    fn set_status_flags(handle: RawHandle, flags: StatusFlags) -> Result {
        let mut status = fs::get_status_flags(handle)? & !(fs::O_APPEND | fs::O_NONBLOCK);
        if flags.append {
            status |= fs::O_APPEND;
        }
        if flags.nonblock {
            status |= fs::O_NONBLOCK;
        }
        Ok(fs::set_status_flags(handle, status)?)
    }

    fn bytes_readable(handle: RawHandle) -> Result<u64> {
        Ok(fs::bytes_readable(handle)?)
    }

    fn read_dir(
        handle: RawHandle,
        cookie: u64,
        each: &mut dyn FnMut(DirEntry<'_>) -> bool,
    ) -> Result {
        // Cookies are the kernel's own directory offsets (`d_off`), so reading on from any
        // entry is one `lseek`, and entries added or removed between calls never shift
        // the position.
        super::lseek(handle, cookie as i64, 0)?;
        let own_ino = fs::fstat(handle)?.ino;
        // `struct linux_dirent64` records are 8-byte aligned.
        let mut host = [0u64; 512];
        loop {
            // SAFETY: reinterpreting the u64 buffer as bytes; every byte pattern is valid.
            let bytes = unsafe {
                core::slice::from_raw_parts_mut(host.as_mut_ptr() as *mut u8, host.len() * 8)
            };
            let filled = fs::getdents64(handle, bytes)?;
            if filled == 0 {
                return Ok(());
            }
            let mut records = bytes.get(..filled).unwrap_or_default();
            while let Some((record, rest)) = next_dirent(records) {
                records = rest;
                let name_area = record.get(19..).unwrap_or_default();
                let name_len = name_area
                    .iter()
                    .position(|&b| b == 0)
                    .unwrap_or(name_area.len());
                let name = name_area.get(..name_len).unwrap_or_default();
                let kind = match u8::from_le_bytes(le_bytes(record, 18)) {
                    DT_DIR => FileKind::Directory,
                    DT_REG => FileKind::RegularFile,
                    DT_LNK => FileKind::SymbolicLink,
                    DT_CHR => FileKind::CharacterDevice,
                    DT_BLK => FileKind::BlockDevice,
                    DT_SOCK => FileKind::SocketStream,
                    DT_FIFO => FileKind::Fifo,
                    DT_UNKNOWN => unknown_kind(handle, name),
                    _ => FileKind::Unknown,
                };
                let entry = DirEntry {
                    next: u64::from_le_bytes(le_bytes(record, 8)),
                    // The `..` of a directory the guest was given leads outside it: it
                    // is reported as the directory itself, not the host's parent.
                    ino: if name == b".." {
                        own_ino
                    } else {
                        u64::from_le_bytes(le_bytes(record, 0))
                    },
                    kind,
                    name,
                };
                if !each(entry) {
                    return Ok(());
                }
            }
        }
    }

    fn open_granted_dir(path: &[u8]) -> Result<RawHandle> {
        let mut buf = PathBuf::new();
        let c_path = buf.c_path(path)?;
        Ok(fs::openat(
            fs::AT_FDCWD,
            c_path,
            fs::O_RDONLY | fs::O_DIRECTORY,
            0,
        )?)
    }

    fn open_at(dir: RawHandle, path: &[u8], options: &OpenOptions) -> Result<RawHandle> {
        let mut flags = match (options.read, options.write) {
            (true, true) => fs::O_RDWR,
            (false, true) => fs::O_WRONLY,
            _ => fs::O_RDONLY,
        } | fs::O_NOCTTY;
        let status = options.status;
        for (wanted, linux) in [
            (options.create, fs::O_CREAT),
            (options.directory, fs::O_DIRECTORY),
            (options.exclusive, fs::O_EXCL),
            (options.truncate, fs::O_TRUNC),
            (status.append, fs::O_APPEND),
            (status.nonblock, fs::O_NONBLOCK),
            (status.dsync, fs::O_DSYNC),
            (status.rsync || status.sync, fs::O_SYNC),
            (!options.follow, fs::O_NOFOLLOW),
        ] {
            if wanted {
                flags |= linux;
            }
        }
        match open_beneath(dir, path, flags) {
            Ok(host) => Ok(host.into_raw()),
            // O_NOFOLLOW with O_DIRECTORY reports a final symlink as ENOTDIR; without
            // O_DIRECTORY it is ELOOP, which is what wasmtime answers either way.
            Err(Errno::NOTDIR) if !options.follow && options.directory => {
                let located = locate(dir, without_trailing_slashes(path))?;
                let mut name = PathBuf::new();
                let stat = fs::statx(
                    located.dir(),
                    c_name(&mut name, located.name)?,
                    fs::AT_SYMLINK_NOFOLLOW,
                );
                Err(match stat {
                    Ok(stat) if stat.file_type() == fs::S_IFLNK => Errno::LOOP,
                    _ => Errno::NOTDIR,
                })
            }
            Err(err) => Err(err),
        }
    }

    fn stat_at(dir: RawHandle, path: &[u8], follow: bool) -> Result<FileStat> {
        let stat = if follow {
            // A trailing slash stays: `file/` is not a directory.
            let target = open_beneath(dir, path, fs::O_PATH)?;
            fs::fstat(target.raw())?
        } else {
            // Without following, a trailing slash is ignored (as wasmtime does): `link/`
            // is the link itself. Stripping it also keeps the kernel from following it.
            let located = locate(dir, without_trailing_slashes(path))?;
            let mut name = PathBuf::new();
            fs::statx(
                located.dir(),
                c_name(&mut name, located.name)?,
                fs::AT_SYMLINK_NOFOLLOW,
            )?
        };
        Ok(file_stat(stat))
    }

    fn set_times_at(
        dir: RawHandle,
        path: &[u8],
        follow: bool,
        atime: SetTime,
        mtime: SetTime,
    ) -> Result {
        // A trailing slash resolves a final symlink, as the kernel (and wasmtime) do; the
        // confined open does that safely.
        if follow || path.last() == Some(&b'/') {
            let target = open_beneath(dir, path, fs::O_PATH)?;
            fs::utimensat(
                target.raw(),
                Some(CPath::EMPTY),
                set_time(atime),
                set_time(mtime),
                fs::AT_EMPTY_PATH,
            )?;
        } else {
            let located = locate(dir, path)?;
            let mut name = PathBuf::new();
            fs::utimensat(
                located.dir(),
                Some(c_name(&mut name, located.name)?),
                set_time(atime),
                set_time(mtime),
                fs::AT_SYMLINK_NOFOLLOW,
            )?;
        }
        Ok(())
    }

    fn create_dir_at(dir: RawHandle, path: &[u8]) -> Result {
        let located = locate(dir, path)?;
        let mut name = PathBuf::new();
        Ok(fs::mkdirat(
            located.dir(),
            c_name(&mut name, located.name)?,
            0o777,
        )?)
    }

    fn remove_dir_at(dir: RawHandle, path: &[u8]) -> Result {
        let located = locate(dir, path)?;
        if located.is_dot() {
            return Err(Errno::INVAL);
        }
        let mut name = PathBuf::new();
        Ok(fs::unlinkat(
            located.dir(),
            c_name(&mut name, located.name)?,
            fs::AT_REMOVEDIR,
        )?)
    }

    fn unlink_file_at(dir: RawHandle, path: &[u8]) -> Result {
        let located = locate(dir, path)?;
        let mut name = PathBuf::new();
        Ok(fs::unlinkat(
            located.dir(),
            c_name(&mut name, located.name)?,
            0,
        )?)
    }

    fn readlink_at(dir: RawHandle, path: &[u8], target: &mut [u8; PATH_MAX]) -> Result<usize> {
        let located = locate(dir, path)?;
        if located.has_trailing_slash() {
            // A trailing slash resolves the link; what it names is then not a link (or,
            // for a file, not a directory).
            let resolved = open_beneath(dir, path, fs::O_PATH)?;
            return Err(if fs::fstat(resolved.raw())?.file_type() == fs::S_IFDIR {
                Errno::INVAL
            } else {
                Errno::NOTDIR
            });
        }
        let mut name = PathBuf::new();
        let len = fs::readlinkat(located.dir(), c_name(&mut name, located.name)?, target)?;
        // An absolute target can never be followed inside the sandbox; wasmtime refuses
        // to read it too.
        if target.first() == Some(&b'/') && len > 0 {
            return Err(Errno::PERM);
        }
        Ok(len)
    }

    fn link_at(old_dir: RawHandle, old_path: &[u8], new_dir: RawHandle, new_path: &[u8]) -> Result {
        if old_path.last() == Some(&b'/') {
            // `linkat` would follow a final symlink here, unconfined. What the path
            // names can only be a directory (which cannot be linked) or not one.
            let target = open_beneath(old_dir, old_path, fs::O_PATH)?;
            return Err(if fs::fstat(target.raw())?.file_type() == fs::S_IFDIR {
                Errno::PERM
            } else {
                Errno::NOTDIR
            });
        }
        let old = locate(old_dir, old_path)?;
        let new = locate(new_dir, new_path)?;
        let (mut old_name, mut new_name) = (PathBuf::new(), PathBuf::new());
        Ok(fs::linkat(
            old.dir(),
            c_name(&mut old_name, old.name)?,
            new.dir(),
            c_name(&mut new_name, new.name)?,
            0,
        )?)
    }

    fn rename_at(
        old_dir: RawHandle,
        old_path: &[u8],
        new_dir: RawHandle,
        new_path: &[u8],
    ) -> Result {
        let old = locate(old_dir, old_path)?;
        let new = locate(new_dir, new_path)?;
        let (mut old_name, mut new_name) = (PathBuf::new(), PathBuf::new());
        Ok(fs::renameat(
            old.dir(),
            c_name(&mut old_name, old.name)?,
            new.dir(),
            c_name(&mut new_name, new.name)?,
        )?)
    }

    fn symlink_at(target: &[u8], dir: RawHandle, path: &[u8]) -> Result {
        // An absolute target could never be followed inside the sandbox.
        if target.first() == Some(&b'/') {
            return Err(Errno::PERM);
        }
        let located = locate(dir, path)?;
        let (mut target_c, mut name) = (PathBuf::new(), PathBuf::new());
        Ok(fs::symlinkat(
            c_name(&mut target_c, target)?,
            located.dir(),
            c_name(&mut name, located.name)?,
        )?)
    }

    fn listen(addr: &wafer_abi::grants::ListenAddr) -> Result<RawHandle> {
        Ok(net::listen(addr)?)
    }

    fn accept(listener: RawHandle, nonblock: bool) -> Result<RawHandle> {
        let flags = if nonblock { net::SOCK_NONBLOCK } else { 0 };
        Ok(net::accept(listener, flags)?)
    }

    unsafe fn recv(
        handle: RawHandle,
        bufs: &[IoVec],
        peek: bool,
        wait_all: bool,
    ) -> Result<(usize, bool)> {
        let mut flags = 0;
        if peek {
            flags |= net::MSG_PEEK;
        }
        if wait_all {
            flags |= net::MSG_WAITALL;
        }
        // SAFETY: the caller guarantees the buffers.
        let (received, out_flags) = unsafe { net::recv(handle, bufs, flags) }?;
        Ok((received, out_flags & net::MSG_TRUNC != 0))
    }

    unsafe fn send(handle: RawHandle, bufs: &[IoVec]) -> Result<usize> {
        // SAFETY: the caller guarantees the buffers.
        Ok(unsafe { net::send(handle, bufs) }?)
    }

    fn shutdown(handle: RawHandle, how: Shutdown) -> Result {
        let how = match how {
            Shutdown::Read => 0,
            Shutdown::Write => 1,
            Shutdown::Both => 2,
        };
        Ok(net::shutdown(handle, how)?)
    }

    fn socket(ipv6: bool, datagram: bool) -> Result<RawHandle> {
        Ok(net::socket(ipv6, datagram)?)
    }

    fn bind(handle: RawHandle, addr: &SocketAddr) -> Result {
        Ok(net::bind(handle, addr)?)
    }

    fn listen_on(handle: RawHandle, backlog: u32) -> Result {
        Ok(net::listen_on(handle, backlog)?)
    }

    fn connect(handle: RawHandle, addr: Option<&SocketAddr>) -> Result {
        Ok(net::connect(handle, addr)?)
    }

    fn socket_address(handle: RawHandle, peer: bool) -> Result<SocketAddr> {
        Ok(net::address(handle, peer)?)
    }

    fn socket_option(handle: RawHandle, option: SocketOption, ipv6: bool) -> Result<i32> {
        Ok(net::get_option(handle, option, ipv6)?)
    }

    fn set_socket_option(
        handle: RawHandle,
        option: SocketOption,
        ipv6: bool,
        value: i32,
    ) -> Result {
        Ok(net::set_socket_option(handle, option, ipv6, value)?)
    }

    fn socket_error(handle: RawHandle) -> Result<Option<Errno>> {
        let raw = net::get_option(handle, SocketOption::Error, false)?;
        Ok((raw != 0).then(|| LinuxErrno(raw).into()))
    }

    unsafe fn send_to(handle: RawHandle, bufs: &[IoVec], to: Option<&SocketAddr>) -> Result<usize> {
        // SAFETY: the caller guarantees the buffers.
        Ok(unsafe { net::send_to(handle, bufs, to) }?)
    }

    unsafe fn recv_from(handle: RawHandle, bufs: &[IoVec]) -> Result<(usize, SocketAddr)> {
        // SAFETY: the caller guarantees the buffers.
        Ok(unsafe { net::recv_from(handle, bufs) }?)
    }

    fn poll(fds: &mut [PollFd], timeout: Option<u64>) -> Result<usize> {
        const BATCH: usize = 512;
        let mut host = [poll::PollFd::default(); BATCH];
        let host = host.get_mut(..fds.len()).ok_or(Errno::NOMEM)?;
        for (slot, fd) in host.iter_mut().zip(fds.iter()) {
            *slot = poll::PollFd {
                fd: fd.handle,
                events: match fd.interest {
                    Interest::Read => poll::POLLIN,
                    Interest::Write => poll::POLLOUT,
                },
                revents: 0,
            };
        }
        let ready = poll::ppoll(host, timeout)?;
        for (fd, slot) in fds.iter_mut().zip(host.iter()) {
            let revents = slot.revents;
            fd.ready = Readiness {
                readable: revents & poll::POLLIN != 0,
                writable: revents & poll::POLLOUT != 0,
                hangup: revents & poll::POLLHUP != 0,
                error: revents & poll::POLLERR != 0,
                invalid: revents & poll::POLLNVAL != 0,
            };
        }
        Ok(ready)
    }

    fn reactor_new() -> Result<RawHandle> {
        Ok(poll::epoll_create()?)
    }

    fn reactor_add(reactor: RawHandle, handle: RawHandle, token: u64, edge: bool) -> Result {
        let mut events = poll::EPOLLIN | poll::EPOLLOUT | poll::EPOLLRDHUP;
        if edge {
            events |= poll::EPOLLET;
        }
        Ok(poll::epoll_add(reactor, handle, events, token)?)
    }

    fn reactor_wait(
        reactor: RawHandle,
        events: &mut [(u64, Readiness)],
        timeout: Option<u64>,
    ) -> Result<usize> {
        const BATCH: usize = 256;
        let mut host = [poll::EpollEvent::default(); BATCH];
        let len = events.len().min(BATCH);
        let ready = poll::epoll_wait(reactor, &mut host[..len], timeout)?;
        for (out, event) in events.iter_mut().zip(&host[..ready]) {
            let (bits, token) = (event.events, event.data);
            *out = (
                token,
                Readiness {
                    readable: bits & (poll::EPOLLIN | poll::EPOLLRDHUP) != 0,
                    writable: bits & poll::EPOLLOUT != 0,
                    hangup: bits & poll::EPOLLHUP != 0,
                    error: bits & poll::EPOLLERR != 0,
                    invalid: false,
                },
            );
        }
        Ok(ready)
    }

    fn sleep_until(deadline: u64) -> Result {
        Ok(poll::sleep(
            clock_id(Clock::Monotonic),
            poll::TIMER_ABSTIME,
            deadline,
        )?)
    }

    fn now(clock: Clock) -> Result<u64> {
        Ok(super::clock_gettime(clock_id(clock))?)
    }

    fn resolution(clock: Clock) -> Result<u64> {
        Ok(super::clock_getres(clock_id(clock))?)
    }

    fn gpio_make_output(_pin: u32) -> Result {
        Err(Errno::NOSYS)
    }

    fn gpio_set(_pin: u32, _high: bool) -> Result {
        Err(Errno::NOSYS)
    }

    fn gpio_get(_pin: u32) -> Result<bool> {
        Err(Errno::NOSYS)
    }

    unsafe fn random(dst: *mut u8, len: usize) -> Result {
        // SAFETY: the caller guarantees the buffer.
        Ok(unsafe { super::getrandom(dst, len) }?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_errnos_map_to_wasi() {
        use wafer_abi::wasi::errno;
        let map = |linux| wasi_errno(LinuxErrno(linux)).0;
        assert_eq!(map(9), errno::BADF);
        assert_eq!(map(29), errno::SPIPE);
        assert_eq!(map(38), errno::NOSYS);
        assert_eq!(map(1), errno::PERM);
        assert_eq!(map(131), errno::NOTRECOVERABLE);
        for unmapped in [-5, 0, 15, 41, 132, 9999] {
            assert_eq!(map(unmapped), errno::IO, "{unmapped}");
        }
    }
}
