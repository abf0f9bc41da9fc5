//! Debugging guests natively. `wafer build -g` translates the guest's Wasm DWARF to the
//! image's code: gdb (in batch mode) breaks on a source line, steps, shows a backtrace
//! with the guest's function names and prints locals, arguments, structures and
//! globals of a C and a Rust guest; trap reports name the file and line; images built
//! `--symbols` name guest functions in a `perf` profile; and an image built without
//! `-g` is the same whether or not its module carries DWARF.
//!
//! gdb runs x86_64 images here; aarch64 and riscv64 images run under qemu-user's gdb
//! stub with `gdb-multiarch`, and their DWARF is checked with `llvm-dwarfdump` too.
//! Each gdb session's transcript is left in `target/test-scratch/debug-*/gdb.txt`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Outcome, run_command, scratch, tests_dir, wafer_build, which};

fn sources() -> PathBuf {
    tests_dir().join("debug")
}

/// The 1-based line of `source` holding `marker`.
fn line_of(source: &str, marker: &str) -> usize {
    let text = std::fs::read_to_string(sources().join(source)).unwrap();
    text.lines()
        .position(|line| line.contains(marker))
        .unwrap_or_else(|| panic!("{source} has no {marker}"))
        + 1
}

/// Compiles a guest from `tests/debug/` (by its bare name, so the DWARF names the
/// file as the tests expect) with `flags`.
fn compile(program: &str, source: &str, flags: &[&str], out: &Path) {
    let hint = match program {
        "clang" => common::toolchain::CLANG_HINT,
        _ => common::toolchain::RUST_HINT,
    };
    let outcome = run_command(
        Command::new(program)
            .current_dir(sources())
            .args(flags)
            .arg(source)
            .arg("-o")
            .arg(out),
    );
    assert_eq!(
        outcome.code, 0,
        "{program} {source} failed ({hint}):\n{}",
        outcome.stderr
    );
}

/// Compiles a C guest without optimisation, with `debug` flags (`-g`, `-gdwarf-5`).
fn compile_c(source: &str, dir: &Path, debug: &[&str]) -> PathBuf {
    let out = dir.join(source.replace(".c", ".wasm"));
    let mut flags = vec!["--target=wasm32-wasi", "-O0"];
    flags.extend(debug);
    compile("clang", source, &flags, &out);
    out
}

fn compile_rust(source: &str, dir: &Path) -> PathBuf {
    compile_rust_for("wasm32-wasip1", source, dir)
}

/// `source` built by rustc for `target` (a wasip2 build is a component).
fn compile_rust_for(target: &str, source: &str, dir: &Path) -> PathBuf {
    let out = dir.join(source.replace(".rs", "_rs.wasm"));
    compile(
        "rustc",
        source,
        &["--edition=2021", &format!("--target={target}"), "-g"],
        &out,
    );
    out
}

fn build(wasm: &Path, image: &Path, extra: &[&str]) {
    let outcome = wafer_build(wasm, image, extra);
    assert_eq!(outcome.code, 0, "wafer build {extra:?}: {}", outcome.stderr);
}

/// Whether this machine runs x86_64 images natively and has gdb; says why not.
fn gdb_available() -> bool {
    if !cfg!(target_arch = "x86_64") {
        eprintln!("skipped: gdb drives x86_64 images, and this host is not one");
        return false;
    }
    assert!(
        which("gdb").is_some(),
        "gdb is not installed (Debian: apt-get install gdb)"
    );
    true
}

/// Runs `image` under gdb in batch mode with `commands`; returns the transcript (also
/// written to `dir/gdb.txt`).
fn gdb(dir: &Path, image: &Path, commands: &[String]) -> String {
    gdb_with("gdb", dir, image, commands)
}

