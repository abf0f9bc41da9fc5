//! Writing the relocatable object: functions and data through `cranelift-object`, then the
//! metadata sections (trap table, grants, image descriptor) added to the finished object.

use cranelift_codegen::ir::{self, types};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module};
use cranelift_object::{ObjectBuilder, ObjectModule};
use object::write::{Relocation, StandardSection, SymbolSection};
use object::{RelocationEncoding, RelocationFlags, RelocationKind, SectionKind};
use wafer_abi::exceptions::{CallSiteRecord, ExceptionTableBuilder};
use wafer_abi::image::{IMAGE_MAGIC, ImageField, flags};
use wafer_abi::trap::{TrapKind, TrapTableBuilder};

use super::{CompileConfig, CompiledFunction};
use crate::environ::{ConstValue, DataMode, ElementMode, consts_eval};
use crate::error::{CompileError, Result};
use crate::translate::env::{Libcalls, ModuleEnv};

/// The object-local name of the metering slow path's register-preserving shim (where the
/// compiler defines it; see [`ObjectWriter::meter_slow_path_in_runtime`]).
pub const METER_SLOW_PATH: &str = "wafer_meter_slow_path";

fn module_error(err: cranelift_module::ModuleError) -> CompileError {
    CompileError::Codegen(err.to_string())
}

/// Cranelift's library calls, mapped to the runtime's symbols.
fn libcall_name(libcall: ir::LibCall) -> String {
    use ir::LibCall;
    use wafer_abi::symbols as s;
    match libcall {
        LibCall::CeilF32 => s::CEIL_F32.into(),
        LibCall::CeilF64 => s::CEIL_F64.into(),
        LibCall::FloorF32 => s::FLOOR_F32.into(),
        LibCall::FloorF64 => s::FLOOR_F64.into(),
        LibCall::TruncF32 => s::TRUNC_F32.into(),
        LibCall::TruncF64 => s::TRUNC_F64.into(),
        LibCall::NearestF32 => s::NEAREST_F32.into(),
        LibCall::NearestF64 => s::NEAREST_F64.into(),
        LibCall::FmaF32 => s::FMA_F32.into(),
        LibCall::FmaF64 => s::FMA_F64.into(),
        LibCall::Memcpy => s::MEMCPY.into(),
        LibCall::Memmove => s::MEMMOVE.into(),
        LibCall::Memset => s::MEMSET.into(),
        LibCall::Memcmp => s::MEMCMP.into(),
        LibCall::X86Pshufb => s::X86_PSHUFB.into(),
        other => cranelift_module::default_libcall_names()(other),
    }
}

struct DefinedFunction {
    id: FuncId,
    name: String,
    len: u32,
    traps: Vec<(u32, TrapKind, u32)>,
    call_sites: Vec<CallSiteRecord>,
    inlined: Vec<super::InlinedBody>,
    debug: Option<crate::debug::FunctionDebug>,
}

/// Accumulates the object for one image.
pub struct ObjectWriter {
    module: ObjectModule,
    functions: Vec<DefinedFunction>,
    /// Declared functions left out of the image (nothing can call them).
    omitted: Vec<FuncId>,
    /// Declared functions whose code is another's: `(alias, function with the code)`.
    aliases: Vec<(FuncId, FuncId)>,
    /// The component's world (`wafer_abi::image::world`), empty for a core module.
    world: Vec<u8>,
    /// The ISA, for debug info.
    isa: OwnedTargetIsa,
    /// With debug info: the module's DWARF (if it has any) and its VM context.
    debug_module: Option<(Option<crate::debug::DebugModule>, usize, DataId)>,
}

impl ObjectWriter {
    /// A writer producing an object for `isa`.
    pub fn new(isa: OwnedTargetIsa) -> Result<Self> {
        let builder = ObjectBuilder::new(isa.clone(), "wafer", Box::new(libcall_name))
            .map_err(module_error)?;
        Ok(ObjectWriter {
            module: ObjectModule::new(builder),
            functions: Vec::new(),
            omitted: Vec::new(),
            aliases: Vec::new(),
            world: Vec::new(),
            isa,
            debug_module: None,
        })
    }

    /// Declares a function local to the object.
    pub fn declare_local(&mut self, name: &str, signature: &ir::Signature) -> Result<FuncId> {
        self.module
            .declare_function(name, Linkage::Local, signature)
            .map_err(module_error)
    }

