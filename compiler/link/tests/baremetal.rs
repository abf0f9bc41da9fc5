//! Bare-metal layouts, linked from objects built in memory: where sections and the
//! `__wafer_*` symbols go, the flash + RAM split, the fit checks and their messages, the
//! raw binary and Intel HEX (compared with `llvm-objcopy` when it is installed), the
//! memory report, and, when `qemu-system-*` is installed, a hand-assembled image that
//! boots on the `virt` boards from its ELF and from its raw binary.
//!
//! The boot code (`_start`) copies `.data` from `__wafer_data_load`, clears `.bss`, sets
//! the stack pointer to `__wafer_stack_top` and calls `main`, which prints a message
//! from `.rodata` on the UART and exits with a code read from `.data`; so a wrong
//! symbol, a wrong load address or a missing data copy shows up as a wrong exit code.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Obj, have, run_with_timeout};
use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};
use object::write::{Symbol, SymbolId, SymbolSection};
use object::{
    Architecture, Object as _, ObjectSection as _, ObjectSymbol as _, SectionKind, SymbolFlags,
    SymbolKind, SymbolScope,
};
use wafer_link::{
    Arch, BareMetalLayout, Input, Layout, LinkErrorKind, LinkOptions, LinuxLayout, MemoryRegion,
    RegionKind, link, memory_report, to_binary, to_ihex,
};

const MIB: u64 = 1 << 20;

/// Every symbol of the contract with the runtime's boot code.
const WAFER_SYMBOLS: &[&str] = &[
    "__wafer_image_start",
    "__wafer_data_load",
    "__wafer_data_start",
    "__wafer_data_end",
    "__wafer_bss_start",
    "__wafer_bss_end",
    "__wafer_stack_bottom",
    "__wafer_stack_top",
    "__wafer_heap_start",
    "__wafer_heap_end",
    "__wafer_free_start",
    "__wafer_ram_end",
];

/// What the image prints.
const MESSAGE: &str = "hello from wafer-link\n";
/// The exit code, read from `.data`.
const EXIT_CODE: i32 = 42;
/// Bytes of `.bss` in the test image.
const BSS_SIZE: u64 = 200;

// AArch64 (qemu `virt`: PL011 data register at 0x0900_0000, semihosting exit).
const A64_START: &[u32] = &[
    0x9000_0000, // adrp x0, __wafer_data_load
    0x9100_0000, // add  x0, x0, :lo12:__wafer_data_load
    0x9000_0001, // adrp x1, __wafer_data_start
    0x9100_0021, // add  x1, x1, :lo12:__wafer_data_start
    0x9000_0002, // adrp x2, __wafer_data_end
    0x9100_0042, // add  x2, x2, :lo12:__wafer_data_end
    0xeb02_003f, // 1: cmp x1, x2
    0x5400_0082, // b.hs 2f
    0xf840_8403, // ldr  x3, [x0], #8
    0xf800_8423, // str  x3, [x1], #8
    0x17ff_fffc, // b    1b
    0x9000_0001, // 2: adrp x1, __wafer_bss_start
    0x9100_0021, // add  x1, x1, :lo12:__wafer_bss_start
    0x9000_0002, // adrp x2, __wafer_bss_end
    0x9100_0042, // add  x2, x2, :lo12:__wafer_bss_end
    0xeb02_003f, // 3: cmp x1, x2
    0x5400_0062, // b.hs 4f
    0xf800_843f, // str  xzr, [x1], #8
    0x17ff_fffd, // b    3b
    0x9000_0000, // 4: adrp x0, __wafer_stack_top
    0x9100_0000, // add  x0, x0, :lo12:__wafer_stack_top
    0x9100_001f, // mov  sp, x0
    0x9400_0000, // bl   main
];
const A64_START_RELOCS: &[(u64, Target, u32)] = &[
    (0x00, Target::Global("__wafer_data_load"), PAIR),
    (0x08, Target::Global("__wafer_data_start"), PAIR),
    (0x10, Target::Global("__wafer_data_end"), PAIR),
    (0x2c, Target::Global("__wafer_bss_start"), PAIR),
    (0x34, Target::Global("__wafer_bss_end"), PAIR),
    (0x4c, Target::Global("__wafer_stack_top"), PAIR),
    (0x58, Target::Global("main"), elf::R_AARCH64_CALL26),
];
const A64_MAIN: &[u32] = &[
    0xd2a1_2009, // movz x9, #0x900, lsl #16
    0x9000_0000, // adrp x0, message
    0x9100_0000, // add  x0, x0, :lo12:message
    0x3840_1401, // 1: ldrb w1, [x0], #1
    0x3400_0061, // cbz  w1, 2f
    0x3900_0121, // strb w1, [x9]
    0x17ff_fffd, // b    1b
    0x9000_0002, // 2: adrp x2, exit_block
    0x9100_0042, // add  x2, x2, :lo12:exit_block
    0xf940_0843, // ldr  x3, [x2, #16]    (the exit code)
    0xf900_0443, // str  x3, [x2, #8]     (into the SYS_EXIT block)
    0x5280_0300, // mov  w0, #0x18        (SYS_EXIT)
    0xaa02_03e1, // mov  x1, x2
    0xd45e_0000, // hlt  #0xf000
    0x1400_0000, // 3: b 3b
];
const A64_MAIN_RELOCS: &[(u64, Target, u32)] = &[
    (0x04, Target::Message, PAIR),
    (0x1c, Target::Data, PAIR),
    (0x00, Target::Bss, elf::R_AARCH64_NONE),
    (0x00, Target::SymbolTable, elf::R_AARCH64_NONE),
];

