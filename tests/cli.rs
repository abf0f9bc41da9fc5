//! The command line as a user meets it: bad input gets one clear line and no output
//! file; `wafer build` needs nothing on PATH; `wafer run` caches and passes arguments
//! and exit codes through; `inspect`, `targets` and `--emit obj` work.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Outcome, run_command, scratch, wafer};

const HELLO: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $a (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    ;; exit with the argument count, so tests can see arguments arrive
    (drop (call $a (i32.const 32) (i32.const 36)))
    (call $exit (i32.load (i32.const 32)))))
"#;

fn hello_wasm(dir: &Path) -> PathBuf {
    let path = dir.join("hello.wasm");
    std::fs::write(&path, wat::parse_str(HELLO).unwrap()).unwrap();
    path
}

fn wafer_cmd(args: &[&str]) -> Outcome {
    run_command(Command::new(wafer()).args(args))
}

/// Files in `dir`, sorted, for checking that nothing was left behind.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The names of the symbols an image (built with `--symbols`) defines.
fn defined_symbols(image: &Path) -> Vec<String> {
    use object::{Object, ObjectSymbol};
    let bytes = std::fs::read(image).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    file.symbols()
        .filter(|s| s.is_definition())
        .filter_map(|s| s.name().ok().map(str::to_string))
        .collect()
}

/// A failed command: nonzero exit, exactly one line on stderr that contains `needles`.
fn assert_one_line_error(outcome: &Outcome, needles: &[&str]) {
    assert_ne!(outcome.code, 0, "expected failure: {outcome:?}");
    assert!(
        outcome.code != 101 && outcome.code < 128,
        "crashed or panicked: {outcome:?}"
    );
    let lines: Vec<_> = outcome.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line on stderr: {:?}",
        outcome.stderr
    );
    assert!(lines[0].starts_with("wafer: error: "), "{}", lines[0]);
    for needle in needles {
        assert!(lines[0].contains(needle), "{:?} lacks {needle:?}", lines[0]);
    }
}

#[test]
fn bad_input_gets_one_line_naming_the_file_and_no_output() {
    let dir = scratch("cli-bad-input");
    let valid = wat::parse_str(HELLO).unwrap();
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        (
            "truncated.wasm",
            valid[..valid.len() / 2].to_vec(),
            vec!["truncated.wasm", "offset 0x"],
        ),
        (
            "garbage.wasm",
            b"\x7fELF not wasm at all \x00\x01\x02".to_vec(),
            vec!["garbage.wasm", "offset 0x0", "not a WebAssembly module"],
        ),
        (
            "empty.wasm",
            Vec::new(),
            vec!["empty.wasm", "offset 0x"],
        ),
        (
            "invalid.wasm",
            wat::parse_str(r#"(module (func (export "_start") (drop (i32.add (i32.const 1) (f32.const 2)))))"#)
                .unwrap(),
            vec!["invalid.wasm", "invalid wasm at offset 0x", "type mismatch"],
        ),
        (
            "unknown_import.wasm",
            wat::parse_str(r#"(module (import "env" "mystery" (func)) (func (export "_start")))"#)
                .unwrap(),
            vec!["unknown_import.wasm", "unknown import", "env.mystery"],
        ),
        (
            // Names from the input are escaped: an error stays one line (found by the
            // compile fuzzer).
            "control_characters.wasm",
            wat::parse_str(r#"(module (import "en\nv" "x\1b[2J" (global i32)) (func (export "_start")))"#)
                .unwrap(),
            vec!["control_characters.wasm", "unknown import", r"en\nv.x\u{1b}[2J"],
        ),
        (
            "wrong_wasi_type.wasm",
            wat::parse_str(r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32))) (func (export "_start")))"#)
                .unwrap(),
            vec!["wrong_wasi_type.wasm", "wasi_snapshot_preview1.fd_write"],
        ),
        (
            "bad_text.wat",
            b"(module (func (i32.bogus)))".to_vec(),
            vec!["bad_text.wat", "bad_text.wat:1:"],
        ),
        (
            "no_entry.wasm",
            wat::parse_str("(module (func (export \"main\")))").unwrap(),
            vec!["no_entry.wasm", "_start"],
        ),
        (
            "component.wasm",
            wat::parse_str("(component)").unwrap(),
            vec!["component.wasm", "exports no `wasi:cli/run@0.2`"],
        ),
        (
            "truncated_component.wasm",
            b"\0asm\x0d\0\x01\0\x01".to_vec(),
            vec![
                "truncated_component.wasm",
                "invalid wasm at offset 0x9",
                "unexpected end-of-file",
            ],
        ),
        (
            "invalid_component.wasm",
            wat::parse_str(
                r#"(component (core module $m (func (export "f"))) (core instance $i (instantiate $m))
                     (func (result u32) (canon lift (core func $i "f"))))"#,
            )
            .unwrap(),
            vec![
                "invalid_component.wasm",
                "invalid wasm at offset 0x",
                "do not match result types",
            ],
        ),
        (
            // The offset counts from the component's start, not the core module's.
            "invalid_component_body.wasm",
            wat::parse_str(
                r#"(component
                     (core module $m (func (export "run") (result i32) (i32.add (i32.const 1) (f32.const 2))))
                     (core instance $i (instantiate $m))
                     (func $run (result (result)) (canon lift (core func $i "run")))
                     (instance $run (export "run" (func $run)))
                     (export "wasi:cli/run@0.2.0" (instance $run)))"#,
            )
            .unwrap(),
            vec![
                "invalid_component_body.wasm",
                "invalid wasm at offset 0x32: in function 0 `run`: type mismatch",
            ],
        ),
    ];
    for (name, bytes, needles) in cases {
        let input = dir.join(name);
        std::fs::write(&input, &bytes).unwrap();
        let output = dir.join(format!("{name}.out"));
        let outcome = wafer_cmd(&[
            "build",
            input.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
        ]);
        assert_one_line_error(&outcome, &needles);
        assert!(!output.exists(), "{name}: an output file was written");
    }
    // Only the inputs remain: no temporary or partial files.
    assert!(listing(&dir).iter().all(|name| !name.contains(".out")));
}

#[test]
fn a_failed_build_leaves_an_existing_output_untouched() {
    let dir = scratch("cli-keep-output");
    let input = dir.join("bad.wasm");
    std::fs::write(&input, b"\0asm\x01\0\0\0\x01").unwrap();
    let output = dir.join("app");
    std::fs::write(&output, b"previous build").unwrap();
    let outcome = wafer_cmd(&[
        "build",
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ]);
    assert_one_line_error(&outcome, &["bad.wasm"]);
    assert_eq!(std::fs::read(&output).unwrap(), b"previous build");
    assert_eq!(listing(&dir), ["app", "bad.wasm"]);
}

