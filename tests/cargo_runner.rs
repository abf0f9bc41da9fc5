//! `wafer run` as cargo's runner for `wasm32-wasip1`, on the test suites of popular
//! pure-Rust crates of different kinds, fetched from crates.io at test time (never
//! committed): each suite's pass, fail and ignore counts must equal those under wasmtime,
//! and a rerun must hit wafer's image cache. Writes the counts and the `cargo test` times
//! under both runners to `target/cargo-runner/RESULTS.md`.
//!
//! Slow (it compiles five test suites), so `cargo test` skips it and `tests/run-all.sh`
//! runs it; it needs `wasmtime` on `PATH` and the `wasm32-wasip1` Rust target.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{run_command, wafer};

/// Crates whose test suites run: (name, version, kind).
const CRATES: &[(&str, &str, &str)] = &[
    ("semver", "1.0.28", "parsing"),
    ("indexmap", "2.14.2", "hashing and collections"),
    ("ryu", "1.0.23", "formatting numbers"),
    ("hex", "0.4.3", "encoding"),
    (
        "regex-syntax",
        "0.8.10",
        "regular expressions (the parser of `regex`)",
    ),
];

/// Summed `test result:` lines of one `cargo test`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    passed: u32,
    failed: u32,
    ignored: u32,
    suites: u32,
}

fn counts(output: &str) -> Counts {
    let mut total = Counts::default();
    for line in output.lines() {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            continue;
        };
        total.suites += 1;
        let words: Vec<&str> = rest
            .split(|c: char| c.is_whitespace() || c == ';')
            .collect();
        for pair in words.windows(2) {
            let Ok(value) = pair[0].parse::<u32>() else {
                continue;
            };
            match pair[1] {
                "passed" => total.passed += value,
                "failed" => total.failed += value,
                "ignored" => total.ignored += value,
                _ => {}
            }
        }
    }
    total
}

