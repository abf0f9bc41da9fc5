//! The measurement loops. Runs are interleaved: each round runs every runner once, in an
//! order rotated by one each round, so drift (thermal, frequency, page cache, other
//! load) spreads over all runners instead of landing on whichever ran last. Every run's
//! stdout is checked against the native build's.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::measure::{self, Cmd, Meter, Sample};
use crate::runners::{Built, Lang, Runner};
use crate::tools::Tools;

/// Why a series is incomplete or suspect.
#[derive(Clone, Debug)]
pub enum Problem {
    /// It could not be built; nothing was run.
    Build(String),
    /// A run failed (non-zero exit, signal, timeout); later rounds skipped it.
    Failed(String),
    /// It ran, but its stdout differs from the native build's (timings are kept).
    Mismatch(String),
    /// This runner is not used on this program (no artifact was offered): not a problem,
    /// and left out of the tables and the problem list.
    NotRun,
}

impl Problem {
    /// Whether the report should list it (everything but `NotRun`).
    pub fn is_reported(&self) -> bool {
        !matches!(self, Problem::NotRun)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Build(why) => write!(f, "build failed: {why}"),
            Problem::Failed(why) => write!(f, "run failed: {why}"),
            Problem::Mismatch(why) => write!(f, "OUTPUT MISMATCH: {why}"),
            Problem::NotRun => write!(f, "not run"),
        }
    }
}

/// The timed runs of one runner on one program (or of one compiler on one module).
#[derive(Debug)]
pub struct Series {
    pub runner: Runner,
    /// Wall time of each timed run, in seconds.
    pub walls: Vec<f64>,
    /// Peak RSS of each timed run, in KiB.
    pub rss_kib: Vec<u64>,
    pub problem: Option<Problem>,
    /// The first run's stdout, and whether a later run's differed from it.
    stdout: Option<Vec<u8>>,
    unstable: bool,
}

impl Series {
    fn new(runner: Runner, problem: Option<Problem>) -> Self {
        Series {
            runner,
            walls: Vec::new(),
            rss_kib: Vec::new(),
            problem,
            stdout: None,
            unstable: false,
        }
    }

    /// Can it still be run (built, and no failed run so far)?
    fn runnable(&self) -> bool {
        !matches!(
            self.problem,
            Some(Problem::Build(_) | Problem::Failed(_) | Problem::NotRun)
        )
    }

    /// Median wall time in seconds, if any run was timed.
    pub fn wall(&self) -> Option<f64> {
        (!self.walls.is_empty()).then(|| measure::median(&self.walls))
    }

    /// The fastest run's wall time in seconds.
    pub fn fastest(&self) -> Option<f64> {
        self.walls.iter().copied().reduce(f64::min)
    }

    /// Median peak RSS in KiB.
    pub fn rss(&self) -> Option<f64> {
        let values: Vec<f64> = self.rss_kib.iter().map(|&k| k as f64).collect();
        (!values.is_empty()).then(|| measure::median(&values))
    }

    /// (max - min) / median of the wall times.
    pub fn spread(&self) -> Option<f64> {
        let median = self.wall()?;
        let max = self.walls.iter().copied().fold(f64::MIN, f64::max);
        let min = self.walls.iter().copied().fold(f64::MAX, f64::min);
        Some((max - min) / median)
    }

    /// Runs `cmd` once; records the timing if `timed`, the stdout always, and a failure
    /// as this series' problem. Returns whether the run succeeded.
    fn run(&mut self, cmd: &Cmd, meter: &Meter, limit: Duration, timed: bool) -> bool {
        let sample: Sample = match meter.run(cmd, limit) {
            Ok(sample) => sample,
            Err(why) => {
                self.problem = Some(Problem::Failed(why));
                return false;
            }
        };
        if !sample.success() {
            self.problem = Some(Problem::Failed(sample.failure()));
            return false;
        }
        if timed {
            self.walls.push(sample.wall.as_secs_f64());
            self.rss_kib.push(sample.max_rss_kib);
        }
        match &self.stdout {
            None => self.stdout = Some(sample.stdout),
            Some(first) => self.unstable |= *first != sample.stdout,
        }
        true
    }
}

