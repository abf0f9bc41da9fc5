//! The results as one set of markdown tables (`benches/RESULTS.md`): machine and tools,
//! problems, speed and ratios to native, peak memory, startup, binary size, compile
//! throughput, and the CPython workload.

use std::fmt::Write;

use crate::bench::{Compiled, Measured, Problem, Series};
use crate::measure::geomean;
use crate::runners::{Lang, Runner};

/// The typical run-to-run spread above which the report calls a run noisy.
const NOISY: f64 = 0.10;

/// A markdown table: a header and rows of cells. Columns of numbers are right-aligned,
/// the first column and columns of text left-aligned.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// Whether column `i` holds numbers: some cell starts with a digit and the others
    /// are empty, "—" or emphasised markers (`**FAILED**`, `**MISMATCH** 12`).
    fn numeric(&self, i: usize) -> bool {
        let cells = || self.rows.iter().filter_map(|row| row.get(i));
        let digit = |c: &String| c.starts_with(|ch: char| ch.is_ascii_digit());
        cells().any(digit)
            && cells().all(|c| c.is_empty() || c == "—" || c.starts_with("**") || digit(c))
    }

    pub fn render(&self) -> String {
        let line = |cells: &[String]| {
            let cells: Vec<String> = cells.iter().map(|c| escape(c)).collect();
            format!("| {} |\n", cells.join(" | "))
        };
        let mut out = line(&self.header);
        let rule: Vec<&str> = (0..self.header.len())
            .map(|i| {
                if i > 0 && self.numeric(i) {
                    "---:"
                } else {
                    ":---"
                }
            })
            .collect();
        out.push_str(&format!("|{}|\n", rule.join("|")));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

/// A cell's text made safe for a table: no newlines, pipes escaped.
fn escape(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

/// Seconds as milliseconds with about three significant digits.
pub fn ms(seconds: f64) -> String {
    let ms = seconds * 1e3;
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.2}")
    }
}

/// Seconds with three decimals.
pub fn secs(seconds: f64) -> String {
    format!("{seconds:.3}")
}

pub fn ratio(value: f64) -> String {
    format!("{value:.2}×")
}

/// KiB as MiB: two decimals below 10 MiB, one above.
pub fn mib(kib: f64) -> String {
    let mib = kib / 1024.0;
    if mib < 10.0 {
        format!("{mib:.2}")
    } else {
        format!("{mib:.1}")
    }
}

