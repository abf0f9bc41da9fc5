//! Real guests, the "programs" tier of DESIGN.md §8 for toolchain output: C built with
//! clang + wasi-libc (`tests/guests/c`) and Rust built for `wasm32-wasip1`
//! (`tests/guests/rust`), compiled to `.wasm` at test time, built into images with the
//! `wafer` CLI and run. Each case's exit status and stdout must equal
//! `tests/guests/expected/CASE.expected` (`WAFER_BLESS=1` rewrites those files); stderr
//! must be empty, or contain the case's required lines (panic message, trap line).
//!
//! Cases cover printf/println, argv, granted and withheld environment variables
//! (`--env K=V`, `--env K`, `--inherit-env`), stdin, compute kernels with checksums, and
//! traps from `abort` (C) and panics (Rust).
//!
//! Every case is built for every Linux target and run natively or under qemu-user, and
//! must give the same output everywhere (`WAFER_TEST_TARGETS` narrows the list).
//!
//! When `wasmtime` is installed, every case also runs under it, given the environment
//! the build grants, and must give the same stdout and exit status.
//!
//! Missing toolchains fail the test with what to install: skipping would hide breakage.
//! Built `.wasm` files are cached in `target/guests-cache`, keyed by a hash of the
//! compiler version, flags and source.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Failures, Outcome, toolchain};

/// One run of a guest.
struct Case {
    /// Golden file name, and the image's name.
    name: &'static str,
    /// Source file under `tests/guests/`.
    source: &'static str,
    /// Extra `wafer build` flags.
    build: &'static [&'static str],
    args: &'static [&'static str],
    /// The host environment the image runs in (nothing else is set).
    env: &'static [(&'static str, &'static str)],
    /// Standard input, if piped.
    stdin: Option<fn() -> Vec<u8>>,
    /// Text that some line of stderr must contain; with none, stderr must be empty.
    stderr: &'static [&'static str],
}

const TRAP_IN_ABORT: &str = "wafer: trap: unreachable executed in abort (wasm offset 0x";

const HOST_ENV: &[(&str, &str)] = &[
    ("HOME", "/home/test"),
    ("SECRET", "1"),
    ("GREETING", "from-host"),
];

const CASES: &[Case] = &[
    Case::new("c_hello", "c/hello.c"),
    Case {
        build: &["--env", "GREETING=hello", "--env", "HOME"],
        args: &["one", "two words", "ünïcödé", ""],
        env: HOST_ENV,
        ..Case::new("c_args_env", "c/args_env.c")
    },
    Case {
        build: &["--env", "GREETING=hello", "--env", "HOME"],
        env: &[("SECRET", "1")],
        ..Case::new("c_args_env_no_host_home", "c/args_env.c")
    },
    Case {
        build: &["--inherit-env"],
        args: &["--inherit-env"],
        env: &[("HOME", "/home/test"), ("SECRET", "1"), ("LANG", "C")],
        ..Case::new("c_args_env_inherit", "c/args_env.c")
    },
    Case::new("c_compute", "c/compute.c"),
    Case {
        stderr: &[TRAP_IN_ABORT],
        ..Case::new("c_abort", "c/abort.c")
    },
    Case::new("rust_hello", "rust/hello.rs"),
    Case::new("rust_compute", "rust/compute.rs"),
    Case {
        stderr: &[
            "panicked at panic.rs:",
            "the guest gave up at depth 42",
            TRAP_IN_ABORT,
        ],
        ..Case::new("rust_panic", "rust/panic.rs")
    },
    Case {
        stdin: Some(wc_input),
        ..Case::new("rust_wc", "rust/wc.rs")
    },
    Case {
        stdin: Some(Vec::new),
        ..Case::new("rust_wc_empty", "rust/wc.rs")
    },
];

impl Case {
    const fn new(name: &'static str, source: &'static str) -> Case {
        Case {
            name,
            source,
            build: &[],
            args: &[],
            env: &[],
            stdin: None,
            stderr: &[],
        }
    }
}

/// About 160 KiB of text for `wc.rs`: more than a pipe buffer, some of it UTF-8, and a
/// last line without a newline.
fn wc_input() -> Vec<u8> {
    let words = [
        "naïve", "café", "wafer", "wasm", "stdin", "pipe", "the", "a",
    ];
    let mut text = String::new();
    for line in 0..6000usize {
        text.push_str(&format!("{line:05}:"));
        for word in 0..line % 9 {
            text.push(' ');
            text.push_str(words[(line * 7 + word * 3) % words.len()]);
        }
        text.push('\n');
    }
    text.push_str("no newline at the end");
    text.into_bytes()
}

