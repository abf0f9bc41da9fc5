//! Reading inputs: ELF64 relocatable objects and `ar` archives of them.
//!
//! Parsing is fallible throughout: every size, offset and index that comes from the
//! input is checked, and a bad one becomes a [`LinkError`] naming the input.
//! Nothing here decides what is kept; it only classifies each section by the output
//! section it would go to.

use object::LittleEndian as Le;
use object::elf::{self, FileHeader64, Rela64};
use object::read::archive::ArchiveFile;
use object::read::elf::{FileHeader, SectionHeader, Sym};

use crate::Arch;
use crate::error::{LinkError, Result, show};

/// Where an input section goes in the output, decided from its name and flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SectionKind {
    /// Not loaded: not allocatable, discarded by name, or metadata of the object format.
    Ignore,
    Text,
    Rodata,
    /// `.wafer*`: an output section of its own with the same name.
    Wafer,
    Data,
    /// `.sdata*`: placed after the other data so `__global_pointer$` can cover it.
    SmallData,
    /// `.sbss*`: placed before the other bss, next to `.sdata`.
    SmallBss,
    Bss,
}

/// One section of an input object.
#[derive(Debug)]
pub(crate) struct Section<'a> {
    pub name: &'a [u8],
    pub kind: SectionKind,
    pub flags: u64,
    /// Power of two, at least 1.
    pub align: u64,
    pub size: u64,
    /// The contents; empty for `SHT_NOBITS`.
    pub data: &'a [u8],
    pub relocs: &'a [Rela64<Le>],
    /// A DWARF section (`.debug*`, not allocated): never loaded, but copied after the
    /// loaded part with its relocations applied when debug info is kept.
    pub debug: bool,
}

/// One symbol-table entry of an input object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Symbol<'a> {
    pub name: &'a [u8],
    pub bind: u8,
    pub typ: u8,
    /// The section index with `SHN_XINDEX` already resolved; may be `SHN_UNDEF`,
    /// `SHN_ABS` or `SHN_COMMON`.
    pub shndx: u32,
    pub value: u64,
    pub size: u64,
}

impl Symbol<'_> {
    pub fn is_local(&self) -> bool {
        self.bind == elf::STB_LOCAL
    }

    pub fn is_weak(&self) -> bool {
        self.bind == elf::STB_WEAK
    }
}

/// A COMDAT group: its sections are kept from the first object that has the signature.
#[derive(Debug)]
pub(crate) struct Group<'a> {
    pub signature: &'a [u8],
    pub sections: Vec<u32>,
}

/// A parsed relocatable object.
#[derive(Debug)]
pub(crate) struct Object<'a> {
    /// `app.o`, or `libruntime.a(member.o)` for an archive member; used in messages.
    pub name: String,
    pub e_flags: u32,
    /// Indexed by ELF section index; entry 0 is the null section.
    pub sections: Vec<Section<'a>>,
    /// Indexed by ELF symbol index; entry 0 is the null symbol.
    pub symbols: Vec<Symbol<'a>>,
    pub groups: Vec<Group<'a>>,
    /// Loaded from an archive (the runtime): its debug info is never kept.
    pub archive_member: bool,
}

impl Object<'_> {
    /// `app.o(.text)`: how messages name a section.
    pub fn describe_section(&self, index: u32) -> String {
        let name = self
            .sections
            .get(index as usize)
            .map_or_else(|| format!("section {index}"), |s| show(s.name));
        format!("{}({name})", self.name)
    }
}

const ELF_MAGIC: &[u8] = b"\x7fELF";
pub(crate) const ARCHIVE_MAGIC: &[u8] = b"!<arch>\n";

fn elf_machine(arch: Arch) -> u16 {
    match arch {
        Arch::X86_64 => elf::EM_X86_64,
        Arch::Aarch64 => elf::EM_AARCH64,
        Arch::Riscv64 => elf::EM_RISCV,
    }
}

