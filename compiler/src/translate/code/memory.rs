//! Loads, stores and the memory instructions (size, grow, bulk operations).

use cranelift_codegen::ir::{InstBuilder, Type, Value, types};
use wafer_abi::trap::TrapKind;
use wasmparser::MemArg;

use super::{CodeTranslator, Output, heap_flags};
use crate::error::Result;
use crate::translate::env::{iconst_bits, low_bits};

impl<'f> CodeTranslator<'_, 'f, '_> {
    pub(super) fn is_memory64(&self, memory: u32) -> bool {
        self.env.module().memories[memory as usize].ty.memory64
    }

    /// A store of the top value, narrowed to `ty` bytes when `narrow` is set.
    pub(super) fn store(&mut self, memarg: MemArg, size: u32, narrow: bool) -> Output {
        let memory = self.memory_of(&memarg)?;
        let flags = heap_flags(self.builder.func);
        let (index, value) = self.pop2();
        let (addr, offset) = self
            .env
            .store_addr(self.builder, memory, index, memarg.offset, size);
        if let Some(constant) = narrow.then(|| self.narrow_constant(value, size)).flatten() {
            // A full-width store of a narrow constant: x64 stores it as an immediate,
            // where `istore8` of a constant first moves it into a register.
            self.builder.ins().store(flags, constant, addr, offset);
        } else if narrow {
            match size {
                1 => self.builder.ins().istore8(flags, value, addr, offset),
                2 => self.builder.ins().istore16(flags, value, addr, offset),
                _ => self.builder.ins().istore32(flags, value, addr, offset),
            };
        } else {
            self.builder.ins().store(flags, value, addr, offset);
        }
        Ok(())
    }

    /// `value` as a constant of `size` bytes, if it is an `iconst`.
    fn narrow_constant(&mut self, value: Value, size: u32) -> Option<Value> {
        let bits = iconst_bits(&self.builder.func.dfg, value)?;
        let ty = Type::int_with_byte_size(u16::try_from(size).ok()?)?;
        // Narrow stores are of 1, 2 or 4 bytes.
        Some(self.builder.ins().iconst(ty, low_bits(bits, size * 8)))
    }

    /// A load of `ty` from memory; `extend` widens a narrower `ty` to the result type.
    pub(super) fn load(
        &mut self,
        memarg: MemArg,
        ty: Type,
        extend: Option<(Type, bool)>,
    ) -> Output {
        let memory = self.memory_of(&memarg)?;
        let flags = heap_flags(self.builder.func);
        let index = self.pop();
        let (addr, offset) =
            self.env
                .memory_addr(self.builder, memory, index, memarg.offset, ty.bytes());
        let value = match extend {
            None => self.builder.ins().load(ty, flags, addr, offset),
            Some((result, true)) => match ty {
                types::I8 => self.builder.ins().sload8(result, flags, addr, offset),
                types::I16 => self.builder.ins().sload16(result, flags, addr, offset),
                _ => self.builder.ins().sload32(flags, addr, offset),
            },
            Some((result, false)) => match ty {
                types::I8 => self.builder.ins().uload8(result, flags, addr, offset),
                types::I16 => self.builder.ins().uload16(result, flags, addr, offset),
                _ => self.builder.ins().uload32(flags, addr, offset),
            },
        };
        self.push(value);
        Ok(())
    }

    /// The memory a `MemArg` addresses.
    pub(super) fn memory_of(&self, memarg: &MemArg) -> Result<u32> {
        match memarg.target {
            wasmparser::MemArgTarget::Memory(index) => Ok(index),
            wasmparser::MemArgTarget::Array(_) => {
                Err(self.unsupported("memory access to a GC array"))
            }
        }
    }

    pub(super) fn translate_memory_size(&mut self, mem: u32) -> Output {
        let len = self.env.memory_length(self.builder, mem);
        let pages = match self.env.module().memories[mem as usize].page_size_log2() {
            0 => len,
            shift => self.builder.ins().ushr_imm_u(len, shift as i64),
        };
        let is_64 = self.is_memory64(mem);
        let pages = self.narrow_to_index_type(pages, is_64);
        self.push(pages);
        Ok(())
    }