/// The environment a guest should see: what `build` grants out of the host's `env`.
fn granted_env(build: &[&str], env: &[(&str, &str)]) -> Vec<(String, String)> {
    if build.contains(&"--inherit-env") {
        return env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    }
    build
        .windows(2)
        .filter(|pair| pair[0] == "--env")
        .filter_map(|pair| match pair[1].split_once('=') {
            Some((key, value)) => Some((key.to_string(), value.to_string())),
            None => env
                .iter()
                .find(|(key, _)| *key == pair[1])
                .map(|(key, value)| (key.to_string(), value.to_string())),
        })
        .collect()
}

fn describe(outcome: &Outcome) -> String {
    format!("exit: {}\n--- stdout\n{}", outcome.code, outcome.stdout)
}

fn check_stderr(case: &Case, stderr: &str) -> Result<(), String> {
    let missing: Vec<&str> = case
        .stderr
        .iter()
        .copied()
        .filter(|needle| !stderr.lines().any(|line| line.contains(needle)))
        .collect();
    if case.stderr.is_empty() && !stderr.is_empty() || !missing.is_empty() {
        return Err(format!(
            "{}: stderr lacks {missing:?} (or should be empty):\n{stderr}",
            case.name
        ));
    }
    Ok(())
}

fn check_case(
    case: &Case,
    target: &common::TestTarget,
    wasm: &Path,
    dir: &Path,
    wasmtime: Option<&Path>,
) -> Vec<String> {
    let mut failures = Vec::new();
    let image = dir.join(format!("{}.{}", case.name, target.name));
    let mut flags = case.build.to_vec();
    flags.extend(["--target", target.name]);
    let build = common::wafer_build(wasm, &image, &flags);
    if build.code != 0 {
        return vec![format!(
            "{} ({}): wafer build failed:\n{}",
            case.name, target.name, build.stderr
        )];
    }
    let input = case.stdin.map(|make| make());
    let mut command = target.command(&image);
    command
        .args(case.args)
        .env_clear()
        .envs(case.env.iter().copied());
    let outcome = toolchain::run_with_stdin(&mut command, input.as_deref());

    let golden = common::tests_dir()
        .join("guests/expected")
        .join(format!("{}.expected", case.name));
    // The host's run writes golden files under WAFER_BLESS; every target must match.
    let result = if target.emulator.is_none() {
        common::check_golden(&golden, &describe(&outcome))
    } else {
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        (expected == describe(&outcome))
            .then_some(())
            .ok_or_else(|| common::first_difference(&expected, &describe(&outcome)))
    };
    if let Err(e) = result {
        failures.push(format!(
            "{} ({}): {e}\n--- stderr\n{}",
            case.name, target.name, outcome.stderr
        ));
    }
    if let Err(e) = check_stderr(case, &outcome.stderr) {
        failures.push(e);
    }

    if let Some(wasmtime) = wasmtime.filter(|_| target.emulator.is_none()) {
        let mut command = Command::new(wasmtime);
        command.arg("run").env_clear();
        for (key, value) in granted_env(case.build, case.env) {
            command.arg("--env").arg(format!("{key}={value}"));
        }
        command.arg(wasm).args(case.args);
        let reference = toolchain::run_with_stdin(&mut command, input.as_deref());
        if reference.code != outcome.code || reference.stdout != outcome.stdout {
            failures.push(format!(
                "{}: differs from wasmtime: exit {} (wasmtime {})\n{}\n--- wasmtime stderr\n{}",
                case.name,
                outcome.code,
                reference.code,
                common::first_difference(&reference.stdout, &outcome.stdout),
                reference.stderr
            ));
        }
    }
    failures
}

#[test]
fn guests_match_expected_output() {
    let dir = common::scratch("guests");
    let wasmtime = common::which("wasmtime");
    if wasmtime.is_none() {
        eprintln!("note: wasmtime not installed; skipping the reference comparison");
    }

    let sources: Vec<&str> = CASES.iter().map(|case| case.source).collect();
    let compiled = toolchain::compile_all(&common::tests_dir().join("guests"), &sources, &dir);
    let wasm_of = |source: &str| {
        let (_, wasm) = compiled.iter().find(|(s, _)| s == source).unwrap();
        wasm.clone()
    };

    let targets = common::test_targets();
    let jobs: Vec<(&Case, &common::TestTarget)> = targets
        .iter()
        .flat_map(|target| CASES.iter().map(move |case| (case, target)))
        .collect();
    let results = toolchain::run_parallel(&jobs, |(case, target)| {
        check_case(
            case,
            target,
            &wasm_of(case.source),
            &dir,
            wasmtime.as_deref(),
        )
    });
    let mut failures = Failures::default();
    for failure in results {
        failures.push(failure);
    }
    failures.finish("guests");
}
