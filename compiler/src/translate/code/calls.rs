//! Direct, indirect, reference and tail calls.

use cranelift_codegen::ir::{self, InstBuilder, Value};
use wafer_abi::trap::TrapKind;

use wasmparser::FunctionBody;

use super::exceptions::Callee;
use super::{CodeTranslator, Output};
use crate::error::{CompileError, Result};
use crate::translate::control::{ControlFrame, FrameKind};
use crate::translate::env::{ImportTarget, ModuleEnv, trap_code, vm_flags};
use crate::translate::{inline, push_zeroed_locals};

impl<'f, 'm> CodeTranslator<'_, 'f, 'm> {
    /// The address of the `VMFuncRef` of function `index`.
    pub(super) fn func_ref_addr(&mut self, index: u32) -> Result<Value> {
        let slot = self.env.module().func_ref_slots[index as usize].ok_or_else(|| {
            CompileError::Codegen(format!("function {index} has no reference slot"))
        })?;
        let vmctx = self.env.vmctx();
        let offset = self.env.menv.offsets.func_ref(slot);
        Ok(self.builder.ins().iadd_imm_u(vmctx, offset as i64))
    }

    pub(super) fn ref_call(&mut self, type_index: u32, tail: bool) -> Output {
        let funcref = self.pop();
        self.builder
            .ins()
            .trapz(funcref, trap_code(TrapKind::NullFunctionReference));
        self.call_func_ref(funcref, type_index, tail)
    }

    pub(super) fn indirect_call(
        &mut self,
        type_index: u32,
        table_index: u32,
        tail: bool,
    ) -> Output {
        let index = self.pop();
        let expected = self.env.module().canonical_types[type_index as usize];
        let funcref = self.env.checked_func_ref(
            self.builder,
            table_index,
            index,
            expected,
            [
                TrapKind::UndefinedElement,
                TrapKind::UninitializedElement,
                TrapKind::IndirectCallTypeMismatch,
            ],
        );
        self.call_func_ref(funcref, type_index, tail)
    }

    /// Loads callee code and VM context from a non-null `VMFuncRef` pointer and calls it.
    pub(super) fn call_func_ref(&mut self, funcref: Value, type_index: u32, tail: bool) -> Output {
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
            self.meter_spill();
            self.builder
                .ins()
                .return_call_indirect(sig_ref, code, &args);
            self.set_unreachable();
        } else {
            let results = self.call_catching(Callee::Indirect(sig_ref, code), &args);
            self.stack.extend(results);
        }
        Ok(())
    }

    pub(super) fn direct_call(&mut self, function_index: u32, tail: bool) -> Output {
        if !tail && let Some((body, only_call_site)) = self.inline_body(function_index) {
            return self.inline_call(function_index, body, only_call_site);
        }
        let menv = self.env.menv;
        let module = menv.module;
        let sig = module.func_sig(function_index);
        let (func_id, callee_vmctx, signature) = if module.is_imported_func(function_index) {
            match menv.symbols.imports[function_index as usize] {
                ImportTarget::Host(func_id) => {
                    let vmctx = self.env.vmctx();
                    let args = self.call_args(vmctx, sig.params.len());
                    let func_ref =
                        self.env
                            .func_ref(self.builder.func, func_id, menv.host_signature(sig));
                    self.meter_spill();
                    let call = self.builder.ins().call(func_ref, &args);
                    self.meter_reload();
                    if tail {
                        // A host function uses another calling convention: call, return.
                        let results = self.builder.inst_results(call).to_vec();
                        self.builder.ins().return_(&results);
                        self.set_unreachable();
                    } else {
                        self.push_call_results(call);
                    }
                    return Ok(());
                }
                ImportTarget::Wasm { func, vmctx } => {
                    let vmctx = self.env.data_addr(self.builder, vmctx);
                    (func, vmctx, menv.wasm_signature(sig))
                }
            }
        } else {
            let func_id = menv.symbols.funcs[function_index as usize];
            (func_id, self.env.vmctx(), menv.wasm_signature(sig))
        };
        let args = self.call_args(callee_vmctx, sig.params.len());
        let func_ref = self.env.func_ref(self.builder.func, func_id, signature);
        if tail {
            self.meter_spill();
            self.builder.ins().return_call(func_ref, &args);
            self.set_unreachable();
        } else {
            let results = self.call_catching(Callee::Direct(func_ref), &args);
            self.stack.extend(results);
        }
        Ok(())
    }

    /// The body of `function_index` if a call to it here is to be inlined, and whether
    /// this is its only call site.
    fn inline_body(&self, function_index: u32) -> Option<(FunctionBody<'m>, bool)> {
        let menv: &ModuleEnv<'m> = self.env.menv;
        let candidate = menv.inline_bodies.get(function_index as usize)?.as_ref()?;
        if candidate.only_call_site {
            // It is compiled nowhere else: this site must take it (the plan rules out
            // cycles, so it is never already being inlined here).
            debug_assert!(!self.inline_stack.contains(&function_index));
            return Some((candidate.body.clone(), true));
        }
        let body = &candidate.body;
        let allowed = inline::body_len(body) <= self.inline_budget
            && self.inline_stack.len() <= inline::MAX_DEPTH
            && !self.inline_stack.contains(&function_index);
        allowed.then(|| (body.clone(), false))
    }

    /// Translates a call to `function_index` by translating its body here: its
    /// parameters and locals become fresh variables, its outermost block a frame whose
    /// end (or a `return`) continues after the call with the results.
    fn inline_call(
        &mut self,
        function_index: u32,
        body: FunctionBody<'m>,
        only_call_site: bool,
    ) -> Output {
        let menv: &ModuleEnv<'m> = self.env.menv;
        let sig = menv.module.func_sig(function_index);
        let args = self.popn(sig.params.len());
        let mut locals = Vec::with_capacity(args.len());
        for (ty, arg) in sig.params.iter().zip(args) {
            let var = self.builder.declare_var(menv.value_type(*ty));
            self.builder.def_var(var, arg);
            locals.push(var);
        }
        let mut locals_reader = body.get_locals_reader()?;
        for _ in 0..locals_reader.get_count() {
            let (count, ty) = locals_reader.read()?;
            push_zeroed_locals(self.builder, menv.value_type(ty), count, &mut locals);
        }
        let result_types: Vec<_> = sig.results.iter().map(|t| menv.value_type(*t)).collect();
        let caller_locals = std::mem::replace(&mut self.locals, locals);
        let caller_base = std::mem::replace(&mut self.frame_base, self.control.len());
        let call_offset = self.offset;
        self.control.push(ControlFrame::new(
            FrameKind::Block,
            Vec::new(),
            result_types,
            self.stack.len(),
        ));
        self.inline_stack.push(function_index);
        if !only_call_site {
            self.inline_budget -= inline::body_len(&body);
        }
        if !self.inlined.contains(&function_index) {
            self.inlined.push(function_index);
        }
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let (op, offset) = reader.read_with_offset()?;
            self.set_offset(offset as usize);
            self.translate_operator(&op)?;
        }
        reader.finish()?;
        // The body's final `end` left the results pushed, in its exit block if anything
        // branched there.
        self.inline_stack.pop();
        self.locals = caller_locals;
        self.frame_base = caller_base;
        self.set_offset(call_offset);
        Ok(())
    }

    pub(super) fn push_call_results(&mut self, call: ir::Inst) {
        let results = self.builder.inst_results(call).to_vec();
        self.stack.extend(results);
    }

    pub(super) fn call_args(&mut self, callee_vmctx: Value, param_count: usize) -> Vec<Value> {
        let mut args = Vec::with_capacity(param_count + 1);
        args.push(callee_vmctx);
        args.extend(self.popn(param_count));
        args
    }
}
