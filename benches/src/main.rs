//! `wafer-bench`: the wafer benchmark suite.
//!
//! `cargo run --release -p wafer-bench` builds every program in `benches/programs/`
//! natively and to wasm, runs each with wafer, natively, with wasmtime (a precompiled
//! `.cwasm`) and through wasm2c, and writes `benches/RESULTS.md` (also printed): speed and
//! ratios to native, peak memory, startup, binary size, and compile time of `wafer build`
//! against `wasmtime compile`, including on CPython, and CPython (compiled by each) running
//! `benches/python/workload.py` against the host's python3. See `benches/README.md`.
//!
//! Modules: [`tools`] finds and fetches what is needed, [`runners`] builds the programs,
//! [`measure`] runs one child, [`bench`](mod@bench) holds the interleaved measurement
//! loops, [`report`] writes the markdown.

mod bench;
mod boards;
mod checks;
mod http;
mod measure;
mod report;
mod runners;
mod tools;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use measure::Cmd;
use report::{Report, Table, bytes};
use runners::{Artifact, Built, Lang, Program, Runner};
use tools::Tools;

/// The limit for one program run, and for one compilation.
const RUN_LIMIT: Duration = Duration::from_secs(300);
const COMPILE_LIMIT: Duration = Duration::from_secs(1800);
/// The CPython workload, relative to the repository.
const PYTHON_SCRIPT: &str = "benches/python/workload.py";
/// Compile runs of CPython (each `wasmtime compile` of it takes minutes of CPU).
const PYTHON_COMPILE_RUNS: usize = 3;

const USAGE: &str = "\
usage: cargo run --release -p wafer-bench -- [--runs N] [--only NAME]... [--quick]
                                              [--checks LIST] [--metering] [--boards]
                                              [--http]

  --runs N      timed runs per program and runner (default 5; startup uses 40 x N)
  --only NAME   only items whose name contains NAME (repeatable, or comma-separated):
                programs are c/NAME and rust/NAME, `hello` is the startup and size
                probe, `python` the CPython compile and workload
  --quick       a smoke run: one run each, 20 startup runs, no warm-up, and no
                CPython unless --only selects it
  --checks LIST instead of the suite, the cost of `wafer build --checks LIST`
                (bounds, stack, bounds,stack): each program built by wafer with and
                without them, run interleaved; writes target/bench/CHECKS.md
  --metering    instead of the suite, the cost of `--fuel` and `--deadline` (and both)
                with budgets no program reaches, run interleaved with the unmetered
                build; writes target/bench/METERING.md
  --boards      instead of the suite, every board's figures: hello's size and RAM
                against the goals, and a compute kernel booted on the board against
                qemu-user; writes target/bench/BOARDS.md
  --http        instead of the suite, the WASI 0.3 HTTP service under wafer and under
                `wasmtime serve`: start-up, requests per second and latency on
                loopback; writes target/bench/HTTP.md

A full run (no --only, no --quick) writes benches/RESULTS.md; others write
target/bench/RESULTS.md.";

/// Command-line options.
#[derive(Debug)]
struct Options {
    runs: usize,
    only: Vec<String>,
    quick: bool,
    /// `--checks LIST` or `--metering`: measure what build options cost instead of
    /// running the suite.
    study: Option<checks::Study>,
    /// `--boards`: the firmware figures instead of the suite.
    boards: bool,
    /// `--http`: the HTTP service's figures instead of the suite.
    http: bool,
}

