//! Writing the ELF file: headers, section contents (copied and relocated), the GOT,
//! the optional symbol table, and section headers so `readelf`/`objdump` work.

use object::elf::{self, FileHeader64, ProgramHeader64, SectionHeader64, Sym64};
use object::{LittleEndian as Le, U16, U32, U64, pod};

use crate::error::{LinkError, Result};
use crate::gc::Live;
use crate::layout::{EHDR_SIZE, Image, PHDR_SIZE, Piece};
use crate::reloc::{GotKey, Relocator};
use crate::resolve::{Definition, Resolution};
use crate::util::align_up;
use crate::{Arch, LinkOptions};

/// A string table under construction.
struct Strings {
    bytes: Vec<u8>,
}

impl Strings {
    fn new() -> Self {
        Self { bytes: vec![0] }
    }

    fn add(&mut self, name: &[u8]) -> u32 {
        if name.is_empty() {
            return 0;
        }
        let offset = self.bytes.len() as u32;
        self.bytes.extend_from_slice(name);
        self.bytes.push(0);
        offset
    }
}

fn symbol(name: u32, bind: u8, typ: u8, shndx: u16, value: u64, size: u64) -> Sym64<Le> {
    Sym64 {
        st_name: U32::new(Le, name),
        st_info: (bind << 4) | (typ & 0xf),
        st_other: elf::STV_DEFAULT,
        st_shndx: U16::new(Le, shndx),
        st_value: U64::new(Le, value),
        st_size: U64::new(Le, size),
    }
}

/// Section header index of output section `index` (after the null header).
fn header_index(index: usize) -> u16 {
    u16::try_from(index + 1).unwrap_or(elf::SHN_XINDEX)
}

/// Builds `.symtab` and `.strtab`: named local functions and objects of live sections,
/// then every defined global in the image. Returns the table, the strings and the
/// index of the first global.
fn symbol_table(
    resolution: &Resolution<'_>,
    live: &Live,
    image: &Image,
) -> (Vec<Sym64<Le>>, Vec<u8>, u32) {
    let mut strings = Strings::new();
    let mut symbols = vec![symbol(0, 0, 0, 0, 0, 0)];
    for (o, object) in resolution.objects.iter().enumerate() {
        for sym in object.symbols.iter().skip(1) {
            let wanted_type = matches!(sym.typ, elf::STT_NOTYPE | elf::STT_FUNC | elf::STT_OBJECT);
            if !sym.is_local() || !wanted_type || sym.name.is_empty() || sym.name.starts_with(b".L")
            {
                continue;
            }
            let live_section = live.sections[o]
                .get(sym.shndx as usize)
                .copied()
                .unwrap_or(false);
            let Some((addr, out)) = image
                .section_placement(o as u32, sym.shndx)
                .filter(|_| live_section)
            else {
                continue;
            };
            let name = strings.add(sym.name);
            let value = addr.wrapping_add(sym.value);
            symbols.push(symbol(
                name,
                elf::STB_LOCAL,
                sym.typ,
                header_index(out),
                value,
                sym.size,
            ));
        }
    }
    let first_global = symbols.len() as u32;
    let bss_index = image.sections.iter().position(|s| s.name == ".bss");
    for (id, global) in resolution.globals.iter().enumerate() {
        let (shndx, weak) = match global.definition {
            Definition::Undefined => continue,
            Definition::Section {
                object,
                section,
                weak,
                ..
            } => match image.section_placement(object, section) {
                Some((_, out)) => (header_index(out), weak),
                None => continue,
            },
            Definition::Common { .. } => match bss_index {
                Some(out) if image.global_address(resolution, id as u32).is_some() => {
                    (header_index(out), false)
                }
                _ => continue,
            },
            Definition::Absolute { weak, .. } => (elf::SHN_ABS, weak),
            Definition::Linker(_) => (elf::SHN_ABS, false),
        };
        let Some(value) = image.global_address(resolution, id as u32) else {
            continue;
        };
        let bind = if weak { elf::STB_WEAK } else { elf::STB_GLOBAL };
        let typ = if matches!(global.definition, Definition::Common { .. }) {
            elf::STT_OBJECT
        } else {
            global.typ
        };
        let name = strings.add(global.name);
        symbols.push(symbol(name, bind, typ, shndx, value, global.size));
    }
    (symbols, strings.bytes, first_global)
}

