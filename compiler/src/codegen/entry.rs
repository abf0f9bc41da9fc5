//! Generated functions around the compiled code: adapters that give imported host
//! functions a wasm-convention entry, each instance's instantiation function, the image
//! entry points (`wafer_image_init`, `wafer_image_main`) and, for test harnesses, the
//! harness table with one trampoline per exported function.

use cranelift_codegen::Context;
use cranelift_codegen::ir::{self, InstBuilder, UserFuncName};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{DataDescription, FuncId, Module};
use wafer_abi::harness::{
    EXPORT_FUNC, EXPORT_GLOBAL, EXPORT_MEMORY, EXPORT_NONE, EXPORT_TABLE, VALUE_SLOT_SIZE,
};
use wafer_abi::trap::TrapKind;

use super::init::build_init;
use super::link_plan::ResolvedImports;
use super::object::ObjectWriter;
use super::{EntryPoint, ExitStatus, compile_function};
use crate::environ::ExportKind;
use crate::error::Result;
use crate::translate::env::{FuncEnv, ImportTarget, ModuleEnv, vm_flags};

fn c_signature(menv: &ModuleEnv<'_>, params: &[ir::Type]) -> ir::Signature {
    let mut signature = ir::Signature::new(menv.host_call_conv);
    signature
        .params
        .extend(params.iter().map(|ty| ir::AbiParam::new(*ty)));
    signature
}

/// A function builder on a fresh function with one entry block, current and sealed.
fn start_function<'a>(
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

/// Defines the metering slow path's shim: a function in the `preserve_all` convention
/// that calls the runtime's `wafer_rt_meter_exhausted`, which leaves its answer in the
/// meter. Cranelift saves, in the shim's prologue, every register the runtime's call may
/// clobber, so a check's call site clobbers nothing.
pub fn define_meter_slow_path(
    writer: &mut ObjectWriter,
    isa: &dyn TargetIsa,
    context: &mut Context,
    menv: &ModuleEnv<'_>,
    meter: crate::translate::env::MeterSymbols,
) -> Result<()> {
    let mut func = ir::Function::with_name_signature(
        UserFuncName::user(2, 3),
        ir::Signature::new(CallConv::PreserveAll),
    );
    let mut builder_context = FunctionBuilderContext::new();
    let (mut builder, _) = start_function(&mut func, &mut builder_context);
    let mut env = FuncEnv::new(menv);
    env.call_libcall(&mut builder, meter.exhausted, &[], &[ir::types::I64], &[]);
    builder.ins().return_(&[]);
    builder.finalize(menv.frontend_config);
    let compiled = compile_function(isa, context, func, meter.slow_path)?;
    writer.define_function(meter.slow_path, "metering slow path", compiled)
}

/// Defines the wasm-convention adapters of the instance's escaping host imports, and
/// the trapping stubs that stand in for imports nothing provides.
pub fn define_import_adapters(
    writer: &mut ObjectWriter,
    isa: &dyn TargetIsa,
    context: &mut Context,
    menv: &ModuleEnv<'_>,
) -> Result<()> {
    let module = menv.module;
    for &(index, stub) in &menv.symbols.trap_stubs {
        let sig = module.func_sig(index);
        let mut ir_func = ir::Function::with_name_signature(
            UserFuncName::user(0, index),
            menv.wasm_signature(sig),
        );
        let mut builder_context = FunctionBuilderContext::new();
        let (mut builder, _) = start_function(&mut ir_func, &mut builder_context);
        let import = module.funcs[index as usize]
            .import
            .as_ref()
            .expect("stubs are for imports");
        // The report names the import and points at its place in the import section.
        builder.set_srcloc(ir::SourceLoc::new(import.offset as u32));
        builder
            .ins()
            .trap(crate::translate::env::trap_code(TrapKind::UnknownImport));
        builder.finalize(menv.frontend_config);
        let compiled = compile_function(isa, context, ir_func, stub)?;
        writer.define_function(
            stub,
            &format!("{}.{}", import.module, import.field),
            compiled,
        )?;
    }
    for (index, func) in module
        .funcs
        .iter()
        .enumerate()
        .take(module.num_imported_funcs as usize)
    {
        let Some(slot) = module.func_ref_slots[index] else {
            continue;
        };
        let ImportTarget::Host(host) = menv.symbols.imports[index] else {
            continue; // functions of other instances are referenced directly
        };
        let sig = module.func_sig(index as u32);
        let mut ir_func = ir::Function::with_name_signature(
            UserFuncName::user(0, index as u32),
            menv.wasm_signature(sig),
        );
        let mut builder_context = FunctionBuilderContext::new();
        let (mut builder, block) = start_function(&mut ir_func, &mut builder_context);
        let args = builder.block_params(block).to_vec();
        let mut env = FuncEnv::new(menv);
        let callee = env.func_ref(builder.func, host, menv.host_signature(sig));
        let call = builder.ins().call(callee, &args);
        let results = builder.inst_results(call).to_vec();
        builder.ins().return_(&results);
        builder.finalize(menv.frontend_config);
        let adapter = menv.symbols.func_ref_entries[slot as usize].0;
        let compiled = compile_function(isa, context, ir_func, adapter)?;
        let import = func.import.as_ref().expect("imported function");
        writer.define_function(
            adapter,
            &format!("{}.{}", import.module, import.field),
            compiled,
        )?;
    }
    Ok(())
}

