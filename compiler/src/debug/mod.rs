//! Debug info for `wafer build -g`: the guest's Wasm DWARF translated to the image's
//! native code, call frame information, and the line table trap reports use.
//!
//! A Wasm producer (`clang -g`, `rustc -g`) describes its module with DWARF whose
//! addresses are byte offsets in the code section and whose locations name wasm locals,
//! globals and linear memory (`DW_OP_WASM_location`). Compiling keeps, per function,
//! which native code came from which wasm offset (Cranelift's source locations, set to
//! wasm offsets while translating) and where the register allocator kept each local
//! (value labels). From those:
//!
//! - `addr.rs` maps wasm code ranges to native ones;
//! - `units.rs` converts every unit with gimli: line programs re-derived row by row
//!   from native code (native offset → wasm offset → the guest's file and line),
//!   `DW_AT_low_pc`/`high_pc`/`ranges` mapped to native ranges, other attributes
//!   copied;
//! - `expr.rs` rewrites location expressions for native code: a wasm local becomes a
//!   register or a stack slot (a location list where it moves), a wasm global its slot
//!   in the VM context, and a linear-memory address is rebased on the memory's base
//!   (a constant for x86_64's fixed memory, else loaded from the VM context);
//! - `writer.rs` writes the sections with relocations against the code and the VM
//!   context, so the object carries them and the linker places them;
//! - `gdb.rs` adds a gdb script that makes wasm pointers usable (`$wasm(p)`);
//! - `lines.rs` builds the compact wasm-offset → file:line table that trap reports use.
//!
//! The frames get CFI (`.debug_frame`) from Cranelift's unwind information, which
//! debuggers need to find a stack slot's frame (`DW_OP_call_frame_cfa`).

mod addr;
mod expr;
mod gdb;
mod lines;
mod units;
mod writer;

use std::collections::HashMap;

use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::isa::unwind::UnwindInfo;
use cranelift_codegen::{CompiledCode, LabelValueLoc};
use wafer_abi::vmctx::VmOffsets;
use wasmparser::{Parser, Payload};

use crate::environ::ModuleInfo;
use crate::error::{CompileError, Result};

pub use writer::{DebugSection, RelocTarget, SectionReloc};

/// Where a wasm local lives over a range of a function's native code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalLocation {
    /// In this register (DWARF register number).
    Register(u16),
    /// In a stack slot at this offset from the canonical frame address.
    FrameSlot(i64),
}

/// One range over which a wasm local has a location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalRange {
    /// The local's index in its function.
    pub local: u32,
    /// Native code offsets, relative to the function, `[start, end)`.
    pub start: u32,
    pub end: u32,
    pub location: LocalLocation,
}

/// What debug info needs to know of one compiled wasm function.
#[derive(Debug, Clone)]
pub struct FunctionDebug {
    /// The function's instance in the image and index in its module (set by the image
    /// builder).
    pub instance: usize,
    pub func_index: u32,
    /// Native code ranges, relative to the function, and the module offset of the wasm
    /// operator each came from, in code order.
    pub srclocs: Vec<(u32, u32, u32)>,
    /// Where its locals live.
    pub locals: Vec<LocalRange>,
    /// Its frame, for `.debug_frame`.
    pub unwind: Option<cranelift_codegen::isa::unwind::systemv::UnwindInfo>,
}

impl FunctionDebug {
    /// Gathers the debug information of `compiled`, whose source locations are
    /// `srclocs`.
    pub fn new(
        isa: &dyn TargetIsa,
        compiled: &CompiledCode,
        srclocs: &[cranelift_codegen::MachSrcLoc<cranelift_codegen::Final>],
    ) -> Result<Self> {
        let srclocs = srclocs
            .iter()
            .filter(|loc| !loc.loc.is_default() && loc.start < loc.end)
            .map(|loc| (loc.start, loc.end, loc.loc.bits()))
            .collect();
        let mut locals = Vec::new();
        for (label, ranges) in &compiled.value_labels_ranges {
            for range in ranges {
                let location = match range.loc {
                    LabelValueLoc::Reg(reg) => match isa.map_regalloc_reg_to_dwarf(reg) {
                        Ok(register) => LocalLocation::Register(register),
                        Err(_) => continue,
                    },
                    LabelValueLoc::CFAOffset(offset) => LocalLocation::FrameSlot(offset),
                };
                locals.push(LocalRange {
                    local: label.as_u32(),
                    start: range.start,
                    end: range.end,
                    location,
                });
            }
        }
        locals.sort_unstable_by_key(|range| (range.local, range.start));
        let unwind = match compiled
            .create_unwind_info(isa)
            .map_err(|e| CompileError::Codegen(format!("unwind info: {e:?}")))?
        {
            Some(UnwindInfo::SystemV(info)) => Some(info),
            _ => None,
        };
        Ok(FunctionDebug {
            instance: 0,
            func_index: 0,
            srclocs,
            locals,
            unwind,
        })
    }
}

