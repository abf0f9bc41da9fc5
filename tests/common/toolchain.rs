//! Building real guests from source: C with clang + wasi-libc and Rust for
//! `wasm32-wasip1` (modules) or `wasm32-wasip2` (components), cached by a hash of the
//! toolchain version, flags and source; and running them, in parallel, with stdin.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::Outcome;

pub const CLANG_HINT: &str = "install clang, lld, wasi-libc and the wasm32 compiler-rt \
     (Debian: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)";
pub const RUST_HINT: &str = "install the Rust wasm32-wasip1 and wasm32-wasip2 targets \
     (rustup target add wasm32-wasip1 wasm32-wasip2)";

/// The Rust target of modules (WASI preview1).
pub const WASIP1: &str = "wasm32-wasip1";
/// The Rust target of components (WASI 0.2).
pub const WASIP2: &str = "wasm32-wasip2";

/// FNV-1a, stable across Rust versions (unlike `DefaultHasher`), for cache keys.
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    parts.iter().fold(0xcbf2_9ce4_8422_2325, |hash, part| {
        part.iter().chain(&[0xff]).fold(hash, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    })
}

/// A compiler for one source language: its command and a version string for the cache.
struct Toolchain {
    program: &'static str,
    flags: Vec<String>,
    version: String,
}

/// The toolchain for `source` (Rust sources build for `rust_target`), or what to install.
fn toolchain(source: &str, rust_target: &str) -> Result<Toolchain, String> {
    if source.ends_with(".c") {
        super::which("clang").ok_or(format!("clang is not on PATH: {CLANG_HINT}"))?;
        let version = Command::new("clang").arg("--version").output();
        Ok(Toolchain {
            program: "clang",
            flags: ["--target=wasm32-wasi", "-O2", "-Wall", "-Wextra"]
                .map(String::from)
                .to_vec(),
            version: version.map_or(String::new(), |o| String::from_utf8_lossy(&o.stdout).into()),
        })
    } else {
        let version = Command::new("rustc")
            .arg("-vV")
            .output()
            .map_err(|e| format!("cannot run rustc ({e}): {RUST_HINT}"))?;
        let libdir = Command::new("rustc")
            .args(["--print", "target-libdir", "--target", rust_target])
            .output()
            .map_err(|e| format!("cannot run rustc ({e}): {RUST_HINT}"))?;
        let libdir = String::from_utf8_lossy(&libdir.stdout).trim().to_string();
        if libdir.is_empty() || !Path::new(&libdir).is_dir() {
            return Err(format!("no {rust_target} standard library: {RUST_HINT}"));
        }
        // As `cargo build --release` does: optimise, strip DWARF, keep the name section.
        Ok(Toolchain {
            program: "rustc",
            flags: vec![
                "--edition=2021".to_string(),
                format!("--target={rust_target}"),
                "-O".to_string(),
                "-Cstrip=debuginfo".to_string(),
            ],
            version: String::from_utf8_lossy(&version.stdout).into(),
        })
    }
}

/// Compiles `source` (`LANG/STEM.EXT` under `root`) to `dir/LANG_STEM.wasm`, through
/// the cache; Rust for `wasm32-wasip1`.
pub fn compile(root: &Path, source: &str, dir: &Path) -> Result<PathBuf, String> {
    compile_for(root, source, dir, WASIP1)
}