/// The results of one program on every runner.
#[derive(Debug)]
pub struct Measured {
    pub name: String,
    pub lang: Lang,
    /// A SIMD build (see `runners::Program::simd`).
    pub simd: bool,
    pub series: Vec<Series>,
}

impl Measured {
    pub fn series(&self, runner: Runner) -> &Series {
        self.series
            .iter()
            .find(|s| s.runner == runner)
            .expect("a series per runner")
    }
}

/// Measures `built` on every runner it has an artifact entry for (the others get
/// [`Problem::NotRun`]): one untimed warm-up round if `warmup`, then `runs` timed rounds,
/// interleaved; then checks every runner's stdout against native's.
pub fn measure_program(
    built: &Built,
    runs: usize,
    warmup: bool,
    meter: &Meter,
    limit: Duration,
) -> Measured {
    let mut series: Vec<Series> = Runner::ALL
        .iter()
        .map(|&runner| {
            let problem = match built.artifacts.iter().find(|(r, _)| *r == runner) {
                None => Some(Problem::NotRun),
                Some((_, Err(why))) => Some(Problem::Build(why.clone())),
                Some((_, Ok(_))) => None,
            };
            Series::new(runner, problem)
        })
        .collect();
    let rounds = runs + usize::from(warmup);
    for round in 0..rounds {
        let timed = !warmup || round > 0;
        for k in 0..series.len() {
            let s = &mut series[(k + round) % Runner::ALL.len()];
            if !s.runnable() {
                continue;
            }
            let Ok(artifact) = built.artifact(s.runner) else {
                continue;
            };
            s.run(&artifact.cmd, meter, limit, timed);
        }
    }

    let reference = series[0].stdout.clone();
    for s in &mut series {
        if s.problem.is_some() {
            continue;
        }
        if s.unstable {
            s.problem = Some(Problem::Mismatch("stdout differs between runs".into()));
        } else if s.runner != Runner::Native
            && let (Some(expected), Some(got)) = (&reference, &s.stdout)
            && expected != got
        {
            s.problem = Some(Problem::Mismatch(first_difference(expected, got)));
        }
    }
    Measured {
        name: built.program.name.clone(),
        lang: built.program.lang,
        simd: built.program.simd,
        series,
    }
}

/// Where `got` first departs from `expected`, as one line.
fn first_difference(expected: &[u8], got: &[u8]) -> String {
    let expected = String::from_utf8_lossy(expected);
    let got = String::from_utf8_lossy(got);
    let mut left = expected.lines();
    let mut right = got.lines();
    for line in 1.. {
        match (left.next(), right.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => return "stdout differs in line endings or trailing bytes".into(),
            (a, b) => {
                return format!(
                    "stdout line {line}: native `{}`, this runner `{}`",
                    a.unwrap_or("<end of output>"),
                    b.unwrap_or("<end of output>")
                );
            }
        }
    }
    unreachable!("the loop returns at the first difference")
}

/// A module to compile: extra flags for each compiler, and whether to keep the outputs.
#[derive(Clone, Debug)]
pub struct Module {
    pub name: String,
    pub wasm: PathBuf,
    /// Flags for `wafer build` besides the input and `-o`.
    pub wafer_flags: Vec<OsString>,
    /// Flags for `wasmtime compile` besides the input and `-o`.
    pub wasmtime_flags: Vec<OsString>,
    /// Leave the image and the `.cwasm` in this folder (`STEM.wafer`, `STEM.cwasm`, after
    /// the `.wasm`'s stem) to be run afterwards, instead of deleting them.
    pub keep_in: Option<PathBuf>,
}