/// Where the code finds a linear memory's base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryBase {
    /// At this constant address (x86_64's fixed memory).
    Fixed(u64),
    /// In the VM context, at this offset.
    InVmContext(u32),
}

/// A defined function's body in the module.
#[derive(Debug, Clone)]
struct Body {
    /// Module offsets of the body (its locals' declarations first), `[start, end)`.
    start: u32,
    end: u32,
    /// The byte size of each local (parameters first).
    local_sizes: Vec<u8>,
}

/// The module's DWARF and what its locations refer to.
#[derive(Debug)]
pub struct DebugModule {
    /// The `.debug_*` custom sections by name.
    sections: HashMap<String, Vec<u8>>,
    /// Module offset of the code section's contents: DWARF addresses are relative to it.
    code_start: u32,
    /// Module offset of `.debug_info`'s contents, for errors.
    info_offset: usize,
    bodies: HashMap<u32, Body>,
    /// Memory 0's base, if the module defines it.
    memory: Option<MemoryBase>,
    /// Each global's slot in the VM context and byte size, if it is defined.
    globals: Vec<Option<(u32, u8)>>,
    /// Which wasm code came from which source line, by start, and the files named.
    lines: Vec<lines::LineRange>,
    files: Vec<String>,
}

fn value_size(ty: wasmparser::ValType) -> u8 {
    use wasmparser::ValType;
    match ty {
        ValType::I32 | ValType::F32 => 4,
        ValType::I64 | ValType::F64 => 8,
        ValType::V128 => 16,
        ValType::Ref(_) => 8,
    }
}

/// Whether `wasm` carries DWARF (a `.debug_info` custom section); a module that does not
/// parse has none.
pub fn has_dwarf(wasm: &[u8]) -> bool {
    Parser::new(0).parse_all(wasm).any(|payload| {
        matches!(payload, Ok(Payload::CustomSection(section)) if section.name() == ".debug_info")
    })
}

impl DebugModule {
    /// Reads the DWARF of `wasm` (parsed as `module`, with VM context `offsets`;
    /// `fixed_memory`: memory 0 is at [`wafer_abi::FIXED_MEMORY_BASE`]). `None` when the
    /// module carries no DWARF.
    pub fn parse(
        wasm: &[u8],
        module: &ModuleInfo<'_>,
        offsets: &VmOffsets,
        fixed_memory: bool,
    ) -> Result<Option<Self>> {
        let mut sections = HashMap::new();
        let mut code_start = None;
        let mut info_offset = 0;
        let mut bodies = HashMap::new();
        let mut func_index = module.num_imported_funcs;
        for payload in Parser::new(0).parse_all(wasm) {
            match payload? {
                Payload::CustomSection(section) if section.name().starts_with(".debug_") => {
                    if section.name() == ".debug_info" {
                        info_offset = section.data_offset() as usize;
                    }
                    sections.insert(section.name().to_string(), section.data().to_vec());
                }
                Payload::CodeSectionStart {
                    unchecked_range, ..
                } => code_start = Some(unchecked_range.start as u32),
                Payload::CodeSectionEntry(body) => {
                    let range = body.range();
                    let sig = module.func_sig(func_index);
                    let mut local_sizes: Vec<u8> =
                        sig.params.iter().map(|t| value_size(*t)).collect();
                    let mut reader = body.get_locals_reader()?;
                    for _ in 0..reader.get_count() {
                        let (count, ty) = reader.read()?;
                        local_sizes.extend(std::iter::repeat_n(value_size(ty), count as usize));
                    }
                    bodies.insert(
                        func_index,
                        Body {
                            start: range.start as u32,
                            end: range.end as u32,
                            local_sizes,
                        },
                    );
                    func_index += 1;
                }
                _ => {}
            }
        }
        let Some(code_start) = code_start else {
            return Ok(None);
        };
        if !sections.contains_key(".debug_info") {
            return Ok(None);
        }
        let memory = match (module.num_imported_memories, module.memories.is_empty()) {
            (0, false) if fixed_memory => Some(MemoryBase::Fixed(wafer_abi::FIXED_MEMORY_BASE)),
            (0, false) => Some(MemoryBase::InVmContext(
                offsets.defined_memory(0) + offsets.memory_base(),
            )),
            _ => None,
        };
        let globals = (0..module.globals.len() as u32)
            .map(|index| {
                let defined = index.checked_sub(module.num_imported_globals)?;
                let size = value_size(module.globals[index as usize].ty.content_type);
                Some((offsets.defined_global(defined), size))
            })
            .collect();
        let (lines, files) = lines::read_lines(&sections, code_start);
        Ok(Some(DebugModule {
            sections,
            code_start,
            info_offset,
            bodies,
            memory,
            globals,
            lines,
            files,
        }))
    }