fn gdb_with(gdb: &str, dir: &Path, image: &Path, commands: &[String]) -> String {
    let mut command = Command::new(gdb);
    // The image's own gdb script (wasm pointers) loads only from a trusted directory.
    command.args(["-nx", "-batch", "-iex"]).arg(format!(
        "add-auto-load-safe-path {}",
        image.parent().unwrap().display()
    ));
    for line in commands {
        command.arg("-ex").arg(line);
    }
    command.arg(image);
    let outcome = run_command(&mut command);
    let mut transcript = String::new();
    for line in commands {
        transcript.push_str(&format!("(gdb) {line}\n"));
    }
    transcript.push_str("---\n");
    transcript.push_str(&outcome.stdout);
    transcript.push_str(&outcome.stderr);
    std::fs::write(dir.join("gdb.txt"), &transcript).unwrap();
    transcript
}

/// Checks that every line of `expected` appears in `transcript`, in order.
fn expect_in_order(transcript: &str, expected: &[String]) {
    let mut rest = transcript;
    for want in expected {
        match rest.find(want.as_str()) {
            Some(at) => rest = &rest[at + want.len()..],
            None => panic!("gdb did not print `{want}` (in order); transcript:\n{transcript}"),
        }
    }
}

fn commands(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|line| line.to_string()).collect()
}

#[test]
fn gdb_debugs_a_c_guest() {
    // clang 14 writes DWARF 4 by default; DWARF 5 indexes addresses and lists.
    for (name, flags) in [
        ("debug-c", &["-g"][..]),
        ("debug-c-dwarf5", &["-g", "-gdwarf-5"]),
    ] {
        if !gdb_available() {
            return;
        }
        let dir = scratch(name);
        let wasm = compile_c("guest.c", &dir, flags);
        gdb_session_on_c_guest(&dir, &wasm);
    }
}

fn gdb_session_on_c_guest(dir: &Path, wasm: &Path) {
    let (dir, wasm) = (dir.to_path_buf(), wasm.to_path_buf());
    let image = dir.join("guest");
    build(&wasm, &image, &["-g"]);
    let square = line_of("guest.c", "LINE_SQUARE");
    let call = line_of("guest.c", "LINE_LOOP");
    let transcript = gdb(
        &dir,
        &image,
        &commands(&[
            &format!("break guest.c:{square}"),
            "run",
            "backtrace 2",
            "print counter",
            "continue",
            "info args",
            "next",
            "print y",
            "up",
            "info locals",
            "print origin",
            "print origin.y * 10",
            "print argc",
            "print greeting",
            "print $wasm(greeting)",
            "print $wasm(argv, 2)",
            "down",
            "finish",
        ]),
    );
    expect_in_order(
        &transcript,
        &[
            format!("Breakpoint 1, square (x=0) at guest.c:{square}"),
            format!("#0  square (x=0) at guest.c:{square}"),
            // main, as clang names it.
            "in __main_argc_argv (argc=1, argv=".into(),
            format!("at guest.c:{call}"),
            "$1 = 5".into(),
            format!("Breakpoint 1, square (x=1) at guest.c:{square}"),
            "x = 1".into(),
            format!("{}\t    return y + counter;", square + 1),
            "$2 = 1".into(),
            format!("at guest.c:{call}"),
            "i = 1".into(),
            "origin = {x = 3, y = 4}".into(),
            "total = 5".into(),
            "$3 = {x = 3, y = 4}".into(),
            "$4 = 40".into(),
            "$5 = 1".into(),
            // Wasm pointers, through the image's gdb script.
            "$6 = 0x".into(),
            " \"hello from wasm\"".into(),
            "$7 = 104 'h'".into(),
            "$8 = {0x".into(),
            "/guest\", 0x0}".into(),
            format!("#0  square (x=1) at guest.c:{}", square + 1),
            "Value returned is $9 = 6".into(),
        ],
    );
    expect_steps_into_square(&dir, &image, "guest.c", "square (x=0)");
}

