//! `v128` loads and stores: whole vectors, extending loads, splats, zero-filling loads
//! and single-lane accesses. Each access is bounds-checked for the bytes it touches.

use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::MemArg;

use super::super::{CodeTranslator, Output, heap_flags};

impl<'f> CodeTranslator<'_, 'f, '_> {
    /// A load of `size` bytes whose vector result `f` builds from the address and the
    /// immediate offset; the address operand is on top of the stack.
    fn vector_load(
        &mut self,
        memarg: MemArg,
        size: u32,
        f: impl FnOnce(&mut FunctionBuilder<'f>, Value, i32, MemFlagsData) -> Value,
    ) -> Output {
        let memory = self.memory_of(&memarg)?;
        let flags = heap_flags(self.builder.func);
        let index = self.pop();
        let (addr, offset) = self
            .env
            .memory_addr(self.builder, memory, index, memarg.offset, size);
        let value = f(self.builder, addr, offset, flags);
        self.push_vector(value);
        Ok(())
    }

    /// `v128.load8x8_s` & co.: 8 bytes, each lane widened by `f` (`sload8x8`, ...).
    pub(super) fn load_extend(
        &mut self,
        memarg: MemArg,
        f: impl FnOnce(&mut FunctionBuilder<'f>, Value, i32, MemFlagsData) -> Value,
    ) -> Output {
        self.vector_load(memarg, 8, f)
    }

    /// `v128.loadN_splat`: one lane of `ty` loaded and copied to every lane.
    pub(super) fn load_splat(&mut self, memarg: MemArg, ty: Type) -> Output {
        let lane = ty.lane_type();
        self.vector_load(memarg, lane.bytes(), |b, addr, offset, flags| {
            let x = b.ins().load(lane, flags, addr, offset);
            b.ins().splat(ty, x)
        })
    }

    /// `v128.loadN_zero`: lane 0 of `ty` loaded, the other lanes zero.
    pub(super) fn load_zero(&mut self, memarg: MemArg, ty: Type) -> Output {
        let lane = ty.lane_type();
        self.vector_load(memarg, lane.bytes(), |b, addr, offset, flags| {
            let x = b.ins().load(lane, flags, addr, offset);
            b.ins().scalar_to_vector(ty, x)
        })
    }

    /// `v128.loadN_lane`: lane `lane` of the vector operand (viewed as `ty`) replaced by
    /// a value loaded from memory.
    pub(super) fn load_lane(&mut self, memarg: MemArg, ty: Type, lane: u8) -> Output {
        let vector = self.pop_vector(ty);
        let lane_ty = ty.lane_type();
        self.vector_load(memarg, lane_ty.bytes(), |b, addr, offset, flags| {
            let x = b.ins().load(lane_ty, flags, addr, offset);
            b.ins().insertlane(vector, x, lane)
        })
    }

    /// `v128.storeN_lane`: lane `lane` of the vector operand (viewed as `ty`) stored.
    pub(super) fn store_lane(&mut self, memarg: MemArg, ty: Type, lane: u8) -> Output {
        let memory = self.memory_of(&memarg)?;
        let flags = heap_flags(self.builder.func);
        let vector = self.pop_vector(ty);
        let index = self.pop();
        let size = ty.lane_type().bytes();
        let (addr, offset) = self
            .env
            .store_addr(self.builder, memory, index, memarg.offset, size);
        let x = self.builder.ins().extractlane(vector, lane);
        self.builder.ins().store(flags, x, addr, offset);
        Ok(())
    }
}
