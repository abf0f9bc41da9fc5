//! The trampolines of a component image: one function per canonical built-in the
//! component uses, in the wasm convention with the built-in's flat core signature (the
//! VM context argument is ignored), so core instances import, call and put them in
//! tables like any function.
//!
//! - A lowered WASI import calls the runtime's host function (`wafer_abi::wasi_p2`) with
//!   its canonical-ABI context; a host function that must trap sets the context's trap
//!   field, and the trampoline raises it.
//! - The built-ins that keep state (handle tables, borrow scopes, task storage) call the
//!   runtime with the image's component descriptor (`wafer_abi::component`) and raise the
//!   trap their result asks for.
//! - Built-ins the spec lets trap when their instance may not leave (`canon lower`,
//!   `resource.new`, `resource.drop`, the asynchronous built-ins) check the instance's
//!   `may_leave` flag first, in compiled code.
//!
//! Every trap is thus raised by compiled code at a recorded site that names the built-in.

use cranelift_codegen::Context;
use cranelift_codegen::ir::{self, InstBuilder, UserFuncName, types};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{DataId, FuncId};
use wafer_abi::component::TRAP_SHIFT;
use wafer_abi::trap::TrapKind;
use wafer_abi::wasi_p2::{self, CanonContext, HostFunc};

use super::super::compile_function;
use super::super::object::ObjectWriter;
use super::{core_func, ir_type, memory_site, start, trampoline_name, wasm_signature};
use crate::component::plan::{ComponentPlan, CoreDef, CoreItem, FlatType, Resource, Trampoline};
use crate::error::{CompileError, Result};
use crate::translate::env::{FuncEnv, ModuleEnv, trap_code, vm_flags};

/// What the trampolines reach: the plan, the instances (image instance `i` below
/// `plan.component_instances` holds component instance `i`'s flags), the contexts and
/// the component descriptor.
pub(super) struct Sites<'a, 'data> {
    /// The plan (core instances shifted past the flags instances).
    pub plan: &'a ComponentPlan<'data>,
    /// Every image instance.
    pub menvs: &'a [ModuleEnv<'a>],
    /// The layout of canonical-ABI contexts.
    pub layout: CanonContext,
    /// The host function each trampoline lowers, if it lowers one the runtime provides.
    pub hosts: Vec<Option<&'static HostFunc>>,
    /// A context per set of canonical options.
    pub option_contexts: Vec<DataId>,
    /// A context per component instance (its state word, no memory).
    pub instance_contexts: Vec<DataId>,
    /// The component descriptor.
    pub descriptor: DataId,
}

/// Defines every trampoline of the plan.
pub(super) fn define_trampolines(
    writer: &mut ObjectWriter,
    isa: &dyn TargetIsa,
    context: &mut Context,
    sites: &Sites<'_, '_>,
    trampolines: &[FuncId],
) -> Result<()> {
    let plan = sites.plan;
    let menv = &sites.menvs[0];
    let ptr = menv.pointer_type;
    let starts_calls = plan.trampolines.iter().any(|t| {
        matches!(
            t,
            Trampoline::StartCall { .. } | Trampoline::ThreadNew { .. }
        )
    });
    let call_ref = if starts_calls {
        Some(super::call_ref::define_call_ref(
            writer,
            isa,
            context,
            sites.menvs,
        )?)
    } else {
        None
    };
    for (t, trampoline) in plan.trampolines.iter().enumerate() {
        let mut calls = CallSites {
            call_ref,
            ..CallSites::default()
        };
        if let Trampoline::StartCall {
            callback,
            post_return,
            ..
        } = trampoline
        {
            let mut slot_fn = |def: &CoreDef, kind: u32, name: &str| -> Result<FuncId> {
                let mut signature = ir::Signature::new(menv.host_call_conv);
                signature.params.push(ir::AbiParam::new(ptr));
                let symbol = format!("component:start-call-{t}-{name}");
                let id = writer.declare_local(&symbol, &signature)?;
                let func = super::harness::slot_trampoline(sites.menvs, def, (kind, t as u32))?;
                let compiled = compile_function(isa, context, func, id)?;
                writer.define_function(id, &symbol, compiled)?;
                Ok(id)
            };
            if let Some(c) = callback {
                calls.callback = Some(slot_fn(&plan.callbacks[*c], 15, "callback")?);
            }
            if let Some(p) = post_return {
                calls.post_return = Some(slot_fn(&plan.post_returns[*p], 16, "post-return")?);
            }
        }
        let mut ir_func = ir::Function::with_name_signature(
            UserFuncName::user(5, t as u32),
            wasm_signature(&plan.trampoline_signatures[t], ptr),
        );
        let mut builder_context = FunctionBuilderContext::new();
        let (mut builder, block) = start(&mut ir_func, &mut builder_context);
        let params = builder.block_params(block)[1..].to_vec();
        let mut env = FuncEnv::new(menv);
        let mut emit = Emit {
            builder: &mut builder,
            env: &mut env,
            writer,
            sites,
            calls,
        };
        // A body that ends in a trap has no results to return.
        if let Some(results) = emit.body(t, trampoline, &params)? {
            emit.builder.ins().return_(&results);
        }
        builder.finalize(menv.frontend_config);
        let compiled = compile_function(isa, context, ir_func, trampolines[t])?;
        writer.define_function(trampolines[t], &trampoline_name(plan, t), compiled)?;
    }
    Ok(())
}

