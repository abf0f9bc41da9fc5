//! Catching traps for the test harness, on every platform: `catch_traps` saves the
//! registers of a frame, and a platform's fault handler that finds a catch in progress
//! ([`take`]) resumes there instead of ending the program.

use core::sync::atomic::{AtomicBool, Ordering};

use super::isa::{self, CATCH_BUFFER_WORDS};
use crate::global::Global;

/// Set while `catch_traps` runs guest code: a trap then resumes there instead of ending
/// the process.
static CATCHING: AtomicBool = AtomicBool::new(false);

/// Registers `wafer_rt_catch` saves; read by the signal handler and the landing code.
/// One buffer is enough: the runtime is single-threaded and catches do not nest.
static CATCH_BUFFER: Global<[usize; isa::CATCH_BUFFER_WORDS]> =
    Global::new([0; isa::CATCH_BUFFER_WORDS]);

/// If `catch_traps` is running guest code, ends it with `kind` (as a trap would); returns
/// otherwise.
pub fn land_if_catching(kind: crate::trap::TrapKind) {
    if CATCHING.swap(false, Ordering::SeqCst) {
        let buffer = CATCH_BUFFER.as_ptr() as *const usize;
        // SAFETY: the buffer belongs to the `wafer_rt_catch` frame still on the stack.
        unsafe { isa::wafer_rt_catch_landing(kind as usize, buffer) }
    }
}

unsafe extern "C" fn call_closure<F: FnOnce()>(closure: *mut u8) {
    // SAFETY: `catch_traps` passes a pointer to an `Option<F>` it owns.
    let closure = unsafe { &mut *(closure as *mut Option<F>) };
    if let Some(f) = closure.take() {
        f();
    }
}

/// Runs `f`; a trap inside it ends `f` and is returned instead of ending the process.
pub fn catch_traps<F: FnOnce()>(f: F) -> Result<(), crate::trap::TrapKind> {
    let mut closure = Some(f);
    let buffer = CATCH_BUFFER.as_ptr() as *mut usize;
    CATCHING.store(true, Ordering::SeqCst);
    // SAFETY: `wafer_rt_catch` calls `call_closure::<F>` with a pointer to `closure`,
    // which outlives the call; `buffer` is a static the landing code reads later.
    let code = unsafe {
        isa::wafer_rt_catch(
            call_closure::<F>,
            &mut closure as *mut Option<F> as *mut u8,
            buffer,
        )
    };
    CATCHING.store(false, Ordering::SeqCst);
    match crate::trap::TrapKind::from_u8(code as u8) {
        None => Ok(()),
        Some(kind) => Err(kind),
    }
}

/// If a catch is in progress, ends it and returns the registers of its frame, for the
/// fault handler to resume into (`wafer_rt_catch_landing` with the trap code).
pub fn take() -> Option<*const [usize; CATCH_BUFFER_WORDS]> {
    CATCHING
        .swap(false, Ordering::SeqCst)
        .then(|| CATCH_BUFFER.as_ptr() as *const [usize; CATCH_BUFFER_WORDS])
}
