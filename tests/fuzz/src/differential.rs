//! The differential target: a wasm-smith module is compiled by wafer into a harness
//! image (instance 0 `spectest`, instance 1 the module) that runs natively, under
//! qemu-user or on a board, and is run in wasmi next to it. Each of its function exports
//! is called many times with the same arguments on both sides; after every call the
//! results or traps, and every exported global, memory (length and hash of the bytes)
//! and table (length and which elements are null) must be the same.
//!
//! Calls are pipelined: the commands of a batch go to the image at once and the
//! replies are compared afterwards with what wasmi gave, so a call costs the image its
//! run and a line each way, not a round trip.
//!
//! wasm-smith's `ensure_termination` bounds every call: a fuel global counts loop
//! iterations and calls, and is exported (as [`crate::smith::FUEL_EXPORT`]) and refilled
//! before each call on both sides, so it is compared like any global and shows both ran
//! the same control flow. A call wasmi could not finish (its recursion limit or its own
//! fuel) is not counted, and ends the module, whose state may differ from then on.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

use wafer::checks::Checks;
use wafer::codegen::{ImportSource, InstanceSpec};
use wafer_abi::trap::TrapKind;
use wasmparser::{ExternalKind, Parser, Payload};

use crate::harness::{Harness, Reply};
use crate::reference::{self, ExportItem, Kind, Outcome, Reference};
use crate::rng::Rng;
use crate::smith::{DiffModule, FUEL_EXPORT, NanMode, SPECTEST};

/// Where the images run.
#[derive(Debug, Clone)]
pub struct DiffTarget {
    /// The wafer target.
    pub target: wafer::target::Target,
    /// The command that runs an image (qemu-user or the board's qemu-system), empty for
    /// the host.
    pub launcher: Vec<String>,
    /// The CPU preset (RISC-V needs the vector extension for SIMD).
    pub cpu: Option<&'static str>,
    /// How long the image may take to answer one command.
    pub timeout: Duration,
}

impl DiffTarget {
    /// The target called `name`: a Linux target (under qemu-user when foreign) or a
    /// board (under its qemu-system machine).
    pub fn named(name: &str) -> Result<Self, String> {
        let target = wafer::target::find(name)?;
        if target.runtime.is_none() {
            return Err(format!("this wafer carries no runtime for {name}"));
        }
        let riscv = target.arch == wafer::target::Arch::Riscv64;
        let arch = target.arch.to_string();
        let (launcher, timeout) = match &target.board {
            Some(board) => {
                let mut command = board.qemu.clone();
                if riscv {
                    // No board's CPU has the vector extension by default; QEMU's can.
                    let kernel = command.len().saturating_sub(1);
                    command.splice(
                        kernel..kernel,
                        ["-cpu".into(), "rv64,v=true,vlen=128".into()],
                    );
                }
                (command, Duration::from_secs(120))
            }
            None if arch != std::env::consts::ARCH => {
                (vec![format!("qemu-{arch}")], Duration::from_secs(60))
            }
            None => (Vec::new(), Duration::from_secs(20)),
        };
        Ok(DiffTarget {
            target,
            launcher,
            cpu: riscv.then_some("rv64gcv"),
            timeout,
        })
    }

    /// The host's Linux target.
    pub fn host() -> Result<Self, String> {
        let host = wafer::target::host().ok_or("this machine is not a wafer target")?;
        Self::named(&host.name)
    }
}

/// What running one module gave.
#[derive(Debug, Default, Clone)]
pub struct ModuleRun {
    /// Calls compared (results or trap, and the state after).
    pub executions: u64,
    /// Of those, calls that trapped on both sides.
    pub traps: u64,
    /// Why the module stopped early or was not run, when it was not a divergence.
    pub skipped: Option<String>,
    /// A divergence or a wafer failure: what differs.
    pub divergence: Option<String>,
    /// Time spent building the image.
    pub build_time: Duration,
    /// Time spent running it (and wasmi).
    pub run_time: Duration,
}

/// Settings of one module's run.
#[derive(Debug, Clone, Copy)]
pub struct RunSettings {
    /// Calls to make (fewer if the module stops early).
    pub calls: u64,
    /// Compiled-in checks (explicit bounds, stack limits).
    pub checks: Checks,
}

