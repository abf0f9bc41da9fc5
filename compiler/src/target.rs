//! The target table: every target in `targets/`, with the runtime this `wafer` carries
//! for it.

use std::fmt;

use serde::Deserialize;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_targets.rs"));
}

/// Instruction set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// x86_64
    X86_64,
    /// AArch64
    Aarch64,
    /// RV64GC
    Riscv64,
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
            Arch::Riscv64 => "riscv64",
        })
    }
}

/// What kind of image a target produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// A static Linux executable.
    Linux,
    /// A bare-metal firmware image.
    Baremetal,
}

/// Layout parameters of a Linux executable.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ImageLayout {
    /// Load address of the first segment.
    pub base_address: u64,
    /// Segment alignment.
    pub page_size: u64,
}

/// A region of a board's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct MemoryRegion {
    /// First address.
    pub origin: u64,
    /// Size in bytes.
    pub length: u64,
}

/// What a board descriptor says about the board (`[board]` in its `target.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BoardInfo {
    /// The RAM the image is loaded into and runs from.
    pub ram: MemoryRegion,
    /// Flash the image may execute from, if the board has it.
    #[serde(default)]
    pub flash: Option<MemoryRegion>,
    /// The console device, for humans.
    pub console: String,
    /// The clocks, for humans.
    pub clock: String,
    /// The hardware random source, for humans.
    pub random: String,
    /// Whether the board has a hardware random source (otherwise a seeded generator).
    #[serde(default)]
    pub hardware_random: bool,
    /// Ways the board can end a program: `semihosting`, `halt`, `reset`.
    pub exit_methods: Vec<String>,
    /// The way used unless `--on-exit` says otherwise.
    pub default_exit: String,
    /// GPIO pins the board's runtime drives (0: none).
    #[serde(default)]
    pub gpio_pins: u32,
    /// The qemu-system command line that boots an image of this board (the image's path
    /// follows).
    #[serde(default)]
    pub qemu: Vec<String>,
    /// How `wafer flash` installs an image, for boards that boot from a FAT partition.
    #[serde(default)]
    pub boot_partition: Option<BootPartition>,
}

/// A board's boot partition (`[board.boot-partition]`): FAT, with the board's firmware,
/// which loads the kernel file as the configuration file says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BootPartition {
    /// The file the image is written to (`kernel8.img`).
    pub kernel: String,
    /// The image format the firmware loads: `bin` or `elf`.
    pub format: String,
    /// Files that must be there already (the firmware), or the partition is refused.
    pub firmware: Vec<String>,
    /// The configuration file the firmware reads (`config.txt`).
    pub config_file: String,
    /// The lines the configuration needs for the image.
    pub config: Vec<String>,
}

/// A target descriptor, as written in `targets/<name>/target.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Target {
    /// The `--target` name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Image kind.
    pub kind: TargetKind,
    /// Instruction set.
    pub arch: Arch,
    /// The Rust target triple the runtime is built for.
    pub runtime_triple: String,
    /// Accepted alternative names.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Extra rustc flags for building the runtime (read by build.rs).
    #[serde(default)]
    pub runtime_rustflags: Vec<String>,
    /// Image layout.
    pub image: ImageLayout,
    /// For a board: its memory map and devices.
    #[serde(default)]
    pub board: Option<BoardInfo>,
    /// The runtime archive carried in this `wafer`, if it was built.
    #[serde(skip)]
    pub runtime: Option<&'static [u8]>,
}

impl Target {
    /// The Cranelift triple for code generation.
    pub fn codegen_triple(&self) -> target_lexicon::Triple {
        let text = match self.arch {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Aarch64 => "aarch64-unknown-linux-gnu",
            Arch::Riscv64 => "riscv64gc-unknown-linux-gnu",
        };
        text.parse().expect("known triple")
    }
}

/// Every target this `wafer` knows, in name order.
pub fn all() -> Vec<Target> {
    embedded::EMBEDDED_TARGETS
        .iter()
        .map(|(text, runtime)| {
            let mut target: Target =
                toml::from_str(text).expect("target descriptors are checked at build time");
            target.runtime = *runtime;
            target
        })
        .collect()
}

/// The target for the machine wafer runs on, if it is one of ours.
pub fn host() -> Option<Target> {
    let arch = match std::env::consts::ARCH {
        "x86_64" => Arch::X86_64,
        "aarch64" => Arch::Aarch64,
        "riscv64" => Arch::Riscv64,
        _ => return None,
    };
    if std::env::consts::OS != "linux" {
        return None;
    }
    all()
        .into_iter()
        .find(|t| t.kind == TargetKind::Linux && t.arch == arch)
}

/// Looks a target up by name or alias.
pub fn find(name: &str) -> Result<Target, String> {
    let targets = all();
    if let Some(target) = targets
        .iter()
        .find(|t| t.name == name || t.aliases.iter().any(|a| a == name))
    {
        return Ok(target.clone());
    }
    let names: Vec<_> = targets.iter().map(|t| t.name.as_str()).collect();
    Err(format!(
        "unknown target `{name}` (known targets: {}; see `wafer targets`)",
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_parse_and_names_are_unique() {
        let targets = all();
        assert!(!targets.is_empty());
        let mut names: Vec<_> = targets
            .iter()
            .flat_map(|t| std::iter::once(&t.name).chain(&t.aliases))
            .collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "a target name or alias is used twice");
    }

    #[test]
    fn aliases_resolve_and_unknown_names_list_the_known_ones() {
        assert_eq!(
            find("x86_64-unknown-linux-gnu").unwrap().name,
            "x86_64-linux"
        );
        let err = find("pdp11").unwrap_err();
        assert!(err.contains("x86_64-linux"), "{err}");
    }
}
