//! Every module in `tests/fuzz/regressions/` (divergences and crashes the fuzzers found,
//! reduced) replayed through the differential target on the host, with and without
//! checks: each must agree with wasmi call for call.

use std::path::Path;

use wafer_fuzz::differential::DiffTarget;

#[test]
fn regressions_agree_with_the_reference() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let target = DiffTarget::host().expect("the host is a wafer target");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fuzz/regressions")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "wat" || e == "wasm"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no regression modules");
    let mut failures = Vec::new();
    for file in &files {
        match wafer_fuzz::runner::replay_differential(file, &target, 1, 200) {
            Ok(run) if run.executions > 0 => {}
            Ok(run) => failures.push(format!(
                "{}: nothing compared ({:?})",
                file.display(),
                run.skipped
            )),
            Err(why) => failures.push(why),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