/// A divergence with an inconclusive wasmi call: a wafer stack exhaustion counts as a
/// divergence only when wasmi used less fuel than this (a shallow call).
const SHALLOW_CALL_FUEL: u32 = 100;

/// Memories are compared after every this many calls (see [`expect_state`]).
const MEMORY_EVERY: u64 = 8;

/// Commands in flight before the replies are read.
const BATCH_CALLS: usize = 64;

/// An exported function the fuzzer can call.
#[derive(Debug, Clone)]
struct Callable {
    name: String,
    /// Position in the export section (the harness's export number).
    position: usize,
    func: wasmi::Func,
    params: Vec<Kind>,
    results: Vec<Kind>,
}

/// Exported state compared after every call.
#[derive(Debug, Clone)]
enum State {
    Global {
        name: String,
        position: usize,
        global: wasmi::Global,
        kind: Kind,
    },
    Memory {
        name: String,
        position: usize,
        memory: wasmi::Memory,
    },
    Table {
        name: String,
        position: usize,
        table: wasmi::Table,
    },
}

/// A reply the image owes, and what it must be.
#[derive(Debug)]
enum Expect {
    /// `s` (refuel): `ok`.
    Written,
    /// A call, with what wasmi did and the fuel it used.
    Call {
        describe: String,
        outcome: Outcome,
        results: Vec<Kind>,
        fuel_used: u32,
    },
    /// A global's value.
    Global {
        name: String,
        kind: Kind,
        value: u128,
    },
    /// A memory's or table's length and hash.
    Extent {
        what: String,
        length: u128,
        hash: u128,
    },
}

/// Runs `module` on `target` and in wasmi; `rng` draws the calls and arguments.
pub fn run_module(
    module: &DiffModule,
    target: &DiffTarget,
    settings: RunSettings,
    rng: &mut Rng,
    scratch: &Path,
) -> ModuleRun {
    let mut run = ModuleRun::default();
    // RISC-V's float promotion and demotion return the canonical NaN where the host
    // that runs wasmi keeps the payload (the spec allows both), and wasm-smith does not
    // canonicalize them: on RISC-V their NaNs are made canonical in the module itself.
    // The SIMD ones are not rewritten; a module with them is skipped there.
    let riscv = target.target.arch == wafer::target::Arch::Riscv64;
    let scan = crate::smith::scan(&module.wasm);
    let rewritten;
    let module = match riscv && scan.promote_demote {
        false => module,
        true => match crate::smith::canonicalize_conversions(&module.wasm) {
            Some(wasm) if !scan.vector_promote_demote => {
                rewritten = DiffModule {
                    wasm,
                    ..module.clone()
                };
                &rewritten
            }
            _ => {
                run.skipped =
                    Some("SIMD float promotion or demotion on RISC-V (NaN payloads)".into());
                return run;
            }
        },
    };
    let mut reference = match Reference::new(&module.wasm) {
        Ok(reference) => reference,
        Err(reference::Unusable(why)) => {
            run.skipped = Some(why);
            return run;
        }
    };
    let building = std::time::Instant::now();
    let built = build_image(&module.wasm, target, settings.checks);
    run.build_time = building.elapsed();
    let running = std::time::Instant::now();
    let image = match built {
        Ok(image) => image,
        Err(why) => {
            run.divergence = Some(why);
            return run;
        }
    };
    let path = scratch.join(format!(
        "diff-{}.{}",
        std::process::id(),
        target.target.name
    ));
    if let Err(e) = write_executable(&path, &image) {
        run.skipped = Some(format!("cannot write the image: {e}"));
        return run;
    }
    let mut harness = match Harness::start(&path, &target.launcher) {
        Ok(harness) => harness,
        Err(e) => {
            run.divergence = Some(format!("the image does not start: {e}"));
            return run;
        }
    };
    harness.set_timeout(target.timeout);
    if let Err(why) = drive(
        module,
        &mut reference,
        &mut harness,
        settings,
        rng,
        &mut run,
    ) {
        run.divergence = Some(why);
    }
    drop(harness);
    let _ = std::fs::remove_file(&path);
    run.run_time = running.elapsed();
    run
}

