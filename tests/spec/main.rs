//! The WebAssembly spec test suite through the real path: each `.wast` script becomes
//! one harness image (all its modules as instances of one image, compiled to an object,
//! linked in-process with the runtime) that runs natively while the runner feeds it
//! the script's commands and checks every assertion. Traps are caught inside the image
//! and the script goes on.
//!
//! Usage: `cargo test --release --test spec [-- FILTER...]`. `WAFER_SPEC_DIR` points at
//! another copy of the suite (default `../shared/testsuite`). `WAFER_SPEC_TARGET` picks
//! the target (default: this machine); other architectures run under qemu-user, each
//! with its own expectations file. A board (`WAFER_SPEC_TARGET=qemu-virt-aarch64`) runs
//! each script as a firmware image under its qemu-system machine, the commands going
//! through the board's UART. `WAFER_CHECKS=bounds,stack` compiles the images with
//! explicit bounds and stack-limit checks; the expectations are the same.
//! `WAFER_BLESS=1` rewrites the expectations file. The last line is `spec: P passed, F failed, S skipped`
//! (assertions). The run fails if a file passes fewer assertions or modules than its
//! expectation records, or if a skip-list entry has no reason.

#[path = "../common/mod.rs"]
mod common;
mod script;
mod values;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use wafer::codegen::{ImportSource, InstanceSpec};
use wafer_abi::trap::TrapKind;

use common::harness::{Harness, Reply};
use script::{Expect, Plan, Step};

/// Counts for one script.
#[derive(Debug, Default, Clone)]
struct FileReport {
    modules_passed: usize,
    modules_failed: usize,
    passed: usize,
    failed: usize,
    skipped: usize,
    failures: Vec<String>,
}

impl FileReport {
    fn record(&mut self, line: usize, module: bool, result: Result<(), String>) {
        match (result, module) {
            (Ok(()), true) => self.modules_passed += 1,
            (Ok(()), false) => self.passed += 1,
            (Err(why), module) => {
                if module {
                    self.modules_failed += 1;
                } else {
                    self.failed += 1;
                }
                if self.failures.len() < 8 {
                    self.failures.push(format!("line {line}: {why}"));
                }
            }
        }
    }
}

fn suite_dir() -> PathBuf {
    std::env::var_os("WAFER_SPEC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo().join("../shared/testsuite"))
}

/// The skip list: path prefixes (relative to the suite), `feature:NAME`, or `FILE:LINE`
/// for one command of a file, each with a reason.
fn skip_list() -> Vec<(String, String)> {
    let path = common::tests_dir().join("spec/skip.tsv");
    let text = std::fs::read_to_string(&path).expect("tests/spec/skip.tsv");
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (entry, reason) = line.split_once('\t').unwrap_or((line, ""));
            (entry.trim().to_string(), reason.trim().to_string())
        })
        .collect()
}

/// Feature folder of each top-level file, from `FEATURES.tsv`.
fn features(dir: &Path) -> HashMap<String, String> {
    std::fs::read_to_string(dir.join("FEATURES.tsv"))
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split('\t');
            Some((fields.next()?.to_string(), fields.next()?.to_string()))
        })
        .collect()
}

fn all_scripts(dir: &Path, relative: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir.join(relative)) else {
        return;
    };
    for entry in entries.flatten() {
        let rel = relative.join(entry.file_name());
        if entry.path().is_dir() {
            all_scripts(dir, &rel, out);
        } else if rel.extension().is_some_and(|e| e == "wast") {
            out.push(rel);
        }
    }
}

/// Why `file` is skipped, if it is.
fn skip_reason<'a>(
    file: &str,
    features: &HashMap<String, String>,
    skips: &'a [(String, String)],
) -> Option<&'a str> {
    skips.iter().find_map(|(entry, reason)| {
        let hit = match entry.strip_prefix("feature:") {
            _ if entry.contains(':') && !entry.starts_with("feature:") => false,
            Some(feature) => {
                !file.contains('/') && features.get(file).is_some_and(|f| f == feature)
            }
            None => file == entry || (entry.ends_with('/') && file.starts_with(entry.as_str())),
        };
        hit.then_some(reason.as_str())
    })
}

fn trap_matches(code: u8, expected: &str) -> bool {
    let Some(kind) = TrapKind::from_u8(code) else {
        return false;
    };
    let ours = kind.message();
    ours.starts_with(expected) || expected.starts_with(ours)
}

