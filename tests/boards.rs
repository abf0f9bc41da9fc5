//! Firmware images booted under qemu-system: every board in `targets/` runs every case,
//! and its console output and exit status must match `boards/expected/CASE.expected`
//! (`WAFER_BLESS=1` rewrites them from the first board).
//!
//! The cases: hello with a fixed argument, a C compute kernel with a checksum, C and
//! Rust programs using WASI on the board (fixed arguments and environment, the baked
//! read-only file tree, clocks, random bytes, stdin from the console, the exit code),
//! a trap and an out-of-bounds access. Where wasmtime can run the same program, its
//! output (stdout then stderr) and exit status are the reference too; for traps the
//! reference is the same module built by wafer for this machine.
//!
//! `WAFER_TEST_BOARDS=name,name` narrows the boards. Every run has a timeout: a guest
//! that never reaches its exit would hang QEMU.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::boards::{Board, boards, run};
use common::{Failures, toolchain};

struct Case {
    /// Expected-file name.
    name: &'static str,
    /// Source under `tests/boards/`.
    source: &'static str,
    /// `wafer build` flags besides the target.
    flags: &'static [&'static str],
    /// What the console receives.
    stdin: Option<&'static [u8]>,
    /// How wasmtime runs the same program: its arguments after `run` and before the
    /// module, and the guest's arguments; `None` when the reference is wafer's own
    /// Linux build with the same flags (traps, whose reports differ between runtimes,
    /// and read-only grants, which wasmtime's CLI lacks).
    wasmtime: Option<(&'static [&'static str], &'static [&'static str])>,
}

const TREE: &str = "--dir=boards/tree::/data:ro";

const CASES: &[Case] = &[
    Case {
        name: "hello",
        source: "../../examples/hello.wat",
        flags: &["--arg", "board"],
        stdin: None,
        // wasmtime writes only the first buffer of this program's fd_write.
        wasmtime: None,
    },
    Case {
        name: "c_compute",
        source: "c/compute.c",
        flags: &["--arg", "3"],
        stdin: None,
        wasmtime: Some((&[], &["3"])),
    },
    Case {
        name: "c_wasi",
        source: "c/wasi.c",
        flags: &[
            TREE,
            "--env",
            "MODE=fast",
            "--arg",
            "one",
            "--arg",
            "two words",
        ],
        stdin: Some(b"typed on the console\n"),
        wasmtime: Some((
            &["--dir", "boards/tree::/data", "--env", "MODE=fast"],
            &["one", "two words"],
        )),
    },
    Case {
        name: "rust_std",
        source: "rust/std.rs",
        flags: &[TREE, "--env", "MODE=slow", "--arg", "-v"],
        stdin: None,
        wasmtime: Some((
            &["--dir", "boards/tree::/data", "--env", "MODE=slow"],
            &["-v"],
        )),
    },
    Case {
        name: "c_readonly",
        source: "c/readonly.c",
        flags: &[TREE],
        stdin: None,
        wasmtime: None,
    },
    Case {
        name: "trap",
        source: "wat/trap.wat",
        flags: &[],
        stdin: None,
        wasmtime: None,
    },
    Case {
        name: "stack_overflow",
        source: "wat/stack_overflow.wat",
        flags: &[],
        stdin: None,
        wasmtime: None,
    },
    Case {
        name: "oob",
        source: "wat/oob.wat",
        flags: &[],
        stdin: None,
        wasmtime: None,
    },
];

fn describe(code: i32, console: &str) -> String {
    format!("exit: {code}\n--- console\n{console}")
}

