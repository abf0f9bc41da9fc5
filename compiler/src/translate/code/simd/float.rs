//! Float lane operators: comparisons, pseudo-minimum and maximum, and the conversions
//! between float and integer vectors that take more than one instruction.

use cranelift_codegen::ir::{
    InstBuilder, Type,
    condcodes::FloatCC,
    types::{F64X2, I32X4, I64X2},
};

use super::super::super::zero_value;
use super::super::{CodeTranslator, Output};
use super::cast;

impl CodeTranslator<'_, '_, '_> {
    /// `T.eq`, `T.lt`, ...: lanes of `ty` compared into all-ones or zero integer lanes.
    /// Every comparison with a NaN is false except `ne`, which is true.
    pub(super) fn vector_fcmp(&mut self, ty: Type, cc: FloatCC) -> Output {
        self.vector_binop(ty, |b, x, y| b.ins().fcmp(cc, x, y))
    }

    /// `T.pmin`: `b < a ? b : a` per lane (not `fmin`: a NaN or a tie yields `a`). x86
    /// lowers exactly this shape (compare, bitcast, bitselect) to `minps`/`minpd`.
    pub(super) fn pseudo_min(&mut self, ty: Type) -> Output {
        self.vector_binop(ty, |b, x, y| {
            let lt = b.ins().fcmp(FloatCC::LessThan, y, x);
            let lt = cast(b, ty, lt);
            b.ins().bitselect(lt, y, x)
        })
    }

    /// `T.pmax`: `a < b ? b : a` per lane (not `fmax`: a NaN or a tie yields `a`); x86
    /// lowers it to `maxps`/`maxpd`.
    pub(super) fn pseudo_max(&mut self, ty: Type) -> Output {
        self.vector_binop(ty, |b, x, y| {
            let lt = b.ins().fcmp(FloatCC::LessThan, x, y);
            let lt = cast(b, ty, lt);
            b.ins().bitselect(lt, y, x)
        })
    }

    /// `f64x2.convert_low_i32x4_{s,u}`: the two low `i32` lanes converted (exactly).
    pub(super) fn convert_low(&mut self, signed: bool) -> Output {
        self.vector_unop(I32X4, |b, x| {
            if signed {
                let wide = b.ins().swiden_low(x);
                b.ins().fcvt_from_sint(F64X2, wide)
            } else {
                let wide = b.ins().uwiden_low(x);
                b.ins().fcvt_from_uint(F64X2, wide)
            }
        })
    }

    /// `i32x4.trunc_sat_f64x2_{s,u}_zero`: both `f64` lanes truncated with saturation (NaN
    /// becomes 0) into the two low `i32` lanes; the high lanes are zero.
    ///
    /// Cranelift lowers exactly this shape (a saturating conversion to `i64x2` narrowed
    /// with a zero vector) to a short sequence on x86, so keep it intact.
    pub(super) fn trunc_sat_zero(&mut self, signed: bool) -> Output {
        self.vector_unop(F64X2, |b, x| {
            let zero = zero_value(b, I64X2);
            if signed {
                let wide = b.ins().fcvt_to_sint_sat(I64X2, x);
                b.ins().snarrow(wide, zero)
            } else {
                let wide = b.ins().fcvt_to_uint_sat(I64X2, x);
                b.ins().uunarrow(wide, zero)
            }
        })
    }
}
