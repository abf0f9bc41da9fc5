//! Bare metal: the platform for firmware images, on a [`Board`].
//!
//! What an OS would give, the image provides itself: boot code per architecture
//! (`aarch64.rs`, `riscv64.rs`: parking the other cores, stack, `.bss`, FP, exception
//! vectors, the MMU), a heap (`heap.rs`, `embedded-alloc`) for tables and exception
//! objects, linear memory carved from the RAM the image leaves free, stdio on the
//! board's UART (`console.rs`), the read-only file trees baked in at build time
//! (`files.rs`), clocks from the architected timer and the board's RTC, and random
//! bytes from the board's generator or a seeded ChaCha20 (`random.rs`).
//!
//! What a board lacks is absent: there are no sockets, no host environment and no
//! writable files, and the calls for them answer with the errno a denied grant gives on
//! Linux.

#[cfg(target_arch = "aarch64")]
mod aarch64;
mod board;
mod console;
pub mod devices;
mod files;
mod heap;
mod random;
#[cfg(target_arch = "riscv64")]
mod riscv64;

pub use board::{Board, ExitMethod};

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::errno::{Errno, Result};
use crate::sys::{
    Advice, Clock, DirEntry, FileKind, FileStat, IoVec, OpenOptions, PATH_MAX, Platform, PollFd,
    RawHandle, Readiness, SetTime, Shutdown, SocketAddr, SocketOption, StatusFlags, Whence,
};

#[cfg(target_arch = "aarch64")]
use aarch64 as arch;
#[cfg(target_arch = "riscv64")]
use riscv64 as arch;

// The board this runtime is built for: `targets/<board>/board.rs`, chosen by wafer's
// build (WAFER_BOARD_SOURCE). It defines `ThisBoard`.
include!(env!("WAFER_BOARD_SOURCE"));

unsafe extern "C" {
    static __wafer_image_start: u8;
    static __wafer_free_start: u8;
    static __wafer_ram_end: u8;
    static __wafer_heap_start: u8;
    static __wafer_heap_end: u8;
}

/// The address of a linker-defined symbol.
macro_rules! symbol_address {
    ($name:ident) => {
        // Only the address of the linker symbol is taken, never its contents.
        core::ptr::addr_of!($name) as usize
    };
}

/// The counter value at boot: the monotonic clock starts at zero there.
static BOOT_TICKS: AtomicU64 = AtomicU64::new(0);
/// The real time at boot, in nanoseconds since the epoch.
static BOOT_REALTIME: AtomicU64 = AtomicU64::new(0);
/// Set once the program is ending, so a fault while exiting cannot loop.
static EXITING: AtomicBool = AtomicBool::new(false);

unsafe extern "C" {
    /// When wafer built the image, in nanoseconds since the epoch: the real time of
    /// boards without an RTC starts there.
    static wafer_build_time: u64;
}

/// Rust entry on the boot core, from the boot code, with the stack set, `.bss`
/// cleared, `.data` in place and FP on; runs `main` (the guest, or the test harness).
extern "C" fn boot(main: extern "C" fn()) -> ! {
    #[cfg(target_arch = "aarch64")]
    {
        let ram_start = symbol_address!(__wafer_image_start) & !((2 << 20) - 1);
        aarch64::enable_mmu(&[(ram_start, symbol_address!(__wafer_ram_end))]);
        aarch64::install_vectors();
    }
    heap::init(
        symbol_address!(__wafer_heap_start),
        symbol_address!(__wafer_heap_end),
    );
    BOOT_TICKS.store(ThisBoard::ticks(), Ordering::Relaxed);
    ThisBoard::init();
    BOOT_REALTIME.store(
        // SAFETY: the compiler defines the build time as a read-only u64.
        ThisBoard::rtc_now().unwrap_or(unsafe { wafer_build_time }),
        Ordering::Relaxed,
    );
    main();
    BareMetal::exit(0)
}

