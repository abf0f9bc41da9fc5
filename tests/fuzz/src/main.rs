//! `wafer-fuzz`: the stable runner of wafer's fuzz targets.
//!
//! ```text
//! wafer-fuzz compile      [--seconds N] [--seed S] [--start I] [--cases N]
//! wafer-fuzz differential [--seconds N] [--seed S] [--start I] [--cases N]
//!                         [--target T] [--calls N]
//! wafer-fuzz replay-differential FILE... [--target T] [--seed S] [--calls N]
//! wafer-fuzz replay-compile FILE...
//! ```
//!
//! The budget and seed default to `WAFER_FUZZ_SECONDS` (60) and `WAFER_FUZZ_SEED` (1).
//! `--target` is a Linux target (foreign ones under qemu-user) or a board (under its
//! qemu-system machine); the default is the host. Failures are saved under
//! `target/fuzz/failures/` and make the exit status 1. See `tests/fuzz/README.md`.

use std::path::PathBuf;
use std::time::Duration;

use wafer_fuzz::differential::DiffTarget;
use wafer_fuzz::runner::{self, Budget};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        usage("no command");
    };
    let options = Options::parse(rest);
    let passed = match command.as_str() {
        "compile" => runner::print_compile(&runner::run_compile(&options.budget())),
        "differential" => {
            let target = options.target();
            let report = runner::run_differential(&options.budget(), &target, options.calls);
            runner::print_differential(&target.target.name, &report)
        }
        "replay-differential" => {
            let target = options.target();
            let mut passed = true;
            for file in &options.files {
                match runner::replay_differential(file, &target, options.seed, options.calls) {
                    Ok(run) => println!(
                        "{}: {} executions ({} traps) agree{}",
                        file.display(),
                        run.executions,
                        run.traps,
                        run.skipped.map_or(String::new(), |why| format!("; {why}"))
                    ),
                    Err(why) => {
                        println!("DIVERGENCE {why}");
                        passed = false;
                    }
                }
            }
            passed
        }
        "replay-compile" => {
            let mut passed = true;
            for file in &options.files {
                let wasm = std::fs::read(file).unwrap_or_else(|e| {
                    usage(&format!("{}: {e}", file.display()));
                });
                for target in [
                    "x86_64-linux",
                    "aarch64-linux",
                    "riscv64-linux",
                    "qemu-virt-aarch64",
                ] {
                    let case = wafer_fuzz::compile::Case {
                        wasm: wasm.clone(),
                        flavour: wafer_fuzz::compile::Flavour::Bytes,
                        target,
                        checks: wafer::checks::Checks::NONE,
                        max_memory: None,
                        cpu: None,
                        fuel: None,
                    };
                    match wafer_fuzz::compile::check(&case) {
                        Ok(verdict) => println!("{} ({target}): {verdict:?}", file.display()),
                        Err(why) => {
                            println!("FAILURE {} ({target}): {why}", file.display());
                            passed = false;
                        }
                    }
                }
            }
            passed
        }
        "dump-differential" => {
            for file in &options.files {
                runner::dump_case(options.seed, options.start, file);
            }
            true
        }
        "worker-compile" => runner::compile_worker(options.seed, options.start),
        other => usage(&format!("unknown command {other}")),
    };
    std::process::exit(if passed { 0 } else { 1 });
}

struct Options {
    seconds: u64,
    seed: u64,
    start: u64,
    cases: u64,
    target: Option<String>,
    calls: u64,
    files: Vec<PathBuf>,
}

impl Options {
    fn parse(args: &[String]) -> Options {
        let env = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .map(|v| v.parse().unwrap_or_else(|_| usage(&format!("{name}={v}"))))
                .unwrap_or(default)
        };
        let mut options = Options {
            seconds: env("WAFER_FUZZ_SECONDS", 60),
            seed: env("WAFER_FUZZ_SEED", 1),
            start: 0,
            cases: u64::MAX,
            target: None,
            calls: 2000,
            files: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| -> String {
                args.next()
                    .cloned()
                    .unwrap_or_else(|| usage(&format!("{name} needs a value")))
            };
            let number = |text: String| -> u64 {
                text.parse()
                    .unwrap_or_else(|_| usage(&format!("not a number: {text}")))
            };
            match arg.as_str() {
                "--seconds" => options.seconds = number(value(arg)),
                "--seed" => options.seed = number(value(arg)),
                "--start" => options.start = number(value(arg)),
                "--cases" => options.cases = number(value(arg)),
                "--calls" => options.calls = number(value(arg)),
                "--target" => options.target = Some(value(arg)),
                flag if flag.starts_with("--") => usage(&format!("unknown option {flag}")),
                file => options.files.push(PathBuf::from(file)),
            }
        }
        options
    }

    fn budget(&self) -> Budget {
        Budget {
            time: Duration::from_secs(self.seconds),
            seed: self.seed,
            start: self.start,
            cases: self.cases,
        }
    }

    fn target(&self) -> DiffTarget {
        let target = match &self.target {
            Some(name) => DiffTarget::named(name),
            None => DiffTarget::host(),
        };
        target.unwrap_or_else(|e| usage(&e))
    }
}

fn usage(why: &str) -> ! {
    eprintln!("wafer-fuzz: {why}");
    eprintln!(
        "usage: wafer-fuzz compile|differential [--seconds N] [--seed S] [--start I] [--cases N] [--target T] [--calls N]"
    );
    eprintln!("       wafer-fuzz replay-differential|replay-compile FILE... [--target T]");
    std::process::exit(2)
}
