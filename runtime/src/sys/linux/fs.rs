//! Files and directories: thin, typed wrappers over the `*at` system calls. Confinement
//! (resolving a guest path beneath a preopen) is in [`super::beneath`]; these functions
//! do exactly the one system call they name.

use super::syscall::{nr, syscall6};
use super::{Errno, IoVec, arch, check};

pub use arch::{O_DIRECTORY, O_NOFOLLOW};

/// `O_RDONLY`.
pub const O_RDONLY: u32 = 0;
/// `O_WRONLY`.
pub const O_WRONLY: u32 = 1;
/// `O_RDWR`.
pub const O_RDWR: u32 = 2;
/// `O_CREAT`.
pub const O_CREAT: u32 = 0o100;
/// `O_EXCL`.
pub const O_EXCL: u32 = 0o200;
/// `O_NOCTTY`.
pub const O_NOCTTY: u32 = 0o400;
/// `O_TRUNC`.
pub const O_TRUNC: u32 = 0o1000;
/// `O_APPEND`.
pub const O_APPEND: u32 = 0o2000;
/// `O_NONBLOCK`.
pub const O_NONBLOCK: u32 = 0o4000;
/// `O_DSYNC`.
pub const O_DSYNC: u32 = 0o10000;
/// `O_SYNC` (which includes `O_DSYNC`; Linux's `O_RSYNC` is the same value).
pub const O_SYNC: u32 = 0o4010000;
/// `O_CLOEXEC`.
pub const O_CLOEXEC: u32 = 0o2000000;
/// `O_PATH`.
pub const O_PATH: u32 = 0o10000000;

/// `AT_FDCWD`: paths relative to the working directory.
pub const AT_FDCWD: i32 = -100;
/// `AT_SYMLINK_NOFOLLOW`.
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
/// `AT_REMOVEDIR`.
pub const AT_REMOVEDIR: u32 = 0x200;
/// `AT_SYMLINK_FOLLOW`.
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
/// `AT_EMPTY_PATH`.
pub const AT_EMPTY_PATH: u32 = 0x1000;

/// The longest path the kernel accepts, with its NUL (`PATH_MAX`).
pub const PATH_MAX: usize = 4096;

/// File type bits of `st_mode` (`S_IFMT`).
pub const S_IFMT: u32 = 0o170000;
/// `S_IFREG`.
pub const S_IFREG: u32 = 0o100000;
/// `S_IFDIR`.
pub const S_IFDIR: u32 = 0o040000;
/// `S_IFCHR`.
pub const S_IFCHR: u32 = 0o020000;
/// `S_IFBLK`.
pub const S_IFBLK: u32 = 0o060000;
/// `S_IFIFO`.
pub const S_IFIFO: u32 = 0o010000;
/// `S_IFSOCK`.
pub const S_IFSOCK: u32 = 0o140000;
/// `S_IFLNK`.
pub const S_IFLNK: u32 = 0o120000;

/// A NUL-terminated path with no other NUL, ready for a system call.
#[derive(Debug, Clone, Copy)]
pub struct CPath<'a>(&'a [u8]);

impl<'a> CPath<'a> {
    /// The empty path, for `AT_EMPTY_PATH` calls.
    pub const EMPTY: CPath<'static> = CPath(b"\0");
    /// `.`, the directory itself.
    pub const DOT: CPath<'static> = CPath(b".\0");
    /// `/dev/null`.
    pub const DEV_NULL: CPath<'static> = CPath(b"/dev/null\0");

    /// `bytes` if it ends in its only NUL.
    pub fn new(bytes: &'a [u8]) -> Option<CPath<'a>> {
        match bytes.iter().position(|&b| b == 0) {
            Some(at) if at + 1 == bytes.len() => Some(CPath(bytes)),
            _ => None,
        }
    }

    /// The path without its NUL.
    pub fn bytes(&self) -> &'a [u8] {
        self.0.split_last().map_or(&[], |(_, bytes)| bytes)
    }

    fn ptr(&self) -> usize {
        self.0.as_ptr() as usize
    }
}

/// A path copied into a fixed buffer so it can be NUL-terminated: the runtime does not
/// allocate.
pub struct PathBuf {
    bytes: [u8; PATH_MAX],
}

impl PathBuf {
    /// An empty buffer.
    pub const fn new() -> PathBuf {
        PathBuf {
            bytes: [0; PATH_MAX],
        }
    }

