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

/// `wafer run --target BOARD` boots the module in the board's QEMU machine: the guest's
/// arguments are fixed into the image, the exit status is the program's (134 for a
/// trap), and without the emulator it says how to install it.
#[test]
fn wafer_run_boots_a_module_on_every_board() {
    let mut failures = Failures::default();
    let hello = common::repo().join("examples/hello.wat");
    let trap = common::tests_dir().join("boards/wat/trap.wat");
    for board in boards() {
        let run = |module: &Path, args: &[&str]| {
            common::run_command(
                Command::new(common::wafer())
                    .args(["run", "--target", &board.name])
                    .arg(module)
                    .args(args),
            )
        };
        let outcome = run(&hello, &["board", "run"]);
        let expected = "hello, board!\nhello, run!\n";
        if (
            outcome.code,
            outcome.stdout.replace('\r', "").as_str(),
            outcome.stderr.as_str(),
        ) != (0, expected, "")
        {
            failures.push(format!("{}: hello: {outcome:?}", board.name));
        }
        let outcome = run(&trap, &[]);
        if outcome.code != 134 || !outcome.stdout.contains("integer divide by zero in divide") {
            failures.push(format!("{}: trap: {outcome:?}", board.name));
        }
        let outcome = common::run_command(
            Command::new(common::wafer())
                .args(["run", "--target", &board.name])
                .arg(&hello)
                .env("PATH", "/nonexistent"),
        );
        let lines: Vec<&str> = outcome.stderr.lines().collect();
        if outcome.code == 0
            || lines.len() != 1
            || !lines[0].contains("is not installed")
            || !lines[0].contains("apt install")
        {
            failures.push(format!("{}: without QEMU: {outcome:?}", board.name));
        }
    }
    failures.finish("wafer run on boards");
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

/// The root files of the FAT volume at byte `offset` of `path`.
fn fat_files(path: &Path, offset: u64) -> Vec<(String, Vec<u8>)> {
    use std::io::{Read as _, Seek as _};
    let mut file = std::fs::File::open(path).unwrap();
    let mut bytes = Vec::new();
    file.seek(std::io::SeekFrom::Start(offset)).unwrap();
    file.read_to_end(&mut bytes).unwrap();
    let fs = fatfs::FileSystem::new(std::io::Cursor::new(bytes), fatfs::FsOptions::new()).unwrap();
    let mut files = Vec::new();
    for entry in fs.root_dir().iter() {
        let entry = entry.unwrap();
        if entry.is_file() {
            let mut contents = Vec::new();
            entry.to_file().read_to_end(&mut contents).unwrap();
            files.push((entry.file_name(), contents));
        }
    }
    files
}

/// `wafer flash --target raspi3b` into a FAT volume image and into a disk image whose
/// first partition is FAT: it writes `kernel8.img` (which then boots in QEMU's raspi3b
/// as the firmware would load it: raw, at 0x8_0000), adds its block to `config.txt`
/// once however often it runs, and keeps the firmware; it refuses what is not a boot
/// partition with firmware on it, and boards that do not boot from one.
#[test]
fn flash_installs_on_a_raspberry_pi_boot_partition() {
    let scratch = common::scratch("boards-flash");
    let hello = common::repo().join("examples/hello.wat");
    let firmware: &[(&str, &[u8])] = &[
        ("bootcode.bin", b"bootcode"),
        ("start.elf", b"start"),
        ("fixup.dat", b"fixup"),
        ("config.txt", b"[pi4]\nmax_framebuffers=2\n"),
    ];
    let flash = |to: &Path| {
        common::run_command(
            Command::new(common::wafer())
                .args(["flash", "--target", "raspi3b", "--on-exit", "semihosting"])
                .args(["--arg", "flashed"])
                .arg(&hello)
                .arg("--to")
                .arg(to),
        )
    };
    // A bare volume, and a disk with an MBR and the volume at 1 MiB.
    let volume = scratch.join("boot.img");
    common::boards::fat_volume(&volume, 32 << 20, firmware);
    let disk = scratch.join("sd.img");
    {
        let partition = scratch.join("partition.img");
        common::boards::fat_volume(&partition, 32 << 20, firmware);
        let mut bytes = vec![0u8; 1 << 20];
        let entry = &mut bytes[446..462];
        entry[4] = 0x0c; // FAT32 (LBA)
        entry[8..12].copy_from_slice(&2048u32.to_le_bytes());
        entry[12..16].copy_from_slice(&((32u32 << 20) / 512).to_le_bytes());
        bytes[510] = 0x55;
        bytes[511] = 0xaa;
        bytes.extend(std::fs::read(&partition).unwrap());
        std::fs::write(&disk, bytes).unwrap();
    }
    for (image, offset) in [(&volume, 0u64), (&disk, 1 << 20)] {
        for _ in 0..2 {
            let outcome = flash(image);
            assert_eq!(outcome.code, 0, "{}: {outcome:?}", image.display());
            assert!(outcome.stderr.contains("wrote kernel8.img"), "{outcome:?}");
        }
        let files = fat_files(image, offset);
        let file = |name: &str| {
            files
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, contents)| contents.clone())
                .unwrap_or_else(|| panic!("{name} missing from {}", image.display()))
        };
        for (name, contents) in &firmware[..3] {
            assert_eq!(file(name), contents.to_vec(), "{name} was changed");
        }
        let config = String::from_utf8(file("config.txt")).unwrap();
        assert!(
            config.starts_with("[pi4]\nmax_framebuffers=2\n"),
            "{config}"
        );
        assert_eq!(config.matches("[all]").count(), 1, "{config}");
        for line in ["arm_64bit=1", "kernel=kernel8.img", "enable_uart=1"] {
            assert!(
                config.lines().any(|l| l == line),
                "{line} missing:\n{config}"
            );
        }
        let kernel = scratch.join("kernel8.img");
        std::fs::write(&kernel, file("kernel8.img")).unwrap();
        let raspi3b = boards().into_iter().find(|b| b.name == "raspi3b").unwrap();
        let outcome = raspi3b
            .boot(&kernel, None, Duration::from_secs(60))
            .unwrap();
        assert_eq!(
            (outcome.code, outcome.stdout.replace('\r', "")),
            (0, "hello, flashed!\n".to_string()),
            "{}",
            image.display()
        );
    }
    // What is refused, in one line each.
    let bare = scratch.join("no-firmware.img");
    common::boards::fat_volume(&bare, 16 << 20, &[("config.txt", b"")]);
    let zeros = scratch.join("zeros.img");
    std::fs::write(&zeros, vec![0u8; 1 << 20]).unwrap();
    let plain_dir = scratch.join("not-fat");
    std::fs::create_dir_all(&plain_dir).unwrap();
    for (to, needle) in [
        (&bare, "bootcode.bin, start.elf, fixup.dat missing"),
        (&zeros, "neither a FAT file system nor a disk image"),
        (&plain_dir, "not a FAT boot partition"),
    ] {
        let outcome = flash(to);
        let lines: Vec<&str> = outcome.stderr.lines().collect();
        assert!(
            outcome.code != 0 && lines.len() == 1 && lines[0].contains(needle),
            "{}: {outcome:?}",
            to.display()
        );
    }
    let outcome = common::run_command(
        Command::new(common::wafer())
            .args(["flash", "--target", "qemu-virt-aarch64"])
            .arg(&hello)
            .arg("--to")
            .arg(&volume),
    );
    assert!(
        outcome.code != 0
            && outcome
                .stderr
                .contains("does not boot from a FAT partition"),
        "{outcome:?}"
    );
}
