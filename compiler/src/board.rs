//! Firmware images: what a build for a board adds to the compiled code.
//!
//! A board has no command line, no host environment, no network and no writable
//! filesystem: arguments and variables are fixed at build time (`--arg`, `--env K=V`),
//! `--dir HOST::GUEST:ro` copies the directory into the image as a read-only file tree,
//! and grants that would need a host (`--listen`, `--connect`, `--inherit-network`,
//! `--inherit-env`, `--env KEY` from the host) are refused at build time. The layout of the image in the board's memory comes
//! from its descriptor (`targets/<board>/target.toml`).

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use wafer_abi::files::{self, Entry};
use wafer_abi::image::ExitMethod;

use crate::codegen::BoardConfig;
use crate::driver::{BuildError, BuildOptions};
use crate::target::{BoardInfo, Target};

/// Output formats of a firmware image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageFormat {
    /// An ELF executable (what QEMU's `-kernel`, debuggers and flash tools read).
    #[default]
    Elf,
    /// The raw bytes from the load address on (a Raspberry Pi's `kernel8.img`).
    Bin,
    /// Intel HEX.
    Hex,
}

/// What a build for a board may set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoardOptions {
    /// The output format.
    pub format: ImageFormat,
    /// How the program ends (default: the board's).
    pub on_exit: Option<ExitMethod>,
    /// Arguments after the program name.
    pub args: Vec<String>,
    /// Bytes of heap for the runtime (default [`DEFAULT_HEAP_SIZE`]).
    pub heap_size: Option<u64>,
    /// GPIO pins the guest may use.
    pub gpio: Vec<u32>,
}

/// The runtime's heap on a board unless `--heap-size` says otherwise: tables and
/// exception objects live there.
pub const DEFAULT_HEAP_SIZE: u64 = 128 << 10;
/// The native stack on a board unless `--stack-size` says otherwise. Guests keep their
/// own stack in linear memory; this one holds compiled frames and the runtime's.
pub const DEFAULT_STACK_SIZE: u64 = 256 << 10;

/// The board descriptor of a bare-metal target.
pub fn info(target: &Target) -> Result<&BoardInfo, BuildError> {
    target.board.as_ref().ok_or_else(|| {
        BuildError::Options(format!(
            "target {} is a board but its descriptor has no [board] section",
            target.name
        ))
    })
}

/// Parses an `--on-exit` value.
pub fn parse_exit_method(text: &str) -> Result<ExitMethod, String> {
    match text {
        "semihosting" => Ok(ExitMethod::Semihosting),
        "halt" => Ok(ExitMethod::Halt),
        "reset" => Ok(ExitMethod::Reset),
        _ => Err(format!(
            "`{text}` is not a way to end a program: semihosting, halt or reset"
        )),
    }
}

/// What the build of a firmware image needs: the image extras, the grants (with the
/// fixed arguments) and warnings for the user.
pub struct Prepared {
    /// The image extras.
    pub config: BoardConfig,
    /// The grants, encoded.
    pub grants: Vec<u8>,
    /// Things the user should know (a board without a hardware random source).
    pub warnings: Vec<String>,
}