    /// Declares a function the runtime defines.
    pub fn declare_import(&mut self, name: &str, signature: &ir::Signature) -> Result<FuncId> {
        self.module
            .declare_function(name, Linkage::Import, signature)
            .map_err(module_error)
    }

    /// Declares a runtime helper in the C calling convention, after the others.
    pub fn declare_libcall(
        &mut self,
        name: &str,
        params: &[ir::Type],
        returns: &[ir::Type],
    ) -> Result<FuncId> {
        let mut sig = ir::Signature::new(CallConv::triple_default(self.module.isa().triple()));
        sig.params
            .extend(params.iter().map(|t| ir::AbiParam::new(*t)));
        sig.returns
            .extend(returns.iter().map(|t| ir::AbiParam::new(*t)));
        self.declare_import(name, &sig)
    }

    /// Declares a function the runtime calls.
    pub fn declare_export(&mut self, name: &str, signature: &ir::Signature) -> Result<FuncId> {
        self.module
            .declare_function(name, Linkage::Export, signature)
            .map_err(module_error)
    }

    /// Declares a data object the runtime reads.
    pub fn declare_export_data(&mut self, name: &str) -> Result<DataId> {
        self.module
            .declare_data(name, Linkage::Export, false, false)
            .map_err(module_error)
    }

    /// Declares a data object local to the object.
    pub fn declare_data(&mut self, name: &str, writable: bool) -> Result<DataId> {
        self.module
            .declare_data(name, Linkage::Local, writable, false)
            .map_err(module_error)
    }

    /// Whether the runtime defines the metering slow path's shim rather than the
    /// compiler: on riscv64, where Cranelift's `preserve_all` prologue would save the
    /// vector registers even on CPUs without them.
    pub fn meter_slow_path_in_runtime(&self) -> bool {
        matches!(
            self.isa.triple().architecture,
            target_lexicon::Architecture::Riscv64(_)
        )
    }

    /// Declares the runtime helpers compiled code calls (`wafer_rt_stack_limit` only for
    /// images with stack-limit checks) and, when metered, the metering slow path's shim
    /// (local when the compiler defines it, `codegen::entry::define_meter_slow_path`).
    pub fn declare_libcalls(
        &mut self,
        ptr: ir::Type,
        call_conv: CallConv,
        stack_limit: bool,
        metering: bool,
    ) -> Result<Libcalls> {
        use wafer_abi::symbols as s;
        let sig = |params: &[ir::Type], returns: &[ir::Type]| {
            let mut sig = ir::Signature::new(call_conv);
            sig.params
                .extend(params.iter().map(|t| ir::AbiParam::new(*t)));
            sig.returns
                .extend(returns.iter().map(|t| ir::AbiParam::new(*t)));
            sig
        };
        let i64 = types::I64;
        Ok(Libcalls {
            memory_grow: self
                .declare_import(s::MEMORY_GROW, &sig(&[ptr, i64, types::I32], &[i64]))?,
            table_grow: self.declare_import(s::TABLE_GROW, &sig(&[ptr, i64, ptr], &[i64]))?,
            fill_ptrs: self.declare_import(s::FILL_PTRS, &sig(&[ptr, ptr, ptr], &[]))?,
            memcpy: self.declare_import(s::MEMCPY, &sig(&[ptr, ptr, ptr], &[ptr]))?,
            memmove: self.declare_import(s::MEMMOVE, &sig(&[ptr, ptr, ptr], &[ptr]))?,
            memset: self.declare_import(s::MEMSET, &sig(&[ptr, types::I32, ptr], &[ptr]))?,
            memory_new: self
                .declare_import(s::MEMORY_NEW, &sig(&[ptr, i64, i64, ptr, types::I32], &[]))?,
            table_new: self.declare_import(s::TABLE_NEW, &sig(&[ptr, i64, i64, ptr], &[]))?,
            exception_new: self
                .declare_import(s::EXCEPTION_NEW, &sig(&[types::I32, types::I32], &[ptr]))?,
            stack_limit: match stack_limit {
                true => Some(self.declare_import(s::STACK_LIMIT, &sig(&[ptr], &[ptr]))?),
                false => None,
            },
            // Declared only when metered: a declared import pulls the runtime's
            // metering into the image.
            meter: match metering {
                true => Some(crate::translate::env::MeterSymbols {
                    exhausted: self.declare_import(s::METER_EXHAUSTED, &sig(&[], &[i64]))?,
                    slow_path: {
                        let signature = ir::Signature::new(CallConv::PreserveAll);
                        match self.meter_slow_path_in_runtime() {
                            true => self.declare_import(s::METER_SLOW_PATH, &signature)?,
                            false => self.declare_local(METER_SLOW_PATH, &signature)?,
                        }
                    },
                    counter: self
                        .module
                        .declare_data(s::METER, Linkage::Import, true, false)
                        .map_err(module_error)?,
                }),
                false => None,
            },
            throw: self.declare_import(s::THROW, &{
                // The `tail` convention: a `try_call` to it makes the calling function
                // save every callee-saved register, which the unwinder does not restore.
                let mut throw = sig(&[ptr], &[]);
                throw.call_conv = crate::translate::env::WASM_CALL_CONV;
                throw
            })?,
        })
    }