#[test]
fn missing_files_bad_flags_and_bad_targets_are_one_line() {
    let dir = scratch("cli-usage");
    let missing = dir.join("nope.wasm");
    assert_one_line_error(
        &wafer_cmd(&["build", missing.to_str().unwrap()]),
        &["nope.wasm", "No such file"],
    );
    let outcome = wafer_cmd(&["build", "--frobnicate", "x.wasm"]);
    assert_one_line_error(&outcome, &["--frobnicate"]);
    let input = hello_wasm(&dir);
    assert_one_line_error(
        &wafer_cmd(&["build", input.to_str().unwrap(), "--target", "pdp11-unix"]),
        &["pdp11-unix", "x86_64-linux"],
    );
    assert_one_line_error(
        &wafer_cmd(&["build", input.to_str().unwrap(), "--stack-size", "lots"]),
        &["lots"],
    );
    assert_one_line_error(
        &wafer_cmd(&[
            "build",
            input.to_str().unwrap(),
            "--target-cpu",
            "pentium-mmx",
        ]),
        &["hello.wasm", "pentium-mmx", "x86-64-v2"],
    );
    let unwritable = dir.join("no-such-dir").join("app");
    assert_one_line_error(
        &wafer_cmd(&[
            "build",
            input.to_str().unwrap(),
            "-o",
            unwritable.to_str().unwrap(),
        ]),
        &["no-such-dir"],
    );
    assert_one_line_error(
        &wafer_cmd(&["inspect", input.to_str().unwrap()]),
        &["hello.wasm"],
    );
}

#[test]
fn build_needs_nothing_on_path() {
    let dir = scratch("cli-empty-path");
    let input = hello_wasm(&dir);
    let output = dir.join("hello");
    let outcome = run_command(
        Command::new(wafer())
            .args([
                "build",
                input.to_str().unwrap(),
                "-o",
                output.to_str().unwrap(),
            ])
            .env_clear()
            .env("PATH", ""),
    );
    assert_eq!(outcome.code, 0, "{outcome:?}");
    let run = common::run_image(&output, &["a", "b"], &[]);
    assert_eq!((run.code, run.stdout.as_str()), (3, "hi\n"));
    // The other Linux targets and the boards, in every firmware format, the same way.
    let builds: &[&[&str]] = &[
        &["--target", "aarch64-linux"],
        &["--target", "riscv64-linux"],
        &["--target", "qemu-virt-aarch64"],
        &["--target", "qemu-virt-riscv64", "--format", "hex"],
        &["--target", "raspi3b", "--format", "bin"],
        &["--target", "sifive_u", "--format", "bin"],
    ];
    for flags in builds {
        let output = dir.join("image");
        let outcome = run_command(
            Command::new(wafer())
                .args(["build", input.to_str().unwrap(), "-o"])
                .arg(&output)
                .args(*flags)
                .env_clear()
                .env("PATH", ""),
        );
        assert_eq!(outcome.code, 0, "{flags:?}: {outcome:?}");
        assert!(std::fs::metadata(&output).unwrap().len() > 0, "{flags:?}");
    }
}

#[test]
fn run_takes_options_before_the_module_and_gives_the_guest_the_rest() {
    // As with `wasmtime run`, so that `CARGO_TARGET_WASM32_WASIP1_RUNNER="wafer run"`
    // (or "wafer run --") works: cargo calls `RUNNER BIN ARGS...`.
    let dir = scratch("cli-runner");
    let cache = dir.join("cache");
    let input = hello_wasm(&dir);
    let input = input.to_str().unwrap();
    // The guest exits with its argument count, its name included.
    let cases: &[(&[&str], i32)] = &[
        (&["run", input, "one", "two"], 3),
        (&["run", "--", input, "one", "two"], 3),
        (&["run", input, "--", "one", "two"], 3),
        (&["run", input, "--dir", ".", "--help"], 4),
        (&["run", input, "a", "--", "b"], 4),
        (&["run", "--env", "A=1", input, "--env", "B=2"], 3),
    ];
    for (args, argc) in cases {
        let outcome = run_command(
            Command::new(wafer())
                .args(*args)
                .env("WAFER_CACHE_DIR", &cache),
        );
        assert_eq!(
            (outcome.code, outcome.stderr.as_str()),
            (*argc, ""),
            "wafer {args:?}"
        );
    }
    // Without a module: one line that names what is missing.
    for args in [&["run"][..], &["run", "--"], &["run", "--env", "A=1"]] {
        assert_one_line_error(&wafer_cmd(args), &["<MODULE>", "wafer --help"]);
    }
}

#[test]
fn run_passes_arguments_and_exit_code_and_caches_the_image() {
    let dir = scratch("cli-run");
    let cache = dir.join("cache");
    let input = hello_wasm(&dir);
    let run = |args: &[&str]| {
        run_command(
            Command::new(wafer())
                .arg("run")
                .arg(&input)
                .arg("--")
                .args(args)
                .env("WAFER_CACHE_DIR", &cache),
        )
    };
    let first = run(&["one", "two", "three"]);
    assert_eq!(
        (first.code, first.stdout.as_str(), first.stderr.as_str()),
        (4, "hi\n", "")
    );
    let cached = listing(&cache);
    assert_eq!(cached.len(), 1, "one cached image: {cached:?}");
    let modified = std::fs::metadata(cache.join(&cached[0]))
        .unwrap()
        .modified()
        .unwrap();
    let second = run(&[]);
    assert_eq!(second.code, 1);
    assert_eq!(listing(&cache), cached, "the second run reused the image");
    let again = std::fs::metadata(cache.join(&cached[0]))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(modified, again);
    // Different grants are a different image.
    let granted = run_command(
        Command::new(wafer())
            .args(["run", "--env", "A=1"])
            .arg(&input)
            .env("WAFER_CACHE_DIR", &cache),
    );
    assert_eq!(granted.code, 1);
    assert_eq!(listing(&cache).len(), 2);
    // `run` builds for this CPU (`native`) unless told otherwise: the baseline is
    // another image.
    let baseline = if cfg!(target_arch = "x86_64") {
        "x86-64"
    } else if cfg!(target_arch = "aarch64") {
        "generic"
    } else {
        "rv64gc"
    };
    let explicit = run_command(
        Command::new(wafer())
            .args(["run", "--target-cpu", baseline])
            .arg(&input)
            .env("WAFER_CACHE_DIR", &cache),
    );
    assert_eq!(explicit.code, 1);
    assert_eq!(listing(&cache).len(), 3);
    let native = run_command(
        Command::new(wafer())
            .args(["run", "--target-cpu", "native"])
            .arg(&input)
            .env("WAFER_CACHE_DIR", &cache),
    );
    assert_eq!(native.code, 1);
    assert_eq!(
        listing(&cache).len(),
        3,
        "`native` is what the first run used"
    );
    // Another architecture runs under its qemu-user emulator, built for its baseline CPU
    // and cached like the others.
    for target in ["aarch64-linux", "riscv64-linux", "x86_64-linux"] {
        if target.starts_with(std::env::consts::ARCH) {
            continue;
        }
        let foreign = run_command(
            Command::new(wafer())
                .args(["run", "--target", target])
                .arg(&input)
                .args(["a", "b"])
                .env("WAFER_CACHE_DIR", &cache),
        );
        assert_eq!(
            (
                foreign.code,
                foreign.stdout.as_str(),
                foreign.stderr.as_str()
            ),
            (3, "hi\n", ""),
            "{target}"
        );
    }
    assert_eq!(listing(&cache).len(), 5);
    // Board options are for boards.
    assert_one_line_error(
        &run_command(
            Command::new(wafer())
                .args(["run", "--gpio", "1"])
                .arg(&input)
                .env("WAFER_CACHE_DIR", &cache),
        ),
        &["--gpio", "is not a board"],
    );
}