impl Options {
    fn parse() -> Result<Options, String> {
        let mut options = Options {
            runs: 0,
            only: Vec::new(),
            quick: false,
            study: None,
            boards: false,
            http: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--runs" => {
                    let value = args.next().ok_or("--runs needs a number")?;
                    options.runs = value
                        .parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or(format!("--runs: `{value}` is not a positive number"))?;
                }
                "--only" => {
                    let value = args.next().ok_or("--only needs a name")?;
                    options
                        .only
                        .extend(value.split(',').filter(|s| !s.is_empty()).map(String::from));
                }
                "--quick" => options.quick = true,
                "--boards" => options.boards = true,
                "--http" => options.http = true,
                "--checks" => {
                    let list = args.next().ok_or("--checks needs a list")?;
                    options.study = Some(checks::Study::checks(&list));
                }
                "--metering" => options.study = Some(checks::Study::metering()),
                "-h" | "--help" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
            }
        }
        if options.runs == 0 {
            options.runs = if options.quick { 1 } else { 5 };
        }
        Ok(options)
    }

    /// Whether the item called `name` is selected.
    fn selects(&self, name: &str) -> bool {
        self.only.is_empty()
            || self
                .only
                .iter()
                .any(|pattern| name.contains(pattern.as_str()))
    }

    fn is_full(&self) -> bool {
        self.only.is_empty() && !self.quick && self.study.is_none() && !self.boards && !self.http
    }

    /// Whether to compile CPython and run the CPython workload: when `python` is
    /// selected, except in a `--quick` run that does not ask for it with `--only`.
    fn wants_python(&self) -> bool {
        self.selects("python") && (!self.quick || !self.only.is_empty())
    }
}

