//! Tables, element segments and references.

use cranelift_codegen::ir::{InstBuilder, Value, types};
use wafer_abi::trap::TrapKind;
use wasmparser::HeapType;

use super::{CodeTranslator, Output};
use crate::translate::env::{trap_code, vm_flags};

impl<'f> CodeTranslator<'_, 'f, '_> {
    pub(super) fn drop_segment(&mut self, offset: u32) {
        let vmctx = self.env.vmctx();
        let zero = self.builder.ins().iconst(types::I32, 0);
        self.builder
            .ins()
            .store(vm_flags(), zero, vmctx, offset as i32);
    }

    pub(super) fn segment_len(&mut self, offset: u32) -> Value {
        let vmctx = self.env.vmctx();
        let len = self
            .builder
            .ins()
            .load(types::I32, vm_flags(), vmctx, offset as i32);
        let ptr = self.env.pointer_type();
        self.builder.ins().uextend(ptr, len)
    }

    /// Pointer-sized `value * pointer size`.
    pub(super) fn scale_to_slots(&mut self, value: Value) -> Value {
        let bytes = self.env.pointer_type().bytes() as i64;
        self.builder.ins().imul_imm_u(value, bytes)
    }

    pub(super) fn is_table64(&self, table: u32) -> bool {
        self.env.module().tables[table as usize].ty.table64
    }

    pub(super) fn translate_table_init(&mut self, elem_index: u32, table: u32) -> Output {
        let (dst, src, len) = self.pop3();
        let ptr = self.env.pointer_type();
        let dst = self.env.extend_to_pointer(self.builder, dst);
        let src = self.env.extend_to_pointer(self.builder, src);
        let len = self.env.extend_to_pointer(self.builder, len);
        let offsets = self.env.menv.offsets;
        let seg_len = self.segment_len(offsets.elem_segment_len(elem_index));
        self.env
            .check_range(self.builder, src, len, seg_len, TrapKind::TableOutOfBounds);
        let table_len = self.env.table_length(self.builder, table);
        self.env.check_range(
            self.builder,
            dst,
            len,
            table_len,
            TrapKind::TableOutOfBounds,
        );
        let base = self.env.table_base(self.builder, table);
        let dst_bytes = self.scale_to_slots(dst);
        let dst_addr = self.builder.ins().iadd(base, dst_bytes);
        let segment = self.env.menv.symbols.elem_segments[elem_index as usize];
        let seg_base = self.env.data_addr(self.builder, segment);
        let src_bytes = self.scale_to_slots(src);
        let src_addr = self.builder.ins().iadd(seg_base, src_bytes);
        let bytes = self.scale_to_slots(len);
        let memcpy = self.env.menv.symbols.libcalls.memcpy;
        self.env.call_libcall(
            self.builder,
            memcpy,
            &[ptr, ptr, ptr],
            &[ptr],
            &[dst_addr, src_addr, bytes],
        );
        Ok(())
    }

    pub(super) fn translate_elem_drop(&mut self, elem_index: u32) -> Output {
        let offset = self.env.menv.offsets.elem_segment_len(elem_index);
        self.drop_segment(offset);
        Ok(())
    }

    pub(super) fn translate_table_copy(&mut self, dst_table: u32, src_table: u32) -> Output {
        let (dst, src, len) = self.pop3();
        let ptr = self.env.pointer_type();
        let dst = self.env.extend_to_pointer(self.builder, dst);
        let src = self.env.extend_to_pointer(self.builder, src);
        let len = self.env.extend_to_pointer(self.builder, len);
        let src_len = self.env.table_length(self.builder, src_table);
        self.env
            .check_range(self.builder, src, len, src_len, TrapKind::TableOutOfBounds);
        let dst_len = self.env.table_length(self.builder, dst_table);
        self.env
            .check_range(self.builder, dst, len, dst_len, TrapKind::TableOutOfBounds);
        let dst_base = self.env.table_base(self.builder, dst_table);
        let src_base = self.env.table_base(self.builder, src_table);
        let dst_bytes = self.scale_to_slots(dst);
        let src_bytes = self.scale_to_slots(src);
        let dst_addr = self.builder.ins().iadd(dst_base, dst_bytes);
        let src_addr = self.builder.ins().iadd(src_base, src_bytes);
        let bytes = self.scale_to_slots(len);
        let memmove = self.env.menv.symbols.libcalls.memmove;
        self.env.call_libcall(
            self.builder,
            memmove,
            &[ptr, ptr, ptr],
            &[ptr],
            &[dst_addr, src_addr, bytes],
        );
        Ok(())
    }