// RV64 (qemu `virt`: NS16550A at 0x1000_0000, exit through the test device at
// 0x10_0000).
const RV_START: &[u32] = &[
    0x0000_0197, // auipc gp, %pcrel_hi(__global_pointer$)
    0x0001_8193, // addi  gp, gp, %pcrel_lo
    0x0000_0517, // auipc a0, %pcrel_hi(__wafer_data_load)
    0x0005_0513, // addi  a0, a0, %pcrel_lo
    0x0000_0597, // auipc a1, %pcrel_hi(__wafer_data_start)
    0x0005_8593, // addi  a1, a1, %pcrel_lo
    0x0000_0617, // auipc a2, %pcrel_hi(__wafer_data_end)
    0x0006_0613, // addi  a2, a2, %pcrel_lo
    0x00c5_fc63, // 1: bgeu a1, a2, 2f
    0x0005_3683, // ld   a3, 0(a0)
    0x00d5_b023, // sd   a3, 0(a1)
    0x0085_0513, // addi a0, a0, 8
    0x0085_8593, // addi a1, a1, 8
    0xfedf_f06f, // j    1b
    0x0000_0597, // 2: auipc a1, %pcrel_hi(__wafer_bss_start)
    0x0005_8593, // addi  a1, a1, %pcrel_lo
    0x0000_0617, // auipc a2, %pcrel_hi(__wafer_bss_end)
    0x0006_0613, // addi  a2, a2, %pcrel_lo
    0x00c5_f863, // 3: bgeu a1, a2, 4f
    0x0005_b023, // sd   zero, 0(a1)
    0x0085_8593, // addi a1, a1, 8
    0xff5f_f06f, // j    3b
    0x0000_0117, // 4: auipc sp, %pcrel_hi(__wafer_stack_top)
    0x0001_0113, // addi  sp, sp, %pcrel_lo
    0x0000_0097, // auipc ra, 0   (call main)
    0x0000_80e7, // jalr  ra
];
const RV_START_RELOCS: &[(u64, Target, u32)] = &[
    (0x00, Target::Global("__global_pointer$"), PAIR),
    (0x08, Target::Global("__wafer_data_load"), PAIR),
    (0x10, Target::Global("__wafer_data_start"), PAIR),
    (0x18, Target::Global("__wafer_data_end"), PAIR),
    (0x38, Target::Global("__wafer_bss_start"), PAIR),
    (0x40, Target::Global("__wafer_bss_end"), PAIR),
    (0x58, Target::Global("__wafer_stack_top"), PAIR),
    (0x60, Target::Global("main"), elf::R_RISCV_CALL),
];
const RV_MAIN: &[u32] = &[
    0x1000_02b7, // lui   t0, 0x10000
    0x0000_0517, // auipc a0, %pcrel_hi(message)
    0x0005_0513, // addi  a0, a0, %pcrel_lo
    0x0005_4583, // 1: lbu a1, 0(a0)
    0x0005_8863, // beqz a1, 2f
    0x00b2_8023, // sb   a1, 0(t0)
    0x0015_0513, // addi a0, a0, 1
    0xff1f_f06f, // j    1b
    0x0000_0617, // 2: auipc a2, %pcrel_hi(exit_code)
    0x0006_3683, // ld    a3, %pcrel_lo(a2)
    0x0106_9693, // slli  a3, a3, 16
    0x0000_3337, // lui   t1, 3
    0x3333_0313, // addi  t1, t1, 0x333
    0x0066_e6b3, // or    a3, a3, t1      ((code << 16) | 0x3333)
    0x0010_03b7, // lui   t2, 0x100
    0x00d3_a023, // sw    a3, 0(t2)       (the test device: exit)
    0x0000_006f, // 3: j 3b
];
const RV_MAIN_RELOCS: &[(u64, Target, u32)] = &[
    (0x04, Target::Message, PAIR),
    (0x20, Target::ExitCode, PAIR),
    (0x00, Target::Bss, elf::R_RISCV_NONE),
    (0x00, Target::SymbolTable, elf::R_RISCV_NONE),
];

/// Stands for the relocations of an address computed by two instructions: on AArch64
/// ADR_PREL_PG_HI21 on an ADRP and ADD_ABS_LO12_NC on the ADD after it; on RV64
/// PCREL_HI20 on an AUIPC and PCREL_LO12_I on the next instruction, against a label on
/// the AUIPC.
const PAIR: u32 = u32::MAX;

/// What a relocation in the test program refers to.
#[derive(Clone, Copy)]
enum Target {
    Global(&'static str),
    /// The message in `.rodata.message`.
    Message,
    /// The exit block in `.data.exit` (AArch64).
    Data,
    /// The exit code in `.data.exit` (RV64): its third word.
    ExitCode,
    /// `.bss.zeroed`.
    Bss,
    /// `.rodata.symbols`: the addresses of every `__wafer_*` symbol.
    SymbolTable,
}

#[derive(Clone, Copy)]
struct Board {
    arch: Arch,
    name: &'static str,
    ram: u64,
    qemu: &'static [&'static str],
}

const AARCH64_VIRT: Board = Board {
    arch: Arch::Aarch64,
    name: "aarch64-virt",
    ram: 0x4000_0000,
    qemu: &[
        "qemu-system-aarch64",
        "-machine",
        "virt",
        "-cpu",
        "cortex-a53",
        "-nographic",
        "-semihosting",
        "-nic",
        "none",
    ],
};

const RISCV64_VIRT: Board = Board {
    arch: Arch::Riscv64,
    name: "riscv64-virt",
    ram: 0x8000_0000,
    qemu: &[
        "qemu-system-riscv64",
        "-machine",
        "virt",
        "-bios",
        "none",
        "-nographic",
    ],
};

impl Board {
    /// Where raw binaries are loaded and entered (BOARDS.md).
    fn raw_origin(&self) -> u64 {
        match self.arch {
            Arch::Aarch64 => 0x4008_0000,
            _ => 0x8000_0000,
        }
    }

    /// The board's 128 MiB of RAM, the image at the raw-binary origin.
    fn ram_layout(&self) -> BareMetalLayout {
        BareMetalLayout {
            regions: vec![MemoryRegion {
                name: format!("{} RAM", self.name),
                origin: self.ram,
                length: 128 * MIB,
                kind: RegionKind::Ram,
            }],
            origin: self.raw_origin(),
            stack_size: 64 << 10,
            heap_size: 32 << 10,
            min_free: MIB,
        }
    }

    /// The first 1 MiB from the raw-binary origin acting as flash (QEMU loads it like
    /// RAM, but the image only reads it), the rest of RAM as RAM.
    fn flash_layout(&self) -> BareMetalLayout {
        let flash = self.raw_origin();
        BareMetalLayout {
            regions: vec![
                MemoryRegion {
                    name: format!("{} flash", self.name),
                    origin: flash,
                    length: MIB,
                    kind: RegionKind::Flash,
                },
                MemoryRegion {
                    name: format!("{} RAM", self.name),
                    origin: flash + MIB,
                    length: self.ram + 128 * MIB - (flash + MIB),
                    kind: RegionKind::Ram,
                },
            ],
            origin: flash,
            stack_size: 16 << 10,
            heap_size: 0,
            min_free: 0,
        }
    }
}