fn describe_trap(code: u8) -> String {
    TrapKind::from_u8(code).map_or(format!("trap {code}"), |k| k.message().to_string())
}

/// A plan's image: its bytes (if any instance survived), each instance's position in it,
/// and why the others are missing.
struct Built {
    image: Option<Vec<u8>>,
    position: Vec<Option<usize>>,
    missing: HashMap<usize, wafer::error::CompileError>,
}

/// The image for a plan, leaving out instances that fail to compile (and those that
/// import from them). Returns the image, each instance's position in it, and why the
/// others are missing.
fn build(plan: &Plan, spec: &SpecTarget) -> Built {
    let mut missing: HashMap<usize, wafer::error::CompileError> = HashMap::new();
    loop {
        let mut position = vec![None; plan.instances.len()];
        let mut specs = Vec::new();
        for (i, instance) in plan.instances.iter().enumerate() {
            let depends_on_missing = instance.imports.values().any(
                |source| matches!(source, ImportSource::Instance(k) if position[*k].is_none()),
            );
            if missing.contains_key(&i) || depends_on_missing {
                missing.entry(i).or_insert_with(|| {
                    wafer::error::CompileError::Link("imports from a module that failed".into())
                });
                continue;
            }
            let imports = instance
                .imports
                .iter()
                .map(|(name, source)| {
                    let source = match source {
                        ImportSource::Instance(k) => ImportSource::Instance(position[*k].unwrap()),
                        other => *other,
                    };
                    (name.clone(), source)
                })
                .collect();
            position[i] = Some(specs.len());
            specs.push(InstanceSpec {
                wasm: &instance.wasm,
                imports,
            });
        }
        let original: Vec<usize> = (0..plan.instances.len())
            .filter(|i| position[*i].is_some())
            .collect();
        match wafer::driver::build_harness(&specs, &spec.target, spec.cpu, spec.checks, None) {
            Ok(image) => {
                return Built {
                    image: Some(image),
                    position,
                    missing,
                };
            }
            Err(error) => {
                let Some(&failed) = original.get(error.instance) else {
                    return Built {
                        image: None,
                        position,
                        missing,
                    };
                };
                missing.insert(failed, error.error);
                if failed == 0 {
                    return Built {
                        image: None,
                        position,
                        missing,
                    };
                }
            }
        }
    }
}

/// The image for `text`, from the cache when neither the script nor wafer changed.
fn cached_build(text: &str, plan: &Plan, spec: &SpecTarget) -> Built {
    // The plan decides which instances exist; the build result is cached only as a
    // whole, so a failed instance means building again (and reporting why).
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::metadata(p).ok());
    let identity = exe.map(|m| format!("{}:{:?}", m.len(), m.modified().ok()));
    let mut hasher = Sha256::new();
    hasher.update(identity.unwrap_or_default().as_bytes());
    hasher.update(spec.target.name.as_bytes());
    hasher.update(spec.checks.to_string().as_bytes());
    hasher.update(text.as_bytes());
    let key: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let cache = common::repo().join("target/spec-cache");
    let path = cache.join(&key);
    if let Ok(image) = std::fs::read(&path) {
        return Built {
            image: Some(image),
            position: (0..plan.instances.len()).map(Some).collect(),
            missing: HashMap::new(),
        };
    }
    let built = build(plan, spec);
    if let (Some(image), true) = (&built.image, built.missing.is_empty()) {
        let _ = std::fs::create_dir_all(&cache);
        let _ = std::fs::write(&path, image);
    }
    built
}

