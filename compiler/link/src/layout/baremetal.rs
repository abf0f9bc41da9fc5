//! The bare-metal layout: a firmware image placed in a board's memory regions.
//!
//! From the origin: `.text` (the entry first), `.rodata`, `.wafer`, `.got`, then
//! `.data` (16-byte aligned and padded, so boot code can copy it in 16-byte steps),
//! either right after them in RAM or, when the origin is in flash, with its load
//! address there and its run address at the start of RAM. Then `.bss` (16-byte aligned
//! and padded), the stack and the heap as `NOBITS` sections, and linear memory in the
//! rest of the RAM region. `PT_LOAD`s cover only sections with contents: `R+X`
//! (`.text`), `R` (`.rodata`, `.wafer`, `.got`) and `RW` (`.data`), packed without
//! page alignment (nothing maps them); the ELF and program headers are outside them.
//!
//! The memory map goes into the non-loaded section [`MEMORY_MAP_SECTION`], so
//! [`crate::memory_report`] can tell each region's use from the ELF file alone.

use object::elf;

use super::{EHDR_SIZE, PHDR_SIZE};
use super::{Gathered, Image, OutputSection, Segment, place, too_large};
use crate::error::{LinkError, LinkErrorKind, Result, show};
use crate::gc::Live;
use crate::resolve::{Definition, LinkerSymbol, Resolution};
use crate::util::align_up;
use crate::{BareMetalLayout, MemoryRegion, RegionKind};

/// The non-loaded section that records the layout's memory regions.
pub(crate) const MEMORY_MAP_SECTION: &str = ".memory_map";

/// The first bytes of [`MEMORY_MAP_SECTION`]; the format's version is the last one.
pub(crate) const MEMORY_MAP_MAGIC: &[u8; 8] = b"WAFERMM1";

/// Alignment of `.data`, `.bss`, the stack and linear memory: what boot code and
/// the C ABIs of AArch64 and RV64 ask of a stack pointer and of `max_align_t`.
const ALIGN: u64 = 16;

