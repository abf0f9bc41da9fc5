//! Builds the runtime for every target in `targets/` and embeds it into wafer, so the
//! `wafer` binary alone can link images for every target it lists.
//!
//! For each `targets/*/target.toml` this runs `cargo build -p wafer-runtime` for its
//! `runtime-triple` into `target/wafer-runtime/` and embeds the resulting static archive.
//!
//! A wafer that silently lacks a target is a trap for users: the build would succeed and
//! `wafer build --target ...` fail much later. So when the standard library of a triple
//! is missing, this installs it with `rustup target add` (the triples are also listed in
//! `rust-toolchain.toml`, which covers a toolchain rustup installs fresh, but rustup does
//! not add targets to a toolchain that is already there). If it cannot be installed the
//! build fails, saying how to fix it.
//!
//! `WAFER_RUNTIME_TARGETS=name,name` limits which runtimes are built (default: all); the
//! others are listed by `wafer targets` as not carried. Changing it reruns this script.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().unwrap().to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let targets_dir = workspace.join("targets");

    println!("cargo:rerun-if-changed={}", targets_dir.display());
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("runtime").display()
    );
    // The runtime's build profile lives in the workspace manifest.
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.toml").display()
    );
    println!("cargo:rerun-if-env-changed=WAFER_RUNTIME_TARGETS");

    let wanted: Option<Vec<String>> = env::var("WAFER_RUNTIME_TARGETS")
        .ok()
        .map(|list| list.split(',').map(|s| s.trim().to_string()).collect());

    let mut descriptors: Vec<PathBuf> = fs::read_dir(&targets_dir)
        .expect("targets/ exists")
        .filter_map(|entry| {
            let path = entry.ok()?.path().join("target.toml");
            path.is_file().then_some(path)
        })
        .collect();
    descriptors.sort();

    let selected: Vec<TargetDescriptor> = descriptors
        .iter()
        .map(|path| TargetDescriptor::read(path))
        .filter(|target| {
            wanted
                .as_ref()
                .is_none_or(|list| list.contains(&target.name))
        })
        .collect();
    install_missing_rust_targets(&selected);

    let mut generated =
        String::from("/// Targets embedded at build time: descriptor text and runtime archive.\n");
    generated.push_str("pub static EMBEDDED_TARGETS: &[(&str, Option<&[u8]>)] = &[\n");
    for descriptor in &descriptors {
        let target = TargetDescriptor::read(descriptor);
        let archive = selected
            .iter()
            .any(|s| s.name == target.name)
            .then(|| build_runtime(&workspace, &out_dir, &target));
        let runtime = match archive {
            Some(path) => format!("Some(include_bytes!({:?}))", path.display().to_string()),
            None => "None".to_string(),
        };
        writeln!(
            generated,
            "    (include_str!({:?}), {runtime}),",
            descriptor.display().to_string()
        )
        .unwrap();
    }
    generated.push_str("];\n");
    fs::write(out_dir.join("embedded_targets.rs"), generated).unwrap();
}

/// What this script needs from a `target.toml`.
struct TargetDescriptor {
    name: String,
    triple: String,
    rustflags: Vec<String>,
    /// For a board: its `board.rs`, which the runtime includes.
    board_source: Option<PathBuf>,
}

