//! The build pipeline: read the input, compile it, link it with the target's runtime, and
//! write the output atomically.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::checks::Checks;
use crate::codegen::{CompileConfig, compile_module};
use crate::error::CompileError;
pub use crate::grants::Grants;
use crate::target::{Arch, Target, TargetKind};

/// What `wafer build` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emit {
    /// A linked image (executable or firmware).
    Image,
    /// The relocatable object only.
    Object,
    /// The Cranelift IR of every function, as translated (for inspection and golden tests).
    Clif,
}

/// Everything that decides the output of a build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The target.
    pub target: Target,
    /// What to write.
    pub emit: Emit,
    /// Granted capabilities.
    pub grants: Grants,
    /// Guest stack size in bytes.
    pub stack_size: u64,
    /// The most bytes each linear memory may grow to (`--max-memory`).
    pub max_memory: Option<u64>,
    /// `--fuel` and `--deadline`.
    pub metering: crate::metering::Metering,
    /// CPU preset.
    pub cpu: Option<String>,
    /// Keep a symbol table in the image.
    pub keep_symbols: bool,
    /// Carry debug info (`-g`; implies `keep_symbols`).
    pub debug_info: bool,
    /// Imported functions nothing provides trap when called instead of failing the
    /// build.
    pub trap_unknown_imports: bool,
    /// Run this export (after `_initialize`) instead of `_start`.
    pub invoke: Option<String>,
    /// Explicit bounds and stack-limit checks (bare-metal targets always get both).
    pub checks: Checks,
    /// Options of firmware images (ignored for other targets).
    pub board: crate::board::BoardOptions,
    /// The program's name: `argv[0]` of a firmware image.
    pub program_name: String,
}

/// A built image and what the user should know about it.
#[derive(Debug, Clone)]
pub struct Built {
    /// The output bytes.
    pub bytes: Vec<u8>,
    /// Warnings, one line each.
    pub warnings: Vec<String>,
}

/// Why a build failed. Displayed as one line, prefixed by the input's name by the caller.
#[derive(Debug)]
pub enum BuildError {
    /// The input could not be read.
    Read(std::io::Error),
    /// The text format did not parse.
    Wat(String),
    /// Compilation failed.
    Compile(CompileError),
    /// Linking failed.
    Link(String),
    /// The target's runtime is not carried by this wafer.
    NoRuntime(String),
    /// An option or grant does not fit the target (a board) or the module.
    Options(String),
    /// The output could not be written.
    Write(PathBuf, std::io::Error),
    /// wafer itself failed (a bug): a panic caught at the build boundary.
    Internal(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Read(e) => write!(f, "cannot read input: {}", io_message(e)),
            BuildError::Wat(message) => write!(f, "{message}"),
            BuildError::Compile(e) => write!(f, "{e}"),
            BuildError::Link(message) => {
                write!(f, "link failed: {}", crate::error::Escaped(message))
            }
            BuildError::Options(message) => write!(f, "{}", crate::error::Escaped(message)),
            BuildError::NoRuntime(target) => write!(
                f,
                "this wafer carries no runtime for target {target} (it was built without the Rust target; see `wafer targets`)"
            ),
            BuildError::Write(path, e) => {
                write!(f, "cannot write {}: {}", path.display(), io_message(e))
            }
            BuildError::Internal(message) => write!(
                f,
                "internal compiler error: {message} (this is a bug in wafer; please report it)"
            ),
        }
    }
}

impl std::error::Error for BuildError {}

impl From<CompileError> for BuildError {
    fn from(e: CompileError) -> Self {
        BuildError::Compile(e)
    }
}

/// An I/O error's message without the "(os error N)" suffix.
pub(crate) fn io_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Reads a module: binary, or text when it is not binary and looks like text.
pub fn read_input(path: &Path) -> Result<Vec<u8>, BuildError> {
    let bytes = std::fs::read(path).map_err(BuildError::Read)?;
    to_binary(&bytes, path)
}

/// Converts text-format input to binary; binary input passes through.
pub fn to_binary(bytes: &[u8], path: &Path) -> Result<Vec<u8>, BuildError> {
    if bytes.starts_with(b"\0asm") || !looks_like_text(bytes, path) {
        return Ok(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        BuildError::Wat(format!(
            "text format is not UTF-8 at byte {}",
            e.valid_up_to()
        ))
    })?;
    wat::parse_str(text).map_err(|mut e| {
        e.set_path(path);
        BuildError::Wat(one_line_wat_error(&e))
    })
}

