//! The hostile corpus (issue 17): inputs built to hurt a compiler. Each is built by the
//! `wafer` CLI in a child process whose time and peak resident memory are measured, and
//! must give its expected outcome within the bounds `cases.tsv` states:
//!
//! - `exit N`: an image, which runs natively and exits with status N (so the code is
//!   right as well as built);
//! - `error TEXT`: a one-line error naming the input and containing TEXT.
//!
//! Small inputs are checked in (`tests/hostile/*.wasm`: sections and counts claiming
//! far more than the bytes that follow). Big ones are generated here (`gen:NAME`):
//! deeply nested blocks, huge `br_table`s, 100k functions, the most locals, giant data
//! segments, long names, and modules that validate but stress the register allocator.

#[path = "../common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One line of `cases.tsv`.
#[derive(Debug)]
struct Case {
    name: String,
    expect: Expect,
    seconds: u64,
    mib: u64,
}

#[derive(Debug)]
enum Expect {
    Exit(i32),
    Error(String),
}

fn cases() -> Vec<Case> {
    let path = common::tests_dir().join("hostile/cases.tsv");
    let text = std::fs::read_to_string(&path).expect("tests/hostile/cases.tsv");
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let [name, expect, seconds, mib] = fields[..] else {
                panic!("cases.tsv: four tab-separated fields expected: {line:?}");
            };
            let expect = match expect.split_once(' ') {
                Some(("exit", code)) => Expect::Exit(code.parse().expect("an exit status")),
                Some(("error", text)) => Expect::Error(text.to_string()),
                _ => panic!("cases.tsv: `exit N` or `error TEXT` expected: {expect:?}"),
            };
            Case {
                name: name.to_string(),
                expect,
                seconds: seconds.parse().expect("seconds"),
                mib: mib.parse().expect("MiB"),
            }
        })
        .collect()
}

/// The bytes of a case: a checked-in file, or a generator's output.
fn input_bytes(name: &str) -> Vec<u8> {
    match name.strip_prefix("gen:") {
        Some(generator) => {
            let text = generate(generator);
            wat::parse_str(&text).unwrap_or_else(|e| panic!("{generator}: {e}"))
        }
        None => std::fs::read(common::tests_dir().join("hostile").join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}")),
    }
}

const EXIT: &str = r#"(import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))"#;

