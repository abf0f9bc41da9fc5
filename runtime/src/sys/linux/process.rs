//! The process's arguments and environment, as the platform passed them.

use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

static ARGC: AtomicUsize = AtomicUsize::new(0);
static ARGV: AtomicPtr<*const u8> = AtomicPtr::new(core::ptr::null_mut());
static ENVP: AtomicPtr<*const u8> = AtomicPtr::new(core::ptr::null_mut());

/// Records the process arguments at start-up.
pub fn set_args(args: super::ProcessArgs) {
    ARGC.store(args.argc, Ordering::Relaxed);
    ARGV.store(args.argv as *mut _, Ordering::Relaxed);
    ENVP.store(args.envp as *mut _, Ordering::Relaxed);
}

/// Reads a NUL-terminated string.
///
/// # Safety
/// `ptr` must point to a NUL-terminated string that lives for the rest of the process.
unsafe fn c_str(ptr: *const u8) -> &'static [u8] {
    let mut len = 0;
    // SAFETY: the caller guarantees NUL termination.
    while unsafe { *ptr.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: `len` bytes before the NUL are readable and never change.
    unsafe { core::slice::from_raw_parts(ptr, len) }
}

/// The command-line arguments, `argv[0]` first.
pub fn args() -> impl Iterator<Item = &'static [u8]> + Clone {
    let argc = ARGC.load(Ordering::Relaxed);
    let argv = ARGV.load(Ordering::Relaxed) as *const *const u8;
    (0..argc).map(move |i| {
        // SAFETY: `i < argc`; argv entries are NUL-terminated strings on the initial
        // stack, which is never freed.
        unsafe { c_str(*argv.add(i)) }
    })
}

/// The host environment as `KEY=VALUE` entries.
pub fn host_env() -> impl Iterator<Item = &'static [u8]> + Clone {
    let envp = ENVP.load(Ordering::Relaxed) as *const *const u8;
    let mut i = 0;
    core::iter::from_fn(move || {
        if envp.is_null() {
            return None;
        }
        // SAFETY: envp is NULL-terminated; we stop at the NULL.
        let entry = unsafe { *envp.add(i) };
        if entry.is_null() {
            return None;
        }
        i += 1;
        // SAFETY: each entry is a NUL-terminated string on the initial stack.
        Some(unsafe { c_str(entry) })
    })
}