fn main() -> ExitCode {
    let options = match Options::parse() {
        Ok(options) => options,
        Err(why) => {
            eprintln!("wafer-bench: {why}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(why) => {
            eprintln!("wafer-bench: error: {why}");
            ExitCode::from(2)
        }
    }
}

/// The whole suite; `Ok(false)` when a program failed or printed the wrong output.
fn run(options: &Options) -> Result<bool, String> {
    let started = Instant::now();
    let load_at_start = tools::load_average();
    let benches = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = benches.parent().ok_or("benches/ has no parent")?;
    let work = root.join("target").join("bench");
    let tools_dir = root.join("target").join("bench-tools");
    let scratch = work.join("scratch");
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;

    if options.http {
        return http::run(root, &work);
    }
    if options.boards {
        let meter =
            measure::Meter::new(&benches.join("measure").join("measure.c"), &work, &scratch)?;
        return boards::run(root, &work, &meter, options.runs);
    }
    if let Some(study) = &options.study {
        let meter =
            measure::Meter::new(&benches.join("measure").join("measure.c"), &work, &scratch)?;
        let programs: Vec<Program> = runners::discover(&benches.join("programs"))?
            .into_iter()
            .filter(|p| options.selects(&p.name))
            .collect();
        let warmup = !options.quick;
        return checks::run(study, &programs, root, &work, &meter, options.runs, warmup);
    }
    let tools = Tools::discover(root, &tools_dir, &work)?;
    let meter = measure::Meter::new(&benches.join("measure").join("measure.c"), &work, &scratch)?;
    let mut notes = tools.notes.clone();
    for note in &notes {
        eprintln!("wafer-bench: note: {note}");
    }

    let programs: Vec<Program> = runners::discover(&benches.join("programs"))?
        .into_iter()
        .filter(|p| options.selects(&p.name))
        .collect();
    let shim = benches.join("wasm2c").join("main.c");
    let built = runners::build_all(&programs, &tools, &work, &shim)?;
    for b in &built {
        notes.extend(b.notes.iter().cloned());
    }
    let labels: Vec<String> = Runner::ALL.iter().map(|r| r.label(&tools)).collect();

    // Speed: every program but the hello probes.
    let warmup = !options.quick;
    let mut speed = Vec::new();
    for b in built.iter().filter(|b| !b.program.is_hello()) {
        eprint!("wafer-bench: running {} ...", b.program.name);
        let measured = bench::measure_program(b, options.runs, warmup, &meter, RUN_LIMIT);
        eprintln!(" {}", summary(&measured, &labels));
        speed.push(measured);
    }

    // Startup: the C hello, many runs.
    let startup_runs = if options.quick { 20 } else { 40 * options.runs };
    let hello_c = built.iter().find(|b| b.program.name == "c/hello");
    let startup = hello_c.map(|b| {
        eprintln!(
            "wafer-bench: startup, {startup_runs} runs of {}",
            b.program.name
        );
        bench::measure_program(b, startup_runs, warmup, &meter, RUN_LIMIT)
    });

    // Binary size: both hello programs.
    let hellos: Vec<&Built> = built.iter().filter(|b| b.program.is_hello()).collect();
    let sizes =
        (!hellos.is_empty()).then(|| size_table(&hellos, &labels, &tools.wasmtime, &scratch));

    // Compile time: each program's module, then CPython, whose image and .cwasm are kept
    // for the CPython workload.
    let mut compile = Vec::new();
    for b in built
        .iter()
        .filter(|b| !b.program.is_hello() && !b.program.simd)
    {
        if let Ok(wasm) = &b.wasm {
            eprintln!("wafer-bench: compiling {}", b.program.name);
            let module = bench::Module::plain(&b.program.name, wasm);
            let c = bench::measure_compile(
                &module,
                &tools,
                options.runs,
                warmup,
                &meter,
                COMPILE_LIMIT,
            );
            compile.push((c, options.runs));
        }
    }
    let mut versions = tools.versions.clone();
    let mut python = None;
    if options.wants_python() {
        match tools::fetch_python(&tools_dir) {
            Ok(py) => {
                versions.push(("CPython for wasip1".into(), py.version.clone()));
                let runs = PYTHON_COMPILE_RUNS.min(options.runs);
                eprintln!(
                    "wafer-bench: compiling CPython ({runs} run{}; wasmtime takes minutes)",
                    if runs == 1 { "" } else { "s" }
                );
                let module = bench::Module {
                    name: "CPython (python.wasm)".into(),
                    wasm: py.wasm.clone(),
                    wafer_flags: python_wafer_flags(&py.lib),
                    wasmtime_flags: Vec::new(),
                    keep_in: Some(work.join("python")),
                };
                if let Some(dir) = &module.keep_in {
                    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                }
                let c = bench::measure_compile(&module, &tools, runs, false, &meter, COMPILE_LIMIT);
                let host = tools::host_python();
                if let Ok((path, version)) = &host {
                    versions.push((
                        "python3 (host)".into(),
                        format!("{version} ({})", path.display()),
                    ));
                }
                let script = root.join(PYTHON_SCRIPT);
                let built = python_workload(&script, host.map(|(path, _)| path), &c, &py, &tools)?;
                eprint!("wafer-bench: running {} on CPython ...", built.program.name);
                let measured =
                    bench::measure_program(&built, options.runs, warmup, &meter, RUN_LIMIT);
                let mut python_labels = labels.clone();
                python_labels[0] = "python3 (host)".into();
                eprintln!(" {}", summary(&measured, &python_labels));
                python = Some(report::PythonRun {
                    commands: built
                        .artifacts
                        .iter()
                        .filter_map(|(runner, a)| {
                            let a = a.as_ref().ok()?;
                            Some((*runner, show_command(&a.cmd, &script)))
                        })
                        .collect(),
                    measured,
                    runs: options.runs,
                    warmup,
                    script: PYTHON_SCRIPT.into(),
                });
                compile.push((c, runs));
            }
            Err(why) => notes.push(format!("CPython compile and workload skipped: {why}")),
        }
    } else if options.quick && options.selects("python") {
        notes.push("CPython compile and workload skipped (--quick without --only python)".into());
    }

    let mut command = "cargo run --release -p wafer-bench".to_string();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        command = format!("{command} -- {}", args.join(" "));
    }
    let mut machine = tools::machine();
    machine.push((
        "load average (1/5/15 min)".into(),
        format!(
            "{load_at_start} at the start, {} at the end",
            tools::load_average()
        ),
    ));
    let report = Report {
        date: tools::now_utc(),
        command,
        elapsed_secs: started.elapsed().as_secs_f64(),
        machine,
        versions,
        labels,
        runs: options.runs,
        startup_runs,
        notes,
        speed,
        startup,
        sizes,
        compile,
        python,
        cores: tools::cores(),
    };
    let text = report.render();
    let out: PathBuf = if options.is_full() {
        benches.join("RESULTS.md")
    } else {
        work.join("RESULTS.md")
    };
    std::fs::write(&out, &text).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("{text}");
    let problems = report.problems();
    if !problems.is_empty() {
        eprintln!("wafer-bench: {} PROBLEMS:", problems.len());
        for problem in &problems {
            eprintln!("  {problem}");
        }
    }
    eprintln!(
        "wafer-bench: wrote {} ({:.1} min)",
        out.display(),
        started.elapsed().as_secs_f64() / 60.0
    );
    Ok(!report.has_run_failures())
}

