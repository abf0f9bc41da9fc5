//! Helpers shared by the test files: relocatable objects built in memory.

#![allow(dead_code, reason = "each test file uses its own subset")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

/// Whether `tool --version` runs.
pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `command`, failing the test with its stderr if it fails.
pub fn run_tool(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The rust-lld of the Rust toolchain, if it has one.
pub fn rust_lld() -> Option<PathBuf> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let host = Command::new("rustc").arg("-vV").output().ok()?;
    let host = String::from_utf8(host.stdout).ok()?;
    let host = host
        .lines()
        .find_map(|l| l.strip_prefix("host: "))?
        .to_owned();
    let path = PathBuf::from(String::from_utf8(sysroot.stdout).ok()?.trim())
        .join("lib/rustlib")
        .join(host)
        .join("bin/rust-lld");
    path.exists().then_some(path)
}

/// Runs `command` (QEMU) and returns its stdout (without carriage returns) and exit
/// status; fails the test after 20 s, since a guest that never exits hangs QEMU.
pub fn run_with_timeout(command: &mut Command) -> (String, i32) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            let code = status
                .code()
                .unwrap_or_else(|| panic!("{command:?} was killed: {status:?}"));
            let stdout = String::from_utf8_lossy(&output.stdout).replace('\r', "");
            return (stdout, code);
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "{command:?} did not exit; output: {:?}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh directory for `test`'s files under the target's temporary directory.
pub fn work_dir(suite: &str, test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(suite)
        .join(test);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
