//! The compile target under libFuzzer: the input's first byte picks the flavour (raw
//! bytes, a wasm-smith module, a mutated one), the target and the checks; the rest is
//! the input or wasm-smith's entropy. Any broken rule is a crash libFuzzer keeps.
//! Hangs and memory are bounded by libFuzzer's `-timeout` and `-rss_limit_mb`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let case = wafer_fuzz::compile::case_from_bytes(data);
    if let Err(why) = wafer_fuzz::compile::check(&case) {
        panic!("{} for {}: {why}", case.flavour.name(), case.target);
    }
});
