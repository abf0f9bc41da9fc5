//! Constant expressions: owned copies of the operators allowed in initialisers, and
//! their compile-time evaluation.

use wasmparser::{ConstExpr, HeapType, Operator};

use crate::error::{CompileError, Result};

/// One operator of a constant expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstOp {
    /// `i32.const`
    I32Const(i32),
    /// `i64.const`
    I64Const(i64),
    /// `f32.const`, as bits.
    F32Const(u32),
    /// `f64.const`, as bits.
    F64Const(u64),
    /// `v128.const`, as bits.
    V128Const(u128),
    /// `ref.null` of a function type (`true`) or another heap type (`false`).
    RefNull {
        /// Whether the null is a function reference.
        func: bool,
    },
    /// `ref.func`
    RefFunc(u32),
    /// `global.get`
    GlobalGet(u32),
    /// `i32.add`
    I32Add,
    /// `i32.sub`
    I32Sub,
    /// `i32.mul`
    I32Mul,
    /// `i64.add`
    I64Add,
    /// `i64.sub`
    I64Sub,
    /// `i64.mul`
    I64Mul,
}

/// Copies the operators of `expr` (without the final `end`).
pub fn const_ops(expr: &ConstExpr<'_>) -> Result<Vec<ConstOp>> {
    let mut reader = expr.get_operators_reader();
    let mut ops = Vec::new();
    loop {
        let offset = reader.original_position() as usize;
        let op = match reader.read()? {
            Operator::End => return Ok(ops),
            Operator::I32Const { value } => ConstOp::I32Const(value),
            Operator::I64Const { value } => ConstOp::I64Const(value),
            Operator::F32Const { value } => ConstOp::F32Const(value.bits()),
            Operator::F64Const { value } => ConstOp::F64Const(value.bits()),
            Operator::V128Const { value } => {
                ConstOp::V128Const(u128::from_le_bytes(*value.bytes()))
            }
            Operator::RefNull { hty } => ConstOp::RefNull {
                func: is_func_heap_type(hty),
            },
            Operator::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            Operator::I32Add => ConstOp::I32Add,
            Operator::I32Sub => ConstOp::I32Sub,
            Operator::I32Mul => ConstOp::I32Mul,
            Operator::I64Add => ConstOp::I64Add,
            Operator::I64Sub => ConstOp::I64Sub,
            Operator::I64Mul => ConstOp::I64Mul,
            other => {
                return Err(CompileError::unsupported_at(
                    format!("constant expression operator {other:?}"),
                    offset,
                ));
            }
        };
        ops.push(op);
    }
}

/// Whether references of this heap type are function references.
pub fn is_func_heap_type(hty: HeapType) -> bool {
    use wasmparser::AbstractHeapType::{Func, NoFunc};
    match hty {
        HeapType::Abstract { ty, .. } => matches!(ty, Func | NoFunc),
        HeapType::Concrete(_) | HeapType::Exact(_) => true,
    }
}

/// The value of a constant expression known at compile time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstValue {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, as bits.
    F32(u32),
    /// An `f64`, as bits.
    F64(u64),
    /// A `v128`, as bits.
    V128(u128),
    /// A function reference to function `index`.
    Func(u32),
    /// A null reference.
    Null,
}

/// Evaluates `ops` at compile time; `None` when the value depends on something only
/// known at instantiation (an imported global). `global` gives the compile-time value
/// of a global, if known.
pub fn eval(ops: &[ConstOp], global: impl Fn(u32) -> Option<ConstValue>) -> Option<ConstValue> {
    let mut stack: Vec<ConstValue> = Vec::with_capacity(2);
    for op in ops {
        let value = match *op {
            ConstOp::I32Const(v) => ConstValue::I32(v),
            ConstOp::I64Const(v) => ConstValue::I64(v),
            ConstOp::F32Const(v) => ConstValue::F32(v),
            ConstOp::F64Const(v) => ConstValue::F64(v),
            ConstOp::V128Const(v) => ConstValue::V128(v),
            ConstOp::RefNull { .. } => ConstValue::Null,
            ConstOp::RefFunc(f) => ConstValue::Func(f),
            ConstOp::GlobalGet(g) => global(g)?,
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let (ConstValue::I32(b), ConstValue::I32(a)) = (stack.pop()?, stack.pop()?) else {
                    return None;
                };
                ConstValue::I32(match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let (ConstValue::I64(b), ConstValue::I64(a)) = (stack.pop()?, stack.pop()?) else {
                    return None;
                };
                ConstValue::I64(match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
        };
        stack.push(value);
    }
    stack.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_constants_fold() {
        let ops = [
            ConstOp::I32Const(10),
            ConstOp::GlobalGet(0),
            ConstOp::I32Mul,
            ConstOp::I32Const(2),
            ConstOp::I32Sub,
        ];
        assert_eq!(
            eval(&ops, |_| Some(ConstValue::I32(5))),
            Some(ConstValue::I32(48))
        );
        assert_eq!(eval(&ops, |_| None), None);
        assert_eq!(
            eval(
                &[
                    ConstOp::I64Const(i64::MAX),
                    ConstOp::I64Const(1),
                    ConstOp::I64Add
                ],
                |_| None
            ),
            Some(ConstValue::I64(i64::MIN))
        );
    }
}