#[test]
fn inspect_shows_grants_and_deny_by_default() {
    let dir = scratch("cli-inspect");
    let input = hello_wasm(&dir);
    let plain = dir.join("plain");
    let granted = dir.join("granted");
    assert_eq!(common::wafer_build(&input, &plain, &[]).code, 0);
    assert_eq!(
        common::wafer_build(
            &input,
            &granted,
            &["--env", "MODE=fast", "--env", "TERM", "--stack-size", "1M"]
        )
        .code,
        0
    );
    let plain = wafer_cmd(&["inspect", plain.to_str().unwrap()]);
    assert_eq!(plain.code, 0, "{plain:?}");
    assert!(
        plain.stdout.contains("environment: none"),
        "{}",
        plain.stdout
    );
    assert!(
        plain.stdout.contains("filesystem:  none"),
        "{}",
        plain.stdout
    );
    let granted = wafer_cmd(&["inspect", granted.to_str().unwrap()]);
    assert!(
        granted.stdout.contains("environment: MODE=fast"),
        "{}",
        granted.stdout
    );
    assert!(
        granted.stdout.contains("environment: TERM (from the host"),
        "{}",
        granted.stdout
    );
    assert!(
        granted.stdout.contains("stack:       1048576 bytes"),
        "{}",
        granted.stdout
    );
}

#[test]
fn directory_and_socket_grants_are_stored_shown_and_checked() {
    let dir = scratch("cli-grants");
    let input = hello_wasm(&dir);
    let image = dir.join("granted");
    let flags = [
        "--dir",
        "data::/data:ro",
        "--dir",
        "out",
        "--listen",
        "127.0.0.1:8080",
        "--listen",
        "[::1]:9000",
    ];
    assert_eq!(common::wafer_build(&input, &image, &flags).code, 0);
    let shown = wafer_cmd(&["inspect", image.to_str().unwrap()]);
    for line in [
        "filesystem:  data as /data (read-only, fd 3)",
        "filesystem:  out as out (read-write, fd 4)",
        "network:     listening on 127.0.0.1:8080 (fd 5)",
        "network:     listening on [::1]:9000 (fd 6)",
    ] {
        assert!(
            shown.stdout.contains(line),
            "missing {line:?}:\n{}",
            shown.stdout
        );
    }
    // Bad grants are one-line errors naming the flag's value.
    assert_one_line_error(
        &wafer_cmd(&["build", input.to_str().unwrap(), "--dir", "::/data"]),
        &["::/data", "host directory"],
    );
    assert_one_line_error(
        &wafer_cmd(&["build", input.to_str().unwrap(), "--listen", "localhost"]),
        &["localhost", "127.0.0.1:8080"],
    );
    // A granted directory that is missing when the image starts stops it before the
    // guest runs, with one line naming the directory.
    let missing = dir.join("missing-dir");
    let image = dir.join("needs-dir");
    let flag = format!("{}::/x", missing.display());
    assert_eq!(
        common::wafer_build(&input, &image, &["--dir", &flag]).code,
        0
    );
    let outcome = common::run_image(&image, &[], &[]);
    assert_eq!(outcome.code, 70, "{outcome:?}");
    assert_eq!(outcome.stdout, "", "the guest never ran");
    assert_eq!(outcome.stderr.lines().count(), 1, "{outcome:?}");
    assert!(
        outcome.stderr.contains("missing-dir") && outcome.stderr.contains("no such file"),
        "{outcome:?}"
    );
}