/// The text of generated case `name`.
fn generate(name: &str) -> String {
    let mut t = String::new();
    match name {
        // 100,000 nested blocks around the exit.
        "nested_blocks" => {
            const DEPTH: usize = 100_000;
            writeln!(t, "(module {EXIT} (func (export \"_start\")").unwrap();
            t.push_str(&"block\n".repeat(DEPTH));
            t.push_str("i32.const 7 call $exit\n");
            t.push_str(&"end\n".repeat(DEPTH));
            t.push_str("))");
        }
        // 20,000 nested loops and ifs, each with a result, the innermost value flowing
        // out through all of them.
        "nested_loops_ifs" => {
            const DEPTH: usize = 10_000;
            writeln!(t, "(module {EXIT} (func (export \"_start\")").unwrap();
            for _ in 0..DEPTH {
                t.push_str("(loop (result i32) (if (result i32) (i32.const 1) (then\n");
            }
            t.push_str("(i32.const 8)");
            t.push_str(&")(else (i32.const 1))))\n".repeat(DEPTH));
            t.push_str("call $exit))");
        }
        // A br_table of a million targets, over three blocks.
        "br_table_million" => {
            const TARGETS: usize = 1_000_000;
            writeln!(t, "(module {EXIT}").unwrap();
            t.push_str("(func $pick (param i32) (result i32)\n");
            t.push_str("(block (block (block (local.get 0) (br_table");
            for i in 0..TARGETS {
                write!(t, " {}", i % 3).unwrap();
            }
            t.push_str(" 1)) (return (i32.const 10))) (return (i32.const 11))) (i32.const 12))\n");
            // 999,998 % 3 = 2 -> 12; past the end -> the default, 1 -> 11.
            t.push_str("(func (export \"_start\") (call $exit (i32.add (call $pick (i32.const 999998)) (call $pick (i32.const 5000000))))))");
        }
        // 100,000 functions, all in a table, some called directly and some indirectly.
        "functions_100k" => {
            const FUNCTIONS: usize = 100_000;
            writeln!(t, "(module {EXIT} (type $r (func (result i32)))").unwrap();
            for i in 0..FUNCTIONS {
                writeln!(t, "(func $f{i} (type $r) (i32.const {}))", i % 7).unwrap();
            }
            writeln!(t, "(table {FUNCTIONS} funcref) (elem (i32.const 0) func").unwrap();
            for i in 0..FUNCTIONS {
                write!(t, " $f{i}").unwrap();
            }
            t.push_str(")\n");
            // 99,999 % 7 = 4, 12,345 % 7 = 4, 50,000 % 7 = 6.
            t.push_str("(func (export \"_start\") (call $exit (i32.add (i32.add (call $f99999) (call $f12345)) (call_indirect (type $r) (i32.const 50000))))))");
        }
        // The most locals a function may have, the last one used; and one more.
        "locals_max" | "locals_too_many" => {
            let count = if name == "locals_max" { 50_000 } else { 50_001 };
            writeln!(t, "(module {EXIT} (func $f (result i64) (local").unwrap();
            t.push_str(&" i64".repeat(count));
            writeln!(
                t,
                ") (local.set {} (i64.const 5)) (local.get {}))",
                count - 1,
                count - 1
            )
            .unwrap();
            t.push_str("(func (export \"_start\") (call $exit (i32.wrap_i64 (call $f)))))");
        }
        // A 16 MiB data segment, and 100,000 one-byte segments.
        "data_16mib" => {
            const SIZE: usize = 16 << 20;
            write!(t, "(module {EXIT} (memory 256) (data (i32.const 0) \"").unwrap();
            for i in 0..SIZE {
                write!(t, "\\{:02x}", i % 251).unwrap();
            }
            t.push_str("\")\n");
            // (16 MiB - 1) % 251 = 91.
            writeln!(
                t,
                "(func (export \"_start\") (call $exit (i32.load8_u (i32.const {})))))",
                SIZE - 1
            )
            .unwrap();
        }
        "data_segments_100k" => {
            const SEGMENTS: usize = 100_000;
            writeln!(t, "(module {EXIT} (memory 2)").unwrap();
            for i in 0..SEGMENTS {
                writeln!(t, "(data (i32.const {i}) \"\\{:02x}\")", i % 13).unwrap();
            }
            // 99,999 % 13 = 3.
            t.push_str("(func (export \"_start\") (call $exit (i32.load8_u (i32.const 99999)))))");
        }
        // Names of the greatest length wasmparser accepts (100,000 bytes): an export,
        // a function's name, an import trapping when called.
        "long_names" => {
            let long = "n".repeat(100_000);
            writeln!(t, "(module {EXIT}").unwrap();
            writeln!(
                t,
                "(func ${long} (export \"{long}\") (result i32) (i32.const 9))"
            )
            .unwrap();
            writeln!(t, "(func (export \"_start\") (call $exit (call ${long}))))").unwrap();
        }
        "long_name_too_long" => {
            let long = "n".repeat(100_001);
            writeln!(
                t,
                "(module {EXIT} (func (export \"{long}\")) (func (export \"_start\")))"
            )
            .unwrap();
        }
        // Register-allocator stress: 20,000 values live across a call; a function of
        // 1,000 parameters called with 1,000 arguments; 400 accumulators live around a
        // loop that calls out; one basic block of 300,000 instructions.
        "regalloc_live_across_call" => {
            const VALUES: usize = 20_000;
            writeln!(t, "(module {EXIT} (memory 4)").unwrap();
            t.push_str("(func $leaf (result i64) (i64.const 1))\n(func $f (result i64)\n");
            for i in 0..VALUES {
                writeln!(
                    t,
                    "(i64.add (i64.load offset={} (i32.const 0)) (i64.const {i}))",
                    i * 8
                )
                .unwrap();
            }
            t.push_str("(call $leaf)\n");
            t.push_str(&"i64.add\n".repeat(VALUES));
            t.push_str(")\n");
            // Memory is zero: sum of 0..20000 is 199,990,000; plus 1 -> ...001; mod 256 = 241.
            t.push_str("(func (export \"_start\") (call $exit (i32.and (i32.wrap_i64 (call $f)) (i32.const 255)))))");
        }
        "regalloc_params" => {
            const PARAMS: usize = 1000;
            writeln!(t, "(module {EXIT} (func $f (param").unwrap();
            t.push_str(&" i32".repeat(PARAMS));
            t.push_str(") (result i32)\n(local.get 0)\n");
            for i in 1..PARAMS {
                writeln!(t, "(i32.add (local.get {i})) ").unwrap();
            }
            t.push_str(")\n(func (export \"_start\") (call $exit (i32.and (call $f");
            for i in 0..PARAMS {
                write!(t, " (i32.const {i})").unwrap();
            }
            // 0 + 1 + ... + 999 = 499,500; mod 256 = 44.
            t.push_str(") (i32.const 255)))))");
        }
        "regalloc_loop" => {
            const ACCUMULATORS: usize = 400;
            writeln!(t, "(module {EXIT} (func $step (param i64) (result i64) (i64.add (local.get 0) (i64.const 1)))").unwrap();
            t.push_str("(func (export \"_start\") (local $n i32) (local");
            t.push_str(&" i64".repeat(ACCUMULATORS));
            t.push_str(")\n(loop $again\n");
            for a in 1..=ACCUMULATORS {
                let next = a % ACCUMULATORS + 1;
                writeln!(
                    t,
                    "(local.set {a} (i64.add (call $step (local.get {a})) (local.get {next})))"
                )
                .unwrap();
            }
            t.push_str("(local.set $n (i32.add (local.get $n) (i32.const 1)))\n");
            t.push_str("(br_if $again (i32.lt_u (local.get $n) (i32.const 3))))\n");
            t.push_str("(call $exit (i32.and (i32.wrap_i64 (i64.xor (local.get 1) (local.get 400))) (i32.const 255)))))");
        }
        "regalloc_long_block" => {
            const OPS: usize = 100_000;
            writeln!(t, "(module {EXIT} (func (export \"_start\") (local $x i32) (local.set $x (i32.const 1))").unwrap();
            for i in 0..OPS {
                writeln!(t, "(local.set $x (i32.add (i32.mul (local.get $x) (i32.const 3)) (i32.const {})))", i % 5).unwrap();
            }
            t.push_str("(call $exit (i32.and (local.get $x) (i32.const 255)))))");
        }
        other => panic!("no generator {other}"),
    }
    t
}

