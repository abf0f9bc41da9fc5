//! What wafer tells a person: colours and a progress bar only on a terminal, `--timings`,
//! wasm errors that name the function, and the shell completions and man pages generated
//! from the CLI definition.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Outcome, run_command, scratch, wafer};

/// A module with `count` small exported functions: enough work for the progress bar.
fn many_functions(dir: &Path, count: usize) -> std::path::PathBuf {
    let mut text = String::from("(module\n");
    for i in 0..count {
        text.push_str(&format!(
            "(func (export \"f{i}\") (param i32) (result i32) (i32.add (local.get 0) (i32.const {i})))\n"
        ));
    }
    text.push_str("(func (export \"_start\")))\n");
    let path = dir.join("many.wat");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs wafer with `args` inside a pseudo-terminal (util-linux `script`), as a person at
/// a terminal would, with `env` set; returns its outcome, whose stdout is everything the
/// terminal received.
fn on_a_terminal(args: &[&str], env: &[(&str, &str)]) -> common::Outcome {
    let line = std::iter::once(wafer().display().to_string())
        .chain(args.iter().map(|arg| format!("'{arg}'")))
        .collect::<Vec<_>>()
        .join(" ");
    let mut command = Command::new("script");
    command
        .args(["-qec", &line, "/dev/null"])
        .env_remove("NO_COLOR");
    for (key, value) in env {
        command.env(key, value);
    }
    run_command(&mut command)
}

#[test]
fn a_terminal_gets_a_progress_bar_and_a_pipe_gets_nothing() {
    let dir = scratch("cli-progress");
    let module = many_functions(&dir, 2000);
    let output = dir.join("many");
    let (module, output) = (module.to_str().unwrap(), output.to_str().unwrap());

    let terminal = on_a_terminal(
        &["build", module, "-o", output],
        &[("WAFER_PROGRESS_DELAY_MS", "0")],
    );
    assert_eq!(terminal.code, 0, "{terminal:?}");
    let shown = terminal.stdout;
    assert!(
        shown.contains("/2001 functions"),
        "no bar counting the functions: {shown:?}"
    );
    // The bar is cleared at the end: the last thing drawn erases the line.
    assert!(shown.trim_end().ends_with("\x1b[2K"), "{shown:?}");

    // Quick builds show nothing within the default delay, and a pipe never does.
    let piped = run_command(
        Command::new(wafer())
            .args(["build", module, "-o", output])
            .env("WAFER_PROGRESS_DELAY_MS", "0"),
    );
    assert_eq!(piped.code, 0, "{piped:?}");
    assert_eq!(piped.stderr, "", "a pipe got progress output");
}

#[test]
fn errors_are_coloured_only_on_a_terminal_or_when_asked() {
    let dir = scratch("cli-colour");
    let missing = dir.join("missing.wasm");
    let missing = missing.to_str().unwrap();
    let error = |args: &[&str], env: Option<(&str, &str)>| -> Outcome {
        let mut command = Command::new(wafer());
        command.args(args).env_remove("NO_COLOR");
        if let Some((key, value)) = env {
            command.env(key, value);
        }
        let outcome = run_command(&mut command);
        assert_ne!(outcome.code, 0);
        outcome
    };
    let plain = error(&["build", missing], None);
    assert!(plain.stderr.starts_with("wafer: error: "), "{plain:?}");
    let forced = error(&["build", missing, "--color", "always"], None);
    assert!(
        forced.stderr.starts_with("wafer: \x1b[1;31merror:\x1b[0m "),
        "{forced:?}"
    );
    assert_eq!(forced.stderr.lines().count(), 1);

    let terminal = on_a_terminal_failing(&["build", missing], &[]);
    assert!(terminal.contains("\x1b[1;31merror:"), "{terminal:?}");
    let no_color = on_a_terminal_failing(&["build", missing], &[("NO_COLOR", "1")]);
    assert!(!no_color.contains('\x1b'), "{no_color:?}");
    let never = on_a_terminal_failing(&["build", missing, "--color", "never"], &[]);
    assert!(!never.contains('\x1b'), "{never:?}");
}

/// What the terminal received from a wafer command that must fail.
fn on_a_terminal_failing(args: &[&str], env: &[(&str, &str)]) -> String {
    let outcome = on_a_terminal(args, env);
    assert_ne!(outcome.code, 0, "{outcome:?}");
    outcome.stdout
}

#[test]
fn timings_print_each_phase_only_when_asked() {
    let dir = scratch("cli-timings");
    let module = many_functions(&dir, 10);
    let output = dir.join("few");
    let build = |extra: &[&str]| {
        let outcome = run_command(
            Command::new(wafer())
                .args(["build", module.to_str().unwrap(), "-o"])
                .arg(&output)
                .args(extra)
                .env_remove("WAFER_TIMINGS"),
        );
        assert_eq!(outcome.code, 0, "{outcome:?}");
        outcome.stderr
    };
    let timed = build(&["--timings"]);
    for phase in ["parse", "compile", "object", "link"] {
        assert!(
            timed
                .lines()
                .any(|line| line.starts_with("wafer: timing: ") && line.contains(phase)),
            "no {phase} timing in {timed:?}"
        );
    }
    assert_eq!(build(&[]), "");
}

#[test]
fn an_invalid_function_body_names_the_function_and_the_offset() {
    let dir = scratch("cli-function-error");
    let named = dir.join("named.wat");
    std::fs::write(
        &named,
        r#"(module
  (func $fine (export "fine"))
  (func $broken (export "_start") (drop (i32.add (i32.const 1) (i64.const 2)))))"#,
    )
    .unwrap();
    let outcome = run_command(
        Command::new(wafer())
            .arg("build")
            .arg(&named)
            .arg("-o")
            .arg(dir.join("out")),
    );
    assert_ne!(outcome.code, 0);
    assert_eq!(outcome.stderr.lines().count(), 1, "{outcome:?}");
    assert!(
        outcome
            .stderr
            .contains("named.wat: invalid wasm at offset 0x")
            && outcome
                .stderr
                .contains("in function 1 `broken`: type mismatch"),
        "{outcome:?}"
    );
    assert!(!dir.join("out").exists());

    // Without a name section or export, the index alone.
    let anonymous = dir.join("anonymous.wasm");
    let mut wasm = wat::parse_str(
        r#"(module (func (export "_start")) (func (drop (i32.add (i32.const 1) (i64.const 2)))))"#,
    )
    .unwrap();
    // Drop the name section wat may add, so only the index can name the function.
    if let Some(at) = find_custom_section(&wasm, b"name") {
        wasm.truncate(at);
    }
    std::fs::write(&anonymous, wasm).unwrap();
    let outcome = run_command(Command::new(wafer()).arg("build").arg(&anonymous));
    assert!(
        outcome.stderr.contains("in function 1: type mismatch"),
        "{outcome:?}"
    );
}