/// Copies `bytes` into `out` at `offset` (the caller sized `out` to fit).
fn put(out: &mut [u8], offset: u64, bytes: &[u8]) {
    let start = offset as usize;
    out[start..start + bytes.len()].copy_from_slice(bytes);
}

/// One section header to write.
#[derive(Debug, Default)]
struct Header {
    name: u32,
    sh_type: u32,
    flags: u64,
    addr: u64,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
    align: u64,
    entsize: u64,
}

impl Header {
    fn encode(&self) -> SectionHeader64<Le> {
        SectionHeader64 {
            sh_name: U32::new(Le, self.name),
            sh_type: U32::new(Le, self.sh_type),
            sh_flags: U64::new(Le, self.flags),
            sh_addr: U64::new(Le, self.addr),
            sh_offset: U64::new(Le, self.offset),
            sh_size: U64::new(Le, self.size),
            sh_link: U32::new(Le, self.link),
            sh_info: U32::new(Le, self.info),
            sh_addralign: U64::new(Le, self.align),
            sh_entsize: U64::new(Le, self.entsize),
        }
    }
}

fn too_large() -> LinkError {
    LinkError::unsupported("the output file is too large")
}

/// Writes the image: loaded segments as laid out, then `.symtab`, `.strtab` (if asked
/// for), `.shstrtab` and the section header table (unless left out).
pub(crate) fn write(
    arch: Arch,
    resolution: &Resolution<'_>,
    live: &Live,
    image: &Image,
    options: &LinkOptions,
    e_flags: u32,
    entry: u64,
) -> Result<Vec<u8>> {
    if !options.section_headers && !options.keep_symbols {
        // Only the loaded part: the kernel reads program headers alone.
        let file_size = usize::try_from(image.load_end).map_err(|_| too_large())?;
        let mut out = vec![0u8; file_size];
        write_file_header(&mut out, arch, image, e_flags, entry, 0, 0);
        write_contents(&mut out, arch, resolution, live, image)?;
        return Ok(out);
    }
    // Section headers, and the non-allocated tables after the loaded part.
    let mut shstrtab = Strings::new();
    let mut headers = vec![Header::default()];
    for section in &image.sections {
        headers.push(Header {
            name: shstrtab.add(section.name.as_bytes()),
            sh_type: section.sh_type,
            flags: section.flags,
            addr: section.addr,
            offset: section.offset,
            size: section.size,
            align: section.align,
            entsize: if section.name == ".got" { 8 } else { 0 },
            ..Header::default()
        });
    }
    let mut tables: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut cursor = image.load_end;
    let debug = if options.keep_debug {
        debug_sections(arch, resolution, image)?
    } else {
        Vec::new()
    };
    for (name, contents) in image
        .info_sections
        .iter()
        .map(|(name, contents)| (name.as_bytes(), contents))
        .chain(debug.iter().map(|(name, contents)| (*name, contents)))
    {
        cursor = align_up(cursor, 8).ok_or_else(too_large)?;
        headers.push(Header {
            name: shstrtab.add(name),
            sh_type: elf::SHT_PROGBITS,
            offset: cursor,
            size: contents.len() as u64,
            align: 8,
            ..Header::default()
        });
        tables.push((cursor, contents.clone()));
        cursor = cursor
            .checked_add(contents.len() as u64)
            .ok_or_else(too_large)?;
    }
    if options.keep_symbols {
        let (symbols, strings, first_global) = symbol_table(resolution, live, image);
        let symbols = pod::bytes_of_slice(&symbols).to_vec();
        cursor = align_up(cursor, 8).ok_or_else(too_large)?;
        let strtab_index = headers.len() as u32 + 1;
        headers.push(Header {
            name: shstrtab.add(b".symtab"),
            sh_type: elf::SHT_SYMTAB,
            offset: cursor,
            size: symbols.len() as u64,
            link: strtab_index,
            info: first_global,
            align: 8,
            entsize: size_of::<Sym64<Le>>() as u64,
            ..Header::default()
        });
        cursor = cursor
            .checked_add(symbols.len() as u64)
            .ok_or_else(too_large)?;
        tables.push((headers[headers.len() - 1].offset, symbols));
        headers.push(Header {
            name: shstrtab.add(b".strtab"),
            sh_type: elf::SHT_STRTAB,
            offset: cursor,
            size: strings.len() as u64,
            align: 1,
            ..Header::default()
        });
        cursor = cursor
            .checked_add(strings.len() as u64)
            .ok_or_else(too_large)?;
        tables.push((headers[headers.len() - 1].offset, strings));
    }
    let shstrtab_name = shstrtab.add(b".shstrtab");
    headers.push(Header {
        name: shstrtab_name,
        sh_type: elf::SHT_STRTAB,
        offset: cursor,
        size: shstrtab.bytes.len() as u64,
        align: 1,
        ..Header::default()
    });
    cursor = cursor
        .checked_add(shstrtab.bytes.len() as u64)
        .ok_or_else(too_large)?;
    tables.push((headers[headers.len() - 1].offset, shstrtab.bytes));
    let shoff = align_up(cursor, 8).ok_or_else(too_large)?;
    let shnum = u16::try_from(headers.len())
        .map_err(|_| LinkError::unsupported("too many output sections"))?;
    let file_size = (headers.len() as u64)
        .checked_mul(size_of::<SectionHeader64<Le>>() as u64)
        .and_then(|size| size.checked_add(shoff))
        .and_then(|size| usize::try_from(size).ok())
        .ok_or_else(too_large)?;

    let mut out = vec![0u8; file_size];
    write_file_header(&mut out, arch, image, e_flags, entry, shoff, shnum);
    write_contents(&mut out, arch, resolution, live, image)?;
    for (offset, bytes) in &tables {
        put(&mut out, *offset, bytes);
    }
    let encoded: Vec<SectionHeader64<Le>> = headers.iter().map(Header::encode).collect();
    put(&mut out, shoff, pod::bytes_of_slice(&encoded));
    Ok(out)
}

