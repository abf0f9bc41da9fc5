//! Exceptions: `try_table`, `throw`, `throw_ref`, and calls that can be caught.
//!
//! Inside a `try_table`, every call that may throw is a `try_call` whose exception table
//! lists the catch clauses of all enclosing `try_table`s, innermost first (the runtime's
//! unwinder matches them in that order). Each clause gets a handler block that receives
//! the exception object, loads the tag's values from it and branches to the clause's
//! label. A throw calls the runtime, which allocates nothing itself: compiled code
//! creates the exception object and stores the values first.

use cranelift_codegen::ir::{
    self, BlockArg, ExceptionTableData, ExceptionTableItem, ExceptionTag, InstBuilder, Value,
};
use wafer_abi::exceptions::{CATCH_ALL, PAYLOAD_OFFSET, PAYLOAD_SLOT};
use wafer_abi::trap::TrapKind;
use wasmparser::{BlockType, Catch, TryTable};

use super::{CodeTranslator, Output};
use crate::translate::control::{CatchKind, ControlFrame, FrameKind, Handler};
use crate::translate::env::{trap_code, vm_flags};

/// How a call that may throw reaches its callee.
pub(super) enum Callee {
    /// A direct call.
    Direct(ir::FuncRef),
    /// An indirect call through a code pointer with a signature.
    Indirect(ir::SigRef, Value),
}

impl<'f> CodeTranslator<'_, 'f, '_> {
    /// The catch clauses that apply to a call here, innermost first; stops after a
    /// catch-all, and keeps only the first clause of each tag (later ones cannot match).
    fn active_handlers(&self) -> Vec<Handler> {
        let mut handlers: Vec<Handler> = Vec::new();
        for frame in self.control.iter().rev() {
            for handler in &frame.handlers {
                if handlers.iter().any(|h| h.tag == handler.tag) {
                    continue;
                }
                handlers.push(handler.clone());
                if handler.tag == CATCH_ALL {
                    return handlers;
                }
            }
        }
        handlers
    }

    /// Emits a call; inside a `try_table` it is a `try_call` to the handlers. Returns the
    /// call's results.
    pub(super) fn call_catching(&mut self, callee: Callee, args: &[Value]) -> Vec<Value> {
        let handlers = self.active_handlers();
        self.meter_spill();
        if handlers.is_empty() {
            let call = match callee {
                Callee::Direct(func_ref) => self.builder.ins().call(func_ref, args),
                Callee::Indirect(sig, code) => self.builder.ins().call_indirect(sig, code, args),
            };
            let results = self.builder.inst_results(call).to_vec();
            self.meter_reload();
            return results;
        }
        let sig = match callee {
            Callee::Direct(func_ref) => self.builder.func.dfg.ext_funcs[func_ref].signature,
            Callee::Indirect(sig, _) => sig,
        };
        let returns: Vec<ir::Type> = self.builder.func.dfg.signatures[sig]
            .returns
            .iter()
            .map(|p| p.value_type)
            .collect();
        let normal = self.builder.create_block();
        for ty in &returns {
            self.builder.append_block_param(normal, *ty);
        }
        let returned: Vec<BlockArg> = (0..returns.len() as u32)
            .map(BlockArg::TryCallRet)
            .collect();
        let normal_call = self.builder.func.dfg.block_call(normal, &returned);
        let items: Vec<ExceptionTableItem> = handlers
            .iter()
            .map(|handler| {
                let call = self
                    .builder
                    .func
                    .dfg
                    .block_call(handler.block, &[BlockArg::TryCallExn(0)]);
                match ExceptionTag::with_number(handler.tag).filter(|_| handler.tag != CATCH_ALL) {
                    Some(tag) => ExceptionTableItem::Tag(tag, call),
                    None => ExceptionTableItem::Default(call),
                }
            })
            .collect();
        let table = self
            .builder
            .func
            .dfg
            .exception_tables
            .push(ExceptionTableData::new(sig, normal_call, items));
        match callee {
            Callee::Direct(func_ref) => self.builder.ins().try_call(func_ref, args, table),
            Callee::Indirect(_, code) => self.builder.ins().try_call_indirect(code, args, table),
        };
        self.builder.seal_block(normal);
        self.builder.switch_to_block(normal);
        let results = self.builder.block_params(normal).to_vec();
        self.meter_reload();
        results
    }