/// Builds the harness image of `wasm` (instance 1) with `spectest` (instance 0). A
/// panic in wafer is a failure like a rejected module.
pub fn build_image(wasm: &[u8], target: &DiffTarget, checks: Checks) -> Result<Vec<u8>, String> {
    let spectest = wat::parse_str(SPECTEST).expect("the spectest module parses");
    let specs = [
        InstanceSpec {
            wasm: &spectest,
            imports: Default::default(),
        },
        InstanceSpec {
            wasm,
            imports: [("spectest".to_string(), ImportSource::Instance(0))].into(),
        },
    ];
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wafer::driver::build_harness(
            &specs,
            &target.target,
            target.cpu,
            checks,
            Some(crate::smith::MAX_MEMORY_BYTES),
        )
    }));
    match built {
        Ok(Ok(image)) => Ok(image),
        Ok(Err(error)) => Err(format!(
            "wafer rejects a module wasmi runs (instance {}): {}",
            error.instance, error.error
        )),
        Err(payload) => Err(format!("wafer panicked: {}", panic_text(&payload))),
    }
}

/// The text of a panic payload.
pub fn panic_text(payload: &Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn write_executable(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

/// The module's exports in export-section order: name and kind.
fn exports(wasm: &[u8]) -> Vec<(String, ExternalKind)> {
    let mut out = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Ok(Payload::ExportSection(reader)) = payload {
            for export in reader.into_iter().flatten() {
                out.push((export.name.to_string(), export.kind));
            }
        }
    }
    out
}

fn drive(
    module: &DiffModule,
    reference: &mut Reference,
    harness: &mut Harness,
    settings: RunSettings,
    rng: &mut Rng,
    run: &mut ModuleRun,
) -> Result<(), String> {
    match harness.command("i 0")? {
        Reply::Ok(_) => {}
        other => return Err(format!("instantiating spectest: {other:?}")),
    }
    let wafer = harness.command("i 1")?;
    let expected = reference.instantiate();
    run.executions += 1;
    match (&expected, &wafer) {
        (Outcome::Returned(_), Reply::Ok(_)) => {}
        (Outcome::Trapped(code), Reply::Trap(kind)) if trap_matches(*code, *kind) => {
            run.traps += 1;
            run.skipped = Some("instantiation trapped on both sides".into());
            return Ok(());
        }
        (Outcome::Inconclusive(why), _) => {
            run.executions -= 1;
            run.skipped = Some(format!("instantiation: {why}"));
            return Ok(());
        }
        _ => {
            return Err(format!(
                "instantiation: wasmi {expected:?}, wafer {}",
                describe_reply(&wafer)
            ));
        }
    }
    let mut callables = Vec::new();
    let mut states = Vec::new();
    let mut fuel = None;
    for (position, (name, kind)) in exports(&module.wasm).into_iter().enumerate() {
        let Some(item) = reference.export(&name) else {
            return Err(format!("wasmi has no export {name:?}"));
        };
        match (kind, item) {
            (
                ExternalKind::Func,
                ExportItem::Func {
                    func,
                    params,
                    results,
                },
            ) if params.len() <= wafer_abi::harness::MAX_VALUES
                && results.len() <= wafer_abi::harness::MAX_VALUES =>
            {
                callables.push(Callable {
                    name,
                    position,
                    func,
                    params,
                    results,
                })
            }
            (ExternalKind::Global, ExportItem::Global { global, kind, .. }) => {
                if name == FUEL_EXPORT {
                    fuel = Some((position, global, kind));
                }
                states.push(State::Global {
                    name,
                    position,
                    global,
                    kind,
                });
            }
            (ExternalKind::Memory, ExportItem::Memory(memory)) => states.push(State::Memory {
                name,
                position,
                memory,
            }),
            (ExternalKind::Table, ExportItem::Table(table)) => states.push(State::Table {
                name,
                position,
                table,
            }),
            _ => {}
        }
    }
    // The state after instantiation.
    let mut pending = VecDeque::new();
    expect_state(reference, harness, &states, &mut pending, true)?;
    if callables.is_empty() {
        run.skipped = Some("no function exports".into());
        return settle(harness, &mut pending, module.nans);
    }
    let mut calls = 0;
    while calls < settings.calls {
        let callable = rng.pick(&callables).clone();
        let args: Vec<u128> = callable.params.iter().map(|k| argument(*k, rng)).collect();
        // Refuel both sides (a hand-written regression module may have no fuel).
        if let Some((position, global, kind)) = &fuel {
            reference.set_global(global, *kind, module.fuel as u128)?;
            harness.send(&format!("s 1 {position:x} {:x}", module.fuel))?;
            pending.push_back(Expect::Written);
        }
        let outcome = reference.call(&callable.func, &callable.params, &args, &callable.results);
        let fuel_left = fuel
            .as_ref()
            .map_or(0, |(_, global, _)| reference.global(global) as u32);
        let mut command = format!("c 1 {:x} {:x}", callable.position, callable.results.len());
        for arg in &args {
            command.push_str(&format!(" {arg:x}"));
        }
        harness.send(&command)?;
        calls += 1;
        let inconclusive = matches!(outcome, Outcome::Inconclusive(_));
        let memories = calls % MEMORY_EVERY == 0 || calls == settings.calls;
        pending.push_back(Expect::Call {
            describe: format!(
                "call {calls} of {:?}{:x?}",
                callable.name,
                args.iter()
                    .zip(&callable.params)
                    .map(|(a, k)| Shown(*a, *k))
                    .collect::<Vec<_>>()
            ),
            outcome,
            results: callable.results.clone(),
            fuel_used: module.fuel.saturating_sub(fuel_left),
        });
        if inconclusive {
            break;
        }
        expect_state(reference, harness, &states, &mut pending, memories)?;
        if pending.len() >= BATCH_CALLS * (2 + states.len()) {
            settle_counting(harness, &mut pending, module.nans, run)?;
        }
    }
    settle_counting(harness, &mut pending, module.nans, run)
}

/// Queues the state comparisons: wasmi's state now, and the commands that read the
/// image's. Memories are compared only when `memories` is set (hashing them dominated
/// the run time): every [`MEMORY_EVERY`] calls and after the last call.
/// A difference stays until it is overwritten, so it is still seen, a few calls late.
fn expect_state(
    reference: &Reference,
    harness: &mut Harness,
    states: &[State],
    pending: &mut VecDeque<Expect>,
    memories: bool,
) -> Result<(), String> {
    for state in states {
        match state {
            State::Global {
                name,
                position,
                global,
                kind,
            } => {
                harness.send(&format!("g 1 {position:x}"))?;
                pending.push_back(Expect::Global {
                    name: name.clone(),
                    kind: *kind,
                    value: reference.global(global),
                });
            }
            State::Memory { .. } if !memories => {}
            State::Memory {
                name,
                position,
                memory,
            } => {
                harness.send(&format!("m 1 {position:x}"))?;
                let (length, hash) = reference.memory_state(memory);
                pending.push_back(Expect::Extent {
                    what: format!("memory {name:?}"),
                    length,
                    hash,
                });
            }
            State::Table {
                name,
                position,
                table,
            } => {
                harness.send(&format!("t 1 {position:x}"))?;
                let (length, hash) = reference.table_state(table);
                pending.push_back(Expect::Extent {
                    what: format!("table {name:?}"),
                    length,
                    hash,
                });
            }
        }
    }
    Ok(())
}

fn settle(
    harness: &mut Harness,
    pending: &mut VecDeque<Expect>,
    nans: NanMode,
) -> Result<(), String> {
    settle_counting(harness, pending, nans, &mut ModuleRun::default())
}

/// Reads the replies to everything pending and compares them, in order. An
/// inconclusive call ends the comparison (the rest of the module is not comparable).
fn settle_counting(
    harness: &mut Harness,
    pending: &mut VecDeque<Expect>,
    nans: NanMode,
    run: &mut ModuleRun,
) -> Result<(), String> {
    let mut last_call = String::from("instantiation");
    while let Some(expect) = pending.pop_front() {
        let reply = harness.receive(&last_call)?;
        match expect {
            Expect::Written => {
                if reply != Reply::Ok(Vec::new()) {
                    return Err(format!("refuelling: {}", describe_reply(&reply)));
                }
            }
            Expect::Call {
                describe,
                outcome,
                results,
                fuel_used,
            } => {
                last_call = describe.clone();
                match (&outcome, &reply) {
                    (Outcome::Returned(expected), Reply::Ok(got)) => {
                        compare_values(expected, got, &results, nans)
                            .map_err(|e| format!("{describe}: {e}"))?;
                        run.executions += 1;
                    }
                    (Outcome::Trapped(code), Reply::Trap(kind)) if trap_matches(*code, *kind) => {
                        run.executions += 1;
                        run.traps += 1;
                    }
                    (Outcome::Returned(_), Reply::Trap(kind))
                        if *kind == TrapKind::StackExhausted as u8
                            && fuel_used >= SHALLOW_CALL_FUEL =>
                    {
                        // wafer's frames are larger than wasmi's: a deep call may
                        // exhaust the image's stack only. Not comparable from here.
                        run.skipped = Some(format!(
                            "{describe}: wafer's stack ran out {fuel_used} calls deep"
                        ));
                        drain(harness, pending);
                        return Ok(());
                    }
                    (Outcome::Inconclusive(why), _) => {
                        run.skipped = Some(format!("{describe}: {why}"));
                        drain(harness, pending);
                        return Ok(());
                    }
                    _ => {
                        return Err(format!(
                            "{describe}: wasmi {}, wafer {}",
                            describe_outcome(&outcome),
                            describe_reply(&reply)
                        ));
                    }
                }
            }
            Expect::Global { name, kind, value } => {
                let Reply::Ok(got) = &reply else {
                    return Err(format!("after {last_call}: global {name:?}: {reply:?}"));
                };
                compare_values(&[value], got, &[kind], nans)
                    .map_err(|e| format!("after {last_call}: global {name:?}: {e}"))?;
            }
            Expect::Extent { what, length, hash } => {
                let Reply::Ok(got) = &reply else {
                    return Err(format!("after {last_call}: {what}: {reply:?}"));
                };
                match got.as_slice() {
                    [got_length, _] if *got_length != length => {
                        return Err(format!(
                            "after {last_call}: {what} is {got_length:#x} long in wafer, {length:#x} in wasmi"
                        ));
                    }
                    [_, got_hash] if *got_hash != hash => {
                        return Err(format!(
                            "after {last_call}: {what} has other contents in wafer than in wasmi"
                        ));
                    }
                    [_, _] => {}
                    _ => return Err(format!("after {last_call}: {what}: {got:x?}")),
                }
            }
        }
    }
    Ok(())
}

/// Reads and drops the replies still owed, so the image is not left writing.
fn drain(harness: &mut Harness, pending: &mut VecDeque<Expect>) {
    while pending.pop_front().is_some() {
        if harness.receive("drain").is_err() {
            break;
        }
    }
}

fn trap_matches(code: wasmi::TrapCode, kind: u8) -> bool {
    reference::trap_kinds(code).iter().any(|k| *k as u8 == kind)
}

fn describe_outcome(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Returned(values) => format!("returned {values:x?}"),
        Outcome::Trapped(code) => format!("trapped: {code:?}"),
        Outcome::Inconclusive(why) => why.clone(),
    }
}

