//! The VM context: one per instance, passed to every compiled function as its first
//! argument.
//!
//! The compiler emits each instance's VM context as a static, writable data object whose
//! initial contents (constant globals, function references, segment lengths) are fixed at
//! compile time, so instantiation does little work at start-up. Offsets depend on the
//! target's pointer width, never the host's: build a [`VmOffsets`] with the target's
//! pointer size.
//!
//! ```text
//! header            4 pointers      wasi_memory, stack_limit, reserved, reserved
//! imported memories 1 pointer each  -> VMMemoryDefinition of the exporting instance
//! defined memories  VMMemoryDefinition each (base, current_length, maximum)
//! imported tables   1 pointer each  -> VMTableDefinition
//! defined tables    VMTableDefinition each (base, current_elements, maximum)
//! imported globals  1 pointer each  -> the 16-byte global slot
//! defined globals   16 bytes each, 16-aligned (value little-endian at offset 0)
//! function refs     VMFuncRef each (code, vmctx, type_id)
//! data segments     u32 length each (0 once dropped)
//! elem segments     u32 length each (0 once dropped)
//! ```

/// Counts that determine a VM context's layout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VmCounts {
    /// Imported memories.
    pub imported_memories: u32,
    /// Memories the module defines.
    pub defined_memories: u32,
    /// Imported tables.
    pub imported_tables: u32,
    /// Tables the module defines.
    pub defined_tables: u32,
    /// Imported globals.
    pub imported_globals: u32,
    /// Globals the module defines.
    pub defined_globals: u32,
    /// Functions whose reference escapes (tables, `ref.func`, exports).
    pub func_refs: u32,
    /// Data segments.
    pub data_segments: u32,
    /// Element segments.
    pub elem_segments: u32,
}

/// Size in bytes of a global slot; large enough for a `v128`.
pub const GLOBAL_SLOT_SIZE: u32 = 16;

/// Byte offsets inside a VM context and its records, for one target pointer width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmOffsets {
    ptr: u32,
    counts: VmCounts,
    imported_memories: u32,
    defined_memories: u32,
    imported_tables: u32,
    defined_tables: u32,
    imported_globals: u32,
    defined_globals: u32,
    func_refs: u32,
    data_segments: u32,
    elem_segments: u32,
    size: u32,
}

const fn align_to(value: u32, align: u32) -> u32 {
    (value + align - 1) & !(align - 1)
}

impl VmOffsets {
    /// Number of pointer-sized slots in the header.
    pub const HEADER_SLOTS: u32 = 4;

    /// Lays out a VM context for a target whose pointers are `pointer_size` bytes (4 or 8).
    pub const fn new(pointer_size: u8, counts: VmCounts) -> Self {
        let ptr = pointer_size as u32;
        let imported_memories = Self::HEADER_SLOTS * ptr;
        let defined_memories = imported_memories + counts.imported_memories * ptr;
        let imported_tables = defined_memories + counts.defined_memories * 3 * ptr;
        let defined_tables = imported_tables + counts.imported_tables * ptr;
        let imported_globals = defined_tables + counts.defined_tables * 3 * ptr;
        let defined_globals = align_to(
            imported_globals + counts.imported_globals * ptr,
            GLOBAL_SLOT_SIZE,
        );
        let func_refs = defined_globals + counts.defined_globals * GLOBAL_SLOT_SIZE;
        let data_segments = func_refs + counts.func_refs * 3 * ptr;
        let elem_segments = data_segments + counts.data_segments * 4;
        let size = align_to(elem_segments + counts.elem_segments * 4, GLOBAL_SLOT_SIZE);
        VmOffsets {
            ptr,
            counts,
            imported_memories,
            defined_memories,
            imported_tables,
            defined_tables,
            imported_globals,
            defined_globals,
            func_refs,
            data_segments,
            elem_segments,
            size,
        }
    }

    /// The pointer size these offsets were computed for.
    pub const fn pointer_size(&self) -> u32 {
        self.ptr
    }

    /// The counts these offsets were computed for.
    pub const fn counts(&self) -> VmCounts {
        self.counts
    }

    /// Total size of the VM context in bytes (a multiple of 16).
    pub const fn size(&self) -> u32 {
        self.size
    }

    /// Alignment the VM context needs.
    pub const fn align(&self) -> u32 {
        GLOBAL_SLOT_SIZE
    }

    /// Header slot: pointer to the `VMMemoryDefinition` that WASI host functions read and
    /// write (the memory the module exports as `memory`), or null.
    pub const fn wasi_memory(&self) -> u32 {
        0
    }

    /// Header slot: the lowest address compiled code may move the stack pointer to, for
    /// the prologue stack checks of images built with them (always on targets without a
    /// guard page). Set when the instance is instantiated, from
    /// [`crate::symbols::STACK_LIMIT`]; zero (no limit) before.
    pub const fn stack_limit(&self) -> u32 {
        self.ptr
    }