fn run_file(
    dir: &Path,
    file: &Path,
    spec: &SpecTarget,
    scratch: &Path,
    skips: &[(String, String)],
) -> FileReport {
    let mut report = FileReport::default();
    let text = match std::fs::read_to_string(dir.join(file)) {
        Ok(text) => text,
        Err(e) => {
            report.record(0, true, Err(format!("cannot read: {e}")));
            return report;
        }
    };
    // The Wasm 2.0 suite expects what 3.0 added (several memories, ...) to be invalid,
    // and the 3.0 suite what proposals beyond it add (a memory's page size flag).
    let features = if file.starts_with("spec-wg-2.0") {
        wasmparser::WasmFeatures::WASM2
    } else if file.starts_with("proposals") {
        wafer::environ::features()
    } else {
        wasmparser::WasmFeatures::WASM3
    };
    let plan = match script::plan(&text, features) {
        Ok(plan) => plan,
        Err(e) => {
            report.record(0, true, Err(format!("cannot parse: {e}")));
            return report;
        }
    };
    let Built {
        image,
        position,
        missing,
    } = cached_build(&text, &plan, spec);
    if image.is_none() {
        let why = missing
            .get(&0)
            .map_or("unknown".to_string(), |e| e.to_string());
        report.failures.push(format!("no image: {why}"));
    }
    let mut harness = image.and_then(|image| {
        let name = format!(
            "{}.{}",
            file.to_string_lossy().replace('/', "_"),
            spec.target.name
        );
        let path = scratch.join(name);
        std::fs::write(&path, image).ok()?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).ok()?;
        Harness::start(&path, &spec.launcher)
            .inspect_err(|e| report.failures.push(e.clone()))
            .ok()
    });
    let name = file.to_string_lossy();
    let skipped_lines: Vec<usize> = skips
        .iter()
        .filter_map(|(entry, _)| {
            let (path, line) = entry.rsplit_once(':')?;
            (path == name && !entry.starts_with("feature:")).then(|| line.parse().ok())?
        })
        .collect();
    let mut dead: Option<String> = None;
    // Instances whose instantiation did not succeed: their exports are unusable.
    let mut not_instantiated: HashMap<usize, String> = HashMap::new();
    for step in plan.steps {
        if skipped_lines.contains(&step_line(&step)) {
            report.skipped += 1;
            continue;
        }
        let (line, module, result) = match step {
            Step::Skipped { line, .. } => {
                report.skipped += 1;
                let _ = line;
                continue;
            }
            Step::Decided { result, line } => (line, false, result),
            Step::Broken { why, line } => (line, false, Err(why)),
            Step::Instantiate {
                instance,
                expect,
                assertion,
                line,
            } => {
                let result = match (missing.get(&instance), position[instance]) {
                    (Some(error), _) => match (&expect, error) {
                        (Expect::Unlinkable, wafer::error::CompileError::Link(_)) => Ok(()),
                        _ => Err(format!("does not build: {error}")),
                    },
                    (None, Some(index)) => {
                        match run(&mut harness, &mut dead, &format!("i {index:x}")) {
                            Err(e) => Err(e),
                            Ok(Reply::Ok(_)) => match &expect {
                                Expect::Success => Ok(()),
                                other => Err(format!("instantiated, but expected {other:?}")),
                            },
                            Ok(Reply::Trap(code)) => match &expect {
                                Expect::Trap(message) if trap_matches(code, message) => Ok(()),
                                Expect::Unlinkable
                                    if code == TrapKind::IncompatibleImport as u8 =>
                                {
                                    Ok(())
                                }
                                other => Err(format!(
                                    "instantiation trapped with `{}`, expected {other:?}",
                                    describe_trap(code)
                                )),
                            },
                        }
                    }
                    (None, None) => Err("not in the image".into()),
                };
                if result.is_err() || !matches!(expect, Expect::Success) {
                    not_instantiated.insert(instance, "its instantiation failed".into());
                }
                if instance == 0 {
                    continue;
                }
                (line, !assertion, result)
            }
            Step::Call {
                instance,
                export,
                args,
                results,
                expect,
                line,
            } => {
                let result = match (not_instantiated.get(&instance), position[instance]) {
                    (Some(why), _) => Err(format!("module unavailable: {why}")),
                    (None, None) => Err("module not in the image".into()),
                    (None, Some(index)) => {
                        let mut command = format!("c {index:x} {export:x} {results:x}");
                        for arg in &args {
                            command.push_str(&format!(" {arg:x}"));
                        }
                        check(run(&mut harness, &mut dead, &command), &expect)
                    }
                };
                (line, false, result)
            }
            Step::Get {
                instance,
                export,
                expect,
                line,
            } => {
                let result = match (not_instantiated.get(&instance), position[instance]) {
                    (Some(why), _) => Err(format!("module unavailable: {why}")),
                    (None, None) => Err("module not in the image".into()),
                    (None, Some(index)) => check(
                        run(&mut harness, &mut dead, &format!("g {index:x} {export:x}")),
                        &expect,
                    ),
                };
                (line, false, result)
            }
        };
        report.record(line, module, result);
    }
    report
}