/// Parses one relocatable object. `name` is used in messages only.
pub(crate) fn parse_object<'a>(arch: Arch, name: String, data: &'a [u8]) -> Result<Object<'a>> {
    let bad = |what: &dyn std::fmt::Display| LinkError::malformed(&name, what);
    if !data.starts_with(ELF_MAGIC) {
        return Err(bad(&"not an ELF object or archive"));
    }
    let header = FileHeader64::<Le>::parse(data).map_err(|e| bad(&e))?;
    if !header.is_class_64() || !header.is_little_endian() {
        return Err(LinkError::unsupported(format!(
            "{name}: only little-endian ELF64 objects are supported"
        )));
    }
    let endian = Le;
    if header.e_type(endian) != elf::ET_REL {
        return Err(LinkError::unsupported(format!(
            "{name}: not a relocatable object (e_type {})",
            header.e_type(endian)
        )));
    }
    let machine = header.e_machine(endian);
    if machine != elf_machine(arch) {
        return Err(LinkError::unsupported(format!(
            "{name}: wrong architecture: ELF machine {machine}, expected {arch:?}"
        )));
    }
    let table = header.sections(endian, data).map_err(|e| bad(&e))?;

    let mut sections = Vec::with_capacity(table.len());
    let mut symtab_index = None;
    for (index, sh) in table.enumerate() {
        let section_name = table.section_name(endian, sh).map_err(|e| bad(&e))?;
        let kind = classify(&name, section_name, sh.sh_type(endian), sh.sh_flags(endian))?;
        if sh.sh_type(endian) == elf::SHT_SYMTAB {
            if symtab_index.is_some() {
                return Err(bad(&"more than one symbol table"));
            }
            symtab_index = Some(index);
        }
        let align = match sh.sh_addralign(endian) {
            0 => 1,
            a if a.is_power_of_two() => a,
            a => {
                return Err(bad(&format_args!(
                    "section {} has alignment {a}, not a power of two",
                    show(section_name)
                )));
            }
        };
        // Alignment pads the file (or, for bss, the address space): bound it so a
        // corrupt header cannot make the output huge.
        let max_align = if sh.sh_type(endian) == elf::SHT_NOBITS {
            1 << 30
        } else {
            1 << 16
        };
        if kind != SectionKind::Ignore && align > max_align {
            return Err(LinkError::unsupported(format!(
                "{name}: section {} has alignment {align:#x}, more than {max_align:#x}",
                show(section_name)
            )));
        }
        let debug = kind == SectionKind::Ignore
            && section_name.starts_with(b".debug")
            && sh.sh_type(endian) == elf::SHT_PROGBITS
            && sh.sh_flags(endian) & u64::from(elf::SHF_ALLOC) == 0;
        let data =
            if (kind == SectionKind::Ignore && !debug) || sh.sh_type(endian) == elf::SHT_NOBITS {
                &[][..]
            } else {
                sh.data(endian, data).map_err(|e| bad(&e))?
            };
        sections.push(Section {
            name: section_name,
            kind,
            flags: sh.sh_flags(endian),
            align,
            size: sh.sh_size(endian),
            data,
            relocs: &[],
            debug,
        });
    }
    if sections.is_empty() {
        return Err(bad(&"no section headers"));
    }

    // Symbols. An object without a symbol table can still be linked (it defines nothing).
    let mut symbols = Vec::new();
    if let Some(symtab_index) = symtab_index {
        let symtab = table
            .symbol_table_by_index(endian, data, symtab_index)
            .map_err(|e| bad(&e))?;
        symbols.reserve(symtab.len());
        for (index, sym) in symtab.enumerate() {
            let mut shndx = u32::from(sym.st_shndx(endian));
            if shndx == u32::from(elf::SHN_XINDEX) {
                shndx = symtab.shndx(endian, index).ok_or_else(|| {
                    bad(&format_args!("symbol {} has no extended index", index.0))
                })?;
            }
            let is_special =
                shndx == u32::from(elf::SHN_ABS) || shndx == u32::from(elf::SHN_COMMON);
            if !is_special && shndx as usize >= sections.len() {
                return Err(bad(&format_args!(
                    "symbol {} has bad section index {shndx}",
                    index.0
                )));
            }
            symbols.push(Symbol {
                name: symtab.symbol_name(endian, sym).map_err(|e| bad(&e))?,
                bind: sym.st_bind(),
                typ: sym.st_type(),
                shndx,
                value: sym.st_value(endian),
                size: sym.st_size(endian),
            });
        }
    }

    // Relocations and groups, attached to the sections they apply to.
    let mut groups = Vec::new();
    for (index, sh) in table.enumerate() {
        let sh_type = sh.sh_type(endian);
        if !matches!(
            sh_type,
            elf::SHT_RELA | elf::SHT_REL | elf::SHT_CREL | elf::SHT_GROUP
        ) {
            continue;
        }
        if sh_type == elf::SHT_GROUP {
            if let Some(group) = parse_group(&name, data, sh, &symbols, sections.len())? {
                groups.push(group);
            }
            continue;
        }
        let target = sh.sh_info(endian) as usize;
        let Some(target_section) = sections.get(target) else {
            return Err(bad(&format_args!(
                "relocation section {} has bad target",
                index.0
            )));
        };
        if target_section.kind == SectionKind::Ignore && !target_section.debug {
            continue;
        }
        if sh_type != elf::SHT_RELA {
            return Err(LinkError::unsupported(format!(
                "{name}: only RELA relocations are supported, found type {sh_type:#x} for {}",
                show(target_section.name)
            )));
        }
        if Some(sh.link(endian)) != symtab_index {
            return Err(bad(&"relocation section does not use the symbol table"));
        }
        let relocs = sh
            .data_as_array::<Rela64<Le>, _>(endian, data)
            .map_err(|e| bad(&e))?;
        let target_section = &mut sections[target];
        if !target_section.relocs.is_empty() {
            return Err(bad(&format_args!(
                "section {} has two relocation sections",
                show(target_section.name)
            )));
        }
        target_section.relocs = relocs;
    }

    Ok(Object {
        name,
        e_flags: header.e_flags(endian),
        sections,
        symbols,
        groups,
        archive_member: false,
    })
}

