//! Operator translation: one `VisitOperator` method per wasm operator. The methods are
//! one-liners for simple operators and delegate to the operator family's file otherwise.
//!
//! Operators of proposals wafer does not implement are generated from wasmparser's
//! operator list and report an "unsupported" error naming the proposal, so a new operator
//! in a supported proposal is a compile error here, never a silent gap.

use cranelift_codegen::ir::{
    self, InstBuilder, MemFlagsData, Type, Value,
    condcodes::{FloatCC, IntCC},
    types,
};
use cranelift_frontend::{FunctionBuilder, Variable};
use wasmparser::{BlockType, BrTable, HeapType, Ieee32, Ieee64, MemArg, ValType, VisitOperator};

mod calls;
mod control;
mod exceptions;
mod memory;
mod metering;
mod simd;
mod tables;
mod variables;

use super::control::ControlFrame;
use super::env::FuncEnv;
use crate::error::{CompileError, Result};

/// Translates the operators of one function body.
pub struct CodeTranslator<'a, 'f, 'm> {
    builder: &'a mut FunctionBuilder<'f>,
    env: &'a mut FuncEnv<'m>,
    locals: Vec<Variable>,
    stack: Vec<Value>,
    control: Vec<ControlFrame>,
    reachable: bool,
    /// Blocks opened inside unreachable code, whose `end`s are skipped.
    unreachable_depth: u32,
    offset: usize,
    /// The function being translated, then each function inlined into it that is being
    /// translated now, innermost last (to refuse recursion and bound depth).
    inline_stack: Vec<u32>,
    /// Index in `control` of the innermost function's outermost frame: a `return` there
    /// branches to it when that function is inlined.
    frame_base: usize,
    /// Wasm bytes still allowed to be inlined into this function.
    inline_budget: usize,
    /// Every function inlined so far, each once.
    inlined: Vec<u32>,
    /// The meter, in metered images (see `metering.rs`).
    meter: Option<metering::Meter>,
}

type Output = Result<()>;

use super::env::heap_flags;

impl<'a, 'f, 'm> CodeTranslator<'a, 'f, 'm> {
    /// A translator for function `func_index`, whose body is `size` bytes.
    pub fn new(
        builder: &'a mut FunctionBuilder<'f>,
        env: &'a mut FuncEnv<'m>,
        locals: Vec<Variable>,
        func_index: u32,
        size: usize,
    ) -> Self {
        CodeTranslator {
            builder,
            env,
            locals,
            stack: Vec::new(),
            control: Vec::new(),
            reachable: true,
            unreachable_depth: 0,
            offset: 0,
            inline_stack: vec![func_index],
            frame_base: 0,
            inline_budget: size + crate::translate::inline::BUDGET_BYTES,
            inlined: Vec::new(),
            meter: None,
        }
    }

    /// Translates `op` (reachable or not), counting it for the meter.
    pub fn translate_operator(&mut self, op: &wasmparser::Operator<'_>) -> Output {
        if self.reachable {
            self.meter_operator(op);
            self.visit_operator(op)
        } else {
            self.visit_unreachable(op)
        }
    }