/// Checks the options against the board and gathers what the image carries.
pub fn prepare(options: &BuildOptions, program_name: &str) -> Result<Prepared, BuildError> {
    let target = &options.target;
    let board = info(target)?;
    let grants = &options.grants;
    let refuse = |what: &str| {
        Err(BuildError::Options(format!(
            "{what} cannot be granted on {}: a board has no host to take it from",
            target.name
        )))
    };
    if !grants.listen.is_empty() {
        return refuse("--listen (a network)");
    }
    if !grants.connect.is_empty() {
        return refuse("--connect (a network)");
    }
    if grants.inherit_network {
        return refuse("--inherit-network (a network)");
    }
    if grants.inherit_env {
        return refuse("--inherit-env (the host's environment)");
    }
    if let Some(name) = grants.env.iter().find(|entry| !entry.contains('=')) {
        return refuse(&format!(
            "--env {name} (a variable's value from the host at run time; give --env {name}=VALUE)"
        ));
    }
    if let Some(dir) = grants.dirs.iter().find(|dir| !dir.read_only) {
        return Err(BuildError::Options(format!(
            "--dir {}: on a board a directory is copied into the image as a read-only file \
             tree; add :ro",
            dir.host
        )));
    }
    let exit_method = match options.board.on_exit {
        Some(method) => method,
        None => parse_exit_method(&board.default_exit).map_err(BuildError::Options)?,
    };
    if !board.exit_methods.iter().any(|m| m == exit_method.name()) {
        return Err(BuildError::Options(format!(
            "{} cannot end a program by {} (it can: {})",
            target.name,
            exit_method.name(),
            board.exit_methods.join(", ")
        )));
    }
    if let Some(&pin) = options
        .board
        .gpio
        .iter()
        .find(|&&pin| pin >= board.gpio_pins)
    {
        return Err(BuildError::Options(if board.gpio_pins == 0 {
            format!("--gpio {pin}: {} has no GPIO wafer drives", target.name)
        } else {
            format!(
                "--gpio {pin}: {} has GPIO pins 0 to {}",
                target.name,
                board.gpio_pins - 1
            )
        }));
    }
    let mut trees = Vec::new();
    for dir in &grants.dirs {
        trees.push(read_tree(Path::new(&dir.host))?);
    }
    let files = if trees.is_empty() {
        Vec::new()
    } else {
        files::encode(&trees).ok_or_else(|| {
            BuildError::Options("the granted directories hold more than 4 GiB".into())
        })?
    };
    let mut grants = grants.clone();
    grants.args = std::iter::once(program_name.to_string())
        .chain(options.board.args.iter().cloned())
        .collect();
    grants.gpio = options.board.gpio.clone();
    let (build_time, seed) = build_time_and_seed();
    let mut warnings = Vec::new();
    if !board.hardware_random {
        warnings.push(format!(
            "{} has no hardware random source: random_get uses a ChaCha20 generator seeded \
             at boot from this image's own seed, the clock and timing jitter (see `wafer \
             inspect`)",
            target.name
        ));
    }
    Ok(Prepared {
        config: BoardConfig {
            exit_method,
            files,
            seed,
            build_time,
        },
        grants: grants.encode(),
        warnings,
    })
}

/// The build time and a seed for the image's generator: fresh from the OS, or, when
/// `SOURCE_DATE_EPOCH` asks for a reproducible build, that time and a seed derived from
/// it.
fn build_time_and_seed() -> (u64, [u8; 32]) {
    use sha2::Digest;
    if let Some(epoch) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
    {
        let seed = sha2::Sha256::digest(format!("wafer board seed {epoch}")).into();
        return (epoch.saturating_mul(1_000_000_000), seed);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    let mut seed = [0u8; 32];
    if getrandom_seed(&mut seed).is_err() {
        // No OS randomness (it is always there on Linux): the time and process id.
        let fallback = sha2::Sha256::digest(format!("{now} {}", std::process::id()));
        seed = fallback.into();
    }
    (now, seed)
}

fn getrandom_seed(seed: &mut [u8; 32]) -> std::io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(seed)
}

/// Reads the directory tree at `path` for baking into an image. Symlinks are followed
/// when they stay inside the tree (a board has none); anything that is neither a file nor
/// a directory is an error.
fn read_tree(path: &Path) -> Result<Entry, BuildError> {
    let root = path
        .canonicalize()
        .map_err(|e| BuildError::Options(format!("--dir {}: {e}", path.display())))?;
    read_dir_entry(&root, &root, Vec::new(), 0)
}

fn mtime(metadata: &std::fs::Metadata) -> u64 {
    metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |elapsed| elapsed.as_nanos() as u64)
}

