//! `wafer-link`: a small static ELF linker for wafer images.
//!
//! The inputs are always ours: one relocatable object from Cranelift and the runtime as
//! a static archive built by rustc (one big LTO'd member plus `compiler_builtins`
//! members). That makes the job small and the relocation set known, so instead of a
//! general linker this crate does exactly what those inputs need, in-process, in about a
//! millisecond: x86_64, AArch64 and RV64 Linux executables, and AArch64 and RV64
//! bare-metal firmware images (ELF, raw binary, Intel HEX).
//!
//! How a link goes:
//!
//! 1. **Resolve** (`resolve.rs`): objects are loaded; an archive member is
//!    loaded only when it defines a name some loaded object references strongly and
//!    nothing defines yet, until nothing changes. Strong beats weak beats nothing; two
//!    strong definitions are an error; an undefined weak symbol is 0.
//! 2. **Collect garbage** (`gc.rs`): only sections reachable through
//!    relocations from the entry symbol, from `.wafer*` metadata sections and from
//!    `SHF_GNU_RETAIN` sections are kept, so unused runtime and `compiler_builtins`
//!    code vanishes. Undefined symbols are errors only when a kept section uses them.
//!    GOT-indirect relocations get one absolute-address slot per symbol in `.got`
//!    (x86_64 `GOTPCRELX` and recognised `GOTPCREL` loads, calls and jumps are relaxed
//!    to direct ones instead).
//! 3. **Lay out** (`layout.rs`): input sections are merged by name into
//!    `.text`, `.rodata`, `.data`, `.bss` and `.wafer` (every `.wafer*` section, the
//!    image descriptor `.wafer.image` first); debug
//!    info, unwind tables, notes and other metadata are dropped. The [`Layout`] decides
//!    addresses; for Linux, three `PT_LOAD` segments (R: headers, `.rodata`, `.wafer`,
//!    `.got`; RX: `.text`; RW: `.data`, `.bss`) with no padding in the file, each
//!    segment's address congruent to its offset modulo the page size; for bare metal,
//!    see below.
//! 4. **Write** (`write.rs`): headers, section contents patched by the
//!    per-ISA relocation code (`reloc/`), which checks every value fits its
//!    field, then section headers (and `.symtab` if asked) so standard tools can read
//!    the result. With [`LinkOptions::keep_debug`], the DWARF sections of the input
//!    objects follow the loaded part, their relocations (addresses of code and data)
//!    applied; sections with one name are concatenated, and offsets between DWARF
//!    sections are not relocated, which is right for one object with debug info (a
//!    wafer image: the runtime carries none).
//!
//! Unsupported inputs (thread-local storage, constructors, unknown relocations in kept
//! sections) are errors, never silently dropped. Malformed input is an error, never a
//! panic.
//!
//! # Bare-metal images
//!
//! [`Layout::BareMetal`] places the image in a board's memory regions
//! ([`BareMetalLayout`]), starting at its origin with the entry symbol, which must open
//! its code section: boards enter a raw image at its first byte. In address order:
//!
//! ```text
//! origin → .text  .rodata  .wafer  .got  .data  .bss  stack  heap  free … end of RAM
//!          └── R+X ┘└──── R ──────────┘  └ RW ┘  └─ NOBITS, no PT_LOAD ─┘
//! ```
//!
//! With the origin in a flash region instead, `.text` to `.got` stay there followed by
//! the initial contents of `.data` (its `PT_LOAD` has `p_paddr` in flash and `p_vaddr`
//! at the start of the first RAM region, where `.data`, `.bss`, the stack, the heap and
//! linear memory go). The link fails, saying what does not fit where and by how many
//! bytes, unless the code fits its region and `.data` to the heap plus `min_free` fit
//! the RAM region. The ELF always has section headers (`.stack` and `.heap` included)
//! and a non-loaded `.memory_map` section recording the regions, which
//! [`memory_report`] reads back; [`to_binary`] and [`to_ihex`] make the raw and Intel
//! HEX images.
//!
//! The runtime's boot code finds everything through these linker symbols, absolute
//! addresses usable as `extern "C" { static __wafer_bss_start: u8; }` with any
//! relocation (absolute, PC-relative, GOT). All but `__wafer_ram_end` are multiples of
//! 16; `start <= end` for each pair.
//!
//! | symbol | value |
//! | --- | --- |
//! | `__wafer_image_start` | the origin: the first byte of the image, its entry point |
//! | `__wafer_data_load` | where the initial contents of `.data` are: in flash, or `__wafer_data_start` |
//! | `__wafer_data_start`, `__wafer_data_end` | `.data` where it runs (the boot code copies `data_end - data_start` bytes from `data_load` when they differ) |
//! | `__wafer_bss_start`, `__wafer_bss_end` | `.bss` (the boot code clears it: nothing in the image does) |
//! | `__wafer_stack_bottom`, `__wafer_stack_top` | the stack: `top` is the initial stack pointer, `bottom` the limit; `stack_size` rounded up to 16 bytes, right after `.bss` |
//! | `__wafer_heap_start`, `__wafer_heap_end` | the heap, `heap_size` bytes, right after the stack |
//! | `__wafer_free_start` | the heap's end rounded up to 16: linear memory may use from here ... |
//! | `__wafer_ram_end` | ... to the end of the RAM region (at least `min_free` bytes) |
//! | `__global_pointer$` | RV64 `gp`: where small data (`.sdata`) starts in `.data`, plus 0x800 |
//!
//! A Linux executable defines the image, data and bss symbols too (its `.data` loads
//! where it runs); the stack, heap, free and RAM ones are undefined there, and using
//! them is an undefined-symbol error.