    /// Defines a compiled function; `name` is what trap reports call it.
    pub fn define_function(
        &mut self,
        id: FuncId,
        name: &str,
        compiled: CompiledFunction,
    ) -> Result<()> {
        let len = u32::try_from(compiled.code.len())
            .map_err(|_| CompileError::ImplLimit(format!("function {name} is over 4 GiB")))?;
        self.module
            .define_function_bytes(id, compiled.alignment, &compiled.code, &compiled.relocs)
            .map_err(module_error)?;
        self.functions.push(DefinedFunction {
            id,
            name: name.to_string(),
            len,
            traps: compiled.traps,
            call_sites: compiled.call_sites,
            inlined: compiled.inlined,
            debug: compiled.debug,
        });
        Ok(())
    }

    /// Gives the image's debug info the module's DWARF (`None` when it has none) and
    /// the VM context its locations refer to.
    pub fn set_debug_module(
        &mut self,
        module: Option<crate::debug::DebugModule>,
        instance: usize,
        vmctx: DataId,
    ) {
        self.debug_module = Some((module, instance, vmctx));
    }

    /// Leaves declared function `id` out: nothing can call it. Its symbol stays, weak and
    /// undefined, so no linker looks for a definition.
    pub fn omit_function(&mut self, id: FuncId) {
        self.omitted.push(id);
    }

    /// Gives declared function `alias` the code of `target`, which must be defined.
    pub fn alias_function(&mut self, alias: FuncId, target: FuncId) {
        self.aliases.push((alias, target));
    }

    /// Records the world of the component the image is built from.
    pub fn set_world(&mut self, world: Vec<u8>) {
        self.world = world;
    }

    /// Defines a data object.
    pub fn define_data(&mut self, id: DataId, description: &DataDescription) -> Result<()> {
        self.module
            .define_data(id, description)
            .map_err(module_error)
    }

    /// The underlying module, for declaring references inside data.
    pub fn module_mut(&mut self) -> &mut ObjectModule {
        &mut self.module
    }