/// `n` with thousands separators: `1,234,567`.
pub(crate) fn grouped(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn invalid(message: String) -> LinkError {
    LinkError::new(LinkErrorKind::InvalidOptions, message)
}

/// One past the last byte of `region`.
fn region_end(region: &MemoryRegion) -> u128 {
    u128::from(region.origin) + u128::from(region.length)
}

/// Checks the regions and picks the one holding the code (the origin's) and the RAM
/// region for data, stack, heap and linear memory.
fn choose_regions(config: &BareMetalLayout) -> Result<(&MemoryRegion, &MemoryRegion)> {
    if config.regions.is_empty() {
        return Err(invalid(
            "the bare-metal layout has no memory regions".into(),
        ));
    }
    for region in &config.regions {
        if region.length == 0 {
            return Err(invalid(format!("memory region `{}` is empty", region.name)));
        }
        if region_end(region) > 1 << 64 {
            return Err(invalid(format!(
                "memory region `{}` ({:#x} bytes from {:#x}) runs past the end of the \
                 address space",
                region.name, region.length, region.origin
            )));
        }
        if region.name.len() > usize::from(u16::MAX) {
            return Err(invalid(format!(
                "memory region name `{}...` is longer than 65,535 bytes",
                region.name.chars().take(40).collect::<String>()
            )));
        }
    }
    let mut sorted: Vec<&MemoryRegion> = config.regions.iter().collect();
    sorted.sort_by_key(|r| r.origin);
    for pair in sorted.windows(2) {
        if region_end(pair[0]) > u128::from(pair[1].origin) {
            return Err(invalid(format!(
                "memory regions `{}` and `{}` overlap",
                pair[0].name, pair[1].name
            )));
        }
    }
    let origin = u128::from(config.origin);
    let code = config
        .regions
        .iter()
        .find(|r| u128::from(r.origin) <= origin && origin < region_end(r))
        .ok_or_else(|| {
            invalid(format!(
                "the image origin {:#x} is in no memory region",
                config.origin
            ))
        })?;
    let ram = match code.kind {
        RegionKind::Ram => code,
        RegionKind::Flash => config
            .regions
            .iter()
            .find(|r| r.kind == RegionKind::Ram)
            .ok_or_else(|| {
                invalid(format!(
                    "the image starts in flash region `{}`, but no RAM region is given for \
                     its data, stack and heap",
                    code.name
                ))
            })?,
    };
    Ok((code, ram))
}

/// Checks that the entry symbol opens its section: the image is entered at its first
/// byte, where that section goes.
fn check_entry(resolution: &Resolution<'_>, entry: u32) -> Result<()> {
    let global = &resolution.globals[entry as usize];
    let name = show(global.name);
    match global.definition {
        Definition::Section {
            object,
            section,
            value,
            ..
        } => {
            let object_data = &resolution.objects[object as usize];
            let input = &object_data.sections[section as usize];
            if input.kind != crate::input::SectionKind::Text {
                return Err(invalid(format!(
                    "entry symbol `{name}` is in {}, which is not code; a bare-metal image \
                     starts with its entry's code",
                    object_data.describe_section(section)
                )));
            }
            if value != 0 {
                return Err(invalid(format!(
                    "entry symbol `{name}` is at offset {value:#x} of {}; a bare-metal image \
                     is entered at its first byte, so the entry must open its section",
                    object_data.describe_section(section)
                )));
            }
            Ok(())
        }
        _ => Err(invalid(format!(
            "entry symbol `{name}` is not defined in a code section; a bare-metal image \
             starts with its entry's code"
        ))),
    }
}

/// Places `section` at the first address from `cursor` its alignment allows, and moves
/// `cursor` past it. Empty sections are placed too (they give symbols an address) and
/// dropped later.
fn put(section: &mut OutputSection, cursor: &mut u64) -> Result<()> {
    section.addr = align_up(*cursor, section.align).ok_or_else(too_large)?;
    *cursor = section
        .addr
        .checked_add(section.size)
        .ok_or_else(too_large)?;
    Ok(())
}

/// Makes `section` 16-byte aligned and its size a multiple of 16.
fn pad_to_align(section: &mut OutputSection) -> Result<()> {
    section.align = section.align.max(ALIGN);
    section.size = align_up(section.size, ALIGN).ok_or_else(too_large)?;
    Ok(())
}

fn nobits(name: &str, addr: u64, size: u64) -> OutputSection {
    let mut section = OutputSection::new(name, elf::SHT_NOBITS, elf::SHF_ALLOC | elf::SHF_WRITE);
    section.addr = addr;
    section.size = size;
    section.align = ALIGN;
    section
}

/// Where the RAM part goes, computed in 128 bits so that absurd sizes become a clear
/// "does not fit" rather than an overflow.
struct RamPlan {
    /// Where the image's use of the RAM region starts (the origin, or the region's
    /// start when the code is in flash).
    start: u128,
    bss_end: u128,
    stack_top: u128,
    heap_end: u128,
    free_start: u128,
}

fn ram_plan(config: &BareMetalLayout, start: u64, bss_end: u64) -> RamPlan {
    let align = |v: u128| v.next_multiple_of(u128::from(ALIGN));
    let bss_end = u128::from(bss_end);
    let stack_top = bss_end + align(u128::from(config.stack_size));
    let heap_end = stack_top + u128::from(config.heap_size);
    RamPlan {
        start: u128::from(start),
        bss_end,
        stack_top,
        heap_end,
        free_start: align(heap_end),
    }
}

/// Fails unless the RAM part, and `min_free` after it, fit the RAM region.
fn check_ram_fits(config: &BareMetalLayout, ram: &MemoryRegion, plan: &RamPlan) -> Result<()> {
    let needed = plan.free_start - plan.start + u128::from(config.min_free);
    let available = region_end(ram) - plan.start;
    if needed <= available {
        return Ok(());
    }
    Err(invalid(format!(
        "the image needs {} bytes of RAM ({} for the image, {} for the stack, {} for the \
         heap and {} for linear memory) but {} has {} from {:#x}: {} too many",
        grouped(needed),
        grouped(plan.bss_end - plan.start),
        grouped(plan.stack_top - plan.bss_end),
        grouped(plan.free_start - plan.stack_top),
        grouped(u128::from(config.min_free)),
        ram.name,
        grouped(available),
        plan.start,
        grouped(needed - available),
    )))
}

/// Fails unless the code, read-only data and initial data fit the flash region.
fn check_flash_fits(
    config: &BareMetalLayout,
    flash: &MemoryRegion,
    code_end: u64,
    data_size: u64,
) -> Result<()> {
    let origin = u128::from(config.origin);
    let needed = u128::from(code_end) - origin;
    let available = region_end(flash) - origin;
    if needed <= available {
        return Ok(());
    }
    Err(invalid(format!(
        "the image needs {} bytes of flash ({} for code and read-only data, {} for the \
         initial data) but {} has {} from {:#x}: {} too many",
        grouped(needed),
        grouped(needed - u128::from(data_size)),
        grouped(u128::from(data_size)),
        flash.name,
        grouped(available),
        config.origin,
        grouped(needed - available),
    )))
}

/// Encodes the regions for [`MEMORY_MAP_SECTION`]: the magic, a `u32` count, then per
/// region its origin and length (`u64`), kind (`u8`: 0 RAM, 1 flash), name length
/// (`u16`) and name, all little-endian.
fn encode_memory_map(regions: &[MemoryRegion]) -> Vec<u8> {
    let mut out = MEMORY_MAP_MAGIC.to_vec();
    out.extend_from_slice(&(regions.len() as u32).to_le_bytes());
    for region in regions {
        out.extend_from_slice(&region.origin.to_le_bytes());
        out.extend_from_slice(&region.length.to_le_bytes());
        out.push(match region.kind {
            RegionKind::Ram => 0,
            RegionKind::Flash => 1,
        });
        out.extend_from_slice(&(region.name.len() as u16).to_le_bytes());
        out.extend_from_slice(region.name.as_bytes());
    }
    out
}

/// A planned `PT_LOAD`: its flags, sections, and the distance from their run address
/// to their load address (wrapping).
struct LoadPlan {
    flags: u32,
    sections: Vec<OutputSection>,
    load_delta: u64,
}

/// Lays out a bare-metal image.
pub(super) fn layout(
    config: &BareMetalLayout,
    resolution: &Resolution<'_>,
    live: &Live,
    entry: u32,
    g: Gathered,
) -> Result<Image> {
    use elf::{PF_R, PF_W, PF_X};
    check_entry(resolution, entry)?;
    let (code_region, ram) = choose_regions(config)?;
    let Gathered {
        mut text,
        mut rodata,
        mut wafer,
        mut got,
        mut data,
        small_data_offset,
        mut bss,
    } = g;
    if !config.origin.is_multiple_of(text.align) {
        return Err(invalid(format!(
            "the image origin {:#x} is not aligned to {:#x}, as its code requires",
            config.origin, text.align
        )));
    }

    // The code and read-only part, from the origin.
    let mut cursor = config.origin;
    for section in [&mut text, &mut rodata, &mut wafer, &mut got] {
        put(section, &mut cursor)?;
    }
    let read_only_end = cursor;
    pad_to_align(&mut data)?;
    pad_to_align(&mut bss)?;
    let in_flash = code_region.kind == RegionKind::Flash;
    let data_load = if in_flash {
        let load = align_up(read_only_end, data.align).ok_or_else(too_large)?;
        let code_end = load.checked_add(data.size).ok_or_else(too_large)?;
        check_flash_fits(config, code_region, code_end, data.size)?;
        cursor = ram.origin;
        put(&mut data, &mut cursor)?;
        load
    } else {
        put(&mut data, &mut cursor)?;
        data.addr
    };
    put(&mut bss, &mut cursor)?;
    let ram_start = if in_flash { ram.origin } else { config.origin };
    let plan = ram_plan(config, ram_start, cursor);
    check_ram_fits(config, ram, &plan)?;
    // Everything fits in the RAM region from here on, so in 64 bits (a region ending
    // exactly at 2^64 is the one exception: its end saturates).
    let narrow = |v: u128| u64::try_from(v).unwrap_or(u64::MAX);
    let (stack_bottom, stack_top) = (narrow(plan.bss_end), narrow(plan.stack_top));
    let (heap_end, free_start) = (narrow(plan.heap_end), narrow(plan.free_start));
    let ram_end = narrow(region_end(ram));

    let mut symbols = vec![
        (LinkerSymbol::ExecutableStart, config.origin),
        (LinkerSymbol::Etext, text.addr + text.size),
        (LinkerSymbol::DataLoad, data_load),
        (LinkerSymbol::DataStart, data.addr),
        (LinkerSymbol::Edata, data.addr + data.size),
        (LinkerSymbol::BssStart, bss.addr),
        (LinkerSymbol::BssEnd, bss.addr + bss.size),
        (LinkerSymbol::End, bss.addr + bss.size),
        (LinkerSymbol::StackBottom, stack_bottom),
        (LinkerSymbol::StackTop, stack_top),
        (LinkerSymbol::HeapStart, stack_top),
        (LinkerSymbol::HeapEnd, heap_end),
        (LinkerSymbol::FreeStart, free_start),
        (LinkerSymbol::RamEnd, ram_end),
    ];

    // As GNU linker scripts put it, `__global_pointer$ = . + 0x800;` just before
    // `*(.sdata*)`: nothing uses it for relaxation here, but boot code sets `gp` from it.
    let global_pointer = data
        .addr
        .wrapping_add(small_data_offset)
        .wrapping_add(0x800);
    let plans = [
        LoadPlan {
            flags: PF_R | PF_X,
            sections: vec![text],
            load_delta: 0,
        },
        LoadPlan {
            flags: PF_R,
            sections: vec![rodata, wafer, got],
            load_delta: 0,
        },
        LoadPlan {
            flags: PF_R | PF_W,
            load_delta: data_load.wrapping_sub(data.addr),
            sections: vec![data],
        },
    ];
    let plans: Vec<LoadPlan> = plans
        .into_iter()
        .map(|mut plan| {
            plan.sections.retain(|s| !s.pieces.is_empty());
            plan
        })
        .filter(|plan| !plan.sections.is_empty())
        .collect();

    let mut file_cursor = EHDR_SIZE + PHDR_SIZE * plans.len() as u64;
    let mut sections = Vec::new();
    let mut segments = Vec::new();
    for plan in plans {
        let vaddr = plan.sections[0].addr;
        let align = plan.sections.iter().map(|s| s.align).max().unwrap_or(1);
        // ELF wants p_offset ≡ p_vaddr (mod p_align); the first such offset.
        let offset = file_cursor
            .checked_add((vaddr % align + align - file_cursor % align) % align)
            .ok_or_else(too_large)?;
        let mut end = vaddr;
        for mut section in plan.sections {
            section.offset = offset + (section.addr - vaddr);
            end = section.addr + section.size;
            sections.push(section);
        }
        let size = end - vaddr;
        segments.push(Segment {
            p_type: elf::PT_LOAD,
            flags: plan.flags,
            offset,
            vaddr,
            paddr: vaddr.wrapping_add(plan.load_delta),
            filesz: size,
            memsz: size,
            align,
        });
        file_cursor = offset.checked_add(size).ok_or_else(too_large)?;
    }
    let load_end = file_cursor;
    if !bss.pieces.is_empty() {
        bss.offset = load_end;
        sections.push(bss);
    }
    for (name, addr, end) in [
        (".stack", stack_bottom, stack_top),
        (".heap", stack_top, heap_end),
    ] {
        if end > addr {
            let mut section = nobits(name, addr, end - addr);
            section.offset = load_end;
            sections.push(section);
        }
    }

    symbols.push((LinkerSymbol::GlobalPointer, global_pointer));
    let placed = place(resolution, live, sections)?;
    let info = vec![(MEMORY_MAP_SECTION, encode_memory_map(&config.regions))];
    Ok(placed.into_image(segments, load_end, symbols, info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(234_567), "234,567");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(u128::from(u64::MAX)), "18,446,744,073,709,551,615");
    }
}
