//! Operations on open descriptors: `fd_*`.

use super::fd::{self, FdEntry, FdKind, READ, WRITE};
use super::paths::writable;
use super::{Errno, Transfer, WasiResult, filetype_of, flags8, flags16, le_bytes, vectored};
use crate::guest::GuestMemory;
use crate::sys::{self, fs};
use wafer_abi::wasi::{advice, errno, fdflags, fstflags, layout, rights};

/// The entry for `fd` if it is an open file (not stdio, a directory or a socket):
/// `EBADF` otherwise, as wasmtime reports for file operations on other descriptors.
fn file(fd: i32) -> WasiResult<FdEntry> {
    let entry = fd::get(fd)?;
    match entry.kind {
        FdKind::File => Ok(entry),
        _ => Err(Errno(errno::BADF)),
    }
}

/// The entry for `fd` if reading or writing bytes through it makes sense: not a
/// directory.
fn stream(fd: i32) -> WasiResult<FdEntry> {
    let entry = fd::get(fd)?;
    if entry.is_dir() {
        return Err(Errno(errno::BADF));
    }
    Ok(entry)
}

pub(super) fn fd_write(
    memory: &GuestMemory,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    nwritten: i32,
) -> WasiResult {
    let entry = stream(fd)?.opened_for(WRITE)?.require(rights::FD_WRITE)?;
    let written = vectored(memory, iovs, iovs_len, Transfer::Write, |iov, _| {
        // SAFETY: every iovec was range-checked against guest memory.
        unsafe { sys::writev(entry.host_fd, iov.as_ptr(), iov.len()) }
    })?;
    memory.write_u32(nwritten as u32, written)?;
    Ok(())
}

pub(super) fn fd_read(
    memory: &GuestMemory,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    nread: i32,
) -> WasiResult {
    let entry = stream(fd)?.opened_for(READ)?.require(rights::FD_READ)?;
    let read = vectored(memory, iovs, iovs_len, Transfer::Read, |iov, _| {
        // SAFETY: every iovec was range-checked against guest memory.
        unsafe { sys::readv(entry.host_fd, iov.as_ptr(), iov.len()) }
    })?;
    memory.write_u32(nread as u32, read)?;
    Ok(())
}

pub(super) fn fd_pread(
    memory: &GuestMemory,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    offset: i64,
    nread: i32,
) -> WasiResult {
    let entry =
        seekable(stream(fd)?.opened_for(READ)?)?.require(rights::FD_READ | rights::FD_SEEK)?;
    check_offset(offset)?;
    let read = vectored(memory, iovs, iovs_len, Transfer::Read, |iov, done| {
        // SAFETY: every iovec was range-checked against guest memory.
        unsafe { fs::preadv(entry.host_fd, iov, offset as u64 + done) }
    })?;
    memory.write_u32(nread as u32, read)?;
    Ok(())
}

pub(super) fn fd_pwrite(
    memory: &GuestMemory,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    offset: i64,
    nwritten: i32,
) -> WasiResult {
    let entry =
        seekable(stream(fd)?.opened_for(WRITE)?)?.require(rights::FD_WRITE | rights::FD_SEEK)?;
    check_offset(offset)?;
    let written = vectored(memory, iovs, iovs_len, Transfer::Write, |iov, done| {
        // SAFETY: every iovec was range-checked against guest memory.
        unsafe { fs::pwritev(entry.host_fd, iov, offset as u64 + done) }
    })?;
    memory.write_u32(nwritten as u32, written)?;
    Ok(())
}

/// `ESPIPE` for stdio: the guest sees its standard streams as streams, never the file
/// that may be behind them (which other processes may share), as in wasmtime.
fn seekable(entry: FdEntry) -> WasiResult<FdEntry> {
    if entry.kind == FdKind::Stdio {
        return Err(Errno(errno::SPIPE));
    }
    Ok(entry)
}

/// The file type stdio reports: a terminal is a character device; a pipe, file or
/// anything else behind it is a stream of unknown type.
fn stdio_filetype(host_fd: i32) -> u8 {
    if fs::is_terminal(host_fd) {
        wafer_abi::wasi::filetype::CHARACTER_DEVICE
    } else {
        wafer_abi::wasi::filetype::UNKNOWN
    }
}