/// Bytes with thousands separators.
pub fn bytes(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A series' median in a cell, marked loudly when it is suspect or missing.
fn cell(series: &Series, value: Option<String>) -> String {
    match (&series.problem, value) {
        (Some(Problem::Mismatch(_)), Some(v)) => format!("**MISMATCH** {v}"),
        (Some(Problem::Build(_)), _) => "**BUILD FAILED**".into(),
        (Some(Problem::NotRun), _) => "not run".into(),
        (Some(_), _) | (None, None) => "**FAILED**".into(),
        (None, Some(v)) => v,
    }
}

/// Everything the report shows.
#[derive(Debug)]
pub struct Report {
    pub date: String,
    pub command: String,
    pub elapsed_secs: f64,
    pub machine: Vec<(String, String)>,
    pub versions: Vec<(String, String)>,
    /// The runners' column labels, in `Runner::ALL` order.
    pub labels: Vec<String>,
    pub runs: usize,
    pub startup_runs: usize,
    pub notes: Vec<String>,
    pub speed: Vec<Measured>,
    pub startup: Option<Measured>,
    /// The binary-size table, built by the caller.
    pub sizes: Option<Table>,
    pub compile: Vec<(Compiled, usize)>,
    /// The CPython workload, when CPython was compiled.
    pub python: Option<PythonRun>,
    pub cores: usize,
}

/// The CPython workload's runs: the host's python3 in the native slot, CPython's image
/// under wafer and its `.cwasm` under wasmtime.
#[derive(Debug)]
pub struct PythonRun {
    pub measured: Measured,
    pub runs: usize,
    pub warmup: bool,
    /// The script, relative to the repository.
    pub script: String,
    /// Each runner's command line as shown in the report.
    pub commands: Vec<(Runner, String)>,
}

/// The CPython section's name for a runner: the host interpreter stands in for native.
fn python_label(report: &Report, runner: Runner) -> String {
    match runner {
        Runner::Native => "python3 (host)".into(),
        other => report.label(other).to_string(),
    }
}

impl Report {
    fn label(&self, runner: Runner) -> &str {
        let i = Runner::ALL.iter().position(|&r| r == runner).unwrap_or(0);
        &self.labels[i]
    }

    /// Every problem, as "what — runner: why".
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for m in self.speed.iter().chain(&self.startup) {
            for s in &m.series {
                if let Some(problem) = s.problem.as_ref().filter(|p| p.is_reported()) {
                    out.push(format!("{} — {}: {problem}", m.name, self.label(s.runner)));
                }
            }
        }
        for (c, _) in &self.compile {
            if let Some(problem) = &c.wafer.problem {
                out.push(format!("compile {} — wafer build: {problem}", c.name));
            }
            if let Some(problem) = &c.wasmtime.problem {
                out.push(format!("compile {} — wasmtime compile: {problem}", c.name));
            }
        }
        if let Some(python) = &self.python {
            for s in &python.measured.series {
                if let Some(problem) = s.problem.as_ref().filter(|p| p.is_reported()) {
                    out.push(format!(
                        "CPython {} — {}: {problem}",
                        python.measured.name,
                        python_label(self, s.runner)
                    ));
                }
            }
        }
        out
    }

    /// Whether any program run failed or printed something other than native's output.
    pub fn has_run_failures(&self) -> bool {
        let python = self.python.as_ref().map(|p| &p.measured);
        self.speed
            .iter()
            .chain(&self.startup)
            .chain(python)
            .any(|m| {
                m.series
                    .iter()
                    .any(|s| matches!(s.problem, Some(Problem::Failed(_) | Problem::Mismatch(_))))
            })
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# wafer benchmark results\n");
        let _ = writeln!(
            out,
            "Generated {} by `{}` in {:.1} min. See [README.md](README.md) for the method.\n",
            self.date,
            self.command,
            self.elapsed_secs / 60.0
        );

        let mut machine = Table::new(["machine", ""]);
        for (key, value) in &self.machine {
            machine.row([key.as_str(), value.as_str()]);
        }
        out.push_str(&machine.render());
        out.push('\n');
        let mut tools = Table::new(["tool", "version"]);
        for (key, value) in &self.versions {
            tools.row([key.as_str(), value.as_str()]);
        }
        out.push_str(&tools.render());
        out.push('\n');
        for note in &self.notes {
            let _ = writeln!(out, "- Note: {note}");
        }
        if !self.notes.is_empty() {
            out.push('\n');
        }

        let problems = self.problems();
        if !problems.is_empty() {
            let _ = writeln!(out, "## Problems ({})\n", problems.len());
            for problem in &problems {
                let _ = writeln!(out, "- **{}**", escape(problem));
            }
            out.push('\n');
        }

        self.render_speed(&mut out);
        self.render_memory(&mut out);
        self.render_startup(&mut out);
        if let Some(sizes) = &self.sizes {
            let _ = writeln!(
                out,
                "## Binary size\n\nThe hello programs as each runner needs them, in bytes \
                 (`strip` output alongside; a `.cwasm` also needs the wasmtime binary to run).\n"
            );
            out.push_str(&sizes.render());
            out.push('\n');
        }
        self.render_compile(&mut out);
        self.render_python(&mut out);
        out
    }

    fn render_speed(&self, out: &mut String) {
        if self.speed.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "## Speed\n\nWhole-process wall time in ms, median of {} interleaved runs, and the \
             ratio to native (lower is better).\n",
            self.runs
        );
        let mut header = vec![
            "program".to_string(),
            format!("{} ms", self.label(Runner::Native)),
        ];
        for &runner in &Runner::ALL[1..] {
            header.push(format!("{} ms", self.label(runner)));
            header.push(format!("{} ×native", self.label(runner)));
        }
        header.push("spread".into());
        let mut table = Table::new(header);
        for m in &self.speed {
            let native = m.series(Runner::Native);
            let mut row = vec![m.name.clone(), cell(native, native.wall().map(ms))];
            for &runner in &Runner::ALL[1..] {
                let s = m.series(runner);
                row.push(cell(s, s.wall().map(ms)));
                row.push(match (speed_ratio(m, runner, Series::wall), &s.problem) {
                    (Some(r), None) => ratio(r),
                    (Some(r), Some(Problem::Mismatch(_))) => format!("**MISMATCH** {}", ratio(r)),
                    _ => "—".into(),
                });
            }
            let spread = m.series.iter().filter_map(Series::spread).reduce(f64::max);
            row.push(match spread {
                Some(spread) if self.runs > 1 => format!("{:.0}%", spread * 100.0),
                _ => "—".into(),
            });
            table.row(row);
        }
        let median: fn(&Series) -> Option<f64> = Series::wall;
        let fastest: fn(&Series) -> Option<f64> = Series::fastest;
        for (title, lang, simd, statistic) in [
            ("geomean, C", Some(Lang::C), false, median),
            ("geomean, Rust", Some(Lang::Rust), false, median),
            ("geomean, all", None, false, median),
            ("geomean, all, fastest runs", None, false, fastest),
            ("geomean, SIMD builds", None, true, median),
        ] {
            let programs: Vec<&Measured> = self
                .speed
                .iter()
                .filter(|m| lang.is_none_or(|l| m.lang == l) && m.simd == simd)
                .collect();
            if programs.is_empty() {
                continue;
            }
            let mut row = vec![format!("**{title}**"), String::new()];
            for &runner in &Runner::ALL[1..] {
                let ratios: Vec<f64> = programs
                    .iter()
                    .filter(|m| m.series(runner).problem.is_none())
                    .filter_map(|m| speed_ratio(m, runner, statistic))
                    .collect();
                row.push(String::new());
                row.push(match ratios.len() {
                    0 => "—".into(),
                    n if n == programs.len() => format!("**{}**", ratio(geomean(&ratios))),
                    n => format!(
                        "**{}** ({n} of {})",
                        ratio(geomean(&ratios)),
                        programs.len()
                    ),
                });
            }
            row.push(String::new());
            table.row(row);
        }
        out.push_str(&table.render());
        if self.speed.iter().any(|m| m.simd) {
            let _ = writeln!(
                out,
                "\nRows ending in `{}` are the same programs built to wasm with SIMD enabled \
                 (`clang -msimd128`, `rustc -Ctarget-feature=+simd128`), so LLVM vectorises \
                 where gcc does with SSE2 in the native build. They count only in the SIMD \
                 geomean. wasm2c is not run on them: wabt 1.0.32's wasm2c aborts on SIMD \
                 modules.",
                crate::runners::SIMD_SUFFIX
            );
        }

        let spreads: Vec<(f64, &str, Runner)> = self
            .speed
            .iter()
            .flat_map(|m| {
                m.series
                    .iter()
                    .filter_map(move |s| Some((s.spread()?, m.name.as_str(), s.runner)))
            })
            .collect();
        let worst = spreads.iter().max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(worst) = worst.filter(|_| self.runs > 1) {
            let all: Vec<f64> = spreads.iter().map(|s| s.0).collect();
            let typical = crate::measure::median(&all);
            let _ = writeln!(
                out,
                "\n`spread` is the largest run-to-run spread, (max − min) / median, over the \
                 row's runners. Over all series: {:.1}% in the median one, at most {:.1}% ({}, \
                 {}). The last geomean row compares each runner's fastest run instead of the \
                 median, the estimate least disturbed by other load.",
                typical * 100.0,
                worst.0 * 100.0,
                worst.1,
                self.label(worst.2)
            );
            if typical > NOISY {
                let _ = writeln!(
                    out,
                    "\n**This run was noisy** (typical spread above {:.0}%): other work shared the \
                     machine (see the load average). Interleaving keeps the ratios fair, but \
                     rerun on an idle machine for firm numbers.",
                    NOISY * 100.0
                );
            }
            out.push('\n');
        } else {
            out.push('\n');
        }
    }

    fn render_memory(&self, out: &mut String) {
        if self.speed.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "## Peak memory\n\nPeak resident set size in MiB (`ru_maxrss` of the process from \
             `wait4`, median of the runs; for wasmtime, the whole wasmtime process).\n"
        );
        let mut header = vec!["program".to_string()];
        header.extend(Runner::ALL.iter().map(|&r| self.label(r).to_string()));
        let mut table = Table::new(header);
        for m in self.speed.iter().chain(&self.startup) {
            let mut row = vec![m.name.clone()];
            for &runner in &Runner::ALL {
                let s = m.series(runner);
                row.push(cell(s, s.rss().map(mib)));
            }
            table.row(row);
        }
        out.push_str(&table.render());
        out.push('\n');
    }

    fn render_startup(&self, out: &mut String) {
        let Some(m) = &self.startup else {
            return;
        };
        let _ = writeln!(
            out,
            "## Startup\n\n`{}` (printf of one line): whole-process wall time over {} \
             interleaved runs, as a ratio to the static native build.\n",
            m.name, self.startup_runs
        );
        let mut table = Table::new(["runner", "median ms", "min ms", "×native", "peak RSS MiB"]);
        let native = m.series(Runner::Native).wall();
        for &runner in &Runner::ALL {
            let s = m.series(runner);
            let min = s.fastest();
            table.row([
                self.label(runner).to_string(),
                cell(s, s.wall().map(ms)),
                min.map(ms).unwrap_or_else(|| "—".into()),
                match (s.wall(), native) {
                    (Some(w), Some(n)) => ratio(w / n),
                    _ => "—".into(),
                },
                cell(s, s.rss().map(mib)),
            ]);
        }
        out.push_str(&table.render());
        out.push('\n');
    }

    fn render_compile(&self, out: &mut String) {
        if self.compile.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "## Compile time\n\n`wafer build` against `{} compile` on the same module, both \
             free to use all {} cores; median of the runs shown, throughput in MB (10⁶ bytes) \
             of the whole `.wasm` per second, peak RSS of the compiler process.\n",
            self.label(Runner::Wasmtime),
            self.cores
        );
        let mut table = Table::new([
            "module",
            "runs",
            "wasm MB",
            "code MB",
            "wafer s",
            "wafer MB/s",
            "wafer peak MiB",
            "wasmtime s",
            "wasmtime MB/s",
            "wasmtime peak MiB",
            "wafer / wasmtime",
        ]);
        for (c, runs) in &self.compile {
            let mb = c.wasm_bytes as f64 / 1e6;
            let throughput = |s: &Series| s.wall().map(|w| format!("{:.1}", mb / w));
            table.row([
                c.name.clone(),
                runs.to_string(),
                format!("{mb:.2}"),
                format!("{:.2}", c.code_bytes as f64 / 1e6),
                cell(&c.wafer, c.wafer.wall().map(secs)),
                cell(&c.wafer, throughput(&c.wafer)),
                cell(&c.wafer, c.wafer.rss().map(mib)),
                cell(&c.wasmtime, c.wasmtime.wall().map(secs)),
                cell(&c.wasmtime, throughput(&c.wasmtime)),
                cell(&c.wasmtime, c.wasmtime.rss().map(mib)),
                match (c.wafer.wall(), c.wasmtime.wall()) {
                    (Some(a), Some(b)) => ratio(a / b),
                    _ => "—".into(),
                },
            ]);
        }
        out.push_str(&table.render());
        let _ = writeln!(
            out,
            "\nThe commands are `wafer build --target-cpu native M.wasm -o M.wafer` and `{} \
             compile M.wasm -o M.cwasm`, with these extra flags:\n",
            self.label(Runner::Wasmtime)
        );
        for (c, _) in &self.compile {
            if c.wafer_flags.is_empty() && c.wasmtime_flags.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "- {}: wafer {}; wasmtime {}",
                c.name,
                show_flags(&c.wafer_flags),
                show_flags(&c.wasmtime_flags)
            );
        }
        let plain = self
            .compile
            .iter()
            .filter(|(c, _)| c.wafer_flags.is_empty() && c.wasmtime_flags.is_empty())
            .count();
        if plain > 0 {
            let _ = writeln!(out, "- every other module: none");
        }
        out.push('\n');
    }

    fn render_python(&self, out: &mut String) {
        let Some(python) = &self.python else {
            return;
        };
        let m = &python.measured;
        let version = |tool: &str| {
            self.versions
                .iter()
                .find(|(name, _)| name == tool)
                .map_or("unknown", |(_, v)| v.as_str())
        };
        let _ = writeln!(
            out,
            "## CPython on a script\n\n`{}` (integer arithmetic, string formatting and \
             joining, dict, set and list operations, sorting, json, re), its text passed with \
             `-c`, run by CPython compiled to wasm under wafer and under wasmtime (the image \
             and the `.cwasm` compiled above; {}), and by the host's python3 for reference \
             ({}: a different version and a native build, so only a rough one). \
             Whole-process wall time, median of {} interleaved {}{}; every output is compared \
             with the host python3's. Not part of the speed geomeans. wasm2c is not run on \
             CPython.\n",
            python.script,
            version("CPython for wasip1"),
            version("python3 (host)"),
            python.runs,
            if python.runs == 1 { "run" } else { "runs" },
            if python.warmup {
                " after a warm-up round"
            } else {
                ""
            }
        );
        let mut table = Table::new([
            "runner",
            "median ms",
            "min ms",
            "×wasmtime",
            "×python3",
            "peak RSS MiB",
            "spread",
        ]);
        let reference = |runner: Runner| {
            let s = m.series(runner);
            s.problem.is_none().then(|| s.wall()).flatten()
        };
        for s in m
            .series
            .iter()
            .filter(|s| s.problem.as_ref().is_none_or(|p| p.is_reported()))
        {
            let over = |base: Option<f64>| match (s.wall(), base, &s.problem) {
                (Some(w), Some(b), None) => ratio(w / b),
                (Some(w), Some(b), Some(Problem::Mismatch(_))) => {
                    format!("**MISMATCH** {}", ratio(w / b))
                }
                _ => "—".into(),
            };
            table.row([
                python_label(self, s.runner),
                cell(s, s.wall().map(ms)),
                s.fastest().map(ms).unwrap_or_else(|| "—".into()),
                over(reference(Runner::Wasmtime)),
                over(reference(Runner::Native)),
                cell(s, s.rss().map(mib)),
                match s.spread() {
                    Some(spread) if python.runs > 1 => format!("{:.0}%", spread * 100.0),
                    _ => "—".into(),
                },
            ]);
        }
        out.push_str(&table.render());
        let _ = writeln!(out, "\nThe commands:\n");
        for (runner, command) in &python.commands {
            let _ = writeln!(out, "- {}: `{}`", python_label(self, *runner), command);
        }
        out.push('\n');
    }
}