/// One line of progress: each runner's median, or PROBLEM.
fn summary(measured: &bench::Measured, labels: &[String]) -> String {
    measured
        .series
        .iter()
        .zip(labels)
        .filter(|(s, _)| !matches!(s.problem, Some(bench::Problem::NotRun)))
        .map(|(s, label)| match (&s.problem, s.wall()) {
            (None, Some(w)) => format!("{label} {} ms", report::ms(w)),
            _ => format!("{label} PROBLEM"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `wafer build` flags for CPython: calling `host.call` (imported, provided by nothing)
/// traps; the image runs `_initialize` then `run` (CPython's `main`, reading the
/// arguments); the standard library in `lib` is the guest's `/usr/local/lib`, read-only.
fn python_wafer_flags(lib: &Path) -> Vec<OsString> {
    let mut grant = lib.as_os_str().to_os_string();
    grant.push("::/usr/local/lib:ro");
    vec![
        "--trap-unknown-imports".into(),
        "--invoke".into(),
        "run".into(),
        "--dir".into(),
        grant,
    ]
}

/// `wasmtime run` flags for CPython, the same as [`python_wafer_flags`] (wasmtime's
/// `--dir` has no read-only form).
fn python_wasmtime_run_flags(lib: &Path) -> Vec<OsString> {
    let mut grant = lib.as_os_str().to_os_string();
    grant.push("::/usr/local/lib");
    vec![
        "-Wunknown-imports-trap=y".into(),
        "--invoke".into(),
        "run".into(),
        "--dir".into(),
        grant,
    ]
}

/// The CPython workload as a program for [`bench::measure_program`]: the host's python3
/// in the native slot, the kept CPython image under wafer, the kept `.cwasm` under
/// wasmtime; no wasm2c. Each gets the script's text with `-c` (the guest sees only the
/// standard library's folder).
fn python_workload(
    script: &Path,
    host: Result<PathBuf, String>,
    compiled: &bench::Compiled,
    py: &tools::Python,
    tools: &Tools,
) -> Result<Built, String> {
    let source =
        std::fs::read_to_string(script).map_err(|e| format!("{}: {e}", script.display()))?;
    let with_source = |mut args: Vec<OsString>| {
        args.extend(["-c".into(), OsString::from(&source)]);
        Cmd(args)
    };
    let native = host.map(|python| Artifact {
        cmd: with_source(vec![python.clone().into_os_string()]),
        file: python,
    });
    let wafer = compiled
        .image
        .clone()
        .ok_or_else(|| {
            "no image: `wafer build` of python.wasm failed (see Compile time)".to_string()
        })
        .map(|image| Artifact {
            cmd: with_source(vec![image.clone().into_os_string()]),
            file: image,
        });
    let wasmtime = compiled
        .cwasm
        .clone()
        .ok_or_else(|| {
            "no .cwasm: `wasmtime compile` of python.wasm failed (see Compile time)".to_string()
        })
        .map(|cwasm| {
            let mut args = vec![
                tools.wasmtime.clone().into_os_string(),
                "run".into(),
                "--allow-precompiled".into(),
            ];
            args.extend(python_wasmtime_run_flags(&py.lib));
            args.push(cwasm.clone().into_os_string());
            Artifact {
                cmd: with_source(args),
                file: cwasm,
            }
        });
    Ok(Built {
        program: Program {
            name: "python/workload".into(),
            lang: Lang::Python,
            source: script.to_path_buf(),
            simd: false,
        },
        wasm: Ok(py.wasm.clone()),
        notes: Vec::new(),
        artifacts: vec![
            (Runner::Native, native),
            (Runner::Wafer, wafer),
            (Runner::Wasmtime, wasmtime),
        ],
    })
}

/// A command line for the report, the script's text shown as `"$(cat SCRIPT)"`.
fn show_command(cmd: &Cmd, script: &Path) -> String {
    let source = std::fs::read_to_string(script).unwrap_or_default();
    cmd.0
        .iter()
        .map(|arg| {
            if arg.to_str() == Some(source.as_str()) {
                format!("\"$(cat {PYTHON_SCRIPT})\"")
            } else {
                arg.to_string_lossy().into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `path` is an ELF64 file whose header lists no sections (`e_shnum` is 0).
fn has_no_section_headers(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| {
        bytes.starts_with(b"\x7fELF") && bytes.get(0x3c..0x3e) == Some(&[0, 0][..])
    })
}

/// The binary-size table: for each runner, what it needs to run each hello program.
fn size_table(hellos: &[&Built], labels: &[String], wasmtime: &Path, scratch: &Path) -> Table {
    let mut header = vec!["runner".to_string(), "artifact".to_string()];
    for b in hellos {
        let file = match b.program.lang {
            Lang::C => "hello.c",
            Lang::Rust => "hello.rs",
            Lang::Python => "workload.py",
        };
        header.push(file.to_string());
        header.push(format!("{file} stripped"));
    }
    let mut table = Table::new(header);
    let size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).ok();
    let stripped = |path: &Path| {
        let copy = scratch.join("stripped");
        let ok = std::process::Command::new("strip")
            .arg(path)
            .arg("-o")
            .arg(&copy)
            .output()
            .is_ok_and(|o| o.status.success());
        let n = if ok {
            size(&copy)
        } else if has_no_section_headers(path) {
            // Already as stripped as it gets (binutils' strip refuses such files).
            size(path)
        } else {
            None
        };
        let _ = std::fs::remove_file(&copy);
        n
    };
    let show = |n: Option<u64>| n.map_or_else(|| "—".into(), bytes);

    let mut wasm_row = vec!["(the module)".to_string(), "`.wasm`".to_string()];
    for b in hellos {
        wasm_row.push(show(b.wasm.as_ref().ok().and_then(|w| size(w))));
        wasm_row.push("—".into());
    }
    for (&runner, label) in Runner::ALL.iter().zip(labels) {
        let artifact = match runner {
            Runner::Native => "static executable",
            Runner::Wafer => "static executable",
            Runner::Wasmtime => "`.cwasm` (+ the wasmtime binary)",
            Runner::Wasm2c => "static executable",
        };
        let mut row = vec![label.clone(), artifact.to_string()];
        for b in hellos {
            match b.artifact(runner) {
                Ok(a) => {
                    row.push(show(size(&a.file)));
                    // A .cwasm is an ELF file too, but stripping it would break it.
                    row.push(if runner == Runner::Wasmtime {
                        "—".into()
                    } else {
                        show(stripped(&a.file))
                    });
                }
                Err(_) => {
                    row.push("**BUILD FAILED**".into());
                    row.push("—".into());
                }
            }
        }
        table.row(row);
    }
    table.row(wasm_row);
    let mut cli_row = vec![
        "(the wasmtime CLI)".to_string(),
        "`wasmtime` executable".to_string(),
    ];
    for _ in hellos {
        cli_row.push(show(size(wasmtime)));
        cli_row.push("—".into());
    }
    table.row(cli_row);
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(only: &[&str], quick: bool) -> Options {
        Options {
            runs: 1,
            only: only.iter().map(|s| s.to_string()).collect(),
            quick,
            study: None,
            boards: false,
            http: false,
        }
    }

    #[test]
    fn python_selection() {
        assert!(options(&[], false).wants_python());
        assert!(!options(&[], true).wants_python());
        assert!(options(&["python"], true).wants_python());
        assert!(options(&["python"], false).wants_python());
        assert!(!options(&["nbody"], false).wants_python());
    }

    #[test]
    fn python_flags() {
        let lib = Path::new("/x/lib");
        let wafer: Vec<String> = python_wafer_flags(lib)
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            wafer.join(" "),
            "--trap-unknown-imports --invoke run --dir /x/lib::/usr/local/lib:ro"
        );
        let wasmtime: Vec<String> = python_wasmtime_run_flags(lib)
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            wasmtime.join(" "),
            "-Wunknown-imports-trap=y --invoke run --dir /x/lib::/usr/local/lib"
        );
    }
}