/// Offsets are unsigned in WASI but signed for the kernel.
fn check_offset(offset: i64) -> WasiResult {
    if offset < 0 {
        return Err(Errno(errno::INVAL));
    }
    Ok(())
}

pub(super) fn fd_seek(
    memory: &GuestMemory,
    fd: i32,
    offset: i64,
    whence: i32,
    new_offset: i32,
) -> WasiResult {
    let entry = seekable(stream(fd)?)?;
    // WASI's whence values (set, cur, end) are Linux's.
    if !(0..=2).contains(&whence) {
        return Err(Errno(errno::INVAL));
    }
    let required = if offset == 0 && whence == 1 {
        rights::FD_TELL
    } else {
        rights::FD_SEEK
    };
    let entry = entry.require(required)?;
    let position = sys::lseek(entry.host_fd, offset, whence as u32)?;
    memory.write_u64(new_offset as u32, position)?;
    Ok(())
}

pub(super) fn fd_tell(memory: &GuestMemory, fd: i32, offset: i32) -> WasiResult {
    let entry = seekable(stream(fd)?)?.require(rights::FD_TELL)?;
    let position = sys::lseek(entry.host_fd, 0, 1)?;
    memory.write_u64(offset as u32, position)?;
    Ok(())
}

pub(super) fn fd_close(_: &GuestMemory, fd: i32) -> WasiResult {
    fd::close_host(fd::remove(fd)?);
    Ok(())
}

pub(super) fn fd_renumber(_: &GuestMemory, from: i32, to: i32) -> WasiResult {
    fd::renumber(from, to)
}

pub(super) fn fd_advise(_: &GuestMemory, fd: i32, offset: i64, len: i64, how: i32) -> WasiResult {
    // WASI numbers SEQUENTIAL and RANDOM the other way round from POSIX.
    let posix = match flags8(how)? {
        advice::NORMAL => 0,
        advice::SEQUENTIAL => 2,
        advice::RANDOM => 1,
        advice::WILLNEED => 3,
        advice::DONTNEED => 4,
        advice::NOREUSE => 5,
        _ => return Err(Errno(errno::INVAL)),
    };
    let entry = file(fd)?.require(rights::FD_ADVISE)?;
    check_offset(offset)?;
    check_offset(len)?;
    fs::fadvise(entry.host_fd, offset as u64, len as u64, posix)?;
    Ok(())
}

pub(super) fn fd_allocate(_: &GuestMemory, fd: i32, offset: i64, len: i64) -> WasiResult {
    let entry = file(fd)?.opened_for(WRITE)?.require(rights::FD_ALLOCATE)?;
    check_offset(offset)?;
    check_offset(len)?;
    (offset as u64)
        .checked_add(len as u64)
        .filter(|&end| end <= i64::MAX as u64)
        .ok_or(Errno(errno::FBIG))?;
    // Where the filesystem cannot allocate, ENOTSUP: extending the file by hand instead
    // would race with other writers.
    fs::fallocate(entry.host_fd, offset as u64, len as u64)?;
    Ok(())
}

pub(super) fn fd_datasync(_: &GuestMemory, fd: i32) -> WasiResult {
    let entry = synced(fd)?.require(rights::FD_DATASYNC)?;
    fs::fdatasync(entry.host_fd)?;
    Ok(())
}

pub(super) fn fd_sync(_: &GuestMemory, fd: i32) -> WasiResult {
    let entry = synced(fd)?.require(rights::FD_SYNC)?;
    fs::fsync(entry.host_fd)?;
    Ok(())
}

/// Files and directories can be synced (a directory, to make renames in it durable);
/// stdio and sockets cannot.
fn synced(fd: i32) -> WasiResult<FdEntry> {
    let entry = fd::get(fd)?;
    match entry.kind {
        FdKind::File | FdKind::Directory { .. } => Ok(entry),
        _ => Err(Errno(errno::BADF)),
    }
}

/// The `fdflags` of an open host descriptor.
fn fdflags_of(host_fd: i32) -> WasiResult<u16> {
    let status = fs::get_status_flags(host_fd)?;
    let mut flags = 0;
    if status & fs::O_APPEND != 0 {
        flags |= fdflags::APPEND;
    }
    if status & fs::O_NONBLOCK != 0 {
        flags |= fdflags::NONBLOCK;
    }
    if status & fs::O_SYNC == fs::O_SYNC {
        flags |= fdflags::SYNC | fdflags::RSYNC;
    }
    if status & fs::O_DSYNC != 0 {
        flags |= fdflags::DSYNC;
    }
    Ok(flags)
}

