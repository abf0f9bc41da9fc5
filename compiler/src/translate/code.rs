//! Operator translation: one `VisitOperator` method per wasm operator.
//!
//! Operators of proposals wafer does not implement are generated from wasmparser's
//! operator list and report an "unsupported" error naming the proposal, so a new operator
//! in a supported proposal is a compile error here, never a silent gap.

use cranelift_codegen::ir::{
    self, BlockArg, InstBuilder, MemFlagsData, Type, Value,
    condcodes::{FloatCC, IntCC},
    types,
};
use cranelift_frontend::{FunctionBuilder, Variable};
use wafer_abi::trap::TrapKind;
use wasmparser::{BlockType, BrTable, HeapType, Ieee32, Ieee64, MemArg, ValType, VisitOperator};

use super::control::{ControlFrame, FrameKind};
use super::env::{FuncEnv, ImportTarget, trap_code, vm_flags};
use crate::environ::ConstValue;
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
}

type Output = Result<()>;

fn heap_flags() -> MemFlagsData {
    MemFlagsData::new().with_endianness(ir::Endianness::Little)
}

impl<'a, 'f, 'm> CodeTranslator<'a, 'f, 'm> {
    pub fn new(
        builder: &'a mut FunctionBuilder<'f>,
        env: &'a mut FuncEnv<'m>,
        locals: Vec<Variable>,
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
        }
    }

    pub fn set_offset(&mut self, offset: usize) {
        self.offset = offset;
        self.builder.set_srcloc(ir::SourceLoc::new(offset as u32));
    }

    pub fn is_reachable(&self) -> bool {
        self.reachable
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

    /// The memory a `MemArg` addresses.
    fn memory_of(&self, memarg: &MemArg) -> Result<u32> {
        match memarg.target {
            wasmparser::MemArgTarget::Memory(index) => Ok(index),
            wasmparser::MemArgTarget::Array(_) => {
                Err(self.unsupported("memory access to a GC array"))
            }
        }
    }

    /// A load of `ty` from memory; `extend` widens a narrower `ty` to the result type.
    fn load(&mut self, memarg: MemArg, ty: Type, extend: Option<(Type, bool)>) -> Output {
        let memory = self.memory_of(&memarg)?;
        let index = self.pop();
        let (addr, offset) =
            self.env
                .memory_addr(self.builder, memory, index, memarg.offset, ty.bytes());
        let value = match extend {
            None => self.builder.ins().load(ty, heap_flags(), addr, offset),
            Some((result, true)) => match ty {
                types::I8 => self
                    .builder
                    .ins()
                    .sload8(result, heap_flags(), addr, offset),
                types::I16 => self
                    .builder
                    .ins()
                    .sload16(result, heap_flags(), addr, offset),
                _ => self.builder.ins().sload32(heap_flags(), addr, offset),
            },
            Some((result, false)) => match ty {
                types::I8 => self
                    .builder
                    .ins()
                    .uload8(result, heap_flags(), addr, offset),
                types::I16 => self
                    .builder
                    .ins()
                    .uload16(result, heap_flags(), addr, offset),
                _ => self.builder.ins().uload32(heap_flags(), addr, offset),
            },
        };
        self.push(value);
        Ok(())
    }

    /// A store of the top value, narrowed to `ty` bytes when `narrow` is set.
    fn store(&mut self, memarg: MemArg, size: u32, narrow: bool) -> Output {
        let memory = self.memory_of(&memarg)?;
        let (index, value) = self.pop2();
        let (addr, offset) = self
            .env
            .memory_addr(self.builder, memory, index, memarg.offset, size);
        if narrow {
            match size {
                1 => self
                    .builder
                    .ins()
                    .istore8(heap_flags(), value, addr, offset),
                2 => self
                    .builder
                    .ins()
                    .istore16(heap_flags(), value, addr, offset),
                _ => self
                    .builder
                    .ins()
                    .istore32(heap_flags(), value, addr, offset),
            };
        } else {
            self.builder.ins().store(heap_flags(), value, addr, offset);
        }
        Ok(())
    }

    fn is_memory64(&self, memory: u32) -> bool {
        self.env.module().memories[memory as usize].ty.memory64
    }

    fn max_pages(&self, memory: u32) -> u64 {
        let ty = &self.env.module().memories[memory as usize].ty;
        let limit = if ty.memory64 { 1u64 << 48 } else { 1u64 << 16 };
        ty.maximum.unwrap_or(limit).min(limit)
    }

    /// Converts a pointer-sized result to the index type of a memory or table.
    fn narrow_to_index_type(&mut self, value: Value, is_64: bool) -> Value {
        if is_64 || self.env.pointer_type() == types::I32 {
            value
        } else {
            self.builder.ins().ireduce(types::I32, value)
        }
    }

    // ---- control -----------------------------------------------------------------

    fn block_signature(&self, blockty: BlockType) -> Result<(Vec<Type>, Vec<Type>)> {
        match blockty {
            BlockType::Empty => Ok((vec![], vec![])),
            BlockType::Type(ty) => Ok((vec![], vec![self.value_type(ty)])),
            BlockType::FuncType(index) => {
                let sig = self.env.module().types[index as usize]
                    .as_ref()
                    .ok_or_else(|| self.unsupported("block type that is not a function type"))?;
                Ok((
                    sig.params.iter().map(|t| self.value_type(*t)).collect(),
                    sig.results.iter().map(|t| self.value_type(*t)).collect(),
                ))
            }
        }
    }

    fn new_block_with_params(&mut self, types: &[Type]) -> ir::Block {
        let block = self.builder.create_block();
        for ty in types {
            self.builder.append_block_param(block, *ty);
        }
        block
    }

    fn jump_args(values: &[Value]) -> Vec<BlockArg> {
        values.iter().map(|v| BlockArg::Value(*v)).collect()
    }

    /// The frame `depth` levels out, and the block and argument count for a branch to it;
    /// marks the frame as branched to.
    fn branch_target(&mut self, depth: u32) -> (ir::Block, usize) {
        let index = self.control.len() - 1 - depth as usize;
        let frame = &mut self.control[index];
        if frame.branch_exits() {
            frame.exit_branched_to = true;
        }
        frame.branch_target()
    }

    fn set_unreachable(&mut self) {
        self.reachable = false;
    }

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

    fn call_args(&mut self, callee_vmctx: Value, param_count: usize) -> Vec<Value> {
        let mut args = Vec::with_capacity(param_count + 1);
        args.push(callee_vmctx);
        args.extend(self.popn(param_count));
        args
    }

    fn push_call_results(&mut self, call: ir::Inst) {
        let results = self.builder.inst_results(call).to_vec();
        self.stack.extend(results);
    }

    fn direct_call(&mut self, function_index: u32, tail: bool) -> Output {
        let menv = self.env.menv;
        let module = menv.module;
        let sig = module.func_sig(function_index);
        let vmctx = self.env.vmctx();
        let args = self.call_args(vmctx, sig.params.len());
        if module.is_imported_func(function_index) {
            let ImportTarget::Host(func_id) = menv.symbols.imports[function_index as usize];
            let signature = menv.host_signature(sig);
            let func_ref = self.env.func_ref(self.builder.func, func_id, signature);
            let call = self.builder.ins().call(func_ref, &args);
            if tail {
                // A host function uses another calling convention: call, then return.
                let results = self.builder.inst_results(call).to_vec();
                self.builder.ins().return_(&results);
                self.set_unreachable();
            } else {
                self.push_call_results(call);
            }
            return Ok(());
        }
        let func_id = menv.symbols.funcs[function_index as usize];
        let signature = menv.wasm_signature(sig);
        let func_ref = self.env.func_ref(self.builder.func, func_id, signature);
        if tail {
            self.builder.ins().return_call(func_ref, &args);
            self.set_unreachable();
        } else {
            let call = self.builder.ins().call(func_ref, &args);
            self.push_call_results(call);
        }
        Ok(())
    }

    /// Loads callee code and VM context from a non-null `VMFuncRef` pointer and calls it.
    fn call_func_ref(&mut self, funcref: Value, type_index: u32, tail: bool) -> Output {
        let offsets = self.env.menv.offsets;
        let ptr = self.env.pointer_type();
        let sig_ref = self.env.wasm_sig_ref(self.builder.func, type_index)?;
        let param_count = self.env.module().types[type_index as usize]
            .as_ref()
            .map_or(0, |sig| sig.params.len());
        let code = self.builder.ins().load(
            ptr,
            vm_flags().with_readonly(),
            funcref,
            offsets.func_ref_code() as i32,
        );
        let callee_vmctx = self.builder.ins().load(
            ptr,
            vm_flags().with_readonly(),
            funcref,
            offsets.func_ref_vmctx() as i32,
        );
        let args = self.call_args(callee_vmctx, param_count);
        if tail {
            self.builder
                .ins()
                .return_call_indirect(sig_ref, code, &args);
            self.set_unreachable();
        } else {
            let call = self.builder.ins().call_indirect(sig_ref, code, &args);
            self.push_call_results(call);
        }
        Ok(())
    }

    fn indirect_call(&mut self, type_index: u32, table_index: u32, tail: bool) -> Output {
        let index = self.pop();
        let slot = self.env.table_element_addr(
            self.builder,
            table_index,
            index,
            TrapKind::UndefinedElement,
        );
        let ptr = self.env.pointer_type();
        let funcref = self.builder.ins().load(ptr, vm_flags(), slot, 0);
        self.builder
            .ins()
            .trapz(funcref, trap_code(TrapKind::UninitializedElement));
        let expected = self.env.module().canonical_types[type_index as usize];
        let actual = self.builder.ins().load(
            types::I32,
            vm_flags().with_readonly(),
            funcref,
            self.env.menv.offsets.func_ref_type_id() as i32,
        );
        let matches = self
            .builder
            .ins()
            .icmp_imm_s(IntCC::Equal, actual, expected as i64);
        self.builder
            .ins()
            .trapz(matches, trap_code(TrapKind::IndirectCallTypeMismatch));
        self.call_func_ref(funcref, type_index, tail)
    }

    fn ref_call(&mut self, type_index: u32, tail: bool) -> Output {
        let funcref = self.pop();
        self.builder
            .ins()
            .trapz(funcref, trap_code(TrapKind::NullFunctionReference));
        self.call_func_ref(funcref, type_index, tail)
    }

    /// The address of the `VMFuncRef` of function `index`.
    fn func_ref_addr(&mut self, index: u32) -> Result<Value> {
        let slot = self.env.module().func_ref_slots[index as usize].ok_or_else(|| {
            CompileError::Codegen(format!("function {index} has no reference slot"))
        })?;
        let vmctx = self.env.vmctx();
        let offset = self.env.menv.offsets.func_ref(slot);
        Ok(self.builder.ins().iadd_imm_u(vmctx, offset as i64))
    }

    // ---- tables and segments -----------------------------------------------------

    fn is_table64(&self, table: u32) -> bool {
        self.env.module().tables[table as usize].ty.table64
    }

    /// Pointer-sized `value * pointer size`.
    fn scale_to_slots(&mut self, value: Value) -> Value {
        let bytes = self.env.pointer_type().bytes() as i64;
        self.builder.ins().imul_imm_u(value, bytes)
    }

    fn segment_len(&mut self, offset: u32) -> Value {
        let vmctx = self.env.vmctx();
        let len = self
            .builder
            .ins()
            .load(types::I32, vm_flags(), vmctx, offset as i32);
        let ptr = self.env.pointer_type();
        self.builder.ins().uextend(ptr, len)
    }

    fn drop_segment(&mut self, offset: u32) {
        let vmctx = self.env.vmctx();
        let zero = self.builder.ins().iconst(types::I32, 0);
        self.builder
            .ins()
            .store(vm_flags(), zero, vmctx, offset as i32);
    }

    fn const_global(&self, index: u32) -> Option<ConstValue> {
        let module = self.env.module();
        let global = &module.globals[index as usize];
        if global.import.is_some() || global.ty.mutable {
            return None;
        }
        crate::environ::consts_eval(module, &global.init)
    }
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
    (@one $proposal:ident $visit:ident $({ $($arg:ident: $argty:ty),* })?) => {
        fn $visit(&mut self $($(, $arg: $argty)*)?) -> Self::Output {
            $($(let _ = $arg;)*)?
            Err(self.unsupported(concat!(
                "the ", stringify!($proposal), " proposal (", stringify!($visit), ")"
            )))
        }
    };
}

