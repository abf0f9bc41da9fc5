//! WAT programs with expected output: every operator family, every trap kind, memory
//! growth, WASI basics. Each `tests/programs/NAME.wat` is built with the `wafer` CLI and
//! run; its exit status, stderr and stdout must equal `NAME.expected`
//! (`WAFER_BLESS=1` rewrites those files).
//!
//! Header directives in the `.wat` file:
//! - `;; prelude` splices in `prelude.wat` (printing helpers);
//! - `;; args: A B` passes arguments;
//! - `;; build: FLAGS` adds `wafer build` flags;
//! - `;; checks: MODE...` builds and runs the program once per mode (`--checks none`,
//!   `--checks bounds,stack`, ...), every run giving the same expected output; without
//!   it the program is built once, with the checks `WAFER_CHECKS` selects;
//! - `;; no-reference: WHY` skips the wasmtime comparison, for a stated reason.
//!
//! A few programs are generated (see [`generated_programs`]): they are too large to
//! write by hand, and their expected output is a file like any other.
//!
//! Every program is built for every Linux target and run natively or under qemu-user;
//! all targets must give the same, expected, output (`WAFER_TEST_TARGETS` narrows the
//! list). Programs built with an x86 `--target-cpu` run on x86_64 only; on riscv64,
//! programs using SIMD are built with `--target-cpu rv64gcv`.
//!
//! When `wasmtime` is installed, every program also runs under it and must give the
//! same stdout and exit status (trap messages differ by design, so stderr is not
//! compared).
//!
//! Every program also runs as a firmware image on the `virt` boards under qemu-system
//! (explicit bounds checks, the bare-metal runtime): its exit status and console (the
//! expected stderr, then stdout... in the order written) must match the same expected
//! file. Programs using SIMD are skipped on riscv64 boards, whose QEMU CPUs lack the
//! vector extension; `WAFER_TEST_BOARDS` narrows the boards.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Failures, Outcome};

struct Program {
    name: String,
    source: String,
    args: Vec<String>,
    build_flags: Vec<String>,
    /// `--checks` values to build with, one run each; empty for one run without.
    checks: Vec<String>,
    compare_with_reference: bool,
}