pub(super) fn fd_fdstat_get(memory: &GuestMemory, fd: i32, buf: i32) -> WasiResult {
    let entry = fd::get(fd)?;
    let kind = match entry.kind {
        FdKind::Stdio => stdio_filetype(entry.host_fd),
        _ => filetype_of(fs::file_mode(entry.host_fd)?),
    };
    let flags = if entry.is_dir() {
        0
    } else {
        fdflags_of(entry.host_fd)?
    };
    let mut stat = [0u8; layout::FDSTAT_SIZE];
    stat[0] = kind;
    stat[2..4].copy_from_slice(&flags.to_le_bytes());
    // Exactly the descriptor's rights: stdio, pipes and sockets never had the seeking
    // ones (wasi-libc's isatty() relies on that).
    stat[8..16].copy_from_slice(&entry.rights_base.to_le_bytes());
    stat[16..24].copy_from_slice(&entry.rights_inheriting.to_le_bytes());
    memory.write(buf as u32, &stat)?;
    Ok(())
}

pub(super) fn fd_fdstat_set_flags(_: &GuestMemory, fd: i32, flags: i32) -> WasiResult {
    let flags = flags16(flags)?;
    if flags & !fdflags::ALL != 0 {
        return Err(Errno(errno::INVAL));
    }
    let entry = fd::get(fd)?;
    if !matches!(entry.kind, FdKind::File | FdKind::Socket { .. }) {
        return Err(Errno(errno::BADF));
    }
    let entry = entry.require(rights::FD_FDSTAT_SET_FLAGS)?;
    // Linux changes only O_APPEND and O_NONBLOCK after open; asking for a different
    // sync mode cannot be honoured.
    let current = fdflags_of(entry.host_fd)?;
    let sync_modes = fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC;
    if flags & sync_modes != current & sync_modes {
        return Err(Errno(errno::INVAL));
    }
    let mut status = fs::get_status_flags(entry.host_fd)? & !(fs::O_APPEND | fs::O_NONBLOCK);
    if flags & fdflags::APPEND != 0 {
        writable(entry)?;
        status |= fs::O_APPEND;
    }
    if flags & fdflags::NONBLOCK != 0 {
        status |= fs::O_NONBLOCK;
    }
    fs::set_status_flags(entry.host_fd, status)?;
    Ok(())
}

pub(super) fn fd_fdstat_set_rights(
    _: &GuestMemory,
    fd: i32,
    base: i64,
    inheriting: i64,
) -> WasiResult {
    let (base, inheriting) = (base as u64, inheriting as u64);
    if (base | inheriting) & !rights::ALL != 0 {
        return Err(Errno(errno::INVAL));
    }
    let mut entry = fd::get(fd)?;
    // Rights can only be given up.
    if base & !entry.rights_base != 0 || inheriting & !entry.rights_inheriting != 0 {
        return Err(Errno(errno::NOTCAPABLE));
    }
    entry.rights_base = base;
    entry.rights_inheriting = inheriting;
    fd::update(fd, entry);
    Ok(())
}

/// Writes a `filestat` for `stat` at guest address `buf`.
pub(super) fn write_filestat(memory: &GuestMemory, buf: i32, stat: &fs::FileStat) -> WasiResult {
    let mut out = [0u8; layout::FILESTAT_SIZE];
    out[0..8].copy_from_slice(&stat.dev.to_le_bytes());
    out[8..16].copy_from_slice(&stat.ino.to_le_bytes());
    out[16] = filetype_of(stat.mode);
    out[24..32].copy_from_slice(&stat.nlink.to_le_bytes());
    out[32..40].copy_from_slice(&stat.size.to_le_bytes());
    out[40..48].copy_from_slice(&stat.atime.to_le_bytes());
    out[48..56].copy_from_slice(&stat.mtime.to_le_bytes());
    out[56..64].copy_from_slice(&stat.ctime.to_le_bytes());
    memory.write(buf as u32, &out)?;
    Ok(())
}

