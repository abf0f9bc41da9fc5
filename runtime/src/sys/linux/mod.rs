//! Linux: the platform for static executables. This folder is the single place to edit
//! for the Linux port; the rest of the runtime reaches the OS only through [`Linux`]'s
//! implementation of `sys::Platform` (`platform.rs`).

pub mod arch;
pub mod beneath;
pub mod fs;
pub mod net;
mod platform;
pub mod poll;
pub mod process;
pub mod signals;
pub mod syscall;

pub use crate::sys::IoVec;
pub use platform::{Linux, kind_of, wasi_errno};

use syscall::{nr, syscall3, syscall6};

/// A positive Linux `errno` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

#[allow(missing_docs, reason = "the kernel's names")]
impl Errno {
    pub const PERM: Errno = Errno(1);
    pub const NOENT: Errno = Errno(2);
    pub const INTR: Errno = Errno(4);
    pub const TOOBIG: Errno = Errno(7);
    pub const BADF: Errno = Errno(9);
    pub const AGAIN: Errno = Errno(11);
    pub const EXIST: Errno = Errno(17);
    /// What `RESOLVE_BENEATH` reports for a path that would leave its directory.
    pub const XDEV: Errno = Errno(18);
    pub const NOTDIR: Errno = Errno(20);
    pub const ISDIR: Errno = Errno(21);
    pub const INVAL: Errno = Errno(22);
    pub const NAMETOOLONG: Errno = Errno(36);
    pub const NOSYS: Errno = Errno(38);
    pub const LOOP: Errno = Errno(40);
    pub const AFNOSUPPORT: Errno = Errno(97);
}

/// Appends a short description of `err` to `line`, for start-up errors.
pub fn describe_errno(line: &mut crate::out::Line, err: Errno) {
    let text: &[u8] = match err.0 {
        1 => b"operation not permitted",
        2 => b"no such file or directory",
        13 => b"permission denied",
        20 => b"not a directory",
        24 => b"too many open files",
        98 => b"address already in use",
        99 => b"address not available",
        97 => b"address family not supported",
        _ => {
            line.str(b"errno ").dec(err.0 as u64);
            return;
        }
    };
    line.str(text);
}

fn check(ret: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&ret) {
        Err(Errno(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}

/// Reads up to `len` bytes from `fd` into `buf`.
///
/// # Safety
/// `buf` must be writable for `len` bytes.
pub unsafe fn read(fd: i32, buf: *mut u8, len: usize) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees the buffer.
    check(unsafe { syscall3(nr::READ, fd as usize, buf as usize, len) })
}

/// Writes `len` bytes at `buf` to `fd`.
///
/// # Safety
/// `buf` must be readable for `len` bytes.
pub unsafe fn write(fd: i32, buf: *const u8, len: usize) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees the buffer.
    check(unsafe { syscall3(nr::WRITE, fd as usize, buf as usize, len) })
}

/// `writev(2)`.
///
/// # Safety
/// Every iovec must describe readable memory.
pub unsafe fn writev(fd: i32, iov: *const IoVec, count: usize) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees the iovecs.
    check(unsafe { syscall3(nr::WRITEV, fd as usize, iov as usize, count) })
}

/// `readv(2)`.
///
/// # Safety
/// Every iovec must describe writable memory.
pub unsafe fn readv(fd: i32, iov: *const IoVec, count: usize) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees the iovecs.
    check(unsafe { syscall3(nr::READV, fd as usize, iov as usize, count) })
}

/// `lseek(2)`; returns the new offset.
pub fn lseek(fd: i32, offset: i64, whence: u32) -> Result<u64, Errno> {
    // SAFETY: lseek takes no pointers.
    check(unsafe { syscall3(nr::LSEEK, fd as usize, offset as usize, whence as usize) })
        .map(|offset| offset as u64)
}

/// Clock ids of `clock_gettime(2)`, which match WASI's numbering.
pub const CLOCK_PROCESS_CPUTIME_ID: u32 = 2;