/// The canonical type identity of `(func (param i32))`, the type of every thread's
/// start function, if a module of the image has that type (else no function has it,
/// and an identity no type has).
fn start_func_type_id(menvs: &[ModuleEnv<'_>]) -> u32 {
    menvs
        .iter()
        .flat_map(|m| {
            m.module
                .types
                .iter()
                .zip(&m.module.canonical_types)
                .filter_map(|(sig, &canonical)| {
                    let sig = sig.as_ref()?;
                    (sig.params == [wasmparser::ValType::I32] && sig.results.is_empty())
                        .then_some(canonical)
                })
        })
        .next()
        .unwrap_or(u32::MAX)
}

/// Traps a host function or a built-in may ask its trampoline to raise: every
/// component-model trap, and the two core ones host functions use.
fn host_traps() -> impl Iterator<Item = TrapKind> {
    TrapKind::ALL.into_iter().filter(|kind| {
        *kind as u8 >= TrapKind::InvalidUtf8 as u8 || *kind == TrapKind::MemoryOutOfBounds
    })
}

/// Emits one trampoline's body.
struct Emit<'b, 'f, 'e, 'w, 's, 'a, 'data> {
    builder: &'b mut FunctionBuilder<'f>,
    env: &'e mut FuncEnv<'a>,
    writer: &'w mut ObjectWriter,
    sites: &'s Sites<'a, 'data>,
    /// The image's function-reference caller and this trampoline's callback and
    /// post-return callers (for [`Trampoline::StartCall`]).
    calls: CallSites,
}

/// What a `start-call` trampoline hands the runtime: generated C-convention callers.
#[derive(Clone, Copy, Default)]
struct CallSites {
    call_ref: Option<FuncId>,
    callback: Option<FuncId>,
    post_return: Option<FuncId>,
}

