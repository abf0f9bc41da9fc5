//! Resolving imports inside an image, at compile time.
//!
//! Every instance of an image is known when it is compiled, so an import becomes a direct
//! reference: a function call to the exporting instance's symbol, or a pointer to the
//! exporting instance's memory, table or global, written into the importer's VM context
//! by a relocation. Re-exports are followed to the item's owner. Types, mutability and
//! maximum sizes are checked here; minimum sizes depend on growth before instantiation
//! and are checked by the importer's instantiation code.

use std::collections::HashMap;

use crate::component::plan::{FlatSig, FlatType, ItemKind};
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

/// How the imports of one instance are resolved.
#[derive(Debug, Clone)]
pub enum Imports {
    /// By import module name (core modules, test harnesses).
    ByModule(HashMap<String, ImportSource>),
    /// Each import on its own, in the module's import order (a component's core
    /// instances).
    Positional(Vec<ImportDef>),
}

/// What one import resolves to, in [`Imports::Positional`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportDef {
    /// Item `index` of an earlier instance, in its index space of the import's kind
    /// (an item it imports itself is followed to its owner).
    Item {
        /// The instance, by position.
        instance: usize,
        /// The kind the item must have.
        kind: ItemKind,
        /// Its index.
        index: u32,
    },
    /// A generated trampoline of the image, by position.
    Trampoline(usize),
}

/// Where one import comes from, whichever way the instance's imports are given.
enum Provider<'a> {
    Wasi,
    Trap,
    /// An export of an instance, by name.
    Export(usize, &'a str),
    /// An item of an instance, by index.
    Item(usize, ItemKind, u32),
    Trampoline(usize),
    Missing,
}

/// What an imported function resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FuncSource {
    /// A WASI preview1 host function, by name.
    Wasi(String),
    /// Nothing provides it: a stub that traps when called.
    Trap,
    /// A trampoline the image generates (a canonical built-in of a component), by
    /// position.
    Trampoline(usize),
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

/// The imports of `module` in import-section order, as (kind, index in that kind's space).
fn import_order(module: &ModuleInfo<'_>) -> Vec<(ItemKind, u32)> {
    let mut order: Vec<(usize, ItemKind, u32)> = Vec::new();
    let mut add = |kind: ItemKind, imports: &mut dyn Iterator<Item = Option<&Import>>| {
        for (i, import) in imports.enumerate() {
            if let Some(import) = import {
                order.push((import.offset, kind, i as u32));
            }
        }
    };
    add(
        ItemKind::Func,
        &mut module.funcs.iter().map(|f| f.import.as_ref()),
    );
    add(
        ItemKind::Table,
        &mut module.tables.iter().map(|t| t.import.as_ref()),
    );
    add(
        ItemKind::Memory,
        &mut module.memories.iter().map(|m| m.import.as_ref()),
    );
    add(
        ItemKind::Global,
        &mut module.globals.iter().map(|g| g.import.as_ref()),
    );
    add(
        ItemKind::Tag,
        &mut module.tags.iter().map(|t| t.import.as_ref()),
    );
    order.sort_by_key(|(offset, _, _)| *offset);
    order
        .into_iter()
        .map(|(_, kind, index)| (kind, index))
        .collect()
}