fn step_line(step: &Step) -> usize {
    match step {
        Step::Instantiate { line, .. }
        | Step::Call { line, .. }
        | Step::Get { line, .. }
        | Step::Decided { line, .. }
        | Step::Skipped { line, .. }
        | Step::Broken { line, .. } => *line,
    }
}

/// Runs one command, remembering a harness that died so later commands fail quickly.
fn run(
    harness: &mut Option<Harness>,
    dead: &mut Option<String>,
    command: &str,
) -> Result<Reply, String> {
    if let Some(why) = dead {
        return Err(why.clone());
    }
    let Some(h) = harness.as_mut() else {
        *dead = Some("no image".into());
        return Err("no image".into());
    };
    let reply = h.command(command);
    if std::env::var_os("WAFER_SPEC_TRACE").is_some() {
        eprintln!("{command} -> {reply:?}");
    }
    reply.inspect_err(|e| {
        *dead = Some(e.clone());
        *harness = None;
    })
}

fn check(reply: Result<Reply, String>, expect: &Expect) -> Result<(), String> {
    match (reply?, expect) {
        (Reply::Ok(_), Expect::Success) => Ok(()),
        (Reply::Ok(values), Expect::Values(expected)) => {
            if values.len() != expected.len() {
                return Err(format!(
                    "{} results, expected {}",
                    values.len(),
                    expected.len()
                ));
            }
            for (i, (value, want)) in values.iter().zip(expected).enumerate() {
                if !values::matches(want, *value) {
                    return Err(format!("result {i}: got {value:#x}, expected {want:?}"));
                }
            }
            Ok(())
        }
        (Reply::Trap(code), Expect::Trap(message)) if trap_matches(code, message) => Ok(()),
        (Reply::Trap(code), Expect::Exhaustion) if code == TrapKind::StackExhausted as u8 => Ok(()),
        (Reply::Trap(code), Expect::Exception) if code == TrapKind::UncaughtException as u8 => {
            Ok(())
        }
        (Reply::Trap(code), expect) => Err(format!(
            "trapped with `{}`, expected {expect:?}",
            describe_trap(code)
        )),
        (Reply::Ok(values), expect) => Err(format!("returned {values:x?}, expected {expect:?}")),
    }
}

/// The target under test, the command that runs its images (an emulator, or a board's
/// QEMU machine; empty for native images), its CPU preset, and the checks compiled in
/// (`WAFER_CHECKS`).
struct SpecTarget {
    target: wafer::target::Target,
    launcher: Vec<String>,
    cpu: Option<&'static str>,
    checks: wafer::checks::Checks,
}

fn spec_target() -> SpecTarget {
    let target = match std::env::var("WAFER_SPEC_TARGET") {
        Ok(name) => wafer::target::find(&name).unwrap_or_else(|e| panic!("{e}")),
        Err(_) => wafer::target::host().expect("the host is a wafer target"),
    };
    let arch = target.arch.to_string();
    // The suite has SIMD; Cranelift needs the V extension for it on riscv64.
    let riscv = target.arch == wafer::target::Arch::Riscv64;
    let cpu = riscv.then_some("rv64gcv");
    let launcher = match &target.board {
        Some(board) => {
            let mut command = board.qemu.clone();
            if riscv {
                // No board's CPU has the vector extension by default; QEMU's can.
                let kernel = command.len().saturating_sub(1);
                command.splice(
                    kernel..kernel,
                    ["-cpu".into(), "rv64,v=true,vlen=128".into()],
                );
            }
            command
        }
        None if arch != std::env::consts::ARCH => vec![format!("qemu-{arch}")],
        None => Vec::new(),
    };
    let checks = wafer::checks::Checks::from_env().unwrap_or_else(|e| panic!("{e}"));
    SpecTarget {
        target,
        launcher,
        cpu,
        checks,
    }
}

/// Each architecture's Linux images share one expectations file; each board has its own.
fn expectations_path(target: &wafer::target::Target) -> PathBuf {
    let name = match target.board {
        Some(_) => target.name.clone(),
        None => target.arch.to_string(),
    };
    common::tests_dir().join(format!("spec/expected-{name}.tsv"))
}

