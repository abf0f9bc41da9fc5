//! Operations on paths beneath a directory descriptor: `path_*`.
//!
//! Every path is resolved beneath its directory by `sys::beneath`, never by the kernel
//! walking a guest string from an unconfined starting point. Operations on a name split
//! the path into its parent (opened beneath the root) and the last component, and use
//! the `*at` call that does not follow a symlink there, so a link swapped in between
//! cannot redirect them.

use super::fd::{self, FdEntry, FdKind, READ, WRITE};
use super::files::{set_times, write_filestat};
use super::{Errno, WasiResult, flags16, read_path, resolve_error};
use crate::guest::GuestMemory;
use crate::sys::beneath::{self, Located};
use crate::sys::fs::{self, PATH_MAX, PathBuf};
use wafer_abi::wasi::{errno, fdflags, lookupflags, oflags, rights};

/// The entry for directory descriptor `fd` (`EBADF` for anything else).
fn dir(fd: i32) -> WasiResult<FdEntry> {
    let entry = fd::get(fd)?;
    if !entry.is_dir() {
        return Err(Errno(errno::BADF));
    }
    Ok(entry)
}

/// The entry if it may be changed through: `EPERM` in a read-only grant (wasmtime's
/// errno for its read-only preopens).
pub(super) fn writable(entry: FdEntry) -> WasiResult<FdEntry> {
    if entry.read_only {
        return Err(Errno(errno::PERM));
    }
    Ok(entry)
}

/// Whether the lookup flags ask to follow a symlink in the last component.
fn follows(flags: i32) -> WasiResult<bool> {
    if flags as u32 & !lookupflags::SYMLINK_FOLLOW != 0 {
        return Err(Errno(errno::INVAL));
    }
    Ok(flags as u32 & lookupflags::SYMLINK_FOLLOW != 0)
}

fn locate(entry: FdEntry, path: &[u8]) -> WasiResult<Located<'_>> {
    beneath::locate(entry.host_fd, path).map_err(resolve_error)
}

fn open_beneath(entry: FdEntry, path: &[u8], flags: u32) -> WasiResult<fs::OwnedFd> {
    beneath::open_beneath(entry.host_fd, path, flags, 0o666).map_err(resolve_error)
}

