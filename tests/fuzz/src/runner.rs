//! The stable runner: each target runs case after case from a seed until its time
//! budget is spent, and reports executions and failures. Case `i` of seed `s` is always
//! the same input, so `--seed s --start i --cases 1` reproduces a failure.
//!
//! The compile target builds in a child process (this binary's `worker-compile`) under
//! an address-space limit, reading cases from the seed itself and reporting each one on
//! a line; the parent kills it when a case passes its deadline, and reads its peak
//! resident memory, so hangs and memory blow-ups are failures with a case number. The
//! differential target runs in this process (its images are child processes already).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use crate::compile::{self, Flavour, Verdict};
use crate::differential::{self, DiffTarget, RunSettings};
use crate::rng::Rng;

/// The address space a compile worker may use: the limit it runs under.
pub const COMPILE_ADDRESS_SPACE: u64 = 8 << 30;
/// The resident memory a compile worker may reach over all its cases.
pub const COMPILE_PEAK_RSS: u64 = 2 << 30;
/// How long one compile case may take.
pub const COMPILE_DEADLINE: Duration = Duration::from_secs(60);

/// How often a differential run reports its totals on standard error.
const PROGRESS_EVERY: Duration = Duration::from_secs(60);

/// A run's settings.
#[derive(Debug, Clone)]
pub struct Budget {
    /// Stop starting cases after this long.
    pub time: Duration,
    /// The seed.
    pub seed: u64,
    /// The first case.
    pub start: u64,
    /// At most this many cases.
    pub cases: u64,
}

/// One broken rule: the case, and what went wrong.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Case number.
    pub case: u64,
    /// What went wrong.
    pub message: String,
    /// The input, saved under `target/fuzz/failures/`.
    pub saved: Option<PathBuf>,
}

/// Saves a failing input and its description; returns the input's path.
pub fn save_failure(name: &str, wasm: &[u8], description: &str) -> Option<PathBuf> {
    let dir = differential::work_dir().join("failures");
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, wasm).ok()?;
    std::fs::write(dir.join(format!("{name}.txt")), description).ok()?;
    Some(path)
}

/// Totals of a compile run.
#[derive(Debug, Default)]
pub struct CompileReport {
    /// Cases run, per flavour.
    pub cases: [u64; 3],
    /// Images built, per flavour.
    pub images: [u64; 3],
    /// Refusals by kind of error.
    pub refused: std::collections::BTreeMap<&'static str, u64>,
    /// Peak resident memory of the workers, in bytes.
    pub peak_rss: u64,
    /// Broken rules.
    pub failures: Vec<Failure>,
    /// Time spent.
    pub elapsed: Duration,
}

impl CompileReport {
    /// All cases run.
    pub fn total(&self) -> u64 {
        self.cases.iter().sum()
    }
}

/// What a worker says about one case.
enum WorkerLine {
    Started(u64),
    Done(u64, Flavour, Verdict),
    Failed(u64, String),
}

fn parse_worker_line(line: &str) -> Option<WorkerLine> {
    let mut words = line.splitn(4, ' ');
    let what = words.next()?;
    let case: u64 = words.next()?.parse().ok()?;
    match what {
        "start" => Some(WorkerLine::Started(case)),
        "done" => {
            let flavour = Flavour::ALL
                .into_iter()
                .find(|f| Some(f.name()) == words.clone().next())?;
            words.next();
            let verdict = match words.next()? {
                "image" => Verdict::Image,
                other => Verdict::Refused(refusal_name(other)),
            };
            Some(WorkerLine::Done(case, flavour, verdict))
        }
        "fail" => Some(WorkerLine::Failed(
            case,
            words.collect::<Vec<_>>().join(" "),
        )),
        _ => None,
    }
}

fn refusal_name(text: &str) -> &'static str {
    [
        "invalid",
        "unsupported",
        "link",
        "limit",
        "options",
        "text",
        "other",
    ]
    .into_iter()
    .find(|k| *k == text)
    .unwrap_or("other")
}

