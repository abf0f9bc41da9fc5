//! Mutable runtime state without locks.

use core::cell::UnsafeCell;

/// A global that host functions mutate. The runtime is single-threaded (one guest
/// thread, and signal handlers never touch these), so access needs no lock; `with` must
/// not be re-entered for the same global, which holds because host functions never call
/// back into guest code.
pub struct Global<T>(UnsafeCell<T>);

// SAFETY: see the type's documentation: only one thread ever runs runtime code.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    /// A global with an initial value.
    pub const fn new(value: T) -> Self {
        Global(UnsafeCell::new(value))
    }

    /// Runs `f` with exclusive access to the value.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: single-threaded and never re-entered (see the type's documentation),
        // so this is the only reference to the value while `f` runs.
        f(unsafe { &mut *self.0.get() })
    }
}
