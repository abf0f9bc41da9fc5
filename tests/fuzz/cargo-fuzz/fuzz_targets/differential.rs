//! The differential target under libFuzzer: the input is wasm-smith's entropy for one
//! module, which runs on the host in a harness image and in wasmi, calls drawn from a
//! generator seeded by the input. A divergence is a crash libFuzzer keeps.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wafer_fuzz::differential::{self, DiffTarget, RunSettings};

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let Some(module) = wafer_fuzz::smith::differential_module(&mut u) else {
        return;
    };
    let target = DiffTarget::host().expect("the host is a wafer target");
    let mut rng = wafer_fuzz::rng::Rng::from_bytes(data);
    let settings = RunSettings {
        calls: 200,
        checks: match data.first() {
            Some(byte) if byte & 1 == 1 => wafer::checks::Checks::ALL,
            _ => wafer::checks::Checks::NONE,
        },
    };
    let scratch = differential::work_dir().join("scratch");
    let _ = std::fs::create_dir_all(&scratch);
    let run = differential::run_module(&module, &target, settings, &mut rng, &scratch);
    if let Some(divergence) = run.divergence {
        panic!("divergence: {divergence}");
    }
});