pub(super) fn fd_filestat_get(memory: &GuestMemory, fd: i32, buf: i32) -> WasiResult {
    let entry = fd::get(fd)?.require(rights::FD_FILESTAT_GET)?;
    if entry.kind == FdKind::Stdio {
        // Nothing about the host file behind a standard stream but its kind.
        let mut out = [0u8; layout::FILESTAT_SIZE];
        out[16] = stdio_filetype(entry.host_fd);
        memory.write(buf as u32, &out)?;
        return Ok(());
    }
    write_filestat(memory, buf, &fs::fstat(entry.host_fd)?)
}

pub(super) fn fd_filestat_set_size(_: &GuestMemory, fd: i32, size: i64) -> WasiResult {
    let entry = writable(file(fd)?)?;
    // The kernel's answer for a descriptor not opened for writing (and wasmtime's).
    let entry = entry
        .opened_for(WRITE)
        .map_err(|_| Errno(errno::INVAL))?
        .require(rights::FD_FILESTAT_SET_SIZE)?;
    check_offset(size)?;
    fs::ftruncate(entry.host_fd, size as u64)?;
    Ok(())
}

/// The two timestamps `fstflags` asks to set; `EINVAL` for a time both given and "now".
pub(super) fn set_times(
    atim: i64,
    mtim: i64,
    flags: i32,
) -> WasiResult<(fs::SetTime, fs::SetTime)> {
    let flags = flags16(flags)?;
    if flags & !fstflags::ALL != 0 {
        return Err(Errno(errno::INVAL));
    }
    let pick = |value: i64, given: u16, now: u16| match (flags & given != 0, flags & now != 0) {
        (true, true) => Err(Errno(errno::INVAL)),
        (true, false) => Ok(fs::SetTime::At(value as u64)),
        (false, true) => Ok(fs::SetTime::Now),
        (false, false) => Ok(fs::SetTime::Omit),
    };
    Ok((
        pick(atim, fstflags::ATIM, fstflags::ATIM_NOW)?,
        pick(mtim, fstflags::MTIM, fstflags::MTIM_NOW)?,
    ))
}

pub(super) fn fd_filestat_set_times(
    _: &GuestMemory,
    fd: i32,
    atim: i64,
    mtim: i64,
    flags: i32,
) -> WasiResult {
    let (atime, mtime) = set_times(atim, mtim, flags)?;
    let entry = writable(synced(fd)?)?.require(rights::FD_FILESTAT_SET_TIMES)?;
    fs::utimensat(entry.host_fd, None, atime, mtime, 0)?;
    Ok(())
}

pub(super) fn fd_prestat_get(memory: &GuestMemory, fd: i32, buf: i32) -> WasiResult {
    let name = preopen_name(fd, errno::BADF)?;
    let mut prestat = [0u8; layout::PRESTAT_SIZE];
    prestat[4..8].copy_from_slice(&(name.len() as u32).to_le_bytes());
    memory.write(buf as u32, &prestat)?;
    Ok(())
}

pub(super) fn fd_prestat_dir_name(
    memory: &GuestMemory,
    fd: i32,
    path: i32,
    len: i32,
) -> WasiResult {
    let name = preopen_name(fd, errno::NOTDIR)?;
    if (len as u32 as usize) < name.len() {
        return Err(Errno(errno::NAMETOOLONG));
    }
    memory.write(path as u32, name)?;
    Ok(())
}

/// The guest name of preopen `fd`, or `not_preopen` for any other open descriptor
/// (wasmtime answers `EBADF` from `fd_prestat_get` but `ENOTDIR` from
/// `fd_prestat_dir_name`).
fn preopen_name(fd: i32, not_preopen: u16) -> WasiResult<&'static [u8]> {
    match fd::get(fd)?.kind {
        FdKind::Directory {
            preopen: Some(index),
        } => fd::preopens()
            .nth(index as usize)
            .map(|(_, guest, _)| guest)
            .ok_or(Errno(errno::BADF)),
        _ => Err(Errno(not_preopen)),
    }
}

/// `d_type` values of `getdents64`.
const DT_DIR: u8 = 4;
const DT_REG: u8 = 8;
const DT_LNK: u8 = 10;
const DT_CHR: u8 = 2;
const DT_BLK: u8 = 6;
const DT_SOCK: u8 = 12;
const DT_UNKNOWN: u8 = 0;

