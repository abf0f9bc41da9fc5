//! From a validated module to a relocatable object: declares every symbol, compiles
//! function bodies in parallel, generates the instantiation and entry functions, and
//! emits the VM context, segments, trap table, grants and image descriptor.

mod init;
pub mod isa;
mod object;

use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, InstBuilder, UserFuncName};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{FuncId, ModuleReloc};
use rayon::prelude::*;
use wafer_abi::trap::TrapKind;
use wafer_abi::vmctx::{VmCounts, VmOffsets};

use crate::environ::{ExportKind, ModuleInfo};
use crate::error::{CompileError, Result};
use crate::target::Target;
use crate::translate::FuncTranslator;
use crate::translate::env::{
    BoundsStrategy, FuncEnv, ImportTarget, Libcalls, ModuleEnv, ModuleSymbols, Tunables,
};

pub use object::ObjectWriter;

/// What to build besides the code itself.
#[derive(Debug, Clone)]
pub struct CompileConfig {
    /// Encoded grants to store in the image.
    pub grants: Vec<u8>,
    /// Guest stack size in bytes.
    pub stack_size: u64,
    /// CPU preset name, `None` for the target's baseline.
    pub cpu: Option<String>,
}

/// A function compiled to machine code, not yet placed.
pub struct CompiledFunction {
    /// Machine code.
    pub code: Vec<u8>,
    /// Required alignment.
    pub alignment: u64,
    /// Relocations in `code`.
    pub relocs: Vec<ModuleReloc>,
    /// Trap sites: code offset, kind, wasm offset.
    pub traps: Vec<(u32, TrapKind, u32)>,
}

/// Compiles `func` to machine code.
pub fn compile_function(
    isa: &dyn TargetIsa,
    context: &mut Context,
    func: ir::Function,
    func_id: FuncId,
) -> Result<CompiledFunction> {
    context.clear();
    context.func = func;
    let compiled = context
        .compile(isa, &mut ControlPlane::default())
        .map_err(|e| CompileError::Codegen(format!("{:?}", e.inner)))?;
    let code = compiled.code_buffer().to_vec();
    let alignment = compiled.buffer.alignment as u64;
    let srclocs = compiled.buffer.get_srclocs_sorted();
    let traps = compiled
        .buffer
        .traps()
        .iter()
        .filter_map(|trap| {
            let kind = crate::translate::env::trap_kind(trap.code)?;
            let wasm_offset = srclocs
                .iter()
                .find(|loc| loc.start <= trap.offset && trap.offset < loc.end)
                .filter(|loc| !loc.loc.is_default())
                .map_or(0, |loc| loc.loc.bits());
            Some((trap.offset, kind, wasm_offset))
        })
        .collect();
    let mach_relocs = compiled.buffer.relocs().to_vec();
    let relocs = mach_relocs
        .iter()
        .map(|reloc| ModuleReloc::from_mach_reloc(reloc, &context.func, func_id))
        .collect();
    Ok(CompiledFunction {
        code,
        alignment,
        relocs,
        traps,
    })
}

/// A module parsed, with its symbols declared in a fresh object.
struct Prepared<'data> {
    module: ModuleInfo<'data>,
    bodies: Vec<crate::environ::FunctionBodyInfo<'data>>,
    isa: cranelift_codegen::isa::OwnedTargetIsa,
    writer: ObjectWriter,
    symbols: ModuleSymbols,
    offsets: VmOffsets,
    host_call_conv: CallConv,
}

fn prepare<'data>(
    wasm: &'data [u8],
    target: &Target,
    config: &CompileConfig,
) -> Result<Prepared<'data>> {
    let mut module = ModuleInfo::parse(wasm)?;
    let bodies = std::mem::take(&mut module.bodies);
    let isa = isa::build(target, config.cpu.as_deref())?;
    let mut writer = ObjectWriter::new(isa.clone())?;
    let pointer_type = isa.pointer_type();
    let host_call_conv = CallConv::triple_default(isa.triple());
    let libcalls = writer.declare_libcalls(pointer_type, host_call_conv)?;
    let offsets = VmOffsets::new(pointer_type.bytes() as u8, vm_counts(&module));
    let symbols = declare_module(&mut writer, &module, libcalls, pointer_type, host_call_conv)?;
    Ok(Prepared {
        module,
        bodies,
        isa,
        writer,
        symbols,
        offsets,
        host_call_conv,
    })
}

