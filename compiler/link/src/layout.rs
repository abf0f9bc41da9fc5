//! Output sections, segments and addresses.
//!
//! Live input sections are gathered into output sections by kind (in input order), then
//! a layout-specific plan groups output sections into segments and assigns file offsets
//! and addresses. Only the plan and the address assignment depend on the [`Layout`];
//! the result, an [`Image`], is what the writer and the relocator consume.
//!
//! Linux executable: three `PT_LOAD`s, `R` (ELF and program headers, `.rodata`,
//! `.wafer`, `.got`), `R+X` (`.text`) and `RW` (`.data`, `.bss`). The file has no
//! padding between them: each segment's address is congruent to its file offset modulo
//! the page size (as lld `-z noseparate-code` does), and starts on a fresh page.
//!
//! The entry symbol's section is always first in `.text`, so a bare-metal image
//! ([`baremetal`]) starts executing at its origin. There the headers are outside the
//! loaded segments, which hold only section contents, so a raw binary is the file bytes
//! of the loaded segments placed at their load addresses.

use object::elf;

use crate::error::{LinkError, LinkErrorKind, Result};
use crate::gc::Live;
use crate::input::SectionKind;
use crate::reloc::GotKey;
use crate::resolve::{Definition, LinkerSymbol, Resolution};
use crate::util::{FastMap, align_up};
use crate::{Layout, LinuxLayout};

mod baremetal;

pub(crate) use baremetal::{MEMORY_MAP_MAGIC, MEMORY_MAP_SECTION};

/// What an output section is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    Input { object: u32, section: u32 },
    Common(u32),
    Got,
}

#[derive(Debug)]
pub(crate) struct OutputSection {
    pub name: String,
    pub sh_type: u32,
    pub flags: u64,
    pub align: u64,
    pub addr: u64,
    pub offset: u64,
    pub size: u64,
    /// Each piece and its offset from the start of the section.
    pub pieces: Vec<(Piece, u64)>,
}

impl OutputSection {
    fn new(name: impl Into<String>, sh_type: u32, flags: u32) -> Self {
        Self {
            name: name.into(),
            sh_type,
            flags: u64::from(flags),
            align: 1,
            addr: 0,
            offset: 0,
            size: 0,
            pieces: Vec::new(),
        }
    }

    fn push(&mut self, piece: Piece, size: u64, align: u64) -> Result<()> {
        let offset = align_up(self.size, align).ok_or_else(too_large)?;
        self.size = offset.checked_add(size).ok_or_else(too_large)?;
        self.align = self.align.max(align);
        self.pieces.push((piece, offset));
        Ok(())
    }

    pub fn is_nobits(&self) -> bool {
        self.sh_type == elf::SHT_NOBITS
    }
}

/// A program header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    /// The load address: `vaddr`, except for `.data` kept in flash until the boot code
    /// copies it to RAM.
    pub paddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
}

/// Where everything went.
#[derive(Debug)]
pub(crate) struct Image {
    /// Output sections in address order.
    pub sections: Vec<OutputSection>,
    pub segments: Vec<Segment>,
    /// End of the loaded part of the file; non-allocated sections follow it.
    pub load_end: u64,
    /// Address and output section index of each placed input section.
    section_addrs: Vec<Vec<Option<(u64, usize)>>>,
    common_addrs: FastMap<u32, u64>,
    /// Address of each GOT slot.
    pub got: FastMap<GotKey, u64>,
    /// Output section index and address of the GOT, if there is one.
    pub got_section: Option<usize>,
    linker_symbols: FastMap<u8, u64>,
    /// Sections that are not loaded, written after the loaded part: name and contents.
    pub info_sections: Vec<(&'static str, Vec<u8>)>,
}

fn too_large() -> LinkError {
    LinkError::new(
        LinkErrorKind::InvalidOptions,
        "the image does not fit in the address space",
    )
}

impl Image {
    /// The address of input section `section` of `object`; `None` if it is not in the image.
    pub fn section_address(&self, object: u32, section: u32) -> Option<u64> {
        self.section_placement(object, section)
            .map(|(addr, _)| addr)
    }

