//! The target-independent description of a module: everything but the function bodies'
//! code, gathered while parsing and validating the whole module once.

mod consts;

pub use consts::{ConstOp, ConstValue, const_ops};

/// Evaluates a constant expression of `module` at compile time, following `global.get`
/// of immutable defined globals; `None` when it depends on an import.
pub fn consts_eval(module: &ModuleInfo<'_>, ops: &[ConstOp]) -> Option<ConstValue> {
    consts::eval(ops, |index| {
        let global = module.globals.get(index as usize)?;
        if global.import.is_some() || global.ty.mutable {
            None
        } else {
            consts_eval(module, &global.init)
        }
    })
}

use std::collections::HashMap;

use wasmparser::{
    CompositeInnerType, DataKind, ElementItems, ElementKind, Encoding, ExternalKind,
    FuncToValidate, FunctionBody, GlobalType, MemoryType, Parser, Payload, RefType, TableInit,
    TableType, TypeRef, ValidPayload, Validator, ValidatorResources, WasmFeatures, types::Types,
};

use crate::error::{CompileError, Result};

/// Where an imported item comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// Import module name.
    pub module: String,
    /// Import field name.
    pub field: String,
    /// Byte offset of the import in the input.
    pub offset: usize,
}

/// A function: imported or defined.
#[derive(Debug, Clone)]
pub struct FuncInfo {
    /// Index into [`ModuleInfo::types`].
    pub type_index: u32,
    /// Set for imported functions.
    pub import: Option<Import>,
}

/// A table.
#[derive(Debug, Clone)]
pub struct TableInfo {
    /// Its type.
    pub ty: TableType,
    /// Set for imported tables.
    pub import: Option<Import>,
    /// Initial element value for defined tables (`None`: null).
    pub init: Option<Vec<ConstOp>>,
}

/// A linear memory.
#[derive(Debug, Clone)]
pub struct MemoryInfo {
    /// Its type.
    pub ty: MemoryType,
    /// Set for imported memories.
    pub import: Option<Import>,
}

impl MemoryInfo {
    /// log2 of the memory's page size: 16 (64 KiB) unless the custom-page-sizes
    /// proposal's `(pagesize 1)` makes it 0.
    pub fn page_size_log2(&self) -> u32 {
        self.ty.page_size_log2.unwrap_or(16)
    }

    /// The most pages the memory's index type can address: 2^16 of 64 KiB (2^48 for a
    /// 64-bit memory), and for 1-byte pages 2^32 - 1 (2^64 - 1), so that `memory.grow`'s
    /// failure value -1 is never a size.
    pub fn page_limit(&self) -> u64 {
        let index_bits = if self.ty.memory64 { 64 } else { 32 };
        match index_bits - self.page_size_log2() {
            64 => u64::MAX,
            32 if self.page_size_log2() == 0 => u32::MAX as u64,
            bits => 1u64 << bits,
        }
    }

    /// The most pages the memory may ever have: its declared maximum, if any, within
    /// [`MemoryInfo::page_limit`].
    pub fn maximum_pages(&self) -> u64 {
        let limit = self.page_limit();
        self.ty.maximum.unwrap_or(limit).min(limit)
    }

    /// Bytes the memory has at least, at any time after instantiation: its minimum
    /// (memories never shrink; an imported one is checked to have at least the
    /// importer's minimum when the importer is instantiated).
    pub fn minimum_bytes(&self) -> u64 {
        self.ty.initial.saturating_mul(1 << self.page_size_log2())
    }
}

/// A global.
#[derive(Debug, Clone)]
pub struct GlobalInfo {
    /// Its type.
    pub ty: GlobalType,
    /// Set for imported globals.
    pub import: Option<Import>,
    /// Initialiser of defined globals.
    pub init: Vec<ConstOp>,
}

/// An exception tag.
#[derive(Debug, Clone)]
pub struct TagInfo {
    /// Its function type (the parameters are the exception's payload).
    pub type_index: u32,
    /// Set for imported tags.
    pub import: Option<Import>,
}