/// A breakpoint on the loop's call, then `step`: into the callee's first line.
fn expect_steps_into_square(dir: &Path, image: &Path, source: &str, frame: &str) {
    let call = line_of(source, "LINE_LOOP");
    let square = line_of(source, "LINE_SQUARE");
    let dir = dir.join("step");
    std::fs::create_dir_all(&dir).unwrap();
    let transcript = gdb(
        &dir,
        image,
        &commands(&[
            &format!("break {source}:{call}"),
            "run",
            "step",
            "backtrace 1",
        ]),
    );
    expect_in_order(
        &transcript,
        &[
            "Breakpoint 1, ".to_string(),
            format!("at {source}:{call}"),
            format!("{frame} at {source}:{square}"),
            format!("#0  {frame} at {source}:{square}"),
        ],
    );
}

#[test]
fn gdb_debugs_a_rust_guest() {
    if !gdb_available() {
        return;
    }
    let dir = scratch("debug-rust");
    let wasm = compile_rust("guest.rs", &dir);
    let image = dir.join("guest");
    build(&wasm, &image, &["-g"]);
    let square = line_of("guest.rs", "LINE_SQUARE");
    let call = line_of("guest.rs", "LINE_LOOP");
    let transcript = gdb(
        &dir,
        &image,
        &commands(&[
            &format!("break guest.rs:{square}"),
            "run",
            "backtrace 2",
            "print guest::COUNTER",
            "continue",
            "info args",
            "next",
            "print y",
            "up",
            "print i",
            "print total",
            "print origin",
            "print words.len",
            "print name",
            "print owned",
            "print words",
            "print $wasm(boxed)",
            "continue",
            "continue",
        ]),
    );
    expect_in_order(
        &transcript,
        &[
            format!("Breakpoint 1, guest::square (x=0) at guest.rs:{square}"),
            format!("#0  guest::square (x=0) at guest.rs:{square}"),
            "#1  0x".into(),
            format!("in guest::main () at guest.rs:{call}"),
            "$1 = 5".into(),
            format!("Breakpoint 1, guest::square (x=1) at guest.rs:{square}"),
            "x = 1".into(),
            format!("{}\t    y + unsafe {{ COUNTER }}", square + 1),
            "$2 = 1".into(),
            format!("in guest::main () at guest.rs:{call}"),
            "$3 = 1".into(),
            "$4 = 5".into(),
            "$5 = guest::Point {x: 3, y: 4}".into(),
            "$6 = 2".into(),
            "$7 = \"wafer\"".into(),
            "$8 = \"owned\"".into(),
            "$9 = Vec(size=2) = {\"alpha\", \"beta\"}".into(),
            "$10 = guest::Point {x: 5, y: 6}".into(),
            format!("Breakpoint 1, guest::square (x=2) at guest.rs:{square}"),
            "total 20, point 3,4, 2 words, wafer owned 11".into(),
        ],
    );
    expect_steps_into_square(&dir, &image, "guest.rs", "guest::square (x=0)");
}

#[test]
fn gdb_debugs_a_rust_component() {
    // The guest's module is one of the component's core modules, beside the adapters;
    // its DWARF is translated, the others' code has symbols and CFI.
    if !gdb_available() {
        return;
    }
    let dir = scratch("debug-rust-component");
    let wasm = compile_rust_for("wasm32-wasip2", "guest.rs", &dir);
    assert!(
        std::fs::read(&wasm)
            .unwrap()
            .starts_with(b"\0asm\x0d\0\x01\0"),
        "rustc's wasip2 output is a component"
    );
    let image = dir.join("guest");
    build(&wasm, &image, &["-g"]);
    let square = line_of("guest.rs", "LINE_SQUARE");
    let call = line_of("guest.rs", "LINE_LOOP");
    let transcript = gdb(
        &dir,
        &image,
        &commands(&[
            &format!("break guest.rs:{square}"),
            "run",
            "backtrace 2",
            "print guest::COUNTER",
            "up",
            "print origin",
            "print words",
            "print $wasm(boxed)",
            "continue",
            "continue",
            "continue",
        ]),
    );
    expect_in_order(
        &transcript,
        &[
            "Breakpoint 1, guest::square (x=0) at ".into(),
            format!("guest.rs:{square}"),
            "in guest::main () at ".into(),
            format!("guest.rs:{call}"),
            "$1 = 5".into(),
            "$2 = guest::Point {x: 3, y: 4}".into(),
            "$3 = Vec(size=2) = {\"alpha\", \"beta\"}".into(),
            "$4 = guest::Point {x: 5, y: 6}".into(),
            "total 20, point 3,4, 2 words, wafer owned 11".into(),
        ],
    );
}

