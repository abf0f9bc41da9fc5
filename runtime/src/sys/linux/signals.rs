//! Faults in compiled code become traps: SIGSEGV, SIGBUS, SIGILL and SIGFPE are caught on
//! an alternate stack, and the faulting program counter (or the faulting address, for a
//! stack overflow) is handed to [`crate::trap::on_fault`].

use core::sync::atomic::{AtomicUsize, Ordering};

use super::syscall::{nr, syscall6};
use super::{arch, commit, page_size, reserve};

const SIGILL: i32 = 4;
const SIGBUS: i32 = 7;
const SIGFPE: i32 = 8;
const SIGSEGV: i32 = 11;
const SIGPIPE: i32 = 13;
const SIG_IGN: usize = 1;

const SA_SIGINFO: u64 = 4;
const SA_ONSTACK: u64 = 0x0800_0000;
const SA_RESTORER: u64 = 0x0400_0000;

/// Size of the alternate signal stack.
const ALT_STACK_SIZE: usize = 64 * 1024;

/// Size of the guard region below the guest stack. Compiled code probes every page of a
/// large frame, so any overflow touches this region first.
pub const GUARD_SIZE: usize = 64 * 1024;

static GUARD_START: AtomicUsize = AtomicUsize::new(0);
static GUARD_END: AtomicUsize = AtomicUsize::new(0);

/// `struct sigaction` as the kernel's `rt_sigaction` reads it.
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    /// `sa_restorer` where the architecture has it, otherwise the start of `sa_mask`.
    restorer_or_mask: usize,
    mask: u64,
}

/// `stack_t`.
#[repr(C)]
struct SignalStack {
    sp: *mut u8,
    flags: i32,
    size: usize,
}

/// Installs the fault handlers on an alternate stack. Failure is fatal: without them a
/// trap would be a silent crash.
pub fn install() {
    let Some(alt_stack) = reserve(ALT_STACK_SIZE) else {
        crate::fatal(b"cannot allocate the signal stack");
    };
    // SAFETY: `alt_stack` is a fresh reservation of ALT_STACK_SIZE bytes.
    if !unsafe { commit(alt_stack, ALT_STACK_SIZE) } {
        crate::fatal(b"cannot allocate the signal stack");
    }
    let stack = SignalStack {
        sp: alt_stack,
        flags: 0,
        size: ALT_STACK_SIZE,
    };
    // SAFETY: `stack` describes the committed alternate stack, which lives for the rest
    // of the process.
    let ret = unsafe { syscall6(nr::SIGALTSTACK, &stack as *const _ as usize, 0, 0, 0, 0, 0) };
    if ret != 0 {
        crate::fatal(b"sigaltstack failed");
    }
    let mut flags = SA_SIGINFO | SA_ONSTACK;
    let restorer_or_mask = if arch::HAS_SA_RESTORER {
        flags |= SA_RESTORER;
        arch::wafer_rt_sigreturn as *const () as usize
    } else {
        0
    };
    let action = KernelSigaction {
        handler: on_signal as *const () as usize,
        flags,
        restorer_or_mask,
        mask: 0,
    };
    // A closed pipe is an EPIPE error for the guest, as under wasmtime, not a silent kill.
    let ignore = KernelSigaction {
        handler: SIG_IGN,
        flags: if arch::HAS_SA_RESTORER {
            SA_RESTORER
        } else {
            0
        },
        restorer_or_mask,
        mask: 0,
    };
    // SAFETY: `ignore` is a valid `struct sigaction`; the mask size is 8 bytes.
    unsafe {
        syscall6(
            nr::RT_SIGACTION,
            SIGPIPE as usize,
            &ignore as *const _ as usize,
            0,
            8,
            0,
            0,
        )
    };
    for signal in [SIGSEGV, SIGBUS, SIGILL, SIGFPE] {
        // SAFETY: `action` is a valid `struct sigaction`; the mask size is 8 bytes.
        let ret = unsafe {
            syscall6(
                nr::RT_SIGACTION,
                signal as usize,
                &action as *const _ as usize,
                0,
                8,
                0,
                0,
            )
        };
        if ret != 0 {
            crate::fatal(b"rt_sigaction failed");
        }
    }
}

/// Allocates the guest's native stack with a guard region below it; returns its top.
pub fn allocate_guest_stack(size: u64) -> Option<*mut u8> {
    let page = page_size();
    let size = (size as usize).checked_add(page - 1)? & !(page - 1);
    let base = reserve(size.checked_add(GUARD_SIZE)?)?;
    // SAFETY: the range lies inside the reservation just made, above the guard.
    if !unsafe { commit(base.wrapping_add(GUARD_SIZE), size) } {
        return None;
    }
    GUARD_START.store(base as usize, Ordering::Relaxed);
    GUARD_END.store(base as usize + GUARD_SIZE, Ordering::Relaxed);
    Some(base.wrapping_add(GUARD_SIZE + size))
}

/// The lowest usable address of the guest stack, just above its guard region (0 before
/// the stack is allocated): what the stack limit of prologue checks is measured from.
pub fn guest_stack_bottom() -> usize {
    GUARD_END.load(Ordering::Relaxed)
}

