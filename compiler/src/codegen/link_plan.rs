//! Resolving imports inside an image, at compile time.
//!
//! Every instance of an image is known when it is compiled, so an import becomes a direct
//! reference: a function call to the exporting instance's symbol, or a pointer to the
//! exporting instance's memory, table or global, written into the importer's VM context
//! by a relocation. Re-exports are followed to the item's owner. Types, mutability and
//! maximum sizes are checked here; minimum sizes depend on growth before instantiation
//! and are checked by the importer's instantiation code.

use std::collections::HashMap;

use crate::environ::{ExportKind, Import, ModuleInfo};
use crate::error::{CompileError, Result};

/// Who provides the imports of one import module name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportSource {
    /// The runtime's WASI preview1 host functions.
    Wasi,
    /// An earlier instance of the image, by position.
    Instance(usize),
    /// Nothing: its functions trap when called (`--trap-unknown-imports`).
    Trap,
}

/// What an imported function resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FuncSource {
    /// A WASI preview1 host function, by name.
    Wasi(String),
    /// Nothing provides it: a stub that traps when called.
    Trap,
    /// A function defined by an instance of the image.
    Wasm {
        /// The owning instance.
        instance: usize,
        /// Its function index in the owning module (a defined function).
        func_index: u32,
    },
}

/// Where an imported memory, table or global is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// The owning instance.
    pub instance: usize,
    /// The item's index among the owner's defined items of its kind.
    pub defined_index: u32,
}

/// A minimum size the importer needs, checked at instantiation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinimumCheck {
    /// Index of the imported memory or table in the importer.
    pub index: u32,
    /// Required current size (pages for memories, elements for tables).
    pub minimum: u64,
}

/// The resolution of every import of one instance.
#[derive(Debug, Clone, Default)]
pub struct ResolvedImports {
    /// Imported functions, in function index order.
    pub funcs: Vec<FuncSource>,
    /// Imported memories.
    pub memories: Vec<Owner>,
    /// Imported tables.
    pub tables: Vec<Owner>,
    /// Imported globals.
    pub globals: Vec<Owner>,
    /// Imported exception tags.
    pub tags: Vec<Owner>,
    /// Minimum sizes of imported memories to check when instantiating.
    pub memory_minimums: Vec<MinimumCheck>,
    /// Minimum sizes of imported tables to check when instantiating.
    pub table_minimums: Vec<MinimumCheck>,
}

fn unknown(import: &Import, kind: &str) -> CompileError {
    CompileError::Link(format!(
        "unknown import: {kind} `{}.{}` (at offset {:#x}) is not provided",
        import.module, import.field, import.offset
    ))
}

fn incompatible(import: &Import, why: &str) -> CompileError {
    CompileError::Link(format!(
        "incompatible import type: `{}.{}` (at offset {:#x}): {why}",
        import.module, import.field, import.offset
    ))
}

