//! The component-model test suite through the real path: each `.wast` script's component
//! instances become one harness image (each component translated by wafer's front end,
//! all of them compiled into one object, linked in-process with the runtime) that runs
//! natively while the runner calls their exports with component values and checks every
//! assertion. Values travel in `wafer_canon`'s value encoding: the runner encodes the
//! arguments of the export's types, the image lowers them into the callee, lifts the
//! results and sends them back encoded. Traps are caught inside the image and the
//! script goes on.
//!
//! wafer's own regression scripts in `tests/component_spec/misc/` run as `misc/...`.
//!
//! Usage: `cargo test --release --test component_spec [-- FILTER...]`.
//! `WAFER_COMPONENT_SPEC_DIR` points at another copy of the tests (default
//! `../shared/component-model-tests`). `WAFER_SPEC_TARGET` picks the target (default:
//! this machine); other architectures run under qemu-user, each with its own
//! expectations file. `WAFER_BLESS=1` rewrites the expectations file. The last line is
//! `component spec: P passed, F failed, S skipped` (assertions). The run fails if a file
//! passes fewer assertions or components than its expectation records, or if a
//! skip-list entry has no reason.

mod cancellable;
#[path = "../common/mod.rs"]
mod common;
mod script;
mod values;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use wafer_abi::trap::TrapKind;

use common::harness::Harness;
use script::{Expect, Plan, Step};

/// Counts for one script.
#[derive(Debug, Default, Clone)]
struct FileReport {
    components_passed: usize,
    components_failed: usize,
    passed: usize,
    failed: usize,
    skipped: usize,
    failures: Vec<String>,
}

