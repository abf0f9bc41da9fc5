//! Operations on open descriptors: `fd_*`.

use super::fd;
use super::{Errno, Transfer, WasiResult, filetype_of, flags8, flags16, vectored};
use crate::guest::GuestMemory;
use crate::host::{Descriptor, Kind};
use crate::sys::{Advice, FileStat, SetTime, StatusFlags};
use wafer_abi::wasi::{advice, errno, fdflags, fstflags, layout, rights};

pub(super) fn fd_write(
    memory: &GuestMemory,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    nwritten: i32,
) -> WasiResult {
    let desc = fd::get(fd)?
        .check_stream()?
        .check_writable()?
        .require(rights::FD_WRITE)?;
    let written = vectored(memory, iovs, iovs_len, Transfer::Write, |iov, _| {
        // SAFETY: every iovec was range-checked against guest memory.
        unsafe { desc.write(iov) }
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
    let desc = fd::get(fd)?
        .check_stream()?
        .check_readable()?
        .require(rights::FD_READ)?;
    let read = vectored(memory, iovs, iovs_len, Transfer::Read, |iov, _| {
        // SAFETY: every iovec was range-checked against guest memory.
        unsafe { desc.read(iov) }
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
    let desc = fd::get(fd)?.check_pread(offset as u64)?;
    let read = vectored(memory, iovs, iovs_len, Transfer::Read, |iov, done| {
        // SAFETY: every iovec was range-checked against guest memory.
        unsafe { desc.pread(iov, offset as u64 + done) }
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
    let desc = fd::get(fd)?.check_pwrite(offset as u64)?;
    let written = vectored(memory, iovs, iovs_len, Transfer::Write, |iov, done| {
        // SAFETY: every iovec was range-checked against guest memory.
        unsafe { desc.pwrite(iov, offset as u64 + done) }
    })?;
    memory.write_u32(nwritten as u32, written)?;
    Ok(())
}

pub(super) fn fd_seek(
    memory: &GuestMemory,
    fd: i32,
    offset: i64,
    whence: i32,
    new_offset: i32,
) -> WasiResult {
    // WASI's whence values: 0 set, 1 current, 2 end; anything else is `EINVAL` once
    // the descriptor passed its checks.
    let whence = u8::try_from(whence).unwrap_or(u8::MAX);
    let position = fd::get(fd)?.seek(offset, whence)?;
    memory.write_u64(new_offset as u32, position)?;
    Ok(())
}

pub(super) fn fd_tell(memory: &GuestMemory, fd: i32, offset: i32) -> WasiResult {
    let position = fd::get(fd)?.tell()?;
    memory.write_u64(offset as u32, position)?;
    Ok(())
}

pub(super) fn fd_close(_: &GuestMemory, fd: i32) -> WasiResult {
    fd::remove(fd)?.close();
    Ok(())
}

pub(super) fn fd_renumber(_: &GuestMemory, from: i32, to: i32) -> WasiResult {
    fd::renumber(from, to)
}

pub(super) fn fd_advise(_: &GuestMemory, fd: i32, offset: i64, len: i64, how: i32) -> WasiResult {
    let advice = match flags8(how)? {
        advice::NORMAL => Advice::Normal,
        advice::SEQUENTIAL => Advice::Sequential,
        advice::RANDOM => Advice::Random,
        advice::WILLNEED => Advice::WillNeed,
        advice::DONTNEED => Advice::DontNeed,
        advice::NOREUSE => Advice::NoReuse,
        _ => return Err(Errno(errno::INVAL)),
    };
    fd::get(fd)?.advise(offset as u64, len as u64, advice)
}

pub(super) fn fd_allocate(_: &GuestMemory, fd: i32, offset: i64, len: i64) -> WasiResult {
    fd::get(fd)?.allocate(offset as u64, len as u64)
}

pub(super) fn fd_datasync(_: &GuestMemory, fd: i32) -> WasiResult {
    fd::get(fd)?.datasync()
}

pub(super) fn fd_sync(_: &GuestMemory, fd: i32) -> WasiResult {
    fd::get(fd)?.sync()
}

/// The preview1 `fdflags` of status flags.
fn fdflags_of(flags: StatusFlags) -> u16 {
    let mut bits = 0;
    for (set, bit) in [
        (flags.append, fdflags::APPEND),
        (flags.nonblock, fdflags::NONBLOCK),
        (flags.dsync, fdflags::DSYNC),
        (flags.rsync, fdflags::RSYNC),
        (flags.sync, fdflags::SYNC),
    ] {
        if set {
            bits |= bit;
        }
    }
    bits
}

/// Status flags from preview1 `fdflags` (already checked for undefined bits).
pub(super) fn status_flags_of(bits: u16) -> StatusFlags {
    StatusFlags {
        append: bits & fdflags::APPEND != 0,
        nonblock: bits & fdflags::NONBLOCK != 0,
        dsync: bits & fdflags::DSYNC != 0,
        rsync: bits & fdflags::RSYNC != 0,
        sync: bits & fdflags::SYNC != 0,
    }
}

pub(super) fn fd_fdstat_get(memory: &GuestMemory, fd: i32, buf: i32) -> WasiResult {
    let desc = fd::get(fd)?;
    let kind = filetype_of(desc.file_kind()?);
    let flags = fdflags_of(desc.status_flags()?);
    let mut stat = [0u8; layout::FDSTAT_SIZE];
    stat[0] = kind;
    stat[2..4].copy_from_slice(&flags.to_le_bytes());
    // Exactly the descriptor's rights: stdio, pipes and sockets never had the seeking
    // ones (wasi-libc's isatty() relies on that).
    stat[8..16].copy_from_slice(&desc.rights_base.to_le_bytes());
    stat[16..24].copy_from_slice(&desc.rights_inheriting.to_le_bytes());
    memory.write(buf as u32, &stat)?;
    Ok(())
}

pub(super) fn fd_fdstat_set_flags(_: &GuestMemory, fd: i32, flags: i32) -> WasiResult {
    let flags = flags16(flags)?;
    if flags & !fdflags::ALL != 0 {
        return Err(Errno(errno::INVAL));
    }
    fd::get(fd)?.set_status_flags(status_flags_of(flags))
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
    let mut desc = fd::get(fd)?;
    // Rights can only be given up.
    if base & !desc.rights_base != 0 || inheriting & !desc.rights_inheriting != 0 {
        return Err(Errno(errno::NOTCAPABLE));
    }
    desc.rights_base = base;
    desc.rights_inheriting = inheriting;
    fd::update(fd, desc);
    Ok(())
}

/// Writes a `filestat` for `stat` at guest address `buf`.
pub(super) fn write_filestat(memory: &GuestMemory, buf: i32, stat: &FileStat) -> WasiResult {
    let mut out = [0u8; layout::FILESTAT_SIZE];
    out[0..8].copy_from_slice(&stat.dev.to_le_bytes());
    out[8..16].copy_from_slice(&stat.ino.to_le_bytes());
    out[16] = filetype_of(stat.kind);
    out[24..32].copy_from_slice(&stat.nlink.to_le_bytes());
    out[32..40].copy_from_slice(&stat.size.to_le_bytes());
    out[40..48].copy_from_slice(&stat.atime.to_le_bytes());
    out[48..56].copy_from_slice(&stat.mtime.to_le_bytes());
    out[56..64].copy_from_slice(&stat.ctime.to_le_bytes());
    memory.write(buf as u32, &out)?;
    Ok(())
}

pub(super) fn fd_filestat_get(memory: &GuestMemory, fd: i32, buf: i32) -> WasiResult {
    write_filestat(memory, buf, &fd::get(fd)?.stat()?)
}

pub(super) fn fd_filestat_set_size(_: &GuestMemory, fd: i32, size: i64) -> WasiResult {
    fd::get(fd)?.set_size(size as u64)
}

/// The two timestamps `fstflags` asks to set; `EINVAL` for a time both given and "now".
pub(super) fn set_times(atim: i64, mtim: i64, flags: i32) -> WasiResult<(SetTime, SetTime)> {
    let flags = flags16(flags)?;
    if flags & !fstflags::ALL != 0 {
        return Err(Errno(errno::INVAL));
    }
    let pick = |value: i64, given: u16, now: u16| match (flags & given != 0, flags & now != 0) {
        (true, true) => Err(Errno(errno::INVAL)),
        (true, false) => Ok(SetTime::At(value as u64)),
        (false, true) => Ok(SetTime::Now),
        (false, false) => Ok(SetTime::Omit),
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
    fd::get(fd)?.set_times(atime, mtime)
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
        Kind::Directory {
            preopen: Some(index),
        } => crate::host::grants::preopens()
            .nth(index as usize)
            .map(|(_, guest, _)| guest)
            .ok_or(Errno(errno::BADF)),
        _ => Err(Errno(not_preopen)),
    }
}

/// `fd_readdir`: fills the buffer to the last byte, cutting the final entry short, so
/// the guest learns from a full buffer that it must read on (with a bigger buffer if
/// one entry did not fit). Cookies are the platform's (on Linux the kernel's own
/// directory offsets, so entries added or removed between calls never shift them).
pub(super) fn fd_readdir(
    memory: &GuestMemory,
    fd: i32,
    buf: i32,
    buf_len: i32,
    cookie: i64,
    bufused: i32,
) -> WasiResult {
    let desc: Descriptor = fd::get(fd)?.check_read_dir()?;
    let (buf, buf_len) = (buf as u32, buf_len as u32);
    memory.range(buf, buf_len)?;
    let mut used: u32 = 0;
    let mut result: WasiResult = Ok(());
    desc.read_dir(cookie as u64, &mut |entry| {
        let mut header = [0u8; layout::DIRENT_SIZE];
        header[0..8].copy_from_slice(&entry.next.to_le_bytes());
        header[8..16].copy_from_slice(&entry.ino.to_le_bytes());
        header[16..20].copy_from_slice(&(entry.name.len() as u32).to_le_bytes());
        header[20] = filetype_of(entry.kind);
        for part in [&header[..], entry.name] {
            let room = (buf_len - used) as usize;
            let taken = part.get(..part.len().min(room)).unwrap_or_default();
            if let Err(err) = memory.write(buf + used, taken) {
                result = Err(err.into());
                return false;
            }
            used += taken.len() as u32;
            if taken.len() < part.len() {
                return false;
            }
        }
        used < buf_len
    })?;
    result?;
    memory.write_u32(bufused as u32, used)?;
    Ok(())
}