/// Where a trailing custom section called `name` starts, if the module ends with one.
fn find_custom_section(wasm: &[u8], name: &[u8]) -> Option<usize> {
    let mut at = 8;
    while at < wasm.len() {
        let start = at;
        let id = wasm[at];
        at += 1;
        let (size, used) = leb(&wasm[at..]);
        at += used;
        if id == 0 {
            let (len, used) = leb(&wasm[at..]);
            if &wasm[at + used..at + used + len] == name {
                return Some(start);
            }
        }
        at += size;
    }
    None
}

fn leb(bytes: &[u8]) -> (usize, usize) {
    let (mut value, mut shift) = (0usize, 0);
    for (i, byte) in bytes.iter().enumerate() {
        value |= usize::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return (value, i + 1);
        }
    }
    (value, bytes.len())
}

#[test]
fn completions_come_from_the_cli_definition_and_parse() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let outcome = run_command(Command::new(wafer()).args(["completions", shell]));
        assert_eq!(outcome.code, 0, "{shell}: {outcome:?}");
        for word in ["build", "run", "flash", "inspect", "targets", "max-memory"] {
            assert!(outcome.stdout.contains(word), "{shell} lacks {word}");
        }
    }
    // The bash script is valid bash, and completes subcommands and flags.
    let dir = scratch("cli-completions");
    let script = dir.join("wafer.bash");
    let bash = run_command(Command::new(wafer()).args(["completions", "bash"]));
    std::fs::write(&script, &bash.stdout).unwrap();
    let completed = run_command(Command::new("bash").arg("-c").arg(format!(
        "source {} && COMP_WORDS=(wafer bu) COMP_CWORD=1 && _wafer wafer bu wafer && \
         echo \"${{COMPREPLY[@]}}\" && COMP_WORDS=(wafer build --max-m) COMP_CWORD=2 && \
         _wafer wafer --max-m build && echo \"${{COMPREPLY[@]}}\"",
        script.display()
    )));
    assert_eq!(completed.code, 0, "{completed:?}");
    let lines: Vec<&str> = completed.stdout.lines().collect();
    assert_eq!(lines, ["build", "--max-memory"], "{completed:?}");
}

#[test]
fn man_pages_cover_every_command() {
    let dir = scratch("cli-man");
    let outcome = run_command(Command::new(wafer()).arg("man").arg(&dir));
    assert_eq!(outcome.code, 0, "{outcome:?}");
    for command in [
        "build",
        "run",
        "flash",
        "inspect",
        "targets",
        "completions",
        "man",
    ] {
        let page = std::fs::read_to_string(dir.join(format!("wafer-{command}.1"))).unwrap();
        assert!(
            page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH"),
            "{page}"
        );
        assert!(
            page.contains(&format!("wafer {command}")),
            "wafer-{command}.1"
        );
    }
    let top = std::fs::read_to_string(dir.join("wafer.1")).unwrap();
    assert!(top.contains(".TH wafer 1"), "{top}");
    assert!(top.contains("flash"));
    // Without a directory, wafer.1 goes to stdout.
    let printed = run_command(Command::new(wafer()).arg("man"));
    assert_eq!(printed.stdout, top);
    // The page renders with man itself, when it is installed.
    if Command::new("man").arg("--version").output().is_ok() {
        let rendered = run_command(Command::new("man").arg("-l").arg(dir.join("wafer-build.1")));
        assert!(rendered.stdout.contains("--max-memory"), "{rendered:?}");
    }
}