#![forbid(unsafe_code)]

mod error;
mod formats;
mod gc;
mod input;
mod layout;
mod reloc;
mod report;
mod resolve;
mod util;
mod write;

use object::elf;

pub use error::{LinkError, LinkErrorKind};
pub use formats::{to_binary, to_ihex};
pub use layout::WAFER_SECTION;
pub use report::{MemoryReport, RegionUsage, memory_report};

use error::Result;
use resolve::Definition;

/// The instruction set of the inputs and the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    X86_64,
    Aarch64,
    Riscv64,
}

/// Where a Linux executable goes in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinuxLayout {
    /// Address of the first byte of the file (the ELF header); a multiple of `page_size`.
    pub base_address: u64,
    /// Segments' addresses are congruent to their file offsets modulo this. 4 KiB on
    /// x86_64 and RV64; 64 KiB on AArch64, whose kernels may use 64 KiB pages.
    pub page_size: u64,
    /// If set, the image must end at or below this address: the process maps something
    /// of its own there (wafer's x86_64 images, their fixed linear memory).
    pub end_limit: Option<u64>,
}

impl LinuxLayout {
    /// The conventional layout for `arch` (GNU ld's base addresses).
    pub fn for_arch(arch: Arch) -> Self {
        match arch {
            Arch::X86_64 => Self {
                base_address: 0x40_0000,
                page_size: 0x1000,
                end_limit: None,
            },
            Arch::Aarch64 => Self {
                base_address: 0x40_0000,
                page_size: 0x1_0000,
                end_limit: None,
            },
            Arch::Riscv64 => Self {
                base_address: 0x1_0000,
                page_size: 0x1000,
                end_limit: None,
            },
        }
    }
}

/// What a [`MemoryRegion`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegionKind {
    /// Read-write memory: everything can go here.
    Ram,
    /// Read-only at run time (flash or ROM), code executes in place: it can hold
    /// `.text`, `.rodata`, `.wafer`, `.got` and the initial contents of `.data`.
    Flash,
}

/// One range of a board's memory map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryRegion {
    /// Names the region in messages and in the [`MemoryReport`]; the board's name and
    /// the kind of memory, e.g. `raspi3b RAM`. At most 65,535 bytes.
    pub name: String,
    /// Address of the region's first byte.
    pub origin: u64,
    /// Size in bytes; not zero, and the region must end at or below 2^64.
    pub length: u64,
    pub kind: RegionKind,
}

/// Where a bare-metal firmware image goes: a board's memory map and what the runtime
/// needs reserved.
///
/// The image starts at `origin` with the entry symbol (its section goes first in
/// `.text`, and the symbol must be at offset 0 of it), because boards enter a raw
/// image at its first byte. The region holding `origin` decides the rest:
///
/// - **RAM** (every board wafer supports today): `.text`, `.rodata`, `.wafer`, `.got`,
///   `.data`, `.bss`, then the stack and the heap, one after the other from `origin`;
///   everything from `__wafer_free_start` to the end of the region is left for linear
///   memory.
/// - **flash** (execute in place): `.text`, `.rodata`, `.wafer`, `.got` and the
///   initial contents of `.data` from `origin` in flash; `.data` runs from the start of
///   the first RAM region (the boot code copies it there from `__wafer_data_load`),
///   followed by `.bss`, the stack, the heap and linear memory as above.
///
/// `.bss`, the stack and the heap take no bytes in the file and have no `PT_LOAD`: the
/// boot code clears `.bss` itself. See the crate documentation for the symbols that
/// tell the runtime where everything went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BareMetalLayout {
    /// The board's memory. Regions must not overlap; those the image does not use are
    /// listed in the [`MemoryReport`] as free.
    pub regions: Vec<MemoryRegion>,
    /// Where the image starts, and its entry point: inside a region, aligned as
    /// `.text` requires (its largest input section alignment).
    pub origin: u64,
    /// Bytes reserved for the native stack, rounded up to 16.
    pub stack_size: u64,
    /// Bytes reserved for the runtime's heap.
    pub heap_size: u64,
    /// Bytes that must remain after the heap for linear memory (the module's minimum
    /// memory, or what the user asked for); linking fails if RAM cannot hold them.
    pub min_free: u64,
}