fn looks_like_text(bytes: &[u8], path: &Path) -> bool {
    if matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("wat" | "wast")
    ) {
        return true;
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    matches!(first, Some(b'(' | b';')) && std::str::from_utf8(bytes).is_ok()
}

/// `wat` errors span several lines (with a source excerpt); keep the message and place.
fn one_line_wat_error(e: &wat::Error) -> String {
    let text = e.to_string();
    let mut lines = text.lines();
    let message = lines.next().unwrap_or("invalid text format").trim();
    let location = lines
        .find_map(|line| line.trim().strip_prefix("--> "))
        .map(str::to_string);
    match location {
        Some(location) => format!("{message} (at {location})"),
        None => message.to_string(),
    }
}

fn link_arch(arch: Arch) -> wafer_link::Arch {
    match arch {
        Arch::X86_64 => wafer_link::Arch::X86_64,
        Arch::Aarch64 => wafer_link::Arch::Aarch64,
        Arch::Riscv64 => wafer_link::Arch::Riscv64,
    }
}

/// Compiles `wasm` and, for [`Emit::Image`], links it into an image. A panic anywhere in
/// the pipeline (a wafer or Cranelift bug) becomes [`BuildError::Internal`] rather than
/// aborting the caller.
pub fn build(wasm: &[u8], options: &BuildOptions) -> Result<Vec<u8>, BuildError> {
    build_image(wasm, options).map(|built| built.bytes)
}

/// [`build`], with the warnings for the user.
pub fn build_image(wasm: &[u8], options: &BuildOptions) -> Result<Built, BuildError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        build_unguarded(wasm, options)
    }))
    .unwrap_or_else(|payload| Err(BuildError::Internal(panic_message(&payload))))
}

/// The text of a panic payload, on one line.
fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    text.lines().next().unwrap_or_default().to_string()
}

fn build_unguarded(wasm: &[u8], options: &BuildOptions) -> Result<Built, BuildError> {
    let target = &options.target;
    // Check the runtime first: there is no point compiling what cannot be linked.
    let runtime = match (options.emit, target.runtime) {
        (Emit::Image, None) => return Err(BuildError::NoRuntime(target.name.clone())),
        (_, runtime) => runtime,
    };
    let mut config = CompileConfig {
        grants: options.grants.encode(),
        stack_size: options.stack_size,
        cpu: options.cpu.clone(),
        trap_unknown_imports: options.trap_unknown_imports,
        invoke: options.invoke.clone(),
        checks: options.checks.for_target(target),
        board: None,
        max_memory: options.max_memory,
        metering: options.metering,
        debug_info: options.debug_info,
    };
    if let Some(limit) = options.max_memory {
        crate::board::check_memory_limit(wasm, limit)?;
    }
    let mut warnings = Vec::new();
    if target.kind == TargetKind::Baremetal {
        let prepared = crate::board::prepare(options, &options.program_name)?;
        config.grants = prepared.grants;
        config.board = Some(prepared.config);
        warnings = prepared.warnings;
    } else if options.board != crate::board::BoardOptions::default() {
        return Err(BuildError::Options(format!(
            "--format, --on-exit, --arg, --heap-size and --gpio are for firmware images; \
             {} is not a board",
            target.name
        )));
    }
    let object = if crate::component::is_component(wasm) {
        if options.emit == Emit::Clif {
            return Err(CompileError::unsupported("--emit clif for a component").into());
        }
        let plan = crate::timing::phase("component", || crate::component::translate(wasm))?;
        crate::codegen::compile_component(&plan, target, &config)?
    } else if options.emit == Emit::Clif {
        let text = crate::codegen::translate_to_clif(wasm, target, &config)?;
        return Ok(Built {
            bytes: text.into_bytes(),
            warnings,
        });
    } else {
        compile_module(wasm, target, &config)?
    };
    let bytes = match (options.emit, runtime) {
        (Emit::Image, Some(_)) => crate::timing::phase("link", || {
            let image = link_with(
                &object,
                target,
                wafer_abi::symbols::ENTRY,
                Symbols {
                    table: options.keep_symbols || options.debug_info,
                    debug: options.debug_info,
                },
                &firmware_layout(wasm, options)?,
            )?;
            crate::board::convert(image, options.board.format)
        })?,
        _ => object,
    };
    Ok(Built { bytes, warnings })
}

