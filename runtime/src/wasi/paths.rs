//! Operations on paths beneath a directory descriptor: `path_*`.
//!
//! The ABI side only: decoding flags and guest strings. Resolution beneath the
//! directory, and its checks, are the host's (`host::descriptor`, `sys::Platform`).

use super::fd;
use super::files::{set_times, status_flags_of, write_filestat};
use super::{Errno, WasiResult, flags16, read_path};
use crate::guest::GuestMemory;
use crate::sys::{OpenOptions, PATH_MAX};
use wafer_abi::wasi::{errno, fdflags, lookupflags, oflags, rights};

/// Whether the lookup flags ask to follow a symlink in the last component.
fn follows(flags: i32) -> WasiResult<bool> {
    if flags as u32 & !lookupflags::SYMLINK_FOLLOW != 0 {
        return Err(Errno(errno::INVAL));
    }
    Ok(flags as u32 & lookupflags::SYMLINK_FOLLOW != 0)
}

#[allow(clippy::too_many_arguments, reason = "the WASI signature")]
pub(super) fn path_open(
    memory: &GuestMemory,
    fd: i32,
    dirflags: i32,
    path: i32,
    path_len: i32,
    open_flags: i32,
    base: i64,
    inheriting: i64,
    fd_flags: i32,
    opened: i32,
) -> WasiResult {
    let follow = follows(dirflags)?;
    let (open_flags, fd_flags, base) = (flags16(open_flags)?, flags16(fd_flags)?, base as u64);
    if open_flags & !oflags::ALL != 0
        || fd_flags & !fdflags::ALL != 0
        || (base | inheriting as u64) & !rights::ALL != 0
    {
        return Err(Errno(errno::INVAL));
    }
    let mut buf = [0u8; PATH_MAX];
    let path = read_path(memory, path, path_len, &mut buf)?;
    let has = |flag: u16| open_flags & flag != 0;
    // What the directory passes on of the requested rights chooses the access mode, as
    // in wasmtime; the host then gives the descriptor exactly those rights it can use.
    let dir = fd::get(fd)?;
    let passed = base & dir.rights_inheriting;
    let write = passed & rights::FD_WRITE != 0 || has(oflags::CREAT) || has(oflags::TRUNC);
    let read = passed & (rights::FD_READ | rights::FD_READDIR) != 0 || !write;
    let options = OpenOptions {
        read,
        write,
        create: has(oflags::CREAT),
        exclusive: has(oflags::EXCL),
        truncate: has(oflags::TRUNC),
        directory: has(oflags::DIRECTORY),
        follow,
        status: status_flags_of(fd_flags),
    };
    let new_entry = dir.open_at(path, &options, base, inheriting as u64)?;
    let new_fd = fd::insert(new_entry)?;
    if let Err(err) = memory.write_u32(opened as u32, new_fd as u32) {
        fd::remove(new_fd)?.close();
        return Err(err.into());
    }
    Ok(())
}

pub(super) fn path_filestat_get(
    memory: &GuestMemory,
    fd: i32,
    flags: i32,
    path: i32,
    path_len: i32,
    buf: i32,
) -> WasiResult {
    let follow = follows(flags)?;
    let dir = fd::get(fd)?
        .check_dir()?
        .require(rights::PATH_FILESTAT_GET)?;
    let mut path_buf = [0u8; PATH_MAX];
    let path = read_path(memory, path, path_len, &mut path_buf)?;
    write_filestat(memory, buf, &dir.stat_at(path, follow)?)
}

#[allow(clippy::too_many_arguments, reason = "the WASI signature")]
pub(super) fn path_filestat_set_times(
    memory: &GuestMemory,
    fd: i32,
    flags: i32,
    path: i32,
    path_len: i32,
    atim: i64,
    mtim: i64,
    fst_flags: i32,
) -> WasiResult {
    let (atime, mtime) = set_times(atim, mtim, fst_flags)?;
    let follow = follows(flags)?;
    let dir = fd::get(fd)?.check_dir()?;
    let mut path_buf = [0u8; PATH_MAX];
    let path = read_path(memory, path, path_len, &mut path_buf)?;
    dir.set_times_at(path, follow, atime, mtime)
}

