//! Helpers shared by wafer's integration tests: the `wafer` binary, scratch directories,
//! running images, golden files, and external tools.

#![allow(dead_code, reason = "each test target uses a subset")]

pub mod boards;
pub mod components;
pub mod harness;
pub mod toolchain;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `wafer` binary under test.
pub fn wafer() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_wafer"))
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("compiler/ has a parent")
        .to_path_buf()
}

/// The `tests/` folder.
pub fn tests_dir() -> PathBuf {
    repo().join("tests")
}

/// A fresh, empty scratch directory for one test, under `target/`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = repo().join("target").join("test-scratch").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Whether golden files should be rewritten (`WAFER_BLESS=1`).
pub fn bless() -> bool {
    std::env::var_os("WAFER_BLESS").is_some_and(|v| v != "0")
}

/// What a process did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Exit status (128 + signal number when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<Output> for Outcome {
    fn from(output: Output) -> Self {
        use std::os::unix::process::ExitStatusExt;
        let code = output
            .status
            .code()
            .unwrap_or_else(|| 128 + output.status.signal().unwrap_or(0));
        Outcome {
            code,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs a command to completion with no inherited environment beyond `PATH`.
pub fn run_command(command: &mut Command) -> Outcome {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
        .into()
}

/// `wafer build INPUT -o OUTPUT EXTRA...`.
pub fn wafer_build(input: &Path, output: &Path, extra: &[&str]) -> Outcome {
    run_command(
        Command::new(wafer())
            .arg("build")
            .arg(input)
            .arg("-o")
            .arg(output)
            .args(extra),
    )
}

/// A target the tests build for, and how its images run here.
#[derive(Debug, Clone)]
pub struct TestTarget {
    /// The `--target` name.
    pub name: &'static str,
    /// The qemu-user emulator to run images under, or `None` for the host.
    pub emulator: Option<&'static str>,
}

/// Every Linux target: the host natively, the others under qemu-user.
/// `WAFER_TEST_TARGETS=x86_64-linux,...` narrows the list.
pub fn test_targets() -> Vec<TestTarget> {
    let all = [
        ("x86_64-linux", "x86_64", "qemu-x86_64"),
        ("aarch64-linux", "aarch64", "qemu-aarch64"),
        ("riscv64-linux", "riscv64", "qemu-riscv64"),
    ];
    let wanted = std::env::var("WAFER_TEST_TARGETS").ok();
    all.iter()
        .filter(|(name, ..)| {
            wanted
                .as_deref()
                .is_none_or(|list| list.split(',').any(|w| w.trim() == *name))
        })
        .map(|&(name, arch, emulator)| TestTarget {
            name,
            emulator: (arch != std::env::consts::ARCH).then_some(emulator),
        })
        .collect()
}

impl TestTarget {
    /// A command that runs `image` on this target.
    pub fn command(&self, image: &Path) -> Command {
        match self.emulator {
            None => Command::new(image),
            Some(emulator) => {
                assert!(
                    which(emulator).is_some(),
                    "{emulator} is not installed: install qemu-user (Debian bookworm-backports), \
                     or narrow WAFER_TEST_TARGETS"
                );
                let mut command = Command::new(emulator);
                command.arg(image);
                command
            }
        }
    }

    /// The words of a command line that runs `image` on this target (for a shell).
    pub fn argv(&self, image: &Path) -> Vec<String> {
        self.emulator
            .iter()
            .map(|emulator| emulator.to_string())
            .chain([image.display().to_string()])
            .collect()
    }
}

/// Runs an image with `args` and only the environment in `env`.
pub fn run_image(image: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    run_image_on(&test_targets_host(), image, args, env)
}

/// The host target.
pub fn test_targets_host() -> TestTarget {
    TestTarget {
        name: "host",
        emulator: None,
    }
}

/// Runs an image built for `target` with `args` and only the environment in `env`.
pub fn run_image_on(
    target: &TestTarget,
    image: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Outcome {
    let mut command = target.command(image);
    command.args(args).env_clear();
    for (key, value) in env {
        command.env(key, value);
    }
    run_command(&mut command)
}

/// Compares `actual` with the golden file at `path`, or rewrites it under `WAFER_BLESS`.
/// Returns a description of the difference.
pub fn check_golden(path: &Path, actual: &str) -> Result<(), String> {
    if bless() {
        std::fs::write(path, actual).expect("write golden file");
        return Ok(());
    }
    let expected = std::fs::read_to_string(path).map_err(|_| {
        format!(
            "{}: missing golden file (run with WAFER_BLESS=1 to create it)",
            path.display()
        )
    })?;
    if expected == actual {
        return Ok(());
    }
    Err(format!(
        "{} differs (WAFER_BLESS=1 re-blesses):\n{}",
        path.display(),
        first_difference(&expected, actual)
    ))
}

/// The first differing line of two texts, for readable failures.
pub fn first_difference(expected: &str, actual: &str) -> String {
    let mut expected_lines = expected.lines();
    let mut actual_lines = actual.lines();
    for number in 1.. {
        match (expected_lines.next(), actual_lines.next()) {
            (None, None) => return "texts differ only in trailing newlines".into(),
            (e, a) if e == a => continue,
            (e, a) => {
                return format!(
                    "line {number}:\n  expected: {}\n  actual:   {}",
                    e.unwrap_or("<end>"),
                    a.unwrap_or("<end>")
                );
            }
        }
    }
    unreachable!()
}

/// The path of `tool` on `PATH`, if installed.
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

/// Collects failures so one test can report every broken case at once.
#[derive(Default)]
pub struct Failures(Vec<String>);

impl Failures {
    /// Records a failure.
    pub fn push(&mut self, failure: impl Into<String>) {
        self.0.push(failure.into());
    }

    /// Records `result`'s error, if any.
    pub fn check(&mut self, result: Result<(), String>) {
        if let Err(e) = result {
            self.push(e);
        }
    }

    /// Panics with every failure, if there were any.
    pub fn finish(self, what: &str) {
        if !self.0.is_empty() {
            panic!("{} {what} failed:\n\n{}", self.0.len(), self.0.join("\n\n"));
        }
    }
}

/// Copies the directory `from` into `to`, recursively.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
