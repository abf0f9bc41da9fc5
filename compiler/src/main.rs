//! The `wafer` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use wafer::driver::{self, BuildOptions, Emit, Grants};
use wafer::target::{self, Target};

#[derive(Parser)]
#[command(
    name = "wafer",
    version,
    about = "Compile WebAssembly into self-contained native executables and firmware"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Colour errors and warnings: auto (on a terminal, unless NO_COLOR is set),
    /// always or never.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    color: ColorArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a module into an image (or an object with --emit obj).
    Build(BuildArgs),
    /// Build for this machine (cached) and run: options before the module are wafer's,
    /// everything after it goes to the guest (as with `wasmtime run`; a `--` right
    /// after the module is dropped). Works as a cargo runner. With --target, runs under
    /// QEMU: qemu-user for another architecture, the board's qemu-system machine.
    Run(RunArgs),
    /// Build a firmware image and install it on a board's boot partition (raspi3b: an
    /// SD card's FAT partition, mounted or as a disk image), keeping the firmware there.
    Flash(FlashArgs),
    /// Show what an image contains and what it may access.
    Inspect {
        /// The image (or object) to describe.
        image: PathBuf,
    },
    /// List every target, and whether this wafer carries its runtime.
    Targets,
    /// Print a shell's completion script for wafer (e.g. `wafer completions bash >
    /// /etc/bash_completion.d/wafer`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write wafer's man pages (wafer.1 and one per command) into DIR, or print
    /// wafer.1 when no DIR is given.
    Man {
        /// Where to write them.
        dir: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum EmitArg {
    /// A linked image.
    Exe,
    /// The relocatable object only, to link into your own build.
    Obj,
    /// Cranelift IR of every function, as translated.
    Clif,
}

#[derive(Args)]
struct CommonArgs {
    /// Grant an environment variable: KEY=VALUE, or KEY to pass the host's value through.
    #[arg(long = "env", value_name = "KEY[=VALUE]")]
    env: Vec<String>,
    /// Grant the whole host environment.
    #[arg(long)]
    inherit_env: bool,
    /// Grant a host directory, seen by the guest as GUEST (default: the same path);
    /// `:ro` makes it read-only. Repeatable.
    #[arg(long = "dir", value_name = "HOST[::GUEST][:ro]")]
    dirs: Vec<wafer::grants::DirGrant>,
    /// Grant listening on ADDR (e.g. 127.0.0.1:8080): a module gets a listening socket
    /// for sock_accept; a component may bind and listen to exactly ADDR. Repeatable.
    #[arg(long = "listen", value_name = "ADDR")]
    listen: Vec<wafer::grants::ListenGrant>,
    /// Grant a component connecting (TCP) or sending (UDP) to exactly ADDR (e.g.
    /// 127.0.0.1:5432). Repeatable.
    #[arg(long = "connect", value_name = "ADDR")]
    connect: Vec<wafer::grants::ListenGrant>,
    /// Grant a component the host's whole network: any address, and name lookup.
    #[arg(long)]
    inherit_network: bool,
    /// Native stack for the guest, e.g. 512K or 8M.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    stack_size: Option<u64>,
    /// The most bytes each linear memory may grow to, e.g. 256K or 64M; memory.grow
    /// past it fails. Default: the memory's declared maximum (on a board, at most its
    /// share of the free RAM).
    #[arg(long, value_name = "SIZE", value_parser = parse_memory_size)]
    max_memory: Option<u64>,
    /// CPU feature preset (see `wafer targets`), or `native`: every feature of this
    /// machine's CPU, for an image that runs here.
    #[arg(long, value_name = "CPU")]
    target_cpu: Option<String>,
    /// Keep a symbol table and section headers in the image (for profilers, debuggers and
    /// disassemblers); plain images go without either.
    #[arg(long)]
    symbols: bool,
    /// Carry debug info: the guest's DWARF (from `clang -g`, `rustc -g`) translated to
    /// the native code, for gdb and for trap reports with file and line; implies
    /// --symbols. A debug build: Cranelift's optimiser is off and functions are neither
    /// inlined nor merged, so variables are where the source says.
    #[arg(short = 'g', long = "debug-info")]
    debug_info: bool,
    /// Build even if some imported functions are provided by nothing: calling one traps.
    #[arg(long)]
    trap_unknown_imports: bool,
    /// Run this exported function instead of `_start`, after `_initialize` if the module
    /// exports it (for reactors); an i32 result becomes the exit status.
    #[arg(long, value_name = "EXPORT")]
    invoke: Option<String>,
    /// Checks compiled in where Linux builds rely on guard regions: `none`, `bounds`
    /// (explicit bounds checks on 32-bit memories), `stack` (a stack-limit check in every
    /// prologue) or `bounds,stack`; default `WAFER_CHECKS`, else none. For testing what
    /// bare-metal builds always do.
    #[arg(long, value_name = "LIST", value_parser = wafer::checks::Checks::parse, hide = true)]
    checks: Option<wafer::checks::Checks>,
    /// An instruction budget for untrusted code: the program traps with "all fuel
    /// consumed" after about N wasm instructions (charged per straight-line stretch,
    /// checked at calls and loop back-edges). Also on boards.
    #[arg(long, value_name = "N", value_parser = wafer::metering::parse_fuel)]
    fuel: Option<u64>,
    /// A wall-clock limit from the program's start, e.g. 500ms, 10s or 2m: the program
    /// traps with "deadline exceeded" once it passes (checked at calls and loop
    /// back-edges, so a host call that blocks is not cut short). Also on boards.
    #[arg(long, value_name = "DURATION", value_parser = wafer::metering::parse_duration)]
    deadline: Option<std::time::Duration>,
    /// Print how long each phase of the build took (and the bounds checks it emitted)
    /// on stderr; WAFER_TIMINGS=1 does the same.
    #[arg(long)]
    timings: bool,
}

#[derive(Args)]
struct BoardArgs {
    /// Firmware image format: elf, bin (raw, e.g. a Raspberry Pi's kernel8.img) or hex
    /// (Intel HEX).
    #[arg(long, value_enum, default_value = "elf")]
    format: FormatArg,
    /// How a firmware image ends the program: semihosting (ends QEMU or a debug
    /// session with the exit code), halt (parks every core) or reset (default: the
    /// board's; see `wafer targets`).
    #[arg(long, value_name = "HOW", value_parser = wafer::board::parse_exit_method)]
    on_exit: Option<wafer_abi::image::ExitMethod>,
    /// An argument of a firmware image, fixed at build time (a board has no command
    /// line). Repeatable.
    #[arg(long = "arg", value_name = "ARG", allow_hyphen_values = true)]
    args: Vec<String>,
    /// Heap for the runtime of a firmware image (its tables and exception objects),
    /// e.g. 64K.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    heap_size: Option<u64>,
    /// Grant GPIO pin N to a firmware image. Repeatable.
    #[arg(long = "gpio", value_name = "N")]
    gpio: Vec<u32>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    /// An ELF executable.
    Elf,
    /// The raw bytes from the load address.
    Bin,
    /// Intel HEX.
    Hex,
}

#[derive(Args)]
struct BuildArgs {
    /// The module: binary .wasm or text .wat.
    input: PathBuf,
    /// Output path (default: the input's name without extension, or with .o for objects).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Target name or triple (default: this machine).
    #[arg(long)]
    target: Option<String>,
    /// What to write.
    #[arg(long, value_enum, default_value = "exe")]
    emit: EmitArg,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    board: BoardArgs,
}

#[derive(Args)]
struct FlashArgs {
    /// The module: binary .wasm or text .wat.
    input: PathBuf,
    /// The board, one that boots from a FAT partition (see `wafer targets`).
    #[arg(long)]
    target: String,
    /// The boot partition: a mounted FAT partition (directory) or a disk image file (a
    /// FAT volume, or a disk whose first FAT partition is the boot partition).
    #[arg(long, value_name = "PATH")]
    to: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    board: BoardArgs,
}

#[derive(Args)]
struct RunArgs {
    /// Target name or triple (default: this machine). Another architecture's Linux
    /// image runs under its qemu-user emulator, a board's firmware under its qemu-system
    /// machine (the guest's arguments are fixed into the image).
    #[arg(long)]
    target: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    board: BoardArgs,
    /// The module (binary .wasm or text .wat), then the guest's arguments: everything
    /// after the module goes to the guest, options included.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "MODULE"
    )]
    module_and_args: Vec<String>,
}