/// What an export refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// A function.
    Func,
    /// A table.
    Table,
    /// A memory.
    Memory,
    /// A global.
    Global,
    /// An exception tag.
    Tag,
}

/// An export.
#[derive(Debug, Clone)]
pub struct ExportInfo {
    /// Exported name.
    pub name: String,
    /// Kind of item.
    pub kind: ExportKind,
    /// Index in its index space.
    pub index: u32,
}

/// How an element segment is used.
#[derive(Debug, Clone)]
pub enum ElementMode {
    /// Copied into `table` at `offset` during instantiation, then dropped.
    Active {
        /// Destination table.
        table: u32,
        /// Offset expression.
        offset: Vec<ConstOp>,
    },
    /// Available to `table.init`.
    Passive,
    /// Only declares functions as referenceable; dropped at instantiation.
    Declared,
}

/// An element segment.
#[derive(Debug, Clone)]
pub struct ElementInfo {
    /// How it is used.
    pub mode: ElementMode,
    /// Element type.
    pub ty: RefType,
    /// The items, each a constant expression.
    pub items: Vec<Vec<ConstOp>>,
    /// Byte offset of the segment in the input.
    pub offset: usize,
}

/// How a data segment is used.
#[derive(Debug, Clone)]
pub enum DataMode {
    /// Copied into `memory` at `offset` during instantiation, then dropped.
    Active {
        /// Destination memory.
        memory: u32,
        /// Offset expression.
        offset: Vec<ConstOp>,
    },
    /// Available to `memory.init`.
    Passive,
}

/// A data segment.
#[derive(Debug, Clone)]
pub struct DataInfo<'data> {
    /// How it is used.
    pub mode: DataMode,
    /// Its bytes.
    pub bytes: &'data [u8],
    /// Byte offset of the segment in the input.
    pub offset: usize,
}

/// A defined function's body, ready for translation.
pub struct FunctionBodyInfo<'data> {
    /// Function index (imports first).
    pub func_index: u32,
    /// The validator for the body.
    pub validator: FuncToValidate<ValidatorResources>,
    /// The body.
    pub body: FunctionBody<'data>,
}

/// A function signature in core wasm value types.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuncSig {
    /// Parameter types.
    pub params: Vec<wasmparser::ValType>,
    /// Result types.
    pub results: Vec<wasmparser::ValType>,
}

/// Everything about a module except its function bodies' code.
pub struct ModuleInfo<'data> {
    /// Function signatures by type index (`None` for non-function types).
    pub types: Vec<Option<FuncSig>>,
    /// Canonical identity of each type index; equal for equivalent types.
    pub canonical_types: Vec<u32>,
    /// Functions, imported first.
    pub funcs: Vec<FuncInfo>,
    /// Number of imported functions.
    pub num_imported_funcs: u32,
    /// Tables, imported first.
    pub tables: Vec<TableInfo>,
    /// Number of imported tables.
    pub num_imported_tables: u32,
    /// Memories, imported first.
    pub memories: Vec<MemoryInfo>,
    /// Number of imported memories.
    pub num_imported_memories: u32,
    /// Globals, imported first.
    pub globals: Vec<GlobalInfo>,
    /// Number of imported globals.
    pub num_imported_globals: u32,
    /// Exception tags, imported first.
    pub tags: Vec<TagInfo>,
    /// Number of imported tags.
    pub num_imported_tags: u32,
    /// Exports.
    pub exports: Vec<ExportInfo>,
    /// The start function.
    pub start: Option<u32>,
    /// Element segments.
    pub elements: Vec<ElementInfo>,
    /// Data segments.
    pub data: Vec<DataInfo<'data>>,
    /// Defined function bodies.
    pub bodies: Vec<FunctionBodyInfo<'data>>,
    /// Names from the name section, by function index.
    pub func_names: HashMap<u32, String>,
    /// For each function, its slot among the escaping functions (those whose reference
    /// can be taken), if any.
    pub func_ref_slots: Vec<Option<u32>>,
    /// Number of escaping functions.
    pub num_func_refs: u32,
    /// Types found by validation.
    pub validated_types: Types,
}