#[test]
fn run_grants_directories_like_build() {
    // `wafer run` takes the same grants as `wafer build`: here a module lists the
    // preopen it was given.
    let dir = scratch("cli-run-dir");
    std::fs::create_dir_all(dir.join("shared")).unwrap();
    let input = dir.join("prestat.wat");
    std::fs::write(
        &input,
        r#"(module
          (import "wasi_snapshot_preview1" "fd_prestat_get" (func $get (param i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $name (param i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (func (export "_start")
            (if (call $get (i32.const 3) (i32.const 0)) (then (call $exit (i32.const 9))))
            (drop (call $name (i32.const 3) (i32.const 100) (i32.load (i32.const 4))))
            (i32.store (i32.const 16) (i32.const 100))
            (i32.store (i32.const 20) (i32.load (i32.const 4)))
            (drop (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))))"#,
    )
    .unwrap();
    let run = |grants: &[&str]| {
        run_command(
            Command::new(wafer())
                .current_dir(&dir)
                .arg("run")
                .args(grants)
                .arg(&input)
                .env("WAFER_CACHE_DIR", dir.join("cache")),
        )
    };
    let granted = run(&["--dir", "shared::/mnt/shared"]);
    assert_eq!(
        (granted.code, granted.stdout.as_str()),
        (0, "/mnt/shared"),
        "{granted:?}"
    );
    let denied = run(&[]);
    assert_eq!(denied.code, 9, "no preopen without a grant: {denied:?}");
}

#[test]
fn targets_lists_every_linux_target_as_carried() {
    let outcome = wafer_cmd(&["targets"]);
    assert_eq!(outcome.code, 0);
    for target in ["x86_64-linux", "aarch64-linux", "riscv64-linux"] {
        let line = outcome
            .stdout
            .lines()
            .find(|line| line.starts_with(target))
            .unwrap_or_else(|| panic!("{target} not listed:\n{}", outcome.stdout));
        assert!(line.contains("carried"), "{line}");
    }
}

#[test]
fn full_triples_are_accepted_as_targets() {
    let dir = scratch("cli-triples");
    let input = hello_wasm(&dir);
    for (triple, machine) in [
        ("aarch64-unknown-linux-gnu", object::elf::EM_AARCH64),
        ("riscv64gc-unknown-linux-gnu", object::elf::EM_RISCV),
        ("x86_64-unknown-linux-musl", object::elf::EM_X86_64),
    ] {
        let output = dir.join(triple);
        let outcome = wafer_cmd(&[
            "build",
            input.to_str().unwrap(),
            "--target",
            triple,
            "-o",
            output.to_str().unwrap(),
        ]);
        assert_eq!(outcome.code, 0, "{triple}: {outcome:?}");
        let bytes = std::fs::read(&output).unwrap();
        // e_machine, little-endian, at offset 18 of an ELF64 header.
        assert_eq!(
            u16::from_le_bytes([bytes[18], bytes[19]]),
            machine,
            "{triple}"
        );
    }
}

#[test]
fn simd_on_riscv64_without_v_names_the_function_and_the_fix() {
    let dir = scratch("cli-riscv-simd");
    let input = dir.join("vec.wat");
    std::fs::write(
        &input,
        r#"(module (func $splat (export "_start") (drop (i32x4.splat (i32.const 1)))))"#,
    )
    .unwrap();
    let output = dir.join("vec");
    let outcome = wafer_cmd(&[
        "build",
        input.to_str().unwrap(),
        "--target",
        "riscv64-linux",
        "-o",
        output.to_str().unwrap(),
    ]);
    assert_one_line_error(
        &outcome,
        &["vec.wat", "offset 0x", "`splat`", "V extension", "rv64gcv"],
    );
    assert!(!output.exists());
    let with_v = wafer_cmd(&[
        "build",
        input.to_str().unwrap(),
        "--target",
        "riscv64-linux",
        "--target-cpu",
        "rv64gcv",
        "-o",
        output.to_str().unwrap(),
    ]);
    assert_eq!(with_v.code, 0, "{with_v:?}");
    // A v128 reaches code without SIMD operators through globals, parameters and
    // locals, which are refused too (the compile fuzzer found a v128 global crashing
    // Cranelift's riscv64 lowering).
    let cases = [
        (
            r#"(module (global $g (mut v128) (v128.const i64x2 0 0)) (func (export "_start") (global.set $g (global.get $g))))"#,
            "global 0 is a v128",
        ),
        (
            r#"(module (func $id (param v128) (result v128) (local.get 0)) (func (export "_start")))"#,
            "function type 0 has a v128",
        ),
        (
            r#"(module (func (export "_start") (local v128) (local.set 0 (local.get 0))))"#,
            "v128 locals",
        ),
    ];
    for (text, needle) in cases {
        std::fs::write(&input, text).unwrap();
        let outcome = wafer_cmd(&[
            "build",
            input.to_str().unwrap(),
            "--target",
            "riscv64-linux",
            "-o",
            output.to_str().unwrap(),
        ]);
        assert_one_line_error(&outcome, &["vec.wat", needle, "V extension", "rv64gcv"]);
    }
}

#[test]
fn emit_obj_writes_a_relocatable_object_with_the_image_descriptor() {
    use object::{Object, ObjectSymbol};
    let dir = scratch("cli-emit-obj");
    let input = hello_wasm(&dir);
    let output = dir.join("hello.o");
    let outcome = common::wafer_build(&input, &output, &["--emit", "obj"]);
    assert_eq!(outcome.code, 0, "{outcome:?}");
    let bytes = std::fs::read(&output).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    assert_eq!(file.kind(), object::ObjectKind::Relocatable);
    assert!(file.section_by_name(".wafer.image").is_some());
    let exported: Vec<_> = file
        .symbols()
        .filter(|s| s.is_global() && s.is_definition())
        .filter_map(|s| s.name().ok().map(str::to_string))
        .collect();
    for symbol in ["wafer_image", "wafer_image_init", "wafer_image_main"] {
        assert!(
            exported.iter().any(|s| s == symbol),
            "{symbol} in {exported:?}"
        );
    }
    let inspected = wafer_cmd(&["inspect", output.to_str().unwrap()]);
    assert!(
        inspected.stdout.contains("relocatable object"),
        "{inspected:?}"
    );
}

#[test]
fn emit_obj_lists_every_local_symbol_before_the_others() {
    // Regression: a function inlined at every call site kept a weak symbol among the
    // locals, and lld refused the object ("non-local symbol found at index < sh_info").
    use object::{Object, ObjectSymbol};
    let dir = scratch("cli-emit-obj-order");
    let input = dir.join("hello.wat");
    std::fs::write(&input, include_str!("../examples/hello.wat")).unwrap();
    let output = dir.join("hello.o");
    let outcome = common::wafer_build(&input, &output, &["--emit", "obj"]);
    assert_eq!(outcome.code, 0, "{outcome:?}");
    let bytes = std::fs::read(&output).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let symbols: Vec<_> = file.symbols().collect();
    assert!(
        symbols.iter().any(|s| s.is_weak()),
        "the example has a function inlined everywhere"
    );
    let first_non_local = symbols.iter().position(|s| !s.is_local()).unwrap();
    for symbol in &symbols[first_non_local..] {
        assert!(
            !symbol.is_local(),
            "{:?} after a non-local symbol",
            symbol.name()
        );
    }
}

#[test]
fn text_and_binary_input_build_the_same_image() {
    let dir = scratch("cli-wat");
    let wat_path = dir.join("hello.wat");
    std::fs::write(&wat_path, HELLO).unwrap();
    let wasm_path = hello_wasm(&dir);
    let from_text = dir.join("from_text");
    let from_binary = dir.join("from_binary");
    assert_eq!(common::wafer_build(&wat_path, &from_text, &[]).code, 0);
    assert_eq!(common::wafer_build(&wasm_path, &from_binary, &[]).code, 0);
    assert_eq!(
        std::fs::read(&from_text).unwrap(),
        std::fs::read(&from_binary).unwrap(),
        "builds are deterministic and text equals binary"
    );
}

#[test]
fn a_closed_stdout_pipe_is_an_error_for_the_guest_not_a_kill() {
    // Writes until fd_write fails, then exits with the errno it got.
    const WRITER: &str = r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start") (local $e i32)
        (i32.store (i32.const 0) (i32.const 100))
        (i32.store (i32.const 4) (i32.const 4096))
        (loop $l
          (local.set $e (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
          (br_if $l (i32.eqz (local.get $e))))
        (call $exit (local.get $e))))"#;
    let dir = scratch("cli-sigpipe");
    let input = dir.join("writer.wat");
    std::fs::write(&input, WRITER).unwrap();
    let image = dir.join("writer");
    assert_eq!(common::wafer_build(&input, &image, &[]).code, 0);
    let mut child = Command::new(&image)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(64),
        "EPIPE (64), not killed by SIGPIPE: {status:?}"
    );
}

const REACTOR: &str = r#"(module
  (import "host" "call" (func $host_call (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "initialized\n")
  (global $ready (mut i32) (i32.const 0))
  (func (export "_initialize")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 12))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (global.set $ready (i32.const 1)))
  (func (export "run") (result i32) (i32.add (global.get $ready) (i32.const 6)))
  (func (export "use_host") (result i32) (call $host_call (i32.const 1)))
  (func (export "takes_args") (param i32)))"#;

#[test]
fn reactors_run_with_invoke_and_unknown_imports_can_trap() {
    let dir = scratch("cli-reactor");
    let input = dir.join("reactor.wat");
    std::fs::write(&input, REACTOR).unwrap();
    let path = input.to_str().unwrap();
    // By default an import nothing provides is a build error, and a reactor needs
    // --invoke to say what to run.
    assert_one_line_error(&wafer_cmd(&["build", path]), &["reactor.wat", "host.call"]);
    assert_one_line_error(
        &wafer_cmd(&["build", path, "--trap-unknown-imports"]),
        &["reactor.wat", "--invoke"],
    );
    let image = dir.join("reactor");
    let build = |extra: &[&str]| {
        common::wafer_build(
            &input,
            &image,
            &[&["--trap-unknown-imports"], extra].concat(),
        )
    };
    // `_initialize` runs first; `run`'s i32 result is the exit status.
    assert_eq!(build(&["--invoke", "run"]).code, 0);
    let ran = common::run_image(&image, &[], &[]);
    assert_eq!(
        (ran.code, ran.stdout.as_str(), ran.stderr.as_str()),
        (7, "initialized\n", "")
    );
    // Calling the missing import traps, naming it.
    assert_eq!(build(&["--invoke", "use_host"]).code, 0);
    let trapped = common::run_image(&image, &[], &[]);
    assert_eq!(trapped.code, 134, "{trapped:?}");
    assert!(
        trapped
            .stderr
            .contains("wafer: trap: call to an unknown import in host.call (wasm offset 0x"),
        "{trapped:?}"
    );
    // What --invoke can name.
    assert_one_line_error(
        &wafer_cmd(&[
            "build",
            path,
            "--trap-unknown-imports",
            "--invoke",
            "takes_args",
        ]),
        &["reactor.wat", "takes_args", "[] -> [i32]"],
    );
    assert_one_line_error(
        &wafer_cmd(&["build", path, "--trap-unknown-imports", "--invoke", "nope"]),
        &["reactor.wat", "no function `nope`"],
    );
    assert_one_line_error(
        &wafer_cmd(&[
            "build",
            path,
            "--trap-unknown-imports",
            "--invoke",
            "memory",
        ]),
        &["reactor.wat", "`memory` export is not a function"],
    );
}

#[test]
fn unknown_imports_of_one_name_trap_each_with_their_own_type() {
    // A module may import one name several times, with the same or different types; each
    // import's trap stub is its own function (the compile fuzzer found two such imports
    // failing the build in code generation).
    let dir = scratch("cli-unknown-import-twice");
    let input = dir.join("twice.wat");
    std::fs::write(
        &input,
        r#"(module
          (import "host" "f" (func $a (result i64)))
          (import "host" "f" (func $b))
          (import "host" "f" (func $c))
          (import "" "" (func (param i64) (result i64)))
          (import "" "" (func (result i64)))
          (func (export "run") (result i32) (call $b) (i32.const 3)))"#,
    )
    .unwrap();
    let image = dir.join("twice");
    let built = common::wafer_build(
        &input,
        &image,
        &["--trap-unknown-imports", "--invoke", "run"],
    );
    assert_eq!(built.code, 0, "{built:?}");
    let trapped = common::run_image(&image, &[], &[]);
    assert_eq!(trapped.code, 134, "{trapped:?}");
    assert!(
        trapped
            .stderr
            .contains("wafer: trap: call to an unknown import in host.f (wasm offset 0x"),
        "{trapped:?}"
    );
}

