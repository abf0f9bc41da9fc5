//! One `VisitSimdOperator` method per `@simd` operator, grouped by family; the
//! relaxed-SIMD operators are generated from wasmparser's list and rejected.

use cranelift_codegen::ir::{
    InstBuilder,
    condcodes::{FloatCC, IntCC},
    types::{F32X4, F64X2, I8X16, I16X8, I32X4, I64X2},
};
use wasmparser::{MemArg, V128, VisitSimdOperator};

use super::super::{CodeTranslator, Output};
use super::integer::{Ext, Half};

/// Generates `VisitSimdOperator` methods that reject the relaxed-SIMD operators (and
/// nothing else: every `@simd` operator has its own method below).
macro_rules! reject_relaxed_simd {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        $( reject_relaxed_simd!(@one $proposal $visit $({ $($arg: $argty),* })?); )*
    };
    (@one simd $($rest:tt)*) => {};
    (@one $proposal:ident $visit:ident $({ $($arg:ident: $argty:ty),* })?) => {
        fn $visit(&mut self $($(, $arg: $argty)*)?) -> Self::Output {
            $($(let _ = $arg;)*)?
            Err(self.unsupported(concat!(
                "the ", stringify!($proposal), " proposal (", stringify!($visit), ")"
            )))
        }
    };
}

