//! End-to-end: compile freestanding C (and a `no_std` Rust staticlib) with clang/rustc,
//! link with wafer-link and, as an oracle, with rust-lld; run both (natively on an
//! x86_64 host, under qemu-user otherwise) and compare stdout and exit status.
//!
//! Tools that are missing make the affected test print a notice and pass: clang for
//! everything, `qemu-aarch64`/`qemu-riscv64` for running foreign code, rust-lld for the
//! comparison.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{have, run_tool, rust_lld};
use object::{Object, ObjectSection, ObjectSymbol};
use wafer_link::{Arch, Input, Layout, LinkOptions, LinuxLayout, link};

mod common;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

#[derive(Clone, Copy)]
struct Target {
    arch: Arch,
    name: &'static str,
    clang: &'static [&'static str],
    rust_triple: &'static str,
    qemu: &'static str,
}

const X86_64: Target = Target {
    arch: Arch::X86_64,
    name: "x86_64",
    clang: &["--target=x86_64-linux-gnu"],
    rust_triple: "x86_64-unknown-linux-gnu",
    qemu: "qemu-x86_64",
};
const AARCH64: Target = Target {
    arch: Arch::Aarch64,
    name: "aarch64",
    clang: &["--target=aarch64-linux-gnu"],
    rust_triple: "aarch64-unknown-linux-gnu",
    qemu: "qemu-aarch64",
};
const RISCV64: Target = Target {
    arch: Arch::Riscv64,
    name: "riscv64",
    clang: &["--target=riscv64-linux-gnu", "-march=rv64gc", "-mabi=lp64d"],
    rust_triple: "riscv64gc-unknown-linux-gnu",
    qemu: "qemu-riscv64",
};

fn work_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("wafer-link-e2e")
        .join(test);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles `tests/data/<source>.c` into `<dir>/<source>.o`.
fn cc(target: &Target, dir: &Path, source: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(format!("{source}.o"));
    run_tool(
        Command::new("clang")
            .args(target.clang)
            .args(["-ffreestanding", "-O2", "-fno-stack-protector", "-c"])
            .args(extra)
            .arg(Path::new(DATA).join(format!("{source}.c")))
            .arg("-o")
            .arg(&out),
    );
    out
}

/// Builds an archive; `index: false` leaves out the symbol table (`ar S`).
fn ar(dir: &Path, name: &str, members: &[PathBuf], index: bool) -> PathBuf {
    let out = dir.join(name);
    let _ = std::fs::remove_file(&out);
    let tool = if have("llvm-ar") { "llvm-ar" } else { "ar" };
    run_tool(
        Command::new(tool)
            .arg(if index { "rcs" } else { "rcS" })
            .arg(&out)
            .args(members),
    );
    out
}

/// Links with wafer-link; returns the image and how long `link` took.
fn link_files(target: &Target, files: &[PathBuf], keep_symbols: bool) -> (Vec<u8>, Duration) {
    let contents: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| {
            (
                f.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(f).unwrap(),
            )
        })
        .collect();
    let inputs: Vec<Input<'_>> = contents
        .iter()
        .map(|(name, data)| Input { name, data })
        .collect();
    let layout = Layout::LinuxExecutable(LinuxLayout::for_arch(target.arch));
    let options = LinkOptions {
        entry: "_start".into(),
        keep_symbols,
        section_headers: true,
        keep_debug: false,
    };
    // Once to warm up, then the best of a few, for the timing report.
    let image = link(target.arch, &layout, &inputs, &options)
        .unwrap_or_else(|e| panic!("link failed: {e}"));
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let again = link(target.arch, &layout, &inputs, &options).unwrap();
        best = best.min(start.elapsed());
        assert_eq!(again, image, "linking is deterministic");
    }
    (image, best)
}

fn write_executable(path: &Path, image: &[u8]) {
    std::fs::write(path, image).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// Runs `exe`; `None` (after a notice) when this host cannot run it.
fn run(target: &Target, exe: &Path) -> Option<(String, i32)> {
    let native = cfg!(target_os = "linux") && std::env::consts::ARCH == target.name;
    let mut command = if native {
        Command::new(exe)
    } else if have(target.qemu) {
        let mut c = Command::new(target.qemu);
        c.arg(exe);
        c
    } else {
        eprintln!(
            "notice: {} not installed; not running {} code",
            target.qemu, target.name
        );
        return None;
    };
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("running {exe:?}: {e}"));
    let code = output
        .status
        .code()
        .unwrap_or_else(|| panic!("{exe:?} was killed: {:?}", output.status));
    Some((String::from_utf8_lossy(&output.stdout).into_owned(), code))
}

