//! How a bare-metal image uses its board's memory, read back from the ELF file: the
//! memory map the linker recorded in `.memory_map`, and the section headers.

use object::LittleEndian as Le;
use object::elf::{self, FileHeader64};
use object::read::elf::{FileHeader, ProgramHeader, SectionHeader};

use crate::error::{LinkError, LinkErrorKind, Result};
use crate::layout::{MEMORY_MAP_MAGIC, MEMORY_MAP_SECTION};
use crate::{MemoryRegion, RegionKind};

/// How one memory region is used. The fields from `before_image` to `padding` add up
/// to `length`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionUsage {
    pub name: String,
    pub kind: RegionKind,
    pub origin: u64,
    pub length: u64,
    /// Bytes from the start of the region to the image's first byte in it, which the
    /// image leaves to the board (boot stubs, a device tree).
    pub before_image: u64,
    /// `.text`: code.
    pub text: u64,
    /// `.rodata` and `.got`.
    pub rodata: u64,
    /// `.wafer`: the image descriptor, trap tables and grants.
    pub metadata: u64,
    /// `.data`; in flash, its initial contents that the boot code copies to RAM.
    pub data: u64,
    /// `.bss`.
    pub bss: u64,
    pub stack: u64,
    pub heap: u64,
    /// From the end of what the image uses (in RAM, `__wafer_free_start`) to the end
    /// of the region: linear memory in the RAM region holding the stack; the whole of
    /// a region the image does not use.
    pub free: u64,
    /// Alignment gaps between the parts above.
    pub padding: u64,
}

/// Each memory region's use, in the order the layout listed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryReport {
    pub regions: Vec<RegionUsage>,
}

fn malformed(what: impl std::fmt::Display) -> LinkError {
    LinkError::new(
        LinkErrorKind::Malformed,
        format!("not a bare-metal image from wafer-link: {what}"),
    )
}

/// Decodes the contents of [`MEMORY_MAP_SECTION`] (see `encode_memory_map`).
fn decode_memory_map(bytes: &[u8]) -> Result<Vec<MemoryRegion>> {
    let mut rest = bytes
        .strip_prefix(MEMORY_MAP_MAGIC)
        .ok_or_else(|| malformed("its memory map has an unknown format"))?;
    let mut take = |n: usize| -> Result<&[u8]> {
        if rest.len() < n {
            return Err(malformed("its memory map is truncated"));
        }
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Ok(head)
    };
    let u64_at = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or_default());
    let count = u32::from_le_bytes(take(4)?.try_into().unwrap_or_default());
    let mut regions = Vec::new();
    for _ in 0..count {
        let origin = u64_at(take(8)?);
        let length = u64_at(take(8)?);
        let kind = match take(1)?[0] {
            0 => RegionKind::Ram,
            1 => RegionKind::Flash,
            other => return Err(malformed(format_args!("unknown region kind {other}"))),
        };
        let name_len = u16::from_le_bytes(take(2)?.try_into().unwrap_or_default());
        let name = String::from_utf8_lossy(take(usize::from(name_len))?).into_owned();
        regions.push(MemoryRegion {
            name,
            origin,
            length,
            kind,
        });
    }
    Ok(regions)
}

/// Which field of [`RegionUsage`] an output section counts in.
#[derive(Clone, Copy)]
enum Part {
    Text,
    Rodata,
    Metadata,
    Data,
    Bss,
    Stack,
    Heap,
}

fn part(name: &[u8], sh_type: u32, flags: u64) -> Part {
    match name {
        b".text" => Part::Text,
        b".rodata" | b".got" => Part::Rodata,
        b".wafer" => Part::Metadata,
        b".data" => Part::Data,
        b".bss" => Part::Bss,
        b".stack" => Part::Stack,
        b".heap" => Part::Heap,
        _ if flags & u64::from(elf::SHF_EXECINSTR) != 0 => Part::Text,
        _ if sh_type == elf::SHT_NOBITS => Part::Bss,
        _ if flags & u64::from(elf::SHF_WRITE) != 0 => Part::Data,
        _ => Part::Rodata,
    }
}

/// What one region holds, collected before the totals are worked out.
struct Tally {
    usage: RegionUsage,
    /// Lowest and highest address the image uses in the region.
    used: Option<(u64, u64)>,
}