impl TargetDescriptor {
    fn read(path: &Path) -> TargetDescriptor {
        let text = fs::read_to_string(path).unwrap();
        let table: toml::Table = text
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let field = |key: &str| {
            table
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_else(|| panic!("{}: `{key}` is missing", path.display()))
                .to_string()
        };
        let rustflags = table
            .get("runtime-rustflags")
            .and_then(|v| v.as_array())
            .map(|flags| {
                flags
                    .iter()
                    .filter_map(|f| f.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let board_source = (field("kind") == "baremetal").then(|| {
            path.parent()
                .expect("a descriptor is inside its target's folder")
                .join("board.rs")
        });
        TargetDescriptor {
            name: field("name"),
            triple: field("runtime-triple"),
            rustflags,
            board_source,
        }
    }
}

/// Installs the standard library of every selected target that lacks one, or fails the
/// build explaining how to get it.
fn install_missing_rust_targets(selected: &[TargetDescriptor]) {
    let mut missing: Vec<&str> = selected
        .iter()
        .map(|t| t.triple.as_str())
        .filter(|triple| !rust_target_installed(triple))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        return;
    }
    let names: Vec<&str> = selected
        .iter()
        .filter(|t| missing.contains(&t.triple.as_str()))
        .map(|t| t.name.as_str())
        .collect();
    // rustup's proxies name the toolchain that runs this build; install into that one.
    let installed = env::var("RUSTUP_TOOLCHAIN").ok().and_then(|toolchain| {
        let output = Command::new("rustup")
            .args(["target", "add", "--toolchain", &toolchain])
            .args(&missing)
            .output()
            .ok()?;
        if output.status.success() {
            println!(
                "cargo:warning=installed the Rust targets {} (for the runtimes of {}) with rustup target add",
                missing.join(" "),
                names.join(", ")
            );
            Some(())
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            println!(
                "cargo:warning=rustup target add {} failed: {}",
                missing.join(" "),
                stderr.lines().last().unwrap_or_default()
            );
            None
        }
    });
    let still_missing: Vec<&str> = missing
        .iter()
        .copied()
        .filter(|triple| !rust_target_installed(triple))
        .collect();
    if installed.is_none() || !still_missing.is_empty() {
        panic!(
            "\n\nwafer carries a runtime for every target, and the Rust standard library for {} \
             is not installed (needed for {}).\nInstall it with `rustup target add {}`, or build \
             a wafer without those targets with WAFER_RUNTIME_TARGETS=<names> (see `targets/`).\n",
            still_missing.join(", "),
            names.join(", "),
            still_missing.join(" ")
        );
    }
}

/// Whether rustup (or the sysroot) has the standard library for `triple`.
fn rust_target_installed(triple: &str) -> bool {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(output) = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", triple])
        .output()
    else {
        return false;
    };
    let libdir = String::from_utf8_lossy(&output.stdout).trim().to_string();
    fs::read_dir(&libdir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().starts_with("libcore-"))
        })
        .unwrap_or(false)
}

/// Builds the runtime for `triple`; returns the archive copied into `out_dir`.
fn build_runtime(workspace: &Path, out_dir: &Path, target: &TargetDescriptor) -> PathBuf {
    let (name, triple) = (&target.name, &target.triple);
    // One target directory per target: boards share a Rust triple but not a runtime.
    let profile = if target.board_source.is_some() {
        "runtime-firmware"
    } else {
        "runtime"
    };
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
        .join("wafer-runtime")
        .join(name);
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "rustc",
            "--quiet",
            "-p",
            "wafer-runtime",
            "--features",
            "image",
        ])
        .args([
            "--crate-type",
            "staticlib",
            "--profile",
            profile,
            "--target",
            triple,
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's settings (its target, flags, wrappers, jobserver) must not leak
    // into the runtime build.
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        let keep = key == "CARGO_HOME"
            || key.starts_with("CARGO_NET_")
            || key.starts_with("CARGO_HTTP_")
            || key.starts_with("CARGO_REGISTRIES_");
        let build_script_var = key.starts_with("CARGO_")
            || key.starts_with("RUSTC")
            || matches!(
                key.as_str(),
                "RUSTFLAGS"
                    | "RUSTDOCFLAGS"
                    | "OUT_DIR"
                    | "TARGET"
                    | "HOST"
                    | "NUM_JOBS"
                    | "OPT_LEVEL"
                    | "PROFILE"
                    | "DEBUG"
                    | "MAKEFLAGS"
                    | "MFLAGS"
            );
        if build_script_var && !keep {
            command.env_remove(&key);
        }
    }
    let mut rustflags = vec![
        "-Crelocation-model=static".to_string(),
        "-Cforce-unwind-tables=no".to_string(),
    ];
    rustflags.extend(target.rustflags.iter().cloned());
    command.env("CARGO_ENCODED_RUSTFLAGS", rustflags.join("\u{1f}"));
    if let Some(board) = &target.board_source {
        command.env("WAFER_BOARD_SOURCE", board);
    }
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build the {name} runtime: {e}"));
    assert!(status.success(), "building the {name} runtime failed");
    let built = target_dir
        .join(triple)
        .join(profile)
        .join("libwafer_runtime.a");
    let copy = out_dir.join(format!("runtime-{name}.a"));
    fs::copy(&built, &copy).unwrap_or_else(|e| panic!("copying {}: {e}", built.display()));
    copy
}
