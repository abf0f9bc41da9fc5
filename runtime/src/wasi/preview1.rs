//! The exported preview1 host functions: one symbol per function of
//! `wafer_abi::wasi::PREVIEW1`, each a thin wrapper around a safe implementation that
//! works on checked [`GuestMemory`].

use super::{Errno, WasiResult, env, fd, ret};
use crate::guest::GuestMemory;
use crate::sys::{self, IoVec};
use wafer_abi::wasi::{errno, filetype, rights};

/// Defines `wafer_wasi_p1_<name>` calling `$imp(&memory, args...)`, in a module of its
/// own so the exported wrappers and the implementations can share names.
macro_rules! host_fns {
    ($( $name:ident ( $($arg:ident : $ty:ty),* ) => $imp:expr; )*) => {
        /// The exported host functions.
        pub mod exports {
            #[allow(unused_imports, reason = "used by some wrappers only")]
            use super::{GuestMemory, WasiResult, nosys};
            $(
                #[doc = concat!("WASI preview1 `", stringify!($name), "`.")]
                ///
                /// # Safety
                /// `vmctx` must be the calling instance's VM context.
                #[unsafe(export_name = concat!("wafer_wasi_p1_", stringify!($name)))]
                pub unsafe extern "C" fn $name(vmctx: *mut u8, $($arg: $ty),*) -> i32 {
                    // SAFETY: compiled code passes its own VM context.
                    let memory = unsafe { GuestMemory::for_wasi(vmctx) };
                    super::ret($imp(&memory, $($arg),*))
                }
            )*
        }
    };
}

fn nosys(_: &GuestMemory) -> WasiResult {
    Err(Errno(errno::NOSYS))
}

/// Ignores arguments for functions not implemented yet.
macro_rules! not_yet {
    ($($arg:ident),*) => {
        |memory: &GuestMemory, $($arg: _),*| -> WasiResult { $(let _ = $arg;)* nosys(memory) }
    };
}

