//! The benchmark programs and the four ways each is run: built natively (`gcc -O2
//! -static`, `rustc -O` with a static C runtime), and from the same `.wasm` by wafer,
//! by wasmtime (a precompiled `.cwasm`) and by wasm2c + `gcc -O2 -static`.
//!
//! Slow, deterministic steps (native, wasm, wasm2c) are cached under `target/bench/`
//! by a hash of the tool versions, the command and the inputs; `wafer build` and
//! `wasmtime compile` run every time, since those tools are what is measured.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::measure::{Cmd, build_step, describe};
use crate::tools::{Tools, WASM2C_RUNTIME_DIR};

/// How wafer is told to generate code: for this machine's CPU, as wasmtime does by
/// default, so the two Cranelift-based runners see the same instruction set.
pub const WAFER_CPU_FLAGS: [&str; 2] = ["--target-cpu", "native"];

/// One way of running a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runner {
    Native,
    Wafer,
    Wasmtime,
    Wasm2c,
}

impl Runner {
    pub const ALL: [Runner; 4] = [
        Runner::Native,
        Runner::Wafer,
        Runner::Wasmtime,
        Runner::Wasm2c,
    ];

    /// The column label (wasmtime's carries its version).
    pub fn label(self, tools: &Tools) -> String {
        match self {
            Runner::Native => "native".into(),
            Runner::Wafer => "wafer".into(),
            Runner::Wasmtime => tools.wasmtime_label(),
            Runner::Wasm2c => "wasm2c".into(),
        }
    }
}

/// The source language of a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    C,
    Rust,
    /// The CPython workload (`benches/python/`): run by interpreters, never built here,
    /// and measured in its own section, outside the speed geomeans.
    Python,
}

/// A benchmark program: `c/NAME.c` or `rust/NAME.rs` under `benches/programs/`.
#[derive(Clone, Debug)]
pub struct Program {
    /// `c/nbody`, `rust/collections`, ..., with [`SIMD_SUFFIX`] for a SIMD build.
    pub name: String,
    pub lang: Lang,
    pub source: PathBuf,
    /// Built to wasm with the SIMD proposal enabled (`-msimd128`,
    /// `-Ctarget-feature=+simd128`), so LLVM vectorises as gcc does with SSE2 natively.
    pub simd: bool,
}

/// The name suffix of a program's SIMD build.
pub const SIMD_SUFFIX: &str = "+simd";

impl Program {
    /// The startup and size probe (`hello.c`, `hello.rs`) rather than a speed benchmark.
    pub fn is_hello(&self) -> bool {
        self.name.ends_with("/hello")
    }
}

/// Every program under `dir` (`c/*.c`, `rust/*.rs`), C first, each sorted by name; then
/// the SIMD build of each but the hello probes.
pub fn discover(dir: &Path) -> Result<Vec<Program>, String> {
    let scalar = discover_sources(dir)?;
    let simd: Vec<Program> = scalar
        .iter()
        .filter(|p| !p.is_hello())
        .map(|p| Program {
            name: format!("{}{SIMD_SUFFIX}", p.name),
            simd: true,
            ..p.clone()
        })
        .collect();
    Ok(scalar.into_iter().chain(simd).collect())
}