fn words(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// The test program as a relocatable object for `arch`.
fn program(arch: Arch) -> Vec<u8> {
    let (machine, start, start_relocs, main, main_relocs, abs64) = match arch {
        Arch::Aarch64 => (
            Architecture::Aarch64,
            A64_START,
            A64_START_RELOCS,
            A64_MAIN,
            A64_MAIN_RELOCS,
            elf::R_AARCH64_ABS64,
        ),
        Arch::Riscv64 => (
            Architecture::Riscv64,
            RV_START,
            RV_START_RELOCS,
            RV_MAIN,
            RV_MAIN_RELOCS,
            elf::R_RISCV_64,
        ),
        Arch::X86_64 => unreachable!("no x86_64 boards"),
    };
    let mut o = Obj::new(machine);
    let text = o.section_aligned(".text.boot", SectionKind::Text, &words(start), 4);
    o.define("_start", text, 0, false);
    let main_text = o.section_aligned(".text.main", SectionKind::Text, &words(main), 4);
    o.define("main", main_text, 0, false);
    let mut message = MESSAGE.as_bytes().to_vec();
    message.push(0);
    let rodata = o.section_aligned(".rodata.message", SectionKind::ReadOnlyData, &message, 1);
    // {ADP_Stopped_ApplicationExit, 0, exit code}: the AArch64 SYS_EXIT block with the
    // code after it; RV64 reads the code alone.
    let exit_block: Vec<u8> = [0x20026u64, 0, EXIT_CODE as u64]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    let data = o.section(".data.exit", SectionKind::Data, &exit_block);
    let bss = o.bss(".bss.zeroed", BSS_SIZE, 8);
    o.section(".wafer.image", SectionKind::ReadOnlyData, b"DESCRIPTOR");
    let table = o.section(
        ".rodata.symbols",
        SectionKind::ReadOnlyData,
        &vec![0; 8 * WAFER_SYMBOLS.len()],
    );
    for (i, name) in WAFER_SYMBOLS.iter().enumerate() {
        let symbol = o.undefined(name);
        o.reloc(table, 8 * i as u64, symbol, abs64, 0);
    }
    let mut labels = 0;
    for (section, relocs) in [(text, start_relocs), (main_text, main_relocs)] {
        for &(offset, target, r_type) in relocs {
            let (symbol, addend) = match target {
                Target::Global(name) => (
                    o.obj
                        .symbol_id(name.as_bytes())
                        .unwrap_or_else(|| o.undefined(name)),
                    0,
                ),
                Target::Message => (o.obj.section_symbol(rodata), 0),
                Target::Data => (o.obj.section_symbol(data), 0),
                Target::ExitCode => (o.obj.section_symbol(data), 16),
                Target::Bss => (o.obj.section_symbol(bss), 0),
                Target::SymbolTable => (o.obj.section_symbol(table), 0),
            };
            if r_type != PAIR {
                o.reloc(section, offset, symbol, r_type, addend);
            } else if arch == Arch::Aarch64 {
                o.reloc(
                    section,
                    offset,
                    symbol,
                    elf::R_AARCH64_ADR_PREL_PG_HI21,
                    addend,
                );
                o.reloc(
                    section,
                    offset + 4,
                    symbol,
                    elf::R_AARCH64_ADD_ABS_LO12_NC,
                    addend,
                );
            } else {
                labels += 1;
                let label = label(&mut o, labels, section, offset);
                o.reloc(section, offset, symbol, elf::R_RISCV_PCREL_HI20, addend);
                o.reloc(section, offset + 4, label, elf::R_RISCV_PCREL_LO12_I, 0);
            }
        }
    }
    o.bytes()
}

/// A local label at `offset` of `section`, for a PCREL_LO12 to name its AUIPC.
fn label(o: &mut Obj, n: usize, section: object::write::SectionId, offset: u64) -> SymbolId {
    o.obj.add_symbol(Symbol {
        name: format!(".Lpcrel_hi{n}").into_bytes(),
        value: offset,
        size: 0,
        kind: SymbolKind::Label,
        scope: SymbolScope::Compilation,
        weak: false,
        section: SymbolSection::Section(section),
        flags: SymbolFlags::None,
    })
}

fn options() -> LinkOptions {
    LinkOptions {
        entry: "_start".into(),
        keep_symbols: true,
        section_headers: true,
        keep_debug: false,
    }
}

fn try_link(
    arch: Arch,
    layout: &BareMetalLayout,
    object: &[u8],
) -> Result<Vec<u8>, wafer_link::LinkError> {
    let inputs = [Input {
        name: "app.o",
        data: object,
    }];
    link(
        arch,
        &Layout::BareMetal(layout.clone()),
        &inputs,
        &options(),
    )
}

fn link_ok(arch: Arch, layout: &BareMetalLayout) -> Vec<u8> {
    try_link(arch, layout, &program(arch)).unwrap_or_else(|e| panic!("link failed: {e}"))
}

fn link_err(arch: Arch, layout: &BareMetalLayout) -> wafer_link::LinkError {
    match try_link(arch, layout, &program(arch)) {
        Ok(_) => panic!("link succeeded"),
        Err(e) => e,
    }
}

fn symbols(image: &[u8]) -> BTreeMap<String, u64> {
    let file = object::File::parse(image).unwrap();
    file.symbols()
        .filter(|s| !s.is_local())
        .map(|s| (s.name().unwrap().to_owned(), s.address()))
        .collect()
}

/// `(name, address, size)` of every allocated section, in header order.
fn sections(image: &[u8]) -> Vec<(String, u64, u64)> {
    let file = object::File::parse(image).unwrap();
    file.sections()
        .filter(|s| {
            matches!(s.flags(), object::SectionFlags::Elf { sh_flags }
                if sh_flags & u64::from(elf::SHF_ALLOC) != 0)
        })
        .map(|s| (s.name().unwrap().to_owned(), s.address(), s.size()))
        .collect()
}

fn section(image: &[u8], name: &str) -> (u64, u64) {
    sections(image)
        .into_iter()
        .find(|s| s.0 == name)
        .map(|s| (s.1, s.2))
        .unwrap_or_else(|| panic!("no section {name}"))
}

/// `(p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags)` of each program
/// header.
fn program_headers(image: &[u8]) -> Vec<(u32, u64, u64, u64, u64, u64, u32)> {
    let e = object::LittleEndian;
    let header = elf::FileHeader64::<object::LittleEndian>::parse(image).unwrap();
    header
        .program_headers(e, image)
        .unwrap()
        .iter()
        .map(|p| {
            (
                p.p_type(e),
                p.p_offset(e),
                p.p_vaddr(e),
                p.p_paddr(e),
                p.p_filesz(e),
                p.p_memsz(e),
                p.p_flags(e),
            )
        })
        .collect()
}

/// The bytes at address `address` of the allocated section that holds them.
fn bytes_at(image: &[u8], address: u64, len: usize) -> Vec<u8> {
    let file = object::File::parse(image).unwrap();
    for section in file.sections() {
        if address >= section.address()
            && address + len as u64 <= section.address() + section.size()
        {
            let data = section.data().unwrap();
            let at = (address - section.address()) as usize;
            return data[at..at + len].to_vec();
        }
    }
    panic!("no section at {address:#x}");
}

fn u32_at(image: &[u8], address: u64) -> u32 {
    u32::from_le_bytes(bytes_at(image, address, 4).try_into().unwrap())
}

/// The address an AArch64 `adrp` + `add` pair at `address` computes.
fn adrp_add_target(image: &[u8], address: u64) -> u64 {
    let adrp = u32_at(image, address);
    let add = u32_at(image, address + 4);
    let immlo = u64::from((adrp >> 29) & 3);
    let immhi = u64::from((adrp >> 5) & 0x7_ffff);
    // 21-bit signed page count.
    let pages = (((immhi << 2 | immlo) << 43) as i64) >> 43;
    let page = (address & !0xfff).wrapping_add((pages << 12) as u64);
    page + u64::from((add >> 10) & 0xfff)
}

/// The address an RV64 `auipc` + `addi` pair at `address` computes.
fn auipc_addi_target(image: &[u8], address: u64) -> u64 {
    let auipc = u32_at(image, address);
    let addi = u32_at(image, address + 4);
    let hi = i64::from((auipc & 0xffff_f000) as i32);
    let lo = i64::from((addi as i32) >> 20);
    address.wrapping_add((hi + lo) as u64)
}

/// The address the pair of instructions at `offset` of `_start` computes.
fn start_target(arch: Arch, image: &[u8], offset: u64) -> u64 {
    let start = symbols(image)["_start"];
    match arch {
        Arch::Aarch64 => adrp_add_target(image, start + offset),
        _ => auipc_addi_target(image, start + offset),
    }
}

/// The offset in `_start` of the address computation for `name`.
fn start_offset(arch: Arch, name: &str) -> u64 {
    let relocs = match arch {
        Arch::Aarch64 => A64_START_RELOCS,
        _ => RV_START_RELOCS,
    };
    relocs
        .iter()
        .find(|(_, target, _)| matches!(target, Target::Global(n) if *n == name))
        .map(|r| r.0)
        .unwrap()
}

fn align16(value: u64) -> u64 {
    value.next_multiple_of(16)
}

/// Checks the symbol contract on a linked image: the symbol table, the absolute
/// addresses in `.rodata.symbols` and the PC-relative pairs in `_start` all agree, and
/// the values relate as documented.
fn check_symbols(arch: Arch, layout: &BareMetalLayout, image: &[u8]) -> BTreeMap<String, u64> {
    let symbols = symbols(image);
    // `.rodata.symbols` follows the message in `.rodata`, 16-byte aligned.
    let (rodata, _) = section(image, ".rodata");
    let table = rodata + align16(MESSAGE.len() as u64 + 1);
    for (i, name) in WAFER_SYMBOLS.iter().enumerate() {
        let value = *symbols
            .get(*name)
            .unwrap_or_else(|| panic!("no symbol {name}"));
        let absolute =
            u64::from_le_bytes(bytes_at(image, table + 8 * i as u64, 8).try_into().unwrap());
        assert_eq!(absolute, value, "{name}: absolute relocation");
    }
    for name in [
        "__wafer_data_load",
        "__wafer_data_start",
        "__wafer_data_end",
        "__wafer_bss_start",
        "__wafer_bss_end",
        "__wafer_stack_top",
    ] {
        assert_eq!(
            start_target(arch, image, start_offset(arch, name)),
            symbols[name],
            "{name}: PC-relative relocations"
        );
    }
    let s = |name: &str| symbols[name];
    assert_eq!(s("__wafer_image_start"), layout.origin);
    assert_eq!(s("_start"), layout.origin, "the entry is the origin");
    let data = section(image, ".data");
    assert_eq!(s("__wafer_data_start"), data.0);
    assert_eq!(s("__wafer_data_end"), data.0 + data.1);
    let bss = section(image, ".bss");
    assert_eq!(s("__wafer_bss_start"), bss.0);
    assert_eq!(s("__wafer_bss_end"), bss.0 + bss.1);
    assert!(bss.1 >= BSS_SIZE);
    for name in WAFER_SYMBOLS.iter().filter(|n| !n.contains("ram_end")) {
        assert_eq!(s(name) % 16, 0, "{name} is 16-byte aligned");
    }
    assert!(s("__wafer_bss_start") >= s("__wafer_data_end"));
    assert_eq!(s("__wafer_stack_bottom"), s("__wafer_bss_end"));
    assert_eq!(
        s("__wafer_stack_top") - s("__wafer_stack_bottom"),
        align16(layout.stack_size)
    );
    assert_eq!(s("__wafer_heap_start"), s("__wafer_stack_top"));
    assert_eq!(
        s("__wafer_heap_end") - s("__wafer_heap_start"),
        layout.heap_size
    );
    assert_eq!(s("__wafer_free_start"), align16(s("__wafer_heap_end")));
    let ram = layout
        .regions
        .iter()
        .find(|r| r.kind == RegionKind::Ram)
        .unwrap();
    assert_eq!(s("__wafer_ram_end"), ram.origin + ram.length);
    assert!(s("__wafer_ram_end") - s("__wafer_free_start") >= layout.min_free);
    if arch == Arch::Riscv64 {
        // No small data: where it would start, after `.data`'s other inputs.
        assert_eq!(s("__global_pointer$"), data.0 + 24 + 0x800);
        assert_eq!(
            start_target(arch, image, start_offset(arch, "__global_pointer$")),
            s("__global_pointer$")
        );
    }
    symbols
}

fn ram_layout(board: Board) {
    let layout = board.ram_layout();
    let image = link_ok(board.arch, &layout);
    let symbols = check_symbols(board.arch, &layout, &image);
    let file = object::File::parse(&*image).unwrap();
    assert_eq!(file.entry(), layout.origin);
    assert_eq!(file.kind(), object::ObjectKind::Executable);

    // In order from the origin, each after the one before.
    let names: Vec<String> = sections(&image).into_iter().map(|s| s.0).collect();
    assert_eq!(
        names,
        [
            ".text", ".rodata", ".wafer", ".data", ".bss", ".stack", ".heap"
        ]
    );
    let mut end = layout.origin;
    for (name, address, size) in sections(&image) {
        assert!(address >= end, "{name} at {address:#x} overlaps");
        end = address + size;
    }
    assert_eq!(section(&image, ".text").0, layout.origin);
    assert_eq!(
        bytes_at(&image, section(&image, ".wafer").0, 10),
        b"DESCRIPTOR"
    );
    assert_eq!(symbols["__wafer_data_load"], symbols["__wafer_data_start"]);

    // Three PT_LOADs with contents only, loaded where they run, the headers outside.
    let phdrs = program_headers(&image);
    assert!(phdrs.iter().all(|p| p.0 == elf::PT_LOAD), "{phdrs:x?}");
    assert_eq!(
        phdrs.iter().map(|p| p.6).collect::<Vec<_>>(),
        [elf::PF_R | elf::PF_X, elf::PF_R, elf::PF_R | elf::PF_W]
    );
    for &(_, offset, vaddr, paddr, filesz, memsz, _) in &phdrs {
        assert_eq!(vaddr, paddr);
        assert_eq!(filesz, memsz, "no zero-filled tail");
        assert!(
            offset >= 64 + 56 * phdrs.len() as u64,
            "headers are not loaded"
        );
        assert!(vaddr + memsz <= symbols["__wafer_bss_start"]);
    }
    assert_eq!(phdrs[0].2, layout.origin);
}

#[test]
fn ram_layout_aarch64() {
    ram_layout(AARCH64_VIRT);
}

#[test]
fn ram_layout_riscv64() {
    ram_layout(RISCV64_VIRT);
}

fn flash_layout(board: Board) {
    let layout = board.flash_layout();
    let image = link_ok(board.arch, &layout);
    let symbols = check_symbols(board.arch, &layout, &image);
    let (flash, ram) = (&layout.regions[0], &layout.regions[1]);
    let in_region =
        |r: &MemoryRegion, a: u64, size: u64| a >= r.origin && a + size <= r.origin + r.length;
    for (name, address, size) in sections(&image) {
        let region = match name.as_str() {
            ".text" | ".rodata" | ".wafer" => flash,
            _ => ram,
        };
        assert!(in_region(region, address, size), "{name} at {address:#x}");
    }
    // `.data` runs at the start of RAM and loads from flash right after `.wafer`.
    assert_eq!(symbols["__wafer_data_start"], ram.origin);
    let wafer = section(&image, ".wafer");
    assert_eq!(symbols["__wafer_data_load"], align16(wafer.0 + wafer.1));
    let phdrs = program_headers(&image);
    let data = phdrs.last().unwrap();
    assert_eq!(data.6, elf::PF_R | elf::PF_W);
    assert_eq!(data.2, ram.origin, "p_vaddr: where .data runs");
    assert_eq!(
        data.3, symbols["__wafer_data_load"],
        "p_paddr: where it loads"
    );

    // The raw binary is the flash contents: code, then the initial data.
    let binary = to_binary(&image).unwrap();
    let data_size = symbols["__wafer_data_end"] - symbols["__wafer_data_start"];
    assert_eq!(
        binary.len() as u64,
        symbols["__wafer_data_load"] + data_size - layout.origin
    );
    let at = (symbols["__wafer_data_load"] - layout.origin) as usize;
    assert_eq!(
        &binary[at..at + 24],
        &bytes_at(&image, symbols["__wafer_data_start"], 24)[..]
    );
    assert_eq!(binary[at + 16], EXIT_CODE as u8);
}

#[test]
fn flash_layout_aarch64() {
    flash_layout(AARCH64_VIRT);
}

#[test]
fn flash_layout_riscv64() {
    flash_layout(RISCV64_VIRT);
}

/// A layout with just enough RAM for the test image with the given sizes.
fn raspi3b(min_free: u64) -> BareMetalLayout {
    BareMetalLayout {
        regions: vec![MemoryRegion {
            name: "raspi3b RAM".into(),
            origin: 0,
            length: 0x3c00_0000,
            kind: RegionKind::Ram,
        }],
        origin: 0x8_0000,
        stack_size: 1 << 20,
        heap_size: 100,
        min_free,
    }
}

#[test]
fn ram_that_is_too_small_is_an_error_that_says_by_how_much() {
    let image = link_ok(Arch::Aarch64, &raspi3b(0));
    let symbols = symbols(&image);
    let available = 0x3c00_0000 - 0x8_0000;
    let used = symbols["__wafer_free_start"] - 0x8_0000;
    // Exactly full, then one byte over.
    link_ok(Arch::Aarch64, &raspi3b(available - used));
    let error = link_err(Arch::Aarch64, &raspi3b(available - used + 1));
    assert_eq!(error.kind(), LinkErrorKind::InvalidOptions);
    let image_size = symbols["__wafer_bss_end"] - 0x8_0000;
    let group = |n: u64| {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    assert_eq!(
        error.to_string(),
        format!(
            "the image needs {} bytes of RAM ({} for the image, 1,048,576 for the stack, 112 \
             for the heap and {} for linear memory) but raspi3b RAM has 1,006,108,672 from \
             0x80000: 1 too many",
            group(available + 1),
            group(image_size),
            group(available - used + 1),
        )
    );

    // Sizes past the address space are just as clearly too large.
    let mut huge = raspi3b(0);
    huge.stack_size = u64::MAX;
    let error = link_err(Arch::Aarch64, &huge);
    assert!(
        error
            .to_string()
            .contains("18,446,744,073,709,551,616 for the stack"),
        "{error}"
    );
    let mut huge = raspi3b(u64::MAX);
    huge.heap_size = u64::MAX;
    assert_eq!(
        link_err(Arch::Aarch64, &huge).kind(),
        LinkErrorKind::InvalidOptions
    );
}

#[test]
fn flash_that_is_too_small_is_an_error_that_says_by_how_much() {
    let mut layout = RISCV64_VIRT.flash_layout();
    let image = link_ok(Arch::Riscv64, &layout);
    let symbols = symbols(&image);
    let data = symbols["__wafer_data_end"] - symbols["__wafer_data_start"];
    let needed = symbols["__wafer_data_load"] + data - layout.origin;
    layout.regions[0].length = needed;
    link_ok(Arch::Riscv64, &layout);
    layout.regions[0].length = needed - 10;
    let error = link_err(Arch::Riscv64, &layout);
    assert_eq!(
        error.to_string(),
        format!(
            "the image needs {needed} bytes of flash ({} for code and read-only data, \
             {data} for the initial data) but riscv64-virt flash has {} from 0x80000000: \
             10 too many",
            needed - data,
            needed - 10
        )
    );
}

#[test]
fn inconsistent_layouts_are_errors() {
    let ram = |name: &str, origin: u64, length: u64| MemoryRegion {
        name: name.into(),
        origin,
        length,
        kind: RegionKind::Ram,
    };
    let flash = |name: &str, origin: u64, length: u64| MemoryRegion {
        kind: RegionKind::Flash,
        ..ram(name, origin, length)
    };
    let layout = |regions: Vec<MemoryRegion>, origin: u64| BareMetalLayout {
        regions,
        origin,
        stack_size: 4096,
        heap_size: 0,
        min_free: 0,
    };
    for (layout, message) in [
        (
            layout(vec![], 0x8000_0000),
            "the bare-metal layout has no memory regions",
        ),
        (
            layout(vec![ram("RAM", 0x8000_0000, MIB)], 0x4000_0000),
            "the image origin 0x40000000 is in no memory region",
        ),
        (
            layout(vec![ram("RAM", 0x8000_0000, 0)], 0x8000_0000),
            "memory region `RAM` is empty",
        ),
        (
            layout(
                vec![ram("low", 0x8000_0000, MIB), ram("high", 0x8008_0000, MIB)],
                0x8000_0000,
            ),
            "memory regions `low` and `high` overlap",
        ),
        (
            layout(vec![ram("top", u64::MAX - 10, 12)], u64::MAX - 10),
            "memory region `top` (0xc bytes from 0xfffffffffffffff5) runs past the end of \
             the address space",
        ),
        (
            layout(vec![flash("flash", 0x2000_0000, MIB)], 0x2000_0000),
            "the image starts in flash region `flash`, but no RAM region is given for its \
             data, stack and heap",
        ),
        (
            layout(vec![ram("RAM", 0x8000_0000, MIB)], 0x8000_0002),
            "the image origin 0x80000002 is not aligned to 0x4, as its code requires",
        ),
    ] {
        let error = link_err(Arch::Riscv64, &layout);
        assert_eq!(error.kind(), LinkErrorKind::InvalidOptions);
        assert_eq!(error.to_string(), message);
    }
    // A region exactly up to the end of the address space is fine.
    let top = layout(
        vec![ram("top", 0xffff_ffff_f000_0000, 0x1000_0000)],
        0xffff_ffff_f000_0000,
    );
    let image = link_ok(Arch::Riscv64, &top);
    // RV64 PC-relative code reaches the symbols from there too; the last byte's address
    // is 2^64 - 1 (`__wafer_ram_end` saturates).
    assert_eq!(symbols(&image)["__wafer_ram_end"], u64::MAX);
}

#[test]
fn the_entry_must_open_its_code_section() {
    let mut o = Obj::new(Architecture::Aarch64);
    let text = o.section_aligned(
        ".text",
        SectionKind::Text,
        &words(&[0xd503_201f, 0x1400_0000]),
        4,
    );
    o.define("_start", text, 4, false);
    let error = try_link(Arch::Aarch64, &AARCH64_VIRT.ram_layout(), &o.bytes()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "entry symbol `_start` is at offset 0x4 of app.o(.text); a bare-metal image is \
         entered at its first byte, so the entry must open its section"
    );
    let mut o = Obj::new(Architecture::Aarch64);
    let data = o.section(".data", SectionKind::Data, &[0; 8]);
    o.define("_start", data, 0, false);
    let error = try_link(Arch::Aarch64, &AARCH64_VIRT.ram_layout(), &o.bytes()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "entry symbol `_start` is in app.o(.data), which is not code; a bare-metal image \
         starts with its entry's code"
    );
}

#[test]
fn a_linux_executable_has_no_stack_or_ram_symbols() {
    let object = program(Arch::Aarch64);
    let inputs = [Input {
        name: "app.o",
        data: &object,
    }];
    let layout = Layout::LinuxExecutable(LinuxLayout::for_arch(Arch::Aarch64));
    let error = link(Arch::Aarch64, &layout, &inputs, &options()).unwrap_err();
    assert_eq!(error.kind(), LinkErrorKind::UndefinedSymbol);
    assert!(
        error
            .to_string()
            .starts_with("undefined symbol `__wafer_stack_"),
        "{error}"
    );
    assert_eq!(
        memory_report(&link_ok(Arch::Aarch64, &AARCH64_VIRT.ram_layout()))
            .unwrap()
            .map(|r| r.regions.len()),
        Some(1)
    );
}

#[test]
fn the_memory_report_accounts_for_every_byte() {
    for board in [AARCH64_VIRT, RISCV64_VIRT] {
        for (layout, flash) in [(board.ram_layout(), false), (board.flash_layout(), true)] {
            let image = link_ok(board.arch, &layout);
            let symbols = symbols(&image);
            let report = memory_report(&image).unwrap().expect("a memory map");
            assert_eq!(report.regions.len(), layout.regions.len());
            for (usage, region) in report.regions.iter().zip(&layout.regions) {
                assert_eq!(usage.name, region.name);
                assert_eq!(
                    (usage.origin, usage.length, usage.kind),
                    (region.origin, region.length, region.kind)
                );
                let total = usage.before_image
                    + usage.text
                    + usage.rodata
                    + usage.metadata
                    + usage.data
                    + usage.bss
                    + usage.stack
                    + usage.heap
                    + usage.free
                    + usage.padding;
                assert_eq!(total, usage.length, "{usage:#?}");
                assert!(usage.padding < 64, "{usage:#?}");
            }
            let code = &report.regions[0];
            let ram = report.regions.last().unwrap();
            assert_eq!(code.text, section(&image, ".text").1);
            assert_eq!(code.metadata, 10);
            assert_eq!(code.rodata, section(&image, ".rodata").1);
            let data_size = symbols["__wafer_data_end"] - symbols["__wafer_data_start"];
            assert_eq!(code.data, data_size, "the initial data");
            assert_eq!(ram.data, data_size);
            assert_eq!(
                ram.bss,
                symbols["__wafer_bss_end"] - symbols["__wafer_bss_start"]
            );
            assert_eq!(ram.stack, align16(layout.stack_size));
            assert_eq!(ram.heap, layout.heap_size);
            assert_eq!(
                ram.free,
                symbols["__wafer_ram_end"] - symbols["__wafer_free_start"]
            );
            if flash {
                assert_eq!(code.bss + code.stack + code.heap, 0);
                assert_eq!(ram.text + ram.rodata + ram.metadata, 0);
                assert_eq!(ram.before_image, 0);
            } else {
                assert_eq!(code.before_image, layout.origin - board.ram);
            }
        }
    }
    // Linux executables have no memory map.
    let object = defining_start_x86();
    let inputs = [Input {
        name: "app.o",
        data: &object,
    }];
    let layout = Layout::LinuxExecutable(LinuxLayout::for_arch(Arch::X86_64));
    let image = link(Arch::X86_64, &layout, &inputs, &options()).unwrap();
    assert_eq!(memory_report(&image).unwrap(), None);
    assert_eq!(
        memory_report(b"junk").unwrap_err().kind(),
        LinkErrorKind::Malformed
    );
}

fn defining_start_x86() -> Vec<u8> {
    let mut o = Obj::new(Architecture::X86_64);
    let text = o.section(".text", SectionKind::Text, &[0xc3]);
    o.define("_start", text, 0, false);
    o.bytes()
}

// Raw binary and Intel HEX.

/// Parses Intel HEX (types 00, 01, 02, 03, 04, 05), checking every checksum: the bytes
/// by address, and the start address (linear, or CS:IP made linear).
fn parse_ihex(text: &str) -> (BTreeMap<u64, u8>, Option<u64>) {
    let mut memory = BTreeMap::new();
    let mut base = 0u64;
    let mut start = None;
    let mut ended = false;
    for line in text.split_terminator('\n') {
        assert!(!ended, "records after the end-of-file record");
        let line = line.strip_suffix('\r').expect("CR LF line ends");
        let hex = line.strip_prefix(':').expect("a record starts with ':'");
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(
            bytes.iter().fold(0u8, |s, &b| s.wrapping_add(b)),
            0,
            "checksum of {line}"
        );
        let (count, address, kind) = (
            bytes[0] as usize,
            u16::from_be_bytes([bytes[1], bytes[2]]),
            bytes[3],
        );
        let data = &bytes[4..bytes.len() - 1];
        assert_eq!(data.len(), count, "{line}");
        match kind {
            0x00 => {
                for (i, &b) in data.iter().enumerate() {
                    let at = base + ((u64::from(address) + i as u64) & 0xffff);
                    assert!(memory.insert(at, b).is_none(), "{at:#x} written twice");
                }
            }
            0x01 => ended = true,
            0x02 => base = u64::from(u16::from_be_bytes([data[0], data[1]])) << 4,
            0x03 => {
                let cs = u64::from(u16::from_be_bytes([data[0], data[1]]));
                let ip = u64::from(u16::from_be_bytes([data[2], data[3]]));
                start = Some((cs << 4) + ip);
            }
            0x04 => base = u64::from(u16::from_be_bytes([data[0], data[1]])) << 16,
            0x05 => start = Some(u64::from(u32::from_be_bytes(data.try_into().unwrap()))),
            other => panic!("record type {other}"),
        }
    }
    assert!(ended, "no end-of-file record");
    (memory, start)
}

fn work_dir(test: &str) -> PathBuf {
    common::work_dir("wafer-link-baremetal", test)
}

/// `llvm-objcopy -O <format>` of `image`; `None` (after a notice) if it is not installed.
fn objcopy(image: &[u8], format: &str, dir: &Path) -> Option<Vec<u8>> {
    if !have("llvm-objcopy") {
        eprintln!("notice: llvm-objcopy not installed; not comparing with it");
        return None;
    }
    let input = dir.join("image.elf");
    let output = dir.join(format!("image.{format}"));
    std::fs::write(&input, image).unwrap();
    let status = Command::new("llvm-objcopy")
        .args(["-O", format])
        .arg(&input)
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success());
    Some(std::fs::read(output).unwrap())
}

/// The raw binary as memory, starting at `base`.
fn as_memory(binary: &[u8], base: u64) -> BTreeMap<u64, u8> {
    binary
        .iter()
        .enumerate()
        .map(|(i, &b)| (base + i as u64, b))
        .collect()
}

#[test]
fn raw_binaries_and_intel_hex_hold_the_loaded_bytes() {
    for board in [AARCH64_VIRT, RISCV64_VIRT] {
        for (layout, kind) in [(board.ram_layout(), "ram"), (board.flash_layout(), "flash")] {
            let image = link_ok(board.arch, &layout);
            let dir = work_dir(&format!("formats-{}-{kind}", board.name));
            let binary = to_binary(&image).unwrap();
            // Starts with the code, the entry first.
            let text = section(&image, ".text");
            assert_eq!(
                &binary[..text.1 as usize],
                &bytes_at(&image, text.0, text.1 as usize)[..]
            );
            if let Some(expected) = objcopy(&image, "binary", &dir) {
                assert!(expected == binary, "differs from llvm-objcopy -O binary");
            }

            let hex = to_ihex(&image).unwrap();
            let (memory, start) = parse_ihex(&hex);
            assert_eq!(start, Some(layout.origin));
            // The binary minus its gaps.
            let mut expected = as_memory(&binary, layout.origin);
            let phdrs = program_headers(&image);
            expected.retain(|&a, _| phdrs.iter().any(|p| a >= p.3 && a < p.3 + p.4));
            assert!(memory == expected, "Intel HEX holds other bytes");
            if let Some(theirs) = objcopy(&image, "ihex", &dir) {
                let theirs = String::from_utf8(theirs).unwrap();
                let (their_memory, their_start) = parse_ihex(&theirs);
                assert!(
                    their_memory == memory,
                    "llvm-objcopy -O ihex holds other bytes"
                );
                assert_eq!(their_start, start);
            }
        }
    }
}

/// An image of one code section at `origin`, `size` bytes of a counting pattern.
fn code_only(origin: u64, size: usize) -> Vec<u8> {
    let mut o = Obj::new(Architecture::Aarch64);
    let code: Vec<u8> = (0..size).map(|i| i as u8).collect();
    let text = o.section_aligned(".text", SectionKind::Text, &code, 4);
    o.define("_start", text, 0, false);
    let layout = BareMetalLayout {
        regions: vec![MemoryRegion {
            name: "RAM".into(),
            origin: origin & !0xffff_ffff,
            length: 1 << 32,
            kind: RegionKind::Ram,
        }],
        origin,
        stack_size: 0,
        heap_size: 0,
        min_free: 0,
    };
    try_link(Arch::Aarch64, &layout, &o.bytes()).unwrap()
}

#[test]
fn intel_hex_records_split_at_64_kib_and_match_llvm_objcopy() {
    // 40 bytes from 16 below a 64 KiB boundary: 16 bytes, then an 04 record, then 24.
    let image = code_only(0x4000_fff0, 40);
    let hex = to_ihex(&image).unwrap();
    assert_eq!(
        hex,
        ":020000044000BA\r\n\
         :10FFF000000102030405060708090A0B0C0D0E0F89\r\n\
         :020000044001B9\r\n\
         :10000000101112131415161718191A1B1C1D1E1F78\r\n\
         :080010002021222324252627CC\r\n\
         :040000054000FFF0C8\r\n\
         :00000001FF\r\n"
    );
    let dir = work_dir("ihex-boundary");
    if let Some(theirs) = objcopy(&image, "ihex", &dir) {
        assert_eq!(String::from_utf8(theirs).unwrap(), hex);
    }
    // Below 64 KiB no 04 record is needed; above 4 GiB Intel HEX cannot go.
    let low = to_ihex(&code_only(0x100, 4)).unwrap();
    assert_eq!(
        low,
        ":0401000000010203F5\r\n:0400000500000100F6\r\n:00000001FF\r\n"
    );
    let error = to_ihex(&code_only(0x1_0000_0000, 4)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the entry 0x100000000 is above 4 GiB, which Intel HEX cannot address"
    );
    assert_eq!(
        to_binary(&code_only(0x1_0000_0000, 4)).unwrap(),
        [0, 1, 2, 3]
    );
    assert_eq!(
        to_binary(b"junk").unwrap_err().kind(),
        LinkErrorKind::Malformed
    );
}

// Booting under QEMU.

/// Runs QEMU on `image` (a file) and returns its output and exit status; `None` if
/// QEMU is not installed.
fn boot(board: Board, image: &Path) -> Option<(String, i32)> {
    if !have(board.qemu[0]) {
        eprintln!("notice: {} not installed; not booting", board.qemu[0]);
        return None;
    }
    Some(run_with_timeout(
        Command::new(board.qemu[0])
            .args(&board.qemu[1..])
            .arg("-kernel")
            .arg(image),
    ))
}

fn boots(board: Board) {
    for (layout, kind) in [(board.ram_layout(), "ram"), (board.flash_layout(), "flash")] {
        let image = link_ok(board.arch, &layout);
        let dir = work_dir(&format!("boot-{}-{kind}", board.name));
        let elf = dir.join("image.elf");
        let bin = dir.join("image.bin");
        std::fs::write(&elf, &image).unwrap();
        std::fs::write(&bin, to_binary(&image).unwrap()).unwrap();
        for file in [&elf, &bin] {
            if let Some(result) = boot(board, file) {
                assert_eq!(
                    result,
                    (MESSAGE.to_owned(), EXIT_CODE),
                    "{} booting {file:?}",
                    board.name
                );
            }
        }
    }
}

#[test]
fn boots_on_aarch64_virt() {
    boots(AARCH64_VIRT);
}

#[test]
fn boots_on_riscv64_virt() {
    boots(RISCV64_VIRT);
}

/// Code in `.text` (with `_start` at 0) loading `__wafer_ram_end` through the GOT.
fn got_user(arch: Arch) -> Vec<u8> {
    let (machine, code, relocs): (_, &[u32], &[(u64, u32)]) = match arch {
        Arch::Aarch64 => (
            Architecture::Aarch64,
            &[
                0x9000_0000, // adrp x0, :got:__wafer_ram_end
                0xf940_0000, // ldr  x0, [x0, :got_lo12:__wafer_ram_end]
                0xd65f_03c0, // ret
            ],
            &[
                (0, elf::R_AARCH64_ADR_GOT_PAGE),
                (4, elf::R_AARCH64_LD64_GOT_LO12_NC),
            ],
        ),
        _ => (
            Architecture::Riscv64,
            &[
                0x0000_0517, // auipc a0, %got_pcrel_hi(__wafer_ram_end)
                0x0005_3503, // ld    a0, %pcrel_lo(a0)
                0x0000_8067, // ret
            ],
            &[(0, elf::R_RISCV_GOT_HI20)],
        ),
    };
    let mut o = Obj::new(machine);
    let text = o.section_aligned(".text", SectionKind::Text, &words(code), 4);
    o.define("_start", text, 0, false);
    let ram_end = o.undefined("__wafer_ram_end");
    for &(offset, r_type) in relocs {
        o.reloc(text, offset, ram_end, r_type, 0);
    }
    if arch == Arch::Riscv64 {
        let label = label(&mut o, 0, text, 0);
        o.reloc(text, 4, label, elf::R_RISCV_PCREL_LO12_I, 0);
    }
    o.bytes()
}

#[test]
fn linker_symbols_work_through_the_got() {
    for board in [AARCH64_VIRT, RISCV64_VIRT] {
        let layout = board.ram_layout();
        let image = try_link(board.arch, &layout, &got_user(board.arch)).unwrap();
        let (got, size) = section(&image, ".got");
        assert_eq!(size, 8);
        let ram_end = board.ram + 128 * MIB;
        assert_eq!(bytes_at(&image, got, 8), ram_end.to_le_bytes());
        let slot = match board.arch {
            Arch::Aarch64 => {
                let page = adrp_add_target(&image, layout.origin) & !0xfff;
                let ldr = u32_at(&image, layout.origin + 4);
                page + u64::from((ldr >> 10) & 0xfff) * 8
            }
            _ => auipc_addi_target(&image, layout.origin),
        };
        assert_eq!(slot, got, "{}", board.name);
        // `.got` is read-only data, after `.wafer` and before `.data`.
        let phdrs = program_headers(&image);
        assert!(
            phdrs
                .iter()
                .any(|p| p.6 == elf::PF_R && p.2 <= got && got + 8 <= p.2 + p.4)
        );
    }
}

#[test]
fn firmware_elves_always_have_section_headers() {
    let object = program(Arch::Riscv64);
    let inputs = [Input {
        name: "app.o",
        data: &object,
    }];
    let options = LinkOptions::new("_start");
    let layout = Layout::BareMetal(RISCV64_VIRT.ram_layout());
    let image = link(
        Arch::Riscv64,
        &layout,
        &inputs,
        &LinkOptions {
            section_headers: false,
            ..options
        },
    )
    .unwrap();
    let file = object::File::parse(&*image).unwrap();
    let wafer = file.section_by_name(wafer_link::WAFER_SECTION).unwrap();
    assert_eq!(wafer.data().unwrap(), b"DESCRIPTOR");
    assert!(file.section_by_name(".symtab").is_none());
    assert!(memory_report(&image).unwrap().is_some());
}

#[test]
fn readers_of_images_never_panic() {
    let image = link_ok(Arch::Aarch64, &AARCH64_VIRT.flash_layout());
    let read_all = |bytes: &[u8]| {
        let _ = memory_report(bytes);
        let _ = to_binary(bytes);
        let _ = to_ihex(bytes);
    };
    for len in 0..image.len() {
        read_all(&image[..len]);
    }
    // Deterministic corruption: one byte at a time, then a 64-bit field.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..6000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut bad = image.clone();
        let at = (state % bad.len() as u64) as usize;
        if round % 2 == 0 {
            bad[at] = (state >> 32) as u8;
        } else {
            let end = (at + 8).min(bad.len());
            bad[at..end].copy_from_slice(&state.to_le_bytes()[..end - at]);
        }
        read_all(&bad);
    }
}