host_fns! {
    args_get(argv: i32, argv_buf: i32) => |m, a, b| super::write_strings(m, crate::process::args(), a, b);
    args_sizes_get(argc: i32, buf_size: i32) => |m, a, b| super::string_sizes(m, crate::process::args(), a, b);
    environ_get(environ: i32, environ_buf: i32) => super::environ_get;
    environ_sizes_get(count: i32, buf_size: i32) => super::environ_sizes_get;
    clock_res_get(id: i32, resolution: i32) => super::clock_res_get;
    clock_time_get(id: i32, precision: i64, time: i32) => super::clock_time_get;
    fd_advise(fd: i32, offset: i64, len: i64, advice: i32) => not_yet!(fd, offset, len, advice);
    fd_allocate(fd: i32, offset: i64, len: i64) => not_yet!(fd, offset, len);
    fd_close(fd: i32) => super::fd_close;
    fd_datasync(fd: i32) => not_yet!(fd);
    fd_fdstat_get(fd: i32, buf: i32) => super::fd_fdstat_get;
    fd_fdstat_set_flags(fd: i32, flags: i32) => not_yet!(fd, flags);
    fd_fdstat_set_rights(fd: i32, base: i64, inheriting: i64) => not_yet!(fd, base, inheriting);
    fd_filestat_get(fd: i32, buf: i32) => not_yet!(fd, buf);
    fd_filestat_set_size(fd: i32, size: i64) => not_yet!(fd, size);
    fd_filestat_set_times(fd: i32, atim: i64, mtim: i64, flags: i32) => not_yet!(fd, atim, mtim, flags);
    fd_pread(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nread: i32) => not_yet!(fd, iovs, iovs_len, offset, nread);
    fd_prestat_dir_name(fd: i32, path: i32, path_len: i32) => |_, fd, _, _| super::no_preopen(fd);
    fd_prestat_get(fd: i32, buf: i32) => |_, fd, _| super::no_preopen(fd);
    fd_pwrite(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nwritten: i32) => not_yet!(fd, iovs, iovs_len, offset, nwritten);
    fd_read(fd: i32, iovs: i32, iovs_len: i32, nread: i32) => super::fd_read;
    fd_readdir(fd: i32, buf: i32, buf_len: i32, cookie: i64, bufused: i32) => not_yet!(fd, buf, buf_len, cookie, bufused);
    fd_renumber(fd: i32, to: i32) => not_yet!(fd, to);
    fd_seek(fd: i32, offset: i64, whence: i32, new_offset: i32) => super::fd_seek;
    fd_sync(fd: i32) => not_yet!(fd);
    fd_tell(fd: i32, offset: i32) => super::fd_tell;
    fd_write(fd: i32, iovs: i32, iovs_len: i32, nwritten: i32) => super::fd_write;
    path_create_directory(fd: i32, path: i32, path_len: i32) => not_yet!(fd, path, path_len);
    path_filestat_get(fd: i32, flags: i32, path: i32, path_len: i32, buf: i32) => not_yet!(fd, flags, path, path_len, buf);
    path_filestat_set_times(fd: i32, flags: i32, path: i32, path_len: i32, atim: i64, mtim: i64, fst_flags: i32) => not_yet!(fd, flags, path, path_len, atim, mtim, fst_flags);
    path_link(old_fd: i32, old_flags: i32, old_path: i32, old_len: i32, new_fd: i32, new_path: i32, new_len: i32) => not_yet!(old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len);
    path_open(fd: i32, dirflags: i32, path: i32, path_len: i32, oflags: i32, base: i64, inheriting: i64, fdflags: i32, opened: i32) => not_yet!(fd, dirflags, path, path_len, oflags, base, inheriting, fdflags, opened);
    path_readlink(fd: i32, path: i32, path_len: i32, buf: i32, buf_len: i32, bufused: i32) => not_yet!(fd, path, path_len, buf, buf_len, bufused);
    path_remove_directory(fd: i32, path: i32, path_len: i32) => not_yet!(fd, path, path_len);
    path_rename(fd: i32, old_path: i32, old_len: i32, new_fd: i32, new_path: i32, new_len: i32) => not_yet!(fd, old_path, old_len, new_fd, new_path, new_len);
    path_symlink(old_path: i32, old_len: i32, fd: i32, new_path: i32, new_len: i32) => not_yet!(old_path, old_len, fd, new_path, new_len);
    path_unlink_file(fd: i32, path: i32, path_len: i32) => not_yet!(fd, path, path_len);
    poll_oneoff(subscriptions: i32, events: i32, count: i32, nevents: i32) => not_yet!(subscriptions, events, count, nevents);
    proc_raise(signal: i32) => not_yet!(signal);
    random_get(buf: i32, buf_len: i32) => super::random_get;
    sched_yield() => |_| { super::sys::sched_yield(); Ok(()) };
    sock_accept(fd: i32, flags: i32, result: i32) => not_yet!(fd, flags, result);
    sock_recv(fd: i32, ri_data: i32, ri_len: i32, ri_flags: i32, ro_len: i32, ro_flags: i32) => not_yet!(fd, ri_data, ri_len, ri_flags, ro_len, ro_flags);
    sock_send(fd: i32, si_data: i32, si_len: i32, si_flags: i32, so_len: i32) => not_yet!(fd, si_data, si_len, si_flags, so_len);
    sock_shutdown(fd: i32, how: i32) => not_yet!(fd, how);
}

/// WASI preview1 `proc_exit`: ends the process with `code`.
///
/// # Safety
/// Always safe to call; `unsafe` only to match the other host functions.
#[unsafe(export_name = "wafer_wasi_p1_proc_exit")]
pub unsafe extern "C" fn proc_exit(_vmctx: *mut u8, code: i32) -> ! {
    sys::exit(code)
}

/// Writes NUL-terminated `strings` to `buf` and pointers to them to `ptrs`.
fn write_strings<'a>(
    memory: &GuestMemory,
    strings: impl Iterator<Item = &'a [u8]>,
    ptrs: i32,
    buf: i32,
) -> WasiResult {
    let (mut ptr_at, mut string_at) = (ptrs as u32, buf as u32);
    for string in strings {
        memory.write_u32(ptr_at, string_at)?;
        memory.write(string_at, string)?;
        let end = string_at
            .checked_add(string.len() as u32)
            .ok_or(Errno(errno::FAULT))?;
        memory.write(end, &[0])?;
        string_at = end + 1;
        ptr_at = ptr_at.checked_add(4).ok_or(Errno(errno::FAULT))?;
    }
    Ok(())
}

