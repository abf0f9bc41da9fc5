//! Components: Rust `wasm32-wasip2` programs (`tests/components/rust`, built with rustc
//! at test time) and components written in the component text format
//! (`tests/components/wat`), built into images with the `wafer` CLI and run. Each case's
//! exit status and stdout must equal `tests/components/expected/CASE.expected`
//! (`WAFER_BLESS=1` rewrites them); stderr must be empty or hold the case's lines.
//!
//! Every case is built for every Linux target and run natively or under qemu-user
//! (`WAFER_TEST_TARGETS` narrows the list). When `wasmtime` is installed, every case
//! it can run also runs under it, given the environment the build grants, and must give
//! the same stdout and exit status.
//!
//! Also: an import nothing provides (a build error naming it, or a trap naming it with
//! `--trap-unknown-imports`), `wafer run` of a component with arguments, and `wafer
//! inspect` of a component image.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Failures, Outcome, toolchain};

/// One run of a component.
struct Case {
    /// Golden file name, and the image's name.
    name: &'static str,
    /// Source under `tests/components/`: `rust/NAME.rs` or `wat/NAME.wat`.
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
    /// Whether wasmtime gives the same exit status (it reports a host error, such as
    /// a bad handle or a string that is not UTF-8, as a failure with status 1 where
    /// wafer traps with 134).
    same_as_wasmtime: bool,
}

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
            same_as_wasmtime: true,
        }
    }
}

const HOST_ENV: &[(&str, &str)] = &[
    ("HOME", "/home/test"),
    ("SECRET", "1"),
    ("GREETING", "from-host"),
];

const CASES: &[Case] = &[
    Case::new("rust_hello", "rust/hello.rs"),
    Case {
        build: &["--env", "GREETING=hello", "--env", "HOME"],
        args: &["one", "two words", "ünïcödé", ""],
        env: HOST_ENV,
        ..Case::new("rust_args_env", "rust/args_env.rs")
    },
    Case {
        env: HOST_ENV,
        ..Case::new("rust_args_env_none", "rust/args_env.rs")
    },
    Case {
        build: &["--inherit-env"],
        env: &[("HOME", "/home/test"), ("LANG", "C")],
        ..Case::new("rust_args_env_inherit", "rust/args_env.rs")
    },
    Case::new("rust_exit", "rust/exit.rs"),
    Case {
        stderr: &[
            "panicked at panic.rs:",
            "the component gave up at depth 42",
            "wafer: trap: unreachable executed in abort (wasm offset 0x",
        ],
        ..Case::new("rust_panic", "rust/panic.rs")
    },
    Case {
        stdin: Some(text_input),
        ..Case::new("rust_stdin", "rust/stdin.rs")
    },
    Case {
        stdin: Some(Vec::new),
        ..Case::new("rust_stdin_empty", "rust/stdin.rs")
    },
    Case::new("rust_clocks", "rust/clocks.rs"),
    Case::new("wat_wiring", "wat/wiring.wat"),
    Case::new("wat_strings", "wat/strings.wat"),
    Case::new("wat_transcoding", "wat/transcoding.wat"),
    Case {
        args: &["hé", "h€"],
        ..Case::new("wat_string_encodings", "wat/string_encodings.wat")
    },
    Case {
        stderr: &[
            "wafer: trap: invalid utf-8 in transcode utf8-to-utf8 called from adapter0 (wasm offset 0x",
        ],
        same_as_wasmtime: false,
        ..Case::new("wat_bad_utf8", "wat/bad_utf8.wat")
    },
    Case::new("wat_run_err", "wat/run_err.wat"),
    Case {
        stderr: &[
            "wafer: trap: unknown handle index 1 in [resource-rep]resource0 called from run (wasm offset 0x60)",
        ],
        same_as_wasmtime: false,
        ..Case::new("wat_bad_handle", "wat/bad_handle.wat")
    },
];