    /// Slot holding a pointer to the definition of imported memory `index`.
    pub const fn imported_memory(&self, index: u32) -> u32 {
        self.imported_memories + index * self.ptr
    }

    /// The `VMMemoryDefinition` of defined memory `index`.
    pub const fn defined_memory(&self, index: u32) -> u32 {
        self.defined_memories + index * 3 * self.ptr
    }

    /// Slot holding a pointer to the definition of imported table `index`.
    pub const fn imported_table(&self, index: u32) -> u32 {
        self.imported_tables + index * self.ptr
    }

    /// The `VMTableDefinition` of defined table `index`.
    pub const fn defined_table(&self, index: u32) -> u32 {
        self.defined_tables + index * 3 * self.ptr
    }

    /// Slot holding a pointer to imported global `index`'s 16-byte slot.
    pub const fn imported_global(&self, index: u32) -> u32 {
        self.imported_globals + index * self.ptr
    }

    /// The 16-byte slot of defined global `index`.
    pub const fn defined_global(&self, index: u32) -> u32 {
        self.defined_globals + index * GLOBAL_SLOT_SIZE
    }

    /// The `VMFuncRef` with escaping-function number `index`.
    pub const fn func_ref(&self, index: u32) -> u32 {
        self.func_refs + index * 3 * self.ptr
    }

    /// The `u32` current length of data segment `index`.
    pub const fn data_segment_len(&self, index: u32) -> u32 {
        self.data_segments + index * 4
    }

    /// The `u32` current length of element segment `index`.
    pub const fn elem_segment_len(&self, index: u32) -> u32 {
        self.elem_segments + index * 4
    }

    /// `VMMemoryDefinition.base`: pointer to byte 0 of the linear memory.
    pub const fn memory_base(&self) -> u32 {
        0
    }

    /// `VMMemoryDefinition.current_length`: accessible size in bytes (pointer-sized).
    pub const fn memory_current_length(&self) -> u32 {
        self.ptr
    }

    /// `VMMemoryDefinition.maximum`: the most pages the memory may grow to
    /// (pointer-sized). A property of the memory, whoever imports it.
    pub const fn memory_maximum(&self) -> u32 {
        2 * self.ptr
    }

    /// `VMTableDefinition.base`: pointer to element 0; elements are pointer-sized
    /// (a `VMFuncRef` pointer, null for `ref.null`).
    pub const fn table_base(&self) -> u32 {
        0
    }

    /// `VMTableDefinition.current_elements` (pointer-sized).
    pub const fn table_current_elements(&self) -> u32 {
        self.ptr
    }

    /// `VMTableDefinition.maximum`: the most elements the table may grow to.
    pub const fn table_maximum(&self) -> u32 {
        2 * self.ptr
    }

    /// `VMFuncRef.code`: the function's entry, in the wasm (`tail`) calling convention.
    pub const fn func_ref_code(&self) -> u32 {
        0
    }

    /// `VMFuncRef.vmctx`: the VM context to pass when calling `code`.
    pub const fn func_ref_vmctx(&self) -> u32 {
        self.ptr
    }

    /// `VMFuncRef.type_id`: the function's canonical type number in the image (`u32`).
    pub const fn func_ref_type_id(&self) -> u32 {
        2 * self.ptr
    }

    /// Size of a `VMFuncRef`.
    pub const fn func_ref_size(&self) -> u32 {
        3 * self.ptr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_follow_each_other_and_globals_are_aligned() {
        let counts = VmCounts {
            imported_memories: 1,
            defined_memories: 2,
            imported_tables: 1,
            defined_tables: 1,
            imported_globals: 3,
            defined_globals: 2,
            func_refs: 2,
            data_segments: 3,
            elem_segments: 1,
        };
        let o = VmOffsets::new(8, counts);
        assert_eq!(o.imported_memory(0), 32);
        assert_eq!(o.defined_memory(0), 40);
        assert_eq!(o.defined_memory(1), 64);
        assert_eq!(o.imported_table(0), 88);
        assert_eq!(o.defined_table(0), 96);
        assert_eq!(o.imported_global(2), 120 + 16);
        assert_eq!(o.defined_global(0) % 16, 0);
        assert_eq!(o.defined_global(0), 144);
        assert_eq!(o.func_ref(0), 176);
        assert_eq!(o.data_segment_len(0), 224);
        assert_eq!(o.elem_segment_len(0), 236);
        assert_eq!(o.size(), 240);

        let o32 = VmOffsets::new(4, counts);
        assert_eq!(o32.defined_memory(0), 20);
        assert_eq!(o32.func_ref_size(), 12);
        assert_eq!(o32.size() % 16, 0);
    }

    #[test]
    fn empty_module_has_only_a_header() {
        let o = VmOffsets::new(8, VmCounts::default());
        assert_eq!(o.size(), 32);
    }
}