/// `clock_gettime(2)` in nanoseconds.
pub fn clock_gettime(clock: u32) -> Result<u64, Errno> {
    let mut ts = [0i64; 2];
    // SAFETY: `ts` is a `struct timespec`.
    check(unsafe {
        syscall3(
            nr::CLOCK_GETTIME,
            clock as usize,
            ts.as_mut_ptr() as usize,
            0,
        )
    })?;
    Ok((ts[0] as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts[1] as u64))
}

/// `clock_getres(2)` in nanoseconds.
pub fn clock_getres(clock: u32) -> Result<u64, Errno> {
    let mut ts = [0i64; 2];
    // SAFETY: `ts` is a `struct timespec`.
    check(unsafe {
        syscall3(
            nr::CLOCK_GETRES,
            clock as usize,
            ts.as_mut_ptr() as usize,
            0,
        )
    })?;
    Ok((ts[0] as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts[1] as u64))
}

/// Fills `len` bytes at `buf` with random bytes from the kernel.
///
/// # Safety
/// `buf` must be writable for `len` bytes.
pub unsafe fn getrandom(buf: *mut u8, len: usize) -> Result<(), Errno> {
    let mut done = 0;
    while done < len {
        // SAFETY: `done < len`, so the remaining range is inside the caller's buffer.
        match check(unsafe { syscall3(nr::GETRANDOM, buf as usize + done, len - done, 0) }) {
            Ok(n) => done += n,
            Err(Errno(4)) => {} // EINTR: retry
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `sched_yield(2)`.
pub fn sched_yield() {
    // SAFETY: no arguments.
    unsafe { syscall3(nr::SCHED_YIELD, 0, 0, 0) };
}

/// Ends the process with `code`.
pub fn exit(code: i32) -> ! {
    loop {
        // SAFETY: exit_group takes no pointers and does not return.
        unsafe { syscall3(nr::EXIT_GROUP, code as usize, 0, 0) };
    }
}

const PROT_NONE: usize = 0;
const PROT_READ_WRITE: usize = 3;
const MAP_PRIVATE_ANONYMOUS_NORESERVE: usize = 0x2 | 0x20 | 0x4000;

/// Reserves `len` bytes of address space with no access; `None` if the kernel refuses.
pub fn reserve(len: usize) -> Option<*mut u8> {
    // SAFETY: an anonymous mapping at an address the kernel picks touches no memory of
    // ours.
    let ret = unsafe {
        syscall6(
            nr::MMAP,
            0,
            len,
            PROT_NONE,
            MAP_PRIVATE_ANONYMOUS_NORESERVE,
            usize::MAX, // fd -1
            0,
        )
    };
    check(ret).ok().map(|addr| addr as *mut u8)
}

/// `MAP_FIXED`: replace whatever is mapped in the range.
const MAP_FIXED: usize = 0x10;
/// `MAP_FIXED_NOREPLACE` (Linux 4.17): fail rather than replace; older kernels take it as
/// a hint, which the caller detects by the address returned.
const MAP_FIXED_NOREPLACE: usize = 0x10_0000;

/// Reserves `len` bytes of address space with no access at exactly `addr`. Unless
/// `replace` is set the range must be free; `replace` discards what is mapped there.
///
/// # Safety
/// With `replace`, the range must be an earlier reservation of this process that nothing
/// refers to any more.
pub unsafe fn reserve_at(addr: usize, len: usize, replace: bool) -> bool {
    let placement = if replace {
        MAP_FIXED
    } else {
        MAP_FIXED_NOREPLACE
    };
    // SAFETY: with MAP_FIXED_NOREPLACE the kernel maps only free address space; with
    // MAP_FIXED the caller guarantees the range is an earlier reservation of its own that
    // nothing refers to any more.
    let ret = unsafe {
        syscall6(
            nr::MMAP,
            addr,
            len,
            PROT_NONE,
            MAP_PRIVATE_ANONYMOUS_NORESERVE | placement,
            usize::MAX, // fd -1
            0,
        )
    };
    match check(ret) {
        Ok(got) if got == addr => true,
        Ok(elsewhere) => {
            // An old kernel took the address as a hint and put the mapping elsewhere.
            // SAFETY: the mapping was made just now and nothing refers to it.
            unsafe { syscall3(nr::MUNMAP, elsewhere, len, 0) };
            false
        }
        Err(_) => false,
    }
}

/// Makes `len` bytes at `addr` readable and writable (zero-filled on first touch).
///
/// # Safety
/// The range must lie inside a reservation made by [`reserve`] or [`reserve_at`] and must
/// not be memory any Rust reference points into.
pub unsafe fn commit(addr: *mut u8, len: usize) -> bool {
    if len == 0 {
        return true;
    }
    // SAFETY: the caller guarantees the range is ours.
    check(unsafe { syscall3(nr::MPROTECT, addr as usize, len, PROT_READ_WRITE) }).is_ok()
}

/// The kernel's page size, from the auxiliary vector (4 KiB until start-up reads it).
static PAGE_SIZE: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(4096);

/// The kernel's page size: protections change in whole pages (64 KiB on some aarch64
/// kernels).
pub fn page_size() -> usize {
    PAGE_SIZE.load(core::sync::atomic::Ordering::Relaxed)
}

/// `AT_PAGESZ` in the auxiliary vector.
const AT_PAGESZ: usize = 6;

/// Process arguments and environment as the kernel laid them out on the initial stack.
#[derive(Debug, Clone, Copy)]
pub struct ProcessArgs {
    /// `argc`.
    pub argc: usize,
    /// `argv`, `argc` pointers to NUL-terminated strings.
    pub argv: *const *const u8,
    /// `envp`, NULL-terminated.
    pub envp: *const *const u8,
}

/// Entered from `_start` with the initial stack pointer; never returns.
///
/// # Safety
/// `sp` must be the process's initial stack pointer as the kernel set it.
#[cfg_attr(feature = "image", unsafe(no_mangle))]
pub unsafe extern "C" fn wafer_rt_linux_start(sp: *const usize) -> ! {
    // SAFETY: forwarded from the caller.
    unsafe { start(sp, crate::entry::run_guest) }
}

/// Entered from `wafer_harness_start` (test-harness images); never returns.
///
/// # Safety
/// `sp` must be the process's initial stack pointer as the kernel set it.
#[cfg_attr(feature = "image", unsafe(no_mangle))]
pub unsafe extern "C" fn wafer_rt_linux_harness_start(sp: *const usize) -> ! {
    // SAFETY: forwarded from the caller.
    unsafe { start(sp, crate::harness::run) }
}

/// Records the process arguments, installs the trap handlers and runs `main` on the
/// guest stack.
///
/// # Safety
/// `sp` must be the process's initial stack pointer as the kernel set it.
unsafe fn start(sp: *const usize, main: extern "C" fn()) -> ! {
    // SAFETY: the kernel's initial stack holds argc, then argv[argc], NULL, then envp.
    let args = unsafe {
        let argc = *sp;
        let argv = sp.add(1) as *const *const u8;
        ProcessArgs {
            argc,
            argv,
            envp: argv.add(argc + 1),
        }
    };
    if !fs::ensure_stdio_open() {
        exit(wafer_abi::INTERNAL_ERROR_EXIT_CODE);
    }
    process::set_args(args);
    // SAFETY: the auxiliary vector follows envp's NULL, as (key, value) pairs ending
    // with key 0.
    unsafe {
        let mut env = args.envp;
        while !(*env).is_null() {
            env = env.add(1);
        }
        let mut aux = env.add(1) as *const usize;
        while *aux != 0 {
            if *aux == AT_PAGESZ && (*aux.add(1)).is_power_of_two() {
                PAGE_SIZE.store(*aux.add(1), core::sync::atomic::Ordering::Relaxed);
            }
            aux = aux.add(2);
        }
    }
    signals::install();
    let stack_size = crate::image::descriptor().stack_size;
    let Some(top) = signals::allocate_guest_stack(stack_size) else {
        crate::fatal(b"cannot allocate the guest stack");
    };
    // SAFETY: `top` is the 16-byte aligned top of a fresh stack of `stack_size` bytes.
    unsafe { arch::call_on_stack(top, main) };
    exit(0)
}