/// Validates `wasm` completely, function bodies included, with the checks compilation
/// applies (which validates bodies while translating them).
pub fn validate(wasm: &[u8]) -> Result<()> {
    validate_with(wasm, features())
}

/// [`validate`] with another feature set (spec tests of older versions).
pub fn validate_with(wasm: &[u8], features: WasmFeatures) -> Result<()> {
    let mut validator = Validator::new_with_features(features);
    let module = ModuleInfo::parse_with(&mut validator, wasm)?;
    for body in module.bodies {
        let mut validator = body.validator.into_validator(Default::default());
        validator.validate(&body.body)?;
    }
    Ok(())
}

/// The features wafer validates against: Wasm 3.0 and the custom-page-sizes proposal
/// (memories of 1-byte pages, for small devices). Valid modules using a feature the
/// compiler does not implement get an "unsupported" error naming it, not "invalid".
pub fn features() -> WasmFeatures {
    WasmFeatures::WASM3 | WasmFeatures::CUSTOM_PAGE_SIZES
}

impl<'data> ModuleInfo<'data> {
    /// Parses and validates `wasm`.
    pub fn parse(wasm: &'data [u8]) -> Result<Self> {
        let mut validator = Validator::new_with_features(features());
        Self::parse_with(&mut validator, wasm)
    }

    /// Parses and validates `wasm` with a shared validator (so type identities are shared
    /// with other modules it validated).
    pub fn parse_with(validator: &mut Validator, wasm: &'data [u8]) -> Result<Self> {
        validator.reset();
        let mut builder = Builder::default();
        let mut types = None;
        // The binary reader follows the features too (e.g. 32-bit limits without
        // memory64).
        let mut parser = Parser::new(0);
        parser.set_features(*validator.features());
        for payload in parser.parse_all(wasm) {
            let payload = payload?;
            if let Payload::Version {
                encoding: Encoding::Component,
                range,
                ..
            } = &payload
            {
                return Err(CompileError::unsupported_at(
                    "WebAssembly components are not supported yet; pass a core module",
                    range.start as usize,
                ));
            }
            match validator.payload(&payload)? {
                ValidPayload::Func(validator, body) => builder.bodies.push(FunctionBodyInfo {
                    func_index: builder.num_imported_funcs + builder.bodies.len() as u32,
                    validator,
                    body,
                }),
                ValidPayload::End(validated) => types = Some(validated),
                ValidPayload::Ok | ValidPayload::Parser(_) => {}
            }
            builder.payload(payload)?;
        }
        let validated_types = types.ok_or_else(|| CompileError::InvalidWasm {
            message: "unexpected end of module".into(),
            offset: wasm.len(),
        })?;
        builder.finish(validated_types)
    }

    /// The signature of function `func_index`.
    pub fn func_sig(&self, func_index: u32) -> &FuncSig {
        let type_index = self.funcs[func_index as usize].type_index;
        self.types[type_index as usize]
            .as_ref()
            .expect("validation guarantees functions have function types")
    }

    /// Whether function `index` is imported.
    pub fn is_imported_func(&self, index: u32) -> bool {
        index < self.num_imported_funcs
    }

    /// A display name for function `index`: its name-section name, else its export name,
    /// else `wasm-function[N]`.
    pub fn func_display_name(&self, index: u32) -> String {
        self.func_given_name(index)
            .map(str::to_string)
            .unwrap_or_else(|| format!("wasm-function[{index}]"))
    }

    /// The function's name from the name section, else its first export name.
    pub fn func_given_name(&self, index: u32) -> Option<&str> {
        if let Some(name) = self.func_names.get(&index) {
            return Some(name);
        }
        self.exports
            .iter()
            .find(|e| e.kind == ExportKind::Func && e.index == index)
            .map(|e| e.name.as_str())
    }