fn parse_group<'a>(
    name: &str,
    data: &'a [u8],
    sh: &elf::SectionHeader64<Le>,
    symbols: &[Symbol<'a>],
    section_count: usize,
) -> Result<Option<Group<'a>>> {
    let endian = Le;
    let bad = |what: &dyn std::fmt::Display| LinkError::malformed(name, what);
    let words = sh
        .data_as_array::<object::U32<Le>, _>(endian, data)
        .map_err(|e| bad(&e))?;
    let Some((flags, members)) = words.split_first() else {
        return Err(bad(&"empty section group"));
    };
    if flags.get(endian) & elf::GRP_COMDAT == 0 {
        return Ok(None);
    }
    let signature = symbols
        .get(sh.sh_info(endian) as usize)
        .ok_or_else(|| bad(&"section group has a bad signature symbol"))?
        .name;
    let mut sections = Vec::with_capacity(members.len());
    for member in members {
        let index = member.get(endian);
        if index as usize >= section_count || index == 0 {
            return Err(bad(&"section group has a bad member"));
        }
        sections.push(index);
    }
    Ok(Some(Group {
        signature,
        sections,
    }))
}

fn starts_with_any(name: &[u8], prefixes: &[&[u8]]) -> bool {
    prefixes.iter().any(|p| name.starts_with(p))
}

