//! Cranelift target ISA configuration.

use cranelift_codegen::isa::{self, OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};

use crate::error::{CompileError, Result};
use crate::target::{Arch, Target};

/// CPU feature presets accepted by `--target-cpu`, per architecture.
pub fn cpu_presets(arch: Arch) -> &'static [(&'static str, &'static [&'static str])] {
    match arch {
        Arch::X86_64 => &[
            ("x86-64", &[]),
            (
                "x86-64-v2",
                &[
                    "has_sse3",
                    "has_ssse3",
                    "has_sse41",
                    "has_sse42",
                    "has_popcnt",
                    "has_cmpxchg16b",
                ],
            ),
            (
                "x86-64-v3",
                &[
                    "has_sse3",
                    "has_ssse3",
                    "has_sse41",
                    "has_sse42",
                    "has_popcnt",
                    "has_cmpxchg16b",
                    "has_avx",
                    "has_avx2",
                    "has_bmi1",
                    "has_bmi2",
                    "has_fma",
                    "has_lzcnt",
                ],
            ),
        ],
        Arch::Aarch64 => &[("generic", &[]), ("armv8.1-a", &["has_lse"])],
        Arch::Riscv64 => &[
            (
                "rv64gc",
                &[
                    "has_m",
                    "has_a",
                    "has_f",
                    "has_d",
                    "has_zca",
                    "has_zcd",
                    "has_zicsr",
                    "has_zifencei",
                ],
            ),
            (
                "rv64gcv",
                &[
                    "has_m",
                    "has_a",
                    "has_f",
                    "has_d",
                    "has_zca",
                    "has_zcd",
                    "has_zicsr",
                    "has_zifencei",
                    "has_v",
                    "has_zvl128b",
                ],
            ),
        ],
    }
}

/// The `--target-cpu` name for "every feature of the CPU wafer is running on".
pub const NATIVE_CPU: &str = "native";

/// What `--target-cpu native` turns on for `target` on this machine, as text: part of
/// `wafer run`'s cache key, so an image cached on one CPU is never run on another.
pub fn native_fingerprint(target: &Target) -> String {
    match build(target, Some(NATIVE_CPU)) {
        Ok(isa) => isa
            .isa_flags()
            .iter()
            .map(|flag| flag.to_string())
            .collect::<Vec<_>>()
            .join(","),
        Err(error) => error.to_string(),
    }
}

/// The default CPU preset of an architecture: the baseline every CPU of it has.
pub fn default_cpu(arch: Arch) -> &'static str {
    cpu_presets(arch)[0].0
}

/// Why the ISA cannot run wasm SIMD, if it cannot: Cranelift's riscv64 backend lowers
/// `v128` only with the V extension.
pub fn simd_unavailable(isa: &dyn cranelift_codegen::isa::TargetIsa) -> Option<&'static str> {
    let riscv = matches!(
        isa.triple().architecture,
        target_lexicon::Architecture::Riscv64(_)
    );
    let has_v = isa
        .isa_flags()
        .iter()
        .any(|flag| flag.name == "has_v" && flag.as_bool() == Some(true));
    (riscv && !has_v)
        .then_some("SIMD (v128) needs the V extension on riscv64: build with --target-cpu rv64gcv")
}

/// Guard region size below the guest stack, as log2: stack probes are only needed for
/// frames larger than this (the runtime's guard is 64 KiB).
const STACK_GUARD_LOG2: u32 = 16;

/// Whether a function with a frame of `frame_size` bytes below its frame pointer may get
/// Cranelift's riscv64 stack-probe loop (frames of four guard regions and more), which
/// probes the farthest page first and so may touch memory past the guard region instead
/// of faulting in it. Such a function needs a stack-limit check. (The x86_64 and aarch64
/// loops probe the nearest page first.)
pub fn probe_loop_may_skip_guard(isa: &dyn TargetIsa, frame_size: u32) -> bool {
    let riscv = matches!(
        isa.triple().architecture,
        target_lexicon::Architecture::Riscv64(_)
    );
    let guard = 1u32 << STACK_GUARD_LOG2;
    // A margin under four regions: the probed size adds the frame's setup area.
    riscv && frame_size >= 3 * guard
}

