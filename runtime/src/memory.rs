//! Linear memories: reserved once (with guard regions where the platform has them),
//! grown in place. Sizes are in pages of the memory's own size (64 KiB, or 1 byte);
//! protections change in whole platform pages.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::sys::{Current, Platform};
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

/// How much of a memory of `capacity` bytes is committed when it has `len` bytes: `len`
/// rounded up to whole platform pages (protections change page by page, so a memory of
/// 1-byte pages has the rest of its last page accessible past its end, and compiled code
/// checks such memories explicitly), but never past the capacity (a board's memory is
/// carved to the byte).
fn committed(len: usize, capacity: usize) -> usize {
    // A power of two (no division, so no panic path in the image); `len` is at most
    // 4 GiB, so the sum does not wrap.
    let mask = Current::page_size().wrapping_sub(1);
    (len.wrapping_add(mask) & !mask).min(capacity)
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
    // At most 4 GiB.
    let max_bytes = max_pages << page_size_log2;
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
    // Whole pages of the memory's own size (a board may offer fewer bytes than asked).
    let maximum_pages = capacity.min(max_bytes) >> page_size_log2;
    if maximum_pages < min_pages {
        crate::fatal(b"not enough free RAM for the initial linear memory");
    }
    let len = (min_pages << page_size_log2) as usize;
    let capacity = (maximum_pages << page_size_log2) as usize;
    // SAFETY: `base..base+len`, rounded up to host pages within the memory's capacity,
    // lies inside the reservation just made.
    if !unsafe { Current::commit(base, committed(len, capacity)) } {
        crate::fatal(b"cannot allocate the initial linear memory");
    }
    // SAFETY: the caller guarantees `def` is writable.
    unsafe {
        def.write(VMMemoryDefinition {
            base,
            current_length: len,
            maximum_pages: maximum_pages as usize,
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
    let capacity = def.maximum_pages << page_size_log2;
    let done = committed(def.current_length, capacity);
    let wanted = committed(new_length, capacity);
    // SAFETY: the new host pages lie inside the reservation, directly after the
    // committed ones; no Rust reference points into guest memory.
    if !unsafe { Current::commit(def.base.wrapping_add(done), wanted - done) } {
        return u64::MAX;
    }
    def.current_length = new_length;
    old_pages
}
