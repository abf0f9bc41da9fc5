//! `--checks LIST`: what the checks bare-metal builds carry (explicit bounds checks,
//! stack-limit checks; see `wafer build --checks`) cost. Each program is built twice by
//! wafer, as usual (guard regions) and with `--checks LIST`; the two images run
//! interleaved in the same rounds, so each program's ratio and their geomean come from
//! one run on one machine state. Writes `target/bench/CHECKS.md` (also printed).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::measure::{self, Cmd, Meter, build_step, geomean, median};
use crate::report::{Table, ms, ratio};
use crate::runners::{self, Program, WAFER_CPU_FLAGS};
use crate::tools;

/// One program's two builds and their timed runs.
struct Pair {
    name: String,
    /// `wafer build --checks LIST`'s count of bounds checks, as it printed it.
    bounds: String,
    guarded: Vec<f64>,
    checked: Vec<f64>,
    problem: Option<String>,
}

/// Builds, runs and reports; `Ok(false)` when a program failed or its two builds
/// printed different output.
pub fn run(
    checks: &str,
    programs: &[Program],
    root: &Path,
    work: &Path,
    meter: &Meter,
    runs: usize,
    warmup: bool,
) -> Result<bool, String> {
    let mut versions = Vec::new();
    let mut notes = Vec::new();
    tools::gcc(&mut versions)?;
    tools::clang(&mut versions)?;
    tools::rustc(&mut versions)?;
    let wafer = tools::pin_wafer(root, work, &mut versions, &mut notes)?;
    for note in &notes {
        eprintln!("wafer-bench: note: {note}");
    }
    let key = versions
        .iter()
        .map(|(name, version)| format!("{name}={version}"))
        .collect::<Vec<_>>()
        .join(";");
    let mut pairs = Vec::new();
    for program in programs.iter().filter(|p| !p.is_hello()) {
        eprintln!("wafer-bench: building {} twice", program.name);
        let dir = work.join("build").join(&program.name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let built = runners::build_wasm(program, &dir.join("prog.wasm"), &key).and_then(|wasm| {
            let guarded = dir.join("prog.wafer");
            let checked = dir.join("prog.wafer-checks");
            wafer_build(&wafer, &wasm, &guarded, "none")?;
            let bounds = wafer_build(&wafer, &wasm, &checked, checks)?;
            Ok((guarded, checked, bounds))
        });
        let (guarded, checked, bounds) = match built {
            Ok(built) => built,
            Err(why) => {
                pairs.push(Pair {
                    name: program.name.clone(),
                    bounds: String::new(),
                    guarded: Vec::new(),
                    checked: Vec::new(),
                    problem: Some(format!("build failed: {why}")),
                });
                continue;
            }
        };
        eprint!("wafer-bench: running {} ...", program.name);
        let pair = measure_pair(
            &program.name,
            [&Cmd::new([&guarded]), &Cmd::new([&checked])],
            bounds,
            meter,
            runs + usize::from(warmup),
            warmup,
            crate::RUN_LIMIT,
        );
        match (
            &pair.problem,
            median_of(&pair.guarded),
            median_of(&pair.checked),
        ) {
            (None, Some(g), Some(c)) => eprintln!(" {} ms, {} ms", ms(g), ms(c)),
            _ => eprintln!(" PROBLEM"),
        }
        pairs.push(pair);
    }
    let text = render(checks, &versions, &pairs, runs, warmup);
    let out = work.join("CHECKS.md");
    std::fs::write(&out, &text).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("{text}");
    eprintln!("wafer-bench: wrote {}", out.display());
    Ok(pairs.iter().all(|p| p.problem.is_none()))
}

/// `wafer build --checks CHECKS WASM -o OUT` for this machine; returns the bounds-check
/// count it reports under `WAFER_TIMINGS=1` (empty when it has none).
fn wafer_build(wafer: &Path, wasm: &Path, out: &Path, checks: &str) -> Result<String, String> {
    let mut command = Command::new(wafer);
    command
        .arg("build")
        .args(WAFER_CPU_FLAGS)
        .args(["--checks", checks])
        .arg(wasm)
        .arg("-o")
        .arg(out)
        .env("WAFER_TIMINGS", "1");
    let output = command
        .output()
        .map_err(|e| format!("{}: {e}", measure::describe(&command)))?;
    if !output.status.success() {
        // Again, for the usual one-line report of a failed step.
        build_step(&mut command)?;
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Ok(stderr
        .lines()
        .find_map(|line| line.strip_prefix("wafer: bounds checks: "))
        .unwrap_or_default()
        .to_string())
}

/// Runs the two commands `rounds` times, alternating which goes first, timing all but
/// the first round when `warmup`; both must succeed and print the same every time.
fn measure_pair(
    name: &str,
    commands: [&Cmd; 2],
    bounds: String,
    meter: &Meter,
    rounds: usize,
    warmup: bool,
    limit: Duration,
) -> Pair {
    let mut walls: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut reference: Option<Vec<u8>> = None;
    let mut problem = None;
    'rounds: for round in 0..rounds {
        for k in 0..2 {
            let which = (k + round) % 2;
            let sample = match meter.run(commands[which], limit) {
                Ok(sample) if sample.success() => sample,
                Ok(sample) => {
                    problem = Some(format!("run failed: {}", sample.failure()));
                    break 'rounds;
                }
                Err(why) => {
                    problem = Some(format!("run failed: {why}"));
                    break 'rounds;
                }
            };
            match &reference {
                None => reference = Some(sample.stdout),
                Some(first) if *first != sample.stdout => {
                    problem = Some("OUTPUT MISMATCH between the two builds or runs".into());
                    break 'rounds;
                }
                Some(_) => {}
            }
            if !warmup || round > 0 {
                walls[which].push(sample.wall.as_secs_f64());
            }
        }
    }
    let [guarded, checked] = walls;
    Pair {
        name: name.to_string(),
        bounds,
        guarded,
        checked,
        problem,
    }
}

fn median_of(walls: &[f64]) -> Option<f64> {
    (!walls.is_empty()).then(|| median(walls))
}

fn render(
    checks: &str,
    versions: &[(String, String)],
    pairs: &[Pair],
    runs: usize,
    warmup: bool,
) -> String {
    let mut table = Table::new([
        "program",
        "guard regions (ms)",
        "with checks (ms)",
        "ratio",
        "bounds checks",
    ]);
    let mut ratios = Vec::new();
    for pair in pairs {
        let (guarded, checked) = (median_of(&pair.guarded), median_of(&pair.checked));
        let (g, c, r) = match (&pair.problem, guarded, checked) {
            (None, Some(g), Some(c)) => {
                ratios.push(c / g);
                (ms(g), ms(c), ratio(c / g))
            }
            (problem, _, _) => {
                let why = problem.clone().unwrap_or_else(|| "no timed run".into());
                (why, String::new(), String::new())
            }
        };
        table.row([pair.name.clone(), g, c, r, pair.bounds.clone()]);
    }
    let mut text = format!(
        "# The cost of `--checks {checks}`\n\n\
         `cargo run --release -p wafer-bench -- --checks {checks}`: each program built by \
         wafer for this CPU as usual (guard regions) and with `--checks {checks}`, the two \
         run interleaved, {runs} timed round{}{}; medians of wall time.\n\n",
        if runs == 1 { "" } else { "s" },
        if warmup { " after a warm-up round" } else { "" },
    );
    for (name, version) in versions {
        text.push_str(&format!("- {name}: {version}\n"));
    }
    text.push('\n');
    text.push_str(&table.render());
    if !ratios.is_empty() {
        text.push_str(&format!(
            "\nGeomean of the ratios over {} program{}: **{}**\n",
            ratios.len(),
            if ratios.len() == 1 { "" } else { "s" },
            ratio(geomean(&ratios))
        ));
    }
    text
}