/// The compile worker: runs cases from `start` on and reports each on stdout, under
/// [`COMPILE_ADDRESS_SPACE`]. Never returns.
pub fn compile_worker(seed: u64, start: u64) -> ! {
    let limit = libc::rlimit {
        rlim_cur: COMPILE_ADDRESS_SPACE,
        rlim_max: COMPILE_ADDRESS_SPACE,
    };
    // SAFETY: setrlimit reads the struct passed by reference; it changes only this
    // process's limit.
    if unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) } != 0 {
        eprintln!("wafer-fuzz: cannot limit the address space");
        std::process::exit(2);
    }
    for index in start.. {
        println!("start {index}");
        let case = compile::case(seed, index);
        match compile::check(&case) {
            Ok(verdict) => {
                let verdict = match verdict {
                    Verdict::Image => "image",
                    Verdict::Refused(kind) => kind,
                };
                println!("done {index} {} {verdict}", case.flavour.name());
            }
            Err(message) => println!("fail {index} {}", message.replace('\n', " ")),
        }
    }
    std::process::exit(0)
}

/// Peak resident memory of process `pid`, from `/proc`.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Runs the compile target within `budget`.
pub fn run_compile(budget: &Budget) -> CompileReport {
    let mut report = CompileReport::default();
    let started = Instant::now();
    let end = budget.start.saturating_add(budget.cases);
    let mut next = budget.start;
    let exe = std::env::current_exe().expect("the runner's own path");
    'workers: while next < end && started.elapsed() < budget.time {
        let mut child = match Command::new(&exe)
            .args(["worker-compile", "--seed", &budget.seed.to_string()])
            .args(["--start", &next.to_string()])
            // Fewer malloc arenas: the address-space limit counts their reservations.
            .env("MALLOC_ARENA_MAX", "2")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                report.failures.push(Failure {
                    case: next,
                    message: format!("cannot start a worker: {e}"),
                    saved: None,
                });
                break;
            }
        };
        let pid = child.id();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if text.len() < 4000 {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
            text
        });
        let mut current: Option<(u64, Instant)> = None;
        let stop = |child: &mut std::process::Child, report: &mut CompileReport| {
            if let Some(rss) = peak_rss(pid) {
                report.peak_rss = report.peak_rss.max(rss);
            }
            let _ = child.kill();
            let _ = child.wait();
        };
        loop {
            let out_of_time = started.elapsed() >= budget.time;
            if out_of_time || next >= end {
                stop(&mut child, &mut report);
                break 'workers;
            }
            match lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => match parse_worker_line(&line) {
                    Some(WorkerLine::Started(case)) => current = Some((case, Instant::now())),
                    Some(WorkerLine::Done(case, flavour, verdict)) => {
                        let slot = flavour as usize;
                        report.cases[slot] += 1;
                        match verdict {
                            Verdict::Image => report.images[slot] += 1,
                            Verdict::Refused(kind) => *report.refused.entry(kind).or_default() += 1,
                        }
                        current = None;
                        next = case + 1;
                    }
                    Some(WorkerLine::Failed(case, message)) => {
                        let case_input = compile::case(budget.seed, case);
                        report.cases[case_input.flavour as usize] += 1;
                        report
                            .failures
                            .push(compile_failure(budget.seed, case, &message));
                        current = None;
                        next = case + 1;
                    }
                    None => {}
                },
                Err(RecvTimeoutError::Timeout) => {
                    if let Some((case, since)) = current
                        && since.elapsed() > COMPILE_DEADLINE
                    {
                        stop(&mut child, &mut report);
                        let message = format!("no result within {COMPILE_DEADLINE:?}");
                        report
                            .failures
                            .push(compile_failure(budget.seed, case, &message));
                        next = case + 1;
                        continue 'workers;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = child.wait();
                    let stderr = errors.join().unwrap_or_default();
                    let case = current.map_or(next, |(case, _)| case);
                    let message = format!(
                        "the worker died ({status:?}): {}",
                        stderr.lines().last().unwrap_or("no message")
                    );
                    report
                        .failures
                        .push(compile_failure(budget.seed, case, &message));
                    next = case + 1;
                    continue 'workers;
                }
            }
            if let Some(rss) = peak_rss(pid) {
                report.peak_rss = report.peak_rss.max(rss);
            }
        }
    }
    if report.peak_rss > COMPILE_PEAK_RSS {
        report.failures.push(Failure {
            case: next,
            message: format!(
                "the compile workers' resident memory reached {} MiB, over the {} MiB bound",
                report.peak_rss >> 20,
                COMPILE_PEAK_RSS >> 20
            ),
            saved: None,
        });
    }
    report.elapsed = started.elapsed();
    report
}