/// Resolves the imports of `modules[index]` against `imports` and the resolutions of the
/// instances before it; `trampolines` are the signatures of the image's trampolines.
pub fn resolve(
    index: usize,
    modules: &[ModuleInfo<'_>],
    imports: &Imports,
    earlier: &[ResolvedImports],
    trampolines: &[FlatSig],
) -> Result<ResolvedImports> {
    let module = &modules[index];
    let mut resolved = ResolvedImports::default();
    let positions: HashMap<(ItemKind, u32), usize> = match imports {
        Imports::ByModule(_) => HashMap::new(),
        Imports::Positional(defs) => {
            let order = import_order(module);
            if order.len() != defs.len() {
                return Err(CompileError::Link(format!(
                    "a core instance gets {} imports for the module's {}",
                    defs.len(),
                    order.len()
                )));
            }
            order
                .into_iter()
                .enumerate()
                .map(|(k, key)| (key, k))
                .collect()
        }
    };
    let provider = |import, kind, i| provider(imports, &positions, import, kind, i);
    // The owner and index of an item an instance provides, by name or by index.
    let locate =
        |import: &Import, kind: ItemKind, provider: Provider<'_>| -> Result<(usize, u32)> {
            let what = kind_name(kind);
            match provider {
                Provider::Export(owner, field) => {
                    let export = modules[owner]
                        .export(field)
                        .ok_or_else(|| unknown(import, what))?;
                    if export_kind(export.kind) != kind {
                        return Err(incompatible(import, &format!("the export is not a {what}")));
                    }
                    Ok((owner, export.index))
                }
                Provider::Item(owner, item_kind, index) => {
                    if item_kind != kind {
                        return Err(incompatible(import, &format!("the item is not a {what}")));
                    }
                    if owner >= earlier.len() {
                        return Err(incompatible(import, "the item's instance comes later"));
                    }
                    Ok((owner, index))
                }
                _ => Err(unknown(import, what)),
            }
        };

    for (i, func) in module.funcs.iter().enumerate() {
        let Some(import) = &func.import else { continue };
        let source = match provider(import, ItemKind::Func, i) {
            Provider::Wasi => FuncSource::Wasi(import.field.clone()),
            Provider::Trap => FuncSource::Trap,
            Provider::Missing => return Err(unknown(import, "function")),
            Provider::Trampoline(t) => {
                let sig = module.func_sig(i as u32);
                let expected = trampolines
                    .get(t)
                    .ok_or_else(|| unknown(import, "function"))?;
                if !flat_matches(&sig.params, &expected.params)
                    || !flat_matches(&sig.results, &expected.results)
                {
                    return Err(incompatible(import, "the function types differ"));
                }
                FuncSource::Trampoline(t)
            }
            provider => {
                let (owner, func_index) = locate(import, ItemKind::Func, provider)?;
                let (owner, func_index) =
                    defined_func(modules, earlier, owner, func_index, import)?;
                let wanted = module.canonical_types[module.funcs[i].type_index as usize];
                let owner_module = &modules[owner];
                let actual = owner_module.canonical_types
                    [owner_module.funcs[func_index as usize].type_index as usize];
                if wanted != actual {
                    return Err(incompatible(import, "the function types differ"));
                }
                match defined_or_trampoline(earlier, owner, func_index) {
                    Some(source) => source,
                    None => FuncSource::Wasm {
                        instance: owner,
                        func_index,
                    },
                }
            }
        };
        resolved.funcs.push(source);
    }

    for (i, memory) in module.memories.iter().enumerate() {
        let Some(import) = &memory.import else {
            continue;
        };
        let (owner, item) = locate(
            import,
            ItemKind::Memory,
            provider(import, ItemKind::Memory, i),
        )?;
        let (owner, defined_index) = owned_item(modules, earlier, owner, item, ItemKind::Memory);
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
        let (owner, item) = locate(
            import,
            ItemKind::Table,
            provider(import, ItemKind::Table, i),
        )?;
        let (owner, defined_index) = owned_item(modules, earlier, owner, item, ItemKind::Table);
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

    for (i, global) in module.globals.iter().enumerate() {
        let Some(import) = &global.import else {
            continue;
        };
        let (owner, item) = locate(
            import,
            ItemKind::Global,
            provider(import, ItemKind::Global, i),
        )?;
        let (owner, defined_index) = owned_item(modules, earlier, owner, item, ItemKind::Global);
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
    for (i, tag) in module.tags.iter().enumerate() {
        let Some(import) = &tag.import else { continue };
        let (owner, item) = locate(import, ItemKind::Tag, provider(import, ItemKind::Tag, i))?;
        let (owner, defined_index) = owned_item(modules, earlier, owner, item, ItemKind::Tag);
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

/// Where import `import` (the `i`th of its kind) comes from.
fn provider<'i>(
    imports: &Imports,
    positions: &HashMap<(ItemKind, u32), usize>,
    import: &'i Import,
    kind: ItemKind,
    i: usize,
) -> Provider<'i> {
    match imports {
        Imports::ByModule(sources) => match sources.get(&import.module) {
            Some(ImportSource::Wasi) => Provider::Wasi,
            Some(ImportSource::Trap) => Provider::Trap,
            Some(ImportSource::Instance(owner)) => Provider::Export(*owner, &import.field),
            None => Provider::Missing,
        },
        Imports::Positional(defs) => match positions.get(&(kind, i as u32)).map(|&k| defs[k]) {
            Some(ImportDef::Item {
                instance,
                kind: item_kind,
                index,
            }) => Provider::Item(instance, item_kind, index),
            Some(ImportDef::Trampoline(t)) => Provider::Trampoline(t),
            None => Provider::Missing,
        },
    }
}

fn kind_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Func => "function",
        ItemKind::Table => "table",
        ItemKind::Memory => "memory",
        ItemKind::Global => "global",
        ItemKind::Tag => "tag",
    }
}