impl RunArgs {
    /// The module, and the guest's arguments without a `--` that directly follows the
    /// module (the older `wafer run app.wasm -- args` form).
    fn split(&self) -> (PathBuf, &[String]) {
        let (module, rest) = self
            .module_and_args
            .split_first()
            .expect("clap requires the module");
        let args = match rest.split_first() {
            Some((first, after)) if first == "--" => after,
            _ => rest,
        };
        (PathBuf::from(module), args)
    }
}

/// An error for the user: one line, naming the file it concerns.
struct Failure {
    file: Option<PathBuf>,
    message: String,
}

impl Failure {
    fn about(file: &Path, message: impl ToString) -> Self {
        Failure {
            file: Some(file.to_path_buf()),
            message: message.to_string(),
        }
    }

    fn general(message: impl ToString) -> Self {
        Failure {
            file: None,
            message: message.to_string(),
        }
    }
}

fn parse_size(text: &str) -> Result<u64, String> {
    parse_size_within(text, 64 << 10, "64K")
}

/// A memory size: as small as a module with 1-byte pages may want.
fn parse_memory_size(text: &str) -> Result<u64, String> {
    parse_size_within(text, 0, "0")
}

/// A size like 512K or 8M, between `least` (written `least_text`) and 4G.
fn parse_size_within(text: &str, least: u64, least_text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, multiplier) = match text.char_indices().last() {
        Some((at, 'k' | 'K')) => (&text[..at], 1u64 << 10),
        Some((at, 'm' | 'M')) => (&text[..at], 1 << 20),
        Some((at, 'g' | 'G')) => (&text[..at], 1 << 30),
        _ => (text, 1),
    };
    let value: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size like 512K or 8M"))?;
    let bytes = value
        .checked_mul(multiplier)
        .filter(|bytes| (least..=1 << 32).contains(bytes))
        .ok_or_else(|| format!("`{text}` must be between {least_text} and 4G"))?;
    Ok(bytes)
}