impl Emit<'_, '_, '_, '_, '_, '_, '_> {
    /// The body of trampoline `t`: its results, or `None` when it ends in a trap.
    fn body(
        &mut self,
        t: usize,
        trampoline: &Trampoline,
        params: &[ir::Value],
    ) -> Result<Option<Vec<ir::Value>>> {
        let plan = self.sites.plan;
        let ptr = self.env.pointer_type();
        let i32 = |builder: &mut FunctionBuilder<'_>, value: u64| {
            builder.ins().iconst(types::I32, value as i64)
        };
        Ok(Some(match trampoline {
            Trampoline::LowerImport { options, .. } => {
                let instance = plan.options[*options].instance;
                self.trap_unless_may_leave(instance);
                let Some(host) = self.sites.hosts[t] else {
                    // Nothing provides it (`--trap-unknown-imports`, or a harness).
                    self.builder.ins().trap(trap_code(TrapKind::UnknownImport));
                    return Ok(None);
                };
                let call = HostCall {
                    symbol: host.symbol,
                    context: self.sites.option_contexts[*options],
                    params: host
                        .params
                        .iter()
                        .map(|t| ir_type((*t).into(), ptr))
                        .collect(),
                    results: host
                        .results
                        .iter()
                        .map(|t| ir_type((*t).into(), ptr))
                        .collect(),
                };
                self.call_host(call, params)?
            }
            Trampoline::ResourceNew { instance, resource }
            | Trampoline::ResourceRep { instance, resource } => {
                let new = matches!(trampoline, Trampoline::ResourceNew { .. });
                if new {
                    self.trap_unless_may_leave(*instance);
                }
                if let Some(Resource::Imported { .. }) = plan.resources.get(*resource) {
                    let ty = i32(self.builder, u64::from(resource_type(plan, *resource)));
                    let call = HostCall {
                        symbol: if new {
                            wafer_abi::symbols::RESOURCE_NEW
                        } else {
                            wafer_abi::symbols::RESOURCE_REP
                        },
                        context: self.sites.instance_contexts[*instance as usize],
                        params: vec![types::I32, types::I32],
                        results: vec![types::I32],
                    };
                    self.call_host(call, &[ty, params[0]])?
                } else {
                    let symbol = if new {
                        wafer_abi::symbols::COMPONENT_RESOURCE_NEW
                    } else {
                        wafer_abi::symbols::COMPONENT_RESOURCE_REP
                    };
                    let instance = i32(self.builder, u64::from(*instance));
                    let resource = i32(self.builder, *resource as u64);
                    let result = self.call_builtin(symbol, &[instance, resource, params[0]])?;
                    vec![self.builder.ins().ireduce(types::I32, result)]
                }
            }
            Trampoline::ResourceDrop { instance, resource } => {
                self.trap_unless_may_leave(*instance);
                let dropped = if let Some(Resource::Imported { .. }) = plan.resources.get(*resource)
                {
                    let ty = i32(self.builder, u64::from(resource_type(plan, *resource)));
                    let call = HostCall {
                        symbol: wafer_abi::symbols::RESOURCE_DROP,
                        context: self.sites.instance_contexts[*instance as usize],
                        params: vec![types::I32, types::I32],
                        results: vec![types::I64],
                    };
                    self.call_host(call, &[ty, params[0]])?[0]
                } else {
                    let instance = i32(self.builder, u64::from(*instance));
                    let resource = i32(self.builder, *resource as u64);
                    self.call_builtin(
                        wafer_abi::symbols::COMPONENT_RESOURCE_DROP,
                        &[instance, resource, params[0]],
                    )?
                };
                if let Some(Resource::Defined { destructor, .. }) = plan.resources.get(*resource) {
                    self.run_destructor(dropped, destructor.as_ref())?;
                }
                Vec::new()
            }
            Trampoline::ResourceTransferOwn { table_base }
            | Trampoline::ResourceTransferBorrow { table_base } => {
                let symbol = match trampoline {
                    Trampoline::ResourceTransferOwn { .. } => {
                        wafer_abi::symbols::RESOURCE_TRANSFER_OWN
                    }
                    _ => wafer_abi::symbols::RESOURCE_TRANSFER_BORROW,
                };
                let base = i64::from(*table_base);
                let from = self.builder.ins().iadd_imm_u(params[1], base);
                let to = self.builder.ins().iadd_imm_u(params[2], base);
                let result = self.call_builtin(symbol, &[params[0], from, to])?;
                vec![self.builder.ins().ireduce(types::I32, result)]
            }
            Trampoline::EnterSyncCall { instance_base } => {
                let base = i64::from(*instance_base);
                let caller = self.builder.ins().iadd_imm_u(params[0], base);
                let callee = self.builder.ins().iadd_imm_u(params[2], base);
                self.call_builtin(
                    wafer_abi::symbols::ENTER_SYNC_CALL,
                    &[caller, params[1], callee],
                )?;
                Vec::new()
            }
            Trampoline::ExitSyncCall => {
                self.call_builtin(wafer_abi::symbols::EXIT_SYNC_CALL, &[])?;
                Vec::new()
            }
            Trampoline::ContextGet { slot } => {
                let slot = i32(self.builder, u64::from(*slot));
                self.call_runtime(
                    wafer_abi::symbols::CONTEXT_GET,
                    &[slot],
                    &[types::I32],
                    &[types::I32],
                )?
            }
            Trampoline::ContextSet { slot } => {
                let slot = i32(self.builder, u64::from(*slot));
                self.call_runtime(
                    wafer_abi::symbols::CONTEXT_SET,
                    &[slot, params[0]],
                    &[types::I32, types::I32],
                    &[],
                )?
            }
            Trampoline::Backpressure { instance, delta } => {
                let instance = i32(self.builder, u64::from(*instance));
                let delta = self.builder.ins().iconst(types::I32, i64::from(*delta));
                self.call_builtin(wafer_abi::symbols::BACKPRESSURE, &[instance, delta])?;
                Vec::new()
            }
            Trampoline::TaskReturn { instance } => {
                self.trap_unless_may_leave(*instance);
                self.task_return(*instance, params)?;
                Vec::new()
            }
            Trampoline::ThreadNew { instance, table } => {
                self.trap_unless_may_leave(*instance);
                vec![self.thread_new(*instance, *table, params)?]
            }
            Trampoline::Async {
                op,
                instance,
                options,
                cancellable,
            } => {
                self.trap_unless_may_leave(*instance);
                let ptr_type = self.env.pointer_type();
                let context = match options {
                    Some(options) => self
                        .env
                        .data_addr(self.builder, self.sites.option_contexts[*options]),
                    None => self.builder.ins().iconst(ptr_type, 0),
                };
                let descriptor = self.env.data_addr(self.builder, self.sites.descriptor);
                let code = i32(
                    self.builder,
                    u64::from(op.code())
                        | match cancellable {
                            true => u64::from(wafer_abi::component::async_op::CANCELLABLE),
                            false => 0,
                        },
                );
                // The running task may block (its `may_block` global): the runtime
                // checks it where a built-in would block.
                let may_block = self.task_may_block();
                let may_block = self.builder.ins().ishl_imm_u(
                    may_block,
                    i64::from(wafer_abi::component::async_op::MAY_BLOCK.trailing_zeros()),
                );
                let code = self.builder.ins().bor(code, may_block);
                let mut args = vec![
                    descriptor,
                    context,
                    code,
                    i32(self.builder, u64::from(*instance)),
                ];
                for i in 0..2 {
                    args.push(match params.get(i) {
                        Some(&value) => value,
                        None => i32(self.builder, 0),
                    });
                }
                let result = self.call_runtime(
                    wafer_abi::symbols::ASYNC_BUILTIN,
                    &args,
                    &[
                        ptr_type,
                        ptr_type,
                        types::I32,
                        types::I32,
                        types::I32,
                        types::I32,
                    ],
                    &[types::I64],
                )?[0];
                self.trap_from_result(result);
                match plan.trampoline_signatures[t].results.is_empty() {
                    true => Vec::new(),
                    false => vec![self.builder.ins().ireduce(types::I32, result)],
                }
            }
            Trampoline::Copy {
                op,
                instance,
                ty,
                layout,
                options,
                elem_type,
                resource_base,
                ..
            } => {
                let elem_type = (!elem_type.is_empty()).then_some((&elem_type[..], *resource_base));
                let copy = (*op, *instance, *ty, *layout);
                return self.copy_builtin(t, copy, *options, elem_type, params);
            }
            Trampoline::Transfer { future, tables } => {
                return self.transfer(*future, tables, params);
            }
            Trampoline::ErrorContext {
                op,
                instance,
                options,
            } => {
                self.trap_unless_may_leave(*instance);
                let context = match options {
                    Some(options) => self
                        .env
                        .data_addr(self.builder, self.sites.option_contexts[*options]),
                    None => self.builder.ins().iconst(ptr, 0),
                };
                let op = i32(self.builder, u64::from(*op));
                let instance = i32(self.builder, u64::from(*instance));
                let mut operands = params.to_vec();
                operands.resize_with(3, || i32(self.builder, 0));
                let result = self.call_error_context_builtin(context, op, instance, &operands)?;
                match plan.trampoline_signatures[t].results.is_empty() {
                    true => Vec::new(),
                    false => vec![self.builder.ins().ireduce(types::I32, result)],
                }
            }
            Trampoline::ErrorContextTransfer { tables } => {
                let [handle, source, destination] = params else {
                    return Err(CompileError::Codegen(
                        "component: an error-context transfer without its three operands".into(),
                    ));
                };
                let source = self.select_by_index(*source, tables.iter().copied());
                let destination = self.select_by_index(*destination, tables.iter().copied());
                let context = self.builder.ins().iconst(ptr, 0);
                let op = i32(
                    self.builder,
                    u64::from(wafer_abi::component::error_context_op::TRANSFER),
                );
                let zero = i32(self.builder, 0);
                let result = self.call_error_context_builtin(
                    context,
                    op,
                    source,
                    &[*handle, destination, zero],
                )?;
                vec![self.builder.ins().ireduce(types::I32, result)]
            }
            Trampoline::PrepareCall { instance_base } => {
                let mut params = params.to_vec();
                for instance in &mut params[2..4] {
                    *instance = self
                        .builder
                        .ins()
                        .iadd_imm_u(*instance, i64::from(*instance_base));
                }
                let values = self.spill(&params);
                let descriptor = self.env.data_addr(self.builder, self.sites.descriptor);
                let count = i32(self.builder, params.len() as u64);
                let result = self.call_runtime(
                    wafer_abi::symbols::PREPARE_CALL,
                    &[descriptor, values, count],
                    &[ptr, ptr, types::I32],
                    &[types::I64],
                )?[0];
                self.trap_from_result(result);
                Vec::new()
            }
            Trampoline::StartCall { async_lower, .. } => {
                return self.start_call(t, *async_lower, params).map(Some);
            }
            Trampoline::Unsupported { instance, .. } => {
                if let Some(instance) = instance {
                    self.trap_unless_may_leave(*instance);
                }
                self.builder
                    .ins()
                    .trap(trap_code(TrapKind::UnsupportedBuiltin));
                return Ok(None);
            }
            Trampoline::Trap => {
                let code = params[0];
                for (number, kind) in crate::component::adapter_trap_kinds() {
                    let is = self.builder.ins().icmp_imm_u(
                        ir::condcodes::IntCC::Equal,
                        code,
                        i64::from(number),
                    );
                    self.builder.ins().trapnz(is, trap_code(kind));
                }
                self.builder.ins().trap(trap_code(TrapKind::Unreachable));
                return Ok(None);
            }
            Trampoline::Transcoder { op, from, to } => self.transcode(t, op, *from, *to, params)?,
        }))
    }

    /// Traps with "cannot leave component instance" unless component instance
    /// `instance`'s `may_leave` flag is set.
    /// `thread.new-indirect`: takes the start function from `table` at `params[0]` as
    /// `call_indirect` does (in bounds, present, of type `(func (param i32))`), and has
    /// the runtime make a thread that calls it with `params[1]` through the image's
    /// function-reference caller. Returns the thread's index.
    fn thread_new(
        &mut self,
        instance: u32,
        table: CoreItem,
        params: &[ir::Value],
    ) -> Result<ir::Value> {
        let owner = &self.sites.menvs[table.instance];
        let mut owner_env = FuncEnv::new(owner);
        let owner_vmctx = owner_env.data_addr(self.builder, owner.symbols.vmctx);
        owner_env.set_vmctx(owner_vmctx);
        let funcref = owner_env.checked_func_ref(
            self.builder,
            table.index,
            params[0],
            start_func_type_id(self.sites.menvs),
            [
                TrapKind::UndefinedElement,
                TrapKind::ThreadStartMissing,
                TrapKind::ThreadStartType,
            ],
        );
        let ptr = self.env.pointer_type();
        let call_ref = self.calls.call_ref.ok_or_else(|| {
            CompileError::Codegen("component: no function-reference caller".into())
        })?;
        let caller_signature = super::call_ref::call_ref_signature(self.env.menv);
        let caller = self
            .env
            .func_ref(self.builder.func, call_ref, caller_signature);
        let caller = self.builder.ins().func_addr(ptr, caller);
        let descriptor = self.env.data_addr(self.builder, self.sites.descriptor);
        let instance = self.builder.ins().iconst(types::I32, i64::from(instance));
        let may_block = self.task_may_block_address();
        let result = self.call_runtime(
            wafer_abi::symbols::THREAD_NEW,
            &[descriptor, instance, funcref, params[1], caller, may_block],
            &[ptr, types::I32, ptr, types::I32, ptr, ptr],
            &[types::I64],
        )?[0];
        self.trap_from_result(result);
        Ok(self.builder.ins().ireduce(types::I32, result))
    }

    fn trap_unless_may_leave(&mut self, instance: u32) {
        let flags = &self.sites.menvs[instance as usize];
        let vmctx = self.env.data_addr(self.builder, flags.symbols.vmctx);
        let may_leave = self.builder.ins().load(
            types::I32,
            vm_flags(),
            vmctx,
            flags.offsets.defined_global(0) as i32,
        );
        self.builder
            .ins()
            .trapz(may_leave, trap_code(TrapKind::CannotLeaveComponent));
    }

    /// When a `resource.drop` result asks for the destructor: runs `destructor` (if the
    /// resource has one) on the representation in its low bits, then ends the call the
    /// runtime started for it (the destructor's task, in the implementing instance).
    fn run_destructor(
        &mut self,
        dropped: ir::Value,
        destructor: Option<&crate::component::plan::CoreDef>,
    ) -> Result<()> {
        let run = self.builder.create_block();
        let done = self.builder.create_block();
        let needed = self
            .builder
            .ins()
            .band_imm_u(dropped, wafer_abi::component::RUN_DESTRUCTOR as i64);
        self.builder.ins().brif(needed, run, &[], done, &[]);
        self.builder.switch_to_block(run);
        self.builder.seal_block(run);
        if let Some(destructor) = destructor {
            let (func, vmctx, signature) = core_func(self.sites.menvs, destructor)?;
            let rep = self.builder.ins().ireduce(types::I32, dropped);
            let vmctx = self.env.data_addr(self.builder, vmctx);
            let callee = self.env.func_ref(self.builder.func, func, signature);
            self.builder.ins().call(callee, &[vmctx, rep]);
        }
        // The runtime started the destructor's call when it asked for it.
        self.call_builtin(wafer_abi::symbols::EXIT_SYNC_CALL, &[])?;
        self.builder.ins().jump(done, &[]);
        self.builder.switch_to_block(done);
        self.builder.seal_block(done);
        Ok(())
    }

    /// Calls the runtime's `symbol` in the C convention.
    /// Calls the runtime's `COPY_BUILTIN` with the descriptor, an options context and
    /// seven `i32` operands; returns its `i64` answer.
    fn call_copy_builtin(&mut self, args: &[ir::Value]) -> Result<ir::Value> {
        let ptr_type = self.env.pointer_type();
        let mut signature = vec![ptr_type, ptr_type];
        signature.extend([types::I32; 7]);
        Ok(self.call_runtime(
            wafer_abi::symbols::COPY_BUILTIN,
            args,
            &signature,
            &[types::I64],
        )?[0])
    }

    fn call_runtime(
        &mut self,
        symbol: &str,
        args: &[ir::Value],
        params: &[ir::Type],
        results: &[ir::Type],
    ) -> Result<Vec<ir::Value>> {
        let mut sig = ir::Signature::new(self.env.menv.host_call_conv);
        sig.params = params.iter().map(|t| ir::AbiParam::new(*t)).collect();
        sig.returns = results.iter().map(|t| ir::AbiParam::new(*t)).collect();
        let id = self.writer.declare_import(symbol, &sig)?;
        let callee = self.env.func_ref(self.builder.func, id, sig);
        let call = self.builder.ins().call(callee, args);
        Ok(self.builder.inst_results(call).to_vec())
    }

    /// `task.return`: spills the flat results `params` into value slots on the stack
    /// and hands them to the runtime.
    fn task_return(&mut self, instance: u32, params: &[ir::Value]) -> Result<()> {
        use wafer_abi::harness::VALUE_SLOT_SIZE;
        let slots = self.builder.create_sized_stack_slot(ir::StackSlotData::new(
            ir::StackSlotKind::ExplicitSlot,
            (params.len().max(1) as u32) * VALUE_SLOT_SIZE,
            4,
        ));
        let ptr_type = self.env.pointer_type();
        for (i, &value) in params.iter().enumerate() {
            self.builder.ins().stack_store(
                ptr_type,
                value,
                slots,
                (i as u32 * VALUE_SLOT_SIZE) as i32,
            );
        }
        let values = self.builder.ins().stack_addr(ptr_type, slots, 0);
        let descriptor = self.env.data_addr(self.builder, self.sites.descriptor);
        let instance = self.builder.ins().iconst(types::I32, i64::from(instance));
        let count = self.builder.ins().iconst(types::I32, params.len() as i64);
        let result = self.call_runtime(
            wafer_abi::symbols::TASK_RETURN,
            &[descriptor, instance, values, count],
            &[ptr_type, types::I32, ptr_type, types::I32],
            &[types::I64],
        )?[0];
        self.trap_from_result(result);
        Ok(())
    }

    /// Spills `values` into value slots on the stack (at least `START_CALL_SLOTS`):
    /// their address.
    fn spill(&mut self, values: &[ir::Value]) -> ir::Value {
        use wafer_abi::harness::VALUE_SLOT_SIZE;
        let ptr_type = self.env.pointer_type();
        let slots = self.builder.create_sized_stack_slot(ir::StackSlotData::new(
            ir::StackSlotKind::ExplicitSlot,
            (values.len().max(super::call_ref::START_CALL_SLOTS) as u32) * VALUE_SLOT_SIZE,
            4,
        ));
        for (i, &value) in values.iter().enumerate() {
            self.builder.ins().stack_store(
                ptr_type,
                value,
                slots,
                (i as u32 * VALUE_SLOT_SIZE) as i32,
            );
        }
        self.builder.ins().stack_addr(ptr_type, slots, 0)
    }

    /// `start-call`: the runtime runs the prepared call; an `async` lower answers the
    /// packed status, a synchronous one its flat results (from the value slots).
    fn start_call(
        &mut self,
        t: usize,
        async_lower: bool,
        params: &[ir::Value],
    ) -> Result<Vec<ir::Value>> {
        use wafer_abi::harness::VALUE_SLOT_SIZE;
        let ptr = self.env.pointer_type();
        let results = self.spill(&[]);
        let descriptor = self.env.data_addr(self.builder, self.sites.descriptor);
        let mut slot_signature = ir::Signature::new(self.env.menv.host_call_conv);
        slot_signature.params.push(ir::AbiParam::new(ptr));
        let address = |emit: &mut Self, id: Option<FuncId>, signature: &ir::Signature| match id {
            Some(id) => {
                let func = emit.env.func_ref(emit.builder.func, id, signature.clone());
                emit.builder.ins().func_addr(ptr, func)
            }
            None => emit.builder.ins().iconst(ptr, 0),
        };
        let call_ref_signature = super::call_ref::call_ref_signature(self.env.menv);
        let call_ref = address(self, self.calls.call_ref, &call_ref_signature);
        let callback = address(self, self.calls.callback, &slot_signature);
        let post_return = address(self, self.calls.post_return, &slot_signature);
        // Bit 0: the callee is lifted `async` (the adapter's flag for an `async` lower;
        // a synchronous lower starts a call only into one); bit 1: an `async` lower.
        let flags = if async_lower {
            self.builder.ins().bor_imm_u(params[3], 2)
        } else {
            self.builder.ins().iconst(types::I32, 1)
        };
        let may_block = self.task_may_block_address();
        let result = self.call_runtime(
            wafer_abi::symbols::START_CALL,
            &[
                descriptor,
                call_ref,
                callback,
                post_return,
                params[0],
                flags,
                may_block,
                results,
            ],
            &[ptr, ptr, ptr, ptr, ptr, types::I32, ptr, ptr],
            &[types::I64],
        )?[0];
        self.trap_from_result(result);
        if async_lower {
            return Ok(vec![self.builder.ins().ireduce(types::I32, result)]);
        }
        let plan = self.sites.plan;
        Ok(plan.trampoline_signatures[t]
            .results
            .iter()
            .enumerate()
            .map(|(i, flat)| {
                self.builder.ins().load(
                    ir_type(*flat, ptr),
                    vm_flags(),
                    results,
                    (i as u32 * VALUE_SLOT_SIZE) as i32,
                )
            })
            .collect())
    }

    /// The address of the running task's `may_block` global: the one global of the
    /// image instance after the flags instances.
    fn task_may_block_address(&mut self) -> ir::Value {
        let task = &self.sites.menvs[self.sites.plan.component_instances as usize];
        let task_vmctx = self.env.data_addr(self.builder, task.symbols.vmctx);
        self.builder
            .ins()
            .iadd_imm_u(task_vmctx, i64::from(task.offsets.defined_global(0)))
    }

    /// The running task's `may_block`, as an `i32` 0 or 1.
    fn task_may_block(&mut self) -> ir::Value {
        let address = self.task_may_block_address();
        let value = self.builder.ins().load(types::I32, vm_flags(), address, 0);
        let set = self
            .builder
            .ins()
            .icmp_imm_u(ir::condcodes::IntCC::NotEqual, value, 0);
        self.builder.ins().uextend(types::I32, set)
    }

    /// Raises the trap a built-in's `u64` result asks for.
    /// A stream or future built-in: calls the runtime's `COPY_BUILTIN` with its `i32`
    /// operands; `stream.new` and `future.new` return the two ends as one `i64`.
    /// `copy` is the operation, the calling instance, the type's identity and its
    /// layout; `elem_type` the element type and resource base of a read or write of
    /// elements that are not numbers.
    fn copy_builtin(
        &mut self,
        t: usize,
        (op, instance, ty, layout): (u32, u32, u32, u32),
        options: Option<usize>,
        elem_type: Option<(&[u8], u32)>,
        params: &[ir::Value],
    ) -> Result<Option<Vec<ir::Value>>> {
        use wafer_abi::component::{NEW_TRAP_SHIFT, copy_op};
        self.trap_unless_may_leave(instance);
        if let Some((elem_type, resource_base)) = elem_type {
            self.register_elem_type(t, instance, ty, elem_type, resource_base)?;
        }
        let ptr_type = self.env.pointer_type();
        let context = match options {
            Some(options) => self
                .env
                .data_addr(self.builder, self.sites.option_contexts[options]),
            None => self.builder.ins().iconst(ptr_type, 0),
        };
        let descriptor = self.env.data_addr(self.builder, self.sites.descriptor);
        let constant = |builder: &mut FunctionBuilder<'_>, value: u32| {
            builder.ins().iconst(types::I32, i64::from(value as i32))
        };
        // The running task may block (its `may_block` global), for synchronous copies.
        let may_block = self.task_may_block();
        let may_block = self
            .builder
            .ins()
            .ishl_imm_u(may_block, i64::from(copy_op::MAY_BLOCK.trailing_zeros()));
        let op_value = constant(self.builder, op);
        let op_value = self.builder.ins().bor(op_value, may_block);
        let mut args = vec![
            descriptor,
            context,
            op_value,
            constant(self.builder, instance),
            constant(self.builder, ty),
            constant(self.builder, layout),
        ];
        for i in 0..3 {
            args.push(match params.get(i) {
                Some(&value) => value,
                None => constant(self.builder, 0),
            });
        }
        let result = self.call_copy_builtin(&args)?;
        let plan = self.sites.plan;
        let new = matches!(
            op & copy_op::MASK,
            copy_op::STREAM_NEW | copy_op::FUTURE_NEW
        );
        if new {
            // Readable | writable << 28, with the trap kind from bit 56: the `i64` the
            // spec returns is readable | writable << 32.
            let kind = self
                .builder
                .ins()
                .ushr_imm_u(result, i64::from(NEW_TRAP_SHIFT));
            let kind = self.builder.ins().ireduce(types::I32, kind);
            trap_if_nonzero(self.builder, kind);
            let readable = self.builder.ins().band_imm_u(result, (1 << 28) - 1);
            let writable = self.builder.ins().ushr_imm_u(result, 28);
            let writable = self.builder.ins().band_imm_u(writable, (1 << 28) - 1);
            let writable = self.builder.ins().ishl_imm_u(writable, 32);
            let ends = self.builder.ins().bor(readable, writable);
            return Ok(Some(
                match plan.trampoline_signatures[t].results.as_slice() {
                    [] => Vec::new(),
                    [FlatType::I32] => vec![self.builder.ins().ireduce(types::I32, ends)],
                    _ => vec![ends],
                },
            ));
        }
        self.trap_from_result(result);
        Ok(Some(
            match plan.trampoline_signatures[t].results.is_empty() {
                true => Vec::new(),
                false => vec![self.builder.ins().ireduce(types::I32, result)],
            },
        ))
    }

    /// A fused adapter's transfer of a readable end: looks up both tables' instances
    /// (and the source's type) among `tables`, then calls the runtime's
    /// `COPY_BUILTIN`.
    fn transfer(
        &mut self,
        future: bool,
        tables: &[(u32, u32)],
        params: &[ir::Value],
    ) -> Result<Option<Vec<ir::Value>>> {
        use wafer_abi::component::copy_op;
        let [end, source, destination] = params else {
            return Err(CompileError::Codegen(
                "component: a stream or future transfer without its three operands".into(),
            ));
        };
        // Adapters pass constant table indices, and components have few tables.
        let source_instance = self.select_by_index(*source, tables.iter().map(|entry| entry.0));
        let ty = self.select_by_index(*source, tables.iter().map(|entry| entry.1));
        let destination_instance =
            self.select_by_index(*destination, tables.iter().map(|entry| entry.0));
        let ptr_type = self.env.pointer_type();
        let descriptor = self.env.data_addr(self.builder, self.sites.descriptor);
        let null = self.builder.ins().iconst(ptr_type, 0);
        let op = match future {
            true => copy_op::FUTURE_TRANSFER,
            false => copy_op::STREAM_TRANSFER,
        };
        let op = self.builder.ins().iconst(types::I32, i64::from(op));
        let zero = self.builder.ins().iconst(types::I32, 0);
        let args = [
            descriptor,
            null,
            op,
            source_instance,
            ty,
            zero,
            *end,
            destination_instance,
            zero,
        ];
        let result = self.call_copy_builtin(&args)?;
        self.trap_from_result(result);
        Ok(Some(vec![self.builder.ins().ireduce(types::I32, result)]))
    }

    /// Before a read or write of elements that are not numbers: hands the runtime the
    /// element type (static data) of stream or future type `ty` as instance `instance`
    /// sees it, for copies that lift and lower elements (`STREAM_ELEM_TYPE`).
    fn register_elem_type(
        &mut self,
        t: usize,
        instance: u32,
        ty: u32,
        elem_type: &[u8],
        resource_base: u32,
    ) -> Result<()> {
        use cranelift_module::DataDescription;
        let data = self
            .writer
            .declare_data(&format!("component:elem-type[{t}]"), false)?;
        let mut description = DataDescription::new();
        description.define(elem_type.to_vec().into_boxed_slice());
        self.writer.define_data(data, &description)?;
        let ptr = self.env.pointer_type();
        let address = self.env.data_addr(self.builder, data);
        let constant = |builder: &mut FunctionBuilder<'_>, value: u32| {
            builder.ins().iconst(types::I32, i64::from(value as i32))
        };
        let args = [
            constant(self.builder, instance),
            constant(self.builder, ty),
            address,
            constant(self.builder, elem_type.len() as u32),
            constant(self.builder, resource_base),
        ];
        self.call_runtime(
            wafer_abi::symbols::STREAM_ELEM_TYPE,
            &args,
            &[types::I32, types::I32, ptr, types::I32, types::I32],
            &[],
        )?;
        Ok(())
    }

    /// Calls the runtime's `ERROR_CONTEXT_BUILTIN` with the descriptor, an options
    /// context (or null), the operation, the calling instance and three `i32` operands,
    /// and raises the trap its answer asks for; returns the answer.
    fn call_error_context_builtin(
        &mut self,
        context: ir::Value,
        op: ir::Value,
        instance: ir::Value,
        operands: &[ir::Value],
    ) -> Result<ir::Value> {
        let ptr_type = self.env.pointer_type();
        let descriptor = self.env.data_addr(self.builder, self.sites.descriptor);
        let mut args = vec![descriptor, context, op, instance];
        args.extend_from_slice(operands);
        let mut signature = vec![ptr_type, ptr_type];
        signature.extend([types::I32; 5]);
        let result = self.call_runtime(
            wafer_abi::symbols::ERROR_CONTEXT_BUILTIN,
            &args,
            &signature,
            &[types::I64],
        )?[0];
        self.trap_from_result(result);
        Ok(result)
    }

    /// The `index`-th of `values`, for `index` an `i32` the adapter passes (a table
    /// index, a constant in practice): a chain of selects, 0 past the end.
    fn select_by_index(
        &mut self,
        index: ir::Value,
        values: impl Iterator<Item = u32>,
    ) -> ir::Value {
        let mut value = self.builder.ins().iconst(types::I32, 0);
        for (position, entry) in values.enumerate() {
            let is =
                self.builder
                    .ins()
                    .icmp_imm_u(ir::condcodes::IntCC::Equal, index, position as i64);
            let constant = self
                .builder
                .ins()
                .iconst(types::I32, i64::from(entry as i32));
            value = self.builder.ins().select(is, constant, value);
        }
        value
    }

    fn trap_from_result(&mut self, result: ir::Value) {
        let kind = self.builder.ins().ushr_imm_u(result, i64::from(TRAP_SHIFT));
        let kind = self.builder.ins().ireduce(types::I32, kind);
        trap_if_nonzero(self.builder, kind);
    }

    /// Calls the runtime's built-in `symbol` with the component descriptor and the `i32`
    /// arguments `args`, and raises the trap its result asks for; returns the result.
    fn call_builtin(&mut self, symbol: &str, args: &[ir::Value]) -> Result<ir::Value> {
        let ptr = self.env.pointer_type();
        let descriptor = self.env.data_addr(self.builder, self.sites.descriptor);
        let mut call_args = vec![descriptor];
        call_args.extend_from_slice(args);
        let mut params = vec![ptr];
        params.extend(args.iter().map(|_| types::I32));
        let result = self.call_runtime(symbol, &call_args, &params, &[types::I64])?[0];
        let kind = self.builder.ins().ushr_imm_u(result, i64::from(TRAP_SHIFT));
        let kind = self.builder.ins().ireduce(types::I32, kind);
        trap_if_nonzero(self.builder, kind);
        Ok(result)
    }

    /// Emits `call` with `args` after the context, then the check of the trap the host
    /// may have asked for; returns the results.
    fn call_host(&mut self, call: HostCall<'_>, args: &[ir::Value]) -> Result<Vec<ir::Value>> {
        let context = self.env.data_addr(self.builder, call.context);
        let mut call_args = vec![context];
        call_args.extend_from_slice(args);
        let mut params = vec![self.env.pointer_type()];
        params.extend_from_slice(&call.params);
        let results = self.call_runtime(call.symbol, &call_args, &params, &call.results)?;
        let kind = self.builder.ins().load(
            types::I32,
            vm_flags(),
            context,
            self.sites.layout.trap() as i32,
        );
        trap_if_nonzero(self.builder, kind);
        Ok(results)
    }

    /// A fused adapter's string transcoding from memory `from` to memory `to`: the
    /// parameters go to the runtime in a stack slot, which returns the results there.
    fn transcode(
        &mut self,
        t: usize,
        op: &str,
        from: usize,
        to: usize,
        params: &[ir::Value],
    ) -> Result<Vec<ir::Value>> {
        let plan = self.sites.plan;
        let Some(operation) = transcode_op(op) else {
            return Err(CompileError::unsupported(format!(
                "component: the string transcoder `{op}` between component instances"
            )));
        };
        let ptr = self.env.pointer_type();
        let definition = |emit: &mut Self, memory: usize| {
            let (vmctx, offset) = memory_site(emit.sites.menvs, &plan.memories[memory]);
            let vmctx = emit.env.data_addr(emit.builder, vmctx);
            emit.builder.ins().iadd_imm_u(vmctx, i64::from(offset))
        };
        let (from, to) = (definition(self, from), definition(self, to));
        let slot = self.builder.create_sized_stack_slot(ir::StackSlotData::new(
            ir::StackSlotKind::ExplicitSlot,
            20,
            2,
        ));
        for (i, param) in params.iter().enumerate() {
            self.builder
                .ins()
                .stack_store(ptr, *param, slot, 4 * i as i32);
        }
        let args = self.builder.ins().stack_addr(ptr, slot, 0);
        let operation = self.builder.ins().iconst(types::I32, i64::from(operation));
        let kind = self.call_runtime(
            wafer_abi::symbols::TRANSCODE,
            &[from, to, operation, args],
            &[ptr, ptr, types::I32, ptr],
            &[types::I32],
        )?[0];
        trap_if_nonzero(self.builder, kind);
        Ok((0..plan.trampoline_signatures[t].results.len())
            .map(|i| {
                self.builder
                    .ins()
                    .stack_load(ptr, types::I32, slot, 4 * i as i32)
            })
            .collect())
    }
}

