//! Bare-metal images compared with rust-lld: a freestanding C firmware and its boot
//! code (`tests/data/baremetal/`), compiled with clang for aarch64 and riscv64, linked
//! by wafer-link with a [`BareMetalLayout`] and by rust-lld with the linker script that
//! gives the same layout. The two must agree on every `__wafer_*` symbol, the entry and
//! the raw binary byte for byte, and, under `qemu-system`, boot to the same output
//! (which prints the symbols and a few addresses) and exit status; from the ELF and
//! from the raw binary, with everything in RAM and with the code in (pretend) flash.
//!
//! Missing tools make the test print a notice and pass: clang for everything, rust-lld
//! for the comparison, `qemu-system-*` for booting.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{have, run_tool, run_with_timeout, rust_lld};
use object::{Object as _, ObjectSymbol as _};
use wafer_link::{
    Arch, BareMetalLayout, Input, Layout, LinkOptions, MemoryRegion, RegionKind, link, to_binary,
};

const SOURCES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/baremetal");

#[derive(Clone, Copy)]
struct Board {
    arch: Arch,
    name: &'static str,
    clang: &'static [&'static str],
    rust_triple: &'static str,
    /// Start and size of RAM, and where raw binaries are loaded and entered.
    ram: (u64, u64),
    origin: u64,
    qemu: &'static [&'static str],
}

const AARCH64_VIRT: Board = Board {
    arch: Arch::Aarch64,
    name: "aarch64",
    // The MMU is off, so memory is Device memory: no unaligned accesses, and no FP.
    clang: &[
        "--target=aarch64-none-elf",
        "-mgeneral-regs-only",
        "-mstrict-align",
    ],
    rust_triple: "aarch64-unknown-none",
    ram: (0x4000_0000, 128 << 20),
    origin: 0x4008_0000,
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
    name: "riscv64",
    clang: &[
        "--target=riscv64-unknown-elf",
        "-march=rv64gc",
        "-mabi=lp64d",
        "-mcmodel=medany",
        "-mno-relax",
    ],
    rust_triple: "riscv64gc-unknown-none-elf",
    ram: (0x8000_0000, 128 << 20),
    origin: 0x8000_0000,
    qemu: &[
        "qemu-system-riscv64",
        "-machine",
        "virt",
        "-bios",
        "none",
        "-nographic",
    ],
};

const STACK_SIZE: u64 = 16 << 10;
const HEAP_SIZE: u64 = 0x123;

impl Board {
    /// Everything in RAM from the raw-binary origin; or, with `flash`, the first MiB
    /// from there as flash for the code.
    fn layout(&self, flash: bool) -> BareMetalLayout {
        let (ram, ram_size) = self.ram;
        let regions = if flash {
            let flash_size = 1 << 20;
            vec![
                MemoryRegion {
                    name: format!("{} flash", self.name),
                    origin: self.origin,
                    length: flash_size,
                    kind: RegionKind::Flash,
                },
                MemoryRegion {
                    name: format!("{} RAM", self.name),
                    origin: self.origin + flash_size,
                    length: ram + ram_size - (self.origin + flash_size),
                    kind: RegionKind::Ram,
                },
            ]
        } else {
            vec![MemoryRegion {
                name: format!("{} RAM", self.name),
                origin: ram,
                length: ram_size,
                kind: RegionKind::Ram,
            }]
        };
        BareMetalLayout {
            regions,
            origin: self.origin,
            stack_size: STACK_SIZE,
            heap_size: HEAP_SIZE,
            min_free: 1 << 20,
        }
    }
}