#[test]
fn trap_reports_name_the_source_line() {
    let dir = scratch("debug-trap");
    let wasm = compile_c("guest.c", &dir, &["-g"]);
    let line = line_of("guest.c", "LINE_DIVIDE");
    for (flags, expected) in [
        (
            &["-g"][..],
            format!("in divide at guest.c:{line} (wasm offset 0x"),
        ),
        (&[][..], "in divide (wasm offset 0x".to_string()),
    ] {
        let image = dir.join("guest");
        build(&wasm, &image, flags);
        let outcome: Outcome = run_command(Command::new(&image).arg("0"));
        assert_eq!(outcome.code, 134, "{flags:?}: {outcome:?}");
        assert!(
            outcome
                .stderr
                .starts_with("wafer: trap: integer divide by zero ")
                && outcome.stderr.contains(&expected),
            "{flags:?}: expected `{expected}` in: {}",
            outcome.stderr
        );
    }
}

/// The module with its `.debug_*` custom sections left out.
fn without_dwarf(wasm: &[u8]) -> Vec<u8> {
    let mut out = wasm[..8].to_vec();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.unwrap();
        if let wasmparser::Payload::CustomSection(section) = &payload
            && section.name().starts_with(".debug_")
        {
            continue;
        }
        if let Some((id, range)) = payload.as_section() {
            // The section's id and size, then its contents.
            out.push(id);
            let range = range.start as usize..range.end as usize;
            let mut size = range.len() as u32;
            loop {
                let byte = (size & 0x7f) as u8;
                size >>= 7;
                out.push(if size == 0 { byte } else { byte | 0x80 });
                if size == 0 {
                    break;
                }
            }
            out.extend_from_slice(&wasm[range]);
        }
    }
    out
}

#[test]
fn images_without_g_ignore_the_dwarf() {
    let dir = scratch("debug-default");
    let wasm = compile_c("guest.c", &dir, &["-g"]);
    let bytes = std::fs::read(&wasm).unwrap();
    let stripped = without_dwarf(&bytes);
    assert!(
        stripped.len() < bytes.len() / 2,
        "the DWARF was not removed"
    );
    let stripped_path = dir.join("stripped.wasm");
    std::fs::write(&stripped_path, &stripped).unwrap();
    let (with, without) = (dir.join("with"), dir.join("without"));
    build(&wasm, &with, &[]);
    build(&stripped_path, &without, &[]);
    assert!(
        std::fs::read(&with).unwrap() == std::fs::read(&without).unwrap(),
        "the guest's DWARF changed an image built without -g"
    );
    // And -g adds what it says: DWARF, CFI and symbols, where plain images have no
    // section headers at all.
    let debug = dir.join("debug");
    build(&wasm, &debug, &["-g"]);
    let sections = run_command(Command::new("readelf").arg("-SW").arg(&debug)).stdout;
    for name in [".debug_info", ".debug_line", ".debug_frame", ".symtab"] {
        assert!(sections.contains(name), "no {name} in:\n{sections}");
    }
    let plain = run_command(Command::new("readelf").arg("-SW").arg(&with)).stdout;
    assert!(plain.contains("There are no sections"), "{plain}");
}

