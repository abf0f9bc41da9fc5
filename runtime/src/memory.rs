//! Linear memories: reserved once with guard regions, grown by changing protections.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::sys::{Current, Platform};
use wafer_abi::{GUARDED_MEMORY_RESERVATION, WASM_PAGE_SIZE};

/// `VMMemoryDefinition` (see `wafer_abi::vmctx`).
#[repr(C)]
#[derive(Debug)]
pub struct VMMemoryDefinition {
    /// Byte 0 of the memory.
    pub base: *mut u8,
    /// Accessible bytes.
    pub current_length: usize,
    /// Most pages the memory may have.
    pub maximum_pages: usize,
}

/// The largest number of 64 KiB pages a 32-bit memory can have.
const MAX_PAGES_32: u64 = 1 << 16;

/// Whether this process has reserved the fixed memory address (a harness image may
/// instantiate the instance that owns it again).
static FIXED_RESERVED: AtomicBool = AtomicBool::new(false);

/// Creates a memory of `min_pages`, reserving address space for its largest size: at
/// `fixed_base` if it is not zero (the code of the memory's instance addresses it there),
/// anywhere otherwise. Failure is fatal: the guest cannot run without its memory.
///
/// # Safety
/// `def` must point to a writable `VMMemoryDefinition`. A nonzero `fixed_base` must be
/// the same for every call, and an earlier memory there must no longer be in use.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_memory_new(
    def: *mut VMMemoryDefinition,
    min_pages: u64,
    max_pages: u64,
    fixed_base: usize,
) {
    if min_pages > max_pages.min(MAX_PAGES_32) {
        crate::fatal(b"linear memory minimum exceeds its maximum");
    }
    let max_bytes = max_pages.min(MAX_PAGES_32) * WASM_PAGE_SIZE;
    let reserved = if fixed_base == 0 {
        Current::reserve_linear_memory(max_bytes)
    } else {
        let replace = FIXED_RESERVED.swap(true, Ordering::Relaxed);
        let len = GUARDED_MEMORY_RESERVATION as usize;
        // SAFETY: a second instantiation replaces the first one's reservation, which the
        // caller guarantees nothing uses any more; otherwise the range must be free.
        unsafe { Current::reserve_at(fixed_base, len, replace) }
            .then_some((fixed_base as *mut u8, max_bytes))
    };
    let Some((base, capacity)) = reserved else {
        let message: &[u8] = if fixed_base == 0 {
            b"cannot reserve address space for linear memory"
        } else {
            b"cannot reserve linear memory at its fixed address, 1.5 to 9.5 GiB (in use, or \
              over the address-space limit)"
        };
        crate::fatal(message);
    };
    if capacity < min_pages * WASM_PAGE_SIZE {
        crate::fatal(b"not enough free RAM for the initial linear memory");
    }
    let len = (min_pages * WASM_PAGE_SIZE) as usize;
    // SAFETY: `base..base+len` lies inside the reservation just made.
    if !unsafe { Current::commit(base, len) } {
        crate::fatal(b"cannot allocate the initial linear memory");
    }
    // SAFETY: the caller guarantees `def` is writable.
    unsafe {
        def.write(VMMemoryDefinition {
            base,
            current_length: len,
            maximum_pages: (capacity / WASM_PAGE_SIZE) as usize,
        })
    };
}

/// Grows a memory by `delta_pages`; returns the old size in pages or `u64::MAX`.
///
/// # Safety
/// `def` must point to a `VMMemoryDefinition` created by [`wafer_rt_memory_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_memory_grow(
    def: *mut VMMemoryDefinition,
    delta_pages: u64,
) -> u64 {
    // SAFETY: the caller guarantees `def`.
    let def = unsafe { &mut *def };
    let old_pages = def.current_length as u64 / WASM_PAGE_SIZE;
    let Some(new_pages) = old_pages.checked_add(delta_pages) else {
        return u64::MAX;
    };
    if new_pages > def.maximum_pages as u64 {
        return u64::MAX;
    }
    let grow_bytes = (delta_pages * WASM_PAGE_SIZE) as usize;
    // SAFETY: the new pages lie inside the reservation, directly after the accessible
    // part; no Rust reference points into guest memory.
    if !unsafe { Current::commit(def.base.wrapping_add(def.current_length), grow_bytes) } {
        return u64::MAX;
    }
    def.current_length += grow_bytes;
    old_pages
}