fn compile_failure(seed: u64, case: u64, message: &str) -> Failure {
    let input = compile::case(seed, case);
    let description = format!(
        "compile target, seed {seed}, case {case} ({} for {}, checks {}, max memory {:?}, cpu {:?}, fuel {:?}):\n{message}\n",
        input.flavour.name(),
        input.target,
        input.checks,
        input.max_memory,
        input.cpu,
        input.fuel
    );
    Failure {
        case,
        message: message.to_string(),
        saved: save_failure(&format!("compile-{seed}-{case}"), &input.wasm, &description),
    }
}

/// Prints a compile report; returns whether it passed.
pub fn print_compile(report: &CompileReport) -> bool {
    let per_flavour: Vec<String> = Flavour::ALL
        .iter()
        .map(|f| {
            format!(
                "{} {} ({} images)",
                f.name(),
                report.cases[*f as usize],
                report.images[*f as usize]
            )
        })
        .collect();
    let refused: Vec<String> = report
        .refused
        .iter()
        .map(|(kind, count)| format!("{kind} {count}"))
        .collect();
    println!(
        "fuzz compile: {} executions in {:.0} s ({:.1}/s): {}; refused: {}; peak RSS {} MiB (bound {} MiB); {} failures",
        report.total(),
        report.elapsed.as_secs_f64(),
        report.total() as f64 / report.elapsed.as_secs_f64().max(0.001),
        per_flavour.join(", "),
        if refused.is_empty() {
            "none".into()
        } else {
            refused.join(", ")
        },
        report.peak_rss >> 20,
        COMPILE_PEAK_RSS >> 20,
        report.failures.len()
    );
    print_failures(&report.failures);
    report.failures.is_empty()
}

fn print_failures(failures: &[Failure]) {
    for failure in failures {
        println!(
            "  FAILURE case {}: {}{}",
            failure.case,
            failure.message,
            failure
                .saved
                .as_ref()
                .map_or(String::new(), |p| format!(" (input: {})", p.display()))
        );
    }
}

/// Totals of a differential run.
#[derive(Debug, Default)]
pub struct DiffReport {
    /// Modules run.
    pub modules: u64,
    /// Calls compared.
    pub executions: u64,
    /// Of those, traps on both sides.
    pub traps: u64,
    /// Modules stopped early or not run, by reason (first words).
    pub skipped: std::collections::BTreeMap<String, u64>,
    /// Divergences and wafer failures.
    pub failures: Vec<Failure>,
    /// Time spent.
    pub elapsed: Duration,
    /// Of which building images.
    pub build_time: Duration,
    /// And running them.
    pub run_time: Duration,
}

/// The module of differential case `index` of `seed` (wasm-smith may need several
/// draws), with the generator for its calls.
pub fn differential_case(seed: u64, index: u64) -> Option<(crate::smith::DiffModule, Rng)> {
    let mut rng = Rng::for_case(seed, index);
    for _ in 0..16 {
        let size = 256 + rng.below(24 << 10) as usize;
        let entropy = rng.bytes(size);
        let mut u = arbitrary::Unstructured::new(&entropy);
        if let Some(module) = crate::smith::differential_module(&mut u) {
            return Some((module, rng));
        }
    }
    None
}

