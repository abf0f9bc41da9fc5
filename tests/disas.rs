//! Golden tests of generated code: each `tests/disas/NAME.wat` is translated to Cranelift
//! IR (as translated, before optimisation) and compared with `NAME.clif`. A change in
//! code generation shows up as a readable diff; `WAFER_BLESS=1` re-blesses. A first line
//! `;; checks: LIST` compiles the file with those checks (`--checks`), whatever
//! `WAFER_CHECKS` says.

mod common;

use common::Failures;
use wafer::checks::Checks;
use wafer::codegen::{CompileConfig, translate_to_clif};

#[test]
fn generated_clif_matches_golden_files() {
    let dir = common::tests_dir().join("disas");
    let target = wafer::target::find("x86_64-linux").expect("x86_64-linux target");
    let base = CompileConfig {
        grants: Vec::new(),
        stack_size: wafer_abi::image::DEFAULT_STACK_SIZE,
        cpu: None,
        trap_unknown_imports: false,
        invoke: None,
        checks: Checks::NONE,
        board: None,
        max_memory: None,
        metering: Default::default(),
        debug_info: false,
    };
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wat"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 8, "golden inputs are missing");
    let mut failures = Failures::default();
    for input in inputs {
        let text = std::fs::read_to_string(&input).expect("golden inputs are readable");
        let wasm = wat::parse_str(&text).expect("golden inputs are valid text");
        let mut config = base.clone();
        if let Some(list) = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix(";; checks:"))
        {
            config.checks = Checks::parse(list).expect("a valid `;; checks:` list");
        }
        // Modules without an entry point are fine here: only function bodies are shown.
        let clif = translate_to_clif(&wasm, &target, &config)
            .unwrap_or_else(|e| panic!("{}: {e}", input.display()));
        failures.check(common::check_golden(&input.with_extension("clif"), &clif));
    }
    failures.finish("golden files");
}
