//! The compile target: inputs go through wafer's whole pipeline (parse, validate,
//! translate, Cranelift, object, link with the runtime) for a Linux target or a board,
//! with or without compiled-in checks. wafer must never panic (the driver turns a panic
//! into `BuildError::Internal`, which is a failure here), must reject what the validator
//! rejects and build what it accepts, and every error must be one line.
//!
//! Inputs come in three flavours: random bytes (mostly behind a valid header), wasm-smith
//! modules with every proposal wasm-smith knows (those wafer does not implement must be
//! refused as unsupported), and wasm-smith modules with a few bytes mutated, which reach
//! the parser's and validator's error paths deep inside a module.
//!
//! Hangs and memory use are bounded by the runner, which builds in a child process with
//! an address-space limit and a deadline per input (see `runner.rs`).

use arbitrary::Unstructured;
use wafer::checks::Checks;
use wafer::codegen::{ImportSource, InstanceSpec};
use wafer::driver::{BuildError, BuildOptions, Emit};
use wafer::error::CompileError;

use crate::rng::Rng;

/// What kind of input a case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Random bytes.
    Bytes,
    /// A wasm-smith module.
    Smith,
    /// A wasm-smith module with some bytes mutated.
    Mutated,
}

impl Flavour {
    /// Every flavour, in the order statistics are printed.
    pub const ALL: [Flavour; 3] = [Flavour::Bytes, Flavour::Smith, Flavour::Mutated];

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Bytes => "bytes",
            Flavour::Smith => "wasm-smith",
            Flavour::Mutated => "mutated",
        }
    }
}

/// One input and the options it is built with.
#[derive(Debug, Clone)]
pub struct Case {
    /// The input.
    pub wasm: Vec<u8>,
    /// Its flavour.
    pub flavour: Flavour,
    /// The target's name.
    pub target: &'static str,
    /// Compiled-in checks.
    pub checks: Checks,
    /// `--max-memory`.
    pub max_memory: Option<u64>,
    /// `--target-cpu`.
    pub cpu: Option<&'static str>,
    /// `--fuel`: metered code.
    pub fuel: Option<u64>,
}

/// Targets builds are made for (the host's most often): the three Linux architectures
/// and both `virt` boards.
const TARGETS: [&str; 8] = [
    "x86_64-linux",
    "x86_64-linux",
    "x86_64-linux",
    "aarch64-linux",
    "aarch64-linux",
    "riscv64-linux",
    "qemu-virt-aarch64",
    "qemu-virt-riscv64",
];

/// The case of number `index` of a run seeded with `seed`.
pub fn case(seed: u64, index: u64) -> Case {
    let mut rng = Rng::for_case(seed, index);
    let flavour = *rng.pick(&Flavour::ALL);
    let size = 64 + rng.below(16 << 10) as usize;
    let entropy = rng.bytes(size);
    let wasm = match flavour {
        Flavour::Bytes => {
            let mut bytes = entropy;
            if rng.chance(3, 4) {
                bytes.splice(0..0, *b"\0asm\x01\0\0\0");
            }
            bytes
        }
        Flavour::Smith => smith_module(&entropy),
        Flavour::Mutated => mutate(smith_module(&entropy), &mut rng),
    };
    let target = *rng.pick(&TARGETS);
    let checks = match rng.below(4) {
        0 => Checks::ALL,
        1 => Checks::parse("bounds").expect("a valid checks list"),
        _ => Checks::NONE,
    };
    let max_memory = rng.chance(1, 8).then(|| 1 << (10 + rng.below(24)));
    let cpu = (target.starts_with("riscv64") && rng.chance(1, 2)).then_some("rv64gcv");
    let fuel = rng.chance(1, 8).then(|| 1 + rng.below(1 << 40));
    Case {
        wasm,
        flavour,
        target,
        checks,
        max_memory,
        cpu,
        fuel,
    }
}

/// A case from a cargo-fuzz input: its first byte picks the flavour and options.
pub fn case_from_bytes(data: &[u8]) -> Case {
    let (&selector, rest) = data.split_first().unwrap_or((&0, &[]));
    let flavour = Flavour::ALL[selector as usize % 3];
    let mut rng = Rng::from_bytes(data);
    let wasm = match flavour {
        Flavour::Bytes => rest.to_vec(),
        Flavour::Smith => smith_module(rest),
        Flavour::Mutated => mutate(smith_module(rest), &mut rng),
    };
    Case {
        wasm,
        flavour,
        target: TARGETS[(selector as usize / 3) % TARGETS.len()],
        checks: if selector & 0x80 != 0 {
            Checks::ALL
        } else {
            Checks::NONE
        },
        max_memory: None,
        cpu: None,
        fuel: (selector & 0x40 != 0).then_some(1_000_000),
    }
}

/// A wasm-smith module made from `entropy` with [`crate::smith::compile_config`]; an
/// empty module when the entropy runs out before a configuration is drawn.
pub fn smith_module(entropy: &[u8]) -> Vec<u8> {
    let mut u = Unstructured::new(entropy);
    crate::smith::compile_config(&mut u)
        .and_then(|config| wasm_smith::Module::new(config, &mut u))
        .map(|module| module.to_bytes())
        .unwrap_or_else(|_| b"\0asm\x01\0\0\0".to_vec())
}