/// Expected (modules passed, assertions passed) per file.
fn load_expectations(target: &wafer::target::Target) -> BTreeMap<String, (usize, usize)> {
    std::fs::read_to_string(expectations_path(target))
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let file = fields.next()?.to_string();
            let modules = fields.next()?.parse().ok()?;
            let passed = fields.next()?.parse().ok()?;
            Some((file, (modules, passed)))
        })
        .collect()
}

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let dir = suite_dir();
    if !dir.join("FEATURES.tsv").is_file() {
        eprintln!(
            "spec: no test suite at {} (set WAFER_SPEC_DIR to a copy of it)",
            dir.display()
        );
        std::process::exit(1);
    }
    let spec = spec_target();
    if let Some(program) = spec.launcher.first()
        && common::which(program).is_none()
    {
        eprintln!(
            "spec: {program} is not installed (Debian bookworm-backports: qemu-user, \
             qemu-system-arm, qemu-system-misc)"
        );
        std::process::exit(1);
    }
    let features = features(&dir);
    let skips = skip_list();
    if let Some((entry, _)) = skips.iter().find(|(_, reason)| reason.is_empty()) {
        eprintln!("spec: skip-list entry `{entry}` has no reason");
        std::process::exit(1);
    }
    let mut scripts = Vec::new();
    all_scripts(&dir, Path::new(""), &mut scripts);
    scripts.sort();
    let mut selected = Vec::new();
    let mut skipped_files = 0;
    for script in scripts {
        let name = script.to_string_lossy().into_owned();
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        if skip_reason(&name, &features, &skips).is_some() {
            skipped_files += 1;
        } else {
            selected.push(script);
        }
    }
    let scratch = common::scratch("spec");
    let started = std::time::Instant::now();
    let queue = Mutex::new(selected.clone());
    let reports = Mutex::new(BTreeMap::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let Some(file) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let report = run_file(&dir, &file, &spec, &scratch, &skips);
                    reports
                        .lock()
                        .unwrap()
                        .insert(file.to_string_lossy().into_owned(), report);
                }
            });
        }
    });
    let reports = reports.into_inner().unwrap();
    let expectations = load_expectations(&spec.target);
    let mut total = FileReport::default();
    let mut regressions = Vec::new();
    println!(
        "{:<48} {:>13} {:>17} {:>8}",
        "file", "modules", "assertions", "skipped"
    );
    for (file, report) in &reports {
        total.modules_passed += report.modules_passed;
        total.modules_failed += report.modules_failed;
        total.passed += report.passed;
        total.failed += report.failed;
        total.skipped += report.skipped;
        let modules = report.modules_passed + report.modules_failed;
        let asserts = report.passed + report.failed;
        let mark = if report.failed + report.modules_failed > 0 {
            "FAIL"
        } else {
            "ok"
        };
        println!(
            "{file:<48} {:>6}/{:<6} {:>8}/{:<8} {:>8} {mark}",
            report.modules_passed, modules, report.passed, asserts, report.skipped
        );
        for failure in &report.failures {
            println!("    {failure}");
        }
        if let Some(&(modules_expected, passed_expected)) = expectations.get(file)
            && (report.modules_passed < modules_expected || report.passed < passed_expected)
        {
            regressions.push(format!(
                "{file}: {} modules and {} assertions pass, expected {modules_expected} and {passed_expected}",
                report.modules_passed, report.passed
            ));
        }
    }
    if common::bless() && filters.is_empty() {
        let mut text =
            String::from("# file\tmodules passed\tassertions passed (WAFER_BLESS=1 rewrites)\n");
        for (file, report) in &reports {
            text.push_str(&format!(
                "{file}\t{}\t{}\n",
                report.modules_passed, report.passed
            ));
        }
        std::fs::write(expectations_path(&spec.target), text).expect("write expectations");
    }
    println!(
        "spec totals: {} files run in {:.1}s on {} with checks {} ({} skipped by the skip list); modules {} passed, {} failed",
        reports.len(),
        started.elapsed().as_secs_f64(),
        spec.target.name,
        spec.checks.for_target(&spec.target),
        skipped_files,
        total.modules_passed,
        total.modules_failed
    );
    for regression in &regressions {
        println!("REGRESSION {regression}");
    }
    println!(
        "spec: {} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    if !regressions.is_empty() {
        std::process::exit(1);
    }
}