    /// The functions inlined into this one, each once.
    pub fn take_inlined(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.inlined)
    }

    pub fn set_offset(&mut self, offset: usize) {
        self.offset = offset;
        self.builder.set_srcloc(ir::SourceLoc::new(offset as u32));
    }

    pub fn push_frame(&mut self, frame: ControlFrame) {
        self.control.push(frame);
    }

    /// The values left after the function's final `end`.
    pub fn take_results(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.stack)
    }

    fn unsupported(&self, what: &str) -> CompileError {
        CompileError::unsupported_at(what.to_string(), self.offset)
    }

    // ---- value stack -------------------------------------------------------------

    fn push(&mut self, value: Value) {
        self.stack.push(value);
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().expect("validation guarantees operands")
    }

    fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    fn unop(&mut self, f: impl FnOnce(&mut FunctionBuilder<'f>, Value) -> Value) -> Output {
        let a = self.pop();
        let r = f(self.builder, a);
        self.push(r);
        Ok(())
    }

    fn binop(&mut self, f: impl FnOnce(&mut FunctionBuilder<'f>, Value, Value) -> Value) -> Output {
        let (a, b) = self.pop2();
        let r = f(self.builder, a, b);
        self.push(r);
        Ok(())
    }

    fn icmp(&mut self, cc: IntCC) -> Output {
        let (a, b) = self.pop2();
        let r = self.builder.ins().icmp(cc, a, b);
        let r = self.builder.ins().uextend(types::I32, r);
        self.push(r);
        Ok(())
    }

    fn fcmp(&mut self, cc: FloatCC) -> Output {
        let (a, b) = self.pop2();
        let r = self.builder.ins().fcmp(cc, a, b);
        let r = self.builder.ins().uextend(types::I32, r);
        self.push(r);
        Ok(())
    }

    fn eqz(&mut self) -> Output {
        let a = self.pop();
        let r = self.builder.ins().icmp_imm_s(IntCC::Equal, a, 0);
        let r = self.builder.ins().uextend(types::I32, r);
        self.push(r);
        Ok(())
    }

    fn sign_extend(&mut self, from: Type, to: Type) -> Output {
        self.unop(|b, a| {
            let narrow = b.ins().ireduce(from, a);
            b.ins().sextend(to, narrow)
        })
    }

    fn value_type(&self, ty: ValType) -> Type {
        self.env.menv.value_type(ty)
    }

    // ---- memory ------------------------------------------------------------------

    /// Converts a pointer-sized result to the index type of a memory or table.
    fn narrow_to_index_type(&mut self, value: Value, is_64: bool) -> Value {
        if is_64 || self.env.pointer_type() == types::I32 {
            value
        } else {
            self.builder.ins().ireduce(types::I32, value)
        }
    }

    // ---- control -----------------------------------------------------------------

    /// Handles an operator in unreachable code: only the nesting of control matters.
    pub fn visit_unreachable(&mut self, op: &wasmparser::Operator<'_>) -> Output {
        use wasmparser::Operator;
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. } => {
                self.unreachable_depth += 1;
                Ok(())
            }
            Operator::Else if self.unreachable_depth == 0 => self.visit_else(),
            Operator::End if self.unreachable_depth == 0 => self.visit_end(),
            Operator::End => {
                self.unreachable_depth -= 1;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    // ---- calls -------------------------------------------------------------------

    // ---- tables and segments -----------------------------------------------------
}

/// Generates `VisitOperator` methods that reject the operators of a proposal.
macro_rules! reject_proposals {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        $( reject_proposals!(@one $proposal $visit $({ $($arg: $argty),* })?); )*
    };
    (@one mvp $($rest:tt)*) => {};
    (@one sign_extension $($rest:tt)*) => {};
    (@one saturating_float_to_int $($rest:tt)*) => {};
    (@one bulk_memory $($rest:tt)*) => {};
    (@one reference_types $($rest:tt)*) => {};
    (@one tail_call $($rest:tt)*) => {};
    (@one function_references $($rest:tt)*) => {};
    (@one exceptions $($rest:tt)*) => {};
    (@one $proposal:ident $visit:ident $({ $($arg:ident: $argty:ty),* })?) => {
        fn $visit(&mut self $($(, $arg: $argty)*)?) -> Self::Output {
            $($(let _ = $arg;)*)?
            Err(self.unsupported(concat!(
                "the ", stringify!($proposal), " proposal (", stringify!($visit), ")"
            )))
        }
    };
}

impl<'a> VisitOperator<'a> for CodeTranslator<'_, '_, '_> {
    type Output = Output;

    fn simd_visitor(
        &mut self,
    ) -> Option<&mut dyn wasmparser::VisitSimdOperator<'a, Output = Self::Output>> {
        Some(self)
    }

    wasmparser::for_each_visit_operator!(reject_proposals);

    // ---- control -----------------------------------------------------------------

    fn visit_unreachable(&mut self) -> Output {
        self.translate_unreachable()
    }

    fn visit_nop(&mut self) -> Output {
        Ok(())
    }

    fn visit_block(&mut self, blockty: BlockType) -> Output {
        self.translate_block(blockty)
    }

    fn visit_loop(&mut self, blockty: BlockType) -> Output {
        self.translate_loop(blockty)
    }

    fn visit_if(&mut self, blockty: BlockType) -> Output {
        self.translate_if(blockty)
    }

    fn visit_else(&mut self) -> Output {
        self.translate_else()
    }

    fn visit_end(&mut self) -> Output {
        self.translate_end()
    }

    fn visit_br(&mut self, relative_depth: u32) -> Output {
        self.translate_br(relative_depth)
    }

    fn visit_br_if(&mut self, relative_depth: u32) -> Output {
        self.translate_br_if(relative_depth)
    }

    fn visit_br_table(&mut self, targets: BrTable<'a>) -> Output {
        self.translate_br_table(targets)
    }

    fn visit_return(&mut self) -> Output {
        self.translate_return()
    }

    fn visit_try_table(&mut self, try_table: wasmparser::TryTable) -> Output {
        self.translate_try_table(try_table)
    }

    fn visit_throw(&mut self, tag_index: u32) -> Output {
        self.translate_throw(tag_index)
    }

    fn visit_throw_ref(&mut self) -> Output {
        self.translate_throw_ref()
    }

    fn visit_call(&mut self, function_index: u32) -> Output {
        self.direct_call(function_index, false)
    }

    fn visit_call_indirect(&mut self, type_index: u32, table_index: u32) -> Output {
        self.indirect_call(type_index, table_index, false)
    }

    fn visit_return_call(&mut self, function_index: u32) -> Output {
        self.direct_call(function_index, true)
    }

    fn visit_return_call_indirect(&mut self, type_index: u32, table_index: u32) -> Output {
        self.indirect_call(type_index, table_index, true)
    }

    fn visit_call_ref(&mut self, type_index: u32) -> Output {
        self.ref_call(type_index, false)
    }

    fn visit_return_call_ref(&mut self, type_index: u32) -> Output {
        self.ref_call(type_index, true)
    }

    fn visit_drop(&mut self) -> Output {
        self.translate_drop()
    }

    fn visit_select(&mut self) -> Output {
        self.translate_select()
    }

    fn visit_typed_select(&mut self, _ty: ValType) -> Output {
        self.visit_select()
    }

    fn visit_typed_select_multi(&mut self, tys: Vec<ValType>) -> Output {
        self.translate_typed_select_multi(tys)
    }

    // ---- variables ---------------------------------------------------------------

    fn visit_local_get(&mut self, local_index: u32) -> Output {
        self.translate_local_get(local_index)
    }

    fn visit_local_set(&mut self, local_index: u32) -> Output {
        self.translate_local_set(local_index)
    }

    fn visit_local_tee(&mut self, local_index: u32) -> Output {
        self.translate_local_tee(local_index)
    }

    fn visit_global_get(&mut self, global_index: u32) -> Output {
        self.translate_global_get(global_index)
    }

    fn visit_global_set(&mut self, global_index: u32) -> Output {
        self.translate_global_set(global_index)
    }

    // ---- memory ------------------------------------------------------------------

    fn visit_i32_load(&mut self, memarg: MemArg) -> Output {
        self.load(memarg, types::I32, None)
    }
    fn visit_i64_load(&mut self, memarg: MemArg) -> Output {
        self.load(memarg, types::I64, None)
    }
    fn visit_f32_load(&mut self, memarg: MemArg) -> Output {
        self.load(memarg, types::F32, None)
    }
    fn visit_f64_load(&mut self, memarg: MemArg) -> Output {
        self.load(memarg, types::F64, None)
    }
    fn visit_i32_load8_s(&mut self, memarg: MemArg) -> Output {
        self.load(memarg, types::I8, Some((types::I32, true)))
    }
    fn visit_i32_load8_u(&mut self, memarg: MemArg) -> Output {
        self.load(memarg, types::I8, Some((types::I32, false)))
    }
    fn visit_i32_load16_s(&mut self, memarg: MemArg) -> Output {
        self.load(memarg, types::I16, Some((types::I32, true)))
    }
    fn visit_i32_load16_u(&mut self, memarg: MemArg) -> Output {
        self.load(memarg, types::I16, Some((types::I32, false)))
    }
    fn visit_i64_load8_s(&mut self, memarg: MemArg) -> Output {
        self.load(memarg, types::I8, Some((types::I64, true)))
    }
    fn visit_i64_load8_u(&mut self, memarg: MemArg) -> Output {
        self.load(memarg, types::I8, Some((types::I64, false)))
    }
    fn visit_i64_load16_s(&mut self, memarg: MemArg) -> Output {
        self.load(memarg, types::I16, Some((types::I64, true)))
    }
    fn visit_i64_load16_u(&mut self, memarg: MemArg) -> Output {
        self.load(memarg, types::I16, Some((types::I64, false)))
    }
    fn visit_i64_load32_s(&mut self, memarg: MemArg) -> Output {
        self.load(memarg, types::I32, Some((types::I64, true)))
    }
    fn visit_i64_load32_u(&mut self, memarg: MemArg) -> Output {
        self.load(memarg, types::I32, Some((types::I64, false)))
    }
    fn visit_i32_store(&mut self, memarg: MemArg) -> Output {
        self.store(memarg, 4, false)
    }
    fn visit_i64_store(&mut self, memarg: MemArg) -> Output {
        self.store(memarg, 8, false)
    }
    fn visit_f32_store(&mut self, memarg: MemArg) -> Output {
        self.store(memarg, 4, false)
    }
    fn visit_f64_store(&mut self, memarg: MemArg) -> Output {
        self.store(memarg, 8, false)
    }
    fn visit_i32_store8(&mut self, memarg: MemArg) -> Output {
        self.store(memarg, 1, true)
    }
    fn visit_i32_store16(&mut self, memarg: MemArg) -> Output {
        self.store(memarg, 2, true)
    }
    fn visit_i64_store8(&mut self, memarg: MemArg) -> Output {
        self.store(memarg, 1, true)
    }
    fn visit_i64_store16(&mut self, memarg: MemArg) -> Output {
        self.store(memarg, 2, true)
    }
    fn visit_i64_store32(&mut self, memarg: MemArg) -> Output {
        self.store(memarg, 4, true)
    }

    fn visit_memory_size(&mut self, mem: u32) -> Output {
        self.translate_memory_size(mem)
    }

    fn visit_memory_grow(&mut self, mem: u32) -> Output {
        self.translate_memory_grow(mem)
    }

    fn visit_memory_init(&mut self, data_index: u32, mem: u32) -> Output {
        self.translate_memory_init(data_index, mem)
    }

    fn visit_data_drop(&mut self, data_index: u32) -> Output {
        self.translate_data_drop(data_index)
    }

    fn visit_memory_copy(&mut self, dst_mem: u32, src_mem: u32) -> Output {
        self.translate_memory_copy(dst_mem, src_mem)
    }

    fn visit_memory_fill(&mut self, mem: u32) -> Output {
        self.translate_memory_fill(mem)
    }

    // ---- tables ------------------------------------------------------------------

    fn visit_table_init(&mut self, elem_index: u32, table: u32) -> Output {
        self.translate_table_init(elem_index, table)
    }

    fn visit_elem_drop(&mut self, elem_index: u32) -> Output {
        self.translate_elem_drop(elem_index)
    }

    fn visit_table_copy(&mut self, dst_table: u32, src_table: u32) -> Output {
        self.translate_table_copy(dst_table, src_table)
    }

    fn visit_table_fill(&mut self, table: u32) -> Output {
        self.translate_table_fill(table)
    }

    fn visit_table_get(&mut self, table: u32) -> Output {
        self.translate_table_get(table)
    }

    fn visit_table_set(&mut self, table: u32) -> Output {
        self.translate_table_set(table)
    }

    fn visit_table_grow(&mut self, table: u32) -> Output {
        self.translate_table_grow(table)
    }

    fn visit_table_size(&mut self, table: u32) -> Output {
        self.translate_table_size(table)
    }

    // ---- references --------------------------------------------------------------

    fn visit_ref_null(&mut self, _hty: HeapType) -> Output {
        self.translate_ref_null(_hty)
    }

    fn visit_ref_is_null(&mut self) -> Output {
        self.eqz()
    }

    fn visit_ref_func(&mut self, function_index: u32) -> Output {
        self.translate_ref_func(function_index)
    }

    fn visit_ref_as_non_null(&mut self) -> Output {
        self.translate_ref_as_non_null()
    }

    fn visit_br_on_null(&mut self, relative_depth: u32) -> Output {
        self.translate_br_on_null(relative_depth)
    }

    fn visit_br_on_non_null(&mut self, relative_depth: u32) -> Output {
        self.translate_br_on_non_null(relative_depth)
    }

    // ---- constants ---------------------------------------------------------------

    fn visit_i32_const(&mut self, value: i32) -> Output {
        let v = self.builder.ins().iconst(types::I32, value as i64);
        self.push(v);
        Ok(())
    }
    fn visit_i64_const(&mut self, value: i64) -> Output {
        let v = self.builder.ins().iconst(types::I64, value);
        self.push(v);
        Ok(())
    }
    fn visit_f32_const(&mut self, value: Ieee32) -> Output {
        let v = self
            .builder
            .ins()
            .f32const(ir::immediates::Ieee32::with_bits(value.bits()));
        self.push(v);
        Ok(())
    }
    fn visit_f64_const(&mut self, value: Ieee64) -> Output {
        let v = self
            .builder
            .ins()
            .f64const(ir::immediates::Ieee64::with_bits(value.bits()));
        self.push(v);
        Ok(())
    }

    // ---- integer comparisons -----------------------------------------------------

    fn visit_i32_eqz(&mut self) -> Output {
        self.eqz()
    }
    fn visit_i32_eq(&mut self) -> Output {
        self.icmp(IntCC::Equal)
    }
    fn visit_i32_ne(&mut self) -> Output {
        self.icmp(IntCC::NotEqual)
    }
    fn visit_i32_lt_s(&mut self) -> Output {
        self.icmp(IntCC::SignedLessThan)
    }
    fn visit_i32_lt_u(&mut self) -> Output {
        self.icmp(IntCC::UnsignedLessThan)
    }
    fn visit_i32_gt_s(&mut self) -> Output {
        self.icmp(IntCC::SignedGreaterThan)
    }
    fn visit_i32_gt_u(&mut self) -> Output {
        self.icmp(IntCC::UnsignedGreaterThan)
    }
    fn visit_i32_le_s(&mut self) -> Output {
        self.icmp(IntCC::SignedLessThanOrEqual)
    }
    fn visit_i32_le_u(&mut self) -> Output {
        self.icmp(IntCC::UnsignedLessThanOrEqual)
    }
    fn visit_i32_ge_s(&mut self) -> Output {
        self.icmp(IntCC::SignedGreaterThanOrEqual)
    }
    fn visit_i32_ge_u(&mut self) -> Output {
        self.icmp(IntCC::UnsignedGreaterThanOrEqual)
    }
    fn visit_i64_eqz(&mut self) -> Output {
        self.eqz()
    }
    fn visit_i64_eq(&mut self) -> Output {
        self.icmp(IntCC::Equal)
    }
    fn visit_i64_ne(&mut self) -> Output {
        self.icmp(IntCC::NotEqual)
    }
    fn visit_i64_lt_s(&mut self) -> Output {
        self.icmp(IntCC::SignedLessThan)
    }
    fn visit_i64_lt_u(&mut self) -> Output {
        self.icmp(IntCC::UnsignedLessThan)
    }
    fn visit_i64_gt_s(&mut self) -> Output {
        self.icmp(IntCC::SignedGreaterThan)
    }
    fn visit_i64_gt_u(&mut self) -> Output {
        self.icmp(IntCC::UnsignedGreaterThan)
    }
    fn visit_i64_le_s(&mut self) -> Output {
        self.icmp(IntCC::SignedLessThanOrEqual)
    }
    fn visit_i64_le_u(&mut self) -> Output {
        self.icmp(IntCC::UnsignedLessThanOrEqual)
    }
    fn visit_i64_ge_s(&mut self) -> Output {
        self.icmp(IntCC::SignedGreaterThanOrEqual)
    }
    fn visit_i64_ge_u(&mut self) -> Output {
        self.icmp(IntCC::UnsignedGreaterThanOrEqual)
    }

    // ---- float comparisons -------------------------------------------------------

    fn visit_f32_eq(&mut self) -> Output {
        self.fcmp(FloatCC::Equal)
    }
    fn visit_f32_ne(&mut self) -> Output {
        self.fcmp(FloatCC::NotEqual)
    }
    fn visit_f32_lt(&mut self) -> Output {
        self.fcmp(FloatCC::LessThan)
    }
    fn visit_f32_gt(&mut self) -> Output {
        self.fcmp(FloatCC::GreaterThan)
    }
    fn visit_f32_le(&mut self) -> Output {
        self.fcmp(FloatCC::LessThanOrEqual)
    }
    fn visit_f32_ge(&mut self) -> Output {
        self.fcmp(FloatCC::GreaterThanOrEqual)
    }
    fn visit_f64_eq(&mut self) -> Output {
        self.fcmp(FloatCC::Equal)
    }
    fn visit_f64_ne(&mut self) -> Output {
        self.fcmp(FloatCC::NotEqual)
    }
    fn visit_f64_lt(&mut self) -> Output {
        self.fcmp(FloatCC::LessThan)
    }
    fn visit_f64_gt(&mut self) -> Output {
        self.fcmp(FloatCC::GreaterThan)
    }
    fn visit_f64_le(&mut self) -> Output {
        self.fcmp(FloatCC::LessThanOrEqual)
    }
    fn visit_f64_ge(&mut self) -> Output {
        self.fcmp(FloatCC::GreaterThanOrEqual)
    }

    // ---- integer arithmetic ------------------------------------------------------

    fn visit_i32_clz(&mut self) -> Output {
        self.unop(|b, a| b.ins().clz(a))
    }
    fn visit_i32_ctz(&mut self) -> Output {
        self.unop(|b, a| b.ins().ctz(a))
    }
    fn visit_i32_popcnt(&mut self) -> Output {
        self.unop(|b, a| b.ins().popcnt(a))
    }
    fn visit_i32_add(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().iadd(x, y))
    }
    fn visit_i32_sub(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().isub(x, y))
    }
    fn visit_i32_mul(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().imul(x, y))
    }
    fn visit_i32_div_s(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().sdiv(x, y))
    }
    fn visit_i32_div_u(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().udiv(x, y))
    }
    fn visit_i32_rem_s(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().srem(x, y))
    }
    fn visit_i32_rem_u(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().urem(x, y))
    }
    fn visit_i32_and(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().band(x, y))
    }
    fn visit_i32_or(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().bor(x, y))
    }
    fn visit_i32_xor(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().bxor(x, y))
    }
    fn visit_i32_shl(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().ishl(x, y))
    }
    fn visit_i32_shr_s(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().sshr(x, y))
    }
    fn visit_i32_shr_u(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().ushr(x, y))
    }
    fn visit_i32_rotl(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().rotl(x, y))
    }
    fn visit_i32_rotr(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().rotr(x, y))
    }
    fn visit_i64_clz(&mut self) -> Output {
        self.unop(|b, a| b.ins().clz(a))
    }
    fn visit_i64_ctz(&mut self) -> Output {
        self.unop(|b, a| b.ins().ctz(a))
    }
    fn visit_i64_popcnt(&mut self) -> Output {
        self.unop(|b, a| b.ins().popcnt(a))
    }
    fn visit_i64_add(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().iadd(x, y))
    }
    fn visit_i64_sub(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().isub(x, y))
    }
    fn visit_i64_mul(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().imul(x, y))
    }
    fn visit_i64_div_s(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().sdiv(x, y))
    }
    fn visit_i64_div_u(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().udiv(x, y))
    }
    fn visit_i64_rem_s(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().srem(x, y))
    }
    fn visit_i64_rem_u(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().urem(x, y))
    }
    fn visit_i64_and(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().band(x, y))
    }
    fn visit_i64_or(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().bor(x, y))
    }
    fn visit_i64_xor(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().bxor(x, y))
    }
    fn visit_i64_shl(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().ishl(x, y))
    }
    fn visit_i64_shr_s(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().sshr(x, y))
    }
    fn visit_i64_shr_u(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().ushr(x, y))
    }
    fn visit_i64_rotl(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().rotl(x, y))
    }
    fn visit_i64_rotr(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().rotr(x, y))
    }

    // ---- float arithmetic --------------------------------------------------------

    fn visit_f32_abs(&mut self) -> Output {
        self.unop(|b, a| b.ins().fabs(a))
    }
    fn visit_f32_neg(&mut self) -> Output {
        self.unop(|b, a| b.ins().fneg(a))
    }
    fn visit_f32_ceil(&mut self) -> Output {
        self.unop(|b, a| b.ins().ceil(a))
    }
    fn visit_f32_floor(&mut self) -> Output {
        self.unop(|b, a| b.ins().floor(a))
    }
    fn visit_f32_trunc(&mut self) -> Output {
        self.unop(|b, a| b.ins().trunc(a))
    }
    fn visit_f32_nearest(&mut self) -> Output {
        self.unop(|b, a| b.ins().nearest(a))
    }
    fn visit_f32_sqrt(&mut self) -> Output {
        self.unop(|b, a| b.ins().sqrt(a))
    }
    fn visit_f32_add(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().fadd(x, y))
    }
    fn visit_f32_sub(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().fsub(x, y))
    }
    fn visit_f32_mul(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().fmul(x, y))
    }
    fn visit_f32_div(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().fdiv(x, y))
    }
    fn visit_f32_min(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().fmin(x, y))
    }
    fn visit_f32_max(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().fmax(x, y))
    }
    fn visit_f32_copysign(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().fcopysign(x, y))
    }
    fn visit_f64_abs(&mut self) -> Output {
        self.unop(|b, a| b.ins().fabs(a))
    }
    fn visit_f64_neg(&mut self) -> Output {
        self.unop(|b, a| b.ins().fneg(a))
    }
    fn visit_f64_ceil(&mut self) -> Output {
        self.unop(|b, a| b.ins().ceil(a))
    }
    fn visit_f64_floor(&mut self) -> Output {
        self.unop(|b, a| b.ins().floor(a))
    }
    fn visit_f64_trunc(&mut self) -> Output {
        self.unop(|b, a| b.ins().trunc(a))
    }
    fn visit_f64_nearest(&mut self) -> Output {
        self.unop(|b, a| b.ins().nearest(a))
    }
    fn visit_f64_sqrt(&mut self) -> Output {
        self.unop(|b, a| b.ins().sqrt(a))
    }
    fn visit_f64_add(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().fadd(x, y))
    }
    fn visit_f64_sub(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().fsub(x, y))
    }
    fn visit_f64_mul(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().fmul(x, y))
    }
    fn visit_f64_div(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().fdiv(x, y))
    }
    fn visit_f64_min(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().fmin(x, y))
    }
    fn visit_f64_max(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().fmax(x, y))
    }
    fn visit_f64_copysign(&mut self) -> Output {
        self.binop(|b, x, y| b.ins().fcopysign(x, y))
    }

    // ---- conversions -------------------------------------------------------------

    fn visit_i32_wrap_i64(&mut self) -> Output {
        self.unop(|b, a| b.ins().ireduce(types::I32, a))
    }
    fn visit_i32_trunc_f32_s(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_sint(types::I32, a))
    }
    fn visit_i32_trunc_f32_u(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_uint(types::I32, a))
    }
    fn visit_i32_trunc_f64_s(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_sint(types::I32, a))
    }
    fn visit_i32_trunc_f64_u(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_uint(types::I32, a))
    }
    fn visit_i64_extend_i32_s(&mut self) -> Output {
        self.unop(|b, a| b.ins().sextend(types::I64, a))
    }
    fn visit_i64_extend_i32_u(&mut self) -> Output {
        self.unop(|b, a| b.ins().uextend(types::I64, a))
    }
    fn visit_i64_trunc_f32_s(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_sint(types::I64, a))
    }
    fn visit_i64_trunc_f32_u(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_uint(types::I64, a))
    }
    fn visit_i64_trunc_f64_s(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_sint(types::I64, a))
    }
    fn visit_i64_trunc_f64_u(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_uint(types::I64, a))
    }
    fn visit_f32_convert_i32_s(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_from_sint(types::F32, a))
    }
    fn visit_f32_convert_i32_u(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_from_uint(types::F32, a))
    }
    fn visit_f32_convert_i64_s(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_from_sint(types::F32, a))
    }
    fn visit_f32_convert_i64_u(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_from_uint(types::F32, a))
    }
    fn visit_f32_demote_f64(&mut self) -> Output {
        self.unop(|b, a| b.ins().fdemote(types::F32, a))
    }
    fn visit_f64_convert_i32_s(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_from_sint(types::F64, a))
    }
    fn visit_f64_convert_i32_u(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_from_uint(types::F64, a))
    }
    fn visit_f64_convert_i64_s(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_from_sint(types::F64, a))
    }
    fn visit_f64_convert_i64_u(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_from_uint(types::F64, a))
    }
    fn visit_f64_promote_f32(&mut self) -> Output {
        self.unop(|b, a| b.ins().fpromote(types::F64, a))
    }
    fn visit_i32_reinterpret_f32(&mut self) -> Output {
        self.unop(|b, a| b.ins().bitcast(types::I32, MemFlagsData::new(), a))
    }
    fn visit_i64_reinterpret_f64(&mut self) -> Output {
        self.unop(|b, a| b.ins().bitcast(types::I64, MemFlagsData::new(), a))
    }
    fn visit_f32_reinterpret_i32(&mut self) -> Output {
        self.unop(|b, a| b.ins().bitcast(types::F32, MemFlagsData::new(), a))
    }
    fn visit_f64_reinterpret_i64(&mut self) -> Output {
        self.unop(|b, a| b.ins().bitcast(types::F64, MemFlagsData::new(), a))
    }
    fn visit_i32_extend8_s(&mut self) -> Output {
        self.sign_extend(types::I8, types::I32)
    }
    fn visit_i32_extend16_s(&mut self) -> Output {
        self.sign_extend(types::I16, types::I32)
    }
    fn visit_i64_extend8_s(&mut self) -> Output {
        self.sign_extend(types::I8, types::I64)
    }
    fn visit_i64_extend16_s(&mut self) -> Output {
        self.sign_extend(types::I16, types::I64)
    }
    fn visit_i64_extend32_s(&mut self) -> Output {
        self.sign_extend(types::I32, types::I64)
    }
    fn visit_i32_trunc_sat_f32_s(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_sint_sat(types::I32, a))
    }
    fn visit_i32_trunc_sat_f32_u(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_uint_sat(types::I32, a))
    }
    fn visit_i32_trunc_sat_f64_s(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_sint_sat(types::I32, a))
    }
    fn visit_i32_trunc_sat_f64_u(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_uint_sat(types::I32, a))
    }
    fn visit_i64_trunc_sat_f32_s(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_sint_sat(types::I64, a))
    }
    fn visit_i64_trunc_sat_f32_u(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_uint_sat(types::I64, a))
    }
    fn visit_i64_trunc_sat_f64_s(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_sint_sat(types::I64, a))
    }
    fn visit_i64_trunc_sat_f64_u(&mut self) -> Output {
        self.unop(|b, a| b.ins().fcvt_to_uint_sat(types::I64, a))
    }
}