/// `fd_readdir`. Cookies are the kernel's own directory offsets (`d_off`), so reading
/// on from any entry is one `lseek`, and entries added or removed between calls never
/// shift the position.
pub(super) fn fd_readdir(
    memory: &GuestMemory,
    fd: i32,
    buf: i32,
    buf_len: i32,
    cookie: i64,
    bufused: i32,
) -> WasiResult {
    let entry = fd::get(fd)?;
    if !entry.is_dir() {
        return Err(Errno(errno::BADF));
    }
    let entry = entry.require(rights::FD_READDIR)?;
    let (buf, buf_len) = (buf as u32, buf_len as u32);
    memory.range(buf, buf_len)?;
    sys::lseek(entry.host_fd, cookie, 0)?;
    // The `..` of a directory the guest was given leads outside it: report it as the
    // directory itself (as wasmtime does), not the host's parent.
    let own_ino = fs::fstat(entry.host_fd)?.ino;
    let mut used: u32 = 0;
    // `struct linux_dirent64` records are 8-byte aligned.
    let mut host = [0u64; 512];
    'fill: loop {
        // SAFETY: reinterpreting the u64 buffer as bytes; every byte pattern is valid.
        let bytes = unsafe {
            core::slice::from_raw_parts_mut(host.as_mut_ptr() as *mut u8, host.len() * 8)
        };
        let filled = fs::getdents64(entry.host_fd, bytes)?;
        if filled == 0 {
            break;
        }
        let mut records = bytes.get(..filled).unwrap_or_default();
        while let Some((record, rest)) = next_dirent(records) {
            records = rest;
            let name_area = record.get(19..).unwrap_or_default();
            let dotdot = name_area.starts_with(b"..\0");
            let ino = if dotdot {
                own_ino
            } else {
                u64::from_le_bytes(le_bytes(record, 0))
            };
            let next = u64::from_le_bytes(le_bytes(record, 8));
            let d_type = u8::from_le_bytes(le_bytes(record, 18));
            let name_len = name_area
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(name_area.len());
            let name = name_area.get(..name_len).unwrap_or_default();
            let kind = match d_type {
                DT_DIR => wafer_abi::wasi::filetype::DIRECTORY,
                DT_REG => wafer_abi::wasi::filetype::REGULAR_FILE,
                DT_LNK => wafer_abi::wasi::filetype::SYMBOLIC_LINK,
                DT_CHR => wafer_abi::wasi::filetype::CHARACTER_DEVICE,
                DT_BLK => wafer_abi::wasi::filetype::BLOCK_DEVICE,
                DT_SOCK => wafer_abi::wasi::filetype::SOCKET_STREAM,
                DT_UNKNOWN => unknown_type(entry.host_fd, name),
                _ => wafer_abi::wasi::filetype::UNKNOWN,
            };
            let mut header = [0u8; layout::DIRENT_SIZE];
            header[0..8].copy_from_slice(&next.to_le_bytes());
            header[8..16].copy_from_slice(&ino.to_le_bytes());
            header[16..20].copy_from_slice(&(name_len as u32).to_le_bytes());
            header[20] = kind;
            // Fill the buffer to the last byte, cutting the final entry short: the
            // guest learns from a full buffer that it must read on (with a bigger
            // buffer if one entry did not fit).
            for part in [&header[..], name] {
                let room = (buf_len - used) as usize;
                let taken = part.get(..part.len().min(room)).unwrap_or_default();
                memory.write(buf + used, taken)?;
                used += taken.len() as u32;
                if taken.len() < part.len() {
                    break 'fill;
                }
            }
            if used == buf_len {
                break 'fill;
            }
        }
    }
    memory.write_u32(bufused as u32, used)?;
    Ok(())
}

/// Splits the first `struct linux_dirent64` off `records`.
fn next_dirent(records: &[u8]) -> Option<(&[u8], &[u8])> {
    let reclen = u16::from_le_bytes(le_bytes(records, 16)) as usize;
    if reclen < 19 {
        return None;
    }
    records.split_at_checked(reclen)
}

/// The type of a directory entry whose filesystem did not report one.
fn unknown_type(dir: i32, name: &[u8]) -> u8 {
    let mut path = fs::PathBuf::new();
    path.c_path(name)
        .ok()
        .and_then(|name| fs::statx(dir, name, fs::AT_SYMLINK_NOFOLLOW).ok())
        .map_or(wafer_abi::wasi::filetype::UNKNOWN, |stat| {
            super::filetype_of(stat.mode)
        })
}
