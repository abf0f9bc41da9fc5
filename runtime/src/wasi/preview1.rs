//! The exported preview1 host functions: one symbol per function of
//! `wafer_abi::wasi::PREVIEW1`, each a thin wrapper around a safe implementation that
//! works on checked [`GuestMemory`].

use super::{Errno, WasiResult, files, paths, poll, ret, sockets};
use crate::guest::GuestMemory;
use crate::host::{self, grants};
use crate::sys::Clock;
use wafer_abi::wasi::errno;

/// Defines `wafer_wasi_p1_<name>` calling `$imp(&memory, args...)`, in a module of its
/// own so the exported wrappers and the implementations can share names.
macro_rules! host_fns {
    ($( $name:ident ( $($arg:ident : $ty:ty),* ) => $imp:expr; )*) => {
        /// The exported host functions.
        pub mod exports {
            use super::*;
            $(
                #[doc = concat!("WASI preview1 `", stringify!($name), "`.")]
                ///
                /// # Safety
                /// `vmctx` must be the calling instance's VM context.
                #[unsafe(export_name = concat!("wafer_wasi_p1_", stringify!($name)))]
                pub unsafe extern "C" fn $name(vmctx: *mut u8, $($arg: $ty),*) -> i32 {
                    // SAFETY: compiled code passes its own VM context.
                    let memory = unsafe { GuestMemory::for_wasi(vmctx) };
                    ret($imp(&memory, $($arg),*))
                }
            )*
        }
    };
}

host_fns! {
    args_get(argv: i32, argv_buf: i32) => |m, a, b| super::write_strings(m, grants::args(), a, b);
    args_sizes_get(argc: i32, buf_size: i32) => |m, a, b| super::string_sizes(m, grants::args(), a, b);
    environ_get(environ: i32, environ_buf: i32) => super::environ_get;
    environ_sizes_get(count: i32, buf_size: i32) => super::environ_sizes_get;
    clock_res_get(id: i32, resolution: i32) => super::clock_res_get;
    clock_time_get(id: i32, precision: i64, time: i32) => super::clock_time_get;
    fd_advise(fd: i32, offset: i64, len: i64, advice: i32) => files::fd_advise;
    fd_allocate(fd: i32, offset: i64, len: i64) => files::fd_allocate;
    fd_close(fd: i32) => files::fd_close;
    fd_datasync(fd: i32) => files::fd_datasync;
    fd_fdstat_get(fd: i32, buf: i32) => files::fd_fdstat_get;
    fd_fdstat_set_flags(fd: i32, flags: i32) => files::fd_fdstat_set_flags;
    fd_fdstat_set_rights(fd: i32, base: i64, inheriting: i64) => files::fd_fdstat_set_rights;
    fd_filestat_get(fd: i32, buf: i32) => files::fd_filestat_get;
    fd_filestat_set_size(fd: i32, size: i64) => files::fd_filestat_set_size;
    fd_filestat_set_times(fd: i32, atim: i64, mtim: i64, flags: i32) => files::fd_filestat_set_times;
    fd_pread(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nread: i32) => files::fd_pread;
    fd_prestat_dir_name(fd: i32, path: i32, path_len: i32) => files::fd_prestat_dir_name;
    fd_prestat_get(fd: i32, buf: i32) => files::fd_prestat_get;
    fd_pwrite(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nwritten: i32) => files::fd_pwrite;
    fd_read(fd: i32, iovs: i32, iovs_len: i32, nread: i32) => files::fd_read;
    fd_readdir(fd: i32, buf: i32, buf_len: i32, cookie: i64, bufused: i32) => files::fd_readdir;
    fd_renumber(fd: i32, to: i32) => files::fd_renumber;
    fd_seek(fd: i32, offset: i64, whence: i32, new_offset: i32) => files::fd_seek;
    fd_sync(fd: i32) => files::fd_sync;
    fd_tell(fd: i32, offset: i32) => files::fd_tell;
    fd_write(fd: i32, iovs: i32, iovs_len: i32, nwritten: i32) => files::fd_write;
    path_create_directory(fd: i32, path: i32, path_len: i32) => paths::path_create_directory;
    path_filestat_get(fd: i32, flags: i32, path: i32, path_len: i32, buf: i32) => paths::path_filestat_get;
    path_filestat_set_times(fd: i32, flags: i32, path: i32, path_len: i32, atim: i64, mtim: i64, fst_flags: i32) => paths::path_filestat_set_times;
    path_link(old_fd: i32, old_flags: i32, old_path: i32, old_len: i32, new_fd: i32, new_path: i32, new_len: i32) => paths::path_link;
    path_open(fd: i32, dirflags: i32, path: i32, path_len: i32, oflags: i32, base: i64, inheriting: i64, fdflags: i32, opened: i32) => paths::path_open;
    path_readlink(fd: i32, path: i32, path_len: i32, buf: i32, buf_len: i32, bufused: i32) => paths::path_readlink;
    path_remove_directory(fd: i32, path: i32, path_len: i32) => paths::path_remove_directory;
    path_rename(fd: i32, old_path: i32, old_len: i32, new_fd: i32, new_path: i32, new_len: i32) => paths::path_rename;
    path_symlink(old_path: i32, old_len: i32, fd: i32, new_path: i32, new_len: i32) => paths::path_symlink;
    path_unlink_file(fd: i32, path: i32, path_len: i32) => paths::path_unlink_file;
    poll_oneoff(subscriptions: i32, events: i32, count: i32, nevents: i32) => poll::poll_oneoff;
    proc_raise(signal: i32) => |_, signal| super::proc_raise(signal);
    random_get(buf: i32, buf_len: i32) => super::random_get;
    sched_yield() => |_| { host::yield_now(); Ok(()) };
    sock_accept(fd: i32, flags: i32, result: i32) => sockets::sock_accept;
    sock_recv(fd: i32, ri_data: i32, ri_len: i32, ri_flags: i32, ro_len: i32, ro_flags: i32) => sockets::sock_recv;
    sock_send(fd: i32, si_data: i32, si_len: i32, si_flags: i32, so_len: i32) => sockets::sock_send;
    sock_shutdown(fd: i32, how: i32) => sockets::sock_shutdown;
}

