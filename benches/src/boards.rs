//! `--boards`: firmware figures for every board in `targets/`. For each, the hello
//! images' sizes (text + data, bss, the runtime's share of the text) and the RAM they
//! need, against the goals (at most 16 KiB of text + data, a runtime with its WASI shims
//! under 8 KiB of text); then one compute kernel's time booted on the board under
//! qemu-system against the same kernel under qemu-user as a Linux image of the same
//! architecture, built with and without the checks every firmware image carries.
//! Writes `target/bench/BOARDS.md` (also printed).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::measure::{self, Cmd, Meter, build_step, median};
use crate::report::{Table, bytes, ms, ratio};
use crate::runners::{self, Program};
use crate::tools;

/// At most this much text + data for a hello image (the goal).
const HELLO_FLASH_GOAL: u64 = 16 << 10;
/// Under this much text for the runtime with its WASI shims.
const RUNTIME_TEXT_GOAL: u64 = 8 << 10;
/// The kernel timed on each board: integer and memory work, no floating point, with a
/// checksum to compare.
const KERNEL: &str = "c/sha256";
/// Boots and kernel runs get longer under emulation than natively.
const BOARD_LIMIT: Duration = Duration::from_secs(600);

/// A board from its `targets/<board>/target.toml`.
struct Board {
    name: String,
    /// `aarch64` or `riscv64`: the Linux target its kernel time is compared with.
    arch: String,
    /// The qemu-system command, the image to follow.
    qemu: Vec<String>,
    /// The qemu-user emulator of the architecture.
    user: String,
}

/// `wafer inspect`'s figures for one image.
#[derive(Default)]
struct Footprint {
    /// Compiled wasm code.
    code: u64,
    text: u64,
    rodata: u64,
    metadata: u64,
    data: u64,
    bss: u64,
    /// The image, its stack and heap: the RAM used before linear memory.
    used: u64,
}

impl Footprint {
    /// What goes to flash (or is loaded): code and initialised data.
    fn flash(&self) -> u64 {
        self.text + self.rodata + self.metadata + self.data
    }
}

/// One board's kernel timings (seconds) under the three setups.
struct KernelTimes {
    board: Vec<f64>,
    user_guarded: Vec<f64>,
    user_checked: Vec<f64>,
    problem: Option<String>,
}