fn build_options(
    target: Target,
    emit: Emit,
    common: &CommonArgs,
    input: &Path,
) -> Result<BuildOptions, Failure> {
    if common.timings {
        wafer::timing::enable();
    }
    let checks = match common.checks {
        Some(checks) => checks,
        None => wafer::checks::Checks::from_env().map_err(Failure::general)?,
    };
    let default_stack = match target.kind {
        target::TargetKind::Linux => wafer_abi::image::DEFAULT_STACK_SIZE,
        target::TargetKind::Baremetal => wafer::board::DEFAULT_STACK_SIZE,
    };
    Ok(BuildOptions {
        target,
        emit,
        grants: Grants {
            env: common.env.clone(),
            inherit_env: common.inherit_env,
            dirs: common.dirs.clone(),
            listen: common.listen.clone(),
            connect: common.connect.clone(),
            inherit_network: common.inherit_network,
            args: Vec::new(),
            gpio: Vec::new(),
        },
        stack_size: common.stack_size.unwrap_or(default_stack),
        max_memory: common.max_memory,
        metering: wafer::metering::Metering {
            fuel: common.fuel,
            deadline: common.deadline,
        },
        cpu: common.target_cpu.clone(),
        keep_symbols: common.symbols,
        debug_info: common.debug_info,
        trap_unknown_imports: common.trap_unknown_imports,
        invoke: common.invoke.clone(),
        checks,
        board: wafer::board::BoardOptions::default(),
        program_name: input
            .file_stem()
            .map_or_else(|| "main".into(), |stem| stem.to_string_lossy().into_owned()),
    })
}

fn board_options(args: &BoardArgs) -> wafer::board::BoardOptions {
    wafer::board::BoardOptions {
        format: match args.format {
            FormatArg::Elf => wafer::board::ImageFormat::Elf,
            FormatArg::Bin => wafer::board::ImageFormat::Bin,
            FormatArg::Hex => wafer::board::ImageFormat::Hex,
        },
        on_exit: args.on_exit,
        args: args.args.clone(),
        heap_size: args.heap_size,
        gpio: args.gpio.clone(),
    }
}

fn host_target() -> Result<Target, Failure> {
    target::host().ok_or_else(|| {
        Failure::general("this machine is not a wafer target; pass --target (see `wafer targets`)")
    })
}

fn default_output(input: &Path, emit: Emit) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_os_string())
        .unwrap_or_else(|| "a.out".into());
    let mut output = input.with_file_name(stem);
    match emit {
        Emit::Object => {
            output.set_extension("o");
        }
        Emit::Clif => {
            output.set_extension("clif");
        }
        Emit::Image => {}
    }
    if output == input {
        output.set_extension("out");
    }
    output
}