/// Writes the count of `strings` and the bytes they need with NULs.
fn string_sizes<'a>(
    memory: &GuestMemory,
    strings: impl Iterator<Item = &'a [u8]>,
    count_ptr: i32,
    size_ptr: i32,
) -> WasiResult {
    let (count, size) = strings.fold((0u32, 0u32), |(count, size), string| {
        (count + 1, size.saturating_add(string.len() as u32 + 1))
    });
    memory.write_u32(count_ptr as u32, count)?;
    memory.write_u32(size_ptr as u32, size)?;
    Ok(())
}

fn environ_get(memory: &GuestMemory, environ: i32, buf: i32) -> WasiResult {
    let (mut ptr_at, mut string_at) = (environ as u32, buf as u32);
    let mut result = Ok(());
    env::for_each(|entry| {
        if result.is_ok() {
            result = write_strings(
                memory,
                core::iter::once(entry),
                ptr_at as i32,
                string_at as i32,
            );
            ptr_at = ptr_at.wrapping_add(4);
            string_at = string_at.wrapping_add(entry.len() as u32 + 1);
        }
    });
    result
}

fn environ_sizes_get(memory: &GuestMemory, count_ptr: i32, size_ptr: i32) -> WasiResult {
    let (mut count, mut size) = (0u32, 0u32);
    env::for_each(|entry| {
        count += 1;
        size = size.saturating_add(entry.len() as u32 + 1);
    });
    memory.write_u32(count_ptr as u32, count)?;
    memory.write_u32(size_ptr as u32, size)?;
    Ok(())
}

/// WASI clock ids 0..=3 (realtime, monotonic, process and thread CPU time) are Linux's.
fn clock_id(id: i32) -> WasiResult<u32> {
    match id {
        0..=3 => Ok(id as u32),
        _ => Err(Errno(errno::INVAL)),
    }
}

fn clock_res_get(memory: &GuestMemory, id: i32, resolution: i32) -> WasiResult {
    let res = sys::clock_getres(clock_id(id)?)?;
    memory.write_u64(resolution as u32, res)?;
    Ok(())
}

fn clock_time_get(memory: &GuestMemory, id: i32, _precision: i64, time: i32) -> WasiResult {
    let now = sys::clock_gettime(clock_id(id)?)?;
    memory.write_u64(time as u32, now)?;
    Ok(())
}

fn no_preopen(fd: i32) -> WasiResult {
    fd::get(fd, 0)?;
    Err(Errno(errno::BADF))
}

fn fd_close(_: &GuestMemory, fd: i32) -> WasiResult {
    let entry = fd::remove(fd)?;
    match entry.kind {
        // The host's stdio stays open: the runtime still reports traps on stderr.
        fd::FdKind::Stdio => Ok(()),
    }
}

fn fd_fdstat_get(memory: &GuestMemory, fd: i32, buf: i32) -> WasiResult {
    let entry = fd::get(fd, 0)?;
    let mode = sys::fstat_mode(entry.host_fd)?;
    let kind = match mode & sys::S_IFMT {
        sys::S_IFREG => filetype::REGULAR_FILE,
        sys::S_IFDIR => filetype::DIRECTORY,
        sys::S_IFCHR => filetype::CHARACTER_DEVICE,
        sys::S_IFBLK => filetype::BLOCK_DEVICE,
        sys::S_IFSOCK => filetype::SOCKET_STREAM,
        sys::S_IFLNK => filetype::SYMBOLIC_LINK,
        _ => filetype::UNKNOWN,
    };
    // A terminal cannot seek; wasi-libc's isatty() relies on that.
    let unseekable = if kind == filetype::CHARACTER_DEVICE {
        rights::FD_SEEK | rights::FD_TELL
    } else {
        0
    };
    let mut stat = [0u8; 24];
    stat[0] = kind;
    stat[8..16].copy_from_slice(&(entry.rights_base & !unseekable).to_le_bytes());
    stat[16..24].copy_from_slice(&entry.rights_inheriting.to_le_bytes());
    memory.write(buf as u32, &stat)?;
    Ok(())
}