fn describe_reply(reply: &Reply) -> String {
    match reply {
        Reply::Ok(values) => format!("returned {values:x?}"),
        Reply::Trap(code) => format!(
            "trapped: {}",
            TrapKind::from_u8(*code).map_or(format!("code {code}"), |k| k.message().to_string())
        ),
    }
}

/// Compares values of the given kinds: integers and vectors exactly, references by
/// null-ness, floats by [`floats_match`].
pub fn compare_values(
    expected: &[u128],
    got: &[u128],
    kinds: &[Kind],
    nans: NanMode,
) -> Result<(), String> {
    if expected.len() != got.len() {
        return Err(format!("{} values, wasmi {}", got.len(), expected.len()));
    }
    for (i, ((want, have), kind)) in expected.iter().zip(got).zip(kinds).enumerate() {
        // The harness fills a slot with zeros above a narrower value.
        let bits = match kind {
            Kind::I32 | Kind::F32 => 32,
            Kind::V128 => 128,
            _ => 64,
        };
        if bits < 128 && *have >> bits != 0 {
            return Err(format!(
                "value {i}: wafer's slot {have:#x} has bits above its value"
            ));
        }
        let same = match kind {
            Kind::I32 => *want as u32 == *have as u32,
            Kind::I64 => *want as u64 == *have as u64,
            Kind::V128 => want == have,
            Kind::FuncRef | Kind::ExternRef => (*want != 0) == (*have != 0),
            Kind::F32 => floats_match(*want as u32 as u64, *have as u32 as u64, F32_LAYOUT, nans),
            Kind::F64 => floats_match(*want as u64, *have as u64, F64_LAYOUT, nans),
        };
        if !same {
            return Err(format!(
                "value {i}: wafer {:?}, wasmi {:?}",
                Shown(*have, *kind),
                Shown(*want, *kind)
            ));
        }
    }
    Ok(())
}