/// `-g` on a module without DWARF: symbols, CFI, and a unit naming each function.
#[test]
fn g_without_guest_dwarf_still_names_functions() {
    let dir = scratch("debug-no-dwarf");
    // wasi-libc's objects carry DWARF of their own: leave it all out.
    let with_dwarf = compile_c("guest.c", &dir, &[]);
    let wasm = dir.join("stripped.wasm");
    std::fs::write(&wasm, without_dwarf(&std::fs::read(&with_dwarf).unwrap())).unwrap();
    let image = dir.join("guest");
    build(&wasm, &image, &["-g"]);
    let outcome = run_command(&mut Command::new(&image));
    assert_eq!(outcome.code, 0, "{outcome:?}");
    let symbols = run_command(Command::new("nm").arg(&image)).stdout;
    for name in ["wasm:square", "wasm:divide", "wasm:main"] {
        assert!(symbols.contains(name), "no {name} in:\n{symbols}");
    }
    let sections = run_command(Command::new("readelf").arg("-SW").arg(&image)).stdout;
    assert!(sections.contains(".debug_frame"), "{sections}");
    // A unit of wafer's own names each function, so gdb knows them by their names.
    if !gdb_available() {
        return;
    }
    let transcript = gdb(
        &dir,
        &image,
        &commands(&["break square", "run", "backtrace 2"]),
    );
    expect_in_order(
        &transcript,
        &[
            "Breakpoint 1, 0x".to_string(),
            " in square ()".into(),
            "#0  0x".into(),
            " in square ()".into(),
            "#1  0x".into(),
            " in main ()".into(),
        ],
    );
}

#[test]
fn dwarf_for_every_architecture() {
    let dir = scratch("debug-arch");
    let wasm = compile_c("guest.c", &dir, &["-g"]);
    let square = line_of("guest.c", "LINE_SQUARE");
    for target in common::test_targets() {
        let image = dir.join(format!("guest-{}", target.name));
        build(&wasm, &image, &["-g", "--target", target.name]);
        let outcome = run_command(&mut target.command(&image));
        assert_eq!(outcome.code, 0, "{}: {outcome:?}", target.name);
        assert!(
            outcome.stdout.contains("total 20, counter 25"),
            "{outcome:?}"
        );
        if which("llvm-dwarfdump").is_none() {
            eprintln!(
                "llvm-dwarfdump is not installed: the DWARF of {} is unchecked",
                target.name
            );
            continue;
        }
        let verify = run_command(Command::new("llvm-dwarfdump").arg("--verify").arg(&image));
        assert!(
            verify.code == 0 && verify.stdout.contains("No errors."),
            "{}: {}{}",
            target.name,
            verify.stdout,
            verify.stderr
        );
        // The line program maps square's body to its source line.
        let lookup = run_command(
            Command::new("llvm-dwarfdump")
                .arg("--debug-line")
                .arg(&image),
        );
        let line = format!(" {square} ");
        assert!(
            lookup.stdout.contains("name: \"guest.c\"")
                && lookup
                    .stdout
                    .lines()
                    .any(|l| l.starts_with("0x") && l.contains(&line)),
            "{}: no row for guest.c:{square}",
            target.name
        );
    }
}