fn directive(source: &str, key: &str) -> Vec<String> {
    source
        .lines()
        .take_while(|line| line.starts_with(";;"))
        .filter_map(|line| line.strip_prefix(";;")?.trim().strip_prefix(key))
        .flat_map(|rest| {
            rest.split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Splices the prelude's import after `(module` and its definitions before the last `)`.
fn with_prelude(source: &str) -> String {
    let prelude = std::fs::read_to_string(common::tests_dir().join("programs/prelude.wat"))
        .expect("prelude.wat");
    let marker = prelude
        .find(";; ---- definitions")
        .expect("prelude has a definitions marker");
    let (imports, definitions) = prelude.split_at(marker);
    let open = source.find("(module").expect("program has (module") + "(module".len();
    let close = source.rfind(')').expect("program ends with )");
    format!(
        "{}\n{imports}{}\n{definitions}{}",
        &source[..open],
        &source[open..close],
        &source[close..]
    )
}

fn load_programs() -> Vec<Program> {
    let dir = common::tests_dir().join("programs");
    let mut programs: Vec<Program> = std::fs::read_dir(&dir)
        .expect("tests/programs")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "wat"))
        .filter(|path| path.file_stem().is_some_and(|s| s != "prelude"))
        .map(|path| {
            let raw = std::fs::read_to_string(&path).expect("read program");
            let source = if raw.starts_with(";; prelude") {
                with_prelude(&raw)
            } else {
                raw.clone()
            };
            program(&path.file_stem().unwrap().to_string_lossy(), &raw, source)
        })
        .chain(generated_programs())
        .collect();
    programs.sort_by(|a, b| a.name.cmp(&b.name));
    programs
}

/// A program named `name` with directives from `raw` (its text as written).
fn program(name: &str, raw: &str, source: String) -> Program {
    Program {
        name: name.to_string(),
        args: directive(raw, "args:"),
        build_flags: directive(raw, "build:"),
        checks: directive(raw, "checks:"),
        compare_with_reference: directive(raw, "no-reference:").is_empty(),
        source,
    }
}

/// Programs too large to write by hand, each with `tests/programs/NAME.expected`.
fn generated_programs() -> Vec<Program> {
    // A recursive function with a frame larger than the 64 KiB guard region below the
    // guest stack: 4,200 vectors loaded from distinct addresses stay live across the
    // recursive call, so each needs its own 16-byte spill slot (about 67 KiB). The
    // prologue must probe the guard (or, with stack-limit checks, compare the stack
    // pointer less the whole frame with the limit) instead of jumping past it.
    const VECTORS: usize = 4200;
    let mut huge = String::from(
        ";; checks: none bounds,stack\n\
         (module (memory 2)\n  (func $huge (param $p i32) (result v128)\n",
    );
    for i in 0..VECTORS {
        huge.push_str(&format!(
            "    (v128.load offset={} (local.get $p))\n",
            i * 16
        ));
    }
    huge.push_str("    (call $huge (i32.add (local.get $p) (i32.const 1)))\n");
    huge.push_str(&"    i32x4.add\n".repeat(VECTORS));
    huge.push_str("  )\n  (func (export \"_start\") (drop (call $huge (i32.const 0)))))\n");
    vec![program(
        "trap_stack_overflow_huge_frame",
        &huge,
        huge.clone(),
    )]
}

fn describe(outcome: &Outcome) -> String {
    format!(
        "exit: {}\n--- stderr\n{}--- stdout\n{}",
        outcome.code, outcome.stderr, outcome.stdout
    )
}

/// The `wafer build` flags for `program` on `target`, or `None` when it does not apply
/// there (an x86 CPU preset).
fn flags_for(program: &Program, target: &common::TestTarget) -> Option<Vec<String>> {
    let mut flags = program.build_flags.clone();
    let x86_cpu = flags.iter().any(|f| f.starts_with("x86-64"));
    if x86_cpu && target.name != "x86_64-linux" {
        return None;
    }
    if target.name == "riscv64-linux" && program.source.contains("v128") {
        flags.extend(["--target-cpu".to_string(), "rv64gcv".to_string()]);
    }
    flags.extend(["--target".to_string(), target.name.to_string()]);
    Some(flags)
}

/// Builds and runs one program on one target; returns its outcome.
fn build_and_run(
    program: &Program,
    target: &common::TestTarget,
    flags: &[String],
    dir: &Path,
) -> Result<(PathBuf, Outcome), String> {
    let wat = dir.join(format!("{}.wat", program.name));
    std::fs::write(&wat, &program.source).expect("write program");
    let image = dir.join(format!("{}.{}", program.name, target.name));
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let build = common::wafer_build(&wat, &image, &flags);
    if build.code != 0 {
        return Err(format!(
            "{} ({}): build failed: {}",
            program.name, target.name, build.stderr
        ));
    }
    let args: Vec<&str> = program.args.iter().map(String::as_str).collect();
    Ok((wat, common::run_image_on(target, &image, &args, &[])))
}

fn check_program(
    program: &Program,
    target: &common::TestTarget,
    dir: &Path,
    wasmtime: Option<&Path>,
) -> Vec<String> {
    let Some(flags) = flags_for(program, target) else {
        return Vec::new();
    };
    let modes: Vec<Option<&str>> = match program.checks.is_empty() {
        true => vec![None],
        false => program.checks.iter().map(|m| Some(m.as_str())).collect(),
    };
    let mut failures = Vec::new();
    let mut first_run = None;
    for (run, mode) in modes.into_iter().enumerate() {
        let mut flags = flags.clone();
        if let Some(mode) = mode {
            flags.extend(["--checks".to_string(), mode.to_string()]);
        }
        let (wat, outcome) = match build_and_run(program, target, &flags, dir) {
            Ok(result) => result,
            Err(e) => return vec![e],
        };
        let golden = common::tests_dir()
            .join("programs")
            .join(format!("{}.expected", program.name));
        // The host's first run writes golden files under WAFER_BLESS; other runs compare.
        let result = if target.emulator.is_none() && run == 0 {
            common::check_golden(&golden, &describe(&outcome))
        } else {
            let expected = std::fs::read_to_string(&golden).unwrap_or_default();
            if expected == describe(&outcome) {
                Ok(())
            } else {
                Err(format!(
                    "{} on {}{} differs from {}:\n{}",
                    program.name,
                    target.name,
                    mode.map_or(String::new(), |m| format!(" with --checks {m}")),
                    golden.display(),
                    common::first_difference(&expected, &describe(&outcome))
                ))
            }
        };
        if let Err(e) = result {
            failures.push(e);
        }
        first_run.get_or_insert((wat, outcome));
    }
    let Some((wat, outcome)) = first_run else {
        return failures;
    };
    let wasmtime = wasmtime.filter(|_| program.compare_with_reference && target.emulator.is_none());
    if let Some(wasmtime) = wasmtime {
        let reference: Outcome = common::run_command(
            Command::new(wasmtime)
                .arg("run")
                .arg(&wat)
                .args(&program.args)
                .env_clear(),
        );
        if reference.code != outcome.code || reference.stdout != outcome.stdout {
            failures.push(format!(
                "{}: differs from wasmtime: exit {} vs {}\n{}",
                program.name,
                outcome.code,
                reference.code,
                common::first_difference(&reference.stdout, &outcome.stdout)
            ));
        }
    }
    failures
}

#[test]
fn programs_match_expected_output() {
    let programs = load_programs();
    assert!(programs.len() > 20, "programs are missing");
    let dir = common::scratch("programs");
    let wasmtime = common::which("wasmtime");
    if wasmtime.is_none() {
        eprintln!("note: wasmtime not installed; skipping the reference comparison");
    }
    let targets = common::test_targets();
    let jobs: Vec<(&Program, &common::TestTarget)> = targets
        .iter()
        .flat_map(|target| programs.iter().map(move |program| (program, target)))
        .collect();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunks: Vec<&[(&Program, &common::TestTarget)]> =
        jobs.chunks(jobs.len().div_ceil(workers)).collect();
    let results: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                let dir = &dir;
                let wasmtime = wasmtime.as_deref();
                scope.spawn(move || {
                    chunk
                        .iter()
                        .flat_map(|(program, target)| check_program(program, target, dir, wasmtime))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("worker"))
            .collect()
    });
    let mut failures = Failures::default();
    for failure in results {
        failures.push(failure);
    }
    failures.finish("programs");
}