/// A call from a trampoline into a WASI 0.2 host function: the C convention, a
/// canonical-ABI context first.
struct HostCall<'a> {
    /// The runtime's symbol.
    symbol: &'a str,
    /// The context passed first.
    context: DataId,
    /// The types of the arguments after the context.
    params: Vec<ir::Type>,
    /// The result types.
    results: Vec<ir::Type>,
}

/// The runtime's number of a fused adapter's transcoding (named as wasmtime-environ's
/// `Transcode::desc`), if it has one.
fn transcode_op(op: &str) -> Option<u32> {
    use wasi_p2::transcode as t;
    Some(match op {
        "utf8-to-utf8" => t::COPY_UTF8,
        "utf16-to-utf16" => t::COPY_UTF16,
        "latin1-to-latin1" => t::COPY_LATIN1,
        "latin1-to-utf16" => t::LATIN1_TO_UTF16,
        "utf8-to-utf16" => t::UTF8_TO_UTF16,
        "utf16-to-utf8" => t::UTF16_TO_UTF8,
        "latin1-to-utf8" => t::LATIN1_TO_UTF8,
        "utf8-to-latin1" => t::UTF8_TO_LATIN1,
        "utf16-to-latin1" => t::UTF16_TO_LATIN1,
        "utf8-to-compact-utf16" => t::UTF8_TO_COMPACT_UTF16,
        "utf16-to-compact-utf16" => t::UTF16_TO_COMPACT_UTF16,
        "utf16-to-compact-probably-utf16" => t::UTF16_TO_COMPACT_PROBABLY_UTF16,
        _ => return None,
    })
}