/// Reports a fault that was not a guest trap being caught (a guest trap, or a runtime
/// bug), then ends the program.
fn report_fault(fault: crate::trap::Fault, cause: usize, address: usize) -> ! {
    if EXITING.load(Ordering::Relaxed) {
        // The exit itself faulted (semihosting without a debugger): stop here.
        arch::park()
    }
    let mut line = crate::out::Line::new();
    match crate::trap::report(&fault) {
        Some(report) => {
            crate::trap::format(&report, &mut line);
            line.write_to(2);
            BareMetal::exit(wafer_abi::TRAP_EXIT_CODE)
        }
        None => {
            line.str(b"wafer: internal error: exception ")
                .hex(cause as u64)
                .str(b" at pc ")
                .hex(fault.pc as u64)
                .str(b" (address ")
                .hex(address as u64)
                .str(b")\n");
            line.write_to(2);
            BareMetal::exit(wafer_abi::INTERNAL_ERROR_EXIT_CODE)
        }
    }
}

/// Nanoseconds since boot on the board's counter.
fn uptime() -> u64 {
    let ticks = ThisBoard::ticks().wrapping_sub(BOOT_TICKS.load(Ordering::Relaxed));
    let frequency = ThisBoard::ticks_per_second().max(1);
    // Split to keep the multiplication in range for years of uptime.
    (ticks / frequency) * 1_000_000_000 + (ticks % frequency) * 1_000_000_000 / frequency
}

/// The bare-metal platform.
#[derive(Debug, Clone, Copy)]
pub struct BareMetal;

/// Console handles: stdin, stdout, stderr.
const CONSOLE_HANDLES: RawHandle = 3;

fn is_console(handle: RawHandle) -> bool {
    (0..CONSOLE_HANDLES).contains(&handle)
}

/// The most a fiber's stack takes from a board's heap (`--heap-size`, 128 KiB by
/// default): half of it is kept for the runtime's host calls (`crate::stack`).
const FIBER_STACK_MAX: usize = 32 * 1024;

impl Platform for BareMetal {
    fn exit(code: i32) -> ! {
        EXITING.store(true, Ordering::Relaxed);
        ThisBoard::console_flush();
        let flags = crate::image::descriptor().flags;
        match wafer_abi::image::ExitMethod::from_flags(flags) {
            wafer_abi::image::ExitMethod::Semihosting => arch::semihosting_exit(code),
            wafer_abi::image::ExitMethod::Reset => ThisBoard::reset(),
            wafer_abi::image::ExitMethod::Halt => {}
        }
        arch::park()
    }

