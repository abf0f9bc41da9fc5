//! A component image: the core instances of a [`ComponentPlan`] compiled like a
//! multi-instance image, plus what the component model adds around them.
//!
//! - **Trampolines** stand in for canonical built-ins. Each is a function in the wasm
//!   convention with the built-in's flat core signature (its VM context argument is
//!   ignored), so core instances import, call and put it in tables like any function. A
//!   lowered import calls the runtime's host function (`wafer_abi::wasi_p2`) in the C
//!   convention with its canonical-ABI context first; the resource built-ins call the
//!   runtime's handle tables.
//! - **Contexts** (`wafer_abi::wasi_p2::CanonContext`): one per set of canonical options
//!   and one per component instance, static data that point at the instance's memory,
//!   a C-convention wrapper of its `realloc`, and its handle table. A host function that
//!   must trap (a bad handle, a bad pointer) sets the context's trap field and returns;
//!   the trampoline then traps at a recorded site, so every trap still comes from
//!   compiled code and names the import.
//! - **The entry** runs the `wasi:cli/run` export: `ok` exits 0, `err` 1.

use cranelift_codegen::Context;
use cranelift_codegen::ir::{self, InstBuilder, UserFuncName, types};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{DataDescription, DataId, FuncId, Module as _};
use wafer_abi::trap::TrapKind;
use wafer_abi::wasi_p2::{self, CanonContext, HostFunc};

use super::declare::symbol_safe;
use super::link_plan::{ImportDef, Imports};
use super::object::ObjectWriter;
use super::{
    CompileConfig, Entry, EntryPoint, ExitStatus, ImageError, ImageInstance, compile_function,
};
use crate::component::plan::{
    ComponentPlan, CoreDef, CoreItem, FlatSig, FlatType, ItemKind, Resource, StringEncoding,
    Trampoline,
};
use crate::environ::ModuleInfo;
use crate::error::{CompileError, Result};
use crate::target::Target;
use crate::translate::env::{FuncEnv, ImportTarget, ModuleEnv, WASM_CALL_CONV, trap_code};

/// Traps a host function may ask its trampoline to raise.
const HOST_TRAPS: [TrapKind; 10] = [
    TrapKind::InvalidHandle,
    TrapKind::MemoryOutOfBounds,
    TrapKind::UnalignedPointer,
    TrapKind::ListOutOfBounds,
    TrapKind::StringOutOfBounds,
    TrapKind::InvalidDiscriminant,
    TrapKind::HandleTableFull,
    TrapKind::InvalidUtf8,
    TrapKind::InvalidUtf16,
    TrapKind::Unreachable,
];

/// Compiles a component's plan into one relocatable object.
pub fn compile_component(
    plan: &ComponentPlan<'_>,
    target: &Target,
    config: &CompileConfig,
) -> Result<Vec<u8>> {
    if config.invoke.is_some() {
        return Err(CompileError::unsupported(
            "--invoke with a component (its entry is the `wasi:cli/run` export)",
        ));
    }
    // A component with nothing to run, or unknown imports, fail the build before
    // anything is compiled.
    run_export(plan)?;
    host_functions(plan, config.trap_unknown_imports)?;
    // Fused adapters read and write a component instance's flags global: each such
    // instance gets a one-global core instance first, so the plan's instances shift.
    let mut flags: Vec<u32> = plan
        .instances
        .iter()
        .flat_map(|instance| &instance.args)
        .filter_map(|arg| match arg {
            CoreDef::InstanceFlags(i) => Some(*i),
            _ => None,
        })
        .collect();
    flags.sort_unstable();
    flags.dedup();
    let shift = flags.len();
    let mut instances: Vec<ImageInstance<'_>> = flags
        .iter()
        .map(|_| ImageInstance {
            wasm: FLAGS_MODULE,
            imports: Imports::Positional(Vec::new()),
        })
        .collect();
    for instance in &plan.instances {
        let args = instance
            .args
            .iter()
            .map(|arg| match *arg {
                CoreDef::Item(item) => ImportDef::Item {
                    instance: item.instance + shift,
                    kind: item.kind,
                    index: item.index,
                },
                CoreDef::Trampoline(t) => ImportDef::Trampoline(t),
                CoreDef::InstanceFlags(i) => ImportDef::Item {
                    instance: flags.binary_search(&i).unwrap_or_default(),
                    kind: ItemKind::Global,
                    index: 0,
                },
            })
            .collect();
        instances.push(ImageInstance {
            wasm: &plan.modules[instance.module].wasm,
            imports: Imports::Positional(args),
        });
    }
    let plan = &shifted(plan, shift);
    super::compile_instances(&instances, target, config, Entry::Command(0), Some(plan)).map_err(
        |ImageError { instance, error }| {
            // Offsets in a module count from the component's start.
            let base = instance
                .checked_sub(shift)
                .and_then(|i| plan.instances.get(i))
                .and_then(|i| plan.modules[i.module].input_offset);
            match (error, base) {
                (CompileError::InvalidWasm { message, offset }, Some(base)) => {
                    CompileError::InvalidWasm {
                        message,
                        offset: base + offset,
                    }
                }
                (error, _) => error,
            }
        },
    )
}