/// `name` NUL-terminated in `buf`.
fn c_name<'b>(buf: &'b mut PathBuf, name: &[u8]) -> WasiResult<fs::CPath<'b>> {
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
    let entry = fd::get(fd)?;
    match entry.kind {
        FdKind::Directory { .. } => {}
        FdKind::Stdio => return Err(Errno(errno::BADF)),
        _ => return Err(Errno(errno::NOTDIR)),
    }
    let entry = entry.require(rights::PATH_OPEN)?;
    let has = |flag: u16| open_flags & flag != 0;
    if has(oflags::DIRECTORY) && (has(oflags::CREAT) || has(oflags::EXCL) || has(oflags::TRUNC)) {
        return Err(Errno(errno::INVAL));
    }
    // What the directory passes on of the requested rights chooses the access mode, as
    // in wasmtime; the descriptor's rights then follow from what it is and how it was
    // opened.
    let base = base & entry.rights_inheriting;
    let write = base & rights::FD_WRITE != 0 || has(oflags::CREAT) || has(oflags::TRUNC);
    let read = base & (rights::FD_READ | rights::FD_READDIR) != 0 || !write;
    if write || fd_flags & fdflags::APPEND != 0 {
        writable(entry)?;
    }
    if has(oflags::CREAT) {
        entry.require(rights::PATH_CREATE_FILE)?;
    }
    if has(oflags::TRUNC) {
        entry.require(rights::PATH_FILESTAT_SET_SIZE)?;
    }
    let mut flags = match (read, write) {
        (true, true) => fs::O_RDWR,
        (false, true) => fs::O_WRONLY,
        _ => fs::O_RDONLY,
    } | fs::O_NOCTTY;
    for (wasi, linux) in [
        (oflags::CREAT, fs::O_CREAT),
        (oflags::DIRECTORY, fs::O_DIRECTORY),
        (oflags::EXCL, fs::O_EXCL),
        (oflags::TRUNC, fs::O_TRUNC),
    ] {
        if has(wasi) {
            flags |= linux;
        }
    }
    for (wasi, linux) in [
        (fdflags::APPEND, fs::O_APPEND),
        (fdflags::NONBLOCK, fs::O_NONBLOCK),
        (fdflags::DSYNC, fs::O_DSYNC),
        (fdflags::RSYNC, fs::O_SYNC),
        (fdflags::SYNC, fs::O_SYNC),
    ] {
        if fd_flags & wasi != 0 {
            flags |= linux;
        }
    }
    if !follow {
        flags |= fs::O_NOFOLLOW;
    }
    let host = match open_beneath(entry, path, flags) {
        // O_NOFOLLOW with O_DIRECTORY reports a final symlink as ENOTDIR; without
        // O_DIRECTORY it is ELOOP, which is what wasmtime answers either way.
        Err(Errno(errno::NOTDIR)) if !follow && has(oflags::DIRECTORY) => {
            let located = locate(entry, without_trailing_slashes(path))?;
            let mut name = PathBuf::new();
            let stat = fs::statx(
                located.dir(),
                c_name(&mut name, located.name)?,
                fs::AT_SYMLINK_NOFOLLOW,
            );
            return Err(Errno(match stat {
                Ok(stat) if stat.file_type() == fs::S_IFLNK => errno::LOOP,
                _ => errno::NOTDIR,
            }));
        }
        other => other?,
    };
    let is_dir = fs::fstat(host.raw())?.file_type() == fs::S_IFDIR;
    let (kind, allowed) = if is_dir {
        (FdKind::Directory { preopen: None }, fd::DIRECTORY_RIGHTS)
    } else {
        // What this descriptor can do at all: not write if it was not opened for
        // writing, not read if not for reading, not seek a pipe or a device.
        let mut allowed = fd::FILE_RIGHTS;
        if !write {
            allowed &= !fd::WRITE_RIGHTS;
        }
        if !read {
            allowed &= !rights::FD_READ;
        }
        if crate::sys::lseek(host.raw(), 0, 1).is_err() {
            allowed &= !(rights::FD_SEEK | rights::FD_TELL);
        }
        (FdKind::File, allowed)
    };
    // The new descriptor has exactly the rights asked for, as far as the directory
    // passes them on and the descriptor can use them.
    let new_entry = FdEntry {
        host_fd: host.into_raw(),
        kind,
        rights_base: base & allowed,
        rights_inheriting: inheriting as u64 & entry.rights_inheriting,
        read_only: entry.read_only,
        access: if is_dir {
            READ
        } else {
            (if read { READ } else { 0 }) | if write { WRITE } else { 0 }
        },
    };
    let new_fd = fd::insert(new_entry)?;
    if let Err(err) = memory.write_u32(opened as u32, new_fd as u32) {
        fd::close_host(fd::remove(new_fd)?);
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
    let entry = dir(fd)?.require(rights::PATH_FILESTAT_GET)?;
    let mut path_buf = [0u8; PATH_MAX];
    let path = read_path(memory, path, path_len, &mut path_buf)?;
    let stat = if follow {
        // A trailing slash stays: `file/` is not a directory.
        let target = open_beneath(entry, path, fs::O_PATH)?;
        fs::fstat(target.raw())?
    } else {
        // Without following, a trailing slash is ignored (as wasmtime does): `link/` is
        // the link itself. Stripping it also keeps the kernel from following the link.
        let located = locate(entry, without_trailing_slashes(path))?;
        let mut name = PathBuf::new();
        fs::statx(
            located.dir(),
            c_name(&mut name, located.name)?,
            fs::AT_SYMLINK_NOFOLLOW,
        )?
    };
    write_filestat(memory, buf, &stat)
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
    let entry = dir(fd)?;
    let mut path_buf = [0u8; PATH_MAX];
    let path = read_path(memory, path, path_len, &mut path_buf)?;
    if atime == fs::SetTime::Omit && mtime == fs::SetTime::Omit {
        // Nothing to change: like utimensat(2), not even a lookup.
        return Ok(());
    }
    let entry = writable(entry)?.require(rights::PATH_FILESTAT_SET_TIMES)?;
    // A trailing slash resolves a final symlink, as the kernel (and wasmtime) do; the
    // confined open does that safely.
    if follow || path.last() == Some(&b'/') {
        let target = open_beneath(entry, path, fs::O_PATH)?;
        fs::utimensat(
            target.raw(),
            Some(fs::CPath::EMPTY),
            atime,
            mtime,
            fs::AT_EMPTY_PATH,
        )?;
    } else {
        let located = locate(entry, path)?;
        let mut name = PathBuf::new();
        fs::utimensat(
            located.dir(),
            Some(c_name(&mut name, located.name)?),
            atime,
            mtime,
            fs::AT_SYMLINK_NOFOLLOW,
        )?;
    }
    Ok(())
}

pub(super) fn path_create_directory(
    memory: &GuestMemory,
    fd: i32,
    path: i32,
    path_len: i32,
) -> WasiResult {
    let entry = dir(fd)?;
    let mut path_buf = [0u8; PATH_MAX];
    let path = read_path(memory, path, path_len, &mut path_buf)?;
    let entry = writable(entry)?.require(rights::PATH_CREATE_DIRECTORY)?;
    let located = locate(entry, path)?;
    let mut name = PathBuf::new();
    fs::mkdirat(located.dir(), c_name(&mut name, located.name)?, 0o777)?;
    Ok(())
}

pub(super) fn path_remove_directory(
    memory: &GuestMemory,
    fd: i32,
    path: i32,
    path_len: i32,
) -> WasiResult {
    let entry = dir(fd)?;
    let mut path_buf = [0u8; PATH_MAX];
    let path = read_path(memory, path, path_len, &mut path_buf)?;
    let entry = writable(entry)?.require(rights::PATH_REMOVE_DIRECTORY)?;
    let located = locate(entry, path)?;
    if located.is_dot() {
        return Err(Errno(errno::INVAL));
    }
    let mut name = PathBuf::new();
    fs::unlinkat(
        located.dir(),
        c_name(&mut name, located.name)?,
        fs::AT_REMOVEDIR,
    )?;
    Ok(())
}