/// Builds and boots `case` on `board`; returns failures.
fn check(case: &Case, board: &Board, wasm: &Path, scratch: &Path) -> Vec<String> {
    let label = format!("{} on {}", case.name, board.name);
    let image = scratch.join(format!("{}-{}.elf", case.name, board.name));
    let mut flags: Vec<&str> = case.flags.to_vec();
    flags.extend(["--target", &board.name]);
    let build = Command::new(common::wafer())
        .current_dir(common::tests_dir())
        .arg("build")
        .arg(wasm)
        .arg("-o")
        .arg(&image)
        .args(&flags)
        .output()
        .unwrap();
    if !build.status.success() {
        return vec![format!(
            "{label}: wafer build failed: {}",
            String::from_utf8_lossy(&build.stderr)
        )];
    }
    let outcome = match board.boot(&image, case.stdin, Duration::from_secs(120)) {
        Ok(outcome) => outcome,
        Err(e) => return vec![format!("{label}: {e}")],
    };
    // On a board stdout and stderr share the console, QEMU's stdout.
    let actual = describe(outcome.code, &outcome.stdout);
    let golden = common::tests_dir()
        .join("boards/expected")
        .join(format!("{}.expected", case.name));
    // The reference run writes the expected file under WAFER_BLESS; boards must match.
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    let mut failures = Vec::new();
    if expected != actual {
        failures.push(format!(
            "{label}: {}\n--- qemu stderr\n{}",
            common::first_difference(&expected, &actual),
            outcome.stderr
        ));
    }
    failures
}

/// The reference for `case`: wasmtime's output and status, or wafer's Linux build's.
fn reference(case: &Case, wasm: &Path, scratch: &Path) -> Option<String> {
    let outcome = match case.wasmtime {
        Some((options, args)) => {
            let wasmtime = common::which("wasmtime")?;
            let mut command = Command::new(wasmtime);
            command
                .current_dir(common::tests_dir())
                .arg("run")
                .args(options)
                .arg(wasm)
                .args(args);
            run(&mut command, case.stdin, Duration::from_secs(60))
        }
        None => {
            // On Linux, a board's fixed `--arg`s are the command line.
            let (mut flags, mut args): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
            let mut rest = case.flags.iter();
            while let Some(&flag) = rest.next() {
                match flag {
                    "--arg" => args.extend(rest.next()),
                    _ => flags.push(flag),
                }
            }
            let image = scratch.join(format!("{}-host", case.name));
            let build = Command::new(common::wafer())
                .current_dir(common::tests_dir())
                .arg("build")
                .arg(wasm)
                .arg("-o")
                .arg(&image)
                .args(&flags)
                .output()
                .unwrap();
            assert!(build.status.success(), "{build:?}");
            let mut command = Command::new(&image);
            command.current_dir(common::tests_dir()).args(args);
            run(&mut command, case.stdin, Duration::from_secs(60))
        }
    };
    Some(describe(
        outcome.code,
        &format!("{}{}", outcome.stdout, outcome.stderr),
    ))
}

#[test]
fn firmware_images_boot_on_every_board() {
    let scratch = common::scratch("boards");
    let sources: Vec<&str> = CASES.iter().map(|case| case.source).collect();
    let compiled = toolchain::compile_all(&common::tests_dir().join("boards"), &sources, &scratch);
    let wasm_of = |source: &str| -> PathBuf {
        compiled
            .iter()
            .find(|(s, _)| s == source)
            .map(|(_, wasm)| wasm.clone())
            .unwrap()
    };
    let mut failures = Failures::default();
    // The reference first: the expected files are what the program does elsewhere.
    for case in CASES {
        let Some(expected) = reference(case, &wasm_of(case.source), &scratch) else {
            eprintln!(
                "note: wasmtime not installed; {} has no reference run",
                case.name
            );
            continue;
        };
        let golden = common::tests_dir()
            .join("boards/expected")
            .join(format!("{}.expected", case.name));
        failures.check(
            common::check_golden(&golden, &expected)
                .map_err(|e| format!("{} (reference): {e}", case.name)),
        );
    }
    let boards = boards();
    assert!(!boards.is_empty(), "no boards in targets/");
    let jobs: Vec<(&Case, &Board)> = boards
        .iter()
        .flat_map(|board| CASES.iter().map(move |case| (case, board)))
        .collect();
    for failure in toolchain::run_parallel(&jobs, |(case, board)| {
        check(case, board, &wasm_of(case.source), &scratch)
    }) {
        failures.push(failure);
    }
    failures.finish("board cases");
}