/// The GNU linker script that lays an image out as `layout` does.
fn linker_script(layout: &BareMetalLayout) -> String {
    let mut script = String::from("ENTRY(_start)\nMEMORY {\n");
    let region_name = |r: &MemoryRegion| match r.kind {
        RegionKind::Ram => "RAM",
        RegionKind::Flash => "FLASH",
    };
    for region in &layout.regions {
        let attributes = match region.kind {
            RegionKind::Ram => "rwx",
            RegionKind::Flash => "rx",
        };
        writeln!(
            script,
            "  {} ({attributes}) : ORIGIN = {:#x}, LENGTH = {:#x}",
            region_name(region),
            region.origin,
            region.length
        )
        .unwrap();
    }
    let flash = layout.regions.iter().any(|r| r.kind == RegionKind::Flash);
    let (code, data) = if flash {
        ("> FLASH", "> RAM AT> FLASH")
    } else {
        ("> RAM", "> RAM")
    };
    write!(
        script,
        "}}
SECTIONS {{
  .text {origin:#x} : {{ KEEP(*(.text.boot)) *(.text .text.*) }} {code} =0
  .rodata : {{ *(.rodata .rodata.* .srodata .srodata.*) }} {code}
  .wafer : {{ KEEP(*(.wafer.image)) KEEP(*(SORT_BY_NAME(.wafer.*))) }} {code}
  .got : {{ *(.got) }} {code}
  .data : ALIGN(16) {{
    *(.data .data.*)
    __global_pointer$ = . + 0x800;
    *(.sdata .sdata.*)
    . = ALIGN(16);
  }} {data}
  .bss (NOLOAD) : ALIGN(16) {{ *(.sbss .sbss.*) *(.bss .bss.*) *(COMMON) . = ALIGN(16); }} > RAM
  .stack (NOLOAD) : ALIGN(16) {{ . += {stack:#x}; }} > RAM
  .heap (NOLOAD) : {{ . += {heap:#x}; }} > RAM
  __wafer_image_start = ADDR(.text);
  __wafer_data_load = LOADADDR(.data);
  __wafer_data_start = ADDR(.data);
  __wafer_data_end = ADDR(.data) + SIZEOF(.data);
  __wafer_bss_start = ADDR(.bss);
  __wafer_bss_end = ADDR(.bss) + SIZEOF(.bss);
  __wafer_stack_bottom = ADDR(.stack);
  __wafer_stack_top = ADDR(.stack) + SIZEOF(.stack);
  __wafer_heap_start = ADDR(.heap);
  __wafer_heap_end = ADDR(.heap) + SIZEOF(.heap);
  __wafer_free_start = ALIGN(__wafer_heap_end, 16);
  __wafer_ram_end = ORIGIN(RAM) + LENGTH(RAM);
  /DISCARD/ : {{ *(.eh_frame*) *(.comment) *(.note*) }}
}}
",
        origin = layout.origin,
        stack = layout.stack_size.next_multiple_of(16),
        heap = layout.heap_size,
    )
    .unwrap();
    script
}

/// Compiles (or assembles) `source` from [`SOURCES`] for `board` into `dir`.
fn compile(board: &Board, dir: &Path, source: &str) -> PathBuf {
    let out = dir.join(format!("{source}.o"));
    run_tool(
        Command::new("clang")
            .args(board.clang)
            .args([
                "-ffreestanding",
                "-O2",
                "-fno-pic",
                "-fno-stack-protector",
                "-fno-asynchronous-unwind-tables",
                "-ffunction-sections",
                "-fdata-sections",
                "-c",
            ])
            .arg(Path::new(SOURCES).join(source))
            .arg("-o")
            .arg(&out),
    );
    out
}

/// The global symbols of an ELF image and their values.
fn symbols(image: &[u8]) -> BTreeMap<String, u64> {
    let file = object::File::parse(image).unwrap();
    file.symbols()
        .filter(|s| s.is_global())
        .map(|s| (s.name().unwrap().to_owned(), s.address()))
        .collect()
}

/// Boots `image` under QEMU; `None` if QEMU is not installed.
fn boot(board: &Board, image: &Path) -> Option<(String, i32)> {
    if !have(board.qemu[0]) {
        return None;
    }
    Some(run_with_timeout(
        Command::new(board.qemu[0])
            .args(&board.qemu[1..])
            .arg("-kernel")
            .arg(image),
    ))
}

/// Builds `firmware.rs` into a staticlib in `dir`; `None` (after a notice) if the
/// board's Rust target is not installed.
fn rust_staticlib(board: &Board, dir: &Path) -> Option<PathBuf> {
    let archive = dir.join("libfirmware.a");
    let output = Command::new("rustc")
        .args(["--edition", "2024", "--crate-type", "staticlib"])
        .args(["--crate-name", "firmware", "--target", board.rust_triple])
        .args(["-C", "panic=abort", "-C", "opt-level=s", "-C", "lto=fat"])
        .args(["-C", "codegen-units=1", "-o"])
        .arg(&archive)
        .arg(Path::new(SOURCES).join("firmware.rs"))
        .output()
        .unwrap();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("can't find crate for `core`") {
            eprintln!(
                "notice: the {} Rust target is not installed; skipping",
                board.rust_triple
            );
            return None;
        }
        panic!("rustc failed:\n{stderr}");
    }
    Some(archive)
}

/// The firmware to build: the C one with its assembly boot code, or the Rust one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Firmware {
    C,
    Rust,
}

fn compare(board: Board, firmware: Firmware, flash: bool) {
    let kind = if flash { "flash" } else { "ram" };
    let language = if firmware == Firmware::C { "c" } else { "rust" };
    let dir = common::work_dir(
        "wafer-link-baremetal-lld",
        &format!("{}-{language}-{kind}", board.name),
    );
    let files = match firmware {
        Firmware::C if !have("clang") => {
            eprintln!("notice: clang not installed; skipping");
            return;
        }
        Firmware::C => vec![
            compile(&board, &dir, &format!("boot-{}.S", board.name)),
            compile(&board, &dir, "firmware.c"),
        ],
        Firmware::Rust => match rust_staticlib(&board, &dir) {
            Some(archive) => vec![archive],
            None => return,
        },
    };
    let contents: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(f).unwrap())
        })
        .collect();
    let inputs: Vec<Input<'_>> = contents
        .iter()
        .map(|(name, data)| Input { name, data })
        .collect();
    let layout = board.layout(flash);
    let options = LinkOptions {
        entry: "_start".into(),
        keep_symbols: true,
        section_headers: true,
        keep_debug: false,
    };
    let ours = link(
        board.arch,
        &Layout::BareMetal(layout.clone()),
        &inputs,
        &options,
    )
    .unwrap_or_else(|e| panic!("link failed: {e}"));
    let ours_elf = dir.join("wafer.elf");
    let ours_bin = dir.join("wafer.bin");
    std::fs::write(&ours_elf, &ours).unwrap();
    let binary = to_binary(&ours).unwrap();
    std::fs::write(&ours_bin, &binary).unwrap();

    let ours_run = boot(&board, &ours_elf);
    if let Some(run) = &ours_run {
        assert_eq!(run.1, 0, "the firmware failed:\n{}", run.0);
        let last_line = match firmware {
            Firmware::C => "ok\n",
            Firmware::Rust => "counter=7 zeroed=true on_stack=true\n",
        };
        assert!(run.0.ends_with(last_line), "{}", run.0);
        assert_eq!(
            boot(&board, &ours_bin).as_ref(),
            Some(run),
            "the raw binary boots differently"
        );
    } else {
        eprintln!("notice: {} not installed; not booting", board.qemu[0]);
    }

    let Some(lld) = rust_lld() else {
        eprintln!("notice: rust-lld not found; skipping the comparison");
        return;
    };
    let script = dir.join("image.ld");
    std::fs::write(&script, linker_script(&layout)).unwrap();
    let lld_elf = dir.join("lld.elf");
    let mut command = Command::new(lld);
    command
        // wafer-link merges no strings (lld would, in hash order) and relaxes no
        // instructions (lld turns ADRP + ADD into NOP + ADR, and shortens RV64 calls).
        .args([
            "-flavor",
            "gnu",
            "-static",
            "--gc-sections",
            "-O0",
            "--no-relax",
        ])
        .arg("-T")
        .arg(&script)
        .args(&files)
        .arg("-o")
        .arg(&lld_elf);
    run_tool(&mut command);
    let theirs = std::fs::read(&lld_elf).unwrap();

    let (ours_symbols, their_symbols) = (symbols(&ours), symbols(&theirs));
    let mut compared = 0;
    for (name, value) in &their_symbols {
        // On AArch64 the script defines a `__global_pointer$` nothing uses.
        let global_pointer = name == "__global_pointer$" && board.arch == Arch::Riscv64;
        let from_c = ["main", "operations", "names", "buffer", "small"].contains(&name.as_str());
        if name.starts_with("__wafer_") || global_pointer || name == "_start" || from_c {
            assert_eq!(
                ours_symbols.get(name),
                Some(value),
                "{name}: rust-lld says {value:#x}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 13, "only {compared} symbols compared");
    let entry = |image: &[u8]| object::File::parse(image).unwrap().entry();
    assert_eq!(entry(&ours), entry(&theirs));
    assert_eq!(entry(&ours), layout.origin);

    // llvm-objcopy's raw binary of lld's image, else ours of it.
    let their_binary = if have("llvm-objcopy") {
        let bin = dir.join("lld.bin");
        run_tool(
            Command::new("llvm-objcopy")
                .args(["-O", "binary"])
                .arg(&lld_elf)
                .arg(&bin),
        );
        std::fs::read(bin).unwrap()
    } else {
        to_binary(&theirs).unwrap()
    };
    if let Some(at) =
        (0..binary.len().max(their_binary.len())).find(|&i| binary.get(i) != their_binary.get(i))
    {
        panic!(
            "the raw binaries differ at offset {at:#x} (address {:#x}); sizes {:#x} and {:#x}",
            layout.origin + at as u64,
            binary.len(),
            their_binary.len()
        );
    }
    if let Some(run) = ours_run {
        assert_eq!(
            boot(&board, &lld_elf),
            Some(run),
            "rust-lld's image boots differently"
        );
    }
}

#[test]
fn c_aarch64_in_ram() {
    compare(AARCH64_VIRT, Firmware::C, false);
}

#[test]
fn c_aarch64_in_flash() {
    compare(AARCH64_VIRT, Firmware::C, true);
}

#[test]
fn c_riscv64_in_ram() {
    compare(RISCV64_VIRT, Firmware::C, false);
}

#[test]
fn c_riscv64_in_flash() {
    compare(RISCV64_VIRT, Firmware::C, true);
}

#[test]
fn rust_aarch64_in_ram() {
    compare(AARCH64_VIRT, Firmware::Rust, false);
}

#[test]
fn rust_aarch64_in_flash() {
    compare(AARCH64_VIRT, Firmware::Rust, true);
}

#[test]
fn rust_riscv64_in_ram() {
    compare(RISCV64_VIRT, Firmware::Rust, false);
}

#[test]
fn rust_riscv64_in_flash() {
    compare(RISCV64_VIRT, Firmware::Rust, true);
}