    /// Finishes the object: adds the trap table, grants and image descriptor.
    pub fn finish(self, config: &CompileConfig, has_main: bool, memories: u64) -> Result<Vec<u8>> {
        let pointer_size = self.module.isa().pointer_bytes();
        let product = self.module.finish();
        let mut object = product.object;
        for id in &self.omitted {
            if let Some((symbol, _)) = product.functions[*id] {
                // A weak symbol must not be local: ELF lists locals first, and linkers
                // such as lld refuse a weak one among them.
                let symbol = object.symbol_mut(symbol);
                symbol.weak = true;
                if symbol.scope == object::write::SymbolScope::Compilation {
                    symbol.scope = object::write::SymbolScope::Linkage;
                }
            }
        }
        for &(alias, target) in &self.aliases {
            let (Some((alias, _)), Some((target, _))) =
                (product.functions[alias], product.functions[target])
            else {
                return Err(CompileError::Codegen(
                    "an aliased function has no symbol".into(),
                ));
            };
            let target = object.symbol(target);
            let (section, value, size, kind) =
                (target.section, target.value, target.size, target.kind);
            let alias = object.symbol_mut(alias);
            alias.section = section;
            alias.value = value;
            alias.size = size;
            alias.kind = kind;
        }

        // Functions sit in one text section at their symbol's offset.
        let mut text_section = None;
        let mut traps = TrapTableBuilder::default();
        let mut exceptions = ExceptionTableBuilder::default();
        let mut placed = Vec::new();
        for function in &self.functions {
            let symbol_id = product.functions[function.id]
                .expect("defined functions have symbols")
                .0;
            let symbol = object.symbol(symbol_id);
            let SymbolSection::Section(section) = symbol.section else {
                return Err(CompileError::Codegen(format!(
                    "{} has no section",
                    function.name
                )));
            };
            text_section = Some(section);
            let start = u32::try_from(symbol.value)
                .map_err(|_| CompileError::ImplLimit("code over 4 GiB".into()))?;
            if let Some(debug) = &function.debug {
                placed.push(crate::debug::PlacedFunction {
                    start: u64::from(start),
                    len: u64::from(function.len),
                    name: &function.name,
                    debug,
                });
            }
            traps.function(start, function.len, &function.name);
            // With debug info, trap reports name the source line too.
            if let (Some(debug), Some((Some(module), instance, _))) =
                (&function.debug, &self.debug_module)
                && debug.instance == *instance
            {
                for (wasm_start, wasm_len, line) in module.source_lines(debug.func_index) {
                    let name = name_at(&function.name, &line);
                    traps.inlined(start, wasm_start, wasm_len, &name);
                }
            }
            for inlined in &function.inlined {
                traps.inlined(start, inlined.wasm_start, inlined.wasm_len, &inlined.name);
            }
            for &(offset, kind, wasm_offset) in &function.traps {
                traps.trap(start + offset, wasm_offset, kind);
            }
            for site in &function.call_sites {
                exceptions.site(CallSiteRecord {
                    return_offset: start + site.return_offset,
                    frame_offset: site.frame_offset,
                    handlers: site
                        .handlers
                        .iter()
                        .map(|(tag, offset)| (*tag, start + offset))
                        .collect(),
                });
            }
        }
        let text_section = text_section.unwrap_or_else(|| object.section_id(StandardSection::Text));
        let code_len = object.section(text_section).data().len() as u64;
        let code_symbol = object.section_symbol(text_section);
        if config.debug_info {
            let (module, instance, vmctx) = match &self.debug_module {
                Some((module, instance, vmctx)) => {
                    (module.as_ref(), *instance, product.data_objects[*vmctx])
                }
                None => (None, 0, None),
            };
            let vmctx_symbol = vmctx
                .map(|(symbol, _)| {
                    String::from_utf8_lossy(&object.symbol(symbol).name).into_owned()
                })
                .unwrap_or_default();
            let sections =
                crate::debug::build(&*self.isa, module, instance, &vmctx_symbol, &placed)?;
            add_debug_sections(&mut object, &sections, code_symbol, vmctx.map(|v| v.0))?;
        }

        let trap_table = traps.finish();
        let (traps_symbol, traps_len) = add_blob(&mut object, b".wafer.traps", &trap_table);
        let (grants_symbol, grants_len) = add_blob(&mut object, b".wafer.grants", &config.grants);
        let exception_table = exceptions.finish();
        let (exceptions_symbol, exceptions_len) =
            add_blob(&mut object, b".wafer.exceptions", &exception_table);
        let world =
            (!self.world.is_empty()).then(|| add_blob(&mut object, b".wafer.world", &self.world));

        // The descriptor: one pointer-sized field each, addresses by relocation.
        let descriptor_section = object.add_section(
            Vec::new(),
            b".wafer.image".to_vec(),
            SectionKind::ReadOnlyDataWithRel,
        );
        let mut fields = vec![0u64; ImageField::COUNT as usize];
        fields[ImageField::Magic as usize] = IMAGE_MAGIC;
        fields[ImageField::CodeLen as usize] = code_len;
        fields[ImageField::TrapTableLen as usize] = traps_len;
        fields[ImageField::GrantsLen as usize] = grants_len;
        fields[ImageField::ExceptionTableLen as usize] = exceptions_len;
        fields[ImageField::StackSize as usize] = config.stack_size;
        fields[ImageField::Memories as usize] = memories;
        fields[ImageField::Flags as usize] = if has_main { flags::HAS_MAIN } else { 0 };
        fields[ImageField::WorldLen as usize] = world.map_or(0, |(_, len)| len);
        fields[ImageField::Fuel as usize] = config.metering.fuel.unwrap_or(0);
        fields[ImageField::DeadlineNanos as usize] =
            config.metering.deadline.map_or(0, |deadline| {
                deadline.as_nanos().min(u64::MAX as u128) as u64
            });
        let mut board_blobs = Vec::new();
        if let Some(board) = &config.board {
            fields[ImageField::Flags as usize] |= board.exit_method.to_flags();
            if !board.files.is_empty() {
                let (files_symbol, files_len) =
                    add_blob(&mut object, b".wafer.files", &board.files);
                fields[ImageField::FilesLen as usize] = files_len;
                board_blobs.push((ImageField::Files, files_symbol));
            }
            // What the bare-metal runtime reads: the generator's seed and the build time.
            let mut values = board.seed.to_vec();
            values.extend_from_slice(&board.build_time.to_le_bytes());
            let section = object.add_section(
                Vec::new(),
                b".rodata.wafer_board".to_vec(),
                SectionKind::ReadOnlyData,
            );
            let offset = object.append_section_data(section, &values, 8);
            for (name, value, size) in [
                (&b"wafer_board_seed"[..], offset, 32),
                (&b"wafer_build_time"[..], offset + 32, 8),
            ] {
                object.add_symbol(object::write::Symbol {
                    name: name.to_vec(),
                    value,
                    size,
                    kind: object::SymbolKind::Data,
                    scope: object::SymbolScope::Linkage,
                    weak: false,
                    section: SymbolSection::Section(section),
                    flags: object::SymbolFlags::None,
                });
            }
        }
        let mut bytes = Vec::with_capacity(fields.len() * pointer_size as usize);
        for field in &fields {
            bytes.extend_from_slice(&field.to_le_bytes()[..pointer_size as usize]);
        }
        let descriptor_offset = object.append_section_data(descriptor_section, &bytes, 16);
        object.add_symbol(object::write::Symbol {
            name: wafer_abi::symbols::IMAGE_DESCRIPTOR.as_bytes().to_vec(),
            value: descriptor_offset,
            size: bytes.len() as u64,
            kind: object::SymbolKind::Data,
            scope: object::SymbolScope::Linkage,
            weak: false,
            section: SymbolSection::Section(descriptor_section),
            flags: object::SymbolFlags::None,
        });
        for (field, symbol) in [
            (ImageField::CodeStart, code_symbol),
            (ImageField::TrapTable, traps_symbol),
            (ImageField::Grants, grants_symbol),
            (ImageField::ExceptionTable, exceptions_symbol),
        ]
        .into_iter()
        .chain(world.map(|(symbol, _)| (ImageField::World, symbol)))
        .chain(board_blobs)
        {
            object
                .add_relocation(
                    descriptor_section,
                    Relocation {
                        offset: descriptor_offset + field.offset(pointer_size) as u64,
                        symbol,
                        addend: 0,
                        flags: RelocationFlags::Generic {
                            kind: RelocationKind::Absolute,
                            encoding: RelocationEncoding::Generic,
                            size: pointer_size * 8,
                        },
                    },
                )
                .map_err(|e| CompileError::Codegen(e.to_string()))?;
        }
        object
            .write()
            .map_err(|e| CompileError::Codegen(e.to_string()))
    }
}