/// The directory `fd` and the guest path at `path`, for the calls that change a name.
fn dir_and_path<'b>(
    memory: &GuestMemory,
    fd: i32,
    path: i32,
    path_len: i32,
    buf: &'b mut [u8; PATH_MAX],
) -> WasiResult<(crate::host::Descriptor, &'b [u8])> {
    let dir = fd::get(fd)?.check_dir()?;
    let path = read_path(memory, path, path_len, buf)?;
    Ok((dir, path))
}

pub(super) fn path_create_directory(
    memory: &GuestMemory,
    fd: i32,
    path: i32,
    path_len: i32,
) -> WasiResult {
    let mut buf = [0u8; PATH_MAX];
    let (dir, path) = dir_and_path(memory, fd, path, path_len, &mut buf)?;
    dir.create_dir_at(path)
}

pub(super) fn path_remove_directory(
    memory: &GuestMemory,
    fd: i32,
    path: i32,
    path_len: i32,
) -> WasiResult {
    let mut buf = [0u8; PATH_MAX];
    let (dir, path) = dir_and_path(memory, fd, path, path_len, &mut buf)?;
    dir.remove_dir_at(path)
}

pub(super) fn path_unlink_file(
    memory: &GuestMemory,
    fd: i32,
    path: i32,
    path_len: i32,
) -> WasiResult {
    let mut buf = [0u8; PATH_MAX];
    let (dir, path) = dir_and_path(memory, fd, path, path_len, &mut buf)?;
    dir.unlink_file_at(path)
}

pub(super) fn path_readlink(
    memory: &GuestMemory,
    fd: i32,
    path: i32,
    path_len: i32,
    buf: i32,
    buf_len: i32,
    bufused: i32,
) -> WasiResult {
    let dir = fd::get(fd)?.check_dir()?.require(rights::PATH_READLINK)?;
    let mut path_buf = [0u8; PATH_MAX];
    let path = read_path(memory, path, path_len, &mut path_buf)?;
    let mut target = [0u8; PATH_MAX];
    let len = dir.readlink_at(path, &mut target)?;
    let copied = target
        .get(..len.min(buf_len as u32 as usize))
        .unwrap_or_default();
    memory.write(buf as u32, copied)?;
    memory.write_u32(bufused as u32, copied.len() as u32)?;
    Ok(())
}

#[allow(clippy::too_many_arguments, reason = "the WASI signature")]
pub(super) fn path_link(
    memory: &GuestMemory,
    old_fd: i32,
    old_flags: i32,
    old_path: i32,
    old_len: i32,
    new_fd: i32,
    new_path: i32,
    new_len: i32,
) -> WasiResult {
    // Following a symlink at the source would need linkat(AT_EMPTY_PATH), which
    // unprivileged processes cannot use; wasmtime refuses it the same way.
    if follows(old_flags)? {
        return Err(Errno(errno::INVAL));
    }
    let old_dir = fd::get(old_fd)?.check_dir()?;
    let new_dir = fd::get(new_fd)?.check_dir()?;
    let mut old_buf = [0u8; PATH_MAX];
    let old_path = read_path(memory, old_path, old_len, &mut old_buf)?;
    let mut new_buf = [0u8; PATH_MAX];
    let new_path = read_path(memory, new_path, new_len, &mut new_buf)?;
    old_dir.link_at(old_path, new_dir, new_path)
}

pub(super) fn path_rename(
    memory: &GuestMemory,
    old_fd: i32,
    old_path: i32,
    old_len: i32,
    new_fd: i32,
    new_path: i32,
    new_len: i32,
) -> WasiResult {
    let old_dir = fd::get(old_fd)?.check_dir()?;
    let new_dir = fd::get(new_fd)?.check_dir()?;
    let mut old_buf = [0u8; PATH_MAX];
    let old_path = read_path(memory, old_path, old_len, &mut old_buf)?;
    let mut new_buf = [0u8; PATH_MAX];
    let new_path = read_path(memory, new_path, new_len, &mut new_buf)?;
    old_dir.rename_at(old_path, new_dir, new_path)
}

pub(super) fn path_symlink(
    memory: &GuestMemory,
    target: i32,
    target_len: i32,
    fd: i32,
    path: i32,
    path_len: i32,
) -> WasiResult {
    let mut target_buf = [0u8; PATH_MAX];
    let target = read_path(memory, target, target_len, &mut target_buf)?;
    let mut buf = [0u8; PATH_MAX];
    let (dir, path) = dir_and_path(memory, fd, path, path_len, &mut buf)?;
    dir.symlink_at(target, path)
}