impl Module {
    /// A module compiled with no extra flags, its outputs deleted.
    pub fn plain(name: &str, wasm: &Path) -> Module {
        Module {
            name: name.to_string(),
            wasm: wasm.to_path_buf(),
            wafer_flags: Vec::new(),
            wasmtime_flags: Vec::new(),
            keep_in: None,
        }
    }
}

/// Compile time of one module by `wafer build` and by `wasmtime compile`.
#[derive(Debug)]
pub struct Compiled {
    pub name: String,
    pub wasm_bytes: usize,
    pub code_bytes: usize,
    pub wafer_flags: Vec<OsString>,
    pub wasmtime_flags: Vec<OsString>,
    pub wafer: Series,
    pub wasmtime: Series,
    /// The image and the `.cwasm` of the last round, when the module asked to keep them
    /// and every round of that compiler succeeded.
    pub image: Option<PathBuf>,
    pub cwasm: Option<PathBuf>,
}

/// Measures compiling `module` with both compilers, interleaved, with `runs` timed rounds
/// after an optional warm-up.
pub fn measure_compile(
    module: &Module,
    tools: &Tools,
    runs: usize,
    warmup: bool,
    meter: &Meter,
    limit: Duration,
) -> Compiled {
    let bytes = std::fs::read(&module.wasm).unwrap_or_default();
    let (wasm_bytes, code_bytes) = crate::runners::wasm_sizes(&bytes).unwrap_or((bytes.len(), 0));
    drop(bytes);
    let (image, cwasm) = match &module.keep_in {
        Some(dir) => {
            let stem = module.wasm.file_stem().unwrap_or("module".as_ref());
            (
                dir.join(stem).with_extension("wafer"),
                dir.join(stem).with_extension("cwasm"),
            )
        }
        None => (
            meter.scratch().join("compiled.wafer"),
            meter.scratch().join("compiled.cwasm"),
        ),
    };
    let mut wafer = vec![tools.wafer.clone().into_os_string(), "build".into()];
    wafer.extend(crate::runners::WAFER_CPU_FLAGS.map(OsString::from));
    wafer.push(module.wasm.clone().into_os_string());
    wafer.extend(module.wafer_flags.iter().cloned());
    wafer.extend(["-o".into(), image.clone().into_os_string()]);
    let mut wasmtime = vec![
        tools.wasmtime.clone().into_os_string(),
        "compile".into(),
        module.wasm.clone().into_os_string(),
    ];
    wasmtime.extend(module.wasmtime_flags.iter().cloned());
    wasmtime.extend(["-o".into(), cwasm.clone().into_os_string()]);
    let commands = [Cmd(wafer), Cmd(wasmtime)];

    let mut series = [
        Series::new(Runner::Wafer, None),
        Series::new(Runner::Wasmtime, None),
    ];
    let rounds = runs + usize::from(warmup);
    for round in 0..rounds {
        let timed = !warmup || round > 0;
        for k in 0..2 {
            let i = (k + round) % 2;
            if series[i].runnable() {
                series[i].run(&commands[i], meter, limit, timed);
            }
        }
    }
    let [wafer, wasmtime] = series;
    let keep = |series: &Series, file: PathBuf| {
        let kept = module.keep_in.is_some() && series.problem.is_none() && file.is_file();
        if !kept {
            let _ = std::fs::remove_file(&file);
        }
        kept.then_some(file)
    };
    Compiled {
        name: module.name.clone(),
        wasm_bytes,
        code_bytes,
        wafer_flags: module.wafer_flags.clone(),
        wasmtime_flags: module.wasmtime_flags.clone(),
        image: keep(&wafer, image),
        cwasm: keep(&wasmtime, cwasm),
        wafer,
        wasmtime,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences() {
        assert_eq!(
            first_difference(b"a\nb\n", b"a\nc\n"),
            "stdout line 2: native `b`, this runner `c`"
        );
        assert_eq!(
            first_difference(b"a\n", b"a\nmore\n"),
            "stdout line 2: native `<end of output>`, this runner `more`"
        );
    }
}
