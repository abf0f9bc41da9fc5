//! What build options cost: `--checks LIST` (the checks bare-metal builds carry:
//! explicit bounds checks, stack-limit checks) and `--metering` (`--fuel`, `--deadline`).
//! Each program is built once per variant; the images run interleaved in the same
//! rounds, so each program's ratios and their geomeans come from one run on one machine
//! state. Writes `target/bench/CHECKS.md` or `METERING.md` (also printed).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::measure::{self, Cmd, Meter, build_step, geomean, median};
use crate::report::{Table, ms, ratio};
use crate::runners::{self, Program, WAFER_CPU_FLAGS};
use crate::tools;

/// A way to build each program: a name for the report and its `wafer build` flags.
#[derive(Debug)]
pub struct Variant {
    /// The column's name.
    pub name: String,
    /// Flags added to `wafer build`.
    pub flags: Vec<String>,
}

impl Variant {
    /// A variant named `name` built with `flags`.
    pub fn new(name: &str, flags: &[&str]) -> Variant {
        Variant {
            name: name.to_string(),
            flags: flags.iter().map(|flag| flag.to_string()).collect(),
        }
    }
}

/// What is being measured: the title and command of the report, its file, and the
/// variants, the first of which is the baseline the others are divided by.
#[derive(Debug)]
pub struct Study {
    /// The report's title.
    pub title: String,
    /// The `wafer-bench` arguments that produce it.
    pub command: String,
    /// The report's file name in `target/bench`.
    pub file: &'static str,
    /// The builds, baseline first.
    pub variants: Vec<Variant>,
}

impl Study {
    /// `--checks LIST`: guard regions against the checks bare-metal builds carry.
    pub fn checks(list: &str) -> Study {
        Study {
            title: format!("The cost of `--checks {list}`"),
            command: format!("--checks {list}"),
            file: "CHECKS.md",
            variants: vec![
                Variant::new("guard regions", &["--checks", "none"]),
                Variant::new("with checks", &["--checks", list]),
            ],
        }
    }

    /// `--metering`: what `--fuel` and `--deadline` cost, with budgets no program here
    /// reaches.
    pub fn metering() -> Study {
        Study {
            title: "The cost of `--fuel` and `--deadline`".into(),
            command: "--metering".into(),
            file: "METERING.md",
            variants: vec![
                Variant::new("unmetered", &[]),
                Variant::new("--fuel", &["--fuel", "1000000000000000000"]),
                Variant::new("--deadline", &["--deadline", "1h"]),
                Variant::new(
                    "both",
                    &["--fuel", "1000000000000000000", "--deadline", "1h"],
                ),
            ],
        }
    }
}

/// One program's builds and their timed runs.
struct Measured {
    name: String,
    /// The last variant's count of bounds checks, as `wafer build` printed it.
    bounds: String,
    /// Wall times per variant.
    walls: Vec<Vec<f64>>,
    problem: Option<String>,
}

/// Builds, runs and reports; `Ok(false)` when a program failed or its builds printed
/// different output.
pub fn run(
    study: &Study,
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
    let mut measured = Vec::new();
    for program in programs.iter().filter(|p| !p.is_hello()) {
        eprintln!(
            "wafer-bench: building {} {} times",
            program.name,
            study.variants.len()
        );
        let dir = work.join("build").join(&program.name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let built = runners::build_wasm(program, &dir.join("prog.wasm"), &key).and_then(|wasm| {
            let mut images = Vec::new();
            let mut bounds = String::new();
            for (i, variant) in study.variants.iter().enumerate() {
                let image = dir.join(format!("prog.wafer-variant{i}"));
                bounds = wafer_build(&wafer, &wasm, &image, &variant.flags)?;
                images.push(image);
            }
            Ok((images, bounds))
        });
        let (images, bounds) = match built {
            Ok(built) => built,
            Err(why) => {
                measured.push(Measured {
                    name: program.name.clone(),
                    bounds: String::new(),
                    walls: Vec::new(),
                    problem: Some(format!("build failed: {why}")),
                });
                continue;
            }
        };
        eprint!("wafer-bench: running {} ...", program.name);
        let commands: Vec<Cmd> = images.iter().map(|image| Cmd::new([image])).collect();
        let result = measure_variants(
            &program.name,
            &commands,
            bounds,
            meter,
            runs + usize::from(warmup),
            warmup,
            crate::RUN_LIMIT,
        );
        match &result.problem {
            None => eprintln!(
                " {}",
                result
                    .walls
                    .iter()
                    .map(|walls| median_of(walls).map_or("-".into(), |m| format!("{} ms", ms(m))))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(_) => eprintln!(" PROBLEM"),
        }
        measured.push(result);
    }
    let text = render(study, &versions, &measured, runs, warmup);
    let out = work.join(study.file);
    std::fs::write(&out, &text).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("{text}");
    eprintln!("wafer-bench: wrote {}", out.display());
    Ok(measured.iter().all(|m| m.problem.is_none()))
}

/// `wafer build FLAGS WASM -o OUT` for this machine; returns the bounds-check count it
/// reports under `WAFER_TIMINGS=1` (empty when it has none).
fn wafer_build(wafer: &Path, wasm: &Path, out: &Path, flags: &[String]) -> Result<String, String> {
    let mut command = Command::new(wafer);
    command
        .arg("build")
        .args(WAFER_CPU_FLAGS)
        .args(flags)
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

/// Runs the commands `rounds` times, rotating which goes first, timing all but the first
/// round when `warmup`; every run must succeed and print the same.
fn measure_variants(
    name: &str,
    commands: &[Cmd],
    bounds: String,
    meter: &Meter,
    rounds: usize,
    warmup: bool,
    limit: Duration,
) -> Measured {
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); commands.len()];
    let mut reference: Option<Vec<u8>> = None;
    let mut problem = None;
    'rounds: for round in 0..rounds {
        for k in 0..commands.len() {
            let which = (k + round) % commands.len();
            let sample = match meter.run(&commands[which], limit) {
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
                    problem = Some("OUTPUT MISMATCH between the builds or runs".into());
                    break 'rounds;
                }
                Some(_) => {}
            }
            if !warmup || round > 0 {
                walls[which].push(sample.wall.as_secs_f64());
            }
        }
    }
    Measured {
        name: name.to_string(),
        bounds,
        walls,
        problem,
    }
}