fn module_env<'m>(
    module: &'m ModuleInfo<'m>,
    symbols: &'m ModuleSymbols,
    isa: &dyn TargetIsa,
    offsets: VmOffsets,
    host_call_conv: CallConv,
) -> ModuleEnv<'m> {
    ModuleEnv {
        module,
        offsets,
        pointer_type: isa.pointer_type(),
        tunables: Tunables {
            bounds: BoundsStrategy::GuardRegion,
        },
        symbols,
        host_call_conv,
        frontend_config: isa.frontend_config(),
    }
}

/// Compiles a core module into a relocatable object for `target`.
pub fn compile_module(wasm: &[u8], target: &Target, config: &CompileConfig) -> Result<Vec<u8>> {
    let Prepared {
        module,
        bodies,
        isa,
        mut writer,
        symbols,
        offsets,
        host_call_conv,
    } = prepare(wasm, target, config)?;
    let entry = entry_point(&module)?;
    let menv = module_env(&module, &symbols, &*isa, offsets, host_call_conv);

    let func_indices: Vec<u32> = bodies.iter().map(|body| body.func_index).collect();
    let results: Vec<Result<CompiledFunction>> = bodies
        .into_par_iter()
        .map_init(
            || {
                (
                    FuncTranslator::new(),
                    Context::new(),
                    wasmparser::FuncValidatorAllocations::default(),
                )
            },
            |(translator, context, allocations), body| {
                let mut validator = body.validator.into_validator(std::mem::take(allocations));
                let func =
                    translator.translate(&menv, body.func_index, &body.body, &mut validator)?;
                *allocations = validator.into_allocations();
                let func_id = symbols.funcs[body.func_index as usize];
                compile_function(&*isa, context, func, func_id)
            },
        )
        .collect();

    let mut context = Context::new();
    for (func_index, result) in func_indices.into_iter().zip(results) {
        let compiled = result?;
        let name = module.func_display_name(func_index);
        writer.define_function(symbols.funcs[func_index as usize], &name, compiled)?;
    }
    for (index, func) in module
        .funcs
        .iter()
        .enumerate()
        .take(module.num_imported_funcs as usize)
    {
        if let Some(slot) = module.func_ref_slots[index] {
            let adapter = build_import_adapter(&menv, index as u32)?;
            let compiled = compile_function(
                &*isa,
                &mut context,
                adapter,
                symbols.func_ref_entries[slot as usize],
            )?;
            let import = func.import.as_ref().expect("imported function");
            let name = format!("{}.{}", import.module, import.field);
            writer.define_function(symbols.func_ref_entries[slot as usize], &name, compiled)?;
        }
    }

    let init_id = writer.declare_export(
        wafer_abi::symbols::IMAGE_INIT,
        &host_signature(host_call_conv),
    )?;
    let init_func = init::build_init(&menv)?;
    let compiled = compile_function(&*isa, &mut context, init_func, init_id)?;
    writer.define_function(init_id, "wafer-instantiate", compiled)?;

    let main_id = writer.declare_export(
        wafer_abi::symbols::IMAGE_MAIN,
        &host_signature(host_call_conv),
    )?;
    let main_func = build_main(&menv, entry)?;
    let compiled = compile_function(&*isa, &mut context, main_func, main_id)?;
    writer.define_function(main_id, "wafer-main", compiled)?;

    object::define_instance_data(&mut writer, &menv)?;
    writer.finish(config, entry.is_some())
}

/// The Cranelift IR of every defined function, as translated (before optimisation), for
/// golden tests and `--emit clif`.
pub fn translate_to_clif(wasm: &[u8], target: &Target, config: &CompileConfig) -> Result<String> {
    let Prepared {
        module,
        bodies,
        isa,
        symbols,
        offsets,
        host_call_conv,
        ..
    } = prepare(wasm, target, config)?;
    let menv = module_env(&module, &symbols, &*isa, offsets, host_call_conv);
    let mut translator = FuncTranslator::new();
    let mut text = String::new();
    for body in bodies {
        let mut validator = body.validator.into_validator(Default::default());
        let func = translator.translate(&menv, body.func_index, &body.body, &mut validator)?;
        text.push_str(&format!(
            ";; {}\n{}\n",
            module.func_display_name(body.func_index),
            func.display()
        ));
    }
    Ok(text)
}

/// The function `wafer_image_main` calls: the `_start` export, if any.
fn entry_point(module: &ModuleInfo<'_>) -> Result<Option<u32>> {
    match module.export("_start") {
        Some(export) if export.kind == ExportKind::Func => {
            let sig = module.func_sig(export.index);
            if !sig.params.is_empty() || !sig.results.is_empty() {
                return Err(CompileError::Link(
                    "the `_start` export must have type [] -> []".into(),
                ));
            }
            Ok(Some(export.index))
        }
        Some(_) => Err(CompileError::Link(
            "the `_start` export is not a function".into(),
        )),
        None if module.start.is_some() => Ok(None),
        None => Err(CompileError::Link(
            "the module has no `_start` export and no start function: nothing to run".into(),
        )),
    }
}