/// What building one input did.
struct Built {
    code: i32,
    stderr: String,
    elapsed: Duration,
    peak_rss: u64,
}

/// Builds `input` with the `wafer` CLI, killed after `limit`; measures its time and peak
/// resident memory (`wait4`'s resource usage). The peak is an upper bound: Linux counts
/// the peak of the test process, which the child starts as a copy of, in the child's.
fn build(input: &Path, output: &Path, limit: Duration) -> Built {
    let started = Instant::now();
    #[allow(
        clippy::zombie_processes,
        reason = "reaped by wait4 below, which also gives its resource usage"
    )]
    let mut child = Command::new(common::wafer())
        .arg("build")
        .arg(input)
        .arg("-o")
        .arg(output)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wafer");
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let watchdog = std::thread::spawn(move || {
        let step = Duration::from_millis(50);
        while started.elapsed() < limit {
            std::thread::sleep(step);
            // SAFETY: signal 0 only asks whether the process exists.
            if unsafe { libc::kill(pid, 0) } != 0 {
                return;
            }
        }
        // SAFETY: the child is ours; if it has been reaped already the pid may be
        // reused, but only within this test's lifetime and after `limit`.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet waited for; the pointers are to locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4");
    let elapsed = started.elapsed();
    let _ = watchdog.join();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Built {
        code,
        stderr: reader.join().unwrap_or_default(),
        elapsed,
        peak_rss: usage.ru_maxrss as u64 * 1024,
    }
}

#[test]
fn hostile_inputs_get_their_outcome_within_bounds() {
    let dir = common::scratch("hostile");
    let mut failures = Vec::new();
    let mut report = String::new();
    for case in cases() {
        let file = case.name.replace("gen:", "");
        let input = dir.join(if file.ends_with(".wasm") {
            file.clone()
        } else {
            format!("{file}.wasm")
        });
        std::fs::write(&input, input_bytes(&case.name)).unwrap();
        let output = dir.join(format!("{file}.image"));
        let limit = Duration::from_secs(case.seconds);
        let built = build(&input, &output, limit);
        writeln!(
            report,
            "{:<32} {:>6.2} s {:>6} MiB exit {}",
            case.name,
            built.elapsed.as_secs_f64(),
            built.peak_rss >> 20,
            built.code
        )
        .unwrap();
        let mut fail = |why: String| failures.push(format!("{}: {why}", case.name));
        if built.elapsed >= limit {
            fail(format!("no result within {limit:?}"));
            continue;
        }
        if built.peak_rss > case.mib << 20 {
            fail(format!(
                "peak memory {} MiB, over the bound of {} MiB",
                built.peak_rss >> 20,
                case.mib
            ));
        }
        let lines: Vec<&str> = built.stderr.lines().collect();
        match &case.expect {
            Expect::Error(text) => {
                let good = built.code == 1
                    && lines.len() == 1
                    && lines[0].starts_with("wafer: error: ")
                    && lines[0].contains(&*input.file_name().unwrap().to_string_lossy())
                    && lines[0].contains(text.as_str());
                if !good {
                    fail(format!(
                        "expected one error line with {text:?}, got exit {}: {}",
                        built.code,
                        shorten(&built.stderr)
                    ));
                }
            }
            Expect::Exit(status) => {
                if built.code != 0 {
                    fail(format!("the build failed: {}", shorten(&built.stderr)));
                    continue;
                }
                let ran = common::run_image(&output, &[], &[]);
                if ran.code != *status {
                    fail(format!(
                        "the image exited {}, not {status}: {ran:?}",
                        ran.code
                    ));
                }
            }
        }
    }
    println!("{report}");
    assert!(failures.is_empty(), "{}\n{report}", failures.join("\n"));
}

/// A long message, cut for the report.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(300) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}
