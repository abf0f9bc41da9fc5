//! Fixed-width SIMD (the `v128` operators of Wasm 2.0).
//!
//! Every `v128` value lives on the value stack, in locals and in block parameters as
//! `I8X16`. An operator bitcasts its operands to the lane type it works on (`I32X4`,
//! `F64X2`, ...) and bitcasts its result back to `I8X16`. Those bitcasts stay in the same
//! register and emit no code; they are little-endian, like wasm's lane numbering.
//!
//! `visit.rs` has one `VisitSimdOperator` method per operator; operators that take more
//! than one Cranelift instruction, or need a note, live with their family: `memory.rs`
//! (loads, stores, lane accesses), `lanes.rs` (constants, splats, lane access, shuffles),
//! `integer.rs` (comparisons, shifts, reductions to a scalar, widening), `float.rs`
//! (comparisons, pseudo-min/max, conversions). Relaxed-SIMD operators are rejected as
//! unsupported.
//!
//! On x86-64 without SSSE3 (the plain `x86-64` CPU preset), Cranelift lowers
//! `i8x16.swizzle` and shuffles that match no SSE2 pattern to its `X86Pshufb` library
//! call (the runtime's `wafer_rt_x86_pshufb`), and without SSE4.1 it rounds vectors
//! (`ceil`, `floor`, `trunc`, `nearest`, `i32x4.trunc_sat_f64x2_u_zero`) lane by lane
//! through the runtime's rounding functions.

use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, Type, Value, types::I8X16};
use cranelift_frontend::FunctionBuilder;

use super::{CodeTranslator, Output};

mod float;
mod integer;
mod lanes;
mod memory;
mod visit;

/// Flags of bitcasts between vector types: lanes are numbered little-endian.
fn little_endian() -> MemFlagsData {
    MemFlagsData::new().with_endianness(ir::Endianness::Little)
}

/// `value` reinterpreted as vector type `ty` (itself when it already has that type).
fn cast(builder: &mut FunctionBuilder<'_>, ty: Type, value: Value) -> Value {
    if builder.func.dfg.value_type(value) == ty {
        value
    } else {
        builder.ins().bitcast(ty, little_endian(), value)
    }
}

impl<'f> CodeTranslator<'_, 'f, '_> {
    /// Pops a `v128` operand as vector type `ty`.
    fn pop_vector(&mut self, ty: Type) -> Value {
        let value = self.pop();
        cast(self.builder, ty, value)
    }

    /// Pops two `v128` operands as vector type `ty` (the first operand first).
    fn pop2_vectors(&mut self, ty: Type) -> (Value, Value) {
        let b = self.pop_vector(ty);
        let a = self.pop_vector(ty);
        (a, b)
    }

    /// Pushes a vector result of any vector type as a `v128`.
    fn push_vector(&mut self, value: Value) {
        let value = cast(self.builder, I8X16, value);
        self.push(value);
    }

    /// A `v128` operator of one operand, computed on lane type `ty`.
    fn vector_unop(
        &mut self,
        ty: Type,
        f: impl FnOnce(&mut FunctionBuilder<'f>, Value) -> Value,
    ) -> Output {
        let a = self.pop_vector(ty);
        let r = f(self.builder, a);
        self.push_vector(r);
        Ok(())
    }

    /// A `v128` operator of two operands, computed on lane type `ty`.
    fn vector_binop(
        &mut self,
        ty: Type,
        f: impl FnOnce(&mut FunctionBuilder<'f>, Value, Value) -> Value,
    ) -> Output {
        let (a, b) = self.pop2_vectors(ty);
        let r = f(self.builder, a, b);
        self.push_vector(r);
        Ok(())
    }

    /// A `v128` operator with a scalar result (`any_true`, `all_true`, `bitmask`).
    fn vector_reduce(
        &mut self,
        ty: Type,
        f: impl FnOnce(&mut FunctionBuilder<'f>, Value) -> Value,
    ) -> Output {
        let a = self.pop_vector(ty);
        let r = f(self.builder, a);
        self.push(r);
        Ok(())
    }
}