/// The crates' sources, from cargo's registry after a `cargo fetch` of them all.
fn fetch_sources(work: &Path) -> Vec<PathBuf> {
    let fetcher = work.join("fetch");
    std::fs::create_dir_all(fetcher.join("src")).unwrap();
    let mut manifest = String::from(
        "[package]\nname = \"fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n\n[dependencies]\n",
    );
    for (name, version, _) in CRATES {
        manifest.push_str(&format!("{name} = \"={version}\"\n"));
    }
    std::fs::write(fetcher.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(fetcher.join("src/main.rs"), "fn main() {}\n").unwrap();
    let fetched = run_command(
        Command::new("cargo")
            .args(["fetch", "--quiet"])
            .current_dir(&fetcher),
    );
    assert_eq!(fetched.code, 0, "cargo fetch: {fetched:?}");
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let registries: Vec<PathBuf> = std::fs::read_dir(cargo_home.join("registry/src"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    CRATES
        .iter()
        .map(|(name, version, _)| {
            registries
                .iter()
                .map(|registry| registry.join(format!("{name}-{version}")))
                .find(|dir| dir.join("Cargo.toml").is_file())
                .unwrap_or_else(|| panic!("{name} {version} not in cargo's registry"))
        })
        .collect()
}

/// `cargo test --no-fail-fast --target wasm32-wasip1 --lib --tests` in `dir` with `runner` (without one,
/// only compiles); returns its output, wall time in seconds and exit status.
fn cargo_test(dir: &Path, build: &Path, runner: Option<&str>, cache: &Path) -> (String, f64, i32) {
    let mut command = Command::new("cargo");
    command
        .args([
            "test",
            "--quiet",
            "--target",
            "wasm32-wasip1",
            "--lib",
            "--tests",
        ])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", build)
        .env("WAFER_CACHE_DIR", cache);
    match runner {
        Some(runner) => command.env("CARGO_TARGET_WASM32_WASIP1_RUNNER", runner),
        None => command.arg("--no-run"),
    };
    let started = Instant::now();
    let outcome = run_command(&mut command);
    let took = started.elapsed().as_secs_f64();
    (
        format!("{}{}", outcome.stdout, outcome.stderr),
        took,
        outcome.code,
    )
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| entries.count())
}

#[test]
#[ignore = "compiles five crates' test suites (minutes); tests/run-all.sh runs it"]
fn popular_crates_pass_as_under_wasmtime() {
    let work = common::repo().join("target").join("cargo-runner");
    std::fs::create_dir_all(&work).unwrap();
    let sources = fetch_sources(&work);
    let build = work.join("build");
    let wafer_runner = format!("{} run --dir .", wafer().display());
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    let (mut total_wasmtime, mut total_cold, mut total_warm) = (0.0, 0.0, 0.0);
    for ((name, version, kind), source) in CRATES.iter().zip(&sources) {
        let dir = work.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        common::copy_tree(source, &dir);
        // Its own workspace, not wafer's (the copy lives under wafer's target/).
        let manifest = dir.join("Cargo.toml");
        let mut text = std::fs::read_to_string(&manifest).unwrap();
        if !text.contains("\n[workspace]") {
            text.push_str("\n[workspace]\n");
            std::fs::write(&manifest, text).unwrap();
        }
        let cache = work.join(format!("{name}-cache"));
        let _ = std::fs::remove_dir_all(&cache);
        // Compile first, so the times below are the runners' alone.
        let (compiled, _, status) = cargo_test(&dir, &build, None, &cache);
        assert_eq!(status, 0, "{name}: compiling its tests failed:\n{compiled}");
        let (reference, wasmtime_time, _) =
            cargo_test(&dir, &build, Some("wasmtime run --dir ."), &cache);
        let (cold, cold_time, _) = cargo_test(&dir, &build, Some(&wafer_runner), &cache);
        let cached = entries(&cache);
        let (warm, warm_time, _) = cargo_test(&dir, &build, Some(&wafer_runner), &cache);
        let (expected, got, again) = (counts(&reference), counts(&cold), counts(&warm));
        if expected.suites == 0 || expected.passed == 0 {
            failures.push(format!("{name}: no tests ran under wasmtime:\n{reference}"));
        }
        if got != expected || again != expected {
            failures.push(format!(
                "{name}: wasmtime {expected:?}, wafer {got:?}, wafer again {again:?}\n{cold}"
            ));
        }
        if entries(&cache) != cached {
            failures.push(format!(
                "{name}: the rerun did not reuse wafer's cached images"
            ));
        }
        total_wasmtime += wasmtime_time;
        total_cold += cold_time;
        total_warm += warm_time;
        rows.push(format!(
            "| {name} {version} | {kind} | {} | {} / {} / {} | {} / {} / {} | {wasmtime_time:.2} | {cold_time:.2} | {warm_time:.2} |",
            got.suites, got.passed, got.failed, got.ignored, expected.passed, expected.failed,
            expected.ignored
        ));
    }
    let report = format!(
        "# wafer as cargo's runner\n\n\
         `cargo test --release -p wafer --test cargo_runner -- --ignored`: each crate's \
         `cargo test --no-fail-fast --target wasm32-wasip1 --lib --tests`, compiled once beforehand, run \
         with `wasmtime run --dir .` and with `wafer run --dir .` as the runner, then with \
         wafer again (its image cache warm). Times are the whole `cargo test`, in seconds.\n\n\
         | crate | kind | suites | wafer passed / failed / ignored | wasmtime passed / failed / ignored | wasmtime (s) | wafer, cold cache (s) | wafer, warm cache (s) |\n\
         |:---|:---|---:|---:|---:|---:|---:|---:|\n{}\n\
         | total | | | | | {total_wasmtime:.2} | {total_cold:.2} | {total_warm:.2} |\n",
        rows.join("\n")
    );
    std::fs::write(work.join("RESULTS.md"), &report).unwrap();
    eprintln!("{report}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn counts_sum_every_test_result_line() {
    let output = "test result: ok. 11 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.01s\n\
                  noise\n\
                  test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1s\n";
    assert_eq!(
        counts(output),
        Counts {
            passed: 14,
            failed: 1,
            ignored: 2,
            suites: 2
        }
    );
}
