//! The user guide's examples, run as written: every `$ command` of every `console` block
//! in `docs/guide.md`, in a directory holding a copy of `examples/` (and a FAT boot
//! partition image for `wafer flash`), with `wafer` first on `PATH`. The lines after a
//! command are its expected output (stdout and stderr together), line by line: `...`
//! stands for any lines, a line ending in ` ...` for any line starting with the rest. A
//! command ending in `# exits with N` must exit with N, the others with 0. And every
//! option of every command appears in the guide.

mod common;

use std::path::Path;
use std::process::Command;

use common::{run_command, scratch, wafer};

/// One `$ command` and the output the guide shows for it.
struct Example {
    line: usize,
    command: String,
    expected: Vec<String>,
    exit: i32,
}

fn examples(guide: &str) -> Vec<Example> {
    let mut examples: Vec<Example> = Vec::new();
    let mut in_console = false;
    for (number, line) in guide.lines().enumerate() {
        if line.starts_with("```") {
            in_console = !in_console && line.trim() == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            let (command, exit) = match command.split_once("# exits with ") {
                Some((command, code)) => (command.trim_end(), code.trim().parse().unwrap_or(-1)),
                None => (command, 0),
            };
            examples.push(Example {
                line: number + 1,
                command: command.to_string(),
                expected: Vec::new(),
                exit,
            });
        } else if let Some(example) = examples.last_mut() {
            example.expected.push(line.to_string());
        }
    }
    examples
}

/// Whether `actual` matches the `expected` lines (`...` = any lines; `X ...` = a line
/// starting with `X`).
fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => match actual.split_first() {
            Some((line, others)) => {
                let fits = match first.strip_suffix(" ...") {
                    Some(prefix) => line.starts_with(prefix),
                    None => line == first,
                };
                fits && matches(rest, others)
            }
            None => false,
        },
    }
}

/// `PATH` with `first` in front.
fn path_with(first: &Path) -> std::ffi::OsString {
    std::env::join_paths(
        std::iter::once(first.to_path_buf()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .unwrap()
}

/// Runs every example of the guide `name` in `dir` with `env`; returns the failures.
fn run_examples(
    name: &str,
    guide: &str,
    dir: &Path,
    env: &[(&str, std::ffi::OsString)],
) -> Vec<String> {
    let examples = examples(guide);
    let mut failures = Vec::new();
    for example in &examples {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("{} 2>&1", example.command))
            .current_dir(dir)
            .env("WAFER_CACHE_DIR", dir.join("wafer-cache"))
            .env_remove("NO_COLOR");
        for (key, value) in env {
            command.env(key, value);
        }
        let outcome = run_command(&mut command);
        let actual: Vec<&str> = outcome.stdout.lines().collect();
        let output_fits = example.expected.is_empty() || matches(&example.expected, &actual);
        if outcome.code != example.exit || !output_fits {
            failures.push(format!(
                "{name}:{}: `{}` exited {} (expected {}), printing:\n{}\nexpected:\n{}",
                example.line,
                example.command,
                outcome.code,
                example.exit,
                outcome.stdout,
                example.expected.join("\n")
            ));
            // Later commands build on this one.
            break;
        }
    }
    failures
}

#[test]
fn every_example_in_the_guide_runs_as_shown() {
    let guide = std::fs::read_to_string(common::repo().join("docs/guide.md")).unwrap();
    assert!(examples(&guide).len() >= 20, "too few examples found");
    let dir = scratch("docs-guide");
    common::copy_tree(&common::repo().join("examples"), &dir.join("examples"));
    // A Raspberry Pi boot partition with its firmware, for `wafer flash`.
    common::boards::fat_volume(
        &dir.join("boot.img"),
        32 << 20,
        &[
            ("bootcode.bin", b"bootcode"),
            ("start.elf", b"start"),
            ("fixup.dat", b"fixup"),
            ("config.txt", b""),
        ],
    );
    let path = path_with(wafer().parent().unwrap());
    let failures = run_examples("docs/guide.md", &guide, &dir, &[("PATH", path)]);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The files a guide spells out: fenced blocks whose info string names a path after the
/// language (```` ```toml targets/x/target.toml ````).
fn guide_files(guide: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in guide.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => {
                if let Some((_, path)) = info.trim().split_once(' ') {
                    current = Some((path.trim().to_string(), String::new()));
                }
            }
            (Some(_), Some(_)) => files.extend(current.take()),
            (Some((_, text)), None) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {}
        }
    }
    files
}

/// Follows `docs/adding-a-board.md` in a copy of the repository: writes its files,
/// rebuilds wafer (with only the host's and the new board's runtimes, through
/// `WAFER_RUNTIME_TARGETS`, to save time) and runs its commands. Slow, so `cargo test`
/// skips it and `tests/run-all.sh` runs it.
#[test]
#[ignore = "rebuilds wafer with a new board (minutes); tests/run-all.sh runs it"]
fn adding_a_board_by_following_the_guide() {
    let repo = common::repo();
    let guide = std::fs::read_to_string(repo.join("docs/adding-a-board.md")).unwrap();
    let files = guide_files(&guide);
    assert_eq!(
        files.len(),
        2,
        "the guide should spell out target.toml and board.rs"
    );
    let copy = scratch("docs-adding-a-board");
    let listed = Command::new("git")
        .args([
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "-z",
        ])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(listed.status.success());
    for name in listed.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).unwrap();
        let (from, to) = (repo.join(name), copy.join(name));
        if from.is_file() {
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&from, &to).unwrap();
        }
    }
    for (path, text) in &files {
        assert!(!copy.join(path).exists(), "{path} exists already");
        std::fs::create_dir_all(copy.join(path).parent().unwrap()).unwrap();
        std::fs::write(copy.join(path), text).unwrap();
    }
    // A build directory that outlives the copy, so a rerun rebuilds only wafer.
    let build = repo.join("target").join("docs-adding-a-board");
    std::fs::create_dir_all(&build).unwrap();
    std::os::unix::fs::symlink(&build, copy.join("target")).unwrap();
    let failures = run_examples(
        "docs/adding-a-board.md",
        &guide,
        &copy,
        &[("WAFER_RUNTIME_TARGETS", "x86_64-linux,qemu-virt-a72".into())],
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_guide_covers_every_option_of_every_command() {
    let guide = std::fs::read_to_string(common::repo().join("docs/guide.md")).unwrap();
    let mut missing = Vec::new();
    for command in [
        "build",
        "run",
        "flash",
        "inspect",
        "targets",
        "completions",
        "man",
    ] {
        let help = run_command(Command::new(wafer()).args([command, "--help"]));
        assert_eq!(help.code, 0, "{help:?}");
        for word in help.stdout.split_whitespace() {
            let option = word.trim_end_matches([',', '.']);
            if option.starts_with("--")
                && option.len() > 2
                && option != "--help"
                && !option.contains('=')
                && !guide.contains(&format!("`{option}"))
                && !guide.contains(&format!(" {option} "))
                && !guide.contains(&format!("`{option} "))
            {
                missing.push(format!("wafer {command} {option}"));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "not in docs/guide.md: {missing:?}");
}

#[test]
fn the_matcher_understands_ellipses() {
    let lines = |text: &str| text.lines().map(str::to_string).collect::<Vec<_>>();
    assert!(matches(&lines("a\n...\nd"), &["a", "b", "c", "d"]));
    assert!(matches(&lines("a ...\n..."), &["abc", "x"]));
    assert!(!matches(&lines("a\nd"), &["a", "b", "d"]));
    assert!(!matches(&lines("x ..."), &["abc"]));
}
