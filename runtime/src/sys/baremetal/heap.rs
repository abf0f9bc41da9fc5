//! The heap: `embedded-alloc` over the region the linker reserved after the image, for
//! the runtime's tables and exception objects.

use core::alloc::{GlobalAlloc, Layout};

use embedded_alloc::LlffHeap as Heap;

/// Allocation granularity of reservations (a page, as elsewhere).
pub const PAGE: usize = 4096;

#[global_allocator]
static HEAP: Heap = Heap::empty();

/// Hands the region `start..end` to the heap; called once at boot.
pub fn init(start: usize, end: usize) {
    // SAFETY: the linker reserved `start..end` for the heap and nothing else uses it;
    // this runs once, before any allocation.
    unsafe { HEAP.init(start, end.saturating_sub(start)) }
}

/// Allocates `len` bytes, page-aligned; their contents are undefined until committed.
pub fn reserve(len: usize) -> Option<*mut u8> {
    let layout = Layout::from_size_align(len.max(1), PAGE).ok()?;
    // SAFETY: the layout has a nonzero size.
    let block = unsafe { HEAP.alloc(layout) };
    (!block.is_null()).then_some(block)
}

/// Alignment of the blocks that move as they grow (tables).
const BLOCK_ALIGN: usize = 16;

/// Allocates a zeroed block of `len` bytes that may later move with [`grow_block`].
pub fn allocate_zeroed(len: usize) -> Option<*mut u8> {
    let layout = Layout::from_size_align(len.max(1), BLOCK_ALIGN).ok()?;
    // SAFETY: the layout has a nonzero size.
    let block = unsafe { HEAP.alloc_zeroed(layout) };
    (!block.is_null()).then_some(block)
}

/// Moves the block of `len` bytes at `base` to one of `new_len` bytes, zeroed past `len`,
/// freeing the old one; `None` (the old block kept) when the heap has no room.
///
/// # Safety
/// `base` and `len` must describe a live block from [`allocate_zeroed`] or
/// [`grow_block`], which nothing uses once a new one is returned.
pub unsafe fn grow_block(base: *mut u8, len: usize, new_len: usize) -> Option<*mut u8> {
    let new = allocate_zeroed(new_len)?;
    // SAFETY: both blocks are live, distinct and at least `len` bytes long; the old
    // one's layout is the one it was allocated with.
    unsafe {
        core::ptr::copy_nonoverlapping(base, new, len);
        HEAP.dealloc(
            base,
            Layout::from_size_align_unchecked(len.max(1), BLOCK_ALIGN),
        );
    }
    Some(new)
}

/// Bytes the heap can still hand out.
pub fn free() -> usize {
    HEAP.free()
}

// The runtime runs on one core with interrupts masked: a critical section is nothing.
struct SingleCore;
critical_section::set_impl!(SingleCore);

// SAFETY: one core runs the runtime and nothing interrupts it, so code between acquire
// and release is never entered concurrently.
unsafe impl critical_section::Impl for SingleCore {
    unsafe fn acquire() -> critical_section::RawRestoreState {}
    unsafe fn release(_: critical_section::RawRestoreState) {}
}

/// The next free byte of the RAM after the heap, for linear memories.
static NEXT_FREE: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);
/// Linear memories carved so far.
static CARVED: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Carves a linear memory of up to `max_bytes` from `free_start..ram_end` (what the
/// image, its stack and heap leave of the RAM). A memory with a maximum that fits gets
/// it; one without (as clang and rustc emit them) shares what is left equally with the
/// image's memories still to come, so a program with one memory may grow into all of the
/// free RAM. Returns the memory's base and size.
pub fn reserve_linear_memory(
    free_start: usize,
    ram_end: usize,
    max_bytes: u64,
) -> Option<(*mut u8, u64)> {
    use core::sync::atomic::Ordering;
    let next = match NEXT_FREE.load(Ordering::Relaxed) {
        0 => free_start,
        next => next,
    };
    let start = next.checked_next_multiple_of(16)?;
    let left = ram_end.checked_sub(start)? as u64;
    let carved = CARVED.fetch_add(1, Ordering::Relaxed);
    let still_to_come = crate::image::descriptor()
        .memories
        .saturating_sub(carved)
        .max(1);
    let share = (left / still_to_come) & !15;
    let size = max_bytes.min(share);
    NEXT_FREE.store(start + size as usize, Ordering::Relaxed);
    Some((start as *mut u8, size))
}