/// The `virt` boards (the others run the board suite in `tests/boards.rs`).
fn program_boards() -> Vec<common::boards::Board> {
    let all = common::boards::boards();
    if std::env::var("WAFER_TEST_BOARDS").is_ok() {
        return all;
    }
    all.into_iter()
        .filter(|board| board.name.starts_with("qemu-virt-"))
        .collect()
}

/// Builds `program` for `board`, boots it and compares with its expected file.
fn check_on_board(program: &Program, board: &common::boards::Board, dir: &Path) -> Vec<String> {
    let x86_cpu = program.build_flags.iter().any(|f| f.starts_with("x86-64"));
    let riscv = board.name.contains("riscv") || board.name.starts_with("sifive");
    if x86_cpu || (riscv && !board.vector && program.source.contains("v128")) {
        return Vec::new();
    }
    let wat = dir.join(format!("{}.board.wat", program.name));
    std::fs::write(&wat, &program.source).expect("write program");
    let image = dir.join(format!("{}.{}", program.name, board.name));
    let mut flags: Vec<String> = program.build_flags.clone();
    flags.extend(["--target".into(), board.name.clone()]);
    for arg in &program.args {
        flags.extend(["--arg".into(), arg.clone()]);
    }
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let build = common::wafer_build(&wat, &image, &flags);
    if build.code != 0 {
        return vec![format!(
            "{} ({}): build failed: {}",
            program.name, board.name, build.stderr
        )];
    }
    let outcome = match board.boot(&image, None, std::time::Duration::from_secs(120)) {
        Ok(outcome) => outcome,
        Err(e) => return vec![format!("{} ({}): {e}", program.name, board.name)],
    };
    let golden = common::tests_dir()
        .join("programs")
        .join(format!("{}.expected", program.name));
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    // The expected file holds stderr and stdout apart; the board's console has both,
    // each in the order written. Compare the exit status, and the console against both
    // orders of concatenation (programs write one stream, or stdout before a trap).
    let (code, stderr, stdout) = parse_expected(&expected);
    let console = outcome.stdout.as_str();
    let matches = outcome.code == code
        && (console == format!("{stdout}{stderr}") || console == format!("{stderr}{stdout}"));
    if matches {
        Vec::new()
    } else {
        vec![format!(
            "{} on {}: exit {} (expected {code}), console:\n{}\n--- expected stdout\n{stdout}--- expected stderr\n{stderr}--- qemu stderr\n{}",
            program.name, board.name, outcome.code, console, outcome.stderr
        )]
    }
}

/// Exit status, stderr and stdout of an expected file written by [`describe`].
fn parse_expected(text: &str) -> (i32, String, String) {
    let code = text
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("exit: "))
        .and_then(|code| code.parse().ok())
        .unwrap_or(-1);
    let after_stderr = text.split_once("--- stderr\n").map_or("", |(_, rest)| rest);
    let (stderr, stdout) = after_stderr
        .split_once("--- stdout\n")
        .unwrap_or((after_stderr, ""));
    (code, stderr.to_string(), stdout.to_string())
}

#[test]
fn programs_run_as_firmware_on_the_virt_boards() {
    let programs = load_programs();
    let dir = common::scratch("programs-boards");
    let boards = program_boards();
    let jobs: Vec<(&Program, &common::boards::Board)> = boards
        .iter()
        .flat_map(|board| programs.iter().map(move |program| (program, board)))
        .collect();
    let mut failures = Failures::default();
    for failure in common::toolchain::run_parallel(&jobs, |(program, board)| {
        check_on_board(program, board, &dir)
    }) {
        failures.push(failure);
    }
    failures.finish("programs on boards");
}