/// Links `files` with rust-lld, runs the result and checks it matches `expected`.
fn compare_with_lld(
    target: &Target,
    dir: &Path,
    files: &[PathBuf],
    extra: &[&str],
    expected: &(String, i32),
) {
    let Some(lld) = rust_lld() else {
        eprintln!("notice: rust-lld not found; skipping the comparison");
        return;
    };
    let out = dir.join("lld.out");
    run_tool(
        Command::new(lld)
            .args(["-flavor", "gnu", "-static", "--gc-sections", "-e", "_start"])
            .arg("--defsym=__etext=_etext")
            .args(extra)
            .args(files)
            .arg("-o")
            .arg(&out),
    );
    if let Some(lld_result) = run(target, &out) {
        assert_eq!(
            &lld_result, expected,
            "rust-lld's image behaves differently"
        );
    }
}

fn clang_or_skip() -> bool {
    if have("clang") {
        return true;
    }
    eprintln!("notice: clang not installed; skipping the end-to-end test");
    false
}

fn section_names(image: &[u8]) -> Vec<String> {
    let file = object::File::parse(image).unwrap();
    file.sections()
        .map(|s| s.name().unwrap().to_owned())
        .collect()
}

/// Checks the headers: static ET_EXEC, page-congruent loads, a non-executable stack.
fn check_headers(target: &Target, image: &[u8]) {
    use object::elf;
    use object::read::elf::{FileHeader, ProgramHeader};
    let header = elf::FileHeader64::<object::LittleEndian>::parse(image).unwrap();
    let e = object::LittleEndian;
    assert_eq!(header.e_type(e), elf::ET_EXEC);
    let page = LinuxLayout::for_arch(target.arch).page_size;
    let mut loads = 0;
    let mut stack = false;
    for phdr in header.program_headers(e, image).unwrap() {
        match phdr.p_type(e) {
            elf::PT_LOAD => {
                loads += 1;
                assert_eq!(phdr.p_offset(e) % page, phdr.p_vaddr(e) % page, "congruent");
                assert!(phdr.p_align(e) >= page);
                assert!(phdr.p_filesz(e) <= phdr.p_memsz(e));
                assert!(phdr.p_offset(e) + phdr.p_filesz(e) <= image.len() as u64);
                let flags = phdr.p_flags(e);
                assert!(flags & elf::PF_W == 0 || flags & elf::PF_X == 0, "W^X");
            }
            elf::PT_GNU_STACK => {
                stack = true;
                assert_eq!(phdr.p_flags(e) & elf::PF_X, 0);
            }
            elf::PT_INTERP | elf::PT_DYNAMIC => panic!("not static"),
            _ => {}
        }
    }
    assert!(loads >= 2 && stack);
}

fn hello(target: Target) {
    if !clang_or_skip() {
        return;
    }
    let dir = work_dir(&format!("hello-{}", target.name));
    let object = cc(&target, &dir, "hello", &["-fno-pic"]);
    let files = [object];
    let (image, time) = link_files(&target, &files, false);
    eprintln!(
        "{}: hello linked in {:.3} ms, {} bytes",
        target.name,
        time.as_secs_f64() * 1e3,
        image.len()
    );
    check_headers(&target, &image);
    assert!(image.len() < 4096, "hello is {} bytes", image.len());
    let exe = dir.join("hello");
    write_executable(&exe, &image);
    let expected = (String::from("hello\n"), 42);
    if let Some(result) = run(&target, &exe) {
        assert_eq!(result, expected);
    }
    compare_with_lld(&target, &dir, &files, &[], &expected);
}

const PROGRAM_OUTPUT: &str = "hello from main
ops: 8 4 12 8
lib: 5 5 6
got: 1234 42 1234
weak: 0 2
common: 2 2
names: zeroa oned twog 
ok
";