/// Builds, measures and reports; `Ok(false)` when something failed.
pub fn run(root: &Path, work: &Path, meter: &Meter, runs: usize) -> Result<bool, String> {
    let mut versions = Vec::new();
    let mut notes = Vec::new();
    tools::clang(&mut versions)?;
    tools::rustc(&mut versions)?;
    let wafer = tools::pin_wafer(root, work, &mut versions, &mut notes)?;
    for note in &notes {
        eprintln!("wafer-bench: note: {note}");
    }
    let mut boards = discover(&root.join("targets"))?;
    for board in &mut boards {
        // The meter runs children with an empty environment: absolute paths.
        for program in [&mut board.qemu[0], &mut board.user] {
            let Some(path) = tools::which(program) else {
                return Err(format!(
                    "{program} is not installed (Debian bookworm-backports: qemu-user, \
                     qemu-system-arm, qemu-system-misc)"
                ));
            };
            *program = path.to_string_lossy().into_owned();
        }
        let system = Path::new(&board.qemu[0]);
        let label = system.file_name().unwrap_or_default().to_string_lossy();
        if !versions.iter().any(|(name, _)| *name == label)
            && let Some(version) = tools::version_line(system, &["--version"])
        {
            versions.push((label.into_owned(), version));
        }
    }
    let key = versions
        .iter()
        .map(|(name, version)| format!("{name}={version}"))
        .collect::<Vec<_>>()
        .join(";");
    let dir = work.join("boards");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;

    // The hello probes: the WAT example (only the runtime and one fd_write) and the C
    // one (wasi-libc's printf and start-up code too).
    let programs = runners::discover(&root.join("benches").join("programs"))?;
    let find = |name: &str| programs.iter().find(|p| p.name == name).cloned();
    let hello_c = find("c/hello").ok_or("benches/programs/c/hello.c is missing")?;
    let kernel = find(KERNEL).ok_or(format!("benches/programs/{KERNEL}.c is missing"))?;
    let hello_c_wasm = built_wasm(&hello_c, &dir, &key)?;
    let kernel_wasm = built_wasm(&kernel, &dir, &key)?;
    let hellos = [
        (
            "examples/hello.wat",
            root.join("examples").join("hello.wat"),
        ),
        ("c/hello", hello_c_wasm),
    ];

    let mut ok = true;
    let mut sizes = Table::new([
        "board",
        "program",
        "text + data",
        "bss",
        "text + data + bss",
        "RAM needed",
        "text besides the wasm code",
        "board support",
        "runtime + WASI shims",
        "goals",
    ]);
    for board in &boards {
        for (label, wasm) in &hellos {
            let image = dir.join(format!("{}-{}.elf", label.replace('/', "_"), board.name));
            let footprint = build(&wafer, wasm, &board.name, &[], &image)
                .and_then(|()| inspect(&wafer, &image));
            let footprint = match footprint {
                Ok(footprint) => footprint,
                Err(why) => {
                    ok = false;
                    sizes.row([board.name.clone(), label.to_string(), why]);
                    continue;
                }
            };
            let memory = initial_memory(wasm);
            let beside_code = footprint.text.saturating_sub(footprint.code);
            let with_symbols = image.with_extension("symbols.elf");
            let runtime = build(&wafer, wasm, &board.name, &["--symbols"], &with_symbols)
                .and_then(|()| runtime_text(&with_symbols));
            let runtime = match runtime {
                Ok(runtime) => runtime,
                Err(why) => {
                    ok = false;
                    sizes.row([board.name.clone(), label.to_string(), why]);
                    continue;
                }
            };
            let board_support = beside_code.saturating_sub(runtime);
            let flash_ok = footprint.flash() <= HELLO_FLASH_GOAL;
            let runtime_ok = runtime < RUNTIME_TEXT_GOAL;
            let goals = match (label.starts_with("examples"), flash_ok, runtime_ok) {
                (false, _, _) => "(libc)".to_string(),
                (true, true, true) => "both met".to_string(),
                (true, flash, runtime) => format!(
                    "{}{}",
                    if flash {
                        ""
                    } else {
                        "text + data over 16 KiB; "
                    },
                    if runtime { "" } else { "runtime over 8 KiB" }
                ),
            };
            sizes.row([
                board.name.clone(),
                label.to_string(),
                bytes(footprint.flash()),
                bytes(footprint.bss),
                bytes(footprint.flash() + footprint.bss),
                format!(
                    "{} + {} linear memory",
                    bytes(footprint.used),
                    bytes(memory)
                ),
                bytes(beside_code),
                bytes(board_support),
                bytes(runtime),
                goals,
            ]);
        }
    }

    let mut times = Table::new([
        "board",
        "on the board (ms)",
        "qemu-user (ms)",
        "board ×qemu-user",
        "qemu-user with checks (ms)",
        "checks ×none",
        "board ×qemu-user with checks",
    ]);
    for board in &boards {
        eprint!("wafer-bench: {KERNEL} on {} ...", board.name);
        let measured = time_kernel(&wafer, &kernel_wasm, board, &dir, meter, runs);
        let row = match (&measured.problem, medians(&measured)) {
            (None, Some([on_board, guarded, checked])) => {
                eprintln!(
                    " {} ms, qemu-user {} ms, with checks {} ms",
                    ms(on_board),
                    ms(guarded),
                    ms(checked)
                );
                vec![
                    board.name.clone(),
                    ms(on_board),
                    ms(guarded),
                    ratio(on_board / guarded),
                    ms(checked),
                    ratio(checked / guarded),
                    ratio(on_board / checked),
                ]
            }
            (problem, _) => {
                ok = false;
                eprintln!(" PROBLEM");
                let why = problem.clone().unwrap_or_else(|| "no timed run".into());
                let mut row = vec![String::new(); 7];
                row[0] = board.name.clone();
                row[1] = why;
                row
            }
        };
        times.row(row);
    }

    let text = render(&versions, &sizes, &times, runs);
    let out = work.join("BOARDS.md");
    std::fs::write(&out, &text).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("{text}");
    eprintln!("wafer-bench: wrote {}", out.display());
    Ok(ok)
}