macro_rules! reject_simd {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        $(
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Self::Output {
                $($(let _ = $arg;)*)?
                Err(self.unsupported(concat!(
                    "the ", stringify!($proposal), " proposal (", stringify!($visit), ")"
                )))
            }
        )*
    };
}

impl<'a> wasmparser::VisitSimdOperator<'a> for CodeTranslator<'_, '_, '_> {
    wasmparser::for_each_visit_simd_operator!(reject_simd);
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
        self.builder.ins().trap(trap_code(TrapKind::Unreachable));
        self.set_unreachable();
        Ok(())
    }

    fn visit_nop(&mut self) -> Output {
        Ok(())
    }

    fn visit_block(&mut self, blockty: BlockType) -> Output {
        let (params, results) = self.block_signature(blockty)?;
        let destination = self.new_block_with_params(&results);
        let stack_height = self.stack.len() - params.len();
        self.control.push(ControlFrame {
            kind: FrameKind::Block,
            destination,
            param_types: params,
            result_types: results,
            stack_height,
            exit_branched_to: false,
            else_params: Vec::new(),
        });
        Ok(())
    }

    fn visit_loop(&mut self, blockty: BlockType) -> Output {
        let (params, results) = self.block_signature(blockty)?;
        let header = self.new_block_with_params(&params);
        let destination = self.new_block_with_params(&results);
        let args = self.popn(params.len());
        self.builder.ins().jump(header, &Self::jump_args(&args));
        self.builder.switch_to_block(header);
        let header_params = self.builder.block_params(header).to_vec();
        let stack_height = self.stack.len();
        self.stack.extend(header_params);
        self.control.push(ControlFrame {
            kind: FrameKind::Loop { header },
            destination,
            param_types: params,
            result_types: results,
            stack_height,
            exit_branched_to: false,
            else_params: Vec::new(),
        });
        Ok(())
    }

    fn visit_if(&mut self, blockty: BlockType) -> Output {
        let condition = self.pop();
        let (params, results) = self.block_signature(blockty)?;
        let then_block = self.builder.create_block();
        let else_block = self.builder.create_block();
        let destination = self.new_block_with_params(&results);
        self.builder
            .ins()
            .brif(condition, then_block, &[], else_block, &[]);
        self.builder.seal_block(then_block);
        self.builder.seal_block(else_block);
        self.builder.switch_to_block(then_block);
        let else_params = self.peekn(params.len()).to_vec();
        let stack_height = self.stack.len() - params.len();
        self.control.push(ControlFrame {
            kind: FrameKind::If {
                else_block,
                has_else: false,
                head_reachable: true,
            },
            destination,
            param_types: params,
            result_types: results,
            stack_height,
            exit_branched_to: false,
            else_params,
        });
        Ok(())
    }

    fn visit_else(&mut self) -> Output {
        let frame = self.control.last_mut().expect("validated else has an if");
        let FrameKind::If {
            else_block,
            head_reachable,
            ..
        } = frame.kind
        else {
            unreachable!("validation pairs else with if");
        };
        frame.kind = FrameKind::If {
            else_block,
            has_else: true,
            head_reachable,
        };
        let (destination, results, height) = (
            frame.destination,
            frame.result_types.len(),
            frame.stack_height,
        );
        let else_params = frame.else_params.clone();
        if self.reachable {
            let values = self.popn(results);
            self.builder
                .ins()
                .jump(destination, &Self::jump_args(&values));
            frame_mut(&mut self.control).exit_branched_to = true;
        }
        self.stack.truncate(height);
        self.stack.extend(else_params);
        self.builder.switch_to_block(else_block);
        self.reachable = head_reachable;
        Ok(())
    }

    fn visit_end(&mut self) -> Output {
        let frame = self.control.pop().expect("validated end has a frame");
        let results = frame.result_types.len();
        let mut branched_to = frame.exit_branched_to;
        if self.reachable {
            let values = self.popn(results);
            self.builder
                .ins()
                .jump(frame.destination, &Self::jump_args(&values));
            branched_to = true;
        }
        match frame.kind {
            FrameKind::Loop { header } => self.builder.seal_block(header),
            FrameKind::If {
                else_block,
                has_else: false,
                head_reachable,
            } => {
                // No `else`: the false branch passes the parameters through.
                self.builder.switch_to_block(else_block);
                self.builder
                    .ins()
                    .jump(frame.destination, &Self::jump_args(&frame.else_params));
                branched_to |= head_reachable;
            }
            _ => {}
        }
        self.stack.truncate(frame.stack_height);
        self.builder.switch_to_block(frame.destination);
        self.builder.seal_block(frame.destination);
        let params = self.builder.block_params(frame.destination).to_vec();
        self.stack.extend(params);
        self.reachable = branched_to;
        Ok(())
    }

    fn visit_br(&mut self, relative_depth: u32) -> Output {
        let (block, count) = self.branch_target(relative_depth);
        let args = self.peekn(count).to_vec();
        self.builder.ins().jump(block, &Self::jump_args(&args));
        self.set_unreachable();
        Ok(())
    }

    fn visit_br_if(&mut self, relative_depth: u32) -> Output {
        let condition = self.pop();
        let (block, count) = self.branch_target(relative_depth);
        let args = self.peekn(count).to_vec();
        let next = self.builder.create_block();
        self.builder
            .ins()
            .brif(condition, block, &Self::jump_args(&args), next, &[]);
        self.builder.seal_block(next);
        self.builder.switch_to_block(next);
        Ok(())
    }

    fn visit_br_table(&mut self, targets: BrTable<'a>) -> Output {
        let index = self.pop();
        let default_depth = targets.default();
        let depths = targets
            .targets()
            .collect::<Result<Vec<_>, _>>()
            .map_err(CompileError::from)?;
        let (_, count) = self.branch_target(default_depth);
        let args = Self::jump_args(self.peekn(count));
        let mut table = Vec::with_capacity(depths.len());
        for depth in depths {
            let (block, _) = self.branch_target(depth);
            table.push(self.builder.func.dfg.block_call(block, &args));
        }
        let (default_block, _) = self.branch_target(default_depth);
        let default = self.builder.func.dfg.block_call(default_block, &args);
        let jt = self
            .builder
            .create_jump_table(ir::JumpTableData::new(default, &table));
        self.builder.ins().br_table(index, jt);
        self.set_unreachable();
        Ok(())
    }

    fn visit_return(&mut self) -> Output {
        let count = self.control[0].result_types.len();
        let values = self.peekn(count).to_vec();
        self.builder.ins().return_(&values);
        self.set_unreachable();
        Ok(())
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
        self.pop();
        Ok(())
    }

    fn visit_select(&mut self) -> Output {
        let (a, b, c) = self.pop3();
        let r = self.builder.ins().select(c, a, b);
        self.push(r);
        Ok(())
    }

    fn visit_typed_select(&mut self, _ty: ValType) -> Output {
        self.visit_select()
    }

    fn visit_typed_select_multi(&mut self, tys: Vec<ValType>) -> Output {
        if tys.len() != 1 {
            return Err(self.unsupported("select with several result types"));
        }
        self.visit_select()
    }

    // ---- variables ---------------------------------------------------------------

    fn visit_local_get(&mut self, local_index: u32) -> Output {
        let value = self.builder.use_var(self.locals[local_index as usize]);
        self.push(value);
        Ok(())
    }

    fn visit_local_set(&mut self, local_index: u32) -> Output {
        let value = self.pop();
        self.builder
            .def_var(self.locals[local_index as usize], value);
        Ok(())
    }

    fn visit_local_tee(&mut self, local_index: u32) -> Output {
        let value = *self.stack.last().expect("validated operand");
        self.builder
            .def_var(self.locals[local_index as usize], value);
        Ok(())
    }

    fn visit_global_get(&mut self, global_index: u32) -> Output {
        let ty = self.value_type(
            self.env.module().globals[global_index as usize]
                .ty
                .content_type,
        );
        let value = match self.const_global(global_index) {
            Some(ConstValue::I32(v)) => self.builder.ins().iconst(types::I32, v as i64),
            Some(ConstValue::I64(v)) => self.builder.ins().iconst(types::I64, v),
            Some(ConstValue::F32(bits)) => self
                .builder
                .ins()
                .f32const(ir::immediates::Ieee32::with_bits(bits)),
            Some(ConstValue::F64(bits)) => self
                .builder
                .ins()
                .f64const(ir::immediates::Ieee64::with_bits(bits)),
            Some(ConstValue::Null) => self.builder.ins().iconst(ty, 0),
            _ => {
                let addr = self.env.global_addr(self.builder, global_index);
                self.builder.ins().load(ty, vm_flags(), addr, 0)
            }
        };
        self.push(value);
        Ok(())
    }

    fn visit_global_set(&mut self, global_index: u32) -> Output {
        let value = self.pop();
        let addr = self.env.global_addr(self.builder, global_index);
        self.builder.ins().store(vm_flags(), value, addr, 0);
        Ok(())
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
        let len = self.env.memory_length(self.builder, mem);
        let pages = self.builder.ins().ushr_imm_u(len, 16);
        let is_64 = self.is_memory64(mem);
        let pages = self.narrow_to_index_type(pages, is_64);
        self.push(pages);
        Ok(())
    }

    fn visit_memory_grow(&mut self, mem: u32) -> Output {
        let delta = self.pop();
        let delta = self.env.extend_to_pointer(self.builder, delta);
        let ptr = self.env.pointer_type();
        let def = self.env.memory_def(self.builder, mem);
        let max = self.max_pages(mem);
        let max = self.builder.ins().iconst(types::I64, max as i64);
        let grow = self.env.menv.symbols.libcalls.memory_grow;
        let result = self.env.call_libcall(
            self.builder,
            grow,
            &[ptr, types::I64, types::I64],
            &[types::I64],
            &[def, delta, max],
        )[0];
        let is_64 = self.is_memory64(mem);
        let result = self.narrow_to_index_type(result, is_64);
        self.push(result);
        Ok(())
    }

    fn visit_memory_init(&mut self, data_index: u32, mem: u32) -> Output {
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

    fn visit_data_drop(&mut self, data_index: u32) -> Output {
        let offset = self.env.menv.offsets.data_segment_len(data_index);
        self.drop_segment(offset);
        Ok(())
    }

    fn visit_memory_copy(&mut self, dst_mem: u32, src_mem: u32) -> Output {
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

    fn visit_memory_fill(&mut self, mem: u32) -> Output {
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

    // ---- tables ------------------------------------------------------------------

    fn visit_table_init(&mut self, elem_index: u32, table: u32) -> Output {
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

    fn visit_elem_drop(&mut self, elem_index: u32) -> Output {
        let offset = self.env.menv.offsets.elem_segment_len(elem_index);
        self.drop_segment(offset);
        Ok(())
    }

    fn visit_table_copy(&mut self, dst_table: u32, src_table: u32) -> Output {
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

    fn visit_table_fill(&mut self, table: u32) -> Output {
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

    fn visit_table_get(&mut self, table: u32) -> Output {
        let index = self.pop();
        let slot =
            self.env
                .table_element_addr(self.builder, table, index, TrapKind::TableOutOfBounds);
        let ptr = self.env.pointer_type();
        let value = self.builder.ins().load(ptr, vm_flags(), slot, 0);
        self.push(value);
        Ok(())
    }

    fn visit_table_set(&mut self, table: u32) -> Output {
        let (index, value) = self.pop2();
        let slot =
            self.env
                .table_element_addr(self.builder, table, index, TrapKind::TableOutOfBounds);
        self.builder.ins().store(vm_flags(), value, slot, 0);
        Ok(())
    }

    fn visit_table_grow(&mut self, table: u32) -> Output {
        let (init, delta) = self.pop2();
        let ptr = self.env.pointer_type();
        let delta = self.env.extend_to_pointer(self.builder, delta);
        let def = self.env.table_def(self.builder, table);
        let ty = &self.env.module().tables[table as usize].ty;
        let limit = if ty.table64 {
            u64::MAX
        } else {
            u32::MAX as u64
        };
        let max = ty.maximum.unwrap_or(limit).min(limit);
        let max = self.builder.ins().iconst(types::I64, max as i64);
        let grow = self.env.menv.symbols.libcalls.table_grow;
        let result = self.env.call_libcall(
            self.builder,
            grow,
            &[ptr, types::I64, ptr, types::I64],
            &[types::I64],
            &[def, delta, init, max],
        )[0];
        let is_64 = self.is_table64(table);
        let result = self.narrow_to_index_type(result, is_64);
        self.push(result);
        Ok(())
    }

    fn visit_table_size(&mut self, table: u32) -> Output {
        let len = self.env.table_length(self.builder, table);
        let is_64 = self.is_table64(table);
        let len = self.narrow_to_index_type(len, is_64);
        self.push(len);
        Ok(())
    }

    // ---- references --------------------------------------------------------------

    fn visit_ref_null(&mut self, _hty: HeapType) -> Output {
        let ptr = self.env.pointer_type();
        let null = self.builder.ins().iconst(ptr, 0);
        self.push(null);
        Ok(())
    }

    fn visit_ref_is_null(&mut self) -> Output {
        self.eqz()
    }

    fn visit_ref_func(&mut self, function_index: u32) -> Output {
        let addr = self.func_ref_addr(function_index)?;
        self.push(addr);
        Ok(())
    }

    fn visit_ref_as_non_null(&mut self) -> Output {
        let value = *self.stack.last().expect("validated operand");
        self.builder
            .ins()
            .trapz(value, trap_code(TrapKind::NullReference));
        Ok(())
    }

    fn visit_br_on_null(&mut self, relative_depth: u32) -> Output {
        let value = self.pop();
        let (block, count) = self.branch_target(relative_depth);
        let args = self.peekn(count).to_vec();
        let next = self.builder.create_block();
        // Branch when null (value == 0), else continue with the value.
        self.builder
            .ins()
            .brif(value, next, &[], block, &Self::jump_args(&args));
        self.builder.seal_block(next);
        self.builder.switch_to_block(next);
        self.push(value);
        Ok(())
    }

    fn visit_br_on_non_null(&mut self, relative_depth: u32) -> Output {
        let value = self.pop();
        let (block, count) = self.branch_target(relative_depth);
        // The target receives its other operands and then the non-null reference.
        let mut args = self.peekn(count - 1).to_vec();
        args.push(value);
        let next = self.builder.create_block();
        self.builder
            .ins()
            .brif(value, block, &Self::jump_args(&args), next, &[]);
        self.builder.seal_block(next);
        self.builder.switch_to_block(next);
        Ok(())
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

fn frame_mut(control: &mut [ControlFrame]) -> &mut ControlFrame {
    control.last_mut().expect("validated control stack")
}