/// Host iovecs translated per batch; guests rarely pass more.
const IOV_BATCH: usize = 16;

/// Runs `io` over the guest's iovec array in batches; returns the bytes transferred.
/// Stops at the first short transfer, and reports an error only if nothing moved.
fn vectored(
    memory: &GuestMemory,
    iovs: i32,
    iovs_len: i32,
    mut io: impl FnMut(&[IoVec]) -> Result<usize, sys::Errno>,
) -> WasiResult<u32> {
    let count = iovs_len as u32;
    let mut total: u32 = 0;
    let mut done = 0u32;
    while done < count {
        let batch = (count - done).min(IOV_BATCH as u32);
        let mut host = [IoVec {
            base: core::ptr::null_mut(),
            len: 0,
        }; IOV_BATCH];
        let mut wanted = 0usize;
        for (i, slot) in host.iter_mut().take(batch as usize).enumerate() {
            let at = (iovs as u32)
                .checked_add(
                    (done + i as u32)
                        .checked_mul(8)
                        .ok_or(Errno(errno::FAULT))?,
                )
                .ok_or(Errno(errno::FAULT))?;
            let buf = memory.read_u32(at)?;
            let len = memory.read_u32(at.checked_add(4).ok_or(Errno(errno::FAULT))?)?;
            *slot = IoVec {
                base: memory.range(buf, len)?,
                len: len as usize,
            };
            wanted += len as usize;
        }
        let moved = match io(&host[..batch as usize]) {
            Ok(moved) => moved,
            Err(_) if total > 0 => break,
            Err(err) => return Err(err.into()),
        };
        total = total.saturating_add(moved as u32);
        if moved < wanted {
            break;
        }
        done += batch;
    }
    Ok(total)
}

fn fd_write(memory: &GuestMemory, fd: i32, iovs: i32, iovs_len: i32, nwritten: i32) -> WasiResult {
    let entry = fd::get(fd, rights::FD_WRITE)?;
    let written = vectored(memory, iovs, iovs_len, |iov| {
        // SAFETY: every iovec was range-checked against guest memory.
        unsafe { sys::writev(entry.host_fd, iov.as_ptr(), iov.len()) }
    })?;
    memory.write_u32(nwritten as u32, written)?;
    Ok(())
}

fn fd_read(memory: &GuestMemory, fd: i32, iovs: i32, iovs_len: i32, nread: i32) -> WasiResult {
    let entry = fd::get(fd, rights::FD_READ)?;
    let read = vectored(memory, iovs, iovs_len, |iov| {
        // SAFETY: every iovec was range-checked against guest memory.
        unsafe { sys::readv(entry.host_fd, iov.as_ptr(), iov.len()) }
    })?;
    memory.write_u32(nread as u32, read)?;
    Ok(())
}

fn fd_seek(memory: &GuestMemory, fd: i32, offset: i64, whence: i32, new_offset: i32) -> WasiResult {
    // WASI's whence values (set, cur, end) are Linux's.
    if !(0..=2).contains(&whence) {
        return Err(Errno(errno::INVAL));
    }
    let required = if offset == 0 && whence == 1 {
        rights::FD_TELL
    } else {
        rights::FD_SEEK
    };
    let entry = fd::get(fd, required)?;
    let position = sys::lseek(entry.host_fd, offset, whence as u32)?;
    memory.write_u64(new_offset as u32, position)?;
    Ok(())
}

fn fd_tell(memory: &GuestMemory, fd: i32, offset: i32) -> WasiResult {
    let entry = fd::get(fd, rights::FD_TELL)?;
    let position = sys::lseek(entry.host_fd, 0, 1)?;
    memory.write_u64(offset as u32, position)?;
    Ok(())
}

fn random_get(memory: &GuestMemory, buf: i32, len: i32) -> WasiResult {
    let dst = memory.range(buf as u32, len as u32)?;
    // SAFETY: `range` checked the destination lies inside guest memory.
    unsafe { sys::getrandom(dst, len as u32 as usize)? };
    Ok(())
}