#[test]
fn raw_binaries_refuse_far_apart_or_overlapping_segments() {
    let image = link_ok(Arch::Riscv64, &RISCV64_VIRT.ram_layout());
    let phdrs = program_headers(&image);
    assert_eq!(phdrs.len(), 3);
    // Program header fields are at 64 + 56 * index; p_paddr is at +24.
    let set_paddr = |image: &mut Vec<u8>, index: usize, paddr: u64| {
        let at = 64 + 56 * index + 24;
        image[at..at + 8].copy_from_slice(&paddr.to_le_bytes());
    };
    let mut far = image.clone();
    set_paddr(&mut far, 2, 0x8000_0000 + (1 << 30));
    let error = to_binary(&far).unwrap_err();
    assert_eq!(error.kind(), LinkErrorKind::Unsupported);
    assert!(
        error.to_string().starts_with(&format!(
            "a raw binary of this image would be {} bytes, from 0x80000000 to 0xc00000",
            (1u64 << 30) + phdrs[2].4
        )),
        "{error}"
    );
    // Intel HEX skips the gap.
    let (memory, _) = parse_ihex(&to_ihex(&far).unwrap());
    assert_eq!(memory.len() as u64, phdrs.iter().map(|p| p.4).sum::<u64>());

    let mut overlapping = image.clone();
    set_paddr(&mut overlapping, 2, phdrs[1].3 + 1);
    assert_eq!(
        to_binary(&overlapping).unwrap_err().to_string(),
        format!(
            "not a linked ELF image: the segments loaded at {:#x} and {:#x} overlap",
            phdrs[1].3,
            phdrs[1].3 + 1
        )
    );
}
