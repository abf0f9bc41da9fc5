//! `--fuel` and `--deadline` from the command line: what they accept, what `inspect`
//! shows, how close the budget is to the instructions run, and that `wafer run` keys its
//! cache on them. The trap cases on every target are programs in `tests/programs/`
//! (`fuel_*.wat`, `deadline_loop.wat`), which also run as firmware on the virt boards.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{run_command, scratch, wafer};

/// `_start` runs a loop of exactly `iterations` iterations of 8 instructions each.
fn counted_loop(iterations: u32) -> String {
    format!(
        r#"(module
  (func (export "_start") (local $i i32)
    (loop $again
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const {iterations}))))))"#
    )
}

fn build_and_run(dir: &std::path::Path, wat: &str, flags: &[&str]) -> common::Outcome {
    let source = dir.join("prog.wat");
    std::fs::write(&source, wat).unwrap();
    let image = dir.join("prog");
    let built = run_command(
        Command::new(wafer())
            .arg("build")
            .arg(&source)
            .arg("-o")
            .arg(&image)
            .args(flags),
    );
    assert_eq!(built.code, 0, "{built:?}");
    run_command(&mut Command::new(&image))
}

#[test]
fn the_budget_is_close_to_the_instructions_run() {
    let dir = scratch("metering-budget");
    // 10,000 iterations of 8 operators (six for the increment and the comparison, then
    // `br_if`... `local.get`), plus a few around: 80,000 and a handful. Within 1%.
    let wat = counted_loop(10_000);
    let enough = build_and_run(&dir, &wat, &["--fuel", "80800"]);
    assert_eq!(enough.code, 0, "{enough:?}");
    let short = build_and_run(&dir, &wat, &["--fuel", "79200"]);
    assert_eq!(short.code, 134, "{short:?}");
    assert!(
        short.stderr.contains("all fuel consumed in _start"),
        "{short:?}"
    );
}

#[test]
fn a_deadline_stops_an_endless_loop_soon_after_it_passes() {
    let dir = scratch("metering-deadline");
    let endless = r#"(module (func (export "_start") (loop $l (br $l))))"#;
    let started = Instant::now();
    let outcome = build_and_run(&dir, endless, &["--deadline", "200ms"]);
    let took = started.elapsed();
    assert_eq!(outcome.code, 134, "{outcome:?}");
    assert!(outcome.stderr.contains("deadline exceeded"), "{outcome:?}");
    assert!(took >= Duration::from_millis(200), "{took:?}");
    // Generous: the machine may be loaded, but an endless loop must not get seconds.
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn bad_values_are_one_line_errors_and_inspect_shows_the_limits() {
    let dir = scratch("metering-cli");
    let source = dir.join("prog.wat");
    std::fs::write(&source, counted_loop(10)).unwrap();
    for (flag, value, needle) in [
        ("--fuel", "0", "is not a fuel amount"),
        ("--fuel", "lots", "is not a fuel amount"),
        ("--deadline", "soon", "is not a duration"),
        ("--deadline", "0s", "is not a duration"),
    ] {
        let outcome = run_command(
            Command::new(wafer())
                .arg("build")
                .arg(&source)
                .args([flag, value])
                .arg("-o")
                .arg(dir.join("never")),
        );
        assert_eq!(outcome.code, 2, "{outcome:?}");
        assert_eq!(outcome.stderr.lines().count(), 1, "{outcome:?}");
        assert!(outcome.stderr.contains(needle), "{outcome:?}");
        assert!(!dir.join("never").exists());
    }
    let image = dir.join("metered");
    let built = run_command(
        Command::new(wafer())
            .arg("build")
            .arg(&source)
            .args(["--fuel", "1_000_000", "--deadline", "1.5s", "-o"])
            .arg(&image),
    );
    assert_eq!(built.code, 0, "{built:?}");
    let shown = run_command(Command::new(wafer()).arg("inspect").arg(&image));
    assert!(
        shown
            .stdout
            .contains("metering:    fuel 1,000,000, deadline 1.5s"),
        "{}",
        shown.stdout
    );
    let plain = dir.join("plain");
    let built = run_command(
        Command::new(wafer())
            .arg("build")
            .arg(&source)
            .arg("-o")
            .arg(&plain),
    );
    assert_eq!(built.code, 0);
    let shown = run_command(Command::new(wafer()).arg("inspect").arg(&plain));
    assert!(
        shown.stdout.contains("metering:    none"),
        "{}",
        shown.stdout
    );
    // An unmetered image carries none of the runtime's metering.
    let symbols = run_command(
        Command::new(wafer())
            .arg("build")
            .arg(&source)
            .args(["--symbols", "-o"])
            .arg(dir.join("plain-symbols")),
    );
    assert_eq!(symbols.code, 0);
    let bytes = std::fs::read(dir.join("plain-symbols")).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains("wafer_rt_meter"),
        "unmetered image has the meter"
    );
}

#[test]
fn run_keys_its_cache_on_the_limits() {
    let dir = scratch("metering-run");
    let source = dir.join("prog.wat");
    std::fs::write(&source, counted_loop(10_000)).unwrap();
    let cache = dir.join("cache");
    let run = |flags: &[&str]| {
        run_command(
            Command::new(wafer())
                .arg("run")
                .args(flags)
                .arg(&source)
                .env("WAFER_CACHE_DIR", &cache),
        )
    };
    assert_eq!(run(&[]).code, 0);
    // Same module, now with a budget too small: a stale cached image would exit 0.
    let short = run(&["--fuel", "1000"]);
    assert_eq!(short.code, 134, "{short:?}");
    assert_eq!(run(&["--fuel", "1000000"]).code, 0);
}