/// `function at file:line`, the function's name shortened so that the whole stays
/// within the trap table's name limit and the position is never the part cut.
fn name_at(function: &str, position: &str) -> String {
    let suffix = format!(" at {position}");
    let room = wafer_abi::trap::MAX_NAME_LEN.saturating_sub(suffix.len());
    if function.len() <= room {
        return format!("{function}{suffix}");
    }
    let ellipsis = "…";
    let mut end = room.saturating_sub(ellipsis.len());
    while !function.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ellipsis}{suffix}", &function[..end])
}

/// Adds the debug sections, their addresses relocations against the code section and
/// the VM context.
fn add_debug_sections(
    object: &mut object::write::Object<'static>,
    sections: &[crate::debug::DebugSection],
    code_symbol: object::write::SymbolId,
    vmctx_symbol: Option<object::write::SymbolId>,
) -> Result<()> {
    use crate::debug::RelocTarget;
    for section in sections {
        let id = object.add_section(
            Vec::new(),
            section.name.as_bytes().to_vec(),
            SectionKind::Debug,
        );
        object.append_section_data(id, &section.data, 1);
        for reloc in &section.relocs {
            let symbol = match reloc.target {
                RelocTarget::Code => code_symbol,
                RelocTarget::VmContext => vmctx_symbol.ok_or_else(|| {
                    CompileError::Codegen("debug info refers to a missing VM context".into())
                })?,
            };
            object
                .add_relocation(
                    id,
                    Relocation {
                        offset: reloc.offset,
                        symbol,
                        addend: reloc.addend,
                        flags: RelocationFlags::Generic {
                            kind: RelocationKind::Absolute,
                            encoding: RelocationEncoding::Generic,
                            size: reloc.size * 8,
                        },
                    },
                )
                .map_err(|e| CompileError::Codegen(e.to_string()))?;
        }
    }
    Ok(())
}