fn program(target: Target) {
    if !clang_or_skip() {
        return;
    }
    let dir = work_dir(&format!("program-{}", target.name));
    let sections = ["-fno-pic", "-ffunction-sections", "-fdata-sections"];
    let main = cc(&target, &dir, "main", &sections);
    let util = cc(&target, &dir, "util", &["-fno-pic"]);
    let lib = cc(&target, &dir, "lib", &sections);
    let unused = cc(&target, &dir, "unused", &sections);
    let got = cc(&target, &dir, "got", &["-fPIC", "-fno-plt"]);
    let got2_flags: &[&str] = if target.arch == Arch::X86_64 {
        &["-fPIC", "-Wa,-mrelax-relocations=no"]
    } else {
        &["-fPIC"]
    };
    let got2 = cc(&target, &dir, "got2", got2_flags);
    // One archive with a symbol index and one without.
    let indexed = ar(&dir, "libindexed.a", &[lib, unused.clone()], true);
    let plain = ar(&dir, "libplain.a", &[got, got2, unused], false);
    let files = [main, util, indexed, plain];
    let (image, time) = link_files(&target, &files, true);
    eprintln!(
        "{}: program linked in {:.3} ms, {} bytes",
        target.name,
        time.as_secs_f64() * 1e3,
        image.len()
    );
    check_headers(&target, &image);

    let file = object::File::parse(&*image).unwrap();
    let names = section_names(&image);
    for expected in [
        ".text",
        ".rodata",
        ".data",
        ".bss",
        ".got",
        ".wafer",
        ".symtab",
        ".shstrtab",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "no {expected} in {names:?}"
        );
    }
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with(".eh_frame") || n.starts_with(".comment"))
    );
    let meta = file.section_by_name(".wafer").unwrap();
    assert_eq!(meta.data().unwrap(), b"wafer-meta-v1\0");
    let symbols: Vec<String> = file
        .symbols()
        .map(|s| s.name().unwrap().to_owned())
        .collect();
    for kept in [
        "_start",
        "start_c",
        "lib_add",
        "got_read",
        "shared_value",
        "common_var",
        "__global_pointer$",
    ] {
        if kept == "__global_pointer$" && target.arch != Arch::Riscv64 {
            continue;
        }
        assert!(symbols.iter().any(|s| s == kept), "no symbol {kept}");
    }
    for gone in ["unused_function", "big_table"] {
        assert!(
            !symbols.iter().any(|s| s == gone),
            "{gone} should have been collected"
        );
    }
    let start = file.symbols().find(|s| s.name() == Ok("_start")).unwrap();
    assert_eq!(file.entry(), start.address());
    let text = file.section_by_name(".text").unwrap();
    assert_eq!(
        text.address(),
        file.entry(),
        "the entry's section comes first in .text"
    );

    let exe = dir.join("program");
    write_executable(&exe, &image);
    let expected = (String::from(PROGRAM_OUTPUT), 0);
    if let Some(result) = run(&target, &exe) {
        assert_eq!(result, expected);
    }
    compare_with_lld(&target, &dir, &files, &[], &expected);
}

const RUST_OUTPUT: &str = "hello from rust
12345678814814816186 419743487
alpha:5 beta:4 gamma:5 counter=6
";

/// A `no_std` staticlib built the way wafer's runtime is: one big LTO'd member plus
/// hundreds of `compiler_builtins` members, of which only a few may survive.
fn rust_staticlib(target: Target) {
    let libdir = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", target.rust_triple])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = libdir.is_some_and(|dir| {
        std::fs::read_dir(dir).is_ok_and(|mut entries| {
            entries
                .any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("libcore-")))
        })
    });
    if !installed {
        eprintln!(
            "notice: the {} Rust target is not installed; skipping",
            target.rust_triple
        );
        return;
    }
    let dir = work_dir(&format!("rust-{}", target.name));
    let archive = dir.join("librt.a");
    let output = Command::new("rustc")
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "staticlib",
            "--crate-name",
            "rt",
            "--target",
        ])
        .arg(target.rust_triple)
        .args([
            "-C",
            "panic=abort",
            "-C",
            "opt-level=s",
            "-C",
            "lto=fat",
            "-C",
            "codegen-units=1",
        ])
        .args(["-C", "relocation-model=static", "-o"])
        .arg(&archive)
        .arg(Path::new(DATA).join("rt.rs"))
        .output()
        .unwrap();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("can't find crate for `core`") {
            eprintln!(
                "notice: no standard library for {}; skipping",
                target.rust_triple
            );
            return;
        }
        panic!("rustc failed:\n{stderr}");
    }
    let files = [archive];
    let (image, time) = link_files(&target, &files, false);
    eprintln!(
        "{}: rust staticlib linked in {:.3} ms, {} bytes (archive {} bytes)",
        target.name,
        time.as_secs_f64() * 1e3,
        image.len(),
        std::fs::metadata(&files[0]).unwrap().len()
    );
    check_headers(&target, &image);
    assert!(
        image.len() < 32 * 1024,
        "the image is {} bytes",
        image.len()
    );
    let exe = dir.join("rust");
    write_executable(&exe, &image);
    let expected = (String::from(RUST_OUTPUT), 7);
    if let Some(result) = run(&target, &exe) {
        assert_eq!(result, expected);
    }
    // lld keeps .eh_frame, whose CIEs name the personality routine; we drop unwind
    // tables, so only lld needs it defined.
    compare_with_lld(
        &target,
        &dir,
        &files,
        &["--defsym=rust_eh_personality=0"],
        &expected,
    );
}

#[test]
fn rust_staticlib_x86_64() {
    rust_staticlib(X86_64);
}

#[test]
fn rust_staticlib_aarch64() {
    rust_staticlib(AARCH64);
}

#[test]
fn rust_staticlib_riscv64() {
    rust_staticlib(RISCV64);
}

#[test]
fn hello_x86_64() {
    hello(X86_64);
}

#[test]
fn hello_aarch64() {
    hello(AARCH64);
}

#[test]
fn hello_riscv64() {
    hello(RISCV64);
}

#[test]
fn program_x86_64() {
    program(X86_64);
}

#[test]
fn program_aarch64() {
    program(AARCH64);
}

#[test]
fn program_riscv64() {
    program(RISCV64);
}