/// [`compile`], with Rust sources built for `rust_target`.
pub fn compile_for(
    root: &Path,
    source: &str,
    dir: &Path,
    rust_target: &str,
) -> Result<PathBuf, String> {
    if source.ends_with(".wat") {
        // The text format needs no toolchain: wafer's own parser.
        let path = root.join(source);
        let wasm = wat::parse_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let stem = Path::new(source).file_stem().unwrap().to_string_lossy();
        let out = dir.join(format!("wat_{stem}.wasm"));
        std::fs::write(&out, wasm).map_err(|e| format!("{}: {e}", out.display()))?;
        return Ok(out);
    }
    let toolchain = toolchain(source, rust_target)?;
    let path = root.join(source);
    let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let flags = toolchain.flags.join(" ");
    let key = fnv1a(&[toolchain.version.as_bytes(), flags.as_bytes(), &text]);
    let stem = source.rsplit_once('.').unwrap().0.replace('/', "_");
    let cache = super::repo().join("target").join("guests-cache");
    let cached = cache.join(format!("{stem}-{key:016x}.wasm"));
    let wasm = dir.join(format!("{stem}.wasm"));
    if cached.is_file() {
        std::fs::copy(&cached, &wasm).expect("copy cached wasm");
    } else {
        // Run from the source's folder with a bare file name, so that paths the compiler
        // records (panic locations) do not depend on where the repository lives.
        let output = Command::new(toolchain.program)
            .current_dir(path.parent().unwrap())
            .args(&toolchain.flags)
            .arg(path.file_name().unwrap())
            .arg("-o")
            .arg(&wasm)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", toolchain.program))?;
        if !output.status.success() {
            let hint = if source.ends_with(".c") {
                CLANG_HINT
            } else {
                RUST_HINT
            };
            return Err(format!(
                "{source}: {} failed (if the toolchain is incomplete: {hint}):\n{}",
                toolchain.program,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        std::fs::create_dir_all(&cache).expect("create guests-cache");
        // Copy under a temporary name then rename, so parallel test runs never see half a file.
        let partial = cache.join(format!("{stem}-{key:016x}.{}.tmp", std::process::id()));
        std::fs::copy(&wasm, &partial).expect("fill cache");
        std::fs::rename(&partial, &cached).expect("fill cache");
    }
    Ok(wasm)
}

/// Compiles every distinct source in `sources` (under `root`) in parallel; panics with
/// what to install if a toolchain is missing. Returns the `.wasm` of each source.
pub fn compile_all(root: &Path, sources: &[&str], dir: &Path) -> Vec<(String, PathBuf)> {
    compile_all_for(root, sources, dir, WASIP1)
}

/// [`compile_all`], with Rust sources built for `rust_target`.
pub fn compile_all_for(
    root: &Path,
    sources: &[&str],
    dir: &Path,
    rust_target: &str,
) -> Vec<(String, PathBuf)> {
    let mut sources = sources.to_vec();
    sources.sort_unstable();
    sources.dedup();
    let compiled: Vec<(&str, Result<PathBuf, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = sources
            .iter()
            .map(|&source| {
                (
                    source,
                    scope.spawn(move || compile_for(root, source, dir, rust_target)),
                )
            })
            .collect();
        handles
            .into_iter()
            .map(|(source, handle)| (source, handle.join().expect("compiler thread")))
            .collect()
    });
    let mut problems: Vec<&str> = compiled
        .iter()
        .filter_map(|(_, result)| result.as_ref().err().map(String::as_str))
        .collect();
    problems.sort_unstable();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "cannot build the guests:\n{}",
        problems.join("\n")
    );
    compiled
        .into_iter()
        .map(|(source, result)| (source.to_string(), result.unwrap()))
        .collect()
}

/// Runs `check` on every job, spread over the machine's cores; returns every failure.
pub fn run_parallel<J: Sync>(jobs: &[J], check: impl Fn(&J) -> Vec<String> + Sync) -> Vec<String> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let check = &check;
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(jobs.len().div_ceil(workers))
            .map(|chunk| scope.spawn(move || chunk.iter().flat_map(check).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("worker"))
            .collect()
    })
}

/// Runs `command` with stdin fed from `input` (or closed).
pub fn run_with_stdin(command: &mut Command, input: Option<&[u8]>) -> Outcome {
    let Some(input) = input else {
        return super::run_command(command);
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    std::thread::scope(|scope| {
        // A guest may exit without reading everything; a broken pipe is its business.
        scope.spawn(move || drop(stdin.write_all(input)));
        child.wait_with_output().expect("wait for guest").into()
    })
}

/// Builds the wit-bindgen async guest `tests/components/rust-async/NAME` for
/// `wasm32-wasip2` (its crates fetched by cargo); returns the component `ARTIFACT.wasm`.
pub fn build_rust_async_guest(name: &str, artifact: &str) -> PathBuf {
    let source = super::tests_dir().join("components/rust-async").join(name);
    let target_dir = super::repo().join("target").join("rust-async");
    let output = Command::new("cargo")
        .current_dir(&source)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir)
        .output()
        .expect("run cargo");
    assert!(
        output.status.success(),
        "cargo build of the {name} guest: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        RUST_HINT
    );
    target_dir.join(format!("wasm32-wasip2/release/{artifact}.wasm"))
}
