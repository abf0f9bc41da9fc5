//! Builds the runtime for every target in `targets/` and embeds it into wafer, so the
//! `wafer` binary alone can link images for every target it lists.
//!
//! For each `targets/*/target.toml`, when the standard library of its `runtime-triple` is
//! installed (`rustup target add ...`), this runs `cargo build -p wafer-runtime` for that
//! triple into `target/wafer-runtime/` and embeds the resulting static archive. Targets
//! whose Rust target is missing are still listed, marked as not carried.
//!
//! `WAFER_RUNTIME_TARGETS=name,name` limits which runtimes are built (default: all).

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

    let mut generated =
        String::from("/// Targets embedded at build time: descriptor text and runtime archive.\n");
    generated.push_str("pub static EMBEDDED_TARGETS: &[(&str, Option<&[u8]>)] = &[\n");
    for descriptor in &descriptors {
        let text = fs::read_to_string(descriptor).unwrap();
        let table: toml::Table = text
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", descriptor.display()));
        let name = table["name"].as_str().expect("name").to_string();
        let triple = table["runtime-triple"]
            .as_str()
            .expect("runtime-triple")
            .to_string();
        let rustflags: Vec<String> = table
            .get("runtime-rustflags")
            .and_then(|v| v.as_array())
            .map(|flags| {
                flags
                    .iter()
                    .filter_map(|f| f.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let selected = wanted.as_ref().is_none_or(|list| list.contains(&name));
        let archive = if selected && rust_target_installed(&triple) {
            Some(build_runtime(
                &workspace, &out_dir, &name, &triple, &rustflags,
            ))
        } else {
            if selected {
                println!(
                    "cargo:warning=runtime for {name} not built: the Rust target {triple} is not installed (rustup target add {triple})"
                );
            }
            None
        };
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
fn build_runtime(
    workspace: &Path,
    out_dir: &Path,
    name: &str,
    triple: &str,
    extra_rustflags: &[String],
) -> PathBuf {
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
        .join("wafer-runtime");
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
            "runtime",
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
    rustflags.extend(extra_rustflags.iter().cloned());
    command.env("CARGO_ENCODED_RUSTFLAGS", rustflags.join("\u{1f}"));
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build the {name} runtime: {e}"));
    assert!(status.success(), "building the {name} runtime failed");
    let built = target_dir
        .join(triple)
        .join("runtime")
        .join("libwafer_runtime.a");
    let copy = out_dir.join(format!("runtime-{name}.a"));
    fs::copy(&built, &copy).unwrap_or_else(|e| panic!("copying {}: {e}", built.display()));
    copy
}