/// Adds a read-only metadata section holding `bytes`; returns its symbol and length.
fn add_blob(
    object: &mut object::write::Object<'static>,
    name: &[u8],
    bytes: &[u8],
) -> (object::write::SymbolId, u64) {
    let section = object.add_section(Vec::new(), name.to_vec(), SectionKind::ReadOnlyData);
    object.append_section_data(section, bytes, 8);
    (object.section_symbol(section), bytes.len() as u64)
}

/// Emits the instance's VM context, data segments and element arrays.
/// `menvs` are every instance of the image, for references into other instances.
pub fn define_instance_data(
    writer: &mut ObjectWriter,
    menv: &ModuleEnv<'_>,
    menvs: &[ModuleEnv<'_>],
) -> Result<()> {
    let module = menv.module;
    let offsets = menv.offsets;
    let symbols = menv.symbols;
    let ptr = menv.pointer_type.bytes() as usize;

    // The VM context.
    let mut vmctx = DataDescription::new();
    let mut bytes = vec![0u8; offsets.size() as usize];
    let put = |bytes: &mut [u8], at: u32, value: &[u8]| {
        bytes[at as usize..at as usize + value.len()].copy_from_slice(value);
    };
    let self_ref = writer
        .module_mut()
        .declare_data_in_data(symbols.vmctx, &mut vmctx);
    let mut self_relocs = Vec::new();
    // Pointers into other instances: (offset here, owner's VM context, offset there).
    let mut foreign_relocs = Vec::new();
    let memory_def = |index: u32| -> (cranelift_module::DataId, u32) {
        if index < module.num_imported_memories {
            let site = symbols.imported_memories[index as usize];
            (
                site.vmctx,
                menvs[site.instance]
                    .offsets
                    .defined_memory(site.defined_index),
            )
        } else {
            (
                symbols.vmctx,
                offsets.defined_memory(index - module.num_imported_memories),
            )
        }
    };
    if let Some(memory) = wasi_memory(module) {
        let (owner, at) = memory_def(memory);
        foreign_relocs.push((offsets.wasi_memory(), owner, at));
    }
    for index in 0..module.num_imported_memories {
        let (owner, at) = memory_def(index);
        foreign_relocs.push((offsets.imported_memory(index), owner, at));
    }
    for (index, site) in symbols.imported_tables.iter().enumerate() {
        let at = menvs[site.instance]
            .offsets
            .defined_table(site.defined_index);
        foreign_relocs.push((offsets.imported_table(index as u32), site.vmctx, at));
    }
    for (index, site) in symbols.imported_globals.iter().enumerate() {
        let at = menvs[site.instance]
            .offsets
            .defined_global(site.defined_index);
        foreign_relocs.push((offsets.imported_global(index as u32), site.vmctx, at));
    }
    for (i, global) in module
        .globals
        .iter()
        .enumerate()
        .skip(module.num_imported_globals as usize)
    {
        let at = offsets.defined_global(i as u32 - module.num_imported_globals);
        match consts_eval(module, &global.init) {
            Some(ConstValue::I32(v)) => put(&mut bytes, at, &v.to_le_bytes()),
            Some(ConstValue::I64(v)) => put(&mut bytes, at, &v.to_le_bytes()),
            Some(ConstValue::F32(v)) => put(&mut bytes, at, &v.to_le_bytes()),
            Some(ConstValue::F64(v)) => put(&mut bytes, at, &v.to_le_bytes()),
            Some(ConstValue::V128(v)) => put(&mut bytes, at, &v.to_le_bytes()),
            Some(ConstValue::Func(f)) => {
                let slot = module.func_ref_slots[f as usize].expect("escaping");
                self_relocs.push((at, offsets.func_ref(slot) as i64));
            }
            Some(ConstValue::Null) | None => {}
        }
    }
    for (index, slot) in module.func_ref_slots.iter().enumerate() {
        let Some(slot) = slot else { continue };
        let at = offsets.func_ref(*slot);
        let type_index = module.funcs[index].type_index;
        let type_id = module.canonical_types[type_index as usize];
        put(
            &mut bytes,
            at + offsets.func_ref_type_id(),
            &type_id.to_le_bytes(),
        );
        let (entry, owner) = symbols.func_ref_entries[*slot as usize];
        let code = writer.module_mut().declare_func_in_data(entry, &mut vmctx);
        vmctx.write_function_addr(at + offsets.func_ref_code(), code);
        foreign_relocs.push((at + offsets.func_ref_vmctx(), owner, 0));
    }
    for (i, data) in module.data.iter().enumerate() {
        // Active segments are applied by the init function and dropped: their length is
        // 0 from the start, as nothing can observe it before.
        let len = match data.mode {
            DataMode::Passive => data.bytes.len() as u32,
            DataMode::Active { .. } => 0,
        };
        put(
            &mut bytes,
            offsets.data_segment_len(i as u32),
            &len.to_le_bytes(),
        );
    }
    for (i, element) in module.elements.iter().enumerate() {
        let len = match element.mode {
            ElementMode::Passive => element.items.len() as u32,
            _ => 0,
        };
        put(
            &mut bytes,
            offsets.elem_segment_len(i as u32),
            &len.to_le_bytes(),
        );
    }
    for (at, addend) in self_relocs {
        vmctx.write_data_addr(at, self_ref, addend);
    }
    for (at, owner, offset) in foreign_relocs {
        let owner = if owner == symbols.vmctx {
            self_ref
        } else {
            writer.module_mut().declare_data_in_data(owner, &mut vmctx)
        };
        vmctx.write_data_addr(at, owner, offset as i64);
    }
    // Explicit zeros, never zero-init: the object must keep the relocations.
    vmctx.define(bytes.into_boxed_slice());
    vmctx.set_align(16);
    writer.define_data(symbols.vmctx, &vmctx)?;

    for (i, data) in module.data.iter().enumerate() {
        let mut description = DataDescription::new();
        description.define(data.bytes.to_vec().into_boxed_slice());
        writer.define_data(symbols.data_segments[i], &description)?;
    }
    for (i, element) in module.elements.iter().enumerate() {
        let mut description = DataDescription::new();
        description.define(vec![0u8; element.items.len() * ptr].into_boxed_slice());
        description.set_align(ptr as u64);
        let vmctx_ref = writer
            .module_mut()
            .declare_data_in_data(symbols.vmctx, &mut description);
        for (j, item) in element.items.iter().enumerate() {
            if let Some(ConstValue::Func(f)) = consts_eval(module, item) {
                let slot = module.func_ref_slots[f as usize].expect("escaping");
                description.write_data_addr(
                    (j * ptr) as u32,
                    vmctx_ref,
                    offsets.func_ref(slot) as i64,
                );
            }
        }
        writer.define_data(symbols.elem_segments[i], &description)?;
    }
    Ok(())
}

/// The memory WASI functions use: the one exported as `memory`, else memory 0.
fn wasi_memory(module: &crate::environ::ModuleInfo<'_>) -> Option<u32> {
    let exported = module
        .export("memory")
        .filter(|e| e.kind == crate::environ::ExportKind::Memory)
        .map(|e| e.index);
    exported.or((!module.memories.is_empty()).then_some(0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_names_keep_their_source_position() {
        assert_eq!(super::name_at("main", "a.c:3"), "main at a.c:3");
        let long = "é".repeat(200);
        let named = super::name_at(&long, "src/lib.rs:42");
        assert!(
            named.len() <= wafer_abi::trap::MAX_NAME_LEN,
            "{}",
            named.len()
        );
        assert!(named.ends_with("é… at src/lib.rs:42"), "{named}");
    }
}