/// Resolves the imports of `modules[index]` against `sources` and the resolutions of the
/// instances before it.
pub fn resolve(
    index: usize,
    modules: &[ModuleInfo<'_>],
    sources: &HashMap<String, ImportSource>,
    earlier: &[ResolvedImports],
) -> Result<ResolvedImports> {
    let module = &modules[index];
    let mut resolved = ResolvedImports::default();
    let source_of = |import: &Import| sources.get(&import.module).copied();

    for (i, func) in module.funcs.iter().enumerate() {
        let Some(import) = &func.import else { continue };
        let source = match source_of(import) {
            Some(ImportSource::Wasi) => FuncSource::Wasi(import.field.clone()),
            Some(ImportSource::Instance(owner)) => {
                let (owner, func_index) = exported_func(modules, earlier, owner, import)?;
                let wanted = module.canonical_types[module.funcs[i].type_index as usize];
                let owner_module = &modules[owner];
                let actual = owner_module.canonical_types
                    [owner_module.funcs[func_index as usize].type_index as usize];
                if wanted != actual {
                    return Err(incompatible(import, "the function types differ"));
                }
                FuncSource::Wasm {
                    instance: owner,
                    func_index,
                }
            }
            Some(ImportSource::Trap) => FuncSource::Trap,
            None => return Err(unknown(import, "function")),
        };
        resolved.funcs.push(source);
    }

    for (i, memory) in module.memories.iter().enumerate() {
        let Some(import) = &memory.import else {
            continue;
        };
        let Some(ImportSource::Instance(owner)) = source_of(import) else {
            return Err(unknown(import, "memory"));
        };
        let (owner, defined_index) =
            exported_item(modules, earlier, owner, import, ExportKind::Memory)?;
        let owner_module = &modules[owner];
        let actual_memory =
            &owner_module.memories[(owner_module.num_imported_memories + defined_index) as usize];
        let (actual, wanted) = (&actual_memory.ty, &memory.ty);
        // An absent page size is the default one: (pagesize 65536) matches it.
        if actual.memory64 != wanted.memory64
            || actual.shared != wanted.shared
            || actual_memory.page_size_log2() != memory.page_size_log2()
        {
            return Err(incompatible(import, "the memory types differ"));
        }
        check_maximum(import, wanted.maximum, actual.maximum)?;
        resolved.memories.push(Owner {
            instance: owner,
            defined_index,
        });
        resolved.memory_minimums.push(MinimumCheck {
            index: i as u32,
            minimum: wanted.initial,
        });
    }

    for (i, table) in module.tables.iter().enumerate() {
        let Some(import) = &table.import else {
            continue;
        };
        let Some(ImportSource::Instance(owner)) = source_of(import) else {
            return Err(unknown(import, "table"));
        };
        let (owner, defined_index) =
            exported_item(modules, earlier, owner, import, ExportKind::Table)?;
        let owner_module = &modules[owner];
        let actual =
            &owner_module.tables[(owner_module.num_imported_tables + defined_index) as usize].ty;
        let wanted = &table.ty;
        let same_element = module.canonical_val_type(wasmparser::ValType::Ref(wanted.element_type))
            == owner_module.canonical_val_type(wasmparser::ValType::Ref(actual.element_type));
        if !same_element || actual.table64 != wanted.table64 || actual.shared != wanted.shared {
            return Err(incompatible(import, "the table types differ"));
        }
        check_maximum(import, wanted.maximum, actual.maximum)?;
        resolved.tables.push(Owner {
            instance: owner,
            defined_index,
        });
        resolved.table_minimums.push(MinimumCheck {
            index: i as u32,
            minimum: wanted.initial,
        });
    }

    for global in &module.globals {
        let Some(import) = &global.import else {
            continue;
        };
        let Some(ImportSource::Instance(owner)) = source_of(import) else {
            return Err(unknown(import, "global"));
        };
        let (owner, defined_index) =
            exported_item(modules, earlier, owner, import, ExportKind::Global)?;
        let owner_module = &modules[owner];
        let actual =
            &owner_module.globals[(owner_module.num_imported_globals + defined_index) as usize].ty;
        let wanted = &global.ty;
        // A mutable global's type must match exactly; an immutable one may be a subtype.
        let wanted_type = module.canonical_val_type(wanted.content_type);
        let actual_type = owner_module.canonical_val_type(actual.content_type);
        let type_fits = if wanted.mutable {
            wanted_type == actual_type
        } else {
            actual_type.is_subtype_of(&wanted_type)
        };
        if actual.mutable != wanted.mutable || !type_fits {
            return Err(incompatible(import, "the global types differ"));
        }
        resolved.globals.push(Owner {
            instance: owner,
            defined_index,
        });
    }
    for tag in &module.tags {
        let Some(import) = &tag.import else { continue };
        let Some(ImportSource::Instance(owner)) = source_of(import) else {
            return Err(unknown(import, "tag"));
        };
        let (owner, defined_index) =
            exported_item(modules, earlier, owner, import, ExportKind::Tag)?;
        let owner_module = &modules[owner];
        let actual = &owner_module.tags[(owner_module.num_imported_tags + defined_index) as usize];
        if module.canonical_types[tag.type_index as usize]
            != owner_module.canonical_types[actual.type_index as usize]
        {
            return Err(incompatible(import, "the tag types differ"));
        }
        resolved.tags.push(Owner {
            instance: owner,
            defined_index,
        });
    }
    Ok(resolved)
}

/// The importer's maximum, if any, must be at least the exporter's (which must exist).
fn check_maximum(import: &Import, wanted: Option<u64>, actual: Option<u64>) -> Result<()> {
    match (wanted, actual) {
        (None, _) => Ok(()),
        (Some(wanted), Some(actual)) if actual <= wanted => Ok(()),
        _ => Err(incompatible(import, "the maximum size does not fit")),
    }
}

/// The owner and defined-function index of the function `import` names in instance
/// `instance`, following re-exports.
fn exported_func(
    modules: &[ModuleInfo<'_>],
    earlier: &[ResolvedImports],
    instance: usize,
    import: &Import,
) -> Result<(usize, u32)> {
    let module = &modules[instance];
    let export = module
        .export(&import.field)
        .ok_or_else(|| unknown(import, "function"))?;
    if export.kind != ExportKind::Func {
        return Err(incompatible(import, "the export is not a function"));
    }
    if module.is_imported_func(export.index) {
        return match &earlier[instance].funcs[export.index as usize] {
            FuncSource::Wasm {
                instance,
                func_index,
            } => Ok((*instance, *func_index)),
            FuncSource::Wasi(_) | FuncSource::Trap => Err(CompileError::unsupported(format!(
                "importing `{}.{}`, a re-exported host function",
                import.module, import.field
            ))),
        };
    }
    Ok((instance, export.index))
}

/// The owner and defined index of the memory, table or global `import` names in
/// instance `instance`, following re-exports.
fn exported_item(
    modules: &[ModuleInfo<'_>],
    earlier: &[ResolvedImports],
    instance: usize,
    import: &Import,
    kind: ExportKind,
) -> Result<(usize, u32)> {
    let module = &modules[instance];
    let what = match kind {
        ExportKind::Memory => "memory",
        ExportKind::Table => "table",
        ExportKind::Tag => "tag",
        _ => "global",
    };
    let export = module
        .export(&import.field)
        .ok_or_else(|| unknown(import, what))?;
    if export.kind != kind {
        return Err(incompatible(import, &format!("the export is not a {what}")));
    }
    let (imported, owners) = match kind {
        ExportKind::Memory => (module.num_imported_memories, &earlier[instance].memories),
        ExportKind::Table => (module.num_imported_tables, &earlier[instance].tables),
        ExportKind::Tag => (module.num_imported_tags, &earlier[instance].tags),
        _ => (module.num_imported_globals, &earlier[instance].globals),
    };
    if export.index < imported {
        let owner = owners[export.index as usize];
        return Ok((owner.instance, owner.defined_index));
    }
    Ok((instance, export.index - imported))
}