    /// `path` with a NUL appended: `ENAMETOOLONG` if it does not fit, `EINVAL` if it
    /// holds a NUL itself.
    pub fn c_path(&mut self, path: &[u8]) -> Result<CPath<'_>, Errno> {
        self.c_path_of(&[path])
    }

    /// The concatenation of `parts` with a NUL appended, with the errors of [`c_path`].
    ///
    /// [`c_path`]: PathBuf::c_path
    pub fn c_path_of(&mut self, parts: &[&[u8]]) -> Result<CPath<'_>, Errno> {
        let mut len = 0;
        for part in parts {
            if part.contains(&0) {
                return Err(Errno::INVAL);
            }
            let end = len + part.len();
            self.bytes
                .get_mut(len..end)
                .filter(|_| end < PATH_MAX)
                .ok_or(Errno::NAMETOOLONG)?
                .copy_from_slice(part);
            len = end;
        }
        let with_nul = self.bytes.get_mut(..=len).ok_or(Errno::NAMETOOLONG)?;
        if let Some(last) = with_nul.last_mut() {
            *last = 0;
        }
        Ok(CPath(with_nul))
    }
}

impl Default for PathBuf {
    fn default() -> Self {
        Self::new()
    }
}

/// `openat(2)`; the descriptor is always close-on-exec.
pub fn openat(dir: i32, path: CPath<'_>, flags: u32, mode: u32) -> Result<i32, Errno> {
    // SAFETY: `path` is NUL-terminated.
    check(unsafe {
        syscall6(
            nr::OPENAT,
            dir as usize,
            path.ptr(),
            (flags | O_CLOEXEC) as usize,
            mode as usize,
            0,
            0,
        )
    })
    .map(|fd| fd as i32)
}

/// `RESOLVE_NO_MAGICLINKS`: no `/proc/self/fd`-style jumps.
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
/// `RESOLVE_BENEATH`: the walk may not leave the starting directory.
pub const RESOLVE_BENEATH: u64 = 0x08;

/// `openat2(2)` with `resolve` flags; the descriptor is always close-on-exec.
pub fn openat2(
    dir: i32,
    path: CPath<'_>,
    flags: u32,
    mode: u32,
    resolve: u64,
) -> Result<i32, Errno> {
    // `struct open_how`.
    let how: [u64; 3] = [
        (flags | O_CLOEXEC) as u64,
        if flags & O_CREAT != 0 { mode as u64 } else { 0 },
        resolve,
    ];
    // SAFETY: `path` is NUL-terminated and `how` is a 24-byte `struct open_how`.
    check(unsafe {
        syscall6(
            nr::OPENAT2,
            dir as usize,
            path.ptr(),
            how.as_ptr() as usize,
            core::mem::size_of_val(&how),
            0,
            0,
        )
    })
    .map(|fd| fd as i32)
}

/// `close(2)`. Errors are ignored: the descriptor is gone either way on Linux.
pub fn close(fd: i32) {
    // SAFETY: close takes no pointers.
    unsafe { syscall6(nr::CLOSE, fd as usize, 0, 0, 0, 0, 0) };
}

/// A descriptor closed when dropped.
#[derive(Debug)]
pub struct OwnedFd(i32);

impl OwnedFd {
    /// Takes ownership of `fd`.
    pub fn new(fd: i32) -> OwnedFd {
        OwnedFd(fd)
    }

    /// The raw descriptor, still owned.
    pub fn raw(&self) -> i32 {
        self.0
    }

    /// Gives up ownership without closing.
    pub fn into_raw(self) -> i32 {
        let fd = self.0;
        core::mem::forget(self);
        fd
    }
}

impl Drop for OwnedFd {
    fn drop(&mut self) {
        close(self.0);
    }
}

/// What `statx` reports, in the units WASI uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileStat {
    /// Device id (`makedev` encoding).
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// `st_mode`, type and permission bits.
    pub mode: u32,
    /// Hard link count.
    pub nlink: u64,
    /// Size in bytes.
    pub size: u64,
    /// Last access, in nanoseconds since the epoch (0 for times before it).
    pub atime: u64,
    /// Last modification.
    pub mtime: u64,
    /// Last status change.
    pub ctime: u64,
}

impl FileStat {
    /// The file type bits.
    pub fn file_type(&self) -> u32 {
        self.mode & S_IFMT
    }
}