/// `wasm` with one to eight random mutations: bytes changed, inserted, removed or
/// repeated, a LEB128 made huge, the end cut off.
pub fn mutate(mut wasm: Vec<u8>, rng: &mut Rng) -> Vec<u8> {
    for _ in 0..1 + rng.below(8) {
        let len = wasm.len() as u64;
        let at = (8 + rng.below(len.saturating_sub(8).max(1))).min(len) as usize;
        match rng.below(7) {
            0 if at < wasm.len() => wasm[at] ^= 1 << rng.below(8),
            1 if at < wasm.len() => wasm[at] = rng.next_u64() as u8,
            2 => {
                let count = 1 + rng.below(8) as usize;
                let bytes = rng.bytes(count);
                wasm.splice(at..at, bytes);
            }
            3 => {
                let end = (at + 1 + rng.below(16) as usize).min(wasm.len());
                wasm.drain(at..end);
            }
            4 => {
                let end = (at + 1 + rng.below(64) as usize).min(wasm.len());
                let copy = wasm[at..end].to_vec();
                wasm.splice(at..at, copy);
            }
            5 => {
                // A count or size claiming far more than is there.
                wasm.splice(at..at, [0xff, 0xff, 0xff, 0xff, 0x0f]);
            }
            _ => wasm.truncate(at),
        }
    }
    wasm
}

/// How a build that met every rule ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// An image was built.
    Image,
    /// The input was refused, with this kind of error.
    Refused(&'static str),
}

/// Builds `case` and checks the rules; `Err` describes a broken rule.
pub fn check(case: &Case) -> Result<Verdict, String> {
    let target = wafer::target::find(case.target)?;
    let options = BuildOptions {
        target,
        emit: Emit::Image,
        grants: Default::default(),
        stack_size: wafer_abi::image::DEFAULT_STACK_SIZE,
        max_memory: case.max_memory,
        cpu: case.cpu.map(str::to_string),
        keep_symbols: false,
        trap_unknown_imports: true,
        invoke: None,
        checks: case.checks,
        board: Default::default(),
        program_name: "fuzz".into(),
        metering: wafer::metering::Metering {
            fuel: case.fuel,
            ..Default::default()
        },
        debug_info: false,
    };
    let component = wafer::component::is_component(&case.wasm);
    let valid = wasmparser::Validator::new_with_features(wafer::environ::features())
        .validate_all(&case.wasm)
        .is_ok();
    let result = match valid && !component && !has_entry(&case.wasm) {
        // A module with nothing to run (most of wasm-smith's) goes into a harness
        // image, whose trampolines call every exported function: the whole pipeline
        // still runs instead of stopping at "no `_start`".
        true => build_harness(case, options.target),
        false => wafer::driver::build_image(&case.wasm, &options).map(|built| built.bytes),
    };
    match result {
        Err(BuildError::Internal(message)) => Err(format!("wafer panicked: {message}")),
        Err(BuildError::Compile(CompileError::Codegen(message))) => {
            Err(format!("code generation failed: {message}"))
        }
        Err(error) if error.to_string().contains('\n') => {
            Err(format!("an error of several lines: {error:?}"))
        }
        Ok(_) if !valid && !component => Err("wafer built an image of an invalid module".into()),
        Ok(bytes) if !bytes.starts_with(b"\x7fELF") => Err("the image is not an ELF file".into()),
        Ok(_) => Ok(Verdict::Image),
        Err(BuildError::Compile(CompileError::InvalidWasm { message, offset })) if valid => Err(
            format!("wafer calls a valid module invalid at offset {offset:#x}: {message}"),
        ),
        Err(error) => Ok(Verdict::Refused(kind(&error))),
    }
}

/// Whether a valid core module has a `_start` export or a start function.
fn has_entry(wasm: &[u8]) -> bool {
    use wasmparser::{Parser, Payload};
    Parser::new(0).parse_all(wasm).any(|payload| match payload {
        Ok(Payload::StartSection { .. }) => true,
        Ok(Payload::ExportSection(exports)) => exports
            .into_iter()
            .any(|export| export.is_ok_and(|e| e.name == "_start")),
        _ => false,
    })
}

/// Builds `case` as a harness image, every import module's functions trapping.
fn build_harness(case: &Case, target: wafer::target::Target) -> Result<Vec<u8>, BuildError> {
    use wasmparser::{Parser, Payload};
    let mut imports = std::collections::HashMap::new();
    for payload in Parser::new(0).parse_all(&case.wasm) {
        if let Ok(Payload::ImportSection(reader)) = payload {
            for import in reader.into_imports().flatten() {
                imports.insert(import.module.to_string(), ImportSource::Trap);
            }
        }
    }
    let spec = InstanceSpec {
        wasm: &case.wasm,
        imports,
    };
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wafer::driver::build_harness(&[spec], &target, case.cpu, case.checks, case.max_memory)
    }));
    match built {
        Ok(result) => result.map_err(|e| BuildError::Compile(e.error)),
        Err(payload) => Err(BuildError::Internal(crate::differential::panic_text(
            &payload,
        ))),
    }
}

fn kind(error: &BuildError) -> &'static str {
    match error {
        BuildError::Compile(CompileError::InvalidWasm { .. }) => "invalid",
        BuildError::Compile(CompileError::Unsupported { .. }) => "unsupported",
        BuildError::Compile(CompileError::Link(_)) | BuildError::Link(_) => "link",
        BuildError::Compile(CompileError::ImplLimit(_)) => "limit",
        BuildError::Options(_) => "options",
        BuildError::Wat(_) => "text",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_reproducible() {
        for index in 0..8 {
            assert_eq!(case(11, index).wasm, case(11, index).wasm);
        }
    }

    #[test]
    fn mutations_change_modules() {
        let wasm = smith_module(&[7; 4096]);
        let mut rng = Rng::for_case(1, 1);
        let changed = (0..16)
            .filter(|_| mutate(wasm.clone(), &mut rng) != wasm)
            .count();
        assert!(
            changed >= 12,
            "{changed} of 16 mutations changed the module"
        );
    }
}