    fn args() -> impl Iterator<Item = &'static [u8]> + Clone {
        crate::host::grants::grants().filter_map(|grant| match grant {
            wafer_abi::grants::Grant::Arg(arg) => Some(arg),
            _ => None,
        })
    }

    fn host_env() -> impl Iterator<Item = &'static [u8]> + Clone {
        core::iter::empty()
    }

    fn yield_now() {}

    fn raise(signal: u8) -> Result {
        // No process to signal: the default actions that end a process end the program
        // (with 128 + the signal, as a shell reports it); the others do nothing.
        const IGNORED_BY_DEFAULT: [u8; 5] = [
            0, 16, /* CHLD */
            17, /* CONT */
            27, /* URG */
            28, /* WINCH */
        ];
        if signal > 30 {
            return Err(Errno::INVAL);
        }
        if IGNORED_BY_DEFAULT.contains(&signal) {
            return Ok(());
        }
        let mut line = crate::out::Line::new();
        line.str(b"wafer: the program raised signal ")
            .dec(signal as u64)
            .str(b"\n");
        line.write_to(2);
        Self::exit(128 + signal as i32)
    }

    fn fiber_stack(size: usize) -> Option<(usize, usize, usize)> {
        // From the heap, with no guard region: images for boards always have stack-limit
        // checks, which the runtime points at the stack that runs.
        let size = size.min(FIBER_STACK_MAX);
        let layout = core::alloc::Layout::from_size_align(size, 16).ok()?;
        // SAFETY: the layout has a nonzero size; the stack is never freed (fibers keep
        // their stacks for reuse).
        let bottom = unsafe { alloc::alloc::alloc(layout) } as usize;
        (bottom != 0).then_some((bottom, bottom, bottom + size))
    }

    fn set_fiber_guard(_guard: Option<(usize, usize)>) {}

    fn stack_bottom() -> usize {
        unsafe extern "C" {
            /// Defined by wafer-link: the lowest address of the stack.
            static __wafer_stack_bottom: u8;
        }
        // Only the symbol's address is taken: it marks where the stack ends.
        core::ptr::addr_of!(__wafer_stack_bottom) as usize
    }

    fn console_write(_stream: RawHandle, bytes: &[u8]) {
        ThisBoard::console_write(bytes)
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
        heap::reserve_linear_memory(
            symbol_address!(__wafer_free_start),
            symbol_address!(__wafer_ram_end),
            max_bytes,
        )
    }

    fn reserve_growable(initial: usize, wanted: usize) -> Option<(*mut u8, usize)> {
        // A region that wants more than a quarter of what the heap has left gets its
        // initial size plus that quarter: tables without a maximum cannot take the whole
        // heap.
        let spare = heap::free() / 4;
        let capacity = if wanted <= spare {
            wanted
        } else {
            initial.saturating_add(spare).min(wanted)
        };
        Some((heap::reserve(capacity)?, capacity))
    }

    const TABLES_MOVE: bool = true;

    fn allocate_block(len: usize) -> Option<*mut u8> {
        heap::allocate_zeroed(len)
    }

    unsafe fn move_block(base: *mut u8, len: usize, new_len: usize) -> Option<*mut u8> {
        // SAFETY: forwarded from the caller.
        unsafe { heap::grow_block(base, len, new_len) }
    }

    fn page_size() -> usize {
        heap::PAGE
    }

    fn reserve(len: usize) -> Option<*mut u8> {
        heap::reserve(len)
    }

    unsafe fn reserve_at(_addr: usize, _len: usize, _replace: bool) -> bool {
        false
    }

    unsafe fn commit(addr: *mut u8, len: usize) -> bool {
        // Memory is always there; "committed" memory must read as zero.
        // SAFETY: the caller guarantees the range is a reservation of ours that no Rust
        // reference points into.
        unsafe { core::ptr::write_bytes(addr, 0, len) };
        true
    }

    unsafe fn read(handle: RawHandle, bufs: &[IoVec]) -> Result<usize> {
        if handle == 0 {
            // SAFETY: forwarded from the caller.
            return unsafe { console::read(bufs) };
        }
        if is_console(handle) {
            return Err(Errno::BADF);
        }
        // SAFETY: forwarded from the caller.
        unsafe { files::read(handle, bufs, None) }
    }

    unsafe fn write(handle: RawHandle, bufs: &[IoVec]) -> Result<usize> {
        if handle == 1 || handle == 2 {
            let mut total = 0;
            for buf in bufs {
                // SAFETY: the caller guarantees every buffer is readable.
                let bytes = unsafe { core::slice::from_raw_parts(buf.base, buf.len) };
                ThisBoard::console_write(bytes);
                total += buf.len;
            }
            return Ok(total);
        }
        if is_console(handle) {
            return Err(Errno::BADF);
        }
        Err(Errno::BADF)
    }

    unsafe fn pread(handle: RawHandle, bufs: &[IoVec], offset: u64) -> Result<usize> {
        if is_console(handle) {
            return Err(Errno::SPIPE);
        }
        // SAFETY: forwarded from the caller.
        unsafe { files::read(handle, bufs, Some(offset)) }
    }

    unsafe fn pwrite(handle: RawHandle, _bufs: &[IoVec], _offset: u64) -> Result<usize> {
        if is_console(handle) {
            return Err(Errno::SPIPE);
        }
        Err(Errno::BADF)
    }

    unsafe fn append(_handle: RawHandle, _bufs: &[IoVec]) -> Result<usize> {
        Err(Errno::ROFS)
    }

    fn seek(handle: RawHandle, offset: i64, whence: Whence) -> Result<u64> {
        if is_console(handle) {
            return Err(Errno::SPIPE);
        }
        files::seek(handle, offset, whence)
    }

    fn close(handle: RawHandle) {
        if !is_console(handle) {
            files::close(handle)
        }
    }

    fn stat(handle: RawHandle) -> Result<FileStat> {
        if is_console(handle) {
            return Ok(FileStat {
                kind: FileKind::CharacterDevice,
                nlink: 1,
                ..FileStat::default()
            });
        }
        files::stat(handle)
    }

    fn kind(handle: RawHandle) -> Result<FileKind> {
        Ok(Self::stat(handle)?.kind)
    }

    fn is_terminal(handle: RawHandle) -> bool {
        is_console(handle)
    }

    fn set_size(_handle: RawHandle, _size: u64) -> Result {
        Err(Errno::ROFS)
    }

    fn set_times(_handle: RawHandle, _atime: SetTime, _mtime: SetTime) -> Result {
        Err(Errno::ROFS)
    }

    fn sync(_handle: RawHandle) -> Result {
        Ok(())
    }

    fn datasync(_handle: RawHandle) -> Result {
        Ok(())
    }

    fn advise(_handle: RawHandle, _offset: u64, _len: u64, _advice: Advice) -> Result {
        Ok(())
    }

    fn allocate(_handle: RawHandle, _offset: u64, _len: u64) -> Result {
        Err(Errno::ROFS)
    }

    fn status_flags(handle: RawHandle) -> Result<StatusFlags> {
        Ok(StatusFlags {
            nonblock: handle == 0 && console::nonblocking(),
            ..StatusFlags::default()
        })
    }

    fn set_status_flags(handle: RawHandle, flags: StatusFlags) -> Result {
        if flags.append {
            return Err(Errno::ROFS);
        }
        if handle == 0 {
            console::set_nonblocking(flags.nonblock);
        }
        Ok(())
    }

    fn bytes_readable(handle: RawHandle) -> Result<u64> {
        if handle == 0 {
            return Ok(console::available() as u64);
        }
        Ok(0)
    }

    fn read_dir(
        handle: RawHandle,
        cookie: u64,
        each: &mut dyn FnMut(DirEntry<'_>) -> bool,
    ) -> Result {
        files::read_dir(handle, cookie, each)
    }

    fn open_granted_dir(path: &[u8]) -> Result<RawHandle> {
        files::open_root(path)
    }

    fn open_at(dir: RawHandle, path: &[u8], options: &OpenOptions) -> Result<RawHandle> {
        if options.write || options.create || options.truncate || options.status.append {
            return Err(Errno::ROFS);
        }
        files::open_at(dir, path, options.directory)
    }

    fn stat_at(dir: RawHandle, path: &[u8], _follow: bool) -> Result<FileStat> {
        files::stat_at(dir, path)
    }

    fn set_times_at(
        _dir: RawHandle,
        _path: &[u8],
        _follow: bool,
        _atime: SetTime,
        _mtime: SetTime,
    ) -> Result {
        Err(Errno::ROFS)
    }

    fn create_dir_at(_dir: RawHandle, _path: &[u8]) -> Result {
        Err(Errno::ROFS)
    }

    fn remove_dir_at(_dir: RawHandle, _path: &[u8]) -> Result {
        Err(Errno::ROFS)
    }

    fn unlink_file_at(_dir: RawHandle, _path: &[u8]) -> Result {
        Err(Errno::ROFS)
    }

    fn readlink_at(dir: RawHandle, path: &[u8], _target: &mut [u8; PATH_MAX]) -> Result<usize> {
        // There are no symlinks in a baked tree: whatever the path names is not one.
        files::stat_at(dir, path)?;
        Err(Errno::INVAL)
    }

    fn link_at(_: RawHandle, _: &[u8], _: RawHandle, _: &[u8]) -> Result {
        Err(Errno::ROFS)
    }

    fn rename_at(_: RawHandle, _: &[u8], _: RawHandle, _: &[u8]) -> Result {
        Err(Errno::ROFS)
    }

    fn symlink_at(_target: &[u8], _dir: RawHandle, _path: &[u8]) -> Result {
        Err(Errno::ROFS)
    }

    fn listen(_addr: &wafer_abi::grants::ListenAddr) -> Result<RawHandle> {
        Err(Errno::NOSYS)
    }

    fn accept(_listener: RawHandle, _nonblock: bool) -> Result<RawHandle> {
        Err(Errno::BADF)
    }

    unsafe fn recv(_: RawHandle, _: &[IoVec], _: bool, _: bool) -> Result<(usize, bool)> {
        Err(Errno::BADF)
    }

    unsafe fn send(_handle: RawHandle, _bufs: &[IoVec]) -> Result<usize> {
        Err(Errno::BADF)
    }

    fn shutdown(_handle: RawHandle, _how: Shutdown) -> Result {
        Err(Errno::BADF)
    }

    // A board has no network: the host core refuses before asking (no grant allows
    // one), and these answer the same if it did.

    fn socket(_ipv6: bool, _datagram: bool) -> Result<RawHandle> {
        Err(Errno::ACCES)
    }

    fn bind(_handle: RawHandle, _addr: &SocketAddr) -> Result {
        Err(Errno::BADF)
    }

    fn listen_on(_handle: RawHandle, _backlog: u32) -> Result {
        Err(Errno::BADF)
    }

    fn connect(_handle: RawHandle, _addr: Option<&SocketAddr>) -> Result {
        Err(Errno::BADF)
    }

    fn socket_address(_handle: RawHandle, _peer: bool) -> Result<SocketAddr> {
        Err(Errno::BADF)
    }

    fn socket_option(_handle: RawHandle, _option: SocketOption, _ipv6: bool) -> Result<i32> {
        Err(Errno::BADF)
    }

    fn set_socket_option(_: RawHandle, _: SocketOption, _: bool, _: i32) -> Result {
        Err(Errno::BADF)
    }

    fn socket_error(_handle: RawHandle) -> Result<Option<Errno>> {
        Err(Errno::BADF)
    }

    unsafe fn send_to(_: RawHandle, _: &[IoVec], _: Option<&SocketAddr>) -> Result<usize> {
        Err(Errno::BADF)
    }

    unsafe fn recv_from(_: RawHandle, _: &[IoVec]) -> Result<(usize, SocketAddr)> {
        Err(Errno::BADF)
    }

    fn poll(fds: &mut [PollFd], timeout: Option<u64>) -> Result<usize> {
        let deadline = timeout.map(|timeout| uptime().saturating_add(timeout));
        loop {
            let mut ready = 0;
            for fd in fds.iter_mut() {
                fd.ready = match fd.handle {
                    0 => Readiness {
                        readable: console::available() > 0,
                        ..Readiness::default()
                    },
                    1 | 2 => Readiness {
                        writable: true,
                        ..Readiness::default()
                    },
                    _ => Readiness {
                        invalid: true,
                        ..Readiness::default()
                    },
                };
                if fd.ready.any() {
                    ready += 1;
                }
            }
            if ready > 0 || deadline.is_some_and(|deadline| uptime() >= deadline) {
                return Ok(ready);
            }
        }
    }

    fn reactor_new() -> Result<RawHandle> {
        // No descriptors to watch in numbers: `poll` serves.
        Err(Errno::NOSYS)
    }

    fn reactor_add(_reactor: RawHandle, _handle: RawHandle, _token: u64, _edge: bool) -> Result {
        Err(Errno::NOSYS)
    }

    fn reactor_wait(
        _reactor: RawHandle,
        _events: &mut [(u64, Readiness)],
        _timeout: Option<u64>,
    ) -> Result<usize> {
        Err(Errno::NOSYS)
    }

    fn sleep_until(deadline: u64) -> Result {
        while uptime() < deadline {
            core::hint::spin_loop();
        }
        Ok(())
    }

    fn now(clock: Clock) -> Result<u64> {
        Ok(match clock {
            Clock::Realtime => BOOT_REALTIME
                .load(Ordering::Relaxed)
                .saturating_add(uptime()),
            // One program on one core: its CPU time is the time since boot.
            Clock::Monotonic | Clock::ProcessCpuTime | Clock::ThreadCpuTime => uptime(),
        })
    }

    fn resolution(_clock: Clock) -> Result<u64> {
        Ok(1_000_000_000u64.div_ceil(ThisBoard::ticks_per_second().max(1)))
    }

    fn gpio_make_output(pin: u32) -> Result {
        ThisBoard::gpio_make_output(pin)
    }

    fn gpio_set(pin: u32, high: bool) -> Result {
        ThisBoard::gpio_set(pin, high)
    }

    fn gpio_get(pin: u32) -> Result<bool> {
        ThisBoard::gpio_get(pin)
    }

    unsafe fn random(dst: *mut u8, len: usize) -> Result {
        // SAFETY: the caller guarantees the buffer.
        let buf = unsafe { core::slice::from_raw_parts_mut(dst, len) };
        random::fill(buf);
        Ok(())
    }
}