fn build(args: BuildArgs) -> Result<(), Failure> {
    let target = match &args.target {
        Some(name) => target::find(name).map_err(Failure::general)?,
        None => host_target()?,
    };
    let emit = match args.emit {
        EmitArg::Exe => Emit::Image,
        EmitArg::Obj => Emit::Object,
        EmitArg::Clif => Emit::Clif,
    };
    let mut options = build_options(target, emit, &args.common, &args.input)?;
    options.board = board_options(&args.board);
    let wasm = driver::read_input(&args.input).map_err(|e| Failure::about(&args.input, e))?;
    let built = driver::build_image(&wasm, &options).map_err(|e| Failure::about(&args.input, e))?;
    for warning in &built.warnings {
        wafer::terminal::warning(&format!("{}: {warning}", args.input.display()));
    }
    let image = built.bytes;
    let output = args
        .output
        .unwrap_or_else(|| default_output(&args.input, emit));
    driver::write_atomically(&output, &image, emit == Emit::Image)
        .map_err(|e| Failure::about(&output, e))
}

fn run(args: RunArgs) -> Result<(), Failure> {
    let (input, guest_args) = args.split();
    let host = host_target()?;
    let target = match &args.target {
        Some(name) => target::find(name).map_err(Failure::general)?,
        None => host.clone(),
    };
    if target.kind == target::TargetKind::Baremetal {
        return run_on_board(&args, target, &input, guest_args);
    }
    if args.board.format != FormatArg::Elf
        || args.board.on_exit.is_some()
        || !args.board.args.is_empty()
        || args.board.heap_size.is_some()
        || !args.board.gpio.is_empty()
    {
        return Err(Failure::general(format!(
            "--format, --on-exit, --arg, --heap-size and --gpio are for firmware images; {} \
             is not a board",
            target.name
        )));
    }
    let emulator = if target.arch == host.arch {
        None
    } else {
        Some(emulator_for(&format!("qemu-{}", target.arch), "qemu-user")?)
    };
    let mut options = build_options(target, Emit::Image, &args.common, &input)?;
    if emulator.is_none() {
        // The image runs here and now: every feature of this CPU is fair game.
        options
            .cpu
            .get_or_insert_with(|| wafer::codegen::isa::NATIVE_CPU.to_string());
    }
    let wasm = driver::read_input(&input).map_err(|e| Failure::about(&input, e))?;
    let key = wafer::cache::key(&wasm, &options);
    let cached = wafer::cache::cache_dir()
        .filter(|dir| std::fs::create_dir_all(dir).is_ok())
        .map(|dir| dir.join(&key));
    let image_path = match cached {
        Some(path) if path.is_file() => path,
        cached => {
            let image = driver::build(&wasm, &options).map_err(|e| Failure::about(&input, e))?;
            let path = cached.unwrap_or_else(|| {
                std::env::temp_dir().join(format!("wafer-run-{}-{key}", std::process::id()))
            });
            driver::write_atomically(&path, &image, true).map_err(|e| Failure::about(&path, e))?;
            path
        }
    };
    use std::os::unix::process::CommandExt;
    let error = match emulator {
        None => std::process::Command::new(&image_path)
            .arg0(&input)
            .args(guest_args)
            .exec(),
        Some(emulator) => std::process::Command::new(emulator)
            .arg("-0")
            .arg(&input)
            .arg(&image_path)
            .args(guest_args)
            .exec(),
    };
    Err(Failure::about(&image_path, format!("cannot run: {error}")))
}