/// Allocates a fiber's stack of `size` bytes (rounded up to pages) with a guard region
/// below it: (guard start, lowest usable address, top).
pub fn allocate_fiber_stack(size: usize) -> Option<(usize, usize, usize)> {
    let page = page_size();
    let size = size.checked_add(page - 1)? & !(page - 1);
    let base = reserve(size.checked_add(GUARD_SIZE)?)?;
    // SAFETY: the range lies inside the reservation just made, above the guard.
    if !unsafe { commit(base.wrapping_add(GUARD_SIZE), size) } {
        return None;
    }
    let bottom = base as usize + GUARD_SIZE;
    Some((base as usize, bottom, bottom + size))
}

static FIBER_GUARD_START: AtomicUsize = AtomicUsize::new(0);
static FIBER_GUARD_END: AtomicUsize = AtomicUsize::new(0);

/// Records the guard region of the fiber stack compiled code runs on now.
pub fn set_fiber_guard(guard: Option<(usize, usize)>) {
    let (start, end) = guard.unwrap_or((0, 0));
    FIBER_GUARD_START.store(start, Ordering::Relaxed);
    FIBER_GUARD_END.store(end, Ordering::Relaxed);
}

/// Whether `addr` lies in the guard region below the guest stack, or below the fiber
/// stack in use.
fn in_stack_guard(addr: usize) -> bool {
    (GUARD_START.load(Ordering::Relaxed)..GUARD_END.load(Ordering::Relaxed)).contains(&addr)
        || (FIBER_GUARD_START.load(Ordering::Relaxed)..FIBER_GUARD_END.load(Ordering::Relaxed))
            .contains(&addr)
}

/// `siginfo_t`, as far as we read it.
#[repr(C)]
struct SigInfo {
    signo: i32,
    errno: i32,
    code: i32,
    _pad: i32,
    addr: usize,
}

extern "C" fn on_signal(signal: i32, info: *const SigInfo, context: *mut u8) {
    // SAFETY: the kernel passes a valid siginfo and ucontext to an SA_SIGINFO handler.
    let (fault_addr, pc, fp) = unsafe {
        let addr = if signal == SIGSEGV || signal == SIGBUS {
            (*info).addr
        } else {
            0
        };
        let pc = (context.add(arch::UCONTEXT_PC_OFFSET) as *const usize).read_unaligned();
        let fp = (context.add(arch::UCONTEXT_FP_OFFSET) as *const usize).read_unaligned();
        (addr, pc, fp)
    };
    let fault = crate::trap::Fault {
        pc,
        stack_overflow: fault_addr != 0 && in_stack_guard(fault_addr),
        signal,
        fp,
    };
    if let Some(kind) = crate::trap::kind_of(&fault)
        && let Some(saved) = crate::sys::catch::take()
    {
        // SAFETY: `context` is this signal's ucontext; the buffer is the static one the
        // `wafer_rt_catch` frame still on the guest stack filled.
        unsafe { arch::resume(context, saved, kind as usize) };
        return;
    }
    crate::trap::on_fault(fault)
}

/// Raises `signal` in this process with its default action (the runtime's own handlers
/// and ignores are removed first, since the guest cannot install handlers). Returns if
/// the default action is to ignore, stop and continue, or if the signal is blocked.
///
/// Core dumps are switched off first: a guest must not be able to write a file of its
/// own making into the host's working directory.
pub fn raise_default(signal: i32) -> Result<(), super::Errno> {
    const RLIMIT_CORE: usize = 4;
    let no_core = [0u64; 2];
    // SAFETY: `no_core` is a `struct rlimit64` (soft and hard limit); the old limit is
    // not requested.
    super::check(unsafe {
        syscall6(
            nr::PRLIMIT64,
            0,
            RLIMIT_CORE,
            no_core.as_ptr() as usize,
            0,
            0,
            0,
        )
    })?;
    let default = KernelSigaction {
        handler: 0,
        flags: if arch::HAS_SA_RESTORER {
            SA_RESTORER
        } else {
            0
        },
        restorer_or_mask: if arch::HAS_SA_RESTORER {
            arch::wafer_rt_sigreturn as *const () as usize
        } else {
            0
        },
        mask: 0,
    };
    // SAFETY: `default` is a valid `struct sigaction`; the mask size is 8 bytes.
    super::check(unsafe {
        syscall6(
            nr::RT_SIGACTION,
            signal as usize,
            &default as *const _ as usize,
            0,
            8,
            0,
            0,
        )
    })?;
    // SAFETY: no pointers.
    let pid = unsafe { syscall6(nr::GETPID, 0, 0, 0, 0, 0, 0) };
    // SAFETY: no pointers.
    let tid = unsafe { syscall6(nr::GETTID, 0, 0, 0, 0, 0, 0) };
    // SAFETY: no pointers.
    super::check(unsafe {
        syscall6(
            nr::TGKILL,
            pid as usize,
            tid as usize,
            signal as usize,
            0,
            0,
            0,
        )
    })
    .map(drop)
}