fn discover_sources(dir: &Path) -> Result<Vec<Program>, String> {
    let mut programs = Vec::new();
    for (sub, ext, lang) in [("c", "c", Lang::C), ("rust", "rs", Lang::Rust)] {
        let folder = dir.join(sub);
        let entries =
            std::fs::read_dir(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        let mut found: Vec<Program> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .map(|source| Program {
                name: format!(
                    "{sub}/{}",
                    source.file_stem().unwrap_or_default().to_string_lossy()
                ),
                lang,
                source,
                simd: false,
            })
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        programs.extend(found);
    }
    Ok(programs)
}

/// What a runner executes for one program: the file (for sizes) and the command.
#[derive(Clone, Debug)]
pub struct Artifact {
    pub file: PathBuf,
    pub cmd: Cmd,
}

/// A program built for every runner (or why not).
#[derive(Debug)]
pub struct Built {
    pub program: Program,
    pub wasm: Result<PathBuf, String>,
    /// Caveats about how it was built (a dynamically linked native fallback).
    pub notes: Vec<String>,
    /// What each runner runs, or why it could not be built; a runner left out is not
    /// used on this program at all.
    pub artifacts: Vec<(Runner, Result<Artifact, String>)>,
}

impl Built {
    pub fn artifact(&self, runner: Runner) -> Result<&Artifact, &str> {
        self.artifacts
            .iter()
            .find(|(r, _)| *r == runner)
            .map_or(Err("not built"), |(_, a)| {
                a.as_ref().map_err(String::as_str)
            })
    }
}

/// FNV-1a over `parts` (each followed by a separator), for cache keys.
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    parts.iter().fold(0xcbf2_9ce4_8422_2325, |hash, part| {
        part.iter().chain(&[0xff]).fold(hash, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    })
}

/// Runs `cmd` to produce `out` unless `out` was already built from the same `inputs`
/// (files) and command line, per the key stored next to it.
fn cached(cmd: &mut Command, out: &Path, inputs: &[&Path], versions: &str) -> Result<(), String> {
    let mut contents = Vec::new();
    for input in inputs {
        contents.push(std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?);
    }
    let line = describe(cmd);
    let mut parts: Vec<&[u8]> = vec![versions.as_bytes(), line.as_bytes()];
    parts.extend(contents.iter().map(Vec::as_slice));
    let key = format!("{:016x}", fnv1a(&parts));
    let stamp = PathBuf::from(format!("{}.key", out.display()));
    if out.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|k| k == key) {
        return Ok(());
    }
    let _ = std::fs::remove_file(&stamp);
    build_step(cmd)?;
    std::fs::write(&stamp, key).map_err(|e| format!("{}: {e}", stamp.display()))
}

/// Builds every program for every runner, in parallel over the machine's cores.
pub fn build_all(
    programs: &[Program],
    tools: &Tools,
    work: &Path,
    shim: &Path,
) -> Result<Vec<Built>, String> {
    let versions = tools
        .versions
        .iter()
        .map(|(name, version)| format!("{name}={version}"))
        .collect::<Vec<_>>()
        .join(";");
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let workers = crate::tools::cores().min(programs.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(program) = programs.get(i) else {
                        break;
                    };
                    let built = build(program, tools, work, shim, &versions);
                    results.lock().unwrap().push((i, built));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, built)| built).collect()
}

/// Why a Python program has no native or wasm build of its own.
const NOT_BUILT: &str = "a Python script is run by an interpreter, not built";

