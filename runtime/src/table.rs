//! Tables of function references: pointer-sized slots. Where address space is cheap
//! (Linux) a table reserves its maximum and grows in place, so its base never moves;
//! on a board it holds only what it has and moves to a bigger block to grow, and
//! compiled code reloads its base after calls (see `Platform::TABLES_MOVE`).

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
    let maximum = max.min(MAX_ELEMENTS);
    if min > maximum {
        crate::fatal(b"table minimum exceeds what the runtime supports");
    }
    let len = min as usize;
    let (base, maximum) = if Current::TABLES_MOVE {
        let capacity = len.max(MIN_MOVING_CAPACITY).min(maximum as usize);
        let Some(base) = moving::allocate(capacity) else {
            crate::fatal(b"cannot allocate a table");
        };
        (base, maximum as usize)
    } else {
        let wanted = page_round((maximum as usize).max(1) * SLOT);
        let Some((base, reserved)) = Current::reserve_growable(page_round(len * SLOT), wanted)
        else {
            crate::fatal(b"cannot reserve address space for a table");
        };
        // SAFETY: inside the reservation just made.
        if !unsafe { Current::commit(base, page_round(len * SLOT)) } {
            crate::fatal(b"cannot allocate a table");
        }
        // A page-rounded reservation may hold more slots than the table may have, a
        // scarce one fewer than its maximum: it can grow as far as both allow.
        (base as *mut usize, (maximum as usize).min(reserved / SLOT))
    };
    // SAFETY: `len` slots are usable; the caller guarantees `def`.
    unsafe {
        wafer_rt_fill_ptrs(base, init, len);
        def.write(VMTableDefinition {
            base,
            current_elements: len,
            maximum,
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
    if Current::TABLES_MOVE {
        // SAFETY: the table was allocated by `moving::allocate`.
        let Some(base) = (unsafe { moving::make_room(def.base, new, def.maximum) }) else {
            return u64::MAX;
        };
        def.base = base;
    } else {
        let base = def.base as *mut u8;
        let committed = page_round(def.current_elements * SLOT);
        let needed = page_round(new * SLOT);
        if needed > committed {
            // SAFETY: the range lies inside the table's reservation (new <= maximum,
            // which the reservation holds).
            let grown = unsafe { Current::commit(base.add(committed), needed - committed) };
            if !grown {
                return u64::MAX;
            }
        }
    }
    // SAFETY: slots old..new are now usable.
    unsafe { wafer_rt_fill_ptrs(def.base.add(old as usize), init, delta as usize) };
    def.current_elements = new;
    old
}

/// The fewest slots a moving table starts with, so small growth does not move it.
const MIN_MOVING_CAPACITY: usize = 8;

/// Tables that move to grow ([`Platform::TABLES_MOVE`]): a block of one header word,
/// the capacity in slots, then the slots, the table's base pointing at the first slot.
mod moving {
    use super::SLOT;
    use crate::sys::{Current, Platform};

    fn block_len(capacity: usize) -> usize {
        (capacity + 1) * SLOT
    }

    /// A zeroed table of `capacity` slots; its base.
    pub fn allocate(capacity: usize) -> Option<*mut usize> {
        let block = Current::allocate_block(block_len(capacity))? as *mut usize;
        // SAFETY: the block holds the header word and `capacity` slots.
        unsafe {
            block.write(capacity);
            Some(block.add(1))
        }
    }

    /// Makes a table at `base` hold `len <= maximum` slots, moving it to a block twice
    /// as large (at most `maximum`) when it must; its base, or `None` when the heap
    /// has no room.
    ///
    /// # Safety
    /// `base` must come from [`allocate`] or an earlier `make_room`.
    pub unsafe fn make_room(base: *mut usize, len: usize, maximum: usize) -> Option<*mut usize> {
        // SAFETY: the header word precedes the slots.
        let block = unsafe { base.sub(1) };
        // SAFETY: as above.
        let capacity = unsafe { block.read() };
        if len <= capacity {
            return Some(base);
        }
        let grown = len.max(capacity.saturating_mul(2)).min(maximum);
        // SAFETY: the block is live and `block_len(capacity)` long; the caller stores
        // the new base in the table's definition, the only reference to the block.
        let moved = unsafe {
            Current::move_block(block as *mut u8, block_len(capacity), block_len(grown))?
        } as *mut usize;
        // SAFETY: the new block holds the header word and `grown` slots.
        unsafe {
            moved.write(grown);
            Some(moved.add(1))
        }
    }
}
