//! Declaring the symbols of one instance in the image's object.

use std::collections::HashMap;

use cranelift_codegen::ir;
use cranelift_codegen::isa::CallConv;

use super::link_plan::{FuncSource, ResolvedImports};
use super::object::ObjectWriter;
use crate::environ::{FuncSig, ModuleInfo};
use crate::error::{CompileError, Result};
use cranelift_module::FuncId;

use crate::translate::env::{
    DefinitionSite, ImportTarget, Libcalls, ModuleSymbols, WASM_CALL_CONV, signature,
};

/// What declaring an instance needs besides its module.
pub struct DeclareContext<'a> {
    /// The instance's position in the image.
    pub instance: usize,
    /// Whether the image has several instances (symbol names then carry the position).
    pub multi: bool,
    /// Symbols of the instances before this one.
    pub earlier: &'a [ModuleSymbols],
    /// Runtime helpers.
    pub libcalls: Libcalls,
    /// Target pointer type.
    pub pointer_type: ir::Type,
    /// The C calling convention of the target.
    pub host_call_conv: CallConv,
    /// The image-wide number of this instance's first defined exception tag.
    pub first_tag_id: u32,
    /// The image's trampolines (a component's canonical built-ins), by position.
    pub trampolines: &'a [FuncId],
}

/// Checks what the runtime cannot support for a module, before any code is generated.
pub fn check_limits(module: &ModuleInfo<'_>) -> Result<()> {
    for memory in &module.memories {
        if memory.ty.shared {
            return Err(CompileError::unsupported("shared memories (threads)"));
        }
        // Validation allows 64 KiB and 1-byte pages only; anything else would be a new
        // proposal the runtime knows nothing about.
        if !matches!(memory.page_size_log2(), 0 | 16) {
            return Err(CompileError::unsupported(format!(
                "memories with pages of 2^{} bytes",
                memory.page_size_log2()
            )));
        }
    }
    for table in &module.tables {
        if table.ty.initial > wafer_abi::MAX_TABLE_ELEMENTS {
            return Err(CompileError::ImplLimit(format!(
                "a table of {} elements is larger than the {} wafer supports",
                table.ty.initial,
                wafer_abi::MAX_TABLE_ELEMENTS
            )));
        }
    }
    Ok(())
}

/// Declares the functions and data of one instance, with its imports resolved.
pub fn declare_instance(
    writer: &mut ObjectWriter,
    module: &ModuleInfo<'_>,
    resolved: &ResolvedImports,
    cx: &DeclareContext<'_>,
) -> Result<ModuleSymbols> {
    check_limits(module)?;
    let wasm_sig = |sig: &FuncSig| signature(sig, cx.pointer_type, WASM_CALL_CONV);
    let host_sig = |sig: &FuncSig| signature(sig, cx.pointer_type, cx.host_call_conv);
    let prefix = if cx.multi {
        format!("wasm[{}]:", cx.instance)
    } else {
        "wasm:".to_string()
    };
    // Symbol names carry the wasm name for profilers and debuggers; the prefix keeps them
    // apart from the runtime's symbols (a C guest has its own `memcpy`).
    let mut name_counts = HashMap::new();
    for index in 0..module.funcs.len() as u32 {
        *name_counts
            .entry(module.func_display_name(index))
            .or_insert(0u32) += 1;
    }
    let symbol_name = |index: u32| {
        let name = symbol_safe(&module.func_display_name(index));
        if name_counts[&module.func_display_name(index)] > 1 {
            format!("{prefix}{name}[{index}]")
        } else {
            format!("{prefix}{name}")
        }
    };

    let vmctx = writer.declare_data(&format!("{prefix}vmctx"), true)?;
    let mut funcs = Vec::with_capacity(module.funcs.len());
    let mut imports = Vec::new();
    let mut trap_stubs = Vec::new();
    for (index, func) in module.funcs.iter().enumerate() {
        let sig = module.func_sig(index as u32);
        let id = match &func.import {
            Some(import) => {
                let target = match &resolved.funcs[index] {
                    FuncSource::Wasi(field) => ImportTarget::Host(declare_wasi(
                        writer,
                        import,
                        sig,
                        &host_sig(sig),
                        field,
                    )?),
                    FuncSource::Wasm {
                        instance,
                        func_index,
                    } => ImportTarget::Wasm {
                        func: cx.earlier[*instance].funcs[*func_index as usize],
                        vmctx: cx.earlier[*instance].vmctx,
                    },
                    // A trampoline ignores the VM context it is called with.
                    FuncSource::Trampoline(t) => ImportTarget::Wasm {
                        func: cx.trampolines[*t],
                        vmctx,
                    },
                    // A module may import one name several times, with different
                    // types: each import gets its own stub, named by its index.
                    FuncSource::Trap => {
                        let stub = writer.declare_local(
                            &format!(
                                "{prefix}{}.{} (unknown import {index})",
                                symbol_safe(&import.module),
                                symbol_safe(&import.field)
                            ),
                            &wasm_sig(sig),
                        )?;
                        trap_stubs.push((index as u32, stub));
                        ImportTarget::Wasm { func: stub, vmctx }
                    }
                };
                imports.push(target);
                match target {
                    ImportTarget::Host(id) | ImportTarget::Wasm { func: id, .. } => id,
                }
            }
            None => writer.declare_local(&symbol_name(index as u32), &wasm_sig(sig))?,
        };
        funcs.push(id);
    }

    let mut func_ref_entries = vec![None; module.num_func_refs as usize];
    for (index, slot) in module.func_ref_slots.iter().enumerate() {
        let Some(slot) = slot else { continue };
        let entry = match imports.get(index) {
            Some(ImportTarget::Host(_)) => {
                let sig = module.func_sig(index as u32);
                let adapter = writer.declare_local(
                    &format!("{}.adapter", symbol_name(index as u32)),
                    &wasm_sig(sig),
                )?;
                (adapter, vmctx)
            }
            Some(ImportTarget::Wasm { func, vmctx: owner }) => (*func, *owner),
            None => (funcs[index], vmctx),
        };
        func_ref_entries[*slot as usize] = Some(entry);
    }

    let site = |owner: &super::link_plan::Owner| DefinitionSite {
        vmctx: cx.earlier[owner.instance].vmctx,
        defined_index: owner.defined_index,
        instance: owner.instance,
    };
    let mut tag_ids: Vec<u32> = resolved
        .tags
        .iter()
        .map(|owner| {
            let owner_symbols = &cx.earlier[owner.instance];
            let imported = owner_symbols.tag_ids.len() as u32 - owner_symbols.defined_tags;
            owner_symbols.tag_ids[(imported + owner.defined_index) as usize]
        })
        .collect();
    let defined_tags = module.tags.len() as u32 - module.num_imported_tags;
    tag_ids.extend((0..defined_tags).map(|i| cx.first_tag_id + i));
    let data_segments = (0..module.data.len())
        .map(|i| writer.declare_data(&format!("{prefix}data[{i}]"), false))
        .collect::<Result<_>>()?;
    let elem_segments = (0..module.elements.len())
        .map(|i| writer.declare_data(&format!("{prefix}elem[{i}]"), true))
        .collect::<Result<_>>()?;
    Ok(ModuleSymbols {
        funcs,
        imports,
        imported_memories: resolved.memories.iter().map(site).collect(),
        imported_tables: resolved.tables.iter().map(site).collect(),
        imported_globals: resolved.globals.iter().map(site).collect(),
        tag_ids,
        defined_tags,
        func_ref_entries: func_ref_entries
            .into_iter()
            .map(|e| e.expect("every slot has an entry"))
            .collect(),
        vmctx,
        data_segments,
        elem_segments,
        libcalls: cx.libcalls,
        trap_stubs,
    })
}