/// Builds the Cranelift ISA for `target` with CPU preset `cpu`.
pub fn build(target: &Target, cpu: Option<&str>) -> Result<OwnedTargetIsa> {
    build_with(target, cpu, false)
}

/// [`build`], for debug info when `debug_info`: each frame's unwind information is
/// recorded (for `.debug_frame`; it adds no code), and Cranelift's optimiser (the
/// e-graph: value numbering, code motion, store-to-load forwarding, dead-store
/// elimination) is off, so every load and store of linear memory happens where the
/// wasm has it: a variable a guest keeps in memory is there when the debugger looks,
/// and the frame base its location needs stays live until the function's last use.
pub fn build_with(target: &Target, cpu: Option<&str>, debug_info: bool) -> Result<OwnedTargetIsa> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags
            .set(name, value)
            .map_err(|e| CompileError::Codegen(format!("setting {name}={value}: {e}")))
    };
    set(
        &mut flags,
        "opt_level",
        if debug_info { "none" } else { "speed" },
    )?;
    set(&mut flags, "is_pic", "false")?;
    set(&mut flags, "use_colocated_libcalls", "true")?;
    set(
        &mut flags,
        "unwind_info",
        if debug_info { "true" } else { "false" },
    )?;
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    // Cranelift's tail calls rely on frame pointers; they also let profilers walk stacks.
    set(&mut flags, "preserve_frame_pointers", "true")?;
    set(&mut flags, "enable_probestack", "true")?;
    set(&mut flags, "probestack_strategy", "inline")?;
    set(
        &mut flags,
        "probestack_size_log2",
        &STACK_GUARD_LOG2.to_string(),
    )?;
    // The IR verifier catches translation bugs early; tests turn it on in release builds.
    let verify = cfg!(debug_assertions) || std::env::var_os("WAFER_CRANELIFT_VERIFY").is_some();
    set(
        &mut flags,
        "enable_verifier",
        if verify { "true" } else { "false" },
    )?;
    set(&mut flags, "enable_heap_access_spectre_mitigation", "false")?;
    set(
        &mut flags,
        "enable_table_access_spectre_mitigation",
        "false",
    )?;

    let triple = target.codegen_triple();
    let mut isa_builder = isa::lookup(triple.clone())
        .map_err(|e| CompileError::Codegen(format!("no code generator for {triple}: {e}")))?;
    let cpu = cpu.unwrap_or_else(|| default_cpu(target.arch));
    if cpu == NATIVE_CPU {
        // Every feature of the CPU wafer runs on: only meaningful for an image that runs
        // on this machine (or one like it).
        if triple.architecture != target_lexicon::Triple::host().architecture {
            return Err(CompileError::unsupported(format!(
                "--target-cpu {NATIVE_CPU} means this machine's CPU, which cannot run {} code",
                target.arch
            )));
        }
        cranelift_native::infer_native_flags(&mut isa_builder).map_err(|e| {
            CompileError::Codegen(format!("detecting this machine's CPU features: {e}"))
        })?;
    } else {
        let presets = cpu_presets(target.arch);
        let Some((_, features)) = presets.iter().find(|(name, _)| *name == cpu) else {
            let names: Vec<_> = presets.iter().map(|(name, _)| *name).collect();
            return Err(CompileError::unsupported(format!(
                "unknown --target-cpu `{cpu}` for {} (known: {}, {NATIVE_CPU})",
                target.arch,
                names.join(", ")
            )));
        };
        for feature in *features {
            isa_builder
                .enable(feature)
                .map_err(|e| CompileError::Codegen(format!("enabling {feature}: {e}")))?;
        }
    }
    isa_builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| CompileError::Codegen(format!("configuring {triple}: {e}")))
}