/// Exponent mask and quiet bit of a float format.
#[derive(Debug, Clone, Copy)]
pub struct FloatLayout {
    exponent: u64,
    quiet: u64,
}

const F32_LAYOUT: FloatLayout = FloatLayout {
    exponent: 0x7f80_0000,
    quiet: 0x0040_0000,
};
const F64_LAYOUT: FloatLayout = FloatLayout {
    exponent: 0x7ff0_0000_0000_0000,
    quiet: 0x0008_0000_0000_0000,
};

/// Whether wafer's float `got` may be the spec's answer when wasmi gave `want`.
/// Numbers must be equal bit for bit. With canonicalized NaNs every NaN bit is
/// determined, so NaNs must be equal too. With raw NaNs the spec lets an arithmetic
/// result be any arithmetic NaN (quiet bit set), so: a NaN must meet a NaN, a
/// signalling one (which only bit-preserving operators return) must be equal bit for
/// bit, and a quiet one must meet a quiet one.
pub fn floats_match(want: u64, got: u64, layout: FloatLayout, nans: NanMode) -> bool {
    let payload = layout.quiet | (layout.quiet - 1);
    let is_nan = |bits: u64| bits & layout.exponent == layout.exponent && bits & payload != 0;
    let quiet = |bits: u64| bits & layout.quiet != 0;
    match (is_nan(want), is_nan(got), nans) {
        (false, false, _) | (true, true, NanMode::Canonical) => want == got,
        (true, true, NanMode::Raw) if !quiet(want) => want == got,
        (true, true, NanMode::Raw) => quiet(got),
        _ => false,
    }
}