#[test]
fn runtime_tables_live_in_bss_not_in_the_file() {
    // The descriptor table and other runtime state start zeroed: they belong in .bss,
    // which costs nothing in the file. (A table of `None`s once put 32 KiB of .data
    // into every image.)
    use object::{Object, ObjectSection};
    let dir = scratch("cli-bss");
    let every = dir.join("every.wat");
    std::fs::write(&every, every_wasi_import_wat()).unwrap();
    let image = dir.join("image");
    // Sections are kept only with `--symbols`; the layout is the same without.
    assert_eq!(common::wafer_build(&every, &image, &["--symbols"]).code, 0);
    let bytes = std::fs::read(&image).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let data = file.section_by_name(".data").map_or(0, |s| s.size());
    assert!(data < 1024, ".data is {data} bytes");
    let bss = file.section_by_name(".bss").map_or(0, |s| s.size());
    assert!(
        bss >= 16 * 1024,
        "the descriptor table is in .bss ({bss} bytes)"
    );
}

/// A module that imports and calls every preview1 function (from a function that is
/// exported but never run), so its image links every host function.
fn every_wasi_import_wat() -> String {
    let mut imports = String::new();
    let mut calls = String::new();
    for (index, func) in wafer_abi::wasi::PREVIEW1.iter().enumerate() {
        let ty = |types: &[wafer_abi::wasi::ValType]| {
            types
                .iter()
                .map(|t| match t {
                    wafer_abi::wasi::ValType::I32 => " i32",
                    wafer_abi::wasi::ValType::I64 => " i64",
                })
                .collect::<String>()
        };
        imports.push_str(&format!(
            "(import \"wasi_snapshot_preview1\" \"{}\" (func $f{index} (param{}) (result{})))\n",
            func.name,
            ty(func.params),
            ty(func.results)
        ));
        for param in func.params {
            calls.push_str(match param {
                wafer_abi::wasi::ValType::I32 => "i32.const 0 ",
                wafer_abi::wasi::ValType::I64 => "i64.const 0 ",
            });
        }
        calls.push_str(&format!("call $f{index} "));
        calls.push_str(&"drop ".repeat(func.results.len()));
    }
    format!(
        "(module {imports} (memory (export \"memory\") 1) \
         (func (export \"every\") {calls}) (func (export \"_start\")))"
    )
}

#[test]
fn only_images_with_grants_carry_the_grant_code() {
    // Opening granted directories and sockets is a few kilobytes of runtime; an image
    // without grants must not pay for it, and one with grants must still honour them.
    let dir = scratch("cli-grant-code");
    let input = hello_wasm(&dir);
    let has_grant_code = |flags: &[&str]| {
        let image = dir.join("image");
        let mut args = vec!["--symbols"];
        args.extend_from_slice(flags);
        let built = common::wafer_build(&input, &image, &args);
        assert_eq!(built.code, 0, "{built:?}");
        let found = defined_symbols(&image)
            .iter()
            .any(|name| name == wafer_abi::symbols::APPLY_GRANTS);
        let ran = run_command(&mut Command::new(&image));
        (found, ran)
    };
    let (found, ran) = has_grant_code(&[]);
    assert!(!found, "an image without grants links the grant code");
    // The hello exits with its argument count.
    assert_eq!((ran.code, ran.stdout.as_str()), (1, "hi\n"));
    let missing = dir.join("not-there");
    let (found, ran) = has_grant_code(&["--dir", missing.to_str().unwrap()]);
    assert!(
        found,
        "an image with a directory grant lacks the grant code"
    );
    assert_ne!(
        ran.code, 0,
        "a missing granted directory must stop the program"
    );
    assert!(
        ran.stderr.contains("cannot open the granted directory"),
        "{ran:?}"
    );
    let (found, ran) = has_grant_code(&["--env", "MODE=fast"]);
    assert!(
        found,
        "an image with an environment grant lacks the grant code"
    );
    assert_eq!(ran.code, 1, "{ran:?}");
}