const STATX_BASIC_STATS: usize = 0x7ff;

/// `statx` mask bits for just the file type and permissions.
const STATX_TYPE_AND_MODE: usize = 0x3;

/// The `st_mode` (type and permissions) of open descriptor `fd`: what `fd_fdstat_get`
/// needs, without decoding a whole [`FileStat`].
pub fn file_mode(fd: i32) -> Result<u32, Errno> {
    let mut buf = [0u64; 32];
    // SAFETY: the empty path is NUL-terminated and `buf` is a 256-byte `struct statx`.
    check(unsafe {
        syscall6(
            nr::STATX,
            fd as usize,
            CPath::EMPTY.ptr(),
            AT_EMPTY_PATH as usize,
            STATX_TYPE_AND_MODE,
            buf.as_mut_ptr() as usize,
            0,
        )
    })?;
    // `stx_mode` is the u16 at byte 28.
    Ok((buf[3] >> 32) as u32 & 0xffff)
}

/// `statx(2)` of `path` relative to `dir` with `AT_*` `flags`.
pub fn statx(dir: i32, path: CPath<'_>, flags: u32) -> Result<FileStat, Errno> {
    let mut buf = [0u64; 32];
    // SAFETY: `path` is NUL-terminated and `buf` is a 256-byte `struct statx`.
    check(unsafe {
        syscall6(
            nr::STATX,
            dir as usize,
            path.ptr(),
            flags as usize,
            STATX_BASIC_STATS,
            buf.as_mut_ptr() as usize,
            0,
        )
    })?;
    let u32_at = |offset: usize| (buf[offset / 8] >> (8 * (offset % 8))) as u32;
    let time_at = |offset: usize| {
        let seconds = buf[offset / 8] as i64;
        let nanos = u32_at(offset + 8) as u64;
        if seconds < 0 {
            0
        } else {
            (seconds as u64)
                .saturating_mul(1_000_000_000)
                .saturating_add(nanos)
        }
    };
    let (major, minor) = (u32_at(136) as u64, u32_at(140) as u64);
    Ok(FileStat {
        dev: ((major & 0xffff_f000) << 32)
            | ((major & 0xfff) << 8)
            | ((minor & 0xffff_ff00) << 12)
            | (minor & 0xff),
        ino: buf[4],
        mode: u32_at(28) & 0xffff,
        nlink: u32_at(16) as u64,
        size: buf[5],
        atime: time_at(64),
        mtime: time_at(112),
        ctime: time_at(96),
    })
}

/// `fstat` by way of `statx(fd, "", AT_EMPTY_PATH)`.
pub fn fstat(fd: i32) -> Result<FileStat, Errno> {
    statx(fd, CPath::EMPTY, AT_EMPTY_PATH)
}

/// `mkdirat(2)`.
pub fn mkdirat(dir: i32, path: CPath<'_>, mode: u32) -> Result<(), Errno> {
    // SAFETY: `path` is NUL-terminated.
    check(unsafe {
        syscall6(
            nr::MKDIRAT,
            dir as usize,
            path.ptr(),
            mode as usize,
            0,
            0,
            0,
        )
    })
    .map(drop)
}

/// `unlinkat(2)`.
pub fn unlinkat(dir: i32, path: CPath<'_>, flags: u32) -> Result<(), Errno> {
    // SAFETY: `path` is NUL-terminated.
    check(unsafe {
        syscall6(
            nr::UNLINKAT,
            dir as usize,
            path.ptr(),
            flags as usize,
            0,
            0,
            0,
        )
    })
    .map(drop)
}

/// `renameat2(2)` with no flags.
pub fn renameat(old_dir: i32, old: CPath<'_>, new_dir: i32, new: CPath<'_>) -> Result<(), Errno> {
    // SAFETY: both paths are NUL-terminated.
    check(unsafe {
        syscall6(
            nr::RENAMEAT2,
            old_dir as usize,
            old.ptr(),
            new_dir as usize,
            new.ptr(),
            0,
            0,
        )
    })
    .map(drop)
}

/// `linkat(2)`.
pub fn linkat(
    old_dir: i32,
    old: CPath<'_>,
    new_dir: i32,
    new: CPath<'_>,
    flags: u32,
) -> Result<(), Errno> {
    // SAFETY: both paths are NUL-terminated.
    check(unsafe {
        syscall6(
            nr::LINKAT,
            old_dir as usize,
            old.ptr(),
            new_dir as usize,
            new.ptr(),
            flags as usize,
            0,
        )
    })
    .map(drop)
}