/// For a firmware image: the board's memory, stack, heap and the memory the module needs.
fn firmware_layout(
    wasm: &[u8],
    options: &BuildOptions,
) -> Result<Option<wafer_link::BareMetalLayout>, BuildError> {
    let target = &options.target;
    if target.kind != TargetKind::Baremetal {
        return Ok(None);
    }
    let board = crate::board::info(target)?;
    Ok(Some(wafer_link::BareMetalLayout {
        regions: crate::board::regions(target, board),
        origin: target.image.base_address,
        stack_size: options.stack_size,
        heap_size: options
            .board
            .heap_size
            .unwrap_or(crate::board::DEFAULT_HEAP_SIZE),
        min_free: crate::board::memory_needed(wasm, options.max_memory)?,
    }))
}

/// Links a compiled object with the target's runtime into an image entered at `entry`.
pub fn link(
    object: &[u8],
    target: &Target,
    entry: &str,
    keep_symbols: bool,
) -> Result<Vec<u8>, BuildError> {
    let symbols = Symbols {
        table: keep_symbols,
        debug: false,
    };
    link_with(object, target, entry, symbols, &None)
}

/// What an image keeps for tools.
#[derive(Debug, Clone, Copy, Default)]
struct Symbols {
    /// A symbol table and section headers.
    table: bool,
    /// The object's DWARF.
    debug: bool,
}

fn link_with(
    object: &[u8],
    target: &Target,
    entry: &str,
    symbols: Symbols,
    firmware: &Option<wafer_link::BareMetalLayout>,
) -> Result<Vec<u8>, BuildError> {
    let Some(runtime) = target.runtime else {
        return Err(BuildError::NoRuntime(target.name.clone()));
    };
    let layout = match (target.kind, firmware) {
        (TargetKind::Linux, _) => wafer_link::Layout::LinuxExecutable(wafer_link::LinuxLayout {
            base_address: target.image.base_address,
            page_size: target.image.page_size,
            end_limit: crate::codegen::fixed_memory_limit(target),
        }),
        (TargetKind::Baremetal, Some(layout)) => wafer_link::Layout::BareMetal(layout.clone()),
        (TargetKind::Baremetal, None) => {
            return Err(BuildError::Internal(
                "a firmware image needs its board's layout".into(),
            ));
        }
    };
    let inputs = [
        wafer_link::Input {
            name: "wasm.o",
            data: object,
        },
        wafer_link::Input {
            name: "libwafer_runtime.a",
            data: runtime,
        },
    ];
    let mut link_options = wafer_link::LinkOptions::new(entry);
    link_options.keep_symbols = symbols.table;
    // Section headers serve only tools (a disassembler, `readelf -S`); images go without
    // them unless built `--symbols` or `-g` for such tools.
    link_options.section_headers = symbols.table;
    link_options.keep_debug = symbols.debug;
    wafer_link::link(link_arch(target.arch), &layout, &inputs, &link_options)
        .map_err(|e| BuildError::Link(e.to_string()))
}