/// A core module of one global, a component instance's flags: bit 0 is `may_leave`,
/// which fused adapters clear while the instance must not call out (wasmtime's layout).
/// `(module (global (export "flags") (mut i32) (i32.const 1)))`.
const FLAGS_MODULE: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
    0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x01, 0x0b, // global section
    0x07, 0x09, 0x01, 0x05, b'f', b'l', b'a', b'g', b's', 0x03, 0x00, // export section
];

/// `plan` with every reference to a core instance moved up by `shift` (the flags
/// instances that come first).
fn shifted<'data>(plan: &ComponentPlan<'data>, shift: usize) -> ComponentPlan<'data> {
    let mut plan = plan.clone();
    let item = |item: &mut CoreItem| item.instance += shift;
    let def = |def: &mut CoreDef| {
        if let CoreDef::Item(i) = def {
            item(i);
        }
    };
    plan.memories.iter_mut().for_each(item);
    plan.reallocs.iter_mut().for_each(def);
    plan.post_returns.iter_mut().for_each(def);
    plan.exports.iter_mut().for_each(|e| def(&mut e.func));
    for resource in &mut plan.resources {
        if let Resource::Defined {
            destructor: Some(d),
            ..
        } = resource
        {
            def(d);
        }
    }
    plan
}

/// The host function each trampoline lowers (`None` for other trampolines, and for
/// imports nothing provides under `--trap-unknown-imports`); an unknown import, or a
/// signature that differs from the host's, is an error. (The host lowers strings in
/// every encoding the options name.)
fn host_functions(
    plan: &ComponentPlan<'_>,
    trap_unknown: bool,
) -> Result<Vec<Option<&'static HostFunc>>> {
    plan.trampolines
        .iter()
        .zip(&plan.trampoline_signatures)
        .map(|(trampoline, signature)| {
            let Trampoline::LowerImport { func, .. } = trampoline else {
                return Ok(None);
            };
            let Some(host) = wasi_p2::find(&func.interface, &func.name) else {
                if trap_unknown {
                    return Ok(None);
                }
                return Err(CompileError::Link(format!(
                    "unknown import: {} is not provided",
                    func.display()
                )));
            };
            if signature.params != host.params || signature.results != host.results {
                return Err(CompileError::Link(format!(
                    "incompatible import type: {} is lowered to core type {} but the host's is {}",
                    func.display(),
                    describe_sig(&signature.params, &signature.results),
                    describe_sig(host.params, host.results)
                )));
            }
            Ok(Some(host))
        })
        .collect()
}