/// A value shown by its kind, for messages.
struct Shown(u128, Kind);

impl std::fmt::Debug for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Shown(value, kind) = *self;
        match kind {
            Kind::I32 => write!(f, "i32:{:#x}", value as u32),
            Kind::I64 => write!(f, "i64:{:#x}", value as u64),
            Kind::F32 => write!(
                f,
                "f32:{:#x}({})",
                value as u32,
                f32::from_bits(value as u32)
            ),
            Kind::F64 => write!(
                f,
                "f64:{:#x}({})",
                value as u64,
                f64::from_bits(value as u64)
            ),
            Kind::V128 => write!(f, "v128:{value:#034x}"),
            Kind::FuncRef | Kind::ExternRef if value == 0 => write!(f, "null"),
            Kind::FuncRef | Kind::ExternRef => write!(f, "non-null"),
        }
    }
}

/// An argument of `kind`: boundary values first, then random bits.
pub fn argument(kind: Kind, rng: &mut Rng) -> u128 {
    match kind {
        Kind::I32 => integer(rng, 32) as u32 as u128,
        Kind::I64 => integer(rng, 64) as u128,
        Kind::F32 => {
            const SPECIAL: &[u32] = &[
                0x0000_0000, // 0
                0x8000_0000, // -0
                0x3f80_0000, // 1
                0xbf80_0000, // -1
                0x7f80_0000, // inf
                0xff80_0000, // -inf
                0x7fc0_0000, // canonical NaN
                0xffc0_0000, // negative canonical NaN
                0x7fa0_0001, // signalling NaN with a payload
                0x7fc0_1234, // quiet NaN with a payload
                0x0000_0001, // smallest subnormal
                0x0080_0000, // smallest normal
                0x7f7f_ffff, // largest
                0x4f00_0000, // 2^31
                0xcf00_0000, // -2^31
                0x5f00_0000, // 2^63
                0x3f00_0000, // 0.5
                0x3fc0_0000, // 1.5
                0x4020_0000, // 2.5
            ];
            match rng.below(3) {
                0 => *rng.pick(SPECIAL) as u128,
                1 => ((integer(rng, 32) as i32) as f32).to_bits() as u128,
                _ => rng.next_u64() as u32 as u128,
            }
        }
        Kind::F64 => {
            const SPECIAL: &[u64] = &[
                0,
                0x8000_0000_0000_0000,
                0x3ff0_0000_0000_0000,
                0xbff0_0000_0000_0000,
                0x7ff0_0000_0000_0000,
                0xfff0_0000_0000_0000,
                0x7ff8_0000_0000_0000,
                0xfff8_0000_0000_0000,
                0x7ff4_0000_0000_0001,
                0x7ff8_0000_0000_1234,
                1,
                0x0010_0000_0000_0000,
                0x7fef_ffff_ffff_ffff,
                0x41e0_0000_0000_0000, // 2^31
                0xc1e0_0000_0000_0000, // -2^31
                0x43e0_0000_0000_0000, // 2^63
                0x3fe0_0000_0000_0000, // 0.5
                0x4004_0000_0000_0000, // 2.5
            ];
            match rng.below(3) {
                0 => *rng.pick(SPECIAL) as u128,
                1 => ((integer(rng, 64) as i64) as f64).to_bits() as u128,
                _ => rng.next_u64() as u128,
            }
        }
        Kind::V128 => match rng.below(4) {
            0 => 0,
            1 => u128::MAX,
            2 => {
                // Four lanes of interesting 32-bit values.
                (0..4).fold(0u128, |acc, _| {
                    (acc << 32) | integer(rng, 32) as u32 as u128
                })
            }
            _ => (rng.next_u64() as u128) << 64 | rng.next_u64() as u128,
        },
        Kind::FuncRef | Kind::ExternRef => 0,
    }
}