/// About 100 KiB of text: more than a pipe buffer and one read, some of it UTF-8, and a
/// last line without a newline.
fn text_input() -> Vec<u8> {
    let mut text = String::new();
    for line in 0..4000usize {
        text.push_str(&format!("{line:05}: naïve café"));
        for word in 0..line % 5 {
            text.push_str(&format!(" w{word}"));
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

fn check_stderr(name: &str, expected: &[&str], stderr: &str) -> Result<(), String> {
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|needle| !stderr.lines().any(|line| line.contains(needle)))
        .collect();
    if expected.is_empty() && !stderr.is_empty() || !missing.is_empty() {
        return Err(format!(
            "{name}: stderr lacks {missing:?} (or should be empty):\n{stderr}"
        ));
    }
    Ok(())
}

/// Compares with the golden file: the host's run writes it under `WAFER_BLESS`, every
/// target must match it.
fn check_expected(
    name: &str,
    target: &common::TestTarget,
    outcome: &Outcome,
) -> Result<(), String> {
    let golden = common::tests_dir()
        .join("components/expected")
        .join(format!("{name}.expected"));
    if target.emulator.is_none() {
        common::check_golden(&golden, &describe(outcome))
    } else {
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        (expected == describe(outcome))
            .then_some(())
            .ok_or_else(|| common::first_difference(&expected, &describe(outcome)))
    }
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
    if let Err(e) = check_expected(case.name, target, &outcome) {
        failures.push(format!(
            "{} ({}): {e}\n--- stderr\n{}",
            case.name, target.name, outcome.stderr
        ));
    }
    if let Err(e) = check_stderr(case.name, case.stderr, &outcome.stderr) {
        failures.push(e);
    }

    if let Some(wasmtime) = wasmtime.filter(|_| target.emulator.is_none() && case.same_as_wasmtime)
    {
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

/// The binary of every case's source: Rust built for `wasm32-wasip2`, text passed as is
/// (wafer reads the component text format).
fn sources(dir: &Path) -> Vec<(String, PathBuf)> {
    let root = common::tests_dir().join("components");
    let rust: Vec<&str> = CASES
        .iter()
        .map(|case| case.source)
        .filter(|source| source.ends_with(".rs"))
        .collect();
    let mut compiled = toolchain::compile_all_for(&root, &rust, dir, toolchain::WASIP2);
    compiled.extend(
        CASES
            .iter()
            .filter(|case| case.source.ends_with(".wat"))
            .map(|case| (case.source.to_string(), root.join(case.source))),
    );
    compiled
}

#[test]
fn components_match_expected_output() {
    let dir = common::scratch("components");
    let wasmtime = common::which("wasmtime");
    if wasmtime.is_none() {
        eprintln!("note: wasmtime not installed; skipping the reference comparison");
    }
    let compiled = sources(&dir);
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
    failures.finish("components");
}

/// An import nothing provides fails the build naming the interface and function; with
/// `--trap-unknown-imports` the image builds and calling it traps, naming it.
#[test]
fn unknown_imports_fail_the_build_or_trap_when_called() {
    let dir = common::scratch("components-unknown");
    let wat = common::tests_dir().join("components/wat/unknown_import.wat");
    let mut failures = Failures::default();
    for target in common::test_targets() {
        let image = dir.join(format!("unknown.{}", target.name));
        let refused = common::wafer_build(&wat, &image, &["--target", target.name]);
        let expected_error = format!(
            "wafer: error: {}: unknown import: wasi:http/outgoing-handler@0.2.0#handle is not provided\n",
            wat.display()
        );
        if refused.code != 1 || refused.stderr != expected_error || image.exists() {
            failures.push(format!(
                "{}: the build should fail with {expected_error:?}, got {refused:?}",
                target.name
            ));
        }
        let built = common::wafer_build(
            &wat,
            &image,
            &["--target", target.name, "--trap-unknown-imports"],
        );
        if built.code != 0 {
            failures.push(format!("{}: build failed: {}", target.name, built.stderr));
            continue;
        }
        let outcome = common::run_image_on(&target, &image, &[], &[]);
        // The trap is raised in the import's trampoline and reported at the call into
        // it (the `call` in `run`).
        let trap = "wafer: trap: call to an unknown import in \
                    wasi:http/outgoing-handler@0.2.0#handle called from run (wasm offset 0x39)\n";
        if outcome.code != wafer_abi::TRAP_EXIT_CODE || outcome.stderr != trap {
            failures.push(format!(
                "{}: calling the import should trap with {trap:?}, got {outcome:?}",
                target.name
            ));
        }
    }
    failures.finish("unknown-import checks");
}

/// `wafer run app.wasm -- args` builds a component for this machine and runs it with
/// the arguments; `wafer inspect` shows its world and what the grants allow.
#[test]
fn run_and_inspect_a_component() {
    let dir = common::scratch("components-run");
    let compiled = toolchain::compile_all_for(
        &common::tests_dir().join("components"),
        &["rust/args_env.rs"],
        &dir,
        toolchain::WASIP2,
    );
    let wasm = &compiled[0].1;
    let run = common::run_command(
        Command::new(common::wafer())
            .env_clear()
            .env("WAFER_CACHE_DIR", dir.join("cache"))
            .env("HOME", "/home/test")
            .args(["run", "--env", "HOME"])
            .arg(wasm)
            .args(["--", "first", "--second"]),
    );
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            "arg 0: \"first\"\narg 1: \"--second\"\nenv HOME=\"/home/test\"\nHOME is Some(\"/home/test\")\n",
            ""
        )
    );

    let image = dir.join("args_env");
    let build = common::wafer_build(wasm, &image, &["--env", "A=1"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let inspect = common::run_command(Command::new(common::wafer()).arg("inspect").arg(&image));
    assert_eq!(inspect.code, 0, "{}", inspect.stderr);
    for line in [
        "entry point: the wasi:cli/run export",
        "world:",
        "  import wasi:cli/environment@0.2.6 (arguments and the granted environment)",
        "    get-arguments",
        "  import wasi:io/streams@0.2.6 (allowed)",
        "    [method]output-stream.blocking-flush",
        "  export wasi:cli/run@0.2.0",
        "    run",
    ] {
        assert!(
            inspect.stdout.lines().any(|l| l == line),
            "`wafer inspect` lacks {line:?}:\n{}",
            inspect.stdout
        );
    }
}
