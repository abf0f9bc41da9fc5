//! Tables of function references: pointer-sized slots in a reserved region that grows in
//! place, so a table's base never moves.

/// `VMTableDefinition` (see `wafer_abi::vmctx`).
#[repr(C)]
#[derive(Debug)]
pub struct VMTableDefinition {
    /// Element 0.
    pub base: *mut usize,
    /// Number of elements.
    pub current_elements: usize,
    /// Most elements the table may have.
    pub maximum: usize,
}

use crate::sys::{Current, Platform};
use wafer_abi::MAX_TABLE_ELEMENTS as MAX_ELEMENTS;

const SLOT: usize = core::mem::size_of::<usize>();

fn page_round(bytes: usize) -> usize {
    let page = Current::page_size();
    (bytes + page - 1) & !(page - 1)
}

/// Writes `value` into `count` slots starting at `dst`.
///
/// # Safety
/// `dst` must be valid for writes of `count` pointer-sized slots.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_fill_ptrs(dst: *mut usize, value: usize, count: usize) {
    for i in 0..count {
        // SAFETY: `i < count`, inside the caller's range.
        unsafe { dst.add(i).write(value) };
    }
}

/// Allocates a table of `min` elements, all `init`. Failure is fatal.
///
/// # Safety
/// `def` must point to a writable `VMTableDefinition`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_table_new(
    def: *mut VMTableDefinition,
    min: u64,
    max: u64,
    init: usize,
) {
    let capacity = max.min(MAX_ELEMENTS);
    if min > capacity {
        crate::fatal(b"table minimum exceeds what the runtime supports");
    }
    let wanted = page_round((capacity as usize).max(1) * SLOT);
    let Some((base, reserved)) = Current::reserve_growable(page_round(min as usize * SLOT), wanted)
    else {
        crate::fatal(b"cannot reserve address space for a table");
    };
    // A page-rounded reservation may hold more slots than the table may have.
    let capacity = capacity.min((reserved / SLOT) as u64);
    let len = min as usize;
    // SAFETY: inside the reservation just made.
    if !unsafe { Current::commit(base, page_round(len * SLOT)) } {
        crate::fatal(b"cannot allocate a table");
    }
    let base = base as *mut usize;
    // SAFETY: `len` slots were just committed; the caller guarantees `def`.
    unsafe {
        wafer_rt_fill_ptrs(base, init, len);
        def.write(VMTableDefinition {
            base,
            current_elements: len,
            maximum: capacity as usize,
        });
    }
}

/// Grows a table by `delta` elements set to `init`; returns the old size or `u64::MAX`.
///
/// # Safety
/// `def` must point to a `VMTableDefinition` created by [`wafer_rt_table_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_table_grow(
    def: *mut VMTableDefinition,
    delta: u64,
    init: usize,
) -> u64 {
    // SAFETY: the caller guarantees `def`.
    let def = unsafe { &mut *def };
    let old = def.current_elements as u64;
    let Some(new) = old.checked_add(delta) else {
        return u64::MAX;
    };
    if new > def.maximum as u64 {
        return u64::MAX;
    }
    let new = new as usize;
    let base = def.base as *mut u8;
    let committed = page_round(def.current_elements * SLOT);
    let needed = page_round(new * SLOT);
    // SAFETY: the range lies inside the table's reservation (new <= capacity).
    if needed > committed && !unsafe { Current::commit(base.add(committed), needed - committed) } {
        return u64::MAX;
    }
    // SAFETY: slots old..new are now committed.
    unsafe { wafer_rt_fill_ptrs(def.base.add(old as usize), init, delta as usize) };
    def.current_elements = new;
    old
}