/// Builds one program for every runner.
fn build(
    program: &Program,
    tools: &Tools,
    work: &Path,
    shim: &Path,
    versions: &str,
) -> Result<Built, String> {
    eprintln!("wafer-bench: building {}", program.name);
    let dir = work.join("build").join(&program.name);
    std::fs::create_dir_all(dir.join("wasm2c")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let source = &program.source;
    let mut notes = Vec::new();
    let native = dir.join("native");
    let wasm = dir.join("prog.wasm");

    let native_result = match program.lang {
        Lang::Python => Err(NOT_BUILT.to_string()),
        Lang::C => cached(
            Command::new("gcc")
                .args(["-O2", "-static"])
                .arg(source)
                .arg("-o")
                .arg(&native)
                .arg("-lm"),
            &native,
            &[source],
            versions,
        ),
        Lang::Rust => {
            let rustc = |flags: &[&str]| {
                cached(
                    Command::new("rustc")
                        .args(["--edition=2024", "-O"])
                        .args(flags)
                        .arg(source)
                        .arg("-o")
                        .arg(&native),
                    &native,
                    &[source],
                    versions,
                )
            };
            // Static where the host's C library allows it (glibc: libc6-dev's libc.a).
            rustc(&["-Ctarget-feature=+crt-static"]).or_else(|e| {
                let dynamic = rustc(&[]);
                if dynamic.is_ok() {
                    notes.push(format!(
                        "{}: native Rust build is dynamically linked (crt-static failed: {})",
                        program.name,
                        e.lines().next().unwrap_or_default()
                    ));
                }
                dynamic
            })
        }
    }
    .map(|()| Artifact {
        file: native.clone(),
        cmd: Cmd::new([&native]),
    });

    let wasm_result = build_wasm(program, &wasm, versions);

    let from_wasm = |build: &dyn Fn(&Path) -> Result<Artifact, String>| match &wasm_result {
        Ok(wasm) => build(wasm),
        Err(e) => Err(format!("no wasm: {e}")),
    };
    let wafer = from_wasm(&|wasm| {
        let exe = dir.join("prog.wafer");
        build_step(
            Command::new(&tools.wafer)
                .arg("build")
                .args(WAFER_CPU_FLAGS)
                .arg(wasm)
                .arg("-o")
                .arg(&exe),
        )?;
        Ok(Artifact {
            file: exe.clone(),
            cmd: Cmd::new([&exe]),
        })
    });
    let wasmtime = from_wasm(&|wasm| {
        let cwasm = dir.join("prog.cwasm");
        build_step(
            Command::new(&tools.wasmtime)
                .arg("compile")
                .arg(wasm)
                .arg("-o")
                .arg(&cwasm),
        )?;
        Ok(Artifact {
            file: cwasm.clone(),
            cmd: Cmd::new([
                tools.wasmtime.as_os_str(),
                "run".as_ref(),
                "--allow-precompiled".as_ref(),
                cwasm.as_os_str(),
            ]),
        })
    });
    // wabt 1.0.32's wasm2c aborts on SIMD modules, so SIMD builds go without it.
    let wasm2c = (!program.simd).then(|| {
        from_wasm(&|wasm| {
            let c = dir.join("wasm2c").join("prog.c");
            let exe = dir.join("prog.wasm2c");
            cached(
                Command::new("wasm2c")
                    .arg(wasm)
                    .args(["--module-name", "prog", "-o"])
                    .arg(&c),
                &c,
                &[wasm],
                versions,
            )?;
            let runtime = Path::new(WASM2C_RUNTIME_DIR);
            cached(
                Command::new("gcc")
                    .args(["-O2", "-static", "-I"])
                    .arg(dir.join("wasm2c"))
                    .arg("-I")
                    .arg(runtime)
                    .arg(shim)
                    .arg(&c)
                    .arg(runtime.join("wasm-rt-impl.c"))
                    .arg("-o")
                    .arg(&exe)
                    .arg("-lm"),
                &exe,
                &[&c, &dir.join("wasm2c").join("prog.h"), shim],
                versions,
            )?;
            Ok(Artifact {
                file: exe.clone(),
                cmd: Cmd::new([&exe]),
            })
        })
    });

    Ok(Built {
        program: program.clone(),
        wasm: wasm_result,
        notes,
        artifacts: [
            (Runner::Native, native_result),
            (Runner::Wafer, wafer),
            (Runner::Wasmtime, wasmtime),
        ]
        .into_iter()
        .chain(wasm2c.map(|wasm2c| (Runner::Wasm2c, wasm2c)))
        .collect(),
    })
}

/// Builds `program` to wasm at `wasm` (cached; `versions` names the tools, for the cache
/// key).
pub fn build_wasm(program: &Program, wasm: &Path, versions: &str) -> Result<PathBuf, String> {
    let source = &program.source;
    match program.lang {
        Lang::Python => Err(NOT_BUILT.to_string()),
        Lang::C => cached(
            Command::new("clang")
                .args(["--target=wasm32-wasi", "-O2"])
                .args(program.simd.then_some("-msimd128"))
                .arg(source)
                .arg("-o")
                .arg(wasm),
            wasm,
            &[source],
            versions,
        ),
        Lang::Rust => cached(
            Command::new("rustc")
                .args([
                    "--edition=2024",
                    "--target=wasm32-wasip1",
                    "-O",
                    "-Cstrip=debuginfo",
                ])
                .args(program.simd.then_some("-Ctarget-feature=+simd128"))
                .arg(source)
                .arg("-o")
                .arg(wasm),
            wasm,
            &[source],
            versions,
        ),
    }
    .map(|()| wasm.to_path_buf())
}

/// A wasm module's size and its code section's size, in bytes.
pub fn wasm_sizes(wasm: &[u8]) -> Option<(usize, usize)> {
    fn leb(bytes: &[u8], at: &mut usize) -> Option<usize> {
        let mut value = 0usize;
        for shift in (0..35).step_by(7) {
            let byte = *bytes.get(*at)?;
            *at += 1;
            value |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    if wasm.get(..4)? != b"\0asm" {
        return None;
    }
    let mut at = 8;
    let mut code = 0;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = leb(wasm, &mut at)?;
        if id == 10 {
            code = size;
        }
        at = at.checked_add(size)?;
    }
    Some((wasm.len(), code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasm_section_sizes() {
        // Magic, version, then a type section (id 1, 4 bytes) and a code section (id 10,
        // 2 bytes).
        let module = [
            0, b'a', b's', b'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 10, 2, 0, 0,
        ];
        assert_eq!(wasm_sizes(&module), Some((module.len(), 2)));
        assert_eq!(wasm_sizes(b"not wasm"), None);
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(&[]), 0xcbf2_9ce4_8422_2325);
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
    }
}