/// Decides where a section goes; errors for what a static wafer image must not contain.
fn classify(input: &str, name: &[u8], sh_type: u32, flags: u64) -> Result<SectionKind> {
    use SectionKind::*;
    if matches!(
        sh_type,
        elf::SHT_NULL
            | elf::SHT_SYMTAB
            | elf::SHT_STRTAB
            | elf::SHT_RELA
            | elf::SHT_REL
            | elf::SHT_CREL
            | elf::SHT_GROUP
            | elf::SHT_SYMTAB_SHNDX
    ) {
        return Ok(Ignore);
    }
    if name.starts_with(b".wafer") {
        if sh_type == elf::SHT_NOBITS {
            return Err(LinkError::unsupported(format!(
                "{input}: metadata section {} has no contents (SHT_NOBITS)",
                show(name)
            )));
        }
        return Ok(Wafer);
    }
    if flags & u64::from(elf::SHF_ALLOC) == 0 {
        return Ok(Ignore);
    }
    if starts_with_any(
        name,
        &[
            b".eh_frame",
            b".debug",
            b".comment",
            b".note",
            b".llvm_addrsig",
            b".llvm.",
        ],
    ) {
        return Ok(Ignore);
    }
    if flags & u64::from(elf::SHF_TLS) != 0 || starts_with_any(name, &[b".tdata", b".tbss"]) {
        return Err(LinkError::unsupported(format!(
            "unsupported: thread-local storage in {input} (section {})",
            show(name)
        )));
    }
    if matches!(
        sh_type,
        elf::SHT_INIT_ARRAY | elf::SHT_FINI_ARRAY | elf::SHT_PREINIT_ARRAY
    ) || starts_with_any(
        name,
        &[
            b".init_array",
            b".fini_array",
            b".preinit_array",
            b".ctors",
            b".dtors",
        ],
    ) {
        return Err(LinkError::unsupported(format!(
            "unsupported: constructors or destructors in {input} (section {})",
            show(name)
        )));
    }
    // Zero-initialised sections go to .bss whatever their name: their size is not
    // backed by file contents, so it must never size anything written to the file.
    if sh_type == elf::SHT_NOBITS {
        return Ok(if name.starts_with(b".sbss") {
            SmallBss
        } else {
            Bss
        });
    }
    Ok(if name.starts_with(b".text") {
        Text
    } else if starts_with_any(name, &[b".rodata", b".srodata"]) {
        Rodata
    } else if name.starts_with(b".sdata") {
        SmallData
    } else if name.starts_with(b".data") {
        Data
    } else if name.starts_with(b".sbss") {
        SmallBss
    } else if name.starts_with(b".bss") {
        Bss
    } else if flags & u64::from(elf::SHF_EXECINSTR) != 0 {
        Text
    } else if flags & u64::from(elf::SHF_WRITE) != 0 {
        Data
    } else {
        Rodata
    })
}

/// One member of an archive, parsed only when something needs it.
#[derive(Debug)]
pub(crate) struct Member<'a> {
    pub name: String,
    pub data: &'a [u8],
    pub loaded: bool,
}

/// An archive: its members, and which member defines each global symbol.
#[derive(Debug)]
pub(crate) struct Archive<'a> {
    pub members: Vec<Member<'a>>,
    /// `(symbol, member index)` in archive order; the first definition wins.
    pub index: Vec<(&'a [u8], usize)>,
}

/// Reads an archive's member list and symbol index. Without an index (an archive made
/// with `ar rS`) the members are parsed to build one.
pub(crate) fn parse_archive<'a>(arch: Arch, name: &str, data: &'a [u8]) -> Result<Archive<'a>> {
    let bad = |what: &dyn std::fmt::Display| LinkError::malformed(name, what);
    let file = ArchiveFile::parse(data).map_err(|e| bad(&e))?;
    if file.is_thin() {
        return Err(LinkError::unsupported(format!(
            "{name}: thin archives are not supported"
        )));
    }
    let mut members = Vec::new();
    let mut by_offset = std::collections::HashMap::new();
    let mut index = Vec::new();
    let member_name = |raw: &[u8]| format!("{name}({})", show(raw));

    if let Some(symbols) = file.symbols().map_err(|e| bad(&e))? {
        for symbol in symbols {
            let symbol = symbol.map_err(|e| bad(&e))?;
            let offset = symbol.offset();
            let member_index = match by_offset.get(&offset.0) {
                Some(&i) => i,
                None => {
                    let member = file.member(offset).map_err(|e| bad(&e))?;
                    members.push(Member {
                        name: member_name(member.name()),
                        data: member.data(data).map_err(|e| bad(&e))?,
                        loaded: false,
                    });
                    by_offset.insert(offset.0, members.len() - 1);
                    members.len() - 1
                }
            };
            index.push((symbol.name(), member_index));
        }
        return Ok(Archive { members, index });
    }

    for member in file.members() {
        let member = member.map_err(|e| bad(&e))?;
        let member_data = member.data(data).map_err(|e| bad(&e))?;
        if !member_data.starts_with(ELF_MAGIC) {
            continue;
        }
        let object = parse_object(arch, member_name(member.name()), member_data)?;
        for sym in &object.symbols {
            if !sym.is_local() && sym.shndx != u32::from(elf::SHN_UNDEF) {
                index.push((sym.name, members.len()));
            }
        }
        members.push(Member {
            name: object.name,
            data: member_data,
            loaded: false,
        });
    }
    Ok(Archive { members, index })
}