/// The kind of image to produce and where it lives in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Layout {
    /// A static `ET_EXEC` for Linux: no interpreter, no dynamic section.
    LinuxExecutable(LinuxLayout),
    /// A static `ET_EXEC` for a board, entered at its first byte; see
    /// [`BareMetalLayout`]. Always written with section headers.
    BareMetal(BareMetalLayout),
}

/// One input file: a relocatable object or an `ar` archive (told apart by the magic).
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Used in messages only, e.g. `app.o` or `libwafer_runtime.a`.
    pub name: &'a str,
    pub data: &'a [u8],
}

/// What to link and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkOptions {
    /// The symbol whose address becomes the entry point (and the root of GC).
    pub entry: String,
    /// Write `.symtab`/`.strtab` (named functions and objects of the image).
    pub keep_symbols: bool,
    /// Write the section header table and `.shstrtab` (implied by `keep_symbols`, and
    /// always done for [`Layout::BareMetal`]). Without them a Linux executable is only
    /// its loaded segments; `.wafer` opens the first one, right after the program
    /// headers, 16-byte aligned, so readers still find it.
    pub section_headers: bool,
    /// Copy the DWARF sections (`.debug*`) of the objects given as inputs (not of
    /// archive members) after the loaded part, relocated (implies `section_headers`).
    pub keep_debug: bool,
}

impl LinkOptions {
    /// Options for entry symbol `entry`, without a symbol table.
    pub fn new(entry: impl Into<String>) -> Self {
        Self {
            entry: entry.into(),
            keep_symbols: false,
            section_headers: true,
            keep_debug: false,
        }
    }
}

/// Links `inputs` into one image for `arch` laid out by `layout`.
pub fn link(
    arch: Arch,
    layout: &Layout,
    inputs: &[Input<'_>],
    options: &LinkOptions,
) -> Result<Vec<u8>, LinkError> {
    let bare_metal = matches!(layout, Layout::BareMetal(_));
    let resolution = resolve::resolve(arch, inputs, options.entry.as_bytes(), bare_metal)?;
    let entry = resolution
        .lookup(options.entry.as_bytes())
        .filter(|&id| resolution.globals[id as usize].definition != Definition::Undefined)
        .ok_or_else(|| {
            LinkError::new(
                LinkErrorKind::UndefinedSymbol,
                format!("entry symbol `{}` is undefined", options.entry),
            )
        })?;
    let e_flags = e_flags(arch, &resolution)?;
    let live = gc::mark(arch, &resolution, entry)?;
    let image = layout::layout(layout, &resolution, &live, entry)?;
    let entry_address = image.global_address(&resolution, entry).ok_or_else(|| {
        LinkError::new(
            LinkErrorKind::InvalidOptions,
            format!("entry symbol `{}` has no address", options.entry),
        )
    })?;
    // A firmware ELF serves debuggers and `wafer inspect`, and its headers are not
    // loaded anyway: it always has section headers.
    let mut options = options.clone();
    options.section_headers |= bare_metal || options.keep_debug;
    write::write(
        arch,
        &resolution,
        &live,
        &image,
        &options,
        e_flags,
        entry_address,
    )
}

/// The output's `e_flags`: for RV64, the float ABI all inputs agree on, plus RVC/TSO
/// if any input has them.
fn e_flags(arch: Arch, resolution: &resolve::Resolution<'_>) -> Result<u32> {
    if arch != Arch::Riscv64 {
        return Ok(0);
    }
    let mut flags = 0;
    let mut float_abi: Option<(u32, &str)> = None;
    for object in &resolution.objects {
        flags |= object.e_flags & (elf::EF_RISCV_RVC | elf::EF_RISCV_TSO | elf::EF_RISCV_RVE);
        let abi = object.e_flags & elf::EF_RISCV_FLOAT_ABI;
        match float_abi {
            None => float_abi = Some((abi, &object.name)),
            Some((first, first_name)) if first != abi => {
                let describe = |abi| match abi {
                    elf::EF_RISCV_FLOAT_ABI_SOFT => "soft-float",
                    elf::EF_RISCV_FLOAT_ABI_SINGLE => "single-float",
                    elf::EF_RISCV_FLOAT_ABI_DOUBLE => "double-float",
                    _ => "quad-float",
                };
                return Err(LinkError::unsupported(format!(
                    "{}: {} ABI, but {first_name} uses the {} ABI",
                    object.name,
                    describe(abi),
                    describe(first),
                )));
            }
            Some(_) => {}
        }
    }
    Ok(flags | float_abi.map_or(0, |(abi, _)| abi))
}