/// `symlinkat(2)`: creates `link` (relative to `dir`) pointing at `target`.
pub fn symlinkat(target: CPath<'_>, dir: i32, link: CPath<'_>) -> Result<(), Errno> {
    // SAFETY: both paths are NUL-terminated.
    check(unsafe {
        syscall6(
            nr::SYMLINKAT,
            target.ptr(),
            dir as usize,
            link.ptr(),
            0,
            0,
            0,
        )
    })
    .map(drop)
}

/// `readlinkat(2)` into `buf`; returns the length (the target is truncated to fit).
pub fn readlinkat(dir: i32, path: CPath<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `path` is NUL-terminated and `buf` is writable for its length.
    check(unsafe {
        syscall6(
            nr::READLINKAT,
            dir as usize,
            path.ptr(),
            buf.as_mut_ptr() as usize,
            buf.len(),
            0,
            0,
        )
    })
}

/// One timestamp for [`utimensat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetTime {
    /// Leave it unchanged.
    Omit,
    /// The current time.
    Now,
    /// Nanoseconds since the epoch.
    At(u64),
}

impl SetTime {
    fn timespec(self) -> [i64; 2] {
        const UTIME_NOW: i64 = (1 << 30) - 1;
        const UTIME_OMIT: i64 = (1 << 30) - 2;
        match self {
            SetTime::Omit => [0, UTIME_OMIT],
            SetTime::Now => [0, UTIME_NOW],
            SetTime::At(ns) => [(ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64],
        }
    }
}

/// `utimensat(2)` of `path` relative to `dir` (`None`: `dir` itself).
pub fn utimensat(
    dir: i32,
    path: Option<CPath<'_>>,
    atime: SetTime,
    mtime: SetTime,
    flags: u32,
) -> Result<(), Errno> {
    let times = [atime.timespec(), mtime.timespec()];
    // SAFETY: `path` is NUL-terminated or null, and `times` is two `struct timespec`s.
    check(unsafe {
        syscall6(
            nr::UTIMENSAT,
            dir as usize,
            path.map_or(0, |path| path.ptr()),
            times.as_ptr() as usize,
            flags as usize,
            0,
            0,
        )
    })
    .map(drop)
}

/// `ftruncate(2)`.
pub fn ftruncate(fd: i32, len: u64) -> Result<(), Errno> {
    // SAFETY: no pointers.
    check(unsafe { syscall6(nr::FTRUNCATE, fd as usize, len as usize, 0, 0, 0, 0) }).map(drop)
}

/// `fallocate(2)` with mode 0: allocates and extends the file if needed.
pub fn fallocate(fd: i32, offset: u64, len: u64) -> Result<(), Errno> {
    // SAFETY: no pointers.
    check(unsafe {
        syscall6(
            nr::FALLOCATE,
            fd as usize,
            0,
            offset as usize,
            len as usize,
            0,
            0,
        )
    })
    .map(drop)
}

/// `fadvise64(2)`; the advice numbers are POSIX's, which WASI and Linux share.
pub fn fadvise(fd: i32, offset: u64, len: u64, advice: u32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    check(unsafe {
        syscall6(
            nr::FADVISE64,
            fd as usize,
            offset as usize,
            len as usize,
            advice as usize,
            0,
            0,
        )
    })
    .map(drop)
}

/// `fsync(2)`.
pub fn fsync(fd: i32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    check(unsafe { syscall6(nr::FSYNC, fd as usize, 0, 0, 0, 0, 0) }).map(drop)
}

/// `fdatasync(2)`.
pub fn fdatasync(fd: i32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    check(unsafe { syscall6(nr::FDATASYNC, fd as usize, 0, 0, 0, 0, 0) }).map(drop)
}

/// `preadv(2)` at `offset`.
///
/// # Safety
/// Every iovec must describe writable memory.
pub unsafe fn preadv(fd: i32, iov: &[IoVec], offset: u64) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees the iovecs; on 64-bit targets the offset travels
    // whole in the low word.
    check(unsafe {
        syscall6(
            nr::PREADV,
            fd as usize,
            iov.as_ptr() as usize,
            iov.len(),
            offset as usize,
            0,
            0,
        )
    })
}