impl<'a> VisitSimdOperator<'a> for CodeTranslator<'_, '_, '_> {
    wasmparser::for_each_visit_simd_operator!(reject_relaxed_simd);

    // ---- memory ------------------------------------------------------------------

    fn visit_v128_load(&mut self, memarg: MemArg) -> Output {
        self.load(memarg, I8X16, None)
    }
    fn visit_v128_store(&mut self, memarg: MemArg) -> Output {
        self.store(memarg, 16, false)
    }
    fn visit_v128_load8x8_s(&mut self, memarg: MemArg) -> Output {
        self.load_extend(memarg, |b, p, o, flags| b.ins().sload8x8(flags, p, o))
    }
    fn visit_v128_load8x8_u(&mut self, memarg: MemArg) -> Output {
        self.load_extend(memarg, |b, p, o, flags| b.ins().uload8x8(flags, p, o))
    }
    fn visit_v128_load16x4_s(&mut self, memarg: MemArg) -> Output {
        self.load_extend(memarg, |b, p, o, flags| b.ins().sload16x4(flags, p, o))
    }
    fn visit_v128_load16x4_u(&mut self, memarg: MemArg) -> Output {
        self.load_extend(memarg, |b, p, o, flags| b.ins().uload16x4(flags, p, o))
    }
    fn visit_v128_load32x2_s(&mut self, memarg: MemArg) -> Output {
        self.load_extend(memarg, |b, p, o, flags| b.ins().sload32x2(flags, p, o))
    }
    fn visit_v128_load32x2_u(&mut self, memarg: MemArg) -> Output {
        self.load_extend(memarg, |b, p, o, flags| b.ins().uload32x2(flags, p, o))
    }
    fn visit_v128_load8_splat(&mut self, memarg: MemArg) -> Output {
        self.load_splat(memarg, I8X16)
    }
    fn visit_v128_load16_splat(&mut self, memarg: MemArg) -> Output {
        self.load_splat(memarg, I16X8)
    }
    fn visit_v128_load32_splat(&mut self, memarg: MemArg) -> Output {
        self.load_splat(memarg, I32X4)
    }
    fn visit_v128_load64_splat(&mut self, memarg: MemArg) -> Output {
        self.load_splat(memarg, I64X2)
    }
    fn visit_v128_load32_zero(&mut self, memarg: MemArg) -> Output {
        self.load_zero(memarg, I32X4)
    }
    fn visit_v128_load64_zero(&mut self, memarg: MemArg) -> Output {
        self.load_zero(memarg, I64X2)
    }
    fn visit_v128_load8_lane(&mut self, memarg: MemArg, lane: u8) -> Output {
        self.load_lane(memarg, I8X16, lane)
    }
    fn visit_v128_load16_lane(&mut self, memarg: MemArg, lane: u8) -> Output {
        self.load_lane(memarg, I16X8, lane)
    }
    fn visit_v128_load32_lane(&mut self, memarg: MemArg, lane: u8) -> Output {
        self.load_lane(memarg, I32X4, lane)
    }
    fn visit_v128_load64_lane(&mut self, memarg: MemArg, lane: u8) -> Output {
        self.load_lane(memarg, I64X2, lane)
    }
    fn visit_v128_store8_lane(&mut self, memarg: MemArg, lane: u8) -> Output {
        self.store_lane(memarg, I8X16, lane)
    }
    fn visit_v128_store16_lane(&mut self, memarg: MemArg, lane: u8) -> Output {
        self.store_lane(memarg, I16X8, lane)
    }
    fn visit_v128_store32_lane(&mut self, memarg: MemArg, lane: u8) -> Output {
        self.store_lane(memarg, I32X4, lane)
    }
    fn visit_v128_store64_lane(&mut self, memarg: MemArg, lane: u8) -> Output {
        self.store_lane(memarg, I64X2, lane)
    }

    // ---- constants, splats, lanes, permutations ----------------------------------

    fn visit_v128_const(&mut self, value: V128) -> Output {
        self.vector_const(value)
    }
    fn visit_i8x16_splat(&mut self) -> Output {
        self.splat(I8X16)
    }
    fn visit_i16x8_splat(&mut self) -> Output {
        self.splat(I16X8)
    }
    fn visit_i32x4_splat(&mut self) -> Output {
        self.splat(I32X4)
    }
    fn visit_i64x2_splat(&mut self) -> Output {
        self.splat(I64X2)
    }
    fn visit_f32x4_splat(&mut self) -> Output {
        self.splat(F32X4)
    }
    fn visit_f64x2_splat(&mut self) -> Output {
        self.splat(F64X2)
    }
    fn visit_i8x16_extract_lane_s(&mut self, lane: u8) -> Output {
        self.extract_lane(I8X16, lane, true)
    }
    fn visit_i8x16_extract_lane_u(&mut self, lane: u8) -> Output {
        self.extract_lane(I8X16, lane, false)
    }
    fn visit_i16x8_extract_lane_s(&mut self, lane: u8) -> Output {
        self.extract_lane(I16X8, lane, true)
    }
    fn visit_i16x8_extract_lane_u(&mut self, lane: u8) -> Output {
        self.extract_lane(I16X8, lane, false)
    }
    fn visit_i32x4_extract_lane(&mut self, lane: u8) -> Output {
        self.extract_lane(I32X4, lane, false)
    }
    fn visit_i64x2_extract_lane(&mut self, lane: u8) -> Output {
        self.extract_lane(I64X2, lane, false)
    }
    fn visit_f32x4_extract_lane(&mut self, lane: u8) -> Output {
        self.extract_lane(F32X4, lane, false)
    }
    fn visit_f64x2_extract_lane(&mut self, lane: u8) -> Output {
        self.extract_lane(F64X2, lane, false)
    }
    fn visit_i8x16_replace_lane(&mut self, lane: u8) -> Output {
        self.replace_lane(I8X16, lane)
    }
    fn visit_i16x8_replace_lane(&mut self, lane: u8) -> Output {
        self.replace_lane(I16X8, lane)
    }
    fn visit_i32x4_replace_lane(&mut self, lane: u8) -> Output {
        self.replace_lane(I32X4, lane)
    }
    fn visit_i64x2_replace_lane(&mut self, lane: u8) -> Output {
        self.replace_lane(I64X2, lane)
    }
    fn visit_f32x4_replace_lane(&mut self, lane: u8) -> Output {
        self.replace_lane(F32X4, lane)
    }
    fn visit_f64x2_replace_lane(&mut self, lane: u8) -> Output {
        self.replace_lane(F64X2, lane)
    }
    fn visit_i8x16_shuffle(&mut self, lanes: [u8; 16]) -> Output {
        self.shuffle(lanes)
    }
    fn visit_i8x16_swizzle(&mut self) -> Output {
        // Cranelift's `swizzle` zeroes the lanes of out-of-range indices, like wasm.
        self.vector_binop(I8X16, |b, x, s| b.ins().swizzle(x, s))
    }

    // ---- bitwise -----------------------------------------------------------------

    fn visit_v128_not(&mut self) -> Output {
        self.vector_unop(I8X16, |b, x| b.ins().bnot(x))
    }
    fn visit_v128_and(&mut self) -> Output {
        self.vector_binop(I8X16, |b, x, y| b.ins().band(x, y))
    }
    fn visit_v128_andnot(&mut self) -> Output {
        self.vector_binop(I8X16, |b, x, y| b.ins().band_not(x, y))
    }
    fn visit_v128_or(&mut self) -> Output {
        self.vector_binop(I8X16, |b, x, y| b.ins().bor(x, y))
    }
    fn visit_v128_xor(&mut self) -> Output {
        self.vector_binop(I8X16, |b, x, y| b.ins().bxor(x, y))
    }
    fn visit_v128_bitselect(&mut self) -> Output {
        // wasm: (v1 & c) | (v2 & !c); Cranelift takes the mask first.
        let c = self.pop_vector(I8X16);
        self.vector_binop(I8X16, |b, x, y| b.ins().bitselect(c, x, y))
    }
    fn visit_v128_any_true(&mut self) -> Output {
        self.any_true()
    }

    // ---- integer comparisons -----------------------------------------------------

    fn visit_i8x16_eq(&mut self) -> Output {
        self.vector_icmp(I8X16, IntCC::Equal)
    }
    fn visit_i8x16_ne(&mut self) -> Output {
        self.vector_icmp(I8X16, IntCC::NotEqual)
    }
    fn visit_i8x16_lt_s(&mut self) -> Output {
        self.vector_icmp(I8X16, IntCC::SignedLessThan)
    }
    fn visit_i8x16_lt_u(&mut self) -> Output {
        self.vector_icmp(I8X16, IntCC::UnsignedLessThan)
    }
    fn visit_i8x16_gt_s(&mut self) -> Output {
        self.vector_icmp(I8X16, IntCC::SignedGreaterThan)
    }
    fn visit_i8x16_gt_u(&mut self) -> Output {
        self.vector_icmp(I8X16, IntCC::UnsignedGreaterThan)
    }
    fn visit_i8x16_le_s(&mut self) -> Output {
        self.vector_icmp(I8X16, IntCC::SignedLessThanOrEqual)
    }
    fn visit_i8x16_le_u(&mut self) -> Output {
        self.vector_icmp(I8X16, IntCC::UnsignedLessThanOrEqual)
    }
    fn visit_i8x16_ge_s(&mut self) -> Output {
        self.vector_icmp(I8X16, IntCC::SignedGreaterThanOrEqual)
    }
    fn visit_i8x16_ge_u(&mut self) -> Output {
        self.vector_icmp(I8X16, IntCC::UnsignedGreaterThanOrEqual)
    }
    fn visit_i16x8_eq(&mut self) -> Output {
        self.vector_icmp(I16X8, IntCC::Equal)
    }
    fn visit_i16x8_ne(&mut self) -> Output {
        self.vector_icmp(I16X8, IntCC::NotEqual)
    }
    fn visit_i16x8_lt_s(&mut self) -> Output {
        self.vector_icmp(I16X8, IntCC::SignedLessThan)
    }
    fn visit_i16x8_lt_u(&mut self) -> Output {
        self.vector_icmp(I16X8, IntCC::UnsignedLessThan)
    }
    fn visit_i16x8_gt_s(&mut self) -> Output {
        self.vector_icmp(I16X8, IntCC::SignedGreaterThan)
    }
    fn visit_i16x8_gt_u(&mut self) -> Output {
        self.vector_icmp(I16X8, IntCC::UnsignedGreaterThan)
    }
    fn visit_i16x8_le_s(&mut self) -> Output {
        self.vector_icmp(I16X8, IntCC::SignedLessThanOrEqual)
    }
    fn visit_i16x8_le_u(&mut self) -> Output {
        self.vector_icmp(I16X8, IntCC::UnsignedLessThanOrEqual)
    }
    fn visit_i16x8_ge_s(&mut self) -> Output {
        self.vector_icmp(I16X8, IntCC::SignedGreaterThanOrEqual)
    }
    fn visit_i16x8_ge_u(&mut self) -> Output {
        self.vector_icmp(I16X8, IntCC::UnsignedGreaterThanOrEqual)
    }
    fn visit_i32x4_eq(&mut self) -> Output {
        self.vector_icmp(I32X4, IntCC::Equal)
    }
    fn visit_i32x4_ne(&mut self) -> Output {
        self.vector_icmp(I32X4, IntCC::NotEqual)
    }
    fn visit_i32x4_lt_s(&mut self) -> Output {
        self.vector_icmp(I32X4, IntCC::SignedLessThan)
    }
    fn visit_i32x4_lt_u(&mut self) -> Output {
        self.vector_icmp(I32X4, IntCC::UnsignedLessThan)
    }
    fn visit_i32x4_gt_s(&mut self) -> Output {
        self.vector_icmp(I32X4, IntCC::SignedGreaterThan)
    }
    fn visit_i32x4_gt_u(&mut self) -> Output {
        self.vector_icmp(I32X4, IntCC::UnsignedGreaterThan)
    }
    fn visit_i32x4_le_s(&mut self) -> Output {
        self.vector_icmp(I32X4, IntCC::SignedLessThanOrEqual)
    }
    fn visit_i32x4_le_u(&mut self) -> Output {
        self.vector_icmp(I32X4, IntCC::UnsignedLessThanOrEqual)
    }
    fn visit_i32x4_ge_s(&mut self) -> Output {
        self.vector_icmp(I32X4, IntCC::SignedGreaterThanOrEqual)
    }
    fn visit_i32x4_ge_u(&mut self) -> Output {
        self.vector_icmp(I32X4, IntCC::UnsignedGreaterThanOrEqual)
    }
    fn visit_i64x2_eq(&mut self) -> Output {
        self.vector_icmp(I64X2, IntCC::Equal)
    }
    fn visit_i64x2_ne(&mut self) -> Output {
        self.vector_icmp(I64X2, IntCC::NotEqual)
    }
    fn visit_i64x2_lt_s(&mut self) -> Output {
        self.vector_icmp(I64X2, IntCC::SignedLessThan)
    }
    fn visit_i64x2_gt_s(&mut self) -> Output {
        self.vector_icmp(I64X2, IntCC::SignedGreaterThan)
    }
    fn visit_i64x2_le_s(&mut self) -> Output {
        self.vector_icmp(I64X2, IntCC::SignedLessThanOrEqual)
    }
    fn visit_i64x2_ge_s(&mut self) -> Output {
        self.vector_icmp(I64X2, IntCC::SignedGreaterThanOrEqual)
    }

    // ---- float comparisons -------------------------------------------------------

    fn visit_f32x4_eq(&mut self) -> Output {
        self.vector_fcmp(F32X4, FloatCC::Equal)
    }
    fn visit_f32x4_ne(&mut self) -> Output {
        self.vector_fcmp(F32X4, FloatCC::NotEqual)
    }
    fn visit_f32x4_lt(&mut self) -> Output {
        self.vector_fcmp(F32X4, FloatCC::LessThan)
    }
    fn visit_f32x4_gt(&mut self) -> Output {
        self.vector_fcmp(F32X4, FloatCC::GreaterThan)
    }
    fn visit_f32x4_le(&mut self) -> Output {
        self.vector_fcmp(F32X4, FloatCC::LessThanOrEqual)
    }
    fn visit_f32x4_ge(&mut self) -> Output {
        self.vector_fcmp(F32X4, FloatCC::GreaterThanOrEqual)
    }
    fn visit_f64x2_eq(&mut self) -> Output {
        self.vector_fcmp(F64X2, FloatCC::Equal)
    }
    fn visit_f64x2_ne(&mut self) -> Output {
        self.vector_fcmp(F64X2, FloatCC::NotEqual)
    }
    fn visit_f64x2_lt(&mut self) -> Output {
        self.vector_fcmp(F64X2, FloatCC::LessThan)
    }
    fn visit_f64x2_gt(&mut self) -> Output {
        self.vector_fcmp(F64X2, FloatCC::GreaterThan)
    }
    fn visit_f64x2_le(&mut self) -> Output {
        self.vector_fcmp(F64X2, FloatCC::LessThanOrEqual)
    }
    fn visit_f64x2_ge(&mut self) -> Output {
        self.vector_fcmp(F64X2, FloatCC::GreaterThanOrEqual)
    }

    // ---- integer arithmetic ------------------------------------------------------

    fn visit_i8x16_abs(&mut self) -> Output {
        self.vector_unop(I8X16, |b, x| b.ins().iabs(x))
    }
    fn visit_i8x16_neg(&mut self) -> Output {
        self.vector_unop(I8X16, |b, x| b.ins().ineg(x))
    }
    fn visit_i8x16_popcnt(&mut self) -> Output {
        self.vector_unop(I8X16, |b, x| b.ins().popcnt(x))
    }
    fn visit_i8x16_add(&mut self) -> Output {
        self.vector_binop(I8X16, |b, x, y| b.ins().iadd(x, y))
    }
    fn visit_i8x16_add_sat_s(&mut self) -> Output {
        self.vector_binop(I8X16, |b, x, y| b.ins().sadd_sat(x, y))
    }
    fn visit_i8x16_add_sat_u(&mut self) -> Output {
        self.vector_binop(I8X16, |b, x, y| b.ins().uadd_sat(x, y))
    }
    fn visit_i8x16_sub(&mut self) -> Output {
        self.vector_binop(I8X16, |b, x, y| b.ins().isub(x, y))
    }
    fn visit_i8x16_sub_sat_s(&mut self) -> Output {
        self.vector_binop(I8X16, |b, x, y| b.ins().ssub_sat(x, y))
    }
    fn visit_i8x16_sub_sat_u(&mut self) -> Output {
        self.vector_binop(I8X16, |b, x, y| b.ins().usub_sat(x, y))
    }
    fn visit_i8x16_min_s(&mut self) -> Output {
        self.vector_binop(I8X16, |b, x, y| b.ins().smin(x, y))
    }
    fn visit_i8x16_min_u(&mut self) -> Output {
        self.vector_binop(I8X16, |b, x, y| b.ins().umin(x, y))
    }
    fn visit_i8x16_max_s(&mut self) -> Output {
        self.vector_binop(I8X16, |b, x, y| b.ins().smax(x, y))
    }
    fn visit_i8x16_max_u(&mut self) -> Output {
        self.vector_binop(I8X16, |b, x, y| b.ins().umax(x, y))
    }
    fn visit_i8x16_avgr_u(&mut self) -> Output {
        self.vector_binop(I8X16, |b, x, y| b.ins().avg_round(x, y))
    }
    fn visit_i16x8_abs(&mut self) -> Output {
        self.vector_unop(I16X8, |b, x| b.ins().iabs(x))
    }
    fn visit_i16x8_neg(&mut self) -> Output {
        self.vector_unop(I16X8, |b, x| b.ins().ineg(x))
    }
    fn visit_i16x8_add(&mut self) -> Output {
        self.vector_binop(I16X8, |b, x, y| b.ins().iadd(x, y))
    }
    fn visit_i16x8_add_sat_s(&mut self) -> Output {
        self.vector_binop(I16X8, |b, x, y| b.ins().sadd_sat(x, y))
    }
    fn visit_i16x8_add_sat_u(&mut self) -> Output {
        self.vector_binop(I16X8, |b, x, y| b.ins().uadd_sat(x, y))
    }
    fn visit_i16x8_sub(&mut self) -> Output {
        self.vector_binop(I16X8, |b, x, y| b.ins().isub(x, y))
    }
    fn visit_i16x8_sub_sat_s(&mut self) -> Output {
        self.vector_binop(I16X8, |b, x, y| b.ins().ssub_sat(x, y))
    }
    fn visit_i16x8_sub_sat_u(&mut self) -> Output {
        self.vector_binop(I16X8, |b, x, y| b.ins().usub_sat(x, y))
    }
    fn visit_i16x8_mul(&mut self) -> Output {
        self.vector_binop(I16X8, |b, x, y| b.ins().imul(x, y))
    }
    fn visit_i16x8_min_s(&mut self) -> Output {
        self.vector_binop(I16X8, |b, x, y| b.ins().smin(x, y))
    }
    fn visit_i16x8_min_u(&mut self) -> Output {
        self.vector_binop(I16X8, |b, x, y| b.ins().umin(x, y))
    }
    fn visit_i16x8_max_s(&mut self) -> Output {
        self.vector_binop(I16X8, |b, x, y| b.ins().smax(x, y))
    }
    fn visit_i16x8_max_u(&mut self) -> Output {
        self.vector_binop(I16X8, |b, x, y| b.ins().umax(x, y))
    }
    fn visit_i16x8_avgr_u(&mut self) -> Output {
        self.vector_binop(I16X8, |b, x, y| b.ins().avg_round(x, y))
    }
    fn visit_i16x8_q15mulr_sat_s(&mut self) -> Output {
        // saturate((x * y + 0x4000) >> 15): only -32768 * -32768 saturates.
        self.vector_binop(I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y))
    }
    fn visit_i32x4_abs(&mut self) -> Output {
        self.vector_unop(I32X4, |b, x| b.ins().iabs(x))
    }
    fn visit_i32x4_neg(&mut self) -> Output {
        self.vector_unop(I32X4, |b, x| b.ins().ineg(x))
    }
    fn visit_i32x4_add(&mut self) -> Output {
        self.vector_binop(I32X4, |b, x, y| b.ins().iadd(x, y))
    }
    fn visit_i32x4_sub(&mut self) -> Output {
        self.vector_binop(I32X4, |b, x, y| b.ins().isub(x, y))
    }
    fn visit_i32x4_mul(&mut self) -> Output {
        self.vector_binop(I32X4, |b, x, y| b.ins().imul(x, y))
    }
    fn visit_i32x4_min_s(&mut self) -> Output {
        self.vector_binop(I32X4, |b, x, y| b.ins().smin(x, y))
    }
    fn visit_i32x4_min_u(&mut self) -> Output {
        self.vector_binop(I32X4, |b, x, y| b.ins().umin(x, y))
    }
    fn visit_i32x4_max_s(&mut self) -> Output {
        self.vector_binop(I32X4, |b, x, y| b.ins().smax(x, y))
    }
    fn visit_i32x4_max_u(&mut self) -> Output {
        self.vector_binop(I32X4, |b, x, y| b.ins().umax(x, y))
    }
    fn visit_i32x4_dot_i16x8_s(&mut self) -> Output {
        self.dot_i16x8_s()
    }
    fn visit_i64x2_abs(&mut self) -> Output {
        self.vector_unop(I64X2, |b, x| b.ins().iabs(x))
    }
    fn visit_i64x2_neg(&mut self) -> Output {
        self.vector_unop(I64X2, |b, x| b.ins().ineg(x))
    }
    fn visit_i64x2_add(&mut self) -> Output {
        self.vector_binop(I64X2, |b, x, y| b.ins().iadd(x, y))
    }
    fn visit_i64x2_sub(&mut self) -> Output {
        self.vector_binop(I64X2, |b, x, y| b.ins().isub(x, y))
    }
    fn visit_i64x2_mul(&mut self) -> Output {
        self.vector_binop(I64X2, |b, x, y| b.ins().imul(x, y))
    }

    // ---- shifts ------------------------------------------------------------------

    fn visit_i8x16_shl(&mut self) -> Output {
        self.vector_shift(I8X16, |b, x, n| b.ins().ishl(x, n))
    }
    fn visit_i8x16_shr_s(&mut self) -> Output {
        self.vector_shift(I8X16, |b, x, n| b.ins().sshr(x, n))
    }
    fn visit_i8x16_shr_u(&mut self) -> Output {
        self.vector_shift(I8X16, |b, x, n| b.ins().ushr(x, n))
    }
    fn visit_i16x8_shl(&mut self) -> Output {
        self.vector_shift(I16X8, |b, x, n| b.ins().ishl(x, n))
    }
    fn visit_i16x8_shr_s(&mut self) -> Output {
        self.vector_shift(I16X8, |b, x, n| b.ins().sshr(x, n))
    }
    fn visit_i16x8_shr_u(&mut self) -> Output {
        self.vector_shift(I16X8, |b, x, n| b.ins().ushr(x, n))
    }
    fn visit_i32x4_shl(&mut self) -> Output {
        self.vector_shift(I32X4, |b, x, n| b.ins().ishl(x, n))
    }
    fn visit_i32x4_shr_s(&mut self) -> Output {
        self.vector_shift(I32X4, |b, x, n| b.ins().sshr(x, n))
    }
    fn visit_i32x4_shr_u(&mut self) -> Output {
        self.vector_shift(I32X4, |b, x, n| b.ins().ushr(x, n))
    }
    fn visit_i64x2_shl(&mut self) -> Output {
        self.vector_shift(I64X2, |b, x, n| b.ins().ishl(x, n))
    }
    fn visit_i64x2_shr_s(&mut self) -> Output {
        self.vector_shift(I64X2, |b, x, n| b.ins().sshr(x, n))
    }
    fn visit_i64x2_shr_u(&mut self) -> Output {
        self.vector_shift(I64X2, |b, x, n| b.ins().ushr(x, n))
    }

    // ---- reductions --------------------------------------------------------------

    fn visit_i8x16_all_true(&mut self) -> Output {
        self.all_true(I8X16)
    }
    fn visit_i16x8_all_true(&mut self) -> Output {
        self.all_true(I16X8)
    }
    fn visit_i32x4_all_true(&mut self) -> Output {
        self.all_true(I32X4)
    }
    fn visit_i64x2_all_true(&mut self) -> Output {
        self.all_true(I64X2)
    }
    fn visit_i8x16_bitmask(&mut self) -> Output {
        self.bitmask(I8X16)
    }
    fn visit_i16x8_bitmask(&mut self) -> Output {
        self.bitmask(I16X8)
    }
    fn visit_i32x4_bitmask(&mut self) -> Output {
        self.bitmask(I32X4)
    }
    fn visit_i64x2_bitmask(&mut self) -> Output {
        self.bitmask(I64X2)
    }

    // ---- narrowing and widening --------------------------------------------------

    fn visit_i8x16_narrow_i16x8_s(&mut self) -> Output {
        self.vector_binop(I16X8, |b, x, y| b.ins().snarrow(x, y))
    }
    fn visit_i8x16_narrow_i16x8_u(&mut self) -> Output {
        // Lanes are read as signed and saturated to [0, 255], as wasm specifies.
        self.vector_binop(I16X8, |b, x, y| b.ins().unarrow(x, y))
    }
    fn visit_i16x8_narrow_i32x4_s(&mut self) -> Output {
        self.vector_binop(I32X4, |b, x, y| b.ins().snarrow(x, y))
    }
    fn visit_i16x8_narrow_i32x4_u(&mut self) -> Output {
        self.vector_binop(I32X4, |b, x, y| b.ins().unarrow(x, y))
    }
    fn visit_i16x8_extend_low_i8x16_s(&mut self) -> Output {
        self.extend(I8X16, Half::Low, Ext::Signed)
    }
    fn visit_i16x8_extend_high_i8x16_s(&mut self) -> Output {
        self.extend(I8X16, Half::High, Ext::Signed)
    }
    fn visit_i16x8_extend_low_i8x16_u(&mut self) -> Output {
        self.extend(I8X16, Half::Low, Ext::Unsigned)
    }
    fn visit_i16x8_extend_high_i8x16_u(&mut self) -> Output {
        self.extend(I8X16, Half::High, Ext::Unsigned)
    }
    fn visit_i32x4_extend_low_i16x8_s(&mut self) -> Output {
        self.extend(I16X8, Half::Low, Ext::Signed)
    }
    fn visit_i32x4_extend_high_i16x8_s(&mut self) -> Output {
        self.extend(I16X8, Half::High, Ext::Signed)
    }
    fn visit_i32x4_extend_low_i16x8_u(&mut self) -> Output {
        self.extend(I16X8, Half::Low, Ext::Unsigned)
    }
    fn visit_i32x4_extend_high_i16x8_u(&mut self) -> Output {
        self.extend(I16X8, Half::High, Ext::Unsigned)
    }
    fn visit_i64x2_extend_low_i32x4_s(&mut self) -> Output {
        self.extend(I32X4, Half::Low, Ext::Signed)
    }
    fn visit_i64x2_extend_high_i32x4_s(&mut self) -> Output {
        self.extend(I32X4, Half::High, Ext::Signed)
    }
    fn visit_i64x2_extend_low_i32x4_u(&mut self) -> Output {
        self.extend(I32X4, Half::Low, Ext::Unsigned)
    }
    fn visit_i64x2_extend_high_i32x4_u(&mut self) -> Output {
        self.extend(I32X4, Half::High, Ext::Unsigned)
    }
    fn visit_i16x8_extmul_low_i8x16_s(&mut self) -> Output {
        self.extmul(I8X16, Half::Low, Ext::Signed)
    }
    fn visit_i16x8_extmul_high_i8x16_s(&mut self) -> Output {
        self.extmul(I8X16, Half::High, Ext::Signed)
    }
    fn visit_i16x8_extmul_low_i8x16_u(&mut self) -> Output {
        self.extmul(I8X16, Half::Low, Ext::Unsigned)
    }
    fn visit_i16x8_extmul_high_i8x16_u(&mut self) -> Output {
        self.extmul(I8X16, Half::High, Ext::Unsigned)
    }
    fn visit_i32x4_extmul_low_i16x8_s(&mut self) -> Output {
        self.extmul(I16X8, Half::Low, Ext::Signed)
    }
    fn visit_i32x4_extmul_high_i16x8_s(&mut self) -> Output {
        self.extmul(I16X8, Half::High, Ext::Signed)
    }
    fn visit_i32x4_extmul_low_i16x8_u(&mut self) -> Output {
        self.extmul(I16X8, Half::Low, Ext::Unsigned)
    }
    fn visit_i32x4_extmul_high_i16x8_u(&mut self) -> Output {
        self.extmul(I16X8, Half::High, Ext::Unsigned)
    }
    fn visit_i64x2_extmul_low_i32x4_s(&mut self) -> Output {
        self.extmul(I32X4, Half::Low, Ext::Signed)
    }
    fn visit_i64x2_extmul_high_i32x4_s(&mut self) -> Output {
        self.extmul(I32X4, Half::High, Ext::Signed)
    }
    fn visit_i64x2_extmul_low_i32x4_u(&mut self) -> Output {
        self.extmul(I32X4, Half::Low, Ext::Unsigned)
    }
    fn visit_i64x2_extmul_high_i32x4_u(&mut self) -> Output {
        self.extmul(I32X4, Half::High, Ext::Unsigned)
    }
    fn visit_i16x8_extadd_pairwise_i8x16_s(&mut self) -> Output {
        self.extadd_pairwise(I8X16, Ext::Signed)
    }
    fn visit_i16x8_extadd_pairwise_i8x16_u(&mut self) -> Output {
        self.extadd_pairwise(I8X16, Ext::Unsigned)
    }
    fn visit_i32x4_extadd_pairwise_i16x8_s(&mut self) -> Output {
        self.extadd_pairwise(I16X8, Ext::Signed)
    }
    fn visit_i32x4_extadd_pairwise_i16x8_u(&mut self) -> Output {
        self.extadd_pairwise(I16X8, Ext::Unsigned)
    }

    // ---- float arithmetic --------------------------------------------------------

    fn visit_f32x4_abs(&mut self) -> Output {
        self.vector_unop(F32X4, |b, x| b.ins().fabs(x))
    }
    fn visit_f32x4_neg(&mut self) -> Output {
        self.vector_unop(F32X4, |b, x| b.ins().fneg(x))
    }
    fn visit_f32x4_sqrt(&mut self) -> Output {
        self.vector_unop(F32X4, |b, x| b.ins().sqrt(x))
    }
    fn visit_f32x4_ceil(&mut self) -> Output {
        self.vector_unop(F32X4, |b, x| b.ins().ceil(x))
    }
    fn visit_f32x4_floor(&mut self) -> Output {
        self.vector_unop(F32X4, |b, x| b.ins().floor(x))
    }
    fn visit_f32x4_trunc(&mut self) -> Output {
        self.vector_unop(F32X4, |b, x| b.ins().trunc(x))
    }
    fn visit_f32x4_nearest(&mut self) -> Output {
        self.vector_unop(F32X4, |b, x| b.ins().nearest(x))
    }
    fn visit_f32x4_add(&mut self) -> Output {
        self.vector_binop(F32X4, |b, x, y| b.ins().fadd(x, y))
    }
    fn visit_f32x4_sub(&mut self) -> Output {
        self.vector_binop(F32X4, |b, x, y| b.ins().fsub(x, y))
    }
    fn visit_f32x4_mul(&mut self) -> Output {
        self.vector_binop(F32X4, |b, x, y| b.ins().fmul(x, y))
    }
    fn visit_f32x4_div(&mut self) -> Output {
        self.vector_binop(F32X4, |b, x, y| b.ins().fdiv(x, y))
    }
    fn visit_f32x4_min(&mut self) -> Output {
        // Cranelift's `fmin` is wasm's: NaN-propagating, -0 below +0.
        self.vector_binop(F32X4, |b, x, y| b.ins().fmin(x, y))
    }
    fn visit_f32x4_max(&mut self) -> Output {
        self.vector_binop(F32X4, |b, x, y| b.ins().fmax(x, y))
    }
    fn visit_f32x4_pmin(&mut self) -> Output {
        self.pseudo_min(F32X4)
    }
    fn visit_f32x4_pmax(&mut self) -> Output {
        self.pseudo_max(F32X4)
    }
    fn visit_f64x2_abs(&mut self) -> Output {
        self.vector_unop(F64X2, |b, x| b.ins().fabs(x))
    }
    fn visit_f64x2_neg(&mut self) -> Output {
        self.vector_unop(F64X2, |b, x| b.ins().fneg(x))
    }
    fn visit_f64x2_sqrt(&mut self) -> Output {
        self.vector_unop(F64X2, |b, x| b.ins().sqrt(x))
    }
    fn visit_f64x2_ceil(&mut self) -> Output {
        self.vector_unop(F64X2, |b, x| b.ins().ceil(x))
    }
    fn visit_f64x2_floor(&mut self) -> Output {
        self.vector_unop(F64X2, |b, x| b.ins().floor(x))
    }
    fn visit_f64x2_trunc(&mut self) -> Output {
        self.vector_unop(F64X2, |b, x| b.ins().trunc(x))
    }
    fn visit_f64x2_nearest(&mut self) -> Output {
        self.vector_unop(F64X2, |b, x| b.ins().nearest(x))
    }
    fn visit_f64x2_add(&mut self) -> Output {
        self.vector_binop(F64X2, |b, x, y| b.ins().fadd(x, y))
    }
    fn visit_f64x2_sub(&mut self) -> Output {
        self.vector_binop(F64X2, |b, x, y| b.ins().fsub(x, y))
    }
    fn visit_f64x2_mul(&mut self) -> Output {
        self.vector_binop(F64X2, |b, x, y| b.ins().fmul(x, y))
    }
    fn visit_f64x2_div(&mut self) -> Output {
        self.vector_binop(F64X2, |b, x, y| b.ins().fdiv(x, y))
    }
    fn visit_f64x2_min(&mut self) -> Output {
        self.vector_binop(F64X2, |b, x, y| b.ins().fmin(x, y))
    }
    fn visit_f64x2_max(&mut self) -> Output {
        self.vector_binop(F64X2, |b, x, y| b.ins().fmax(x, y))
    }
    fn visit_f64x2_pmin(&mut self) -> Output {
        self.pseudo_min(F64X2)
    }
    fn visit_f64x2_pmax(&mut self) -> Output {
        self.pseudo_max(F64X2)
    }

    // ---- conversions -------------------------------------------------------------

    fn visit_i32x4_trunc_sat_f32x4_s(&mut self) -> Output {
        self.vector_unop(F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x))
    }
    fn visit_i32x4_trunc_sat_f32x4_u(&mut self) -> Output {
        self.vector_unop(F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x))
    }
    fn visit_i32x4_trunc_sat_f64x2_s_zero(&mut self) -> Output {
        self.trunc_sat_zero(true)
    }
    fn visit_i32x4_trunc_sat_f64x2_u_zero(&mut self) -> Output {
        self.trunc_sat_zero(false)
    }
    fn visit_f32x4_convert_i32x4_s(&mut self) -> Output {
        self.vector_unop(I32X4, |b, x| b.ins().fcvt_from_sint(F32X4, x))
    }
    fn visit_f32x4_convert_i32x4_u(&mut self) -> Output {
        self.vector_unop(I32X4, |b, x| b.ins().fcvt_from_uint(F32X4, x))
    }
    fn visit_f64x2_convert_low_i32x4_s(&mut self) -> Output {
        self.convert_low(true)
    }
    fn visit_f64x2_convert_low_i32x4_u(&mut self) -> Output {
        self.convert_low(false)
    }
    fn visit_f32x4_demote_f64x2_zero(&mut self) -> Output {
        self.vector_unop(F64X2, |b, x| b.ins().fvdemote(x))
    }
    fn visit_f64x2_promote_low_f32x4(&mut self) -> Output {
        self.vector_unop(F32X4, |b, x| b.ins().fvpromote_low(x))
    }
}