/// Defines the instantiation function of instance `index`, which sets the VM context's
/// stack limit from `stack_limit` (`wafer_rt_stack_limit`) when the image's code reads
/// it; returns its id.
pub fn define_instance_init(
    writer: &mut ObjectWriter,
    isa: &dyn TargetIsa,
    context: &mut Context,
    menv: &ModuleEnv<'_>,
    resolved: &ResolvedImports,
    index: usize,
    stack_limit: Option<FuncId>,
) -> Result<FuncId> {
    let id = writer.declare_local(
        &format!("wasm[{index}]:instantiate"),
        &c_signature(menv, &[]),
    )?;
    let func = build_init(menv, resolved, stack_limit)?;
    let compiled = compile_function(isa, context, func, id)?;
    writer.define_function(id, "wafer-instantiate", compiled)?;
    Ok(id)
}

/// The runtime's grant functions an image calls: only those for the grants it has, so
/// the linker leaves the others' code out.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrantCalls {
    /// The image has grants: check them.
    pub check: bool,
    /// It grants directories: open them.
    pub dirs: bool,
    /// It grants listening sockets: open them (preview1's pre-opened listeners).
    pub listeners: bool,
    /// It is a component: its WASI 0.2 host opens the directories, and its guest binds
    /// and listens on the granted addresses itself.
    pub component: bool,
}

impl GrantCalls {
    /// The calls an image with the grants blob `grants` needs (an unreadable blob is
    /// checked, and the check fails); `component` for a component image.
    pub fn for_grants(grants: &[u8], component: bool) -> GrantCalls {
        use wafer_abi::grants::Grant;
        match wafer_abi::grants::parse(grants) {
            Err(_) => GrantCalls {
                check: !grants.is_empty(),
                component,
                ..GrantCalls::default()
            },
            Ok(records) => {
                let records: Vec<_> = records.collect();
                GrantCalls {
                    check: !records.is_empty(),
                    dirs: records
                        .iter()
                        .any(|g| matches!(g, Ok(Grant::Preopen { .. }))),
                    listeners: !component
                        && records.iter().any(|g| matches!(g, Ok(Grant::Listen(_)))),
                    component,
                }
            }
        }
    }
}