fn describe_sig(params: &[FlatType], results: &[FlatType]) -> String {
    let list = |types: &[FlatType]| {
        types
            .iter()
            .map(|t| format!("{t:?}").to_lowercase())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("({}) -> ({})", list(params), list(results))
}

fn ir_type(flat: FlatType) -> ir::Type {
    match flat {
        FlatType::I32 => types::I32,
        FlatType::I64 => types::I64,
        FlatType::F32 => types::F32,
        FlatType::F64 => types::F64,
    }
}

/// A trampoline's signature: the wasm convention, VM context first.
fn wasm_signature(sig: &FlatSig, ptr: ir::Type) -> ir::Signature {
    let mut signature = ir::Signature::new(WASM_CALL_CONV);
    signature
        .params
        .push(ir::AbiParam::special(ptr, ir::ArgumentPurpose::VMContext));
    signature
        .params
        .extend(sig.params.iter().map(|t| ir::AbiParam::new(ir_type(*t))));
    signature
        .returns
        .extend(sig.results.iter().map(|t| ir::AbiParam::new(ir_type(*t))));
    signature
}

/// The name a trampoline has in symbols and trap reports.
fn trampoline_name(plan: &ComponentPlan<'_>, index: usize) -> String {
    let resource = |r: usize| match plan.resources.get(r) {
        Some(Resource::Imported { interface, name }) => format!("{interface}#{name}"),
        _ => format!("resource{r}"),
    };
    match &plan.trampolines[index] {
        Trampoline::LowerImport { func, .. } => func.display(),
        Trampoline::ResourceNew { resource: r, .. } => format!("[resource-new]{}", resource(*r)),
        Trampoline::ResourceRep { resource: r, .. } => format!("[resource-rep]{}", resource(*r)),
        Trampoline::ResourceDrop { resource: r, .. } => {
            format!("[resource-drop]{}", resource(*r))
        }
        Trampoline::Transcoder { op, .. } => format!("transcode {op}"),
        Trampoline::Trap => "adapter trap".to_string(),
    }
}

/// Declares every trampoline of `plan`, by position.
pub fn declare_trampolines(
    writer: &mut ObjectWriter,
    plan: &ComponentPlan<'_>,
    ptr: ir::Type,
) -> Result<Vec<FuncId>> {
    let mut seen = std::collections::HashSet::new();
    (0..plan.trampolines.len())
        .map(|t| {
            // Symbol names are unique: a second trampoline of the same name (the same
            // built-in in another instance, or with other options) gets its position.
            let name = format!("component:{}", symbol_safe(&trampoline_name(plan, t)));
            let name = if seen.insert(name.clone()) {
                name
            } else {
                format!("{name}[{t}]")
            };
            writer.declare_local(&name, &wasm_signature(&plan.trampoline_signatures[t], ptr))
        })
        .collect()
}

/// The `wasi:cli/run@0.2` export's `run`, which must be `func() -> result`.
fn run_export<'p>(plan: &'p ComponentPlan<'_>) -> Result<&'p crate::component::plan::Export> {
    let run = plan
        .exports
        .iter()
        .find(|export| {
            export
                .name
                .split_once('#')
                .is_some_and(|(interface, func)| {
                    let (interface, version) = wasi_p2::split_version(interface);
                    interface == "wasi:cli/run"
                        && wasi_p2::is_compatible_version(version)
                        && func == "run"
                })
        })
        .ok_or_else(|| {
            CompileError::Link(
                "the component exports no `wasi:cli/run@0.2` interface: nothing to run".into(),
            )
        })?;
    if !run.signature.params.is_empty() || run.signature.results != [FlatType::I32] {
        return Err(CompileError::Link(format!(
            "`{}` must have type `func() -> result`",
            run.name
        )));
    }
    Ok(run)
}

/// What `wafer_image_main` runs: the `wasi:cli/run` export, `() -> result`.
pub fn entry_point(
    plan: &ComponentPlan<'_>,
    modules: &[ModuleInfo<'_>],
) -> Result<(usize, EntryPoint)> {
    let run = run_export(plan)?;
    let func = |def: &CoreDef| match *def {
        CoreDef::Item(CoreItem {
            instance,
            kind: ItemKind::Func,
            index,
        }) if (index as usize) < modules[instance].funcs.len() => Ok((instance, index)),
        _ => Err(CompileError::unsupported(format!(
            "component: `{}` lifts something other than a core function",
            run.name
        ))),
    };
    let (instance, main) = func(&run.func)?;
    let post_return = plan.options[run.options]
        .post_return
        .map(|p| func(&plan.post_returns[p]))
        .transpose()?;
    Ok((
        instance,
        EntryPoint {
            initialize: None,
            main: Some(main),
            status: ExitStatus::ResultDiscriminant,
            post_return,
        },
    ))
}

/// The function `def` names, and the VM context to call it with.
fn core_func(menvs: &[ModuleEnv<'_>], def: &CoreDef) -> Result<(FuncId, DataId, ir::Signature)> {
    let CoreDef::Item(CoreItem {
        instance,
        kind: ItemKind::Func,
        index,
    }) = *def
    else {
        return Err(CompileError::unsupported(
            "component: a canonical option naming something other than a core function",
        ));
    };
    let menv = &menvs[instance];
    let sig = menv.wasm_signature(menv.module.func_sig(index));
    match menv.symbols.imports.get(index as usize) {
        Some(ImportTarget::Wasm { func, vmctx }) => Ok((*func, *vmctx, sig)),
        Some(ImportTarget::Host(_)) => Err(CompileError::unsupported(
            "component: a host function as a canonical option",
        )),
        None => Ok((menv.symbols.funcs[index as usize], menv.symbols.vmctx, sig)),
    }
}

/// The VM context holding the `VMMemoryDefinition` of memory `item`, and its offset.
fn memory_site(menvs: &[ModuleEnv<'_>], item: &CoreItem) -> (DataId, u32) {
    let menv = &menvs[item.instance];
    let imported = menv.module.num_imported_memories;
    if item.index < imported {
        let site = menv.symbols.imported_memories[item.index as usize];
        let owner = &menvs[site.instance];
        (site.vmctx, owner.offsets.defined_memory(site.defined_index))
    } else {
        (
            menv.symbols.vmctx,
            menv.offsets.defined_memory(item.index - imported),
        )
    }
}

/// Defines the component's handle tables, contexts, realloc wrappers and trampolines.
pub fn define(
    writer: &mut ObjectWriter,
    isa: &dyn TargetIsa,
    context: &mut Context,
    plan: &ComponentPlan<'_>,
    menvs: &[ModuleEnv<'_>],
    trampolines: &[FuncId],
    config: &CompileConfig,
) -> Result<()> {
    let menv = &menvs[0];
    let ptr = menv.pointer_type;
    let layout = CanonContext::new(ptr.bytes() as u8);
    let hosts = host_functions(plan, config.trap_unknown_imports)?;
    writer.set_world(crate::component::world::encode(plan, |interface, name| {
        wasi_p2::find(interface, name).is_some()
    }));

    // A handle table and a context (no memory) per component instance.
    let mut tables = Vec::new();
    let mut instance_contexts = Vec::new();
    for i in 0..plan.component_instances {
        let table = writer.declare_data(&format!("component:handles[{i}]"), true)?;
        let mut description = DataDescription::new();
        description.define_zeroinit(layout.handle_table_size() as usize);
        description.set_align(u64::from(ptr.bytes()));
        writer.define_data(table, &description)?;
        tables.push(table);
        let context = writer.declare_data(&format!("component:context[{i}]"), true)?;
        define_context(
            writer,
            &layout,
            context,
            table,
            None,
            None,
            StringEncoding::Utf8,
        )?;
        instance_contexts.push(context);
    }

    // A C-convention wrapper for each realloc, which the runtime calls.
    let mut reallocs = Vec::new();
    for (r, def) in plan.reallocs.iter().enumerate() {
        let (func, vmctx, signature) = core_func(menvs, def)?;
        let mut c_sig = ir::Signature::new(menv.host_call_conv);
        c_sig.params = vec![ir::AbiParam::new(types::I32); 4];
        c_sig.returns = vec![ir::AbiParam::new(types::I32)];
        let id = writer.declare_local(&format!("component:realloc[{r}]"), &c_sig)?;
        let mut ir_func = ir::Function::with_name_signature(UserFuncName::user(4, r as u32), c_sig);
        let mut builder_context = FunctionBuilderContext::new();
        let (mut builder, block) = start(&mut ir_func, &mut builder_context);
        let mut env = FuncEnv::new(menv);
        let mut args = vec![env.data_addr(&mut builder, vmctx)];
        args.extend_from_slice(builder.block_params(block));
        let callee = env.func_ref(builder.func, func, signature);
        let call = builder.ins().call(callee, &args);
        let results = builder.inst_results(call).to_vec();
        builder.ins().return_(&results);
        builder.finalize(menv.frontend_config);
        let compiled = compile_function(isa, context, ir_func, id)?;
        writer.define_function(id, "cabi_realloc", compiled)?;
        reallocs.push(id);
    }

    // A context per set of canonical options.
    let mut option_contexts = Vec::new();
    for (o, options) in plan.options.iter().enumerate() {
        let id = writer.declare_data(&format!("component:options[{o}]"), true)?;
        let memory = options
            .memory
            .map(|m| memory_site(menvs, &plan.memories[m]));
        let realloc = options.realloc.map(|r| reallocs[r]);
        let table = tables
            .get(options.instance as usize)
            .copied()
            .ok_or_else(|| CompileError::Codegen("options of no component instance".into()))?;
        define_context(
            writer,
            &layout,
            id,
            table,
            memory,
            realloc,
            options.encoding,
        )?;
        option_contexts.push(id);
    }

    for (t, trampoline) in plan.trampolines.iter().enumerate() {
        let signature = &plan.trampoline_signatures[t];
        let name = trampoline_name(plan, t);
        let mut ir_func = ir::Function::with_name_signature(
            UserFuncName::user(5, t as u32),
            wasm_signature(signature, ptr),
        );
        let mut builder_context = FunctionBuilderContext::new();
        let (mut builder, block) = start(&mut ir_func, &mut builder_context);
        let params = builder.block_params(block)[1..].to_vec();
        let mut env = FuncEnv::new(menv);
        let results = match trampoline {
            Trampoline::LowerImport { options, .. } => match hosts[t] {
                Some(host) => {
                    let call = HostCall {
                        symbol: host.symbol,
                        context: option_contexts[*options],
                        params: host.params.iter().map(|t| ir_type(*t)).collect(),
                        results: host.results.iter().map(|t| ir_type(*t)).collect(),
                    };
                    call_host(&mut builder, &mut env, writer, &layout, call, &params)?
                }
                None => {
                    // Nothing provides it (`--trap-unknown-imports`).
                    builder.ins().trap(trap_code(TrapKind::UnknownImport));
                    builder.finalize(menv.frontend_config);
                    let compiled = compile_function(isa, context, ir_func, trampolines[t])?;
                    writer.define_function(trampolines[t], &name, compiled)?;
                    continue;
                }
            },
            Trampoline::ResourceNew { instance, resource }
            | Trampoline::ResourceRep { instance, resource } => {
                let ty = builder
                    .ins()
                    .iconst(types::I32, i64::from(resource_type(plan, *resource)));
                let symbol = if matches!(trampoline, Trampoline::ResourceNew { .. }) {
                    wafer_abi::symbols::RESOURCE_NEW
                } else {
                    wafer_abi::symbols::RESOURCE_REP
                };
                let call = HostCall {
                    symbol,
                    context: instance_contexts[*instance as usize],
                    params: vec![types::I32, types::I32],
                    results: vec![types::I32],
                };
                call_host(
                    &mut builder,
                    &mut env,
                    writer,
                    &layout,
                    call,
                    &[ty, params[0]],
                )?
            }
            Trampoline::ResourceDrop { instance, resource } => {
                let ty = builder
                    .ins()
                    .iconst(types::I32, i64::from(resource_type(plan, *resource)));
                let call = HostCall {
                    symbol: wafer_abi::symbols::RESOURCE_DROP,
                    context: instance_contexts[*instance as usize],
                    params: vec![types::I32, types::I32],
                    results: vec![types::I64],
                };
                let dropped = call_host(
                    &mut builder,
                    &mut env,
                    writer,
                    &layout,
                    call,
                    &[ty, params[0]],
                )?[0];
                if let Some(Resource::Defined {
                    destructor: Some(destructor),
                    ..
                }) = plan.resources.get(*resource)
                {
                    // An own handle of a resource with a destructor: run it on the rep.
                    let (func, vmctx, signature) = core_func(menvs, destructor)?;
                    let run = builder.create_block();
                    let done = builder.create_block();
                    let needed = builder.ins().ushr_imm_u(dropped, 32);
                    builder.ins().brif(needed, run, &[], done, &[]);
                    builder.switch_to_block(run);
                    builder.seal_block(run);
                    let rep = builder.ins().ireduce(types::I32, dropped);
                    let vmctx = env.data_addr(&mut builder, vmctx);
                    let callee = env.func_ref(builder.func, func, signature);
                    builder.ins().call(callee, &[vmctx, rep]);
                    builder.ins().jump(done, &[]);
                    builder.switch_to_block(done);
                    builder.seal_block(done);
                }
                Vec::new()
            }
            Trampoline::Trap => {
                let code = params[0];
                for (number, kind) in crate::component::adapter_trap_kinds() {
                    let is = builder.ins().icmp_imm_u(
                        ir::condcodes::IntCC::Equal,
                        code,
                        i64::from(number),
                    );
                    builder.ins().trapnz(is, trap_code(kind));
                }
                builder.ins().trap(trap_code(TrapKind::Unreachable));
                builder.finalize(menv.frontend_config);
                let compiled = compile_function(isa, context, ir_func, trampolines[t])?;
                writer.define_function(trampolines[t], &name, compiled)?;
                continue;
            }
            Trampoline::Transcoder { op, from, to } => {
                let Some(operation) = transcode_op(op) else {
                    return Err(CompileError::unsupported(format!(
                        "component: the string transcoder `{op}` between component instances"
                    )));
                };
                let mut definition = |memory: usize| {
                    let (vmctx, offset) = memory_site(menvs, &plan.memories[memory]);
                    let vmctx = env.data_addr(&mut builder, vmctx);
                    builder.ins().iadd_imm_u(vmctx, i64::from(offset))
                };
                let (from, to) = (definition(*from), definition(*to));
                // The parameters go to the runtime in a stack slot, which returns the
                // results there.
                let slot = builder.create_sized_stack_slot(ir::StackSlotData::new(
                    ir::StackSlotKind::ExplicitSlot,
                    20,
                    2,
                ));
                for (i, param) in params.iter().enumerate() {
                    builder.ins().stack_store(ptr, *param, slot, 4 * i as i32);
                }
                let args = builder.ins().stack_addr(ptr, slot, 0);
                let operation = builder.ins().iconst(types::I32, i64::from(operation));
                let mut sig = ir::Signature::new(menv.host_call_conv);
                sig.params = [ptr, ptr, types::I32, ptr].map(ir::AbiParam::new).to_vec();
                sig.returns = vec![ir::AbiParam::new(types::I32)];
                let id = writer.declare_import(wafer_abi::symbols::TRANSCODE, &sig)?;
                let callee = env.func_ref(builder.func, id, sig);
                let call = builder.ins().call(callee, &[from, to, operation, args]);
                let kind = builder.inst_results(call)[0];
                trap_if_nonzero(&mut builder, kind);
                (0..signature.results.len())
                    .map(|i| {
                        builder
                            .ins()
                            .stack_load(ptr, types::I32, slot, 4 * i as i32)
                    })
                    .collect()
            }
        };
        builder.ins().return_(&results);
        builder.finalize(menv.frontend_config);
        let compiled = compile_function(isa, context, ir_func, trampolines[t])?;
        writer.define_function(trampolines[t], &name, compiled)?;
    }
    Ok(())
}

/// A call from a trampoline into the runtime: the C convention, a canonical-ABI
/// context first.
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

/// Emits `call` with `args` after the context, then the check of the trap the host may
/// have asked for; returns the results.
fn call_host(
    builder: &mut FunctionBuilder<'_>,
    env: &mut FuncEnv<'_>,
    writer: &mut ObjectWriter,
    layout: &CanonContext,
    call: HostCall<'_>,
    args: &[ir::Value],
) -> Result<Vec<ir::Value>> {
    let mut sig = ir::Signature::new(env.menv.host_call_conv);
    sig.params.push(ir::AbiParam::new(env.pointer_type()));
    sig.params
        .extend(call.params.iter().map(|t| ir::AbiParam::new(*t)));
    sig.returns
        .extend(call.results.iter().map(|t| ir::AbiParam::new(*t)));
    let id = writer.declare_import(call.symbol, &sig)?;
    let context = env.data_addr(builder, call.context);
    let mut call_args = vec![context];
    call_args.extend_from_slice(args);
    let callee = env.func_ref(builder.func, id, sig);
    let inst = builder.ins().call(callee, &call_args);
    let results = builder.inst_results(inst).to_vec();
    check_host_trap(builder, context, layout);
    Ok(results)
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

/// The runtime's number for resource type `resource`: the host's for an imported WASI
/// resource, one no host function hands out for another import (so every use of its
/// handles traps), and one per resource a component defines.
fn resource_type(plan: &ComponentPlan<'_>, resource: usize) -> u32 {
    match plan.resources.get(resource) {
        Some(Resource::Imported { interface, name }) => {
            wasi_p2::find_resource(interface, name).unwrap_or(u32::MAX)
        }
        _ => wasi_p2::FIRST_GUEST_RESOURCE + resource as u32,
    }
}

/// Emits, after a host call, the check of the context's trap field: a nonzero value is
/// the trap kind the host asks for.
fn check_host_trap(builder: &mut FunctionBuilder<'_>, context: ir::Value, layout: &CanonContext) {
    let kind = builder.ins().load(
        types::I32,
        crate::translate::env::vm_flags(),
        context,
        layout.trap() as i32,
    );
    trap_if_nonzero(builder, kind);
}

/// Emits a trap with kind `kind` (an `i32` holding a `TrapKind`) unless it is 0.
fn trap_if_nonzero(builder: &mut FunctionBuilder<'_>, kind: ir::Value) {
    let trap = builder.create_block();
    let done = builder.create_block();
    builder.set_cold_block(trap);
    builder.ins().brif(kind, trap, &[], done, &[]);
    builder.switch_to_block(trap);
    builder.seal_block(trap);
    for host_trap in HOST_TRAPS {
        let is = builder
            .ins()
            .icmp_imm_u(ir::condcodes::IntCC::Equal, kind, host_trap as i64);
        builder.ins().trapnz(is, trap_code(host_trap));
    }
    builder.ins().trap(trap_code(TrapKind::Unreachable));
    builder.switch_to_block(done);
    builder.seal_block(done);
}

/// Defines a canonical-ABI context.
fn define_context(
    writer: &mut ObjectWriter,
    layout: &CanonContext,
    id: DataId,
    table: DataId,
    memory: Option<(DataId, u32)>,
    realloc: Option<FuncId>,
    encoding: StringEncoding,
) -> Result<()> {
    let mut bytes = vec![0u8; layout.size() as usize];
    let encoding = match encoding {
        StringEncoding::Utf8 => wasi_p2::STRING_UTF8,
        StringEncoding::Utf16 => wasi_p2::STRING_UTF16,
        StringEncoding::CompactUtf16 => wasi_p2::STRING_LATIN1_UTF16,
    };
    let at = layout.encoding() as usize;
    bytes[at..at + 4].copy_from_slice(&encoding.to_le_bytes());
    let mut description = DataDescription::new();
    let table = writer
        .module_mut()
        .declare_data_in_data(table, &mut description);
    description.write_data_addr(layout.handles(), table, 0);
    if let Some((vmctx, offset)) = memory {
        let vmctx = writer
            .module_mut()
            .declare_data_in_data(vmctx, &mut description);
        description.write_data_addr(layout.memory(), vmctx, i64::from(offset));
    }
    if let Some(realloc) = realloc {
        let func = writer
            .module_mut()
            .declare_func_in_data(realloc, &mut description);
        description.write_function_addr(layout.realloc(), func);
    }
    description.define(bytes.into_boxed_slice());
    description.set_align(16);
    writer.define_data(id, &description)
}

/// A function builder on a fresh function with one entry block, current and sealed.
fn start<'a>(
    func: &'a mut ir::Function,
    context: &'a mut FunctionBuilderContext,
) -> (FunctionBuilder<'a>, ir::Block) {
    let mut builder = FunctionBuilder::new(func, context);
    let block = builder.create_block();
    builder.append_block_params_for_function_params(block);
    builder.switch_to_block(block);
    builder.seal_block(block);
    (builder, block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_module_is_the_text_it_quotes() {
        let text = r#"(module (global (export "flags") (mut i32) (i32.const 1)))"#;
        assert_eq!(wat::parse_str(text).unwrap(), FLAGS_MODULE);
    }

    #[test]
    fn only_0_2_exports_of_wasi_cli_run_are_entries() {
        let export = |name: &str| crate::component::plan::Export {
            name: name.to_string(),
            func: CoreDef::Trampoline(0),
            options: 0,
            signature: FlatSig {
                params: vec![],
                results: vec![FlatType::I32],
            },
        };
        for (name, found) in [
            ("wasi:cli/run@0.2.0#run", true),
            ("wasi:cli/run@0.2.12#run", true),
            ("wasi:cli/run@0.3.0#run", false),
            ("wasi:cli/run@0.2.0#other", false),
            ("run", false),
        ] {
            let plan = ComponentPlan {
                exports: vec![export(name)],
                ..ComponentPlan::default()
            };
            assert_eq!(run_export(&plan).is_ok(), found, "{name}");
        }
    }
}