    /// The export named `name`, if any.
    pub fn export(&self, name: &str) -> Option<&ExportInfo> {
        self.exports.iter().find(|e| e.name == name)
    }

    /// A value type with concrete type indices replaced by canonical type identities, so
    /// types of different modules can be compared.
    pub fn canonical_val_type(&self, ty: wasmparser::ValType) -> CanonicalValType {
        match ty {
            wasmparser::ValType::Ref(r) => CanonicalValType::Ref {
                nullable: r.is_nullable(),
                heap: match r.heap_type() {
                    wasmparser::HeapType::Concrete(index) | wasmparser::HeapType::Exact(index) => {
                        let index = index.as_module_index().unwrap_or(u32::MAX) as usize;
                        CanonicalHeap::Concrete {
                            id: self.canonical_types.get(index).copied().unwrap_or(u32::MAX),
                            func: matches!(self.types.get(index), Some(Some(_))),
                        }
                    }
                    wasmparser::HeapType::Abstract { shared, ty } => {
                        CanonicalHeap::Abstract { shared, ty }
                    }
                },
            },
            other => CanonicalValType::Num(other),
        }
    }
}

impl CanonicalValType {
    /// Whether a value of this type is also a value of `other` (without GC subtyping
    /// between concrete types).
    pub fn is_subtype_of(&self, other: &CanonicalValType) -> bool {
        match (self, other) {
            (CanonicalValType::Num(a), CanonicalValType::Num(b)) => a == b,
            (
                CanonicalValType::Ref {
                    nullable: a_null,
                    heap: a,
                },
                CanonicalValType::Ref {
                    nullable: b_null,
                    heap: b,
                },
            ) => {
                let nullability = !a_null || *b_null;
                nullability && heap_is_subtype(a, b)
            }
            _ => false,
        }
    }
}

/// Whether heap type `a` is `b` or below it (function and extern hierarchies, without GC).
fn heap_is_subtype(a: &CanonicalHeap, b: &CanonicalHeap) -> bool {
    use wasmparser::AbstractHeapType::{Extern, Func, NoExtern, NoFunc};
    let is = |heap: &CanonicalHeap, want: wasmparser::AbstractHeapType| matches!(heap, CanonicalHeap::Abstract { ty, shared: false } if *ty == want);
    let concrete_func =
        |heap: &CanonicalHeap| matches!(heap, CanonicalHeap::Concrete { func: true, .. });
    a == b
        || (concrete_func(a) && is(b, Func))
        || (is(a, NoFunc) && (is(b, Func) || concrete_func(b)))
        || (is(a, NoExtern) && is(b, Extern))
}

/// A value type comparable across modules (see [`ModuleInfo::canonical_val_type`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CanonicalValType {
    /// A number or vector type.
    Num(wasmparser::ValType),
    /// A reference type.
    Ref {
        /// Whether null is included.
        nullable: bool,
        /// What it refers to.
        heap: CanonicalHeap,
    },
}

/// The heap type of a [`CanonicalValType::Ref`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanonicalHeap {
    /// A concrete type, by canonical identity.
    Concrete {
        /// Canonical type identity.
        id: u32,
        /// Whether it is a function type.
        func: bool,
    },
    /// An abstract heap type (func, extern, ...).
    Abstract {
        /// Shared (threads proposal).
        shared: bool,
        /// Which one.
        ty: wasmparser::AbstractHeapType,
    },
}

#[derive(Default)]
struct Builder<'data> {
    types: Vec<Option<FuncSig>>,
    funcs: Vec<FuncInfo>,
    num_imported_funcs: u32,
    tables: Vec<TableInfo>,
    num_imported_tables: u32,
    memories: Vec<MemoryInfo>,
    num_imported_memories: u32,
    globals: Vec<GlobalInfo>,
    num_imported_globals: u32,
    tags: Vec<TagInfo>,
    num_imported_tags: u32,
    exports: Vec<ExportInfo>,
    start: Option<u32>,
    elements: Vec<ElementInfo>,
    data: Vec<DataInfo<'data>>,
    bodies: Vec<FunctionBodyInfo<'data>>,
    func_names: HashMap<u32, String>,
}

