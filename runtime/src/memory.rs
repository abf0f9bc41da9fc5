//! Linear memories: reserved once with guard regions, grown by changing protections.
//! Sizes are in pages of the memory's own size (64 KiB, or 1 byte); protections change
//! in whole host pages.

use core::sync::atomic::{AtomicBool, Ordering};

use wafer_abi::GUARDED_MEMORY_RESERVATION;

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

/// The most bytes a memory may have: every 32-bit index (and the first 4 GiB of a 64-bit
/// one) within the guarded reservation.
const MAX_BYTES: u64 = 1 << 32;

/// The largest page size there is (64 KiB; the custom-page-sizes proposal adds 1 byte).
const MAX_PAGE_SIZE_LOG2: u32 = 16;

/// Whether this process has reserved the fixed memory address (a harness image may
/// instantiate the instance that owns it again).
static FIXED_RESERVED: AtomicBool = AtomicBool::new(false);

/// `len` rounded up to whole host pages: protections change page by page, so a memory
/// of 1-byte pages has its last host page accessible past its end (compiled code checks
/// such memories explicitly).
fn host_pages(len: usize) -> usize {
    // A power of two (no division, so no panic path in the image); `len` is at most
    // 4 GiB, so the sum does not wrap.
    let mask = crate::sys::page_size().wrapping_sub(1);
    len.wrapping_add(mask) & !mask
}

/// Creates a memory of `min_pages` pages of `1 << page_size_log2` bytes, reserving
/// address space for its largest size: at `fixed_base` if it is not zero (the code of the
/// memory's instance addresses it there), anywhere otherwise. Failure is fatal: the
/// guest cannot run without its memory.
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
    page_size_log2: u32,
) {
    if page_size_log2 > MAX_PAGE_SIZE_LOG2 {
        crate::fatal(b"linear memory page size is not 1 byte or 64 KiB");
    }
    let max_pages = max_pages.min(MAX_BYTES >> page_size_log2);
    if min_pages > max_pages {
        crate::fatal(b"linear memory minimum exceeds its maximum");
    }
    let len = GUARDED_MEMORY_RESERVATION as usize;
    let base = if fixed_base == 0 {
        crate::sys::reserve(len)
    } else {
        let replace = FIXED_RESERVED.swap(true, Ordering::Relaxed);
        // SAFETY: a second instantiation replaces the first one's reservation, which the
        // caller guarantees nothing uses any more; otherwise the range must be free.
        unsafe { crate::sys::reserve_at(fixed_base, len, replace) }.then_some(fixed_base as *mut u8)
    };
    let Some(base) = base else {
        let message: &[u8] = if fixed_base == 0 {
            b"cannot reserve address space for linear memory"
        } else {
            b"cannot reserve linear memory at its fixed address, 1.5 to 9.5 GiB (in use, or \
              over the address-space limit)"
        };
        crate::fatal(message);
    };
    // At most 4 GiB: `min_pages <= max_pages <= MAX_BYTES >> page_size_log2`.
    let len = (min_pages << page_size_log2) as usize;
    // SAFETY: `base..base+len`, rounded up to host pages, lies inside the reservation just
    // made (which covers 4 GiB and a guard).
    if !unsafe { crate::sys::commit(base, host_pages(len)) } {
        crate::fatal(b"cannot allocate the initial linear memory");
    }
    // SAFETY: the caller guarantees `def` is writable.
    unsafe {
        def.write(VMMemoryDefinition {
            base,
            current_length: len,
            maximum_pages: max_pages as usize,
        })
    };
}

/// Grows a memory of pages of `1 << page_size_log2` bytes by `delta_pages`; returns the
/// old size in pages or `u64::MAX`.
///
/// # Safety
/// `def` must point to a `VMMemoryDefinition` created by [`wafer_rt_memory_new`] with the
/// same `page_size_log2`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_memory_grow(
    def: *mut VMMemoryDefinition,
    delta_pages: u64,
    page_size_log2: u32,
) -> u64 {
    // SAFETY: the caller guarantees `def`.
    let def = unsafe { &mut *def };
    let old_pages = def.current_length as u64 >> page_size_log2;
    let Some(new_pages) = old_pages.checked_add(delta_pages) else {
        return u64::MAX;
    };
    if new_pages > def.maximum_pages as u64 {
        return u64::MAX;
    }
    // At most 4 GiB: the maximum was capped when the memory was created.
    let new_length = (new_pages << page_size_log2) as usize;
    let committed = host_pages(def.current_length);
    let wanted = host_pages(new_length);
    // SAFETY: the new host pages lie inside the reservation, directly after the
    // accessible ones; no Rust reference points into guest memory.
    if !unsafe { crate::sys::commit(def.base.wrapping_add(committed), wanted - committed) } {
        return u64::MAX;
    }
    def.current_length = new_length;
    old_pages
}