/// The DWARF sections of the objects given as inputs, relocated as if at address 0 (the
/// relocations in them are absolute: addresses of code and data), one per name in
/// first-seen order.
fn debug_sections<'a>(
    arch: Arch,
    resolution: &Resolution<'a>,
    image: &Image,
) -> Result<Vec<(&'a [u8], Vec<u8>)>> {
    let relocator = Relocator {
        arch,
        resolution,
        image,
        got: &image.got,
    };
    let mut sections: Vec<(&'a [u8], Vec<u8>)> = Vec::new();
    for (o, object) in resolution.objects.iter().enumerate() {
        if object.archive_member {
            continue;
        }
        for (index, section) in object.sections.iter().enumerate() {
            if !section.debug {
                continue;
            }
            let mut bytes = section.data.to_vec();
            relocator.relocate_section(o as u32, index as u32, 0, &mut bytes)?;
            match sections.iter_mut().find(|(name, _)| *name == section.name) {
                Some((_, contents)) => contents.extend_from_slice(&bytes),
                None => sections.push((section.name, bytes)),
            }
        }
    }
    Ok(sections)
}

/// The ELF header and the program headers.
fn write_file_header(
    out: &mut [u8],
    arch: Arch,
    image: &Image,
    e_flags: u32,
    entry: u64,
    shoff: u64,
    shnum: u16,
) {
    let machine = match arch {
        Arch::X86_64 => elf::EM_X86_64,
        Arch::Aarch64 => elf::EM_AARCH64,
        Arch::Riscv64 => elf::EM_RISCV,
    };
    let header = FileHeader64::<Le> {
        e_ident: elf::Ident {
            magic: elf::ELFMAG,
            class: elf::ELFCLASS64,
            data: elf::ELFDATA2LSB,
            version: elf::EV_CURRENT,
            os_abi: elf::ELFOSABI_NONE,
            abi_version: 0,
            padding: [0; 7],
        },
        e_type: U16::new(Le, elf::ET_EXEC),
        e_machine: U16::new(Le, machine),
        e_version: U32::new(Le, u32::from(elf::EV_CURRENT)),
        e_entry: U64::new(Le, entry),
        e_phoff: U64::new(Le, EHDR_SIZE),
        e_shoff: U64::new(Le, shoff),
        e_flags: U32::new(Le, e_flags),
        e_ehsize: U16::new(Le, EHDR_SIZE as u16),
        e_phentsize: U16::new(Le, PHDR_SIZE as u16),
        e_phnum: U16::new(Le, image.segments.len() as u16),
        e_shentsize: U16::new(Le, size_of::<SectionHeader64<Le>>() as u16),
        e_shnum: U16::new(Le, shnum),
        // `.shstrtab` is the last section; with no sections, SHN_UNDEF.
        e_shstrndx: U16::new(Le, shnum.saturating_sub(1)),
    };
    put(out, 0, pod::bytes_of(&header));
    for (i, segment) in image.segments.iter().enumerate() {
        let phdr = ProgramHeader64::<Le> {
            p_type: U32::new(Le, segment.p_type),
            p_flags: U32::new(Le, segment.flags),
            p_offset: U64::new(Le, segment.offset),
            p_vaddr: U64::new(Le, segment.vaddr),
            p_paddr: U64::new(Le, segment.paddr),
            p_filesz: U64::new(Le, segment.filesz),
            p_memsz: U64::new(Le, segment.memsz),
            p_align: U64::new(Le, segment.align),
        };
        put(out, EHDR_SIZE + PHDR_SIZE * i as u64, pod::bytes_of(&phdr));
    }
}

/// Section contents, relocated in place, and the GOT.
fn write_contents(
    out: &mut [u8],
    arch: Arch,
    resolution: &Resolution<'_>,
    live: &Live,
    image: &Image,
) -> Result<()> {
    let relocator = Relocator {
        arch,
        resolution,
        image,
        got: &image.got,
    };
    for section in &image.sections {
        for &(piece, offset) in &section.pieces {
            let Piece::Input {
                object,
                section: index,
            } = piece
            else {
                continue;
            };
            let input = &resolution.objects[object as usize].sections[index as usize];
            if section.is_nobits() {
                let has_content = input.data.iter().any(|&b| b != 0);
                if !input.relocs.is_empty() || has_content {
                    return Err(LinkError::unsupported(format!(
                        "{} is zero-initialised (bss) but has {}; define it with explicit zero bytes in a data section",
                        resolution.objects[object as usize].describe_section(index),
                        if has_content {
                            "contents"
                        } else {
                            "relocations"
                        }
                    )));
                }
                continue;
            }
            let start = (section.offset + offset) as usize;
            let bytes = &mut out[start..start + input.size as usize];
            let copied = input.data.len().min(bytes.len());
            bytes[..copied].copy_from_slice(&input.data[..copied]);
            relocator.relocate_section(object, index, section.addr + offset, bytes)?;
        }
    }

    // GOT slots hold absolute addresses.
    if let Some(got_index) = image.got_section {
        let got = &image.sections[got_index];
        for (slot, key) in live.got.iter().enumerate() {
            let value = match *key {
                GotKey::Global(id) => image.global_address(resolution, id).unwrap_or(0),
                GotKey::Local(object, sym) => relocator.target(object, sym)?.0,
            };
            put(out, got.offset + 8 * slot as u64, &value.to_le_bytes());
        }
    }
    Ok(())
}
