//! The heap of images on platforms with virtual memory (boards have their own, in
//! `sys/baremetal/heap.rs`): what the component model's state needs (handle tables, the
//! values a test harness lifts and lowers). Most images never allocate, and then never
//! reserve anything.
//!
//! Blocks come in power-of-two size classes from 16 bytes up, carved from one region
//! reserved on first use (committed a page at a time as it fills) and kept on a free
//! list per class once freed; nothing returns to the platform. A block is aligned to its
//! size up to a page, which covers every alignment Rust asks for below that.

use core::alloc::{GlobalAlloc, Layout};

use crate::global::Global;
use crate::sys::{Current, Platform};

/// The smallest class, 16 bytes (`1 << MIN_SHIFT`).
const MIN_SHIFT: u32 = 4;
/// Classes up to `1 << (MIN_SHIFT + CLASSES - 1)`: every size the region can hold.
const CLASSES: usize = 40;
/// Address space reserved for the heap.
const RESERVATION: usize = 1 << 34;

/// The heap's state.
struct Heap {
    /// The region, null until the first allocation.
    base: *mut u8,
    /// Its size.
    capacity: usize,
    /// Bytes handed out from its start.
    used: usize,
    /// Bytes committed from its start.
    committed: usize,
    /// Per class, the first free block (each holds the next one's address).
    free: [*mut u8; CLASSES],
}

static HEAP: Global<Heap> = Global::new(Heap {
    base: core::ptr::null_mut(),
    capacity: 0,
    used: 0,
    committed: 0,
    free: [core::ptr::null_mut(); CLASSES],
});

/// The class of a block for `layout`, and the alignment its address needs.
fn class_of(layout: Layout) -> Option<(usize, usize)> {
    let size = layout.size().max(layout.align()).max(1 << MIN_SHIFT);
    let size = size.checked_next_power_of_two()?;
    let class = (size.trailing_zeros() - MIN_SHIFT) as usize;
    (class < CLASSES).then_some((class, size))
}

impl Heap {
    fn alloc(&mut self, layout: Layout) -> *mut u8 {
        let Some((class, size)) = class_of(layout) else {
            return core::ptr::null_mut();
        };
        let page = Current::page_size();
        // Free blocks of a class are aligned to its size up to a page.
        if layout.align() <= size.min(page) && !self.free[class].is_null() {
            let block = self.free[class];
            // SAFETY: a free block starts with the address of the next free block of its
            // class, written by `dealloc`.
            self.free[class] = unsafe { *(block as *const *mut u8) };
            return block;
        }
        if self.base.is_null() {
            match Current::reserve_growable(page, RESERVATION) {
                Some((base, capacity)) => {
                    self.base = base;
                    self.capacity = capacity;
                }
                None => return core::ptr::null_mut(),
            }
        }
        let align = size.min(page).max(layout.align());
        let Some(start) = self.used.checked_next_multiple_of(align) else {
            return core::ptr::null_mut();
        };
        let end = match start.checked_add(size) {
            Some(end) if end <= self.capacity => end,
            _ => return core::ptr::null_mut(),
        };
        if end > self.committed {
            let grow = (end - self.committed).next_multiple_of(page);
            // SAFETY: the range lies inside the heap's reservation past every block
            // handed out, so nothing refers to it.
            if !unsafe { Current::commit(self.base.add(self.committed), grow) } {
                return core::ptr::null_mut();
            }
            self.committed += grow;
        }
        self.used = end;
        // SAFETY: `start < capacity`, inside the reservation.
        unsafe { self.base.add(start) }
    }

    /// # Safety
    /// `block` must have come from `alloc` with `layout` and not have been freed since.
    unsafe fn dealloc(&mut self, block: *mut u8, layout: Layout) {
        let Some((class, _)) = class_of(layout) else {
            return;
        };
        // SAFETY: the block is at least 16 bytes, aligned, and no longer in use.
        unsafe { *(block as *mut *mut u8) = self.free[class] };
        self.free[class] = block;
    }
}

/// The global allocator over the heap.
pub struct Allocator;

// SAFETY: blocks are distinct, aligned as asked and at least as large as asked; the
// runtime is single-threaded and allocation never re-enters the heap.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HEAP.with(|heap| heap.alloc(layout))
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: forwarded from the caller.
        HEAP.with(|heap| unsafe { heap.dealloc(block, layout) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_round_up_to_powers_of_two() {
        let class = |size, align| class_of(Layout::from_size_align(size, align).unwrap());
        assert_eq!(class(1, 1), Some((0, 16)));
        assert_eq!(class(16, 8), Some((0, 16)));
        assert_eq!(class(17, 1), Some((1, 32)));
        assert_eq!(class(8, 64), Some((2, 64)));
        assert_eq!(class(5000, 8), Some((9, 8192)));
        assert_eq!(class(usize::MAX / 2, 1), None);
    }

    #[test]
    fn blocks_are_aligned_distinct_and_reused() {
        let mut heap = Heap {
            base: core::ptr::null_mut(),
            capacity: 0,
            used: 0,
            committed: 0,
            free: [core::ptr::null_mut(); CLASSES],
        };
        let small = Layout::from_size_align(24, 8).unwrap();
        let a = heap.alloc(small);
        let b = heap.alloc(small);
        assert!(!a.is_null() && !b.is_null() && a != b);
        assert_eq!(a as usize % 32, 0);
        let big = Layout::from_size_align(100_000, 4096).unwrap();
        let c = heap.alloc(big);
        assert_eq!(c as usize % 4096, 0);
        // SAFETY: the blocks are committed and at least this large.
        unsafe {
            c.write_bytes(0xab, 100_000);
            a.write_bytes(1, 24);
            heap.dealloc(a, small);
        }
        assert_eq!(heap.alloc(small), a);
        assert_ne!(heap.alloc(small), b);
    }
}