impl Tally {
    fn add(&mut self, part: Part, start: u64, size: u64) {
        let usage = &mut self.usage;
        let field = match part {
            Part::Text => &mut usage.text,
            Part::Rodata => &mut usage.rodata,
            Part::Metadata => &mut usage.metadata,
            Part::Data => &mut usage.data,
            Part::Bss => &mut usage.bss,
            Part::Stack => &mut usage.stack,
            Part::Heap => &mut usage.heap,
        };
        *field = field.saturating_add(size);
        let end = start.saturating_add(size);
        self.used = Some(match self.used {
            None => (start, end),
            Some((low, high)) => (low.min(start), high.max(end)),
        });
    }

    fn finish(self) -> RegionUsage {
        let mut usage = self.usage;
        let end = usage.origin.saturating_add(usage.length);
        let Some((low, high)) = self.used else {
            usage.free = usage.length;
            return usage;
        };
        usage.before_image = low.saturating_sub(usage.origin);
        // Linear memory starts 16-byte aligned.
        let free_start = match usage.kind {
            RegionKind::Ram => high.checked_next_multiple_of(16).unwrap_or(high),
            RegionKind::Flash => high,
        };
        usage.free = end.saturating_sub(free_start);
        let counted = [
            usage.before_image,
            usage.text,
            usage.rodata,
            usage.metadata,
            usage.data,
            usage.bss,
            usage.stack,
            usage.heap,
            usage.free,
        ]
        .iter()
        .fold(0u64, |sum, &n| sum.saturating_add(n));
        usage.padding = usage.length.saturating_sub(counted);
        usage
    }
}

/// How the bare-metal image `image` (an ELF file written by [`crate::link`] with
/// [`crate::Layout::BareMetal`]) uses each memory region of its layout: `None` for an
/// image without a memory map (a Linux executable). Initial data kept in flash counts
/// in both regions: its load copy in flash, `.data` itself in RAM.
pub fn memory_report(image: &[u8]) -> Result<Option<MemoryReport>, LinkError> {
    let header = FileHeader64::<Le>::parse(image).map_err(malformed)?;
    if !header.is_class_64() || !header.is_little_endian() {
        return Err(malformed("not little-endian ELF64"));
    }
    let sections = header.sections(Le, image).map_err(malformed)?;
    let Some((_, map)) = sections.section_by_name(Le, MEMORY_MAP_SECTION.as_bytes()) else {
        return Ok(None);
    };
    let map = map.data(Le, image).map_err(malformed)?;
    let regions = decode_memory_map(map)?;
    let segments = header.program_headers(Le, image).map_err(malformed)?;
    let mut tallies: Vec<Tally> = regions
        .into_iter()
        .map(|r| Tally {
            usage: RegionUsage {
                name: r.name,
                kind: r.kind,
                origin: r.origin,
                length: r.length,
                before_image: 0,
                text: 0,
                rodata: 0,
                metadata: 0,
                data: 0,
                bss: 0,
                stack: 0,
                heap: 0,
                free: 0,
                padding: 0,
            },
            used: None,
        })
        .collect();
    let mut count = |part: Part, start: u64, size: u64| -> Result<()> {
        let tally = tallies
            .iter_mut()
            .find(|t| {
                let u = &t.usage;
                start >= u.origin
                    && start - u.origin < u.length
                    && size <= u.length
                    && start - u.origin <= u.length - size
            })
            .ok_or_else(|| {
                malformed(format_args!(
                    "{size:#x} bytes at {start:#x} are outside every memory region"
                ))
            })?;
        tally.add(part, start, size);
        Ok(())
    };
    for section in sections.iter() {
        let flags = section.sh_flags(Le);
        let size = section.sh_size(Le);
        if flags & u64::from(elf::SHF_ALLOC) == 0 || size == 0 {
            continue;
        }
        let name = sections.section_name(Le, section).map_err(malformed)?;
        let sh_type = section.sh_type(Le);
        let part = part(name, sh_type, flags);
        let addr = section.sh_addr(Le);
        count(part, addr, size)?;
        if sh_type == elf::SHT_NOBITS {
            continue;
        }
        // A section loaded somewhere else (initial data in flash) takes room there too.
        let offset = section.sh_offset(Le);
        let load = segments.iter().find(|p| {
            p.p_type(Le) == elf::PT_LOAD
                && offset >= p.p_offset(Le)
                && offset - p.p_offset(Le) < p.p_filesz(Le)
        });
        if let Some(segment) = load {
            let lma = segment
                .p_paddr(Le)
                .wrapping_add(offset - segment.p_offset(Le));
            if lma != addr {
                count(part, lma, size)?;
            }
        }
    }
    Ok(Some(MemoryReport {
        regions: tallies.into_iter().map(Tally::finish).collect(),
    }))
}