fn vm_counts(module: &ModuleInfo<'_>) -> VmCounts {
    VmCounts {
        imported_memories: module.num_imported_memories,
        defined_memories: module.memories.len() as u32 - module.num_imported_memories,
        imported_tables: module.num_imported_tables,
        defined_tables: module.tables.len() as u32 - module.num_imported_tables,
        imported_globals: module.num_imported_globals,
        defined_globals: module.globals.len() as u32 - module.num_imported_globals,
        func_refs: module.num_func_refs,
        data_segments: module.data.len() as u32,
        elem_segments: module.elements.len() as u32,
    }
}

fn host_signature(call_conv: CallConv) -> ir::Signature {
    ir::Signature::new(call_conv)
}

/// Declares the instance's functions and data and resolves its imports.
fn declare_module(
    writer: &mut ObjectWriter,
    module: &ModuleInfo<'_>,
    libcalls: Libcalls,
    pointer_type: ir::Type,
    host_call_conv: CallConv,
) -> Result<ModuleSymbols> {
    let sig_env = |sig: &crate::environ::FuncSig, call_conv: CallConv| {
        let mut signature = ir::Signature::new(call_conv);
        signature.params.push(ir::AbiParam::special(
            pointer_type,
            ir::ArgumentPurpose::VMContext,
        ));
        for ty in &sig.params {
            signature
                .params
                .push(ir::AbiParam::new(crate::translate::env::value_type(
                    *ty,
                    pointer_type,
                )));
        }
        for ty in &sig.results {
            signature
                .returns
                .push(ir::AbiParam::new(crate::translate::env::value_type(
                    *ty,
                    pointer_type,
                )));
        }
        signature
    };
    for memory in &module.memories {
        if let Some(import) = &memory.import {
            return Err(unknown_import(import, "memory"));
        }
        if memory.ty.shared {
            return Err(CompileError::unsupported("shared memories (threads)"));
        }
        if memory.ty.page_size_log2.is_some() {
            return Err(CompileError::unsupported("custom page sizes"));
        }
    }
    for table in &module.tables {
        if let Some(import) = &table.import {
            return Err(unknown_import(import, "table"));
        }
        if table.ty.initial > wafer_abi::MAX_TABLE_ELEMENTS {
            return Err(CompileError::ImplLimit(format!(
                "a table of {} elements is larger than the {} wafer supports",
                table.ty.initial,
                wafer_abi::MAX_TABLE_ELEMENTS
            )));
        }
    }
    for global in &module.globals {
        if let Some(import) = &global.import {
            return Err(unknown_import(import, "global"));
        }
    }

    // Symbol names carry the wasm name for profilers and debuggers; the prefix keeps them
    // apart from the runtime's symbols (a C guest has its own `memcpy`).
    let mut name_counts = std::collections::HashMap::new();
    for index in 0..module.funcs.len() as u32 {
        *name_counts
            .entry(module.func_display_name(index))
            .or_insert(0u32) += 1;
    }
    let symbol_name = |index: u32| {
        let name = module.func_display_name(index);
        if name_counts[&name] > 1 {
            format!("wasm:{name}[{index}]")
        } else {
            format!("wasm:{name}")
        }
    };
    let mut funcs = Vec::with_capacity(module.funcs.len());
    let mut imports = Vec::new();
    for (index, func) in module.funcs.iter().enumerate() {
        let sig = module.func_sig(index as u32);
        let id = match &func.import {
            Some(import) => {
                let id = resolve_import(writer, import, sig, &sig_env(sig, host_call_conv))?;
                imports.push(ImportTarget::Host(id));
                id
            }
            None => writer.declare_local(
                &symbol_name(index as u32),
                &sig_env(sig, crate::translate::env::WASM_CALL_CONV),
            )?,
        };
        funcs.push(id);
    }
    let mut func_ref_entries = vec![None; module.num_func_refs as usize];
    for (index, slot) in module.func_ref_slots.iter().enumerate() {
        let Some(slot) = slot else { continue };
        let entry = if module.is_imported_func(index as u32) {
            let sig = module.func_sig(index as u32);
            writer.declare_local(
                &format!("{}.adapter", symbol_name(index as u32)),
                &sig_env(sig, crate::translate::env::WASM_CALL_CONV),
            )?
        } else {
            funcs[index]
        };
        func_ref_entries[*slot as usize] = Some(entry);
    }
    let vmctx = writer.declare_data("wasm_vmctx", true)?;
    let data_segments = (0..module.data.len())
        .map(|i| writer.declare_data(&format!("wasm_data_{i}"), false))
        .collect::<Result<_>>()?;
    let elem_segments = (0..module.elements.len())
        .map(|i| writer.declare_data(&format!("wasm_elem_{i}"), true))
        .collect::<Result<_>>()?;
    Ok(ModuleSymbols {
        funcs,
        imports,
        func_ref_entries: func_ref_entries
            .into_iter()
            .map(|e| e.expect("every slot has an entry"))
            .collect(),
        vmctx,
        data_segments,
        elem_segments,
        libcalls,
    })
}

