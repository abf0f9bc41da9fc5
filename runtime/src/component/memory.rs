//! A component instance's linear memory and `realloc`, as `wafer_canon` lifts and
//! lowers through them: the memory and `realloc` of a set of canonical options (their
//! `wafer_abi::wasi_p2::CanonContext`).

use wafer_canon::{Memory, Trap};

use crate::guest::GuestMemory;
use crate::memory::VMMemoryDefinition;

/// The canonical options context, as the compiler lays it out (the fields the
/// component harness reads).
#[repr(C)]
#[derive(Debug)]
pub struct OptionsContext {
    memory: *const VMMemoryDefinition,
    realloc: Option<unsafe extern "C" fn(u32, u32, u32, u32) -> u32>,
    handles: *mut u8,
    trap: u32,
    encoding: u32,
}

const _: () = {
    let layout = wafer_abi::wasi_p2::CanonContext::new(core::mem::size_of::<usize>() as u8);
    assert!(core::mem::offset_of!(OptionsContext, memory) == layout.memory() as usize);
    assert!(core::mem::offset_of!(OptionsContext, realloc) == layout.realloc() as usize);
    assert!(core::mem::offset_of!(OptionsContext, encoding) == layout.encoding() as usize);
    assert!(core::mem::size_of::<OptionsContext>() == layout.size() as usize);
};

/// The memory and `realloc` of a set of canonical options.
pub struct OptionsMemory {
    context: *const OptionsContext,
}

impl OptionsMemory {
    /// # Safety
    /// `context` must be a canonical options context the compiler emitted.
    pub unsafe fn new(context: *const OptionsContext) -> OptionsMemory {
        OptionsMemory { context }
    }

    /// The string encoding, as `wafer_abi::wasi_p2` numbers them.
    pub fn encoding(&self) -> u32 {
        // SAFETY: the context is the compiler's static data (see `new`).
        unsafe { (*self.context).encoding }
    }

    /// The memory as it is now (`realloc` may grow it).
    fn guest(&self) -> GuestMemory {
        // SAFETY: the context's memory pointer is null or a live definition.
        unsafe { GuestMemory::from_definition((*self.context).memory) }
    }
}

impl Memory for OptionsMemory {
    fn size(&self) -> u64 {
        // SAFETY: as in `guest`.
        let memory = unsafe { (*self.context).memory };
        if memory.is_null() {
            return 0;
        }
        // SAFETY: a live definition.
        unsafe { (*memory).current_length as u64 }
    }

    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Trap> {
        let addr = u32::try_from(addr).map_err(|_| Trap::PointerOutOfBounds)?;
        self.guest()
            .read_into(addr, buf)
            .map_err(|_| Trap::PointerOutOfBounds)
    }

    fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Trap> {
        let addr = u32::try_from(addr).map_err(|_| Trap::PointerOutOfBounds)?;
        self.guest()
            .write(addr, bytes)
            .map_err(|_| Trap::PointerOutOfBounds)
    }

    fn realloc(
        &mut self,
        old_ptr: u64,
        old_size: u64,
        align: u64,
        new_size: u64,
    ) -> Result<u64, Trap> {
        // SAFETY: the context is the compiler's static data.
        let Some(realloc) = (unsafe { (*self.context).realloc }) else {
            // Validation requires a `realloc` wherever lowering allocates.
            return Err(Trap::Host);
        };
        let narrow = |value: u64| u32::try_from(value).map_err(|_| Trap::Host);
        let (old_ptr, old_size, align, new_size) = (
            narrow(old_ptr)?,
            narrow(old_size)?,
            narrow(align)?,
            narrow(new_size)?,
        );
        // SAFETY: the compiler generated `realloc` as a C-convention wrapper of the
        // instance's `realloc` function; calling it is what lowering a value into the
        // instance does. A trap in it ends the whole call.
        Ok(u64::from(unsafe {
            realloc(old_ptr, old_size, align, new_size)
        }))
    }
}
