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

/// What builds and runs a variant.
#[derive(Debug)]
pub enum Engine {
    /// `wafer build` with these flags added; the image runs by itself.
    Wafer { flags: Vec<String> },
    /// `wasmtime compile` with `compile` flags to a `.cwasm`, run by `wasmtime run
    /// --allow-precompiled` with `run` flags (the engine settings must agree).
    Wasmtime {
        compile: Vec<String>,
        run: Vec<String>,
    },
}

/// A way to build each program: a name for the report, its engine and flags, and the
/// variant it is compared with.
#[derive(Debug)]
pub struct Variant {
    /// The column's name.
    pub name: String,
    pub engine: Engine,
    /// The index of the variant this one's ratio is against (its own: a baseline).
    pub baseline: usize,
}

fn strings(flags: &[&str]) -> Vec<String> {
    flags.iter().map(|flag| flag.to_string()).collect()
}

impl Variant {
    /// A wafer build named `name` with `flags`, compared with variant `baseline`.
    pub fn wafer(name: &str, flags: &[&str], baseline: usize) -> Variant {
        Variant {
            name: name.to_string(),
            engine: Engine::Wafer {
                flags: strings(flags),
            },
            baseline,
        }
    }

    /// A wasmtime build named `name`, compared with variant `baseline`.
    pub fn wasmtime(name: &str, compile: &[&str], run: &[&str], baseline: usize) -> Variant {
        Variant {
            name: name.to_string(),
            engine: Engine::Wasmtime {
                compile: strings(compile),
                run: strings(run),
            },
            baseline,
        }
    }

    fn describe(&self) -> String {
        match &self.engine {
            Engine::Wafer { flags } if flags.is_empty() => "wafer, no flags".to_string(),
            Engine::Wafer { flags } => format!("wafer `{}`", flags.join(" ")),
            Engine::Wasmtime { compile, run } if compile.is_empty() && run.is_empty() => {
                "wasmtime, no flags".to_string()
            }
            Engine::Wasmtime { compile, run } => format!(
                "wasmtime compile `{}`, run `{}`",
                compile.join(" "),
                run.join(" ")
            ),
        }
    }
}

