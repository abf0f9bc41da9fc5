//! Mutable runtime state without locks.

use core::cell::{Cell, UnsafeCell};

/// A global that host functions mutate. The runtime is single-threaded (one guest
/// thread), so access needs no lock. `with` must not be re-entered for the same global:
/// host functions never call back into guest code, so it is not, and a re-entry (a bug)
/// ends the process instead of creating a second `&mut`. Signal handlers must not use
/// `with`; they use [`Global::as_ptr`].
pub struct Global<T> {
    value: UnsafeCell<T>,
    busy: Cell<bool>,
}

// SAFETY: see the type's documentation: only one thread ever runs runtime code.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    /// A global with an initial value.
    pub const fn new(value: T) -> Self {
        Global {
            value: UnsafeCell::new(value),
            busy: Cell::new(false),
        }
    }

    /// Runs `f` with exclusive access to the value.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        if self.busy.replace(true) {
            crate::fatal(b"runtime state re-entered");
        }
        // SAFETY: single-threaded, and `busy` proves no other `with` on this global is
        // running, so this is the only reference to the value while `f` runs.
        let result = f(unsafe { &mut *self.value.get() });
        self.busy.set(false);
        result
    }

    /// The value's address, without making a reference: for code (a signal handler,
    /// assembly) that may run while `with` is in progress.
    pub fn as_ptr(&self) -> *mut T {
        self.value.get()
    }
}