/// WASI preview1 `proc_exit`: ends the process with `code`.
///
/// # Safety
/// Always safe to call; `unsafe` only to match the other host functions.
#[unsafe(export_name = "wafer_wasi_p1_proc_exit")]
pub unsafe extern "C" fn proc_exit(_vmctx: *mut u8, code: i32) -> ! {
    host::exit(code)
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
    grants::for_each_env(|entry| {
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
    grants::for_each_env(|entry| {
        count += 1;
        size = size.saturating_add(entry.len() as u32 + 1);
    });
    memory.write_u32(count_ptr as u32, count)?;
    memory.write_u32(size_ptr as u32, size)?;
    Ok(())
}

/// WASI clock ids 0..=3: realtime, monotonic, process and thread CPU time. (wasmtime
/// has no CPU-time clocks and answers `EBADF` for them; Linux has them, so they work
/// here.)
fn clock_id(id: i32) -> WasiResult<Clock> {
    match id {
        0 => Ok(Clock::Realtime),
        1 => Ok(Clock::Monotonic),
        2 => Ok(Clock::ProcessCpuTime),
        3 => Ok(Clock::ThreadCpuTime),
        _ => Err(Errno(errno::INVAL)),
    }
}

fn clock_res_get(memory: &GuestMemory, id: i32, resolution: i32) -> WasiResult {
    let res = host::resolution(clock_id(id)?)?;
    memory.write_u64(resolution as u32, res)?;
    Ok(())
}

fn clock_time_get(memory: &GuestMemory, id: i32, _precision: i64, time: i32) -> WasiResult {
    let now = host::now(clock_id(id)?)?;
    memory.write_u64(time as u32, now)?;
    Ok(())
}

fn random_get(memory: &GuestMemory, buf: i32, len: i32) -> WasiResult {
    let dst = memory.range(buf as u32, len as u32)?;
    // SAFETY: `range` checked the destination lies inside guest memory.
    unsafe { host::random(dst, len as u32 as usize) }
}

fn proc_raise(signal: i32) -> WasiResult {
    host::raise(u8::try_from(signal).map_err(|_| Errno(errno::INVAL))?)
}