#[test]
fn target_cpu_native_builds_for_this_machine_only() {
    let dir = scratch("cli-native-cpu");
    let input = hello_wasm(&dir);
    let image = dir.join("native");
    let built = common::wafer_build(&input, &image, &["--target-cpu", "native"]);
    assert_eq!(built.code, 0, "{built:?}");
    let ran = run_command(&mut Command::new(&image));
    assert_eq!((ran.code, ran.stdout.as_str()), (1, "hi\n"));
    let foreign = if cfg!(target_arch = "aarch64") {
        "x86_64-linux"
    } else {
        "aarch64-linux"
    };
    let refused = common::wafer_build(
        &input,
        &dir.join("foreign"),
        &["--target-cpu", "native", "--target", foreign],
    );
    assert_one_line_error(&refused, &["--target-cpu native", "this machine"]);
    assert!(!dir.join("foreign").exists());
}

#[test]
fn functions_whose_every_call_was_inlined_are_left_out() {
    // Small functions are inlined into their callers; one that nothing else can reach
    // (no export, table element or remaining call) must not cost the image its code,
    // while one that escapes keeps it.
    const WAT: &str = r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (table 1 funcref)
      (elem (i32.const 0) $in_table)
      (func $only_called (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
      (func $in_table (param i32) (result i32) (i32.add (local.get 0) (i32.const 2)))
      (func $exported (export "exported") (param i32) (result i32)
        (i32.add (local.get 0) (i32.const 3)))
      (func (export "_start")
        (call $exit
          (call $exported (call $in_table (call $only_called (i32.const 36)))))))"#;
    let dir = scratch("cli-dead-functions");
    let input = dir.join("dead.wat");
    std::fs::write(&input, WAT).unwrap();
    let image = dir.join("dead");
    let built = common::wafer_build(&input, &image, &["--symbols"]);
    assert_eq!(built.code, 0, "{built:?}");
    let ran = run_command(&mut Command::new(&image));
    assert_eq!(ran.code, 42, "{ran:?}");
    let defined = defined_symbols(&image);
    let has = |name: &str| defined.iter().any(|d| d == name);
    assert!(!has("wasm:only_called"), "{defined:?}");
    assert!(has("wasm:in_table"), "{defined:?}");
    assert!(has("wasm:exported"), "{defined:?}");
}

#[test]
fn images_carry_no_panic_or_formatting_machinery() {
    // core::fmt and panic paths add kilobytes to every image; the runtime avoids them,
    // in every host function and on every target (the optimiser removes different
    // bounds checks on each).
    let dir = scratch("cli-lean-image");
    let every = dir.join("every.wat");
    std::fs::write(&every, every_wasi_import_wat()).unwrap();
    for target in ["x86_64-linux", "aarch64-linux", "riscv64-linux"] {
        for input in [hello_wasm(&dir), every.clone()] {
            let image = dir.join(format!("image.{target}"));
            let built = common::wafer_build(&input, &image, &["--symbols", "--target", target]);
            assert_eq!(built.code, 0, "{built:?}");
            let heavy: Vec<String> = defined_symbols(&image)
                .into_iter()
                .filter(|name| {
                    name.contains("panicking")
                        || name.contains("core3fmt")
                        || name.contains("slice_index_fail")
                })
                .collect();
            assert!(
                heavy.is_empty(),
                "{} ({target}) links {heavy:?}",
                input.display()
            );
        }
    }
}

#[test]
fn closed_standard_descriptors_are_not_reused_for_files() {
    // Started with 0, 1 and 2 closed, the image must not hand those numbers to a
    // preopen or a file, where guest "stdout" writes (or trap reports) would land.
    use std::os::unix::process::CommandExt;
    let dir = scratch("cli-closed-stdio");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let input = dir.join("writer.c");
    std::fs::write(
        &input,
        "#include <stdio.h>\n\
         int main(void) {\n\
           FILE *f = fopen(\"/data/out.txt\", \"w\");\n\
           if (!f) return 3;\n\
           fputs(\"to the file\\n\", f);\n\
           fflush(f);\n\
           puts(\"to stdout\");\n\
           fflush(stdout);\n\
           fclose(f);\n\
           return 0;\n\
         }\n",
    )
    .unwrap();
    let wasm = dir.join("writer.wasm");
    let compiled = run_command(
        Command::new("clang")
            .args(["--target=wasm32-wasi", "-O2", "-o"])
            .arg(&wasm)
            .arg(&input),
    );
    assert_eq!(compiled.code, 0, "{compiled:?}");
    let image = dir.join("writer");
    assert_eq!(
        common::wafer_build(&wasm, &image, &["--dir", "data::/data"]).code,
        0
    );
    let mut command = Command::new(&image);
    command.current_dir(&dir);
    // SAFETY: runs in the child between fork and exec; close is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            for fd in 0..3 {
                libc::close(fd);
            }
            Ok(())
        });
    }
    let status = command.status().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.join("data/out.txt")).unwrap(),
        "to the file\n"
    );
}

#[test]
fn an_image_without_address_space_for_its_memory_fails_with_one_line() {
    // A linear memory reserves 8 GiB of address space (on x86_64 at a fixed address, so
    // compiled code can address it with a constant). Under a smaller address-space limit
    // the reservation fails: the runtime must say so, not crash.
    let dir = scratch("cli-no-address-space");
    let image = dir.join("hello");
    assert_eq!(common::wafer_build(&hello_wasm(&dir), &image, &[]).code, 0);
    let limited = run_command(
        Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 1048576 && exec \"$0\"")
            .arg(&image),
    );
    assert_eq!(limited.code, 70, "{limited:?}");
    assert_eq!(limited.stdout, "", "{limited:?}");
    let lines: Vec<&str> = limited.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{limited:?}");
    assert!(
        lines[0].contains("cannot reserve") && lines[0].contains("linear memory"),
        "{limited:?}"
    );
    // The same image runs without the limit (and exits with its argument count).
    assert_eq!(common::run_image(&image, &[], &[]).code, 1);
}