fn export_kind(kind: ExportKind) -> ItemKind {
    match kind {
        ExportKind::Func => ItemKind::Func,
        ExportKind::Table => ItemKind::Table,
        ExportKind::Memory => ItemKind::Memory,
        ExportKind::Global => ItemKind::Global,
        ExportKind::Tag => ItemKind::Tag,
    }
}

/// Whether wasm value types `types` are the flat types `flat`.
fn flat_matches(types: &[wasmparser::ValType], flat: &[FlatType]) -> bool {
    types.len() == flat.len()
        && types.iter().zip(flat).all(|(ty, flat)| {
            matches!(
                (ty, flat),
                (wasmparser::ValType::I32, FlatType::I32)
                    | (wasmparser::ValType::I64, FlatType::I64)
                    | (wasmparser::ValType::F32, FlatType::F32)
                    | (wasmparser::ValType::F64, FlatType::F64)
                    | (
                        wasmparser::ValType::Ref(wasmparser::RefType::FUNCREF),
                        FlatType::FuncRef
                    )
            )
        })
}

/// Function `func_index` of `instance`, followed through its imports to an instance
/// that defines it (or to the host or a trampoline, which [`defined_or_trampoline`]
/// reports).
fn defined_func(
    modules: &[ModuleInfo<'_>],
    earlier: &[ResolvedImports],
    instance: usize,
    func_index: u32,
    import: &Import,
) -> Result<(usize, u32)> {
    if func_index as usize >= modules[instance].funcs.len() {
        return Err(unknown(import, "function"));
    }
    if modules[instance].is_imported_func(func_index) {
        return match &earlier[instance].funcs[func_index as usize] {
            FuncSource::Wasm {
                instance,
                func_index,
            } => Ok((*instance, *func_index)),
            FuncSource::Trampoline(_) => Ok((instance, func_index)),
            FuncSource::Wasi(_) | FuncSource::Trap => Err(CompileError::unsupported(format!(
                "importing `{}.{}`, a re-exported host function",
                import.module, import.field
            ))),
        };
    }
    Ok((instance, func_index))
}

/// A re-exported trampoline: the importer calls the trampoline itself.
fn defined_or_trampoline(
    earlier: &[ResolvedImports],
    instance: usize,
    func_index: u32,
) -> Option<FuncSource> {
    match earlier.get(instance)?.funcs.get(func_index as usize)? {
        FuncSource::Trampoline(t) => Some(FuncSource::Trampoline(*t)),
        _ => None,
    }
}

/// The owner and defined index of memory, table, global or tag `index` of `instance`,
/// following its imports.
fn owned_item(
    modules: &[ModuleInfo<'_>],
    earlier: &[ResolvedImports],
    instance: usize,
    index: u32,
    kind: ItemKind,
) -> (usize, u32) {
    let module = &modules[instance];
    let (imported, owners) = match kind {
        ItemKind::Memory => (module.num_imported_memories, &earlier[instance].memories),
        ItemKind::Table => (module.num_imported_tables, &earlier[instance].tables),
        ItemKind::Tag => (module.num_imported_tags, &earlier[instance].tags),
        _ => (module.num_imported_globals, &earlier[instance].globals),
    };
    if index < imported {
        let owner = owners[index as usize];
        return (owner.instance, owner.defined_index);
    }
    (instance, index - imported)
}