fn import_of(import: &wasmparser::Import<'_>, offset: usize) -> Import {
    Import {
        module: import.module.to_string(),
        field: import.name.to_string(),
        offset,
    }
}

impl<'data> Builder<'data> {
    fn payload(&mut self, payload: Payload<'data>) -> Result<()> {
        match payload {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group?.into_types() {
                        self.types.push(match &sub.composite_type.inner {
                            CompositeInnerType::Func(func) => Some(FuncSig {
                                params: func.params().to_vec(),
                                results: func.results().to_vec(),
                            }),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports_with_offsets() {
                    let (offset, import) = import?;
                    let offset = offset as usize;
                    let origin = Some(import_of(&import, offset));
                    match import.ty {
                        TypeRef::Func(type_index) | TypeRef::FuncExact(type_index) => {
                            self.funcs.push(FuncInfo {
                                type_index,
                                import: origin,
                            });
                            self.num_imported_funcs += 1;
                        }
                        TypeRef::Table(ty) => {
                            self.tables.push(TableInfo {
                                ty,
                                import: origin,
                                init: None,
                            });
                            self.num_imported_tables += 1;
                        }
                        TypeRef::Memory(ty) => {
                            self.memories.push(MemoryInfo { ty, import: origin });
                            self.num_imported_memories += 1;
                        }
                        TypeRef::Global(ty) => {
                            self.globals.push(GlobalInfo {
                                ty,
                                import: origin,
                                init: Vec::new(),
                            });
                            self.num_imported_globals += 1;
                        }
                        TypeRef::Tag(tag) => {
                            self.tags.push(TagInfo {
                                type_index: tag.func_type_idx,
                                import: origin,
                            });
                            self.num_imported_tags += 1;
                        }
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for type_index in reader {
                    self.funcs.push(FuncInfo {
                        type_index: type_index?,
                        import: None,
                    });
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table?;
                    let init = match table.init {
                        TableInit::RefNull => None,
                        TableInit::Expr(expr) => Some(const_ops(&expr)?),
                    };
                    self.tables.push(TableInfo {
                        ty: table.ty,
                        import: None,
                        init,
                    });
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    self.memories.push(MemoryInfo {
                        ty: memory?,
                        import: None,
                    });
                }
            }
            Payload::TagSection(reader) => {
                for tag in reader {
                    self.tags.push(TagInfo {
                        type_index: tag?.func_type_idx,
                        import: None,
                    });
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global?;
                    self.globals.push(GlobalInfo {
                        ty: global.ty,
                        import: None,
                        init: const_ops(&global.init_expr)?,
                    });
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let kind = match export.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
                        ExternalKind::Table => ExportKind::Table,
                        ExternalKind::Memory => ExportKind::Memory,
                        ExternalKind::Global => ExportKind::Global,
                        ExternalKind::Tag => ExportKind::Tag,
                    };
                    self.exports.push(ExportInfo {
                        name: export.name.to_string(),
                        kind,
                        index: export.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => self.start = Some(func),
            Payload::ElementSection(reader) => {
                for element in reader {
                    let element = element?;
                    let mode = match element.kind {
                        ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => ElementMode::Active {
                            table: table_index.unwrap_or(0),
                            offset: const_ops(&offset_expr)?,
                        },
                        ElementKind::Passive => ElementMode::Passive,
                        ElementKind::Declared => ElementMode::Declared,
                    };
                    let (ty, items) = match element.items {
                        ElementItems::Functions(reader) => {
                            let items = reader
                                .into_iter()
                                .map(|f| f.map(|f| vec![ConstOp::RefFunc(f)]))
                                .collect::<Result<Vec<_>, _>>()?;
                            (RefType::FUNCREF, items)
                        }
                        ElementItems::Expressions(ty, reader) => {
                            let items = reader
                                .into_iter()
                                .map(|expr| const_ops(&expr?))
                                .collect::<Result<Vec<_>>>()?;
                            (ty, items)
                        }
                    };
                    self.elements.push(ElementInfo {
                        mode,
                        ty,
                        items,
                        offset: element.range.start as usize,
                    });
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data?;
                    let mode = match data.kind {
                        DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => DataMode::Active {
                            memory: memory_index,
                            offset: const_ops(&offset_expr)?,
                        },
                        DataKind::Passive => DataMode::Passive,
                    };
                    self.data.push(DataInfo {
                        mode,
                        bytes: data.data,
                        offset: data.range.start as usize,
                    });
                }
            }
            Payload::CustomSection(section) => {
                if let wasmparser::KnownCustom::Name(names) = section.as_known() {
                    // Names are optional debug information: a malformed name section is
                    // ignored rather than failing the build.
                    let _ = self.read_names(names);
                }
            }
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => {
                return Err(CompileError::unsupported("nested modules and components"));
            }
            _ => {}
        }
        Ok(())
    }

    fn read_names(&mut self, names: wasmparser::NameSectionReader<'data>) -> Result<()> {
        for name in names {
            if let wasmparser::Name::Function(map) = name? {
                for naming in map {
                    let naming = naming?;
                    self.func_names.insert(naming.index, demangle(naming.name));
                }
            }
        }
        Ok(())
    }

    fn finish(self, validated_types: Types) -> Result<ModuleInfo<'data>> {
        let canonical_types = (0..self.types.len() as u32)
            .map(|index| {
                use wasmparser::types::TypeIdentifier;
                validated_types
                    .as_ref()
                    .core_type_at_in_module(index)
                    .index() as u32
            })
            .collect();
        let mut func_ref_slots = vec![None; self.funcs.len()];
        let mut num_func_refs = 0u32;
        let mut escape = |index: u32| {
            let slot = &mut func_ref_slots[index as usize];
            if slot.is_none() {
                *slot = Some(num_func_refs);
                num_func_refs += 1;
            }
        };
        let ref_funcs = |ops: &[ConstOp]| -> Vec<u32> {
            ops.iter()
                .filter_map(|op| match op {
                    ConstOp::RefFunc(f) => Some(*f),
                    _ => None,
                })
                .collect()
        };
        for export in &self.exports {
            if export.kind == ExportKind::Func {
                escape(export.index);
            }
        }
        for global in &self.globals {
            ref_funcs(&global.init).into_iter().for_each(&mut escape);
        }
        for table in &self.tables {
            if let Some(init) = &table.init {
                ref_funcs(init).into_iter().for_each(&mut escape);
            }
        }
        for element in &self.elements {
            for item in &element.items {
                ref_funcs(item).into_iter().for_each(&mut escape);
            }
        }
        Ok(ModuleInfo {
            types: self.types,
            canonical_types,
            funcs: self.funcs,
            num_imported_funcs: self.num_imported_funcs,
            tables: self.tables,
            num_imported_tables: self.num_imported_tables,
            memories: self.memories,
            num_imported_memories: self.num_imported_memories,
            globals: self.globals,
            num_imported_globals: self.num_imported_globals,
            tags: self.tags,
            num_imported_tags: self.num_imported_tags,
            exports: self.exports,
            start: self.start,
            elements: self.elements,
            data: self.data,
            bodies: self.bodies,
            func_names: self.func_names,
            func_ref_slots,
            num_func_refs,
            validated_types,
        })
    }
}

/// Demangles Rust symbol names (as Rust toolchains put them in the name section) for
/// readable trap reports; other names pass through.
fn demangle(name: &str) -> String {
    match rustc_demangle::try_demangle(name) {
        Ok(demangled) => format!("{demangled:#}"),
        Err(_) => name.to_string(),
    }
}