    pub(super) fn translate_table_fill(&mut self, table: u32) -> Output {
        let (dst, value, len) = self.pop3();
        let ptr = self.env.pointer_type();
        let dst = self.env.extend_to_pointer(self.builder, dst);
        let len = self.env.extend_to_pointer(self.builder, len);
        let table_len = self.env.table_length(self.builder, table);
        self.env.check_range(
            self.builder,
            dst,
            len,
            table_len,
            TrapKind::TableOutOfBounds,
        );
        let base = self.env.table_base(self.builder, table);
        let dst_bytes = self.scale_to_slots(dst);
        let dst_addr = self.builder.ins().iadd(base, dst_bytes);
        let fill = self.env.menv.symbols.libcalls.fill_ptrs;
        self.env.call_libcall(
            self.builder,
            fill,
            &[ptr, ptr, ptr],
            &[],
            &[dst_addr, value, len],
        );
        Ok(())
    }

    pub(super) fn translate_table_get(&mut self, table: u32) -> Output {
        let index = self.pop();
        let slot =
            self.env
                .table_element_addr(self.builder, table, index, TrapKind::TableOutOfBounds);
        let ptr = self.env.pointer_type();
        let value = self.builder.ins().load(ptr, vm_flags(), slot, 0);
        self.push(value);
        Ok(())
    }

    pub(super) fn translate_table_set(&mut self, table: u32) -> Output {
        let (index, value) = self.pop2();
        let slot =
            self.env
                .table_element_addr(self.builder, table, index, TrapKind::TableOutOfBounds);
        self.builder.ins().store(vm_flags(), value, slot, 0);
        Ok(())
    }

    pub(super) fn translate_table_grow(&mut self, table: u32) -> Output {
        let (init, delta) = self.pop2();
        let ptr = self.env.pointer_type();
        let delta = self.env.extend_to_pointer(self.builder, delta);
        let def = self.env.table_def(self.builder, table);
        let grow = self.env.menv.symbols.libcalls.table_grow;
        let result = self.env.call_libcall(
            self.builder,
            grow,
            &[ptr, types::I64, ptr],
            &[types::I64],
            &[def, delta, init],
        )[0];
        let is_64 = self.is_table64(table);
        let result = self.narrow_to_index_type(result, is_64);
        self.push(result);
        Ok(())
    }

    pub(super) fn translate_table_size(&mut self, table: u32) -> Output {
        let len = self.env.table_length(self.builder, table);
        let is_64 = self.is_table64(table);
        let len = self.narrow_to_index_type(len, is_64);
        self.push(len);
        Ok(())
    }

    pub(super) fn translate_ref_null(&mut self, _hty: HeapType) -> Output {
        let ptr = self.env.pointer_type();
        let null = self.builder.ins().iconst(ptr, 0);
        self.push(null);
        Ok(())
    }

    pub(super) fn translate_ref_func(&mut self, function_index: u32) -> Output {
        let addr = self.func_ref_addr(function_index)?;
        self.push(addr);
        Ok(())
    }

    pub(super) fn translate_ref_as_non_null(&mut self) -> Output {
        let value = *self.stack.last().expect("validated operand");
        self.builder
            .ins()
            .trapz(value, trap_code(TrapKind::NullReference));
        Ok(())
    }
}