/// Every folder of `targets` whose descriptor has a `[board]` section.
fn discover(targets: &Path) -> Result<Vec<Board>, String> {
    let entries = std::fs::read_dir(targets).map_err(|e| format!("{}: {e}", targets.display()))?;
    let mut boards = Vec::new();
    for entry in entries.flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path().join("target.toml")) else {
            continue;
        };
        if !text.lines().any(|line| line.trim() == "[board]") {
            continue;
        }
        let value = |key: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(key)?.trim_start().strip_prefix('='))
                .map(str::trim)
        };
        let quoted = |field: &str| -> Vec<String> {
            field
                .split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect()
        };
        let (Some(name), Some(arch), Some(qemu)) = (value("name"), value("arch"), value("qemu"))
        else {
            return Err(format!(
                "{}: name, arch or qemu is missing",
                entry.path().display()
            ));
        };
        let qemu = quoted(qemu);
        if qemu.is_empty() {
            return Err(format!("{}: qemu is empty", entry.path().display()));
        }
        let arch = quoted(arch).concat();
        boards.push(Board {
            name: quoted(name).concat(),
            user: format!("qemu-{arch}"),
            arch,
            qemu,
        });
    }
    boards.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(boards)
}

/// The program built to wasm (cached), under `dir`.
fn built_wasm(program: &Program, dir: &Path, key: &str) -> Result<PathBuf, String> {
    let name = program.name.replace('/', "_");
    runners::build_wasm(program, &dir.join(format!("{name}.wasm")), key)
}

/// `wafer build WASM --target TARGET FLAGS -o OUT`.
fn build(
    wafer: &Path,
    wasm: &Path,
    target: &str,
    flags: &[&str],
    out: &Path,
) -> Result<(), String> {
    build_step(
        Command::new(wafer)
            .arg("build")
            .arg(wasm)
            .args(["--target", target])
            .args(flags)
            .arg("-o")
            .arg(out),
    )
}

/// The figures `wafer inspect` gives for a firmware image.
fn inspect(wafer: &Path, image: &Path) -> Result<Footprint, String> {
    let mut command = Command::new(wafer);
    command.arg("inspect").arg(image);
    let output = command
        .output()
        .map_err(|e| format!("{}: {e}", measure::describe(&command)))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed: {}",
            measure::describe(&command),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let number = |word: &str| word.replace(',', "").parse::<u64>().ok();
    let mut footprint = Footprint::default();
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("code:") {
            footprint.code = rest.split_whitespace().next().and_then(number).unwrap_or(0);
        } else if line.contains(" bytes used by the image") {
            // "<board> RAM a..b: USED of TOTAL bytes used by the image, FREE free"
            let before = line.split(" of ").next().unwrap_or_default();
            footprint.used = before.rsplit(' ').next().and_then(number).unwrap_or(0);
        } else if line.starts_with("text ") {
            // "text T, rodata R, metadata M, data D, bss B, stack S, heap H; ..."
            for part in line.split(';').next().unwrap_or_default().split(", ") {
                let mut words = part.split_whitespace();
                let (Some(name), Some(value)) = (words.next(), words.next().and_then(number))
                else {
                    continue;
                };
                match name {
                    "text" => footprint.text = value,
                    "rodata" => footprint.rodata = value,
                    "metadata" => footprint.metadata = value,
                    "data" => footprint.data = value,
                    "bss" => footprint.bss = value,
                    _ => {}
                }
            }
        }
    }
    if footprint.text == 0 || footprint.used == 0 {
        return Err(format!(
            "cannot read the figures of `wafer inspect`:\n{text}"
        ));
    }
    Ok(footprint)
}