fn read_dir_entry(
    root: &Path,
    dir: &Path,
    name: Vec<u8>,
    depth: usize,
) -> Result<Entry, BuildError> {
    use std::os::unix::ffi::OsStrExt;
    let error = |what: &Path, e: std::io::Error| {
        BuildError::Options(format!("cannot read {}: {e}", what.display()))
    };
    if depth > 64 {
        return Err(BuildError::Options(format!(
            "{}: directories nested more than 64 deep",
            dir.display()
        )));
    }
    let metadata = std::fs::metadata(dir).map_err(|e| error(dir, e))?;
    let mut children = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| error(dir, e))? {
        let entry = entry.map_err(|e| error(dir, e))?;
        let path = entry.path();
        let resolved = path.canonicalize().map_err(|e| error(&path, e))?;
        if !resolved.starts_with(root) {
            return Err(BuildError::Options(format!(
                "{} leads outside the granted directory {}",
                path.display(),
                root.display()
            )));
        }
        let child_name = entry.file_name().as_bytes().to_vec();
        let child_meta = std::fs::metadata(&resolved).map_err(|e| error(&path, e))?;
        if child_meta.is_dir() {
            children.push(read_dir_entry(root, &resolved, child_name, depth + 1)?);
        } else if child_meta.is_file() {
            let data = std::fs::read(&resolved).map_err(|e| error(&path, e))?;
            children.push(Entry::File {
                name: child_name,
                data,
                mtime: mtime(&child_meta),
            });
        } else {
            return Err(BuildError::Options(format!(
                "{} is neither a file nor a directory",
                path.display()
            )));
        }
    }
    Ok(Entry::Directory {
        name,
        children,
        mtime: mtime(&metadata),
    })
}

/// The board's memory regions, for the linker.
pub fn regions(target: &Target, board: &BoardInfo) -> Vec<wafer_link::MemoryRegion> {
    let mut regions = vec![wafer_link::MemoryRegion {
        name: format!("{} RAM", target.name),
        origin: board.ram.origin,
        length: board.ram.length,
        kind: wafer_link::RegionKind::Ram,
    }];
    if let Some(flash) = board.flash {
        regions.push(wafer_link::MemoryRegion {
            name: format!("{} flash", target.name),
            origin: flash.origin,
            length: flash.length,
            kind: wafer_link::RegionKind::Flash,
        });
    }
    regions
}

/// Each memory the module (or component) defines: (initial bytes, declared maximum in
/// bytes, if it has one).
fn defined_memories(wasm: &[u8]) -> Result<Vec<(u64, Option<u64>)>, BuildError> {
    let mut memories = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| BuildError::Compile(e.into()))?;
        if let wasmparser::Payload::MemorySection(reader) = payload {
            for memory in reader {
                let memory = memory.map_err(|e| BuildError::Compile(e.into()))?;
                let page = 1u64 << memory.page_size_log2.unwrap_or(16);
                let bytes = |pages: u64| pages.saturating_mul(page);
                memories.push((bytes(memory.initial), memory.maximum.map(bytes)));
            }
        }
    }
    Ok(memories)
}

/// The free RAM a firmware image must leave for its linear memories: each one's initial
/// size, or with `--max-memory` what each may grow to (its maximum, at most the limit),
/// so that a build that cannot give it fails instead of a `memory.grow` later.
pub fn memory_needed(wasm: &[u8], max_memory: Option<u64>) -> Result<u64, BuildError> {
    let mut total: u64 = 0;
    for (initial, maximum) in defined_memories(wasm)? {
        let needed = match max_memory {
            Some(limit) => maximum.unwrap_or(u64::MAX).min(limit).max(initial),
            None => initial,
        };
        total = total.saturating_add(needed);
    }
    Ok(total)
}

/// Checks that every memory starts within `--max-memory`.
pub fn check_memory_limit(wasm: &[u8], limit: u64) -> Result<(), BuildError> {
    for (index, (initial, _)) in defined_memories(wasm)?.into_iter().enumerate() {
        if initial > limit {
            return Err(BuildError::Options(format!(
                "--max-memory {limit} is less than the {initial} bytes memory {index} starts with"
            )));
        }
    }
    Ok(())
}

/// The linked ELF in the requested format.
pub fn convert(elf: Vec<u8>, format: ImageFormat) -> Result<Vec<u8>, BuildError> {
    let error = |e: wafer_link::LinkError| BuildError::Link(e.to_string());
    match format {
        ImageFormat::Elf => Ok(elf),
        ImageFormat::Bin => wafer_link::to_binary(&elf).map_err(error),
        ImageFormat::Hex => wafer_link::to_ihex(&elf)
            .map(String::into_bytes)
            .map_err(error),
    }
}
