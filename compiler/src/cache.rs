//! The cache of images `wafer run` builds for the host, keyed by a hash of everything that
//! decides the image: the wafer binary, the options and the module.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::driver::BuildOptions;

/// The cache directory: `$WAFER_CACHE_DIR`, else `$XDG_CACHE_HOME/wafer`, else
/// `$HOME/.cache/wafer`.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("WAFER_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(Path::new(&dir).join("wafer"));
    }
    std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache").join("wafer"))
}

/// Identifies this wafer build: its version and its executable's size and time, so a
/// rebuilt wafer never reuses images from an older one.
fn wafer_identity() -> String {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|path| std::fs::metadata(&path).ok().map(|m| (path, m)));
    let stamp = exe
        .map(|(path, meta)| {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}:{}:{}", path.display(), meta.len(), modified)
        })
        .unwrap_or_default();
    format!("{}:{stamp}", env!("CARGO_PKG_VERSION"))
}

/// The cache key of an image built from `wasm` with `options`.
pub fn key(wasm: &[u8], options: &BuildOptions) -> String {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    field(wafer_identity().as_bytes());
    field(options.target.name.as_bytes());
    field(options.cpu.as_deref().unwrap_or("").as_bytes());
    if options.cpu.as_deref() == Some(crate::codegen::isa::NATIVE_CPU) {
        field(crate::codegen::isa::native_fingerprint(&options.target).as_bytes());
    }
    field(&options.stack_size.to_le_bytes());
    field(&options.max_memory.unwrap_or(u64::MAX).to_le_bytes());
    field(&options.metering.fuel.unwrap_or(0).to_le_bytes());
    field(
        &options
            .metering
            .deadline
            .map_or(0, |deadline| deadline.as_nanos())
            .to_le_bytes(),
    );
    field(&options.grants.encode());
    field(&[
        options.keep_symbols as u8,
        options.debug_info as u8,
        options.trap_unknown_imports as u8,
    ]);
    field(options.invoke.as_deref().unwrap_or("").as_bytes());
    field(options.checks.to_string().as_bytes());
    field(wasm);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