/// The runtime's share of an image's text (built with `--symbols`): the sized code
/// symbols that are neither compiled wasm (`wasm...`) nor the board's support (the boot,
/// exception vectors and MMU set-up, which are assembly without symbol sizes, and
/// everything under `sys::baremetal`: the platform, the board and its drivers).
fn runtime_text(image: &Path) -> Result<u64, String> {
    use object::{Object, ObjectSymbol, SymbolKind};
    let bytes = std::fs::read(image).map_err(|e| format!("{}: {e}", image.display()))?;
    let file = object::File::parse(&*bytes).map_err(|e| format!("{}: {e}", image.display()))?;
    let mut total = 0;
    for symbol in file.symbols() {
        let Ok(name) = symbol.name() else { continue };
        let board_support = name.contains("9baremetal");
        if symbol.kind() == SymbolKind::Text
            && symbol.size() > 0
            && !name.starts_with("wasm")
            && !board_support
        {
            total += symbol.size();
        }
    }
    if total == 0 {
        return Err(format!("{} has no sized runtime symbols", image.display()));
    }
    Ok(total)
}

/// Bytes of linear memory the module at `path` (binary or text) starts with, summed
/// over its defined memories; 0 when it cannot tell.
fn initial_memory(path: &Path) -> u64 {
    let Ok(binary) = wat::parse_file(path) else {
        return 0;
    };
    let mut total = 0;
    for payload in wasmparser::Parser::new(0).parse_all(&binary) {
        if let Ok(wasmparser::Payload::MemorySection(reader)) = payload {
            for memory in reader.into_iter().flatten() {
                let page_log2 = memory.page_size_log2.unwrap_or(16);
                total += memory.initial << page_log2;
            }
        }
    }
    total
}

/// Times the kernel booted on the board, and as a Linux image of the board's
/// architecture under qemu-user with and without `--checks bounds,stack`, interleaved.
fn time_kernel(
    wafer: &Path,
    wasm: &Path,
    board: &Board,
    dir: &Path,
    meter: &Meter,
    runs: usize,
) -> KernelTimes {
    let mut times = KernelTimes {
        board: Vec::new(),
        user_guarded: Vec::new(),
        user_checked: Vec::new(),
        problem: None,
    };
    let linux = format!("{}-linux", board.arch);
    let image = dir.join(format!("kernel-{}.elf", board.name));
    let guarded = dir.join(format!("kernel-{linux}"));
    let checked = dir.join(format!("kernel-{linux}-checks"));
    // The suite's kernels use SIMD only in their +simd builds; rv64gc is the boards'.
    let built = build(wafer, wasm, &board.name, &[], &image)
        .and_then(|()| build(wafer, wasm, &linux, &[], &guarded))
        .and_then(|()| build(wafer, wasm, &linux, &["--checks", "bounds,stack"], &checked));
    if let Err(why) = built {
        times.problem = Some(format!("build failed: {why}"));
        return times;
    }
    let mut on_board = board.qemu.clone();
    on_board.push(image.to_string_lossy().into_owned());
    let user = board.user.clone();
    let commands = [
        Cmd::new(on_board),
        Cmd::new([user.clone(), guarded.to_string_lossy().into_owned()]),
        Cmd::new([user, checked.to_string_lossy().into_owned()]),
    ];
    let mut reference: Option<Vec<u8>> = None;
    for round in 0..runs {
        for k in 0..commands.len() {
            let which = (k + round) % commands.len();
            let sample = match meter.run(&commands[which], BOARD_LIMIT) {
                Ok(sample) if sample.success() => sample,
                Ok(sample) => {
                    times.problem = Some(format!("run failed: {}", sample.failure()));
                    return times;
                }
                Err(why) => {
                    times.problem = Some(format!("run failed: {why}"));
                    return times;
                }
            };
            // The board's console ends lines with CR LF.
            let output: Vec<u8> = sample.stdout.into_iter().filter(|&b| b != b'\r').collect();
            match &reference {
                None => reference = Some(output),
                Some(first) if *first != output => {
                    times.problem = Some("OUTPUT MISMATCH between the board and qemu-user".into());
                    return times;
                }
                Some(_) => {}
            }
            let wall = sample.wall.as_secs_f64();
            match which {
                0 => times.board.push(wall),
                1 => times.user_guarded.push(wall),
                _ => times.user_checked.push(wall),
            }
        }
    }
    times
}

