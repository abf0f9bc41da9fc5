//! Writing DWARF sections whose addresses are relocations against the code section
//! and the VM context, so they stay right wherever the linker places both.

use cranelift_codegen::isa::TargetIsa;
use gimli::write::{Address, EndianVec, FrameTable, Sections, Writer};
use gimli::{LittleEndian, SectionId};

use super::{PlacedFunction, dwarf_error};
use crate::error::Result;

/// `Address::Symbol` number of the object's code section.
pub(super) const CODE_SYMBOL: usize = 0;
/// `Address::Symbol` number of the image's first VM context.
pub(super) const VMCTX_SYMBOL: usize = 1;

/// What a relocation in a debug section points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelocTarget {
    /// The code section's first byte.
    Code,
    /// The VM context of the image's instance.
    VmContext,
}

/// An absolute address to fill in: `size` bytes at `offset` get target + addend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionReloc {
    pub offset: u64,
    pub size: u8,
    pub target: RelocTarget,
    pub addend: i64,
}

/// A finished debug section.
#[derive(Debug, Clone)]
pub struct DebugSection {
    /// `.debug_info`, `.debug_line`, ...
    pub name: &'static str,
    pub data: Vec<u8>,
    pub relocs: Vec<SectionReloc>,
}

/// A section under construction that records its symbolic addresses.
#[derive(Debug, Clone)]
pub(super) struct RelocWriter {
    bytes: EndianVec<LittleEndian>,
    relocs: Vec<SectionReloc>,
}

impl RelocWriter {
    pub fn new() -> Self {
        RelocWriter {
            bytes: EndianVec::new(LittleEndian),
            relocs: Vec::new(),
        }
    }
}

impl Writer for RelocWriter {
    type Endian = LittleEndian;

    fn endian(&self) -> LittleEndian {
        LittleEndian
    }

    fn len(&self) -> usize {
        self.bytes.len()
    }

    fn write(&mut self, bytes: &[u8]) -> gimli::write::Result<()> {
        self.bytes.write(bytes)
    }

    fn write_at(&mut self, offset: usize, bytes: &[u8]) -> gimli::write::Result<()> {
        self.bytes.write_at(offset, bytes)
    }

    fn write_address(&mut self, address: Address, size: u8) -> gimli::write::Result<()> {
        match address {
            Address::Constant(value) => self.write_udata(value, size),
            Address::Symbol { symbol, addend } => {
                let target = match symbol {
                    CODE_SYMBOL => RelocTarget::Code,
                    VMCTX_SYMBOL => RelocTarget::VmContext,
                    _ => return Err(gimli::write::Error::InvalidAddress),
                };
                self.relocs.push(SectionReloc {
                    offset: self.len() as u64,
                    size,
                    target,
                    addend,
                });
                self.write_udata(0, size)
            }
        }
    }
}

/// The non-empty sections of `sections`.
pub(super) fn finish(sections: &Sections<RelocWriter>) -> Result<Vec<DebugSection>> {
    let mut out = Vec::new();
    sections
        .for_each(|id: SectionId, section: &RelocWriter| -> Result<()> {
            if section.len() > 0 {
                out.push(DebugSection {
                    name: id.name(),
                    data: section.bytes.slice().to_vec(),
                    relocs: section.relocs.clone(),
                });
            }
            Ok(())
        })
        .map_err(dwarf_error)?;
    Ok(out)
}

/// `.debug_frame`: each function's frame as Cranelift describes it, so debuggers can
/// unwind through guest code and find its stack slots.
pub(super) fn debug_frame(
    isa: &dyn TargetIsa,
    functions: &[PlacedFunction<'_>],
) -> Result<Option<DebugSection>> {
    let Some(cie) = isa.create_systemv_cie() else {
        return Ok(None);
    };
    let mut table = FrameTable::default();
    let cie = table.add_cie(cie);
    let mut any = false;
    for function in functions {
        if let Some(unwind) = &function.debug.unwind {
            table.add_fde(
                cie,
                unwind.to_fde(Address::Symbol {
                    symbol: CODE_SYMBOL,
                    addend: function.start as i64,
                }),
            );
            any = true;
        }
    }
    if !any {
        return Ok(None);
    }
    let mut frame = gimli::write::DebugFrame(RelocWriter::new());
    table.write_debug_frame(&mut frame).map_err(dwarf_error)?;
    Ok(Some(DebugSection {
        name: ".debug_frame",
        data: frame.0.bytes.slice().to_vec(),
        relocs: frame.0.relocs,
    }))
}