/// `wafer run --target BOARD`: builds the firmware image (fresh each time: it bakes in
/// the granted files and a seed) and boots it in the board's qemu-system machine, which
/// ends with the program's exit code by semihosting.
fn run_on_board(
    args: &RunArgs,
    target: Target,
    input: &Path,
    guest_args: &[String],
) -> Result<(), Failure> {
    let board = target
        .board
        .clone()
        .ok_or_else(|| Failure::general(format!("{} has no [board] description", target.name)))?;
    if args.board.format != FormatArg::Elf {
        return Err(Failure::general(
            "wafer run boots an ELF image; --format is for wafer build",
        ));
    }
    if args
        .board
        .on_exit
        .is_some_and(|method| method != wafer_abi::image::ExitMethod::Semihosting)
    {
        return Err(Failure::general(
            "wafer run ends QEMU by semihosting, with the program's exit code; --on-exit \
             halt and reset are for real hardware",
        ));
    }
    let Some((program, machine)) = board.qemu.split_first() else {
        return Err(Failure::general(format!(
            "{} has no QEMU machine to run it on",
            target.name
        )));
    };
    let package = if program.contains("riscv") {
        "qemu-system-misc"
    } else {
        "qemu-system-arm"
    };
    let qemu = emulator_for(program, package)?;
    let mut options = build_options(target, Emit::Image, &args.common, input)?;
    options.board = board_options(&args.board);
    options.board.on_exit = Some(wafer_abi::image::ExitMethod::Semihosting);
    options.board.args.extend(guest_args.iter().cloned());
    let wasm = driver::read_input(input).map_err(|e| Failure::about(input, e))?;
    // The image is not kept, so what its build would warn about (how it seeds its
    // generator) does not concern this run.
    let built = driver::build_image(&wasm, &options).map_err(|e| Failure::about(input, e))?;
    let image_path = std::env::temp_dir().join(format!(
        "wafer-run-{}-{}.elf",
        std::process::id(),
        options.target.name
    ));
    driver::write_atomically(&image_path, &built.bytes, false)
        .map_err(|e| Failure::about(&image_path, e))?;
    let status = std::process::Command::new(qemu)
        .args(machine)
        .arg(&image_path)
        .status();
    let _ = std::fs::remove_file(&image_path);
    let status = status.map_err(|e| Failure::general(format!("cannot run {program}: {e}")))?;
    // The guest's exit code, as QEMU passes it on; QEMU killed by a signal, as a shell
    // reports it.
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    std::process::exit(code)
}

/// The path of `program` (an emulator) on `PATH`, or how to install it.
fn emulator_for(program: &str, package: &str) -> Result<PathBuf, Failure> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    });
    found.ok_or_else(|| {
        Failure::general(format!(
            "{program} is not installed; on Debian: apt install {package} (bookworm: from \
             bookworm-backports, `apt install -t bookworm-backports {package}`)"
        ))
    })
}

fn flash(args: FlashArgs) -> Result<(), Failure> {
    let target = target::find(&args.target).map_err(Failure::general)?;
    let partition = target
        .board
        .as_ref()
        .and_then(|board| board.boot_partition.clone())
        .ok_or_else(|| {
            Failure::general(format!(
                "{} does not boot from a FAT partition; build its image with `wafer build \
                 --target {} --format bin|hex` and use the board's own flashing tool",
                target.name, target.name
            ))
        })?;
    if args.board.format != FormatArg::Elf {
        return Err(Failure::general(format!(
            "wafer flash writes the format {}'s firmware loads ({}); --format is for wafer build",
            target.name, partition.format
        )));
    }
    let format = match partition.format.as_str() {
        "bin" => wafer::board::ImageFormat::Bin,
        "hex" => wafer::board::ImageFormat::Hex,
        _ => wafer::board::ImageFormat::Elf,
    };
    // Real hardware has no debugger to end by semihosting: halt unless told otherwise.
    let board = target.board.clone();
    let mut options = build_options(target, Emit::Image, &args.common, &args.input)?;
    options.board = board_options(&args.board);
    options.board.format = format;
    if options.board.on_exit.is_none()
        && board.is_some_and(|board| board.exit_methods.iter().any(|m| m == "halt"))
    {
        options.board.on_exit = Some(wafer_abi::image::ExitMethod::Halt);
    }
    let wasm = driver::read_input(&args.input).map_err(|e| Failure::about(&args.input, e))?;
    let built = driver::build_image(&wasm, &options).map_err(|e| Failure::about(&args.input, e))?;
    for warning in &built.warnings {
        wafer::terminal::warning(&format!("{}: {warning}", args.input.display()));
    }
    let installed =
        wafer::flash::install(&built.bytes, &partition, &args.to).map_err(Failure::general)?;
    eprintln!(
        "wafer: wrote {} ({} bytes) and the lines {} needs to {}",
        partition.kernel, installed.kernel_bytes, partition.config_file, installed.place
    );
    Ok(())
}

fn inspect(image: &Path) -> Result<(), Failure> {
    let bytes =
        std::fs::read(image).map_err(|e| Failure::about(image, format!("cannot read: {e}")))?;
    let description = wafer::inspect::describe(&bytes).map_err(|e| Failure::about(image, e))?;
    print!("{description}");
    Ok(())
}