impl FileReport {
    fn record(&mut self, line: usize, component: bool, result: Result<(), String>) {
        match (result, component) {
            (Ok(()), true) => self.components_passed += 1,
            (Ok(()), false) => self.passed += 1,
            (Err(why), component) => {
                if component {
                    self.components_failed += 1;
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
    std::env::var_os("WAFER_COMPONENT_SPEC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo().join("../shared/component-model-tests"))
}

/// The skip list: path prefixes (relative to the suite; a folder when it ends in /) or
/// `FILE:LINE` for one command of a file, each with a reason.
fn skip_list() -> Vec<(String, String)> {
    let path = common::tests_dir().join("component_spec/skip.tsv");
    let text = std::fs::read_to_string(&path).expect("tests/component_spec/skip.tsv");
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (entry, reason) = line.split_once('\t').unwrap_or((line, ""));
            (entry.trim().to_string(), reason.trim().to_string())
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

/// Why `file` is skipped as a whole, if it is.
fn skip_reason<'a>(file: &str, skips: &'a [(String, String)]) -> Option<&'a str> {
    skips.iter().find_map(|(entry, reason)| {
        let hit = !entry.contains(':')
            && (file == entry || (entry.ends_with('/') && file.starts_with(entry.as_str())));
        hit.then_some(reason.as_str())
    })
}

/// Other wordings of our trap kinds: the suite's messages are the reference
/// implementation's, which words some traps by where they happen (lifting a result on
/// the host, or inside a fused adapter) rather than by what went wrong.
const OTHER_WORDINGS: &[(TrapKind, &str)] = &[
    (
        TrapKind::StringOutOfBounds,
        "string pointer/length out of bounds of memory",
    ),
    (TrapKind::InvalidUtf8, "incomplete utf-8 byte sequence"),
    (
        TrapKind::Unreachable,
        "wasm `unreachable` instruction executed",
    ),
];

/// Our message for a trap, with the handle index it names.
fn trap_message(kind: TrapKind, detail: Option<u32>) -> String {
    match (kind.handle_message(), detail) {
        (Some((before, after)), Some(index)) => format!("{before}{index}{after}"),
        _ => kind.message().to_string(),
    }
}

/// Whether our trap matches the expected message: equal, one a prefix of the other (not
/// cut inside a number), or another wording of the same trap.
fn trap_matches(kind: TrapKind, detail: Option<u32>, expected: &str) -> bool {
    let expected = expected.strip_prefix("wasm trap: ").unwrap_or(expected);
    let ours = trap_message(kind, detail);
    let prefix_of = |long: &str, short: &str| {
        long.starts_with(short)
            && !(short.ends_with(|c: char| c.is_ascii_digit())
                && long[short.len()..].starts_with(|c: char| c.is_ascii_digit()))
    };
    prefix_of(&ours, expected)
        || prefix_of(expected, &ours)
        || OTHER_WORDINGS
            .iter()
            .any(|(k, wording)| *k == kind && expected.starts_with(wording))
}

/// What the image answered.
#[derive(Debug)]
enum Reply {
    /// Success, with the results' value encoding (empty for an instantiation).
    Ok(Vec<u8>),
    /// A trap, and the handle index it names.
    Trap(TrapKind, Option<u32>),
}

fn parse_reply(line: &str) -> Result<Reply, String> {
    let mut words = line.split_whitespace();
    match words.next() {
        Some("ok") => {
            let hex = words.next().unwrap_or("");
            (0..hex.len())
                .step_by(2)
                .map(|at| {
                    hex.get(at..at + 2)
                        .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                        .ok_or_else(|| format!("bad reply `{line}`"))
                })
                .collect::<Result<_, _>>()
                .map(Reply::Ok)
        }
        Some("trap") => {
            let kind = words
                .next()
                .and_then(|code| code.parse().ok())
                .and_then(TrapKind::from_u8)
                .ok_or_else(|| format!("bad trap reply `{line}`"))?;
            let detail = words.next().and_then(|d| d.parse().ok());
            Ok(Reply::Trap(kind, detail))
        }
        _ => Err(format!("harness error: {line}")),
    }
}

/// A plan's image: its bytes (if any component survived), each component's position in
/// it, and why the others are missing.
struct Built {
    image: Option<Vec<u8>>,
    position: Vec<Option<usize>>,
    missing: HashMap<usize, String>,
}

/// The image for a plan, leaving out the components that fail to compile.
fn build(plan: &Plan, spec: &SpecTarget) -> Built {
    let mut missing: HashMap<usize, String> = HashMap::new();
    loop {
        let mut position = vec![None; plan.instances.len()];
        let mut plans = Vec::new();
        let mut original = Vec::new();
        for (i, instance) in plan.instances.iter().enumerate() {
            if missing.contains_key(&i) {
                continue;
            }
            match wafer::component::translate(&instance.wasm) {
                Ok(translated) => {
                    position[i] = Some(plans.len());
                    plans.push(translated);
                    original.push(i);
                }
                Err(error) => {
                    missing.insert(i, error.to_string());
                }
            }
        }
        if plans.is_empty() {
            return Built {
                image: None,
                position,
                missing,
            };
        }
        match wafer::driver::build_component_harness(&plans, &spec.target, spec.cpu, spec.checks) {
            Ok(image) => {
                return Built {
                    image: Some(image),
                    position,
                    missing,
                };
            }
            Err(error) => {
                let failed = original[error.instance.min(original.len() - 1)];
                missing.insert(failed, error.error.to_string());
            }
        }
    }
}

/// The image for `text`, from the cache when neither the script nor wafer changed.
fn cached_build(text: &str, plan: &Plan, spec: &SpecTarget) -> Built {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::metadata(p).ok());
    let identity = exe.map(|m| format!("{}:{:?}", m.len(), m.modified().ok()));
    let mut hasher = Sha256::new();
    hasher.update(b"component");
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
    if std::env::var_os("WAFER_SPEC_TRACE").is_some() {
        eprintln!("{command}");
    }
    let reply = h.request(command).and_then(|line| {
        if std::env::var_os("WAFER_SPEC_TRACE").is_some() {
            eprintln!("{command} -> {line}");
        }
        parse_reply(&line)
    });
    reply.inspect_err(|e| {
        if !e.starts_with("harness error") {
            *dead = Some(e.clone());
            *harness = None;
        }
    })
}

fn check(
    reply: Result<Reply, String>,
    expect: &Expect,
    instance: &script::Instance,
    export: usize,
) -> Result<(), String> {
    match (reply?, expect) {
        (Reply::Ok(_), Expect::Success) => Ok(()),
        (Reply::Ok(bytes), Expect::Values(expected)) => {
            let func = instance.exports[export]
                .1
                .and_then(|f| instance.funcs.get(f))
                .ok_or("no function type")?;
            let values = wafer_canon::encode::decode_vals(&instance.types, &func.results, &bytes)
                .map_err(|e| format!("the results do not decode: {e}"))?;
            if values != *expected {
                return Err(format!("returned {values:?}, expected {expected:?}"));
            }
            Ok(())
        }
        (Reply::Trap(kind, detail), Expect::Trap(message))
            if trap_matches(kind, detail, message) =>
        {
            Ok(())
        }
        (Reply::Trap(kind, detail), expect) => Err(format!(
            "trapped with `{}`, expected {expect:?}",
            trap_message(kind, detail)
        )),
        (Reply::Ok(bytes), expect) => Err(format!("returned {bytes:02x?}, expected {expect:?}")),
    }
}

/// Where script `file` is: ours under `misc/`, else the suite's.
fn script_path(dir: &Path, file: &Path) -> PathBuf {
    if file.starts_with("misc") {
        common::tests_dir().join("component_spec").join(file)
    } else {
        dir.join(file)
    }
}

fn run_file(
    dir: &Path,
    file: &Path,
    spec: &SpecTarget,
    scratch: &Path,
    skips: &[(String, String)],
) -> FileReport {
    let mut report = FileReport::default();
    let text = match std::fs::read_to_string(script_path(dir, file)) {
        Ok(text) => text,
        Err(e) => {
            report.record(0, true, Err(format!("cannot read: {e}")));
            return report;
        }
    };
    let plan = match script::plan(&text) {
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
    } = if plan.instances.is_empty() {
        Built {
            image: None,
            position: Vec::new(),
            missing: HashMap::new(),
        }
    } else {
        cached_build(&text, &plan, spec)
    };
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
        let launcher: Vec<String> = spec.emulator.iter().cloned().collect();
        Harness::start(&path, &launcher)
            .inspect_err(|e| report.failures.push(e.clone()))
            .ok()
    });
    let name = file.to_string_lossy();
    let skipped_lines: Vec<usize> = skips
        .iter()
        .filter_map(|(entry, _)| {
            let (path, line) = entry.rsplit_once(':')?;
            (path == name).then(|| line.parse().ok())?
        })
        .collect();
    let mut dead: Option<String> = None;
    // Components whose instantiation did not succeed: their exports are unusable.
    let mut not_instantiated: HashMap<usize, String> = HashMap::new();
    for step in &plan.steps {
        if skipped_lines.contains(&step.line()) {
            report.skipped += 1;
            continue;
        }
        let (line, component, result) = match step {
            Step::Decided {
                result,
                definition,
                line,
            } => (*line, *definition, result.clone()),
            Step::Broken { why, line } => (*line, false, Err(why.clone())),
            Step::Instantiate {
                instance,
                expect,
                assertion,
                line,
            } => {
                let result = match (missing.get(instance), position[*instance]) {
                    (Some(error), _) => Err(format!("does not build: {error}")),
                    (None, Some(index)) => {
                        match run(&mut harness, &mut dead, &format!("n {index:x}")) {
                            Err(e) => Err(e),
                            Ok(Reply::Ok(_)) => match expect {
                                Expect::Success => Ok(()),
                                other => Err(format!("instantiated, but expected {other:?}")),
                            },
                            Ok(Reply::Trap(kind, detail)) => match expect {
                                Expect::Trap(message) if trap_matches(kind, detail, message) => {
                                    Ok(())
                                }
                                other => Err(format!(
                                    "instantiation trapped with `{}`, expected {other:?}",
                                    trap_message(kind, detail)
                                )),
                            },
                        }
                    }
                    (None, None) => Err("not in the image".into()),
                };
                if result.is_err() || !matches!(expect, Expect::Success) {
                    not_instantiated.insert(*instance, "its instantiation failed".into());
                }
                (*line, !assertion, result)
            }
            Step::Call {
                instance,
                export,
                args,
                expect,
                line,
            } => {
                let result = match (not_instantiated.get(instance), position[*instance]) {
                    (Some(why), _) => Err(format!("component unavailable: {why}")),
                    (None, None) => Err("component not in the image".into()),
                    (None, Some(index)) => {
                        let hex: String = args.iter().map(|b| format!("{b:02x}")).collect();
                        let command = format!("x {index:x} {export:x} {hex}");
                        check(
                            run(&mut harness, &mut dead, &command),
                            expect,
                            &plan.instances[*instance],
                            *export,
                        )
                    }
                };
                (*line, false, result)
            }
        };
        report.record(line, component, result);
    }
    report
}

/// The target under test, the emulator to run its images with, its CPU preset, and the
/// checks compiled in (`WAFER_CHECKS`).
struct SpecTarget {
    target: wafer::target::Target,
    emulator: Option<String>,
    cpu: Option<&'static str>,
    checks: wafer::checks::Checks,
}

fn spec_target() -> SpecTarget {
    let target = match std::env::var("WAFER_SPEC_TARGET") {
        Ok(name) => wafer::target::find(&name).unwrap_or_else(|e| panic!("{e}")),
        Err(_) => wafer::target::host().expect("the host is a wafer target"),
    };
    let arch = target.arch.to_string();
    let emulator = (arch != std::env::consts::ARCH).then(|| format!("qemu-{arch}"));
    let checks = wafer::checks::Checks::from_env().unwrap_or_else(|e| panic!("{e}"));
    SpecTarget {
        target,
        emulator,
        cpu: None,
        checks,
    }
}

fn expectations_path(target: &wafer::target::Target) -> PathBuf {
    let arch = target.arch.to_string();
    common::tests_dir().join(format!("component_spec/expected-{arch}.tsv"))
}

/// Expected (components passed, assertions passed) per file.
fn load_expectations(target: &wafer::target::Target) -> BTreeMap<String, (usize, usize)> {
    std::fs::read_to_string(expectations_path(target))
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let file = fields.next()?.to_string();
            let components = fields.next()?.parse().ok()?;
            let passed = fields.next()?.parse().ok()?;
            Some((file, (components, passed)))
        })
        .collect()
}

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let dir = suite_dir();
    if !dir.is_dir() {
        eprintln!(
            "component spec: no tests at {} (set WAFER_COMPONENT_SPEC_DIR to a copy of them)",
            dir.display()
        );
        std::process::exit(1);
    }
    let spec = spec_target();
    if let Some(emulator) = &spec.emulator
        && common::which(emulator).is_none()
    {
        eprintln!(
            "component spec: {emulator} is not installed (qemu-user, Debian bookworm-backports)"
        );
        std::process::exit(1);
    }
    let skips = skip_list();
    if let Some((entry, _)) = skips.iter().find(|(_, reason)| reason.is_empty()) {
        eprintln!("component spec: skip-list entry `{entry}` has no reason");
        std::process::exit(1);
    }
    let mut scripts = Vec::new();
    all_scripts(&dir, Path::new(""), &mut scripts);
    // Our own scripts, as `misc/...` (the suite has no such folder).
    let misc = common::tests_dir().join("component_spec");
    all_scripts(&misc, Path::new("misc"), &mut scripts);
    scripts.sort();
    let mut selected = Vec::new();
    let mut skipped_files = 0;
    for script in scripts {
        let name = script.to_string_lossy().into_owned();
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        if skip_reason(&name, &skips).is_some() {
            skipped_files += 1;
        } else {
            selected.push(script);
        }
    }
    let scratch = common::scratch("component-spec");
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
        "file", "components", "assertions", "skipped"
    );
    for (file, report) in &reports {
        total.components_passed += report.components_passed;
        total.components_failed += report.components_failed;
        total.passed += report.passed;
        total.failed += report.failed;
        total.skipped += report.skipped;
        let components = report.components_passed + report.components_failed;
        let asserts = report.passed + report.failed;
        let mark = if report.failed + report.components_failed > 0 {
            "FAIL"
        } else {
            "ok"
        };
        println!(
            "{file:<48} {:>6}/{:<6} {:>8}/{:<8} {:>8} {mark}",
            report.components_passed, components, report.passed, asserts, report.skipped
        );
        for failure in &report.failures {
            println!("    {failure}");
        }
        if let Some(&(components_expected, passed_expected)) = expectations.get(file)
            && (report.components_passed < components_expected || report.passed < passed_expected)
        {
            regressions.push(format!(
                "{file}: {} components and {} assertions pass, expected {components_expected} and {passed_expected}",
                report.components_passed, report.passed
            ));
        }
    }
    if common::bless() && filters.is_empty() {
        let mut text =
            String::from("# file\tcomponents passed\tassertions passed (WAFER_BLESS=1 rewrites)\n");
        for (file, report) in &reports {
            text.push_str(&format!(
                "{file}\t{}\t{}\n",
                report.components_passed, report.passed
            ));
        }
        std::fs::write(expectations_path(&spec.target), text).expect("write expectations");
    }
    println!(
        "component spec totals: {} files run in {:.1}s on {} with checks {} ({} skipped by the skip list); components {} passed, {} failed",
        reports.len(),
        started.elapsed().as_secs_f64(),
        spec.target.name,
        spec.checks,
        skipped_files,
        total.components_passed,
        total.components_failed
    );
    for regression in &regressions {
        println!("REGRESSION {regression}");
    }
    println!(
        "component spec: {} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    if !regressions.is_empty() {
        std::process::exit(1);
    }
}