/// `pwritev(2)` at `offset`.
///
/// # Safety
/// Every iovec must describe readable memory.
pub unsafe fn pwritev(fd: i32, iov: &[IoVec], offset: u64) -> Result<usize, Errno> {
    // SAFETY: as for `preadv`.
    check(unsafe {
        syscall6(
            nr::PWRITEV,
            fd as usize,
            iov.as_ptr() as usize,
            iov.len(),
            offset as usize,
            0,
            0,
        )
    })
}

/// `RWF_APPEND`: this write goes to the end of the file, whatever its flags.
const RWF_APPEND: usize = 0x10;

/// `pwritev2(2)` with `RWF_APPEND`: writes at the end of the file (Linux 4.16 and later;
/// `EOPNOTSUPP` before).
///
/// # Safety
/// Every iovec must describe readable memory.
pub unsafe fn append(fd: i32, iov: &[IoVec]) -> Result<usize, Errno> {
    // SAFETY: as for `preadv`; the offset -1 means "no position" (the flag decides).
    check(unsafe {
        syscall6(
            nr::PWRITEV2,
            fd as usize,
            iov.as_ptr() as usize,
            iov.len(),
            usize::MAX,
            0,
            RWF_APPEND,
        )
    })
}

/// `getdents64(2)` into `buf`; returns the bytes filled (0 at the end).
pub fn getdents64(fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is writable for its length.
    check(unsafe {
        syscall6(
            nr::GETDENTS64,
            fd as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
            0,
            0,
            0,
        )
    })
}

const F_GETFD: usize = 1;
const F_GETFL: usize = 3;

/// Whether `fd` is an open descriptor.
pub fn is_open(fd: i32) -> bool {
    // SAFETY: no pointers.
    check(unsafe { syscall6(nr::FCNTL, fd as usize, F_GETFD, 0, 0, 0, 0) }).is_ok()
}

/// Opens `/dev/null` on every one of descriptors 0, 1 and 2 that is closed, so that no
/// later open can land there and be mistaken for a standard stream. Returns `false` if
/// one stays closed.
pub fn ensure_stdio_open() -> bool {
    for fd in 0..3 {
        if is_open(fd) {
            continue;
        }
        // `open` returns the lowest free descriptor: this one.
        match openat(AT_FDCWD, CPath::DEV_NULL, O_RDWR, 0) {
            Ok(new) if new == fd => {}
            Ok(other) => {
                close(other);
                return false;
            }
            Err(_) => return false,
        }
    }
    true
}
const F_SETFL: usize = 4;

/// `fcntl(fd, F_GETFL)`: the open flags.
pub fn get_status_flags(fd: i32) -> Result<u32, Errno> {
    // SAFETY: no pointers.
    check(unsafe { syscall6(nr::FCNTL, fd as usize, F_GETFL, 0, 0, 0, 0) }).map(|f| f as u32)
}

/// `fcntl(fd, F_SETFL, flags)`: only `O_APPEND`, `O_NONBLOCK` and a few others change.
pub fn set_status_flags(fd: i32, flags: u32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    check(unsafe { syscall6(nr::FCNTL, fd as usize, F_SETFL, flags as usize, 0, 0, 0) }).map(drop)
}

const FIONREAD: usize = 0x541b;

/// `ioctl(fd, FIONREAD)`: bytes ready to read on a pipe, socket or terminal.
pub fn bytes_readable(fd: i32) -> Result<u64, Errno> {
    let mut count: i32 = 0;
    // SAFETY: FIONREAD writes one `int`.
    check(unsafe {
        syscall6(
            nr::IOCTL,
            fd as usize,
            FIONREAD,
            &mut count as *mut i32 as usize,
            0,
            0,
            0,
        )
    })?;
    Ok(count.max(0) as u64)
}

const TCGETS: usize = 0x5401;

/// Whether `fd` is a terminal (`ioctl(TCGETS)` succeeds, as `isatty` checks).
pub fn is_terminal(fd: i32) -> bool {
    let mut termios = [0u8; 64];
    // SAFETY: TCGETS writes a `struct termios` (60 bytes on every supported target).
    check(unsafe {
        syscall6(
            nr::IOCTL,
            fd as usize,
            TCGETS,
            termios.as_mut_ptr() as usize,
            0,
            0,
            0,
        )
    })
    .is_ok()
}