/// `name` fit for a symbol: symbol names cannot hold NUL, and control characters are
/// escaped for readability.
pub fn symbol_safe(name: &str) -> String {
    name.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Declares the runtime's function for a board device import, checking its type.
fn declare_device(
    writer: &mut ObjectWriter,
    import: &crate::environ::Import,
    sig: &FuncSig,
    host_sig: &ir::Signature,
    module: &str,
) -> Result<cranelift_module::FuncId> {
    let Some(device) = wafer_abi::devices::device(module, &import.field) else {
        return Err(CompileError::Link(format!(
            "unknown import: function `{}.{}` (at offset {:#x}) is not provided (see \
             wit/wafer-board for what {module} defines)",
            import.module, import.field, import.offset
        )));
    };
    let convert = |types: &[wafer_abi::wasi::ValType]| -> Vec<wasmparser::ValType> {
        types
            .iter()
            .map(|t| match t {
                wafer_abi::wasi::ValType::I32 => wasmparser::ValType::I32,
                wafer_abi::wasi::ValType::I64 => wasmparser::ValType::I64,
            })
            .collect()
    };
    if sig.params != convert(device.params) || sig.results != convert(device.results) {
        return Err(CompileError::Link(format!(
            "import `{}.{}` (at offset {:#x}) has type {:?} -> {:?}, but {module} defines \
             {:?} -> {:?}",
            import.module,
            import.field,
            import.offset,
            sig.params,
            sig.results,
            convert(device.params),
            convert(device.results)
        )));
    }
    writer.declare_import(device.symbol, host_sig)
}

/// Declares the runtime's WASI preview1 function for an import, checking its type.
fn declare_wasi(
    writer: &mut ObjectWriter,
    import: &crate::environ::Import,
    sig: &FuncSig,
    host_sig: &ir::Signature,
    field: &str,
) -> Result<cranelift_module::FuncId> {
    use wafer_abi::wasi::ValType as W;
    if let Some(device) = wafer_abi::devices::DEVICES
        .iter()
        .find(|device| device.module == import.module)
    {
        return declare_device(writer, import, sig, host_sig, device.module);
    }
    let Some(expected) = wafer_abi::wasi::preview1(field) else {
        return Err(CompileError::Link(format!(
            "unknown import: function `{}.{}` (at offset {:#x}) is not provided",
            import.module, import.field, import.offset
        )));
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
    // Several instances may import the same host function: declare it once.
    let name = format!("{}{field}", wafer_abi::symbols::WASI_PREVIEW1_PREFIX);
    writer.declare_import(&name, host_sig)
}
