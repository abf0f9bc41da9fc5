//! Checked access to guest linear memory for host functions.
//!
//! Host functions receive guest addresses. Every access goes through [`GuestMemory`],
//! which checks the range against the memory's current length and copies bytes in or
//! out; no Rust reference into guest memory ever escapes, since the guest may alias it.

use crate::memory::VMMemoryDefinition;

/// Error for an access outside guest memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfBounds;

/// The linear memory a host function works on.
#[derive(Debug, Clone, Copy)]
pub struct GuestMemory {
    base: *mut u8,
    len: usize,
}

impl GuestMemory {
    /// The memory WASI uses for the instance `vmctx` (its `wasi_memory` slot), or an
    /// empty memory if it has none.
    ///
    /// # Safety
    /// `vmctx` must be a VM context emitted by the compiler.
    pub unsafe fn for_wasi(vmctx: *const u8) -> GuestMemory {
        // SAFETY: the header's first slot is the `wasi_memory` pointer (possibly null),
        // which points to a live `VMMemoryDefinition`.
        unsafe {
            let def = *(vmctx as *const *const VMMemoryDefinition);
            if def.is_null() {
                GuestMemory {
                    base: core::ptr::null_mut(),
                    len: 0,
                }
            } else {
                GuestMemory {
                    base: (*def).base,
                    len: (*def).current_length,
                }
            }
        }
    }

    /// The memory a definition describes, as it is now; an empty memory for null.
    ///
    /// # Safety
    /// `def` must be null or point to a live `VMMemoryDefinition`.
    pub unsafe fn from_definition(def: *const VMMemoryDefinition) -> GuestMemory {
        if def.is_null() {
            return GuestMemory {
                base: core::ptr::null_mut(),
                len: 0,
            };
        }
        // SAFETY: the caller guarantees `def` points to a live definition.
        unsafe {
            GuestMemory {
                base: (*def).base,
                len: (*def).current_length,
            }
        }
    }

    /// A memory over a host buffer, for tests.
    #[cfg(test)]
    pub fn from_slice(bytes: &mut [u8]) -> GuestMemory {
        GuestMemory {
            base: bytes.as_mut_ptr(),
            len: bytes.len(),
        }
    }

    /// The host address of `len` bytes at guest address `addr`, checked.
    pub fn range(&self, addr: u32, len: u32) -> Result<*mut u8, OutOfBounds> {
        let end = (addr as usize)
            .checked_add(len as usize)
            .ok_or(OutOfBounds)?;
        if end > self.len {
            return Err(OutOfBounds);
        }
        Ok(self.base.wrapping_add(addr as usize))
    }

    /// Copies `bytes` to guest address `addr`.
    pub fn write(&self, addr: u32, bytes: &[u8]) -> Result<(), OutOfBounds> {
        let len = u32::try_from(bytes.len()).map_err(|_| OutOfBounds)?;
        let dst = self.range(addr, len)?;
        // SAFETY: `range` checked that the destination lies inside guest memory, which
        // cannot overlap a host slice.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len()) };
        Ok(())
    }

    /// Reads `N` bytes at guest address `addr`.
    pub fn read<const N: usize>(&self, addr: u32) -> Result<[u8; N], OutOfBounds> {
        let src = self.range(addr, N as u32)?;
        let mut out = [0u8; N];
        // SAFETY: `range` checked the source; `out` is a distinct host buffer.
        unsafe { core::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), N) };
        Ok(out)
    }

    /// Copies `dst.len()` bytes at guest address `addr` into `dst`.
    pub fn read_into(&self, addr: u32, dst: &mut [u8]) -> Result<(), OutOfBounds> {
        let len = u32::try_from(dst.len()).map_err(|_| OutOfBounds)?;
        let src = self.range(addr, len)?;
        // SAFETY: `range` checked the source; `dst` is a distinct host buffer.
        unsafe { core::ptr::copy_nonoverlapping(src, dst.as_mut_ptr(), dst.len()) };
        Ok(())
    }

    /// Reads a little-endian `u32`.
    pub fn read_u32(&self, addr: u32) -> Result<u32, OutOfBounds> {
        self.read::<4>(addr).map(u32::from_le_bytes)
    }

    /// Writes a little-endian `u32`.
    pub fn write_u32(&self, addr: u32, value: u32) -> Result<(), OutOfBounds> {
        self.write(addr, &value.to_le_bytes())
    }

    /// Writes a little-endian `u64`.
    pub fn write_u64(&self, addr: u32, value: u64) -> Result<(), OutOfBounds> {
        self.write(addr, &value.to_le_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accesses_are_checked_at_both_ends() {
        let mut bytes = [0u8; 16];
        let memory = GuestMemory::from_slice(&mut bytes);
        memory.write_u32(12, 0xdead_beef).unwrap();
        assert_eq!(memory.read_u32(12), Ok(0xdead_beef));
        assert_eq!(memory.write_u32(13, 1), Err(OutOfBounds));
        assert_eq!(memory.range(u32::MAX, 2), Err(OutOfBounds));
        assert!(memory.range(16, 0).is_ok());
        assert_eq!(memory.range(17, 0), Err(OutOfBounds));
    }
}
