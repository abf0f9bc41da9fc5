//! Integer lane operators: comparisons, shifts, reductions to a scalar (`any_true`,
//! `all_true`, `bitmask`) and widening (extend, extmul, extadd_pairwise, dot).

use cranelift_codegen::ir::{
    InstBuilder, Type, Value,
    condcodes::IntCC,
    types::{I8X16, I16X8, I32},
};
use cranelift_frontend::FunctionBuilder;

use super::super::{CodeTranslator, Output};

/// Which half of a vector a widening operator reads.
#[derive(Clone, Copy)]
pub(super) enum Half {
    Low,
    High,
}

/// Whether lanes are widened with their sign or with zeros.
#[derive(Clone, Copy)]
pub(super) enum Ext {
    Signed,
    Unsigned,
}

/// The lanes of one `half` of `x`, widened to twice their width.
fn widen(builder: &mut FunctionBuilder<'_>, x: Value, half: Half, ext: Ext) -> Value {
    match (half, ext) {
        (Half::Low, Ext::Signed) => builder.ins().swiden_low(x),
        (Half::High, Ext::Signed) => builder.ins().swiden_high(x),
        (Half::Low, Ext::Unsigned) => builder.ins().uwiden_low(x),
        (Half::High, Ext::Unsigned) => builder.ins().uwiden_high(x),
    }
}

impl<'f> CodeTranslator<'_, 'f, '_> {
    /// `T.eq`, `T.lt_s`, ...: lanes of `ty` compared; each result lane is all ones if the
    /// comparison holds and zero otherwise.
    pub(super) fn vector_icmp(&mut self, ty: Type, cc: IntCC) -> Output {
        self.vector_binop(ty, |b, x, y| b.ins().icmp(cc, x, y))
    }

    /// `T.shl`, `T.shr_s`, `T.shr_u`: lanes of `ty` shifted by the `i32` operand. Cranelift
    /// masks the amount to the lane width, which is wasm's `amount mod lane bits`.
    pub(super) fn vector_shift(
        &mut self,
        ty: Type,
        f: impl FnOnce(&mut FunctionBuilder<'f>, Value, Value) -> Value,
    ) -> Output {
        let amount = self.pop();
        let v = self.pop_vector(ty);
        let r = f(self.builder, v, amount);
        self.push_vector(r);
        Ok(())
    }

    /// `v128.any_true`: 1 if any bit is set.
    pub(super) fn any_true(&mut self) -> Output {
        self.vector_reduce(I8X16, |b, v| {
            let r = b.ins().vany_true(v);
            b.ins().uextend(I32, r)
        })
    }

    /// `T.all_true`: 1 if every lane of `ty` is non-zero.
    pub(super) fn all_true(&mut self, ty: Type) -> Output {
        self.vector_reduce(ty, |b, v| {
            let r = b.ins().vall_true(v);
            b.ins().uextend(I32, r)
        })
    }

    /// `T.bitmask`: bit `i` of the `i32` result is the top bit of lane `i` of `ty`.
    pub(super) fn bitmask(&mut self, ty: Type) -> Output {
        self.vector_reduce(ty, |b, v| b.ins().vhigh_bits(I32, v))
    }

    /// `T.extend_{low,high}_S_{s,u}`: one half of the lanes of `from`, widened.
    pub(super) fn extend(&mut self, from: Type, half: Half, ext: Ext) -> Output {
        self.vector_unop(from, |b, x| widen(b, x, half, ext))
    }

    /// `T.extmul_{low,high}_S_{s,u}`: one half of the lanes of both operands (of type
    /// `from`), widened and multiplied (the product always fits).
    pub(super) fn extmul(&mut self, from: Type, half: Half, ext: Ext) -> Output {
        self.vector_binop(from, |b, x, y| {
            let x = widen(b, x, half, ext);
            let y = widen(b, y, half, ext);
            b.ins().imul(x, y)
        })
    }

    /// `T.extadd_pairwise_S_{s,u}`: sums of adjacent lanes of `from`, widened.
    pub(super) fn extadd_pairwise(&mut self, from: Type, ext: Ext) -> Output {
        self.vector_unop(from, |b, x| {
            let low = widen(b, x, Half::Low, ext);
            let high = widen(b, x, Half::High, ext);
            b.ins().iadd_pairwise(low, high)
        })
    }

    /// `i32x4.dot_i16x8_s`: sums of adjacent products of signed 16-bit lanes (wrapping in
    /// the one case that overflows, all four lanes -32768, as wasm does).
    pub(super) fn dot_i16x8_s(&mut self) -> Output {
        self.vector_binop(I16X8, |b, x, y| {
            let x_low = widen(b, x, Half::Low, Ext::Signed);
            let y_low = widen(b, y, Half::Low, Ext::Signed);
            let low = b.ins().imul(x_low, y_low);
            let x_high = widen(b, x, Half::High, Ext::Signed);
            let y_high = widen(b, y, Half::High, Ext::Signed);
            let high = b.ins().imul(x_high, y_high);
            b.ins().iadd_pairwise(low, high)
        })
    }
}
