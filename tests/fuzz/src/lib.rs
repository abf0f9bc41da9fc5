//! wafer's fuzz targets, shared by two drivers: the stable runner (`src/main.rs`, run by
//! CI with a fixed seed and a time budget) and the cargo-fuzz targets (`cargo-fuzz/`,
//! for a nightly toolchain with libFuzzer's coverage guidance).
//!
//! - [`compile`]: any input through the whole compiler, for every target: no panic, no
//!   hang, bounded memory, errors for invalid input and images for valid input.
//! - [`differential`]: wasm-smith modules run by wafer's images and by wasmi
//!   ([`mod@reference`]), compared call by call.
//! - [`runner`]: the stable runner's loops, budgets, child processes and reports.

#[path = "../../common/harness.rs"]
#[allow(dead_code, reason = "the spec runner uses the rest")]
pub mod harness;

pub mod compile;
pub mod differential;
pub mod reference;
pub mod rng;
pub mod runner;
pub mod smith;
