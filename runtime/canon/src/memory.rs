//! Linear memory, as lifting and lowering see it.

use alloc::vec::Vec;

use crate::{Trap, align_to, in_bounds};

/// A linear memory with its `realloc` (the `memory` and `realloc` canonical options).
///
/// Lifting and lowering check every range against [`size`](Memory::size) before they
/// read or write it, as the spec does, so `read` and `write` are only given ranges inside
/// the memory; they may check again.
pub trait Memory {
    /// The current size of the memory in bytes (it may grow during `realloc`).
    fn size(&self) -> u64;

    /// Reads `buf.len()` bytes at `addr`.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Trap>;

    /// Writes `bytes` at `addr`.
    fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Trap>;

    /// Calls the `realloc` function: `(old_ptr, old_size, align, new_size) -> new_ptr`.
    /// The caller checks the result's alignment and bounds.
    fn realloc(
        &mut self,
        old_ptr: u64,
        old_size: u64,
        align: u64,
        new_size: u64,
    ) -> Result<u64, Trap>;
}

/// One call of [`VecMemory`]'s `realloc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReallocCall {
    /// The old pointer (0 for a fresh allocation).
    pub old_ptr: u64,
    /// The old size.
    pub old_size: u64,
    /// The alignment asked for.
    pub align: u64,
    /// The new size.
    pub new_size: u64,
    /// The pointer returned.
    pub result: u64,
}

/// A memory in a byte vector with a bump allocator as its `realloc`, which logs every
/// call: for host-side tests, fuzzers and harnesses.
///
/// `realloc` shrinks in place, grows by moving to a fresh block (copying the old
/// contents), and grows the memory when the heap runs past its end, up to a limit.
#[derive(Debug, Clone, Default)]
pub struct VecMemory {
    /// The memory's contents.
    pub bytes: Vec<u8>,
    /// Every `realloc` call, in order.
    pub calls: Vec<ReallocCall>,
    /// Where the next allocation starts looking.
    pub heap: u64,
    /// The most the memory may grow to; `realloc` fails with [`Trap::Host`] beyond it.
    pub max_size: u64,
}

impl VecMemory {
    /// A zeroed memory of `size` bytes whose heap starts at `heap` and which may grow to
    /// 16 MiB (or `size`, if larger).
    pub fn new(size: usize, heap: u64) -> VecMemory {
        VecMemory {
            bytes: alloc::vec![0; size],
            calls: Vec::new(),
            heap,
            max_size: (size as u64).max(16 << 20),
        }
    }

    /// The bytes at `[addr, addr + len)`, if inside the memory.
    pub fn slice(&self, addr: u64, len: u64) -> Option<&[u8]> {
        let start = usize::try_from(addr).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.bytes.get(start..end)
    }

    fn block(&mut self, align: u64, size: u64) -> Result<u64, Trap> {
        if !align.is_power_of_two() || align > 1 << 16 {
            return Err(Trap::Host);
        }
        let start = align_to(self.heap, align as u32);
        let end = start.checked_add(size).ok_or(Trap::Host)?;
        if end > self.max_size {
            return Err(Trap::Host);
        }
        if end > self.bytes.len() as u64 {
            self.bytes.resize(end as usize, 0);
        }
        self.heap = end;
        Ok(start)
    }
}

impl Memory for VecMemory {
    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Trap> {
        let bytes = self
            .slice(addr, buf.len() as u64)
            .ok_or(Trap::PointerOutOfBounds)?;
        buf.copy_from_slice(bytes);
        Ok(())
    }

    fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Trap> {
        if !in_bounds(self.size(), addr, bytes.len() as u64) {
            return Err(Trap::PointerOutOfBounds);
        }
        let start = addr as usize;
        self.bytes[start..start + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    fn realloc(
        &mut self,
        old_ptr: u64,
        old_size: u64,
        align: u64,
        new_size: u64,
    ) -> Result<u64, Trap> {
        let result = if old_size != 0 && new_size <= old_size && old_ptr.is_multiple_of(align) {
            old_ptr
        } else {
            let new_ptr = self.block(align, new_size)?;
            let keep = old_size.min(new_size);
            if keep != 0 {
                let old = self.slice(old_ptr, keep).ok_or(Trap::Host)?.to_vec();
                self.write(new_ptr, &old)?;
            }
            new_ptr
        };
        self.calls.push(ReallocCall {
            old_ptr,
            old_size,
            align,
            new_size,
            result,
        });
        Ok(result)
    }
}
