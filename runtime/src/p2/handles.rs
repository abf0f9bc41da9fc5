//! Resource handle tables: one per component instance, a header the compiler emits
//! zeroed (`wafer_abi::wasi_p2::CanonContext::handle_table_size`) over slots the runtime
//! reserves on first use and commits as the table grows.
//!
//! A handle is a slot's index plus one (0 is never a handle). A slot records the
//! resource type and the representation (a guest resource's `i32`, or up to 64 bits of
//! host state, such as a timer's deadline); free slots form a list through their `rep`,
//! so the most recently freed handle is reused first.

use wafer_abi::trap::TrapKind;

/// The most handles one table holds (16 MiB of address space, committed as used).
const MAX_HANDLES: u32 = 1 << 20;

/// One slot.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// The resource type, 0 when free.
    ty: u32,
    /// When free, the next free handle (0: none).
    next_free: u32,
    /// The representation.
    rep: u64,
}

/// A component instance's handle table (the compiler zero-initialises it).
#[repr(C)]
#[derive(Debug)]
pub struct HandleTable {
    slots: *mut Slot,
    /// Slots ever used.
    len: u32,
    /// Slots committed.
    capacity: u32,
    /// The first free handle, 0 when none.
    free: u32,
    reserved: u32,
}

const _: () = assert!(
    core::mem::size_of::<HandleTable>()
        <= wafer_abi::wasi_p2::CanonContext::new(core::mem::size_of::<usize>() as u8)
            .handle_table_size() as usize
);

impl HandleTable {
    /// A new own handle for a resource of type `ty` with representation `rep`.
    pub fn insert(&mut self, ty: u32, rep: u64) -> Result<u32, TrapKind> {
        let index = if self.free != 0 {
            let index = self.free - 1;
            self.free = self.slot(index).next_free;
            index
        } else {
            if self.len == self.capacity {
                self.grow()?;
            }
            self.len += 1;
            self.len - 1
        };
        self.set(
            index,
            Slot {
                ty,
                next_free: 0,
                rep,
            },
        );
        Ok(index + 1)
    }

    /// The representation behind `handle`, which must hold a resource of type `ty`.
    pub fn get(&self, handle: u32, ty: u32) -> Result<u64, TrapKind> {
        let index = handle.wrapping_sub(1);
        if index >= self.len {
            return Err(TrapKind::InvalidHandle);
        }
        let slot = self.slot(index);
        if slot.ty != ty || ty == 0 {
            return Err(TrapKind::InvalidHandle);
        }
        Ok(slot.rep)
    }

    /// Removes `handle`, which must hold a resource of type `ty`; returns its
    /// representation.
    pub fn remove(&mut self, handle: u32, ty: u32) -> Result<u64, TrapKind> {
        let rep = self.get(handle, ty)?;
        self.set(
            handle - 1,
            Slot {
                ty: 0,
                next_free: self.free,
                rep: 0,
            },
        );
        self.free = handle;
        Ok(rep)
    }

    fn slot(&self, index: u32) -> Slot {
        // SAFETY: `index < len <= capacity`, and the first `capacity` slots are committed
        // memory of this table that no reference points into.
        unsafe { *self.slots.add(index as usize) }
    }

    fn set(&mut self, index: u32, slot: Slot) {
        // SAFETY: as in `slot`; callers pass indices below `len`.
        unsafe { *self.slots.add(index as usize) = slot };
    }

    /// Commits another page of slots, reserving the table's address space first (all
    /// of [`MAX_HANDLES`] where address space is plentiful, less on a board).
    fn grow(&mut self) -> Result<(), TrapKind> {
        use crate::sys::{Current, Platform};
        let slot_size = core::mem::size_of::<Slot>();
        let page = Current::page_size();
        if self.slots.is_null() {
            match Current::reserve_growable(page, MAX_HANDLES as usize * slot_size) {
                Some((base, bytes)) => {
                    self.slots = base as *mut Slot;
                    self.reserved = (bytes / slot_size) as u32;
                }
                None => crate::fatal(b"cannot reserve memory for a handle table"),
            }
        }
        let added = (page / slot_size) as u32;
        if self.capacity + added > self.reserved.min(MAX_HANDLES) {
            return Err(TrapKind::HandleTableFull);
        }
        let at = self.slots.wrapping_add(self.capacity as usize) as *mut u8;
        // SAFETY: the range lies inside the table's reservation, past every slot in use.
        if !unsafe { Current::commit(at, page) } {
            crate::fatal(b"cannot commit memory for a handle table");
        }
        self.capacity += added;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> HandleTable {
        HandleTable {
            slots: core::ptr::null_mut(),
            len: 0,
            capacity: 0,
            free: 0,
            reserved: 0,
        }
    }

    #[test]
    fn handles_start_at_one_and_check_their_type() {
        let mut table = table();
        assert_eq!(table.insert(4, 1), Ok(1));
        assert_eq!(table.insert(3, 0), Ok(2));
        assert_eq!(table.get(1, 4), Ok(1));
        assert_eq!(table.get(2, 3), Ok(0));
        assert_eq!(table.get(1, 3), Err(TrapKind::InvalidHandle));
        assert_eq!(table.get(0, 4), Err(TrapKind::InvalidHandle));
        assert_eq!(table.get(3, 4), Err(TrapKind::InvalidHandle));
        assert_eq!(table.get(u32::MAX, 4), Err(TrapKind::InvalidHandle));
    }

    #[test]
    fn dropped_handles_are_invalid_and_reused() {
        let mut table = table();
        let first = table.insert(7, 70).unwrap();
        let second = table.insert(7, 71).unwrap();
        assert_eq!(table.remove(first, 7), Ok(70));
        assert_eq!(table.remove(first, 7), Err(TrapKind::InvalidHandle));
        assert_eq!(table.get(first, 7), Err(TrapKind::InvalidHandle));
        // A free slot is not a handle of type 0 either.
        assert_eq!(table.get(first, 0), Err(TrapKind::InvalidHandle));
        assert_eq!(table.insert(8, 80), Ok(first));
        assert_eq!(table.get(second, 7), Ok(71));
    }

    #[test]
    fn tables_grow_past_a_page() {
        let mut table = table();
        for i in 0..5000 {
            assert_eq!(table.insert(1, u64::from(i) << 32), Ok(i + 1));
        }
        for i in (0..5000).step_by(7) {
            assert_eq!(table.get(i + 1, 1), Ok(u64::from(i) << 32));
        }
    }
}