    pub(super) fn translate_memory_grow(&mut self, mem: u32) -> Output {
        let delta = self.pop();
        let delta = self.env.extend_to_pointer(self.builder, delta);
        let ptr = self.env.pointer_type();
        let def = self.env.memory_def(self.builder, mem);
        let grow = self.env.menv.symbols.libcalls.memory_grow;
        let page_size_log2 = self.env.module().memories[mem as usize].page_size_log2();
        let page_size_log2 = self.builder.ins().iconst(types::I32, page_size_log2 as i64);
        let result = self.env.call_libcall(
            self.builder,
            grow,
            &[ptr, types::I64, types::I32],
            &[types::I64],
            &[def, delta, page_size_log2],
        )[0];
        let is_64 = self.is_memory64(mem);
        let result = self.narrow_to_index_type(result, is_64);
        self.push(result);
        Ok(())
    }

    pub(super) fn translate_memory_init(&mut self, data_index: u32, mem: u32) -> Output {
        let (dst, src, len) = self.pop3();
        let ptr = self.env.pointer_type();
        let dst = self.env.extend_to_pointer(self.builder, dst);
        let src = self.env.extend_to_pointer(self.builder, src);
        let len = self.env.extend_to_pointer(self.builder, len);
        let offsets = self.env.menv.offsets;
        let seg_len = self.segment_len(offsets.data_segment_len(data_index));
        self.env
            .check_range(self.builder, src, len, seg_len, TrapKind::MemoryOutOfBounds);
        let mem_len = self.env.memory_length(self.builder, mem);
        self.env
            .check_range(self.builder, dst, len, mem_len, TrapKind::MemoryOutOfBounds);
        let base = self.env.memory_base(self.builder, mem);
        let dst_addr = self.builder.ins().iadd(base, dst);
        let segment = self.env.menv.symbols.data_segments[data_index as usize];
        let seg_base = self.env.data_addr(self.builder, segment);
        let src_addr = self.builder.ins().iadd(seg_base, src);
        let memcpy = self.env.menv.symbols.libcalls.memcpy;
        self.env.call_libcall(
            self.builder,
            memcpy,
            &[ptr, ptr, ptr],
            &[ptr],
            &[dst_addr, src_addr, len],
        );
        Ok(())
    }

    pub(super) fn translate_data_drop(&mut self, data_index: u32) -> Output {
        let offset = self.env.menv.offsets.data_segment_len(data_index);
        self.drop_segment(offset);
        Ok(())
    }

    pub(super) fn translate_memory_copy(&mut self, dst_mem: u32, src_mem: u32) -> Output {
        let (dst, src, len) = self.pop3();
        let ptr = self.env.pointer_type();
        let dst = self.env.extend_to_pointer(self.builder, dst);
        let src = self.env.extend_to_pointer(self.builder, src);
        let len = self.env.extend_to_pointer(self.builder, len);
        let src_len = self.env.memory_length(self.builder, src_mem);
        self.env
            .check_range(self.builder, src, len, src_len, TrapKind::MemoryOutOfBounds);
        let dst_len = self.env.memory_length(self.builder, dst_mem);
        self.env
            .check_range(self.builder, dst, len, dst_len, TrapKind::MemoryOutOfBounds);
        let dst_base = self.env.memory_base(self.builder, dst_mem);
        let src_base = self.env.memory_base(self.builder, src_mem);
        let dst_addr = self.builder.ins().iadd(dst_base, dst);
        let src_addr = self.builder.ins().iadd(src_base, src);
        let memmove = self.env.menv.symbols.libcalls.memmove;
        self.env.call_libcall(
            self.builder,
            memmove,
            &[ptr, ptr, ptr],
            &[ptr],
            &[dst_addr, src_addr, len],
        );
        Ok(())
    }

    pub(super) fn translate_memory_fill(&mut self, mem: u32) -> Output {
        let (dst, value, len) = self.pop3();
        let ptr = self.env.pointer_type();
        let dst = self.env.extend_to_pointer(self.builder, dst);
        let len = self.env.extend_to_pointer(self.builder, len);
        let mem_len = self.env.memory_length(self.builder, mem);
        self.env
            .check_range(self.builder, dst, len, mem_len, TrapKind::MemoryOutOfBounds);
        let base = self.env.memory_base(self.builder, mem);
        let dst_addr = self.builder.ins().iadd(base, dst);
        let memset = self.env.menv.symbols.libcalls.memset;
        self.env.call_libcall(
            self.builder,
            memset,
            &[ptr, types::I32, ptr],
            &[ptr],
            &[dst_addr, value, len],
        );
        Ok(())
    }
}