#[test]
fn inspect_shows_the_board_its_memory_devices_and_grants() {
    let scratch = common::scratch("boards-inspect");
    let wasm = scratch.join("hello.wasm");
    std::fs::write(
        &wasm,
        wat::parse_file(common::repo().join("examples/hello.wat")).unwrap(),
    )
    .unwrap();
    let image = scratch.join("hello.elf");
    let build = Command::new(common::wafer())
        .current_dir(common::tests_dir())
        .args([
            "build",
            "--target",
            "qemu-virt-aarch64",
            "--on-exit",
            "halt",
        ])
        .args(["--dir=boards/tree::/data:ro", "--arg", "x", "--gpio", "3"])
        .arg(&wasm)
        .arg("-o")
        .arg(&image)
        .output()
        .unwrap();
    assert!(build.status.success(), "{build:?}");
    let inspected = Command::new(common::wafer())
        .arg("inspect")
        .arg(&image)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&inspected.stdout);
    for expected in [
        "board:       qemu-virt-aarch64",
        "memory:      qemu-virt-aarch64 RAM 0x40000000..0x48000000",
        "stack 262,144, heap 131,072",
        "on exit:     halt",
        "console:     PL011 UART",
        "random:      no hardware source",
        "files:       tree 0: 3 files, 3,036 bytes, read-only",
        "arguments:   \"hello\" \"x\"",
        "gpio:        pins 3",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

/// A memory without a maximum grows into the free RAM unless `--max-memory` caps it:
/// the guest grows a page at a time until refused and exits with the pages it has.
#[test]
fn max_memory_caps_a_memory_on_every_board() {
    let scratch = common::scratch("boards-max-memory");
    let wasm = scratch.join("grow.wasm");
    let grow = r#"(module (memory 0)
        (func (export "pages") (result i32)
          (loop $more (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
          (memory.size)))"#;
    std::fs::write(&wasm, wat::parse_str(grow).unwrap()).unwrap();
    let mut failures = Failures::default();
    for board in boards() {
        let image = scratch.join(format!("grow-{}.elf", board.name));
        let build = Command::new(common::wafer())
            .arg("build")
            .arg(&wasm)
            .args(["--invoke", "pages", "--max-memory", "640K", "--target"])
            .arg(&board.name)
            .arg("-o")
            .arg(&image)
            .output()
            .unwrap();
        if !build.status.success() {
            failures.push(format!(
                "{}: {}",
                board.name,
                String::from_utf8_lossy(&build.stderr)
            ));
            continue;
        }
        match board.boot(&image, None, Duration::from_secs(60)) {
            Ok(outcome) if outcome.code == 10 => {}
            Ok(outcome) => failures.push(format!(
                "{}: grew to {} pages (exit status), expected 10: {}",
                board.name, outcome.code, outcome.stdout
            )),
            Err(e) => failures.push(format!("{}: {e}", board.name)),
        }
    }
    failures.finish("max-memory on boards");
}

#[test]
fn options_a_board_cannot_honour_are_one_line_errors() {
    let scratch = common::scratch("boards-errors");
    let wasm = scratch.join("hello.wasm");
    std::fs::write(
        &wasm,
        wat::parse_file(common::repo().join("examples/hello.wat")).unwrap(),
    )
    .unwrap();
    let wasm = wasm.to_str().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--target", "raspi3b", "--listen", "127.0.0.1:80"],
            &["--listen", "raspi3b"],
        ),
        (
            &["--target", "raspi3b", "--inherit-env"],
            &["--inherit-env"],
        ),
        (
            &["--target", "raspi3b", "--env", "HOME"],
            &["--env HOME=VALUE"],
        ),
        (
            &["--target", "sifive_u", "--dir", "boards/tree::/data"],
            &["read-only", ":ro"],
        ),
        (
            &["--target", "sifive_u", "--on-exit", "reset"],
            &["sifive_u cannot end a program by reset"],
        ),
        (
            &["--target", "qemu-virt-aarch64", "--gpio", "8"],
            &["pins 0 to 7"],
        ),
        (
            &["--target", "x86_64-linux", "--format", "bin"],
            &["for firmware images", "x86_64-linux is not a board"],
        ),
        (
            &["--target", "qemu-virt-riscv64", "--stack-size", "4G"],
            &["RAM", "too many"],
        ),
        (
            &["--target", "qemu-virt-aarch64", "--max-memory", "200M"],
            &["209,715,200 for linear memory", "too many"],
        ),
    ];
    for (flags, needles) in cases {
        let output = scratch.join("out.elf");
        let outcome = common::run_command(
            Command::new(common::wafer())
                .current_dir(common::tests_dir())
                .args(["build", wasm, "-o"])
                .arg(&output)
                .args(*flags),
        );
        assert_ne!(outcome.code, 0, "{flags:?} should fail");
        let lines: Vec<&str> = outcome.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{flags:?}: {:?}", outcome.stderr);
        for needle in *needles {
            assert!(
                lines[0].contains(needle),
                "{flags:?}: {:?} lacks {needle:?}",
                lines[0]
            );
        }
        assert!(!output.exists(), "{flags:?} left an output file");
    }
}