fn unknown_import(import: &crate::environ::Import, kind: &str) -> CompileError {
    CompileError::Link(format!(
        "unknown import: {kind} `{}.{}` (at offset {:#x}) is not provided by wafer",
        import.module, import.field, import.offset
    ))
}

/// Resolves an imported function against the WASI preview1 host functions.
fn resolve_import(
    writer: &mut ObjectWriter,
    import: &crate::environ::Import,
    sig: &crate::environ::FuncSig,
    host_sig: &ir::Signature,
) -> Result<FuncId> {
    use wafer_abi::wasi::ValType as W;
    if import.module != wafer_abi::symbols::WASI_PREVIEW1_MODULE {
        return Err(unknown_import(import, "function"));
    }
    let Some(expected) = wafer_abi::wasi::preview1(&import.field) else {
        return Err(unknown_import(import, "function"));
    };
    let convert = |types: &[W]| -> Vec<wasmparser::ValType> {
        types
            .iter()
            .map(|t| match t {
                W::I32 => wasmparser::ValType::I32,
                W::I64 => wasmparser::ValType::I64,
            })
            .collect()
    };
    if sig.params != convert(expected.params) || sig.results != convert(expected.results) {
        return Err(CompileError::Link(format!(
            "import `{}.{}` (at offset {:#x}) has type {:?} -> {:?}, but WASI preview1 defines {:?} -> {:?}",
            import.module,
            import.field,
            import.offset,
            sig.params,
            sig.results,
            convert(expected.params),
            convert(expected.results)
        )));
    }
    let name = format!(
        "{}{}",
        wafer_abi::symbols::WASI_PREVIEW1_PREFIX,
        import.field
    );
    writer.declare_import(&name, host_sig)
}

/// A wasm-convention function that forwards to imported host function `index`, used as
/// the code of its function reference.
fn build_import_adapter(menv: &ModuleEnv<'_>, index: u32) -> Result<ir::Function> {
    let sig = menv.module.func_sig(index);
    let mut func =
        ir::Function::with_name_signature(UserFuncName::user(0, index), menv.wasm_signature(sig));
    let mut builder_context = FunctionBuilderContext::new();
    let mut builder = FunctionBuilder::new(&mut func, &mut builder_context);
    let mut env = FuncEnv::new(menv);
    let block = builder.create_block();
    builder.append_block_params_for_function_params(block);
    builder.switch_to_block(block);
    builder.seal_block(block);
    let args = builder.block_params(block).to_vec();
    let ImportTarget::Host(func_id) = menv.symbols.imports[index as usize];
    let func_ref = env.func_ref(builder.func, func_id, menv.host_signature(sig));
    let call = builder.ins().call(func_ref, &args);
    let results = builder.inst_results(call).to_vec();
    builder.ins().return_(&results);
    builder.finalize(menv.frontend_config);
    Ok(func)
}

/// `wafer_image_main`: calls the entry point with the instance's VM context.
fn build_main(menv: &ModuleEnv<'_>, entry: Option<u32>) -> Result<ir::Function> {
    let mut func = ir::Function::with_name_signature(
        UserFuncName::user(2, 1),
        host_signature(menv.host_call_conv),
    );
    let mut builder_context = FunctionBuilderContext::new();
    let mut builder = FunctionBuilder::new(&mut func, &mut builder_context);
    let mut env = FuncEnv::new(menv);
    let block = builder.create_block();
    builder.switch_to_block(block);
    builder.seal_block(block);
    if let Some(entry) = entry {
        let vmctx = env.data_addr(&mut builder, menv.symbols.vmctx);
        env.set_vmctx(vmctx);
        let func_sig = menv.module.func_sig(entry);
        // `_start` may re-export an imported host function.
        let sig = if menv.module.is_imported_func(entry) {
            menv.host_signature(func_sig)
        } else {
            menv.wasm_signature(func_sig)
        };
        let func_ref = env.func_ref(builder.func, menv.symbols.funcs[entry as usize], sig);
        builder.ins().call(func_ref, &[vmctx]);
    }
    builder.ins().return_(&[]);
    builder.finalize(menv.frontend_config);
    Ok(func)
}