    pub(super) fn translate_try_table(&mut self, try_table: TryTable) -> Output {
        let ptr = self.env.pointer_type();
        let mut handlers = Vec::with_capacity(try_table.catches.len());
        // Catch labels are relative to the block around the `try_table`.
        for catch in &try_table.catches {
            let (tag_index, kind, label) = match *catch {
                Catch::One { tag, label } => (Some(tag), CatchKind::Values, label),
                Catch::OneRef { tag, label } => (Some(tag), CatchKind::ValuesAndRef, label),
                Catch::All { label } => (None, CatchKind::Nothing, label),
                Catch::AllRef { label } => (None, CatchKind::Ref, label),
            };
            let block = self.builder.create_block();
            self.builder.append_block_param(block, ptr);
            let symbols = self.env.menv.symbols;
            handlers.push(Handler {
                tag: tag_index.map_or(CATCH_ALL, |t| symbols.tag_ids[t as usize]),
                tag_index: tag_index.unwrap_or(0),
                block,
                kind,
                target: self.branch_target(label),
            });
        }
        let blockty: BlockType = try_table.ty;
        let (params, results) = self.block_signature(blockty)?;
        let stack_height = self.stack.len() - params.len();
        let mut frame = ControlFrame::new(FrameKind::TryTable, params, results, stack_height);
        frame.handlers = handlers;
        self.control.push(frame);
        Ok(())
    }

    /// The values of tag `tag_index` stored in exception object `exception`.
    fn exception_values(&mut self, tag_index: u32, exception: Value) -> Vec<Value> {
        let module = self.env.module();
        let type_index = module.tags[tag_index as usize].type_index;
        let params = module.types[type_index as usize]
            .as_ref()
            .map(|sig| sig.params.clone())
            .unwrap_or_default();
        params
            .iter()
            .enumerate()
            .map(|(i, ty)| {
                let ty = self.value_type(*ty);
                let offset = PAYLOAD_OFFSET + i as u32 * PAYLOAD_SLOT;
                self.builder
                    .ins()
                    .load(ty, vm_flags(), exception, offset as i32)
            })
            .collect()
    }

    /// Fills the handler blocks of a finished `try_table` (called at its `end`).
    pub(super) fn fill_handlers(&mut self, handlers: &[Handler]) {
        for handler in handlers {
            self.builder.switch_to_block(handler.block);
            self.builder.seal_block(handler.block);
            let exception = self.builder.block_params(handler.block)[0];
            let mut values = match handler.kind {
                CatchKind::Values | CatchKind::ValuesAndRef => {
                    self.exception_values(handler.tag_index, exception)
                }
                CatchKind::Nothing | CatchKind::Ref => Vec::new(),
            };
            if matches!(handler.kind, CatchKind::ValuesAndRef | CatchKind::Ref) {
                values.push(exception);
            }
            let (target, _) = handler.target;
            self.builder.ins().jump(target, &Self::jump_args(&values));
        }
    }

    pub(super) fn translate_throw(&mut self, tag_index: u32) -> Output {
        let module = self.env.module();
        let type_index = module.tags[tag_index as usize].type_index;
        let count = module.types[type_index as usize]
            .as_ref()
            .map_or(0, |sig| sig.params.len());
        let values = self.popn(count);
        let tag = self.env.menv.symbols.tag_ids[tag_index as usize];
        let ptr = self.env.pointer_type();
        let tag_value = self.builder.ins().iconst(ir::types::I32, tag as i64);
        let slots = self.builder.ins().iconst(ir::types::I32, count as i64);
        let new = self.env.menv.symbols.libcalls.exception_new;
        let exception = self.env.call_libcall(
            self.builder,
            new,
            &[ir::types::I32, ir::types::I32],
            &[ptr],
            &[tag_value, slots],
        )[0];
        for (i, value) in values.into_iter().enumerate() {
            let offset = PAYLOAD_OFFSET + i as u32 * PAYLOAD_SLOT;
            self.builder
                .ins()
                .store(vm_flags(), value, exception, offset as i32);
        }
        self.throw_exception(exception);
        Ok(())
    }

    pub(super) fn translate_throw_ref(&mut self) -> Output {
        let exception = self.pop();
        self.builder
            .ins()
            .trapz(exception, trap_code(TrapKind::NullExceptionReference));
        self.throw_exception(exception);
        Ok(())
    }

    /// Calls the runtime's `throw`, catchable by the enclosing `try_table`s; it never
    /// returns.
    fn throw_exception(&mut self, exception: Value) {
        let ptr = self.env.pointer_type();
        let throw = self.env.menv.symbols.libcalls.throw;
        // Declared with the wasm (`tail`) convention; see `ObjectWriter::declare_libcalls`.
        let mut signature = ir::Signature::new(crate::translate::env::WASM_CALL_CONV);
        signature.params.push(ir::AbiParam::new(ptr));
        let func_ref = self.env.func_ref(self.builder.func, throw, signature);
        self.call_catching(Callee::Direct(func_ref), &[exception]);
        self.builder.ins().trap(trap_code(TrapKind::Unreachable));
        self.set_unreachable();
    }
}