fn targets() {
    let host = target::host().map(|t| t.name);
    let width = target::all()
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(0)
        .max(6);
    println!(
        "{:<width$} {:<10} {:<8} description",
        "target", "runtime", "cpu"
    );
    for target in target::all() {
        let carried = if target.runtime.is_some() {
            "carried"
        } else {
            "missing"
        };
        let marker = if host.as_deref() == Some(&target.name) {
            " (host)"
        } else {
            ""
        };
        println!(
            "{:<width$} {:<10} {:<8} {}{marker}",
            target.name,
            carried,
            wafer::codegen::isa::default_cpu(target.arch),
            target.description
        );
    }
}

fn main() -> ExitCode {
    // Panics are caught and reported as one line; the default hook would print a
    // multi-line report first. WAFER_BACKTRACE=1 keeps it for debugging.
    if std::env::var_os("WAFER_BACKTRACE").is_none() {
        std::panic::set_hook(Box::new(|_| {}));
    }
    std::panic::catch_unwind(run_cli).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let first = message.lines().next().unwrap_or_default();
        wafer::terminal::error(&format!(
            "internal error: {first} (this is a bug in wafer; please report it)"
        ));
        ExitCode::from(70)
    })
}

/// clap's report on one line: its message spans lines (a list of missing arguments, a
/// tip), then a blank line and the usage, which `--help` covers.
fn one_line(report: &str) -> String {
    let message: Vec<&str> = report
        .lines()
        .map(str::trim)
        .take_while(|line| !line.is_empty() && !line.starts_with("Usage:"))
        .collect();
    let joined = message.join(" ");
    let joined = joined.strip_prefix("error: ").unwrap_or(&joined);
    if joined.is_empty() {
        "invalid arguments".to_string()
    } else {
        joined.to_string()
    }
}

fn run_cli() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            use clap::error::ErrorKind;
            match err.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = err.print();
                    return ExitCode::SUCCESS;
                }
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = err.print();
                    return ExitCode::from(2);
                }
                _ => {}
            }
            wafer::terminal::error(&format!(
                "{} (see `wafer --help`)",
                one_line(&err.render().to_string())
            ));
            return ExitCode::from(2);
        }
    };
    wafer::terminal::set_color(match cli.color {
        ColorArg::Auto => wafer::terminal::ColorChoice::Auto,
        ColorArg::Always => wafer::terminal::ColorChoice::Always,
        ColorArg::Never => wafer::terminal::ColorChoice::Never,
    });
    if matches!(cli.command, Command::Build(_) | Command::Flash(_)) {
        wafer::terminal::show_progress();
    }
    let result = match cli.command {
        Command::Build(args) => build(args),
        Command::Run(args) => run(args),
        Command::Flash(args) => flash(args),
        Command::Inspect { image } => inspect(&image),
        Command::Targets => {
            targets();
            Ok(())
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "wafer", &mut script);
            print_bytes(&script)
        }
        Command::Man { dir } => man_pages(dir.as_deref()),
    };
    wafer::progress::finish();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { file, message }) => {
            match file {
                Some(file) => wafer::terminal::error(&format!("{}: {message}", file.display())),
                None => wafer::terminal::error(&message),
            }
            ExitCode::FAILURE
        }
    }
}

/// Writes generated text to stdout; a reader that stops early (`| head`) is not an error.
fn print_bytes(bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    match std::io::stdout().write_all(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::general(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Man pages from the CLI definition: wafer.1, and wafer-COMMAND.1 for each command.
fn man_pages(dir: Option<&Path>) -> Result<(), Failure> {
    let command = Cli::command();
    let Some(dir) = dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .map_err(|e| Failure::general(format!("cannot render the man page: {e}")))?;
        return print_bytes(&page);
    };
    std::fs::create_dir_all(dir).map_err(|e| Failure::about(dir, format!("cannot create: {e}")))?;
    let mut pages = vec![("wafer".to_string(), command.clone())];
    for sub in command.get_subcommands() {
        if sub.get_name() != "help" {
            let name = format!("wafer-{}", sub.get_name());
            let page_command = sub
                .clone()
                .display_name(name.clone())
                .bin_name(format!("wafer {}", sub.get_name()));
            pages.push((name, page_command));
        }
    }
    for (name, page_command) in pages {
        let mut page = Vec::new();
        clap_mangen::Man::new(page_command)
            .render(&mut page)
            .map_err(|e| Failure::general(format!("cannot render {name}.1: {e}")))?;
        let path = dir.join(format!("{name}.1"));
        driver::write_atomically(&path, &page, false).map_err(|e| Failure::about(&path, e))?;
    }
    Ok(())
}