/// The WASI 0.2 host's number for imported resource type `resource` (one no host
/// function hands out for an import the host does not define, or a resource a component
/// defines, so every use of its handles through the host traps).
pub(super) fn resource_type(plan: &ComponentPlan<'_>, resource: usize) -> u32 {
    match plan.resources.get(resource) {
        Some(Resource::Imported { interface, name }) => {
            wasi_p2::find_resource(interface, name).unwrap_or(u32::MAX)
        }
        _ => u32::MAX,
    }
}

/// Emits a trap with kind `kind` (an `i32` holding a `TrapKind`) unless it is 0.
pub(super) fn trap_if_nonzero(builder: &mut FunctionBuilder<'_>, kind: ir::Value) {
    let trap = builder.create_block();
    let done = builder.create_block();
    builder.set_cold_block(trap);
    builder.ins().brif(kind, trap, &[], done, &[]);
    builder.switch_to_block(trap);
    builder.seal_block(trap);
    for host_trap in host_traps() {
        let is = builder
            .ins()
            .icmp_imm_u(ir::condcodes::IntCC::Equal, kind, host_trap as i64);
        builder.ins().trapnz(is, trap_code(host_trap));
    }
    builder.ins().trap(trap_code(TrapKind::Unreachable));
    builder.switch_to_block(done);
    builder.seal_block(done);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_component_trap_can_be_raised_by_a_trampoline() {
        let kinds: Vec<TrapKind> = host_traps().collect();
        for kind in [
            TrapKind::InvalidHandle,
            TrapKind::HandleTableFull,
            TrapKind::CannotLeaveComponent,
            TrapKind::UnsupportedBuiltin,
            TrapKind::MemoryOutOfBounds,
        ] {
            assert!(kinds.contains(&kind), "{kind:?}");
        }
        assert!(!kinds.contains(&TrapKind::StackExhausted));
    }
}