/// An integer of `bits` bits, biased to boundaries: small numbers, powers of two and
/// their neighbours, page and memory sizes (addresses near the ends of memories).
fn integer(rng: &mut Rng, bits: u32) -> u64 {
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let value = match rng.below(8) {
        0 => rng.below(17),
        1 => 0u64.wrapping_sub(rng.below(17)),
        2 => {
            let power = 1u64 << rng.below(bits as u64);
            power.wrapping_add(rng.below(5)).wrapping_sub(2)
        }
        3 => {
            // Near the end of a memory of a few 64 KiB pages, or of the size cap.
            let pages = rng.below(crate::smith::MAX_MEMORY_BYTES >> 16) + 1;
            (pages << 16).wrapping_sub(rng.below(33))
        }
        4 => rng.below(256),
        5 => *rng.pick(&[
            i32::MIN as u64,
            i32::MAX as u64,
            i64::MIN as u64,
            i64::MAX as u64,
        ]),
        _ => rng.next_u64(),
    };
    value & mask
}

/// The folder for images and failure reports: `target/fuzz/` of the workspace.
pub fn work_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/fuzz")
        .components()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_compare_by_the_spec_rules() {
        let raw = NanMode::Raw;
        let canonical = NanMode::Canonical;
        let f = F32_LAYOUT;
        assert!(floats_match(0x3f80_0000, 0x3f80_0000, f, raw));
        assert!(
            !floats_match(0x0000_0000, 0x8000_0000, f, raw),
            "zeros keep their sign"
        );
        assert!(
            floats_match(0x7fc0_0000, 0xffc0_0000, f, raw),
            "arithmetic NaNs of any sign"
        );
        assert!(
            floats_match(0x7fc0_0000, 0x7fc0_0001, f, raw),
            "and payload"
        );
        assert!(!floats_match(0x7fc0_0000, 0x7fa0_0000, f, raw), "but quiet");
        assert!(
            !floats_match(0x7fa0_0000, 0x7fc0_0000, f, raw),
            "signalling NaNs are exact"
        );
        assert!(
            !floats_match(0x7fc0_0000, 0x7f80_0000, f, raw),
            "a NaN is not infinity"
        );
        assert!(!floats_match(0x7fc0_0000, 0xffc0_0000, f, canonical));
        assert!(floats_match(0x7fc0_0000, 0x7fc0_0000, f, canonical));
        let d = F64_LAYOUT;
        assert!(floats_match(
            0x7ff8_0000_0000_0000,
            0xfff8_0000_0000_0001,
            d,
            raw
        ));
        assert!(!floats_match(
            0x7ff8_0000_0000_0000,
            0x7ff0_0000_0000_0000,
            d,
            raw
        ));
    }

    #[test]
    fn arguments_have_the_width_of_their_kind() {
        let mut rng = Rng::for_case(3, 4);
        for _ in 0..1000 {
            assert!(argument(Kind::I32, &mut rng) <= u32::MAX as u128);
            assert!(argument(Kind::F64, &mut rng) <= u64::MAX as u128);
            assert_eq!(argument(Kind::FuncRef, &mut rng), 0);
        }
    }
}