/// Defines `wafer_image_init` (checks and applies the grants, then instantiates every
/// instance in order) and `wafer_image_main` (runs the entry instance's entry point, if
/// there is one, and returns the exit status: the entry point's `i32` result, or 0).
pub fn define_image_entries(
    writer: &mut ObjectWriter,
    isa: &dyn TargetIsa,
    context: &mut Context,
    menvs: &[ModuleEnv<'_>],
    inits: &[FuncId],
    main: Option<(usize, EntryPoint)>,
    grants: GrantCalls,
) -> Result<()> {
    let menv = &menvs[0];
    let init_id = writer.declare_export(wafer_abi::symbols::IMAGE_INIT, &c_signature(menv, &[]))?;
    let mut func =
        ir::Function::with_name_signature(UserFuncName::user(2, 0), c_signature(menv, &[]));
    let mut builder_context = FunctionBuilderContext::new();
    let (mut builder, _) = start_function(&mut func, &mut builder_context);
    let mut env = FuncEnv::new(menv);
    // Only an image with grants references the runtime's grant code, so the linker
    // leaves it out of every other image.
    let mut grant_calls = Vec::new();
    for (wanted, symbol) in [
        (grants.check, wafer_abi::symbols::APPLY_GRANTS),
        (
            grants.dirs,
            if grants.component {
                wafer_abi::symbols::P2_OPEN_GRANTED_DIRS
            } else {
                wafer_abi::symbols::OPEN_GRANTED_DIRS
            },
        ),
        (grants.listeners, wafer_abi::symbols::OPEN_GRANTED_LISTENERS),
    ] {
        if wanted {
            grant_calls.push(writer.declare_import(symbol, &c_signature(menv, &[]))?);
        }
    }
    for init in grant_calls.iter().chain(inits) {
        let callee = env.func_ref(builder.func, *init, c_signature(menv, &[]));
        builder.ins().call(callee, &[]);
    }
    builder.ins().return_(&[]);
    builder.finalize(menv.frontend_config);
    let compiled = compile_function(isa, context, func, init_id)?;
    writer.define_function(init_id, "wafer-image-init", compiled)?;

    let mut main_signature = c_signature(menv, &[]);
    main_signature
        .returns
        .push(ir::AbiParam::new(ir::types::I32));
    let main_id = writer.declare_export(wafer_abi::symbols::IMAGE_MAIN, &main_signature)?;
    let mut func = ir::Function::with_name_signature(UserFuncName::user(2, 1), main_signature);
    let mut builder_context = FunctionBuilderContext::new();
    let (mut builder, _) = start_function(&mut func, &mut builder_context);
    let mut status = None;
    if let Some((instance, entry)) = main {
        let menv = &menvs[instance];
        let mut env = FuncEnv::new(menv);
        if let Some(initialize) = entry.initialize {
            call_export(&mut builder, &mut env, initialize, &[]);
        }
        if entry.status == ExitStatus::AsyncRun {
            let mut signature = c_signature(menv, &[]);
            signature.returns.push(ir::AbiParam::new(ir::types::I32));
            let run = writer.declare_import(wafer_abi::symbols::COMPONENT_ASYNC_RUN, &signature)?;
            let run = env.func_ref(builder.func, run, signature);
            let call = builder.ins().call(run, &[]);
            status = Some(builder.inst_results(call)[0]);
        }
        if let Some(export) = entry.main {
            let results = call_export(&mut builder, &mut env, export, &[]);
            match (entry.status, results.first()) {
                (ExitStatus::I32, Some(&result)) => status = Some(result),
                (ExitStatus::ResultDiscriminant, Some(&result)) => {
                    let invalid = builder.ins().icmp_imm_u(
                        ir::condcodes::IntCC::UnsignedGreaterThan,
                        result,
                        1,
                    );
                    builder.ins().trapnz(
                        invalid,
                        crate::translate::env::trap_code(TrapKind::InvalidDiscriminant),
                    );
                    status = Some(result);
                }
                _ => {}
            }
            if let Some((instance, post_return)) = entry.post_return {
                let mut env = FuncEnv::new(&menvs[instance]);
                call_export(&mut builder, &mut env, post_return, &results);
            }
        }
    }
    let status = status.unwrap_or_else(|| builder.ins().iconst(ir::types::I32, 0));
    builder.ins().return_(&[status]);
    builder.finalize(menv.frontend_config);
    let compiled = compile_function(isa, context, func, main_id)?;
    writer.define_function(main_id, "wafer-main", compiled)
}

/// Calls function `func_index` of `env`'s instance the way a direct call does, passing
/// that instance's VM context; returns the results.
pub(super) fn call_export(
    builder: &mut FunctionBuilder<'_>,
    env: &mut FuncEnv<'_>,
    func_index: u32,
    args: &[ir::Value],
) -> Vec<ir::Value> {
    let menv = env.menv;
    let sig = menv.module.func_sig(func_index);
    let own_vmctx = env.data_addr(builder, menv.symbols.vmctx);
    let (callee, vmctx, signature) = match menv.symbols.imports.get(func_index as usize) {
        Some(ImportTarget::Host(id)) => (*id, own_vmctx, menv.host_signature(sig)),
        Some(ImportTarget::Wasm { func, vmctx }) => {
            let vmctx = env.data_addr(builder, *vmctx);
            (*func, vmctx, menv.wasm_signature(sig))
        }
        None => (
            menv.symbols.funcs[func_index as usize],
            own_vmctx,
            menv.wasm_signature(sig),
        ),
    };
    let mut call_args = vec![vmctx];
    call_args.extend_from_slice(args);
    let callee = env.func_ref(builder.func, callee, signature);
    let call = builder.ins().call(callee, &call_args);
    builder.inst_results(call).to_vec()
}

/// A trampoline `extern "C" fn(values: *mut [u8; 16])` that calls exported function
/// `func_index` with arguments read from `values` and writes its results back there.
fn build_trampoline(menv: &ModuleEnv<'_>, func_index: u32) -> ir::Function {
    let ptr = menv.pointer_type;
    let mut func = ir::Function::with_name_signature(
        UserFuncName::user(3, func_index),
        c_signature(menv, &[ptr]),
    );
    let mut builder_context = FunctionBuilderContext::new();
    let (mut builder, block) = start_function(&mut func, &mut builder_context);
    let values = builder.block_params(block)[0];
    let mut env = FuncEnv::new(menv);
    let sig = menv.module.func_sig(func_index);
    let args: Vec<ir::Value> = sig
        .params
        .iter()
        .enumerate()
        .map(|(i, ty)| {
            let ty = menv.value_type(*ty);
            builder
                .ins()
                .load(ty, vm_flags(), values, (i as u32 * VALUE_SLOT_SIZE) as i32)
        })
        .collect();
    let results = call_export(&mut builder, &mut env, func_index, &args);
    // A result fills its whole slot, zeros above its value: the slot held an argument,
    // maybe a wider one (a v128 under an i32 result read as garbage in its high bytes).
    let zero = builder.ins().iconst(ir::types::I64, 0);
    for (i, value) in results.into_iter().enumerate() {
        let slot = (i as u32 * VALUE_SLOT_SIZE) as i32;
        if builder.func.dfg.value_type(value).bytes() < VALUE_SLOT_SIZE {
            builder.ins().store(vm_flags(), zero, values, slot);
            builder.ins().store(vm_flags(), zero, values, slot + 8);
        }
        builder.ins().store(vm_flags(), value, values, slot);
    }
    builder.ins().return_(&[]);
    builder.finalize(menv.frontend_config);
    func
}

/// Defines an empty harness table named `symbol` (count 0): the runtime's harness reads
/// the core and the component table, and an image has only one of them.
pub fn define_empty_harness_table(
    writer: &mut ObjectWriter,
    symbol: &str,
    pointer_bytes: usize,
) -> Result<()> {
    let id = writer.declare_export_data(symbol)?;
    let mut description = DataDescription::new();
    description.define(vec![0u8; 2 * pointer_bytes].into_boxed_slice());
    description.set_align(16);
    writer.define_data(id, &description)
}

/// Defines the harness table (`wafer_abi::harness`) and the trampolines it points to.
pub fn define_harness_table(
    writer: &mut ObjectWriter,
    isa: &dyn TargetIsa,
    context: &mut Context,
    menvs: &[ModuleEnv<'_>],
    inits: &[FuncId],
) -> Result<()> {
    let ptr = menvs[0].pointer_type.bytes() as usize;
    let table_id = writer.declare_export_data(wafer_abi::symbols::HARNESS_TABLE)?;
    // Layout: header [count, instances], then per instance [init, export count,
    // exports], then per export [kind, address].
    let header = 2 * ptr;
    let instances_at = header;
    let mut exports_at = instances_at + menvs.len() * 3 * ptr;
    let total_exports: usize = menvs.iter().map(|m| m.module.exports.len()).sum();
    let mut bytes = vec![0u8; exports_at + total_exports * 2 * ptr];
    let mut description = DataDescription::new();
    let self_ref = writer
        .module_mut()
        .declare_data_in_data(table_id, &mut description);
    let put = |bytes: &mut [u8], at: usize, value: u64| {
        bytes[at..at + ptr].copy_from_slice(&value.to_le_bytes()[..ptr]);
    };
    put(&mut bytes, 0, menvs.len() as u64);
    description.write_data_addr(ptr as u32, self_ref, instances_at as i64);
    for (i, menv) in menvs.iter().enumerate() {
        let entry = instances_at + i * 3 * ptr;
        let init = writer
            .module_mut()
            .declare_func_in_data(inits[i], &mut description);
        description.write_function_addr(entry as u32, init);
        put(&mut bytes, entry + ptr, menv.module.exports.len() as u64);
        description.write_data_addr((entry + 2 * ptr) as u32, self_ref, exports_at as i64);
        for export in &menv.module.exports {
            match export.kind {
                ExportKind::Func => {
                    put(&mut bytes, exports_at, EXPORT_FUNC);
                    let id = writer.declare_local(
                        &format!(
                            "wasm[{i}]:export:{}",
                            super::declare::symbol_safe(&export.name)
                        ),
                        &c_signature(menv, &[menv.pointer_type]),
                    )?;
                    let trampoline = build_trampoline(menv, export.index);
                    let compiled = compile_function(isa, context, trampoline, id)?;
                    writer.define_function(id, &format!("export {}", export.name), compiled)?;
                    let func = writer
                        .module_mut()
                        .declare_func_in_data(id, &mut description);
                    description.write_function_addr((exports_at + ptr) as u32, func);
                }
                ExportKind::Global => {
                    put(&mut bytes, exports_at, EXPORT_GLOBAL);
                    let module = menv.module;
                    let (vmctx, offset) = if export.index < module.num_imported_globals {
                        let site = menv.symbols.imported_globals[export.index as usize];
                        let owner = &menvs[site.instance];
                        (site.vmctx, owner.offsets.defined_global(site.defined_index))
                    } else {
                        let defined = export.index - module.num_imported_globals;
                        (menv.symbols.vmctx, menv.offsets.defined_global(defined))
                    };
                    let vmctx = writer
                        .module_mut()
                        .declare_data_in_data(vmctx, &mut description);
                    description.write_data_addr((exports_at + ptr) as u32, vmctx, offset as i64);
                }
                // A memory or table: its definition, in the VM context of the instance
                // that defines it.
                ExportKind::Memory | ExportKind::Table => {
                    let module = menv.module;
                    let memory = export.kind == ExportKind::Memory;
                    let (imported, sites) = match memory {
                        true => (
                            module.num_imported_memories,
                            &menv.symbols.imported_memories,
                        ),
                        false => (module.num_imported_tables, &menv.symbols.imported_tables),
                    };
                    let definition = |offsets: &wafer_abi::vmctx::VmOffsets, index| match memory {
                        true => offsets.defined_memory(index),
                        false => offsets.defined_table(index),
                    };
                    let (vmctx, offset) = if export.index < imported {
                        let site = sites[export.index as usize];
                        let owner = &menvs[site.instance];
                        (site.vmctx, definition(&owner.offsets, site.defined_index))
                    } else {
                        let defined = export.index - imported;
                        (menv.symbols.vmctx, definition(&menv.offsets, defined))
                    };
                    put(
                        &mut bytes,
                        exports_at,
                        if memory { EXPORT_MEMORY } else { EXPORT_TABLE },
                    );
                    let vmctx = writer
                        .module_mut()
                        .declare_data_in_data(vmctx, &mut description);
                    description.write_data_addr((exports_at + ptr) as u32, vmctx, offset as i64);
                }
                _ => put(&mut bytes, exports_at, EXPORT_NONE),
            }
            exports_at += 2 * ptr;
        }
    }
    description.define(bytes.into_boxed_slice());
    description.set_align(16);
    writer.define_data(table_id, &description)?;
    Ok(())
}
