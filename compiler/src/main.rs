//! The `wafer` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
}

#[derive(Subcommand)]
enum Command {
    /// Compile a module into an image (or an object with --emit obj).
    Build(BuildArgs),
    /// Build for this machine (cached) and run: options before the module are wafer's,
    /// everything after it goes to the guest (as with `wasmtime run`; a `--` right
    /// after the module is dropped). Works as a cargo runner.
    Run(RunArgs),
    /// Show what an image contains and what it may access.
    Inspect {
        /// The image (or object) to describe.
        image: PathBuf,
    },
    /// List every target, and whether this wafer carries its runtime.
    Targets,
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

#[derive(Clone, Copy, ValueEnum)]
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
struct RunArgs {
    #[command(flatten)]
    common: CommonArgs,
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
        cpu: common.target_cpu.clone(),
        keep_symbols: common.symbols,
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
        eprintln!("wafer: warning: {}: {warning}", args.input.display());
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
    let mut options = build_options(host_target()?, Emit::Image, &args.common, &input)?;
    // The image runs here and now: every feature of this CPU is fair game.
    options
        .cpu
        .get_or_insert_with(|| wafer::codegen::isa::NATIVE_CPU.to_string());
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
    let error = std::process::Command::new(&image_path)
        .arg0(&input)
        .args(guest_args)
        .exec();
    Err(Failure::about(&image_path, format!("cannot run: {error}")))
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
        eprintln!(
            "wafer: error: internal error: {first} (this is a bug in wafer; please report it)"
        );
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
            eprintln!(
                "wafer: error: {} (see `wafer --help`)",
                one_line(&err.render().to_string())
            );
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Build(args) => build(args),
        Command::Run(args) => run(args),
        Command::Inspect { image } => inspect(&image),
        Command::Targets => {
            targets();
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { file, message }) => {
            match file {
                Some(file) => eprintln!("wafer: error: {}: {message}", file.display()),
                None => eprintln!("wafer: error: {message}"),
            }
            ExitCode::FAILURE
        }
    }
}