#[test]
fn gdb_debugs_foreign_architectures_under_qemu() {
    if !gdb_available() {
        return;
    }
    assert!(
        which("gdb-multiarch").is_some(),
        "gdb-multiarch is not installed (Debian: apt-get install gdb-multiarch)"
    );
    let dir = scratch("debug-qemu");
    let wasm = compile_c("guest.c", &dir, &["-g"]);
    let square = line_of("guest.c", "LINE_SQUARE");
    let call = line_of("guest.c", "LINE_LOOP");
    for target in common::test_targets() {
        let Some(emulator) = target.emulator else {
            continue;
        };
        let image = dir.join(format!("guest-{}", target.name));
        build(&wasm, &image, &["-g", "--target", target.name]);
        // A free port for qemu's gdb stub: the kernel picks one, we let it go. gdb
        // retries a refused connection (`tcp auto-retry`) while qemu starts.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut qemu = Command::new(emulator)
            .arg("-g")
            .arg(port.to_string())
            .arg(&image)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {emulator}: {e}"));
        let session = dir.join(target.name);
        std::fs::create_dir_all(&session).unwrap();
        let transcript = gdb_with(
            "gdb-multiarch",
            &session,
            &image,
            &commands(&[
                &format!("target remote 127.0.0.1:{port}"),
                &format!("break guest.c:{square}"),
                "continue",
                "backtrace 2",
                "print counter",
                "next",
                "print y",
                "up",
                "print origin",
                "print greeting",
                "print $wasm(argv, 2)",
                "kill",
            ]),
        );
        let _ = qemu.kill();
        let _ = qemu.wait();
        expect_in_order(
            &transcript,
            &[
                format!("Breakpoint 1, square (x=0) at guest.c:{square}"),
                "in __main_argc_argv (argc=1, argv=".into(),
                format!("at guest.c:{call}"),
                "$1 = 5".into(),
                format!("{}\t    return y + counter;", square + 1),
                "$2 = 0".into(),
                "$3 = {x = 3, y = 4}".into(),
                // The memory's base is read from the VM context here.
                "$4 = 0x".into(),
                " \"hello from wasm\"".into(),
                "$5 = {0x".into(),
                "/guest-".into(),
                "\", 0x0}".into(),
            ],
        );
    }
}

#[test]
fn perf_profiles_name_guest_functions() {
    if !cfg!(target_arch = "x86_64") {
        eprintln!("skipped: the profile is of an x86_64 image");
        return;
    }
    let dir = scratch("debug-perf");
    let wasm = compile_c("hot.c", &dir, &[]);
    let image = dir.join("hot");
    build(&wasm, &image, &["--symbols"]);
    // Without perf, or where the kernel refuses it (perf_event_paranoid, containers),
    // the symbol table a profiler would read is checked instead.
    let data = dir.join("perf.data");
    let record = which("perf").map(|_| {
        run_command(
            Command::new("perf")
                .args(["record", "-q", "-o"])
                .arg(&data)
                .arg("--")
                .arg(&image),
        )
    });
    match record {
        Some(outcome) if outcome.code == 0 => {
            let report = run_command(
                Command::new("perf")
                    .args(["report", "--stdio", "--sort", "symbol", "-i"])
                    .arg(&data),
            );
            let top = report
                .stdout
                .lines()
                .find(|line| line.trim_start().starts_with(|c: char| c.is_ascii_digit()))
                .unwrap_or_default();
            assert!(
                top.contains("wasm:hot_loop"),
                "the profile's top entry is not the guest's hot loop:\n{}",
                report.stdout
            );
        }
        other => {
            eprintln!("perf cannot record here ({other:?}): checking the symbol table instead");
            let symbols = run_command(Command::new("nm").arg(&image)).stdout;
            assert!(symbols.contains(" t wasm:hot_loop"), "{symbols}");
        }
    }
}

/// A module whose DWARF does not parse: `-g` says so, naming the section's offset;
/// without `-g` the DWARF is not read at all.
#[test]
fn malformed_dwarf_is_an_error_only_with_g() {
    let dir = scratch("debug-malformed");
    let wasm = compile_c("guest.c", &dir, &["-g"]);
    let mut bytes = std::fs::read(&wasm).unwrap();
    let name = b".debug_info";
    let at = bytes
        .windows(name.len())
        .position(|window| window == name)
        .expect("a .debug_info section")
        + name.len();
    // The first unit's version (after its 4-byte length): no DWARF has version 9.
    bytes[at + 4] = 9;
    let bad = dir.join("bad.wasm");
    std::fs::write(&bad, &bytes).unwrap();
    let outcome = wafer_build(&bad, &dir.join("bad"), &["-g"]);
    assert_eq!(outcome.code, 1, "{outcome:?}");
    assert!(
        outcome.stderr.contains(&format!(
            "invalid wasm at offset {at:#x}: malformed DWARF in the .debug_* sections \
             (unknown DWARF version: 9); build without -g to ignore it"
        )),
        "{}",
        outcome.stderr
    );
    build(&bad, &dir.join("plain"), &[]);
}