#[test]
fn identical_functions_share_one_copy_of_code() {
    // Two functions with the same type and body are compiled once: the second is an
    // alias at the first one's address. A third, equal in body but of another type, and
    // a fourth, one byte different, keep code of their own. Every one still runs.
    const WAT: &str = r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (func $first (param i32) (result i32)
        (i32.div_u (i32.mul (local.get 0) (i32.const 3)) (local.get 0)))
      (func $copy (param i32) (result i32)
        (i32.div_u (i32.mul (local.get 0) (i32.const 3)) (local.get 0)))
      (func $other_type (param i32) (result i64)
        (i64.extend_i32_u
          (i32.div_u (i32.mul (local.get 0) (i32.const 3)) (local.get 0))))
      (func $different (param i32) (result i32)
        (i32.div_u (i32.mul (local.get 0) (i32.const 4)) (local.get 0)))
      (table funcref (elem $first $copy $other_type $different))
      (func (export "_start")
        ;; 3 + 3 + 3 + 4
        (call $exit
          (i32.add
            (i32.add (call $first (i32.const 5)) (call $copy (i32.const 6)))
            (i32.add
              (i32.wrap_i64 (call $other_type (i32.const 7)))
              (call $different (i32.const 8)))))))"#;
    let dir = scratch("cli-identical-functions");
    let input = dir.join("identical.wat");
    std::fs::write(&input, WAT).unwrap();
    let image = dir.join("identical");
    let built = common::wafer_build(&input, &image, &["--symbols"]);
    assert_eq!(built.code, 0, "{built:?}");
    let ran = run_command(&mut Command::new(&image));
    assert_eq!(ran.code, 13, "{ran:?}");

    use object::{Object, ObjectSymbol};
    let bytes = std::fs::read(&image).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let address = |name: &str| {
        file.symbols()
            .find(|s| s.name() == Ok(name))
            .map(|s| s.address())
            .unwrap_or_else(|| panic!("no symbol {name}"))
    };
    assert_eq!(address("wasm:first"), address("wasm:copy"));
    assert_ne!(address("wasm:first"), address("wasm:other_type"));
    assert_ne!(address("wasm:first"), address("wasm:different"));
}

#[test]
fn images_carry_section_headers_only_with_symbols() {
    // Section headers serve tools, not the kernel: a plain image is its loaded segments
    // alone, and `wafer inspect` still finds its metadata. `--symbols` brings them back
    // for disassemblers and profilers.
    use object::Object;
    let dir = scratch("cli-section-headers");
    let input = hello_wasm(&dir);
    let plain = dir.join("plain");
    let with_symbols = dir.join("symbols");
    assert_eq!(common::wafer_build(&input, &plain, &[]).code, 0);
    assert_eq!(
        common::wafer_build(&input, &with_symbols, &["--symbols"]).code,
        0
    );
    let plain_bytes = std::fs::read(&plain).unwrap();
    let plain_file = object::File::parse(&*plain_bytes).unwrap();
    assert_eq!(plain_file.sections().count(), 0);
    let symbols_bytes = std::fs::read(&with_symbols).unwrap();
    let symbols_file = object::File::parse(&*symbols_bytes).unwrap();
    assert!(symbols_file.section_by_name(".text").is_some());
    for image in [&plain, &with_symbols] {
        let inspected = wafer_cmd(&["inspect", image.to_str().unwrap()]);
        assert_eq!(inspected.code, 0, "{inspected:?}");
        assert!(inspected.stdout.contains("trap sites"), "{inspected:?}");
        assert!(inspected.stdout.contains("stdout (fd 1)"), "{inspected:?}");
        assert_eq!(common::run_image(image, &[], &[]).code, 1);
    }
}

#[test]
fn instantiating_a_harness_instance_again_gives_it_a_fresh_memory() {
    // On x86_64 the first memory of an image is reserved at a fixed address; the test
    // harness may instantiate its instance a second time, which must replace the old
    // reservation (not fail because the address is taken) and start from zeroed pages.
    use common::harness::{Harness, Reply};
    const WAT: &str = r#"(module
      (memory 1)
      (func (export "set") (param i32) (i32.store (i32.const 64) (local.get 0)))
      (func (export "get") (result i32) (i32.load (i32.const 64))))"#;
    let wasm = wat::parse_str(WAT).unwrap();
    let spec = wafer::codegen::InstanceSpec {
        wasm: &wasm,
        imports: Default::default(),
    };
    let target = wafer::target::host().expect("tests run on a supported host");
    let image =
        wafer::driver::build_harness(&[spec], &target, None, Default::default(), None).unwrap();
    let dir = scratch("cli-harness-reinstantiate");
    let path = dir.join("harness");
    std::fs::write(&path, image).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut harness = Harness::start(&path, &[]).unwrap();
    let mut run = |command: &str| harness.command(command).unwrap();
    assert_eq!(run("i 0"), Reply::Ok(vec![]));
    assert_eq!(run("c 0 0 0 2a"), Reply::Ok(vec![]));
    assert_eq!(run("c 0 1 1"), Reply::Ok(vec![0x2a]));
    assert_eq!(run("i 0"), Reply::Ok(vec![]));
    assert_eq!(run("c 0 1 1"), Reply::Ok(vec![0]));
}