/// Extra compiler flags as one code span, or "none".
fn show_flags(flags: &[std::ffi::OsString]) -> String {
    if flags.is_empty() {
        return "none".into();
    }
    let line: Vec<String> = flags
        .iter()
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    format!("`{}`", line.join(" "))
}

/// `runner`'s wall time over native's by `statistic` (median or fastest), when both ran.
fn speed_ratio(m: &Measured, runner: Runner, statistic: fn(&Series) -> Option<f64>) -> Option<f64> {
    let native = m.series(Runner::Native);
    if native.problem.is_some() {
        return None;
    }
    Some(statistic(m.series(runner))? / statistic(native)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(ms(0.8123), "812");
        assert_eq!(ms(0.01234), "12.3");
        assert_eq!(ms(0.001234), "1.23");
        assert_eq!(bytes(1_234_567), "1,234,567");
        assert_eq!(bytes(999), "999");
        let mut t = Table::new(["a", "b"]);
        t.row(["x|y", "1"]);
        t.row(["z", "**FAILED**"]);
        assert_eq!(
            t.render(),
            "| a | b |\n|:---|---:|\n| x\\|y | 1 |\n| z | **FAILED** |\n"
        );
        assert_eq!(show_flags(&[]), "none");
        assert_eq!(
            show_flags(&["--invoke".into(), "run".into()]),
            "`--invoke run`"
        );
        let mut text = Table::new(["a", "b"]);
        text.row(["x", "static executable"]);
        assert!(text.render().contains("|:---|:---|"));
    }
}