    /// The address of an input section and the index of its output section.
    pub fn section_placement(&self, object: u32, section: u32) -> Option<(u64, usize)> {
        *self
            .section_addrs
            .get(object as usize)?
            .get(section as usize)?
    }

    /// The address of global `id`; 0 for an undefined (weak) symbol; `None` if its
    /// definition is not in the image.
    pub fn global_address(&self, resolution: &Resolution<'_>, id: u32) -> Option<u64> {
        match resolution.globals[id as usize].definition {
            Definition::Undefined => Some(0),
            Definition::Section {
                object,
                section,
                value,
                ..
            } => Some(self.section_address(object, section)?.wrapping_add(value)),
            Definition::Absolute { value, .. } => Some(value),
            Definition::Common { .. } => self.common_addrs.get(&id).copied(),
            Definition::Linker(symbol) => self.linker_symbols.get(&(symbol as u8)).copied(),
        }
    }
}

/// The output section holding every `.wafer*` input section.
pub const WAFER_SECTION: &str = ".wafer";

/// The input section that goes first in [`WAFER_SECTION`].
const WAFER_DESCRIPTOR_SECTION: &[u8] = b".wafer.image";

/// Gathers the live input sections into output sections.
struct Gathered {
    text: OutputSection,
    rodata: OutputSection,
    wafer: OutputSection,
    got: OutputSection,
    data: OutputSection,
    /// Where small data (`.sdata*`) starts in `.data`: the end of the other data, before
    /// any alignment padding.
    small_data_offset: u64,
    bss: OutputSection,
}

/// `first` (the entry symbol's section) goes first in `.text`, so a bare-metal image
/// can start executing at its origin.
fn gather(resolution: &Resolution<'_>, live: &Live, first: Option<(u32, u32)>) -> Result<Gathered> {
    use elf::{SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS, SHT_PROGBITS};
    let mut text = OutputSection::new(".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR);
    let mut rodata = OutputSection::new(".rodata", SHT_PROGBITS, SHF_ALLOC);
    // Every `.wafer*` section goes into one `.wafer`, the image descriptor first (tools
    // find it there; the rest it points to), then by name: one section header instead of
    // four in every image.
    let mut wafer_pieces: Vec<(&[u8], Piece, u64, u64)> = Vec::new();
    let mut data = OutputSection::new(".data", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE);
    let mut bss = OutputSection::new(".bss", SHT_NOBITS, SHF_ALLOC | SHF_WRITE);
    // Small data and bss go next to each other, in the order GNU ld uses.
    let mut sdata = Vec::new();
    let mut sbss = Vec::new();
    let mut large_bss = Vec::new();
    let first = first.filter(|&(object, section)| {
        resolution.objects[object as usize].sections[section as usize].kind == SectionKind::Text
    });
    if let Some((object, section)) = first {
        let input = &resolution.objects[object as usize].sections[section as usize];
        text.push(Piece::Input { object, section }, input.size, input.align)?;
    }
    for (o, object) in resolution.objects.iter().enumerate() {
        for (s, section) in object.sections.iter().enumerate() {
            if !live.sections[o][s] || first == Some((o as u32, s as u32)) {
                continue;
            }
            let piece = Piece::Input {
                object: o as u32,
                section: s as u32,
            };
            let entry = (piece, section.size, section.align);
            match section.kind {
                SectionKind::Ignore => {}
                SectionKind::Text => text.push(piece, section.size, section.align)?,
                SectionKind::Rodata => rodata.push(piece, section.size, section.align)?,
                SectionKind::Wafer => {
                    wafer_pieces.push((section.name, piece, section.size, section.align))
                }
                SectionKind::Data => data.push(piece, section.size, section.align)?,
                SectionKind::SmallData => sdata.push(entry),
                SectionKind::SmallBss => sbss.push(entry),
                SectionKind::Bss => large_bss.push(entry),
            }
        }
    }
    let small_data_offset = data.size;
    for (piece, size, align) in sdata {
        data.push(piece, size, align)?;
    }
    for (piece, size, align) in sbss.into_iter().chain(large_bss) {
        bss.push(piece, size, align)?;
    }
    for &id in &live.commons {
        if let Definition::Common { size, align, .. } = resolution.globals[id as usize].definition {
            bss.push(Piece::Common(id), size, align)?;
        }
    }
    let mut got = OutputSection::new(".got", SHT_PROGBITS, SHF_ALLOC);
    for _ in &live.got {
        got.push(Piece::Got, 8, 8)?;
    }
    wafer_pieces.sort_by_key(|&(name, ..)| (name != WAFER_DESCRIPTOR_SECTION, name));
    let mut wafer = OutputSection::new(WAFER_SECTION, SHT_PROGBITS, SHF_ALLOC);
    for (_, piece, size, align) in wafer_pieces {
        wafer.push(piece, size, align)?;
    }
    Ok(Gathered {
        text,
        rodata,
        wafer,
        got,
        data,
        small_data_offset,
        bss,
    })
}

/// Which output sections go together in one segment.
struct SegmentPlan {
    flags: u32,
    sections: Vec<OutputSection>,
    /// The ELF and program headers start this segment.
    headers: bool,
}

/// ELF64 header size and program header entry size.
pub(crate) const EHDR_SIZE: u64 = 64;
pub(crate) const PHDR_SIZE: u64 = 56;

/// Lays out the image.
pub(crate) fn layout(
    layout: &Layout,
    resolution: &Resolution<'_>,
    live: &Live,
    entry: u32,
) -> Result<Image> {
    let first = match resolution.globals[entry as usize].definition {
        Definition::Section {
            object, section, ..
        } => Some((object, section)),
        _ => None,
    };
    let gathered = gather(resolution, live, first)?;
    match layout {
        Layout::LinuxExecutable(linux) => layout_linux(linux, resolution, live, gathered),
        Layout::BareMetal(bare_metal) => {
            baremetal::layout(bare_metal, resolution, live, entry, gathered)
        }
    }
}

fn layout_linux(
    config: &LinuxLayout,
    resolution: &Resolution<'_>,
    live: &Live,
    g: Gathered,
) -> Result<Image> {
    use elf::{PF_R, PF_W, PF_X};
    let page = config.page_size;
    if !page.is_power_of_two() || page < 4096 {
        return Err(LinkError::new(
            LinkErrorKind::InvalidOptions,
            format!("page size {page:#x} is not a power of two of at least 4 KiB"),
        ));
    }
    // `.wafer` first: without section headers, it is found right after the program
    // headers.
    let read_only = vec![g.wafer, g.rodata, g.got];
    let plans = vec![
        SegmentPlan {
            flags: PF_R,
            sections: read_only,
            headers: true,
        },
        SegmentPlan {
            flags: PF_R | PF_X,
            sections: vec![g.text],
            headers: false,
        },
        SegmentPlan {
            flags: PF_R | PF_W,
            sections: vec![g.data, g.bss],
            headers: false,
        },
    ];
    // Drop output sections with nothing in them.
    let plans: Vec<SegmentPlan> = plans
        .into_iter()
        .map(|mut plan| {
            plan.sections.retain(|s| !s.pieces.is_empty());
            plan
        })
        .filter(|plan| plan.headers || !plan.sections.is_empty())
        .collect();
    let phnum = plans.len() as u64 + 1; // + PT_GNU_STACK
    let headers_size = EHDR_SIZE + PHDR_SIZE * phnum;

    let mut sections = Vec::new();
    let mut segments = Vec::new();
    let mut file_offset = 0u64;
    let mut previous_end = config.base_address;
    for plan in plans {
        // Addresses must honour every section's alignment, file offsets only those of
        // sections with contents.
        let section_align = plan.sections.iter().map(|s| s.align).max().unwrap_or(1);
        let file_align = plan
            .sections
            .iter()
            .filter(|s| !s.is_nobits())
            .map(|s| s.align)
            .max()
            .unwrap_or(1);
        let modulus = page.max(section_align);
        let (start_offset, start_vaddr, mut file_cursor) = if plan.headers {
            if !config.base_address.is_multiple_of(modulus) {
                return Err(LinkError::new(
                    LinkErrorKind::InvalidOptions,
                    format!(
                        "base address {:#x} is not aligned to {modulus:#x}",
                        config.base_address
                    ),
                ));
            }
            (0, config.base_address, headers_size)
        } else {
            let offset = align_up(file_offset, file_align).ok_or_else(too_large)?;
            let vaddr = align_up(previous_end, modulus)
                .and_then(|v| v.checked_add(offset % modulus))
                .ok_or_else(too_large)?;
            (offset, vaddr, offset)
        };
        // vaddr - offset is a multiple of `modulus`, so aligned offsets give aligned
        // addresses.
        let delta = start_vaddr
            .checked_sub(start_offset)
            .ok_or_else(too_large)?;
        let mut file_end = file_cursor;
        let mut memory_end = start_vaddr
            .checked_add(file_cursor - start_offset)
            .ok_or_else(too_large)?;
        for mut section in plan.sections {
            if section.is_nobits() {
                section.addr = align_up(memory_end, section.align).ok_or_else(too_large)?;
                section.offset = file_end;
                memory_end = section
                    .addr
                    .checked_add(section.size)
                    .ok_or_else(too_large)?;
            } else {
                file_cursor = align_up(file_cursor, section.align).ok_or_else(too_large)?;
                section.offset = file_cursor;
                section.addr = file_cursor.checked_add(delta).ok_or_else(too_large)?;
                file_cursor = file_cursor
                    .checked_add(section.size)
                    .ok_or_else(too_large)?;
                file_end = file_cursor;
                memory_end = section
                    .addr
                    .checked_add(section.size)
                    .ok_or_else(too_large)?;
            }
            sections.push(section);
        }
        segments.push(Segment {
            p_type: elf::PT_LOAD,
            flags: plan.flags,
            offset: start_offset,
            vaddr: start_vaddr,
            paddr: start_vaddr,
            filesz: file_end - start_offset,
            memsz: memory_end - start_vaddr,
            align: modulus,
        });
        file_offset = file_end;
        previous_end = memory_end;
    }
    if let Some(limit) = config.end_limit.filter(|&limit| previous_end > limit) {
        return Err(LinkError::new(
            LinkErrorKind::InvalidOptions,
            format!(
                "the image would end at {previous_end:#x}, past {limit:#x} where the \
                 process maps its linear memory"
            ),
        ));
    }
    segments.push(Segment {
        p_type: elf::PT_GNU_STACK,
        flags: elf::PF_R | elf::PF_W,
        offset: 0,
        vaddr: 0,
        paddr: 0,
        filesz: 0,
        memsz: 0,
        align: 16,
    });
    let placed = place(resolution, live, sections)?;
    let symbols = linux_symbols(&placed, &segments, config.base_address);
    Ok(placed.into_image(segments, file_offset, symbols, Vec::new()))
}

/// Output sections with their addresses, and where each input went.
struct Placed {
    sections: Vec<OutputSection>,
    section_addrs: Vec<Vec<Option<(u64, usize)>>>,
    common_addrs: FastMap<u32, u64>,
    got: FastMap<GotKey, u64>,
    got_section: Option<usize>,
    /// Address of the first small-data input section (`.sdata*`), if any.
    small_data: Option<u64>,
}

impl Placed {
    fn section(&self, name: &str) -> Option<&OutputSection> {
        self.sections.iter().find(|s| s.name == name)
    }

    fn into_image(
        self,
        segments: Vec<Segment>,
        load_end: u64,
        symbols: Vec<(LinkerSymbol, u64)>,
        info_sections: Vec<(&'static str, Vec<u8>)>,
    ) -> Image {
        Image {
            sections: self.sections,
            segments,
            load_end,
            section_addrs: self.section_addrs,
            common_addrs: self.common_addrs,
            got: self.got,
            got_section: self.got_section,
            linker_symbols: symbols.into_iter().map(|(s, v)| (s as u8, v)).collect(),
            info_sections,
        }
    }
}

/// Computes per-input addresses and the GOT from placed output sections.
fn place(resolution: &Resolution<'_>, live: &Live, sections: Vec<OutputSection>) -> Result<Placed> {
    let mut section_addrs: Vec<Vec<Option<(u64, usize)>>> = resolution
        .objects
        .iter()
        .map(|o| vec![None; o.sections.len()])
        .collect();
    let mut common_addrs = FastMap::default();
    let mut got = FastMap::default();
    let mut got_section = None;
    let mut small_data = None;
    for (index, section) in sections.iter().enumerate() {
        let mut slots = live.got.iter();
        for &(piece, offset) in &section.pieces {
            let addr = section.addr.checked_add(offset).ok_or_else(too_large)?;
            match piece {
                Piece::Input { object, section } => {
                    section_addrs[object as usize][section as usize] = Some((addr, index));
                    let kind = resolution.objects[object as usize].sections[section as usize].kind;
                    if kind == SectionKind::SmallData && small_data.is_none() {
                        small_data = Some(addr);
                    }
                }
                Piece::Common(id) => {
                    common_addrs.insert(id, addr);
                }
                Piece::Got => {
                    got_section = Some(index);
                    if let Some(&key) = slots.next() {
                        got.insert(key, addr);
                    }
                }
            }
        }
    }
    Ok(Placed {
        sections,
        section_addrs,
        common_addrs,
        got,
        got_section,
        small_data,
    })
}

/// The linker symbols of a Linux executable (no stack, heap or RAM symbols: the kernel
/// provides those).
fn linux_symbols(
    placed: &Placed,
    segments: &[Segment],
    image_start: u64,
) -> Vec<(LinkerSymbol, u64)> {
    let end_of = |s: &OutputSection| s.addr + s.size;
    let loads = || segments.iter().filter(|s| s.p_type == elf::PT_LOAD);
    let image_end = loads()
        .map(|s| s.vaddr + s.memsz)
        .max()
        .unwrap_or(image_start);
    let rw = loads().find(|s| s.flags & elf::PF_W != 0);
    let edata = placed
        .section(".data")
        .map_or_else(|| rw.map_or(image_end, |s| s.vaddr + s.filesz), end_of);
    let bss_start = placed.section(".bss").map_or(edata, |s| s.addr);
    let etext = placed.section(".text").map_or(image_start, end_of);
    let data_start = placed.section(".data").map_or(bss_start, |s| s.addr);
    let end = rw.map_or(image_end, |s| s.vaddr + s.memsz);
    vec![
        (LinkerSymbol::ExecutableStart, image_start),
        (LinkerSymbol::Etext, etext),
        (LinkerSymbol::Edata, edata),
        (LinkerSymbol::BssStart, bss_start),
        (LinkerSymbol::End, end),
        (LinkerSymbol::BssEnd, end),
        (LinkerSymbol::DataLoad, data_start),
        (LinkerSymbol::DataStart, data_start),
        (
            LinkerSymbol::GlobalPointer,
            placed.small_data.unwrap_or(data_start) + 0x800,
        ),
    ]
}