#[test]
fn harness_commands_write_globals_and_hash_memories_and_tables() {
    // The differential fuzzer compares an image's state with wasmi's through these
    // commands (`wafer_abi::harness`): a memory's length and the hash of its bytes, a
    // table's length and the hash of which elements are null, and it refuels a module
    // by writing a global. Two instances: the second imports the first's memory and
    // table, whose exports must name the first instance's definitions.
    use common::harness::{Harness, Reply};
    use wafer_abi::harness::hash_words;
    const OWNER: &str = r#"(module
      (memory (export "mem") 1 3)
      (table (export "tab") 3 funcref)
      (global (export "fuel") (mut i32) (i32.const 7))
      (global (export "fixed") i64 (i64.const 9))
      (func $f (export "f") (result i32) (global.get 0))
      (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
      (func (export "grow") (result i32) (memory.grow (i32.const 1)))
      (func (export "set") (param i32) (table.set (local.get 0) (ref.func $f))))"#;
    const USER: &str = r#"(module
      (import "owner" "mem" (memory 1))
      (import "owner" "tab" (table 1 funcref))
      (export "m" (memory 0))
      (export "t" (table 0)))"#;
    let owner = wat::parse_str(OWNER).unwrap();
    let user = wat::parse_str(USER).unwrap();
    let specs = [
        wafer::codegen::InstanceSpec {
            wasm: &owner,
            imports: Default::default(),
        },
        wafer::codegen::InstanceSpec {
            wasm: &user,
            imports: [(
                "owner".to_string(),
                wafer::codegen::ImportSource::Instance(0),
            )]
            .into(),
        },
    ];
    let target = wafer::target::host().expect("tests run on a supported host");
    // A 2-page cap on a memory declared to grow to 3.
    let image =
        wafer::driver::build_harness(&specs, &target, None, Default::default(), Some(2 << 16))
            .unwrap();
    let dir = scratch("cli-harness-state");
    let path = dir.join("harness");
    std::fs::write(&path, image).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut harness = Harness::start(&path, &[]).unwrap();
    let mut run = |command: &str| harness.command(command).unwrap();
    assert_eq!(run("i 0"), Reply::Ok(vec![]));
    assert_eq!(run("i 1"), Reply::Ok(vec![]));
    let mut memory = vec![0u8; 1 << 16];
    let hash = |bytes: &[u8]| hash_words(bytes) as u128;
    assert_eq!(run("m 0 0"), Reply::Ok(vec![1 << 16, hash(&memory)]));
    assert_eq!(run("c 0 5 0 1234 ab"), Reply::Ok(vec![]));
    memory[0x1234] = 0xab;
    assert_eq!(run("m 0 0"), Reply::Ok(vec![1 << 16, hash(&memory)]));
    assert_eq!(run("m 1 0"), Reply::Ok(vec![1 << 16, hash(&memory)]));
    // Growing: the new page reads as zeros; the cap stops the second growth.
    assert_eq!(run("c 0 6 1"), Reply::Ok(vec![1]));
    assert_eq!(run("c 0 6 1"), Reply::Ok(vec![u32::MAX as u128]));
    memory.resize(2 << 16, 0);
    assert_eq!(run("m 1 0"), Reply::Ok(vec![2 << 16, hash(&memory)]));
    assert_eq!(run("t 1 1"), Reply::Ok(vec![3, hash(&[0, 0, 0])]));
    assert_eq!(run("c 0 7 0 2"), Reply::Ok(vec![]));
    assert_eq!(run("t 0 1"), Reply::Ok(vec![3, hash(&[0, 0, 1])]));
    assert_eq!(run("t 1 1"), Reply::Ok(vec![3, hash(&[0, 0, 1])]));
    // Writing a global, mutable or not.
    assert_eq!(run("c 0 4 1"), Reply::Ok(vec![7]));
    assert_eq!(run("s 0 2 3e8"), Reply::Ok(vec![]));
    assert_eq!(run("g 0 2"), Reply::Ok(vec![0x3e8]));
    assert_eq!(run("c 0 4 1"), Reply::Ok(vec![0x3e8]));
    assert_eq!(run("g 0 3"), Reply::Ok(vec![9]));
    // Wrong kinds are errors, not crashes.
    assert!(harness.command("m 0 2").is_err());
    assert!(harness.command("t 0 0").is_err());
    assert!(harness.command("s 0 0 1").is_err());
}

#[test]
fn checks_are_selected_by_option_or_environment_and_counted() {
    let dir = scratch("cli-checks");
    let input = dir.join("checked.wat");
    std::fs::write(
        &input,
        r#"(module (memory 1)
          (func (export "_start")
            (i32.store (i32.const 16) (i32.load offset=4 (i32.load (i32.const 8))))))"#,
    )
    .unwrap();
    let input = input.to_str().unwrap();
    assert_one_line_error(
        &wafer_cmd(&["build", input, "--checks", "bound"]),
        &["--checks", "bound"],
    );
    let from_env = run_command(
        Command::new(wafer())
            .args(["build", input])
            .env("WAFER_CHECKS", "everything"),
    );
    assert_one_line_error(&from_env, &["WAFER_CHECKS", "everything"]);

    // The stack limit comes from the runtime only in images whose code checks it.
    let image = dir.join("image");
    let reads_limit = |checks: &str| {
        let built =
            common::wafer_build(Path::new(input), &image, &["--symbols", "--checks", checks]);
        assert_eq!(built.code, 0, "{built:?}");
        let ran = run_command(&mut Command::new(&image));
        assert_eq!(ran.code, 0, "{ran:?}");
        defined_symbols(&image)
            .iter()
            .any(|name| name == wafer_abi::symbols::STACK_LIMIT)
    };
    assert!(!reads_limit("none"));
    assert!(reads_limit("stack"));

    // WAFER_TIMINGS=1 counts the checks: the constant addresses need none, the load
    // through a loaded address does.
    let timed = |checks: &str| {
        let built = run_command(
            Command::new(wafer())
                .args([
                    "build",
                    input,
                    "-o",
                    image.to_str().unwrap(),
                    "--checks",
                    checks,
                ])
                .env("WAFER_TIMINGS", "1"),
        );
        assert_eq!(built.code, 0, "{built:?}");
        built
            .stderr
            .lines()
            .find(|line| line.contains("bounds checks"))
            .map(str::to_string)
    };
    assert_eq!(timed("none"), None);
    assert_eq!(
        timed("bounds").as_deref(),
        Some("wafer: bounds checks: 1 emitted, 2 elided (2 constant, 0 bounded, 0 dominated)")
    );
}

/// Grows memory 0 a page at a time until `memory.grow` fails; exits with the pages it
/// reached. The first memory has 64 KiB pages, the second 1-byte pages.
const GROW_UNTIL_REFUSED: &str = r#"
(module
  (memory 0)
  (memory $small i64 16 (pagesize 1))
  (func (export "pages") (result i32)
    (loop $more
      (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (memory.size))
  (func (export "small") (result i32)
    (loop $more
      (br_if $more (i64.ne (memory.grow $small (i64.const 1)) (i64.const -1))))
    (i32.wrap_i64 (memory.size $small))))
"#;

#[test]
fn max_memory_caps_growth_and_rejects_a_memory_that_starts_larger() {
    let dir = scratch("cli-max-memory");
    let input = dir.join("grow.wasm");
    std::fs::write(&input, wat::parse_str(GROW_UNTIL_REFUSED).unwrap()).unwrap();
    let input = input.to_str().unwrap();
    let cache = dir.join("cache");
    // (export, --max-memory, pages reached): without a limit memory 0 reaches 65536
    // pages (exit status 0); 640K is ten 64 KiB pages; 200 bytes of 1-byte pages is 200
    // pages. The runs share a cache, so the limit must be part of the cached image's key.
    let cases: &[(&str, Option<&str>, i32)] = &[
        ("pages", None, 0),
        ("pages", Some("640K"), 10),
        ("small", Some("200"), 200),
    ];
    for (export, limit, pages) in cases {
        let mut command = Command::new(wafer());
        command.args(["run", "--invoke", export]);
        if let Some(limit) = limit {
            command.args(["--max-memory", limit]);
        }
        let outcome = run_command(command.arg(input).env("WAFER_CACHE_DIR", &cache));
        assert_eq!(
            (outcome.code, outcome.stderr.as_str()),
            (*pages, ""),
            "{export} with --max-memory {limit:?}"
        );
    }
    // A memory that starts above the limit: one line, no output.
    let output = dir.join("grow");
    let outcome = wafer_cmd(&[
        "build",
        input,
        "--max-memory",
        "8",
        "-o",
        output.to_str().unwrap(),
    ]);
    assert_one_line_error(
        &outcome,
        &[
            "grow.wasm",
            "--max-memory 8 is less than the 16 bytes memory 1",
        ],
    );
    assert!(!output.exists());
    assert_one_line_error(&wafer_cmd(&["build", input, "--max-memory", "5X"]), &["5X"]);
}