fn median_of(walls: &[f64]) -> Option<f64> {
    (!walls.is_empty()).then(|| median(walls))
}

fn render(
    study: &Study,
    versions: &[(String, String)],
    measured: &[Measured],
    runs: usize,
    warmup: bool,
) -> String {
    let show_bounds = measured.iter().any(|m| !m.bounds.is_empty());
    let (baseline, others) = study
        .variants
        .split_first()
        .expect("a study has a baseline");
    let mut headers = vec!["program".to_string(), format!("{} (ms)", baseline.name)];
    for variant in others {
        headers.push(format!("{} (ms)", variant.name));
        headers.push(format!("{} ×", variant.name));
    }
    if show_bounds {
        headers.push("bounds checks".into());
    }
    let mut table = Table::new(headers);
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); others.len()];
    for m in measured {
        let medians: Vec<Option<f64>> = m.walls.iter().map(|w| median_of(w)).collect();
        let mut row = vec![m.name.clone()];
        match (&m.problem, medians.first().copied().flatten()) {
            (None, Some(base)) if medians.iter().all(Option::is_some) => {
                row.push(ms(base));
                for (i, median) in medians.iter().skip(1).enumerate() {
                    let median = median.unwrap_or(base);
                    ratios[i].push(median / base);
                    row.push(ms(median));
                    row.push(ratio(median / base));
                }
            }
            (problem, _) => {
                row.push(problem.clone().unwrap_or_else(|| "no timed run".into()));
                row.extend(std::iter::repeat_n(String::new(), 2 * others.len()));
            }
        }
        if show_bounds {
            row.push(m.bounds.clone());
        }
        table.row(row);
    }
    let flags = |variant: &Variant| {
        if variant.flags.is_empty() {
            "no flags".to_string()
        } else {
            format!("`{}`", variant.flags.join(" "))
        }
    };
    let mut text = format!(
        "# {}\n\n\
         `cargo run --release -p wafer-bench -- {}`: each program built by wafer for this \
         CPU {} times ({}), the builds run interleaved, {runs} timed round{}{}; medians of \
         wall time, ratios against {}.\n\n",
        study.title,
        study.command,
        study.variants.len(),
        study
            .variants
            .iter()
            .map(|v| format!("{}: {}", v.name, flags(v)))
            .collect::<Vec<_>>()
            .join("; "),
        if runs == 1 { "" } else { "s" },
        if warmup { " after a warm-up round" } else { "" },
        baseline.name,
    );
    for (name, version) in versions {
        text.push_str(&format!("- {name}: {version}\n"));
    }
    text.push('\n');
    text.push_str(&table.render());
    for (variant, ratios) in others.iter().zip(&ratios) {
        if !ratios.is_empty() {
            text.push_str(&format!(
                "\n{}: geomean of the ratios over {} program{}: **{}**\n",
                variant.name,
                ratios.len(),
                if ratios.len() == 1 { "" } else { "s" },
                ratio(geomean(ratios))
            ));
        }
    }
    text
}
