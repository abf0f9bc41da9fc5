//! Helpers shared by the test files: relocatable objects built in memory.

#![allow(dead_code, reason = "each test file uses its own subset")]

use object::write::{self, Relocation, Symbol, SymbolId, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags, SymbolKind,
    SymbolScope,
};

/// A relocatable object under construction.
pub struct Obj {
    pub obj: write::Object<'static>,
}

impl Obj {
    pub fn new(arch: Architecture) -> Self {
        Self {
            obj: write::Object::new(BinaryFormat::Elf, arch, Endianness::Little),
        }
    }

    /// A section holding `data`, 16-byte aligned.
    pub fn section(&mut self, name: &str, kind: SectionKind, data: &[u8]) -> write::SectionId {
        self.section_aligned(name, kind, data, 16)
    }

    pub fn section_aligned(
        &mut self,
        name: &str,
        kind: SectionKind,
        data: &[u8],
        align: u64,
    ) -> write::SectionId {
        let id = self
            .obj
            .add_section(Vec::new(), name.as_bytes().to_vec(), kind);
        self.obj.append_section_data(id, data, align);
        id
    }

    /// A `NOBITS` section of `size` zero bytes.
    pub fn bss(&mut self, name: &str, size: u64, align: u64) -> write::SectionId {
        let id = self.obj.add_section(
            Vec::new(),
            name.as_bytes().to_vec(),
            SectionKind::UninitializedData,
        );
        self.obj.append_section_bss(id, size, align);
        id
    }

    pub fn define(
        &mut self,
        name: &str,
        section: write::SectionId,
        value: u64,
        weak: bool,
    ) -> SymbolId {
        self.obj.add_symbol(Symbol {
            name: name.as_bytes().to_vec(),
            value,
            size: 0,
            kind: SymbolKind::Text,
            scope: SymbolScope::Linkage,
            weak,
            section: SymbolSection::Section(section),
            flags: SymbolFlags::None,
        })
    }

    pub fn symbol(
        &mut self,
        name: &str,
        section: SymbolSection,
        value: u64,
        weak: bool,
    ) -> SymbolId {
        let kind = if section == SymbolSection::Undefined {
            SymbolKind::Unknown
        } else {
            SymbolKind::Data
        };
        self.obj.add_symbol(Symbol {
            name: name.as_bytes().to_vec(),
            value,
            size: 0,
            kind,
            scope: SymbolScope::Linkage,
            weak,
            section,
            flags: SymbolFlags::None,
        })
    }

    pub fn undefined(&mut self, name: &str) -> SymbolId {
        self.symbol(name, SymbolSection::Undefined, 0, false)
    }

    pub fn reloc(
        &mut self,
        section: write::SectionId,
        offset: u64,
        symbol: SymbolId,
        r_type: u32,
        addend: i64,
    ) {
        self.obj
            .add_relocation(
                section,
                Relocation {
                    offset,
                    symbol,
                    addend,
                    flags: RelocationFlags::Elf { r_type },
                },
            )
            .unwrap();
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.obj.write().unwrap()
    }
}