pub(super) fn path_unlink_file(
    memory: &GuestMemory,
    fd: i32,
    path: i32,
    path_len: i32,
) -> WasiResult {
    let entry = dir(fd)?;
    let mut path_buf = [0u8; PATH_MAX];
    let path = read_path(memory, path, path_len, &mut path_buf)?;
    let entry = writable(entry)?.require(rights::PATH_UNLINK_FILE)?;
    let located = locate(entry, path)?;
    let mut name = PathBuf::new();
    fs::unlinkat(located.dir(), c_name(&mut name, located.name)?, 0)?;
    Ok(())
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
    let entry = dir(fd)?.require(rights::PATH_READLINK)?;
    let mut path_buf = [0u8; PATH_MAX];
    let path = read_path(memory, path, path_len, &mut path_buf)?;
    let located = locate(entry, path)?;
    if located.has_trailing_slash() {
        // A trailing slash resolves the link; what it names is then not a link (or,
        // for a file, not a directory).
        let target = open_beneath(entry, path, fs::O_PATH)?;
        return Err(Errno(
            if fs::fstat(target.raw())?.file_type() == fs::S_IFDIR {
                errno::INVAL
            } else {
                errno::NOTDIR
            },
        ));
    }
    let mut name = PathBuf::new();
    let mut target = [0u8; PATH_MAX];
    let len = fs::readlinkat(located.dir(), c_name(&mut name, located.name)?, &mut target)?;
    // An absolute target can never be followed inside the sandbox; wasmtime refuses
    // to read it too.
    if target.first() == Some(&b'/') && len > 0 {
        return Err(Errno(errno::PERM));
    }
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
    let old_entry = dir(old_fd)?;
    let new_entry = dir(new_fd)?;
    let mut old_buf = [0u8; PATH_MAX];
    let old_path = read_path(memory, old_path, old_len, &mut old_buf)?;
    let mut new_buf = [0u8; PATH_MAX];
    let new_path = read_path(memory, new_path, new_len, &mut new_buf)?;
    // A new link changes the source's inode (its link count), so both sides must be
    // writable.
    let old_entry = writable(old_entry)?.require(rights::PATH_LINK_SOURCE)?;
    let new_entry = writable(new_entry)?.require(rights::PATH_LINK_TARGET)?;
    if old_path.last() == Some(&b'/') {
        // `linkat` would follow a final symlink here, unconfined. What the path names
        // can only be a directory (which cannot be linked) or not one.
        let target = open_beneath(old_entry, old_path, fs::O_PATH)?;
        return Err(Errno(
            if fs::fstat(target.raw())?.file_type() == fs::S_IFDIR {
                errno::PERM
            } else {
                errno::NOTDIR
            },
        ));
    }
    let old = locate(old_entry, old_path)?;
    let new = locate(new_entry, new_path)?;
    let (mut old_name, mut new_name) = (PathBuf::new(), PathBuf::new());
    fs::linkat(
        old.dir(),
        c_name(&mut old_name, old.name)?,
        new.dir(),
        c_name(&mut new_name, new.name)?,
        0,
    )?;
    Ok(())
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
    let old_entry = dir(old_fd)?;
    let new_entry = dir(new_fd)?;
    let mut old_buf = [0u8; PATH_MAX];
    let old_path = read_path(memory, old_path, old_len, &mut old_buf)?;
    let mut new_buf = [0u8; PATH_MAX];
    let new_path = read_path(memory, new_path, new_len, &mut new_buf)?;
    let old_entry = writable(old_entry)?.require(rights::PATH_RENAME_SOURCE)?;
    let new_entry = writable(new_entry)?.require(rights::PATH_RENAME_TARGET)?;
    let old = locate(old_entry, old_path)?;
    let new = locate(new_entry, new_path)?;
    let (mut old_name, mut new_name) = (PathBuf::new(), PathBuf::new());
    fs::renameat(
        old.dir(),
        c_name(&mut old_name, old.name)?,
        new.dir(),
        c_name(&mut new_name, new.name)?,
    )?;
    Ok(())
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
    let entry = dir(fd)?;
    let mut path_buf = [0u8; PATH_MAX];
    let path = read_path(memory, path, path_len, &mut path_buf)?;
    let entry = writable(entry)?.require(rights::PATH_SYMLINK)?;
    // An absolute target could never be followed inside the sandbox.
    if target.first() == Some(&b'/') {
        return Err(Errno(errno::PERM));
    }
    let located = locate(entry, path)?;
    let (mut target_c, mut name) = (PathBuf::new(), PathBuf::new());
    fs::symlinkat(
        c_name(&mut target_c, target)?,
        located.dir(),
        c_name(&mut name, located.name)?,
    )?;
    Ok(())
}