    /// The source lines of defined function `func_index`'s code, for trap reports:
    /// each as a module offset, a length and `file:line`.
    pub fn source_lines(&self, func_index: u32) -> Vec<(u32, u32, String)> {
        let Some(body) = self.bodies.get(&func_index) else {
            return Vec::new();
        };
        let first = self.lines.partition_point(|range| range.end <= body.start);
        self.lines[first..]
            .iter()
            .take_while(|range| range.start < body.end)
            .map(|range| {
                let (start, end) = (range.start.max(body.start), range.end.min(body.end));
                let file = self
                    .files
                    .get(range.file as usize)
                    .map_or("?", String::as_str);
                (start, end - start, format!("{file}:{}", range.line))
            })
            .filter(|&(_, len, _)| len > 0)
            .collect()
    }
}

/// A compiled wasm function as placed in the code section.
#[derive(Debug, Clone, Copy)]
pub struct PlacedFunction<'a> {
    /// Offset of its first byte in the code section.
    pub start: u64,
    /// Its length in bytes.
    pub len: u64,
    /// Its name (the name section's, or `wasm-function[N]`).
    pub name: &'a str,
    pub debug: &'a FunctionDebug,
}

/// The debug sections of an image: `.debug_frame` for every placed function, and the
/// DWARF of `module`, the image's instance `instance`, translated (with the gdb script
/// for its pointers, `vmctx_symbol` naming its VM context), or, when there is none, a
/// unit naming each function.
pub fn build(
    isa: &dyn TargetIsa,
    module: Option<&DebugModule>,
    instance: usize,
    vmctx_symbol: &str,
    functions: &[PlacedFunction<'_>],
) -> Result<Vec<DebugSection>> {
    let mut sections = Vec::new();
    match module {
        Some(module) => {
            let described: Vec<PlacedFunction<'_>> = functions
                .iter()
                .filter(|function| function.debug.instance == instance)
                .copied()
                .collect();
            let map = addr::AddressMap::new(module, &described);
            sections.extend(units::translate(module, &map)?);
            if let Some(memory) = module.memory {
                sections.push(gdb::script_section(memory, vmctx_symbol));
            }
        }
        None if !functions.is_empty() => sections.extend(units::function_names(functions)?),
        None => {}
    }
    if let Some(frame) = writer::debug_frame(isa, functions)? {
        sections.push(frame);
    }
    Ok(sections)
}

/// Writing debug info failed: a bug.
fn dwarf_error(e: impl std::fmt::Display) -> CompileError {
    CompileError::Codegen(format!("debug info: {e}"))
}

impl DebugModule {
    /// The module's DWARF cannot be read.
    fn malformed(&self, e: impl std::fmt::Display) -> CompileError {
        CompileError::InvalidWasm {
            message: format!(
                "malformed DWARF in the .debug_* sections ({e}); build without -g to ignore it"
            ),
            offset: self.info_offset,
        }
    }
}