/// What is being measured: the title and command of the report, its file, and the
/// variants (the first is a baseline).
#[derive(Debug)]
pub struct Study {
    /// The report's title.
    pub title: String,
    /// The `wafer-bench` arguments that produce it.
    pub command: String,
    /// The report's file name in `target/bench`.
    pub file: &'static str,
    /// The builds.
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
                Variant::wafer("guard regions", &["--checks", "none"], 0),
                Variant::wafer("with checks", &["--checks", list], 0),
            ],
        }
    }

    /// `--metering`: what `--fuel` and `--deadline` cost, with budgets no program here
    /// reaches, and what wasmtime's fuel and epoch-interruption timeout cost it.
    pub fn metering() -> Study {
        const FUEL: &str = "1000000000000000000";
        Study {
            title: "The cost of `--fuel` and `--deadline`, and of wasmtime's fuel and timeout"
                .into(),
            command: "--metering".into(),
            file: "METERING.md",
            variants: vec![
                Variant::wafer("wafer", &[], 0),
                Variant::wafer("--fuel", &["--fuel", FUEL], 0),
                Variant::wafer("--deadline", &["--deadline", "1h"], 0),
                Variant::wafer("both", &["--fuel", FUEL, "--deadline", "1h"], 0),
                Variant::wasmtime("wasmtime", &[], &[], 4),
                Variant::wasmtime(
                    "wasmtime fuel",
                    &["-W", "fuel=1"],
                    &["-W", &format!("fuel={FUEL}")],
                    4,
                ),
                Variant::wasmtime(
                    "wasmtime timeout",
                    &["-W", "epoch-interruption=y"],
                    &["-W", "timeout=3600s"],
                    4,
                ),
                Variant::wasmtime(
                    "wasmtime both",
                    &["-W", "fuel=1,epoch-interruption=y"],
                    &["-W", &format!("fuel={FUEL},timeout=3600s")],
                    4,
                ),
            ],
        }
    }

    fn needs_wasmtime(&self) -> bool {
        self.variants
            .iter()
            .any(|variant| matches!(variant.engine, Engine::Wasmtime { .. }))
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
    let wasmtime = match study.needs_wasmtime() {
        true => Some(tools::wasmtime(
            &root.join("target").join("bench-tools"),
            &mut versions,
            &mut notes,
        )?),
        false => None,
    };
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
            let mut commands = Vec::new();
            let mut bounds = String::new();
            for (i, variant) in study.variants.iter().enumerate() {
                match (&variant.engine, &wasmtime) {
                    (Engine::Wafer { flags }, _) => {
                        let image = dir.join(format!("prog.wafer-variant{i}"));
                        bounds = wafer_build(&wafer, &wasm, &image, flags)?;
                        commands.push(Cmd::new([image]));
                    }
                    (Engine::Wasmtime { compile, run }, Some(wasmtime)) => {
                        let cwasm = dir.join(format!("prog.wasmtime-variant{i}.cwasm"));
                        build_step(
                            Command::new(wasmtime)
                                .arg("compile")
                                .args(compile)
                                .arg(&wasm)
                                .arg("-o")
                                .arg(&cwasm),
                        )?;
                        let mut args = vec![wasmtime.clone().into_os_string(), "run".into()];
                        args.extend(run.iter().map(Into::into));
                        args.push("--allow-precompiled".into());
                        args.push(cwasm.into_os_string());
                        commands.push(Cmd::new(args));
                    }
                    (Engine::Wasmtime { .. }, None) => {
                        return Err("wasmtime variant without wasmtime".into());
                    }
                }
            }
            Ok((commands, bounds))
        });
        let (commands, bounds) = match built {
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
    let compared = |i: usize| study.variants[i].baseline != i;
    let mut headers = vec!["program".to_string()];
    for (i, variant) in study.variants.iter().enumerate() {
        headers.push(format!("{} (ms)", variant.name));
        if compared(i) {
            headers.push(format!("{} ×", variant.name));
        }
    }
    if show_bounds {
        headers.push("bounds checks".into());
    }
    let columns = headers.len() - 1 - usize::from(show_bounds);
    let mut table = Table::new(headers);
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); study.variants.len()];
    for m in measured {
        let medians: Vec<Option<f64>> = m.walls.iter().map(|w| median_of(w)).collect();
        let mut row = vec![m.name.clone()];
        match &m.problem {
            None if medians.len() == study.variants.len()
                && medians.iter().all(Option::is_some) =>
            {
                let medians: Vec<f64> = medians.into_iter().flatten().collect();
                for (i, variant) in study.variants.iter().enumerate() {
                    row.push(ms(medians[i]));
                    if compared(i) {
                        let ratio_to_baseline = medians[i] / medians[variant.baseline];
                        ratios[i].push(ratio_to_baseline);
                        row.push(ratio(ratio_to_baseline));
                    }
                }
            }
            problem => {
                row.push(problem.clone().unwrap_or_else(|| "no timed run".into()));
                row.extend(std::iter::repeat_n(String::new(), columns - 1));
            }
        }
        if show_bounds {
            row.push(m.bounds.clone());
        }
        table.row(row);
    }
    let mut text = format!(
        "# {}\n\n\
         `cargo run --release -p wafer-bench -- {}`: each program built {} times for this \
         CPU ({}), the builds run interleaved, {runs} timed round{}{}; medians of wall \
         time; each ratio is against the baseline its geomean line below names.\n\n",
        study.title,
        study.command,
        study.variants.len(),
        study
            .variants
            .iter()
            .map(|v| format!("{}: {}", v.name, v.describe()))
            .collect::<Vec<_>>()
            .join("; "),
        if runs == 1 { "" } else { "s" },
        if warmup { " after a warm-up round" } else { "" },
    );
    for (name, version) in versions {
        text.push_str(&format!("- {name}: {version}\n"));
    }
    text.push('\n');
    text.push_str(&table.render());
    for (i, variant) in study.variants.iter().enumerate() {
        if compared(i) && !ratios[i].is_empty() {
            text.push_str(&format!(
                "\n{} against {}: geomean of the ratios over {} program{}: **{}**\n",
                variant.name,
                study.variants[variant.baseline].name,
                ratios[i].len(),
                if ratios[i].len() == 1 { "" } else { "s" },
                ratio(geomean(&ratios[i]))
            ));
        }
    }
    text
}