fn medians(times: &KernelTimes) -> Option<[f64; 3]> {
    let all = [&times.board, &times.user_guarded, &times.user_checked];
    if all.iter().any(|walls| walls.is_empty()) {
        return None;
    }
    Some(all.map(|walls| median(walls)))
}

fn render(versions: &[(String, String)], sizes: &Table, times: &Table, runs: usize) -> String {
    let mut text = String::from(
        "# wafer on boards\n\n\
         `cargo run --release -p wafer-bench -- --boards`: every board in `targets/`.\n\n",
    );
    for (name, version) in versions {
        text.push_str(&format!("- {name}: {version}\n"));
    }
    text.push_str(
        "\n## Footprint\n\n\
         Each hello built with `wafer build --target BOARD` (ELF, defaults), figures from \
         `wafer inspect`: text + data is what is loaded or flashed (code, read-only data, \
         wafer's metadata, initialised data); RAM needed is the image with its stack and \
         heap, plus the linear memory the module starts with. The text besides the \
         compiled wasm code splits into board support (boot, exception vectors, MMU \
         set-up, the platform layer and the board's drivers: everything under \
         `sys::baremetal` and the assembly) and the runtime with its WASI shims (trap \
         reports, grants, descriptors, the WASI calls the program imports, memory and \
         table management), from the symbols of the same image built with `--symbols`. \
         Goals for the WAT hello: text + data at most 16 KiB, the runtime with its WASI \
         shims under 8 KiB of text (WAMR's figures, 29 KB plus 21 KB, are likewise its \
         runtime and WASI library without the OS beneath).\n\n",
    );
    text.push_str(&sizes.render());
    text.push_str(&format!(
        "\n## A compute kernel on the board\n\n\
         `{KERNEL}` built to wasm once, then by wafer for the board (booted under its \
         qemu-system machine, explicit bounds and stack checks) and for Linux on the same \
         architecture (under qemu-user: with guard regions, and with `--checks \
         bounds,stack`); the three run interleaved, {runs} round{}, medians of wall time \
         including QEMU's start and the board's boot. All three are emulated (TCG), so \
         the ratios say what the checks and the emulated machine cost relative to each \
         other, not what hardware would take: the board against qemu-user with checks \
         runs the same code, and what separates them is QEMU's system emulation (a \
         software TLB on every access, the devices) against a user-mode process.\n\n",
        if runs == 1 { "" } else { "s" }
    ));
    text.push_str(&times.render());
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn every_board_folder_is_found_with_its_qemu_command() {
        let boards = discover(&root().join("targets")).unwrap();
        let names: Vec<&str> = boards.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "qemu-virt-aarch64",
                "qemu-virt-riscv64",
                "raspi3b",
                "sifive_u"
            ]
        );
        for board in &boards {
            assert!(
                board.qemu[0].starts_with("qemu-system-"),
                "{:?}",
                board.qemu
            );
            assert_eq!(board.qemu.last().map(String::as_str), Some("-kernel"));
            assert_eq!(board.user, format!("qemu-{}", board.arch));
        }
    }

    #[test]
    fn the_initial_memory_of_text_and_binary_modules() {
        assert_eq!(initial_memory(&root().join("examples/hello.wat")), 64 << 10);
        let dir = std::env::temp_dir().join(format!("wafer-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let module = dir.join("two.wasm");
        let wasm = wat::parse_str("(module (memory 2) (memory 5 (pagesize 1)))").unwrap();
        std::fs::write(&module, wasm).unwrap();
        assert_eq!(initial_memory(&module), (2 << 16) + 5);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