/// Builds a test-harness image of several instances (see `wafer_abi::harness`). On a
/// board it is a firmware image that ends by semihosting, with no grants. `max_memory`
/// caps every linear memory as `--max-memory` does.
pub fn build_harness(
    instances: &[crate::codegen::InstanceSpec<'_>],
    target: &Target,
    cpu: Option<&str>,
    checks: Checks,
    max_memory: Option<u64>,
) -> Result<Vec<u8>, crate::codegen::ImageError> {
    let whole_image = |error: BuildError| crate::codegen::ImageError {
        instance: 0,
        error: CompileError::Link(error.to_string()),
    };
    let mut config = CompileConfig {
        grants: Vec::new(),
        stack_size: wafer_abi::image::DEFAULT_STACK_SIZE,
        cpu: cpu.map(str::to_string),
        trap_unknown_imports: false,
        invoke: None,
        checks: checks.for_target(target),
        board: None,
        max_memory,
        metering: Default::default(),
        debug_info: false,
    };
    let mut firmware = None;
    if target.kind == TargetKind::Baremetal {
        // Scripts recurse deeply (until the stack is exhausted, by design), and hold
        // dozens of instances; a board's default stack and heap are sized for one
        // program, not for that.
        config.stack_size = HARNESS_BOARD_STACK_SIZE;
        let options = BuildOptions {
            target: target.clone(),
            emit: Emit::Image,
            grants: Grants::default(),
            stack_size: config.stack_size,
            max_memory: None,
            metering: Default::default(),
            cpu: config.cpu.clone(),
            keep_symbols: false,
            debug_info: false,
            trap_unknown_imports: false,
            invoke: None,
            checks,
            board: crate::board::BoardOptions {
                on_exit: Some(wafer_abi::image::ExitMethod::Semihosting),
                ..Default::default()
            },
            program_name: "harness".into(),
        };
        let prepared =
            crate::board::prepare(&options, &options.program_name).map_err(whole_image)?;
        config.grants = prepared.grants;
        config.board = Some(prepared.config);
        let mut min_free = 0u64;
        for instance in instances {
            let memory =
                crate::board::memory_needed(instance.wasm, max_memory).map_err(whole_image)?;
            min_free = min_free.saturating_add(memory);
        }
        let board = crate::board::info(target).map_err(whole_image)?;
        firmware = Some(wafer_link::BareMetalLayout {
            regions: crate::board::regions(target, board),
            origin: target.image.base_address,
            stack_size: config.stack_size,
            heap_size: HARNESS_BOARD_HEAP_SIZE,
            min_free,
        });
    }
    let object =
        crate::codegen::compile_image(instances, target, &config, crate::codegen::Entry::Harness)?;
    link_with(
        &object,
        target,
        wafer_abi::symbols::HARNESS_ENTRY,
        Symbols::default(),
        &firmware,
    )
    .map_err(whole_image)
}

/// The native stack of a harness image on a board.
const HARNESS_BOARD_STACK_SIZE: u64 = 2 << 20;
/// The runtime heap of a harness image on a board: a script's instances all live in one
/// image, each with its tables and exception storage, where a program has one instance.
const HARNESS_BOARD_HEAP_SIZE: u64 = 16 << 20;

/// Builds a component harness image (`wafer_abi::harness::component`) for the
/// translated components `plans` (each one component instance of a test script),
/// linked for `target`. An error names the plan at fault.
pub fn build_component_harness(
    plans: &[crate::component::ComponentPlan<'_>],
    target: &Target,
    cpu: Option<&str>,
    checks: Checks,
) -> Result<Vec<u8>, crate::codegen::ImageError> {
    let config = CompileConfig {
        grants: Vec::new(),
        stack_size: wafer_abi::image::DEFAULT_STACK_SIZE,
        cpu: cpu.map(str::to_string),
        trap_unknown_imports: true,
        invoke: None,
        checks: checks.for_target(target),
        board: None,
        max_memory: None,
        metering: Default::default(),
        debug_info: false,
    };
    if target.kind == TargetKind::Baremetal {
        return Err(crate::codegen::ImageError {
            instance: 0,
            error: CompileError::unsupported("component harness images for boards"),
        });
    }
    if plans.is_empty() {
        return Err(crate::codegen::ImageError {
            instance: 0,
            error: CompileError::Link("a harness image needs a component".into()),
        });
    }
    let object = crate::codegen::compile_component_harness(plans, target, &config)?;
    link(&object, target, wafer_abi::symbols::HARNESS_ENTRY, false).map_err(|e| {
        crate::codegen::ImageError {
            instance: 0,
            error: CompileError::Link(e.to_string()),
        }
    })
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename,
/// so `path` is either the old file or the complete new one, never half-written.
pub fn write_atomically(path: &Path, bytes: &[u8], executable: bool) -> Result<(), BuildError> {
    let error = |e| BuildError::Write(path.to_path_buf(), e);
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| error(std::io::Error::other("not a file path")))?;
    let temp = dir.join(format!(
        ".{}.wafer-{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        if executable {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o755))?;
        }
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_detected_by_extension_or_content() {
        assert!(looks_like_text(b"(module)", Path::new("a.wasm")));
        assert!(looks_like_text(b"  ;; comment\n(module)", Path::new("a")));
        assert!(looks_like_text(b"garbage", Path::new("a.wat")));
        assert!(!looks_like_text(b"\x01\x02garbage", Path::new("a.wasm")));
    }

    #[test]
    fn wat_errors_are_one_line_with_a_location() {
        let err = to_binary(b"(module (func (i32.bogus)))", Path::new("x.wat")).unwrap_err();
        let text = err.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(text.contains("x.wat:1:"), "{text}");
    }
}
