//! Constants, splats, lane access and byte permutations.

use cranelift_codegen::ir::{
    ConstantData, InstBuilder, Type, Value,
    types::{I8X16, I32},
};
use wasmparser::V128;

use super::super::{CodeTranslator, Output};

impl CodeTranslator<'_, '_, '_> {
    /// `v128.const`: the immediate's bytes are the lanes in little-endian order.
    pub(super) fn vector_const(&mut self, value: V128) -> Output {
        let bytes = ConstantData::from(&value.bytes()[..]);
        let constant = self.builder.func.dfg.constants.insert(bytes);
        let v = self.builder.ins().vconst(I8X16, constant);
        self.push_vector(v);
        Ok(())
    }

    /// `T.splat`: the scalar operand (an `i32` for 8- and 16-bit lanes, which keep its low
    /// bits) copied to every lane of `ty`.
    pub(super) fn splat(&mut self, ty: Type) -> Output {
        let x = self.pop();
        let x = self.narrow_to_lane(ty, x);
        let v = self.builder.ins().splat(ty, x);
        self.push_vector(v);
        Ok(())
    }

    /// `T.extract_lane[_s|_u]`: lane `lane` of `ty`; 8- and 16-bit lanes are extended to
    /// `i32`, signed if `signed`.
    pub(super) fn extract_lane(&mut self, ty: Type, lane: u8, signed: bool) -> Output {
        let v = self.pop_vector(ty);
        let x = self.builder.ins().extractlane(v, lane);
        let x = match ty.lane_bits() {
            8 | 16 if signed => self.builder.ins().sextend(I32, x),
            8 | 16 => self.builder.ins().uextend(I32, x),
            _ => x,
        };
        self.push(x);
        Ok(())
    }

    /// `T.replace_lane`: lane `lane` of `ty` replaced by the scalar operand.
    pub(super) fn replace_lane(&mut self, ty: Type, lane: u8) -> Output {
        let x = self.pop();
        let v = self.pop_vector(ty);
        let x = self.narrow_to_lane(ty, x);
        let r = self.builder.ins().insertlane(v, x, lane);
        self.push_vector(r);
        Ok(())
    }

    /// The scalar operand of a splat or lane replacement as a lane of `ty`: `i32` operands
    /// of 8- and 16-bit lanes are wrapped.
    fn narrow_to_lane(&mut self, ty: Type, x: Value) -> Value {
        let lane = ty.lane_type();
        if lane.is_int() && lane.bits() < 32 {
            self.builder.ins().ireduce(lane, x)
        } else {
            x
        }
    }

    /// `i8x16.shuffle`: byte `i` of the result is byte `lanes[i]` of the 32-byte
    /// concatenation of the operands (validation guarantees `lanes[i] < 32`). Cranelift
    /// picks the instructions from the mask's pattern (unpack, pshufd, blend, pshufb...).
    pub(super) fn shuffle(&mut self, lanes: [u8; 16]) -> Output {
        let (a, b) = self.pop2_vectors(I8X16);
        let mask = self
            .builder
            .func
            .dfg
            .immediates
            .push(ConstantData::from(&lanes[..]));
        let r = self.builder.ins().shuffle(a, b, mask);
        self.push_vector(r);
        Ok(())
    }
}