/// Runs the differential target on `target` within `budget`, `calls` calls per module.
pub fn run_differential(budget: &Budget, target: &DiffTarget, calls: u64) -> DiffReport {
    let mut report = DiffReport::default();
    let scratch = differential::work_dir().join("scratch");
    let _ = std::fs::create_dir_all(&scratch);
    let started = Instant::now();
    let end = budget.start.saturating_add(budget.cases);
    let mut index = budget.start;
    let mut last_progress = Instant::now();
    while index < end && started.elapsed() < budget.time {
        // Long campaigns leave a trace: the totals so far, once a minute.
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            eprintln!(
                "progress: {} executions ({} traps) in {} modules, {} failures, {:.0} s",
                report.executions,
                report.traps,
                report.modules,
                report.failures.len(),
                started.elapsed().as_secs_f64()
            );
        }
        let case = index;
        index += 1;
        let Some((module, mut rng)) = differential_case(budget.seed, case) else {
            *report.skipped.entry("no module".into()).or_default() += 1;
            continue;
        };
        // Boards always check explicitly; on Linux a quarter of the images do too.
        let checks = if rng.chance(1, 4) {
            wafer::checks::Checks::ALL
        } else {
            wafer::checks::Checks::NONE
        };
        let settings = RunSettings { calls, checks };
        let run = differential::run_module(&module, target, settings, &mut rng, &scratch);
        report.modules += 1;
        report.executions += run.executions;
        report.traps += run.traps;
        report.build_time += run.build_time;
        report.run_time += run.run_time;
        if let Some(why) = &run.skipped {
            *report.skipped.entry(skip_class(why)).or_default() += 1;
        }
        if let Some(divergence) = run.divergence {
            let description = format!(
                "differential target on {}, seed {}, case {case}, checks {}, NaNs {:?}, {calls} calls:\n{divergence}\n",
                target.target.name, budget.seed, checks, module.nans
            );
            report.failures.push(Failure {
                case,
                message: divergence,
                saved: save_failure(
                    &format!("diff-{}-{}-{case}", target.target.name, budget.seed),
                    &module.wasm,
                    &description,
                ),
            });
        }
    }
    report.elapsed = started.elapsed();
    report
}

/// A skip reason without its details (call numbers, values), for counting.
fn skip_class(why: &str) -> String {
    let why = why.split_once(": ").map_or(
        why,
        |(head, tail)| {
            if head.starts_with("call ") { tail } else { why }
        },
    );
    why.split(|c: char| c.is_ascii_digit() || c == '(')
        .next()
        .unwrap_or(why)
        .trim()
        .to_string()
}

/// Prints a differential report; returns whether it passed.
pub fn print_differential(target: &str, report: &DiffReport) -> bool {
    let skipped: Vec<String> = report
        .skipped
        .iter()
        .map(|(why, count)| format!("{count} {why}"))
        .collect();
    println!(
        "fuzz differential {target}: {} executions ({} traps) in {} modules, {:.0} s ({:.0} s building, {:.0} s running; {:.0}/s); {} failures",
        report.executions,
        report.traps,
        report.modules,
        report.elapsed.as_secs_f64(),
        report.build_time.as_secs_f64(),
        report.run_time.as_secs_f64(),
        report.executions as f64 / report.elapsed.as_secs_f64().max(0.001),
        report.failures.len()
    );
    if !skipped.is_empty() {
        println!("  modules stopped early or skipped: {}", skipped.join("; "));
    }
    print_failures(&report.failures);
    report.failures.is_empty()
}

/// Replays a differential module (a `.wasm` or `.wat` file) on `target`: `calls` calls
/// drawn from `seed`, with and without checks.
pub fn replay_differential(
    path: &Path,
    target: &DiffTarget,
    seed: u64,
    calls: u64,
) -> Result<differential::ModuleRun, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let wasm = wat::parse_bytes(&bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .into_owned();
    // A module whose NaNs are not canonicalized says so: `;; nans: raw`.
    let nans = if String::from_utf8_lossy(&bytes).contains(";; nans: raw") {
        crate::smith::NanMode::Raw
    } else {
        crate::smith::NanMode::Canonical
    };
    let module = crate::smith::DiffModule {
        wasm,
        nans,
        fuel: crate::smith::DEFAULT_FUEL,
    };
    let scratch = differential::work_dir().join("scratch");
    let _ = std::fs::create_dir_all(&scratch);
    let mut total = differential::ModuleRun::default();
    for checks in [wafer::checks::Checks::NONE, wafer::checks::Checks::ALL] {
        let mut rng = Rng::for_case(seed, 0);
        let settings = RunSettings { calls, checks };
        let run = differential::run_module(&module, target, settings, &mut rng, &scratch);
        if let Some(divergence) = run.divergence {
            return Err(format!(
                "{} (checks {checks}): {divergence}",
                path.display()
            ));
        }
        total.executions += run.executions;
        total.traps += run.traps;
        total.skipped = total.skipped.or(run.skipped);
    }
    Ok(total)
}

/// Debugging aid: writes differential case `index` of `seed` to `path`.
pub fn dump_case(seed: u64, index: u64, path: &Path) {
    if let Some((module, _)) = differential_case(seed, index) {
        let _ = std::fs::write(path, &module.wasm);
    }
}