/// Sends `command` to QEMU's human monitor on `socket` and returns the 32-bit value of
/// the `xp /1wx` answer.
fn monitor_word(socket: &Path, address: u32) -> Result<u32, String> {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    let mut stream = UnixStream::connect(socket).map_err(|e| format!("monitor: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    writeln!(stream, "xp /1wx {address:#x}").map_err(|e| e.to_string())?;
    let mut seen = String::new();
    let mut buf = [0u8; 512];
    let needle = format!("{address:016x}: 0x");
    loop {
        let n = stream
            .read(&mut buf)
            .map_err(|e| format!("monitor: {e} after {seen:?}"))?;
        if n == 0 {
            return Err(format!("monitor closed after {seen:?}"));
        }
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        if let Some(at) = seen.find(&needle) {
            let digits: String = seen[at + needle.len()..]
                .chars()
                .take_while(char::is_ascii_hexdigit)
                .collect();
            if digits.len() == 8 {
                return u32::from_str_radix(&digits, 16).map_err(|e| e.to_string());
            }
        }
    }
}

#[test]
fn gpio_pins_driven_by_a_guest_are_read_back_from_the_device() {
    use std::io::{BufRead, BufReader, Write};
    let scratch = common::scratch("boards-gpio");
    let wasm = toolchain::compile(
        &common::tests_dir().join("boards"),
        "rust/blink.rs",
        &scratch,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let board = boards()
        .into_iter()
        .find(|board| board.name == "qemu-virt-aarch64");
    let Some(board) = board else {
        eprintln!("note: qemu-virt-aarch64 is not among the boards under test");
        return;
    };
    let image = scratch.join("blink.elf");
    let build = common::wafer_build(
        &wasm,
        &image,
        &[
            "--target",
            "qemu-virt-aarch64",
            "--gpio",
            "0",
            "--gpio",
            "1",
            "--gpio",
            "2",
            "--gpio",
            "5",
        ],
    );
    assert_eq!(build.code, 0, "{build:?}");
    let socket = scratch.join("monitor.sock");
    let _ = std::fs::remove_file(&socket);
    let (program, args) = board.qemu.split_first().unwrap();
    let mut child = Command::new(program)
        .args(args)
        .arg(&image)
        .arg("-monitor")
        .arg(format!("unix:{},server=on,wait=off", socket.display()))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut console = String::new();
    let ready = loop {
        match lines.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                console.push_str(&line);
                console.push('\n');
                if line.starts_with("pins set") {
                    break true;
                }
            }
            Err(_) => break false,
        }
    };
    let readback = ready.then(|| {
        (
            monitor_word(&socket, 0x0903_03fc),
            monitor_word(&socket, 0x0903_0400),
        )
    });
    let _ = writeln!(stdin, "go on");
    let status = {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code();
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(1)) {
        console.push_str(&line);
        console.push('\n');
    }
    assert!(ready, "the guest never set its pins:\n{console}");
    let (data, direction) = readback.unwrap();
    // PL061 DATA (all pins) and DIR: pins 0, 2 and 5 high, 1 low; 0, 1, 2 and 5 outputs;
    // pin 3 (not granted) untouched.
    assert_eq!(data, Ok(0b0010_0101), "data register\n{console}");
    assert_eq!(direction, Ok(0b0010_0111), "direction register\n{console}");
    assert_eq!(status, Some(0), "{console}");
    let golden = common::tests_dir().join("boards/expected/rust_blink.expected");
    common::check_golden(&golden, &console).unwrap();
}
