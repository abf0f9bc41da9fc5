//! Sandbox-escape tests (issue 17): compiled code must never get out of its sandbox.
//! Every probe ends in the right trap or the right value, and the host is untouched: the
//! image keeps answering, another instance's memory keeps its bytes, a trapping store
//! writes nothing.
//!
//! - Harness images (protocol in `wafer_abi::harness`), one per place and checks mode,
//!   probe loads and stores of every width at every boundary of a 32-bit memory (the
//!   x86_64 fixed-base one and an ordinary one) and of a 64-bit memory, with static
//!   offsets up to the largest, so that `offset + addr` overflows 32 and 64 bits;
//!   `call_indirect` with the wrong signature, a null element and indices past the
//!   table; table accesses past the end; stack exhaustion by deep recursion and by
//!   frames larger than the guard region, twice (the second overflow must trap like the
//!   first); `memory.grow` past the maximum, and reads of freshly grown memory.
//! - WASI programs run the host inside the sandbox's edge cases: the stack running out
//!   inside host calls, and a guest rewriting its memory as fast as it can between host
//!   calls that read it (every byte the host writes out must be the one the guest had
//!   just stored), with buffers that reach past the memory's end or wrap around 4 GiB,
//!   which the host must refuse with EFAULT.
//!
//! Places: every Linux target (`WAFER_TEST_TARGETS` narrows them), natively or under
//! qemu-user, with and without compiled-in checks; and the `qemu-virt-aarch64` board
//! under qemu-system (`WAFER_TEST_BOARDS` may leave it out), whose images always check
//! explicitly.

#[path = "../common/mod.rs"]
mod common;

use std::path::Path;
use std::time::Duration;

use common::harness::{Harness, Reply};
use wafer::checks::Checks;
use wafer::codegen::InstanceSpec;
use wafer_abi::harness::hash_words;
use wafer_abi::trap::TrapKind;

/// Where images run.
struct Place {
    name: String,
    target: wafer::target::Target,
    /// The emulator or QEMU machine command the image's path follows; empty natively.
    launcher: Vec<String>,
    cpu: Option<&'static str>,
    /// The checks modes to build with.
    checks: Vec<Checks>,
    /// How WASI programs run there.
    runner: Runner,
}

enum Runner {
    Linux(common::TestTarget),
    Board(common::boards::Board),
}

/// The board the tests also run on.
const BOARD: &str = "qemu-virt-aarch64";

fn places() -> Vec<Place> {
    let mut places = Vec::new();
    for linux in common::test_targets() {
        let target = wafer::target::find(linux.name).expect("a Linux target");
        places.push(Place {
            name: linux.name.to_string(),
            launcher: linux
                .emulator
                .map(|e| vec![e.to_string()])
                .unwrap_or_default(),
            // The probes use SIMD; Cranelift needs the V extension for it on riscv64.
            cpu: (target.arch == wafer::target::Arch::Riscv64).then_some("rv64gcv"),
            target,
            checks: vec![Checks::NONE, Checks::ALL],
            runner: Runner::Linux(linux),
        });
    }
    for board in common::boards::boards() {
        if board.name != BOARD {
            continue;
        }
        places.push(Place {
            target: wafer::target::find(&board.name).expect("a board target"),
            launcher: board.qemu.clone(),
            name: board.name.clone(),
            cpu: None,
            checks: vec![Checks::ALL],
            runner: Runner::Board(board),
        });
    }
    places
}

const PAGE: u64 = 1 << 16;

/// One call and what it must give.
#[derive(Debug, Clone)]
struct Probe {
    /// Instance and export position.
    instance: usize,
    export: usize,
    args: Vec<u128>,
    results: usize,
    expect: Expect,
    /// What it tests, for messages.
    what: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Values(Vec<u128>),
    Trap(TrapKind),
    /// A memory export's length and the hash of its bytes.
    Memory(u64, u64),
}

/// An access kind: load and store instructions, width in bytes. Loads give an i64 (the
/// low lane of a vector), stores take one (a vector stores it in both lanes).
struct Access {
    name: &'static str,
    width: u64,
    load: &'static str,
    store: &'static str,
}

const ACCESSES: [Access; 5] = [
    Access {
        name: "8",
        width: 1,
        load: "(i64.load8_u offset=O (local.get 0))",
        store: "(i64.store8 offset=O (local.get 0) (local.get 1))",
    },
    Access {
        name: "16",
        width: 2,
        load: "(i64.load16_u offset=O (local.get 0))",
        store: "(i64.store16 offset=O (local.get 0) (local.get 1))",
    },
    Access {
        name: "32",
        width: 4,
        load: "(i64.load32_u offset=O (local.get 0))",
        store: "(i64.store32 offset=O (local.get 0) (local.get 1))",
    },
    Access {
        name: "64",
        width: 8,
        load: "(i64.load offset=O (local.get 0))",
        store: "(i64.store offset=O (local.get 0) (local.get 1))",
    },
    Access {
        name: "128",
        width: 16,
        load: "(i64x2.extract_lane 0 (v128.load offset=O (local.get 0)))",
        store: "(v128.store offset=O (local.get 0) (i64x2.splat (local.get 1)))",
    },
];

/// The byte a memory under probe starts with at `address`.
fn pattern(address: u64) -> u8 {
    (address.wrapping_mul(7).wrapping_add(3)) as u8
}

/// A one-page memory (32- or 64-bit) filled with [`pattern`] by its start function, a
/// load and a store function per access kind and static offset. Export 0 is the memory;
/// then, per offset and access, the load and the store.
fn memory_module(memory64: bool, offsets: &[u64]) -> String {
    let index = if memory64 { "i64" } else { "i32" };
    let value = match memory64 {
        false => "(i32.add (i32.mul (local.get $i) (i32.const 7)) (i32.const 3))",
        true => "(i32.wrap_i64 (i64.add (i64.mul (local.get $i) (i64.const 7)) (i64.const 3)))",
    };
    let mut text = format!(
        "(module\n  (memory (export \"mem\") {index} 1 1)\n  (start $fill)\n  \
         (func $fill (local $i {index})\n    (loop $next\n      \
         (i32.store8 (local.get $i) {value})\n      \
         (local.set $i ({index}.add (local.get $i) ({index}.const 1)))\n      \
         (br_if $next ({index}.lt_u (local.get $i) ({index}.const {PAGE})))))\n"
    );
    for offset in offsets {
        for access in &ACCESSES {
            let load = access.load.replace('O', &offset.to_string());
            let store = access.store.replace('O', &offset.to_string());
            text.push_str(&format!(
                "  (func (export \"load{}+{offset}\") (param {index}) (result i64) {load})\n\
                 \x20 (func (export \"store{}+{offset}\") (param {index} i64) {store})\n",
                access.name, access.name
            ));
        }
    }
    text.push(')');
    text
}

/// Addresses worth probing for an access of `width` at static `offset` into a memory of
/// `size` bytes whose addresses are below `2^bits`: both sides of the boundary, and
/// those whose sum with the offset wraps around.
fn addresses(width: u64, offset: u64, size: u64, bits: u32) -> Vec<u64> {
    let space = 1u128 << bits;
    let wrap = |value: i128| -> Option<u64> {
        (value >= 0 && (value as u128) < space).then_some(value as u64)
    };
    let end = size as i128 - width as i128 - offset as i128;
    let mut candidates: Vec<i128> = vec![0, 1, end - 1, end, end + 1, end + width as i128];
    candidates.extend([size as i128 - 1, size as i128, 0x8000_0000, 0xffff_ffff]);
    // addr + offset == 2^32 (a 32-bit sum would wrap to 0), and 2^64 for 64-bit.
    for sum in [1i128 << 32, 1i128 << 64] {
        candidates.extend([sum - offset as i128, sum - offset as i128 - 1]);
        candidates.push(sum - offset as i128 + 8);
    }
    if bits == 64 {
        candidates.extend([1 << 32, (1 << 32) + 8, u64::MAX as i128, i64::MAX as i128]);
    }
    let mut out: Vec<u64> = candidates.into_iter().filter_map(wrap).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The probes of a memory module at `instance`, and its memory after them.
fn memory_probes(instance: usize, memory64: bool, offsets: &[u64], probes: &mut Vec<Probe>) {
    let bits = if memory64 { 64 } else { 32 };
    let mut memory: Vec<u8> = (0..PAGE).map(pattern).collect();
    let mut export = 1;
    for &offset in offsets {
        for access in &ACCESSES {
            let (load, store) = (export, export + 1);
            export += 2;
            for address in addresses(access.width, offset, PAGE, bits) {
                let at = address as u128 + offset as u128;
                let inside = at + access.width as u128 <= PAGE as u128;
                let what = format!(
                    "instance {instance} ({}-bit) {}-byte access at {address:#x} + offset {offset:#x}",
                    bits, access.width
                );
                let loaded = inside.then(|| {
                    let bytes = &memory[at as usize..][..access.width.min(8) as usize];
                    let mut value = [0u8; 8];
                    value[..bytes.len()].copy_from_slice(bytes);
                    u64::from_le_bytes(value) as u128
                });
                probes.push(Probe {
                    instance,
                    export: load,
                    args: vec![address as u128],
                    results: 1,
                    expect: loaded.map_or(Expect::Trap(TrapKind::MemoryOutOfBounds), |v| {
                        Expect::Values(vec![v])
                    }),
                    what: format!("load: {what}"),
                });
                let value = 0x0102_0304_0506_0708u64 ^ address.rotate_left(17);
                probes.push(Probe {
                    instance,
                    export: store,
                    args: vec![address as u128, value as u128],
                    results: 0,
                    expect: match inside {
                        true => Expect::Values(Vec::new()),
                        false => Expect::Trap(TrapKind::MemoryOutOfBounds),
                    },
                    what: format!("store: {what}"),
                });
                if inside {
                    let bytes: Vec<u8> = value
                        .to_le_bytes()
                        .iter()
                        .cycle()
                        .take(access.width as usize)
                        .copied()
                        .collect();
                    memory[at as usize..][..bytes.len()].copy_from_slice(&bytes);
                }
                // A store that traps writes nothing, not even the part inside.
                probes.push(Probe {
                    instance,
                    export: 0,
                    args: Vec::new(),
                    results: 0,
                    expect: Expect::Memory(PAGE, hash_words(&memory)),
                    what: format!("memory after the store: {what}"),
                });
            }
        }
    }
}

const TABLES: &str = r#"(module
  (type $ii (func (param i32) (result i32)))
  (type $l (func (result i64)))
  (table $t 4 funcref)
  (elem (i32.const 0) func $f $g)
  (func $f (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (func $g (type $l) (i64.const 7))
  (func (export "call") (param i32 i32) (result i32)
    (call_indirect (type $ii) (local.get 1) (local.get 0)))
  (func (export "is_null") (param i32) (result i32) (ref.is_null (table.get (local.get 0))))
  (func (export "clear") (param i32) (table.set (local.get 0) (ref.null func)))
  (func (export "fill") (param i32 i32) (table.fill (local.get 0) (ref.null func) (local.get 1))))"#;

fn table_probes(instance: usize, probes: &mut Vec<Probe>) {
    let mut probe = |export: usize, args: Vec<u128>, results: usize, expect: Expect, what: &str| {
        probes.push(Probe {
            instance,
            export,
            args,
            results,
            expect,
            what: what.to_string(),
        })
    };
    let values = |v: u128| Expect::Values(vec![v]);
    probe(
        0,
        vec![0, 41],
        1,
        values(42),
        "call_indirect of the right type",
    );
    let mismatch = Expect::Trap(TrapKind::IndirectCallTypeMismatch);
    probe(
        0,
        vec![1, 41],
        1,
        mismatch,
        "call_indirect, wrong signature",
    );
    let null = Expect::Trap(TrapKind::UninitializedElement);
    probe(0, vec![2, 41], 1, null, "call_indirect of a null element");
    for index in [4u128, 5, 0x8000_0000, 0xffff_ffff] {
        let what = format!("call_indirect at index {index:#x} of a 4-element table");
        probe(
            0,
            vec![index, 1],
            1,
            Expect::Trap(TrapKind::UndefinedElement),
            &what,
        );
        let what = format!("table.get at {index:#x}");
        probe(
            1,
            vec![index],
            1,
            Expect::Trap(TrapKind::TableOutOfBounds),
            &what,
        );
        let what = format!("table.set at {index:#x}");
        probe(
            2,
            vec![index],
            0,
            Expect::Trap(TrapKind::TableOutOfBounds),
            &what,
        );
    }
    // table.fill from 3 for 2 elements, and for 2^32 - 1 (a wrapping end): nothing is
    // written, and $f at 0 is still callable.
    let oob = Expect::Trap(TrapKind::TableOutOfBounds);
    probe(3, vec![3, 2], 0, oob.clone(), "table.fill past the end");
    probe(
        3,
        vec![1, 0xffff_ffff],
        0,
        oob,
        "table.fill with a wrapping length",
    );
    probe(
        1,
        vec![1],
        1,
        values(0),
        "the element table.fill did not clear",
    );
    probe(0, vec![0, 1], 1, values(2), "call_indirect after the traps");
}

/// Recursion without end; a recursive function whose frame (about 72 KiB of live
/// values) is larger than the 64 KiB guard region; and one that returns.
fn stack_module() -> String {
    const VALUES: usize = 9000;
    let mut text = String::from(
        "(module (memory 2)\n\
         (func $rec (export \"rec\") (param i64) (result i64)\n  \
         (i64.add (call $rec (i64.add (local.get 0) (i64.const 1))) (i64.const 1)))\n\
         (func (export \"ok\") (result i64) (i64.const 42))\n\
         (func $huge (export \"huge\") (param $p i32) (result i64)\n",
    );
    for i in 0..VALUES {
        text.push_str(&format!("  (i64.load offset={} (local.get $p))\n", i * 8));
    }
    text.push_str(
        "  (call $huge (i32.and (i32.add (local.get $p) (i32.const 8)) (i32.const 0xff)))\n",
    );
    text.push_str(&"  i64.add\n".repeat(VALUES));
    text.push_str("))");
    text
}

fn stack_probes(instance: usize, probes: &mut Vec<Probe>) {
    let exhausted = Expect::Trap(TrapKind::StackExhausted);
    let ok = Expect::Values(vec![42]);
    for round in 0..2 {
        for (export, args, what) in [(0, vec![0], "deep recursion"), (2, vec![0], "huge frames")] {
            probes.push(Probe {
                instance,
                export,
                args,
                results: 1,
                expect: exhausted.clone(),
                what: format!("{what}, overflow {}", round + 1),
            });
            probes.push(Probe {
                instance,
                export: 1,
                args: Vec::new(),
                results: 1,
                expect: ok.clone(),
                what: format!("a call after {what}"),
            });
        }
    }
}

const GROW: &str = r#"(module
  (memory (export "mem") 1 3)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "load") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "store") (param i32 i64) (i64.store (local.get 0) (local.get 1))))"#;

fn grow_probes(instance: usize, probes: &mut Vec<Probe>) {
    let mut memory = vec![0u8; PAGE as usize];
    let failed = u32::MAX as u128;
    let oob = Expect::Trap(TrapKind::MemoryOutOfBounds);
    let mut steps: Vec<(usize, Vec<u128>, usize, Expect, String)> = Vec::new();
    let mut step = |export, args: Vec<u128>, results, expect, what: &str| {
        steps.push((export, args, results, expect, what.to_string()))
    };
    let values = |v: u128| Expect::Values(vec![v]);
    step(
        3,
        vec![PAGE as u128],
        1,
        oob.clone(),
        "a load just past the first page",
    );
    for pages in [3u128, 0x1_0000, 0xffff, 0xffff_ffff, 0x8000_0000] {
        let what = format!("memory.grow by {pages:#x} pages past the maximum of 3");
        step(1, vec![pages], 1, values(failed), &what);
    }
    step(2, vec![], 1, values(1), "memory.size after refused growth");
    step(1, vec![1], 1, values(1), "memory.grow by one page");
    step(
        3,
        vec![PAGE as u128],
        1,
        values(0),
        "the grown page reads as zeros",
    );
    step(
        3,
        vec![2 * PAGE as u128 - 8],
        1,
        values(0),
        "the grown page's last word",
    );
    step(
        3,
        vec![2 * PAGE as u128 - 7],
        1,
        oob.clone(),
        "a load across the new end",
    );
    step(
        4,
        vec![2 * PAGE as u128 - 8, 0x1122_3344_5566_7788],
        0,
        Expect::Values(vec![]),
        "a store at the new end",
    );
    step(
        4,
        vec![2 * PAGE as u128 - 4, 1],
        0,
        oob.clone(),
        "a store across the new end",
    );
    step(
        3,
        vec![2 * PAGE as u128 - 8],
        1,
        values(0x1122_3344_5566_7788),
        "the stored word",
    );
    step(1, vec![1], 1, values(2), "memory.grow to the maximum");
    step(
        1,
        vec![1],
        1,
        values(failed),
        "memory.grow past the maximum",
    );
    step(
        3,
        vec![3 * PAGE as u128 - 8],
        1,
        values(0),
        "the last page reads as zeros",
    );
    step(3, vec![3 * PAGE as u128], 1, oob, "a load past the maximum");
    for (export, args, results, expect, what) in steps {
        probes.push(Probe {
            instance,
            export,
            args,
            results,
            expect,
            what,
        });
    }
    memory.resize(3 * PAGE as usize, 0);
    memory[2 * PAGE as usize - 8..][..8].copy_from_slice(&0x1122_3344_5566_7788u64.to_le_bytes());
    probes.push(Probe {
        instance,
        export: 0,
        args: Vec::new(),
        results: 0,
        expect: Expect::Memory(3 * PAGE, hash_words(&memory)),
        what: "the grown memory".into(),
    });
}

/// A module whose memory nothing may touch: its bytes are checked last.
const CANARY: &str = r#"(module
  (memory (export "mem") 1)
  (data (i32.const 0) "canary: the host and other instances are untouched")
  (data (i32.const 65520) "the last bytes..")
  (func (export "first") (result i64) (i64.load (i32.const 0))))"#;

fn canary_memory() -> Vec<u8> {
    let mut memory = vec![0u8; PAGE as usize];
    let text = b"canary: the host and other instances are untouched";
    memory[..text.len()].copy_from_slice(text);
    memory[65520..].copy_from_slice(b"the last bytes..");
    memory
}

/// The image's instances, and every probe in order.
fn image_and_probes() -> (Vec<Vec<u8>>, Vec<Probe>) {
    let offsets32 = [0, 1, 0xfff0, 0x1_0000, 0x7fff_ffff, 0xffff_ffff];
    let offsets64 = [
        0,
        1,
        0xffff,
        0xffff_ffff,
        0x1_0000_0000,
        0xffff_ffff_ffff_fff0,
    ];
    let parse = |text: &str| wat::parse_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let memory32 = parse(&memory_module(false, &offsets32));
    // Instance 0 has the image's first 32-bit memory (on x86_64 at the fixed base,
    // addressed with its offset folded into the instruction); instance 1 an ordinary one.
    let instances = vec![
        memory32.clone(),
        memory32,
        parse(&memory_module(true, &offsets64)),
        parse(TABLES),
        parse(&stack_module()),
        parse(GROW),
        parse(CANARY),
    ];
    let mut probes = Vec::new();
    memory_probes(0, false, &offsets32, &mut probes);
    memory_probes(1, false, &offsets32, &mut probes);
    memory_probes(2, true, &offsets64, &mut probes);
    table_probes(3, &mut probes);
    stack_probes(4, &mut probes);
    grow_probes(5, &mut probes);
    probes.push(Probe {
        instance: 6,
        export: 0,
        args: Vec::new(),
        results: 0,
        expect: Expect::Memory(PAGE, hash_words(&canary_memory())),
        what: "the canary's memory at the end".into(),
    });
    probes.push(Probe {
        instance: 6,
        export: 1,
        args: Vec::new(),
        results: 1,
        expect: Expect::Values(vec![u64::from_le_bytes(*b"canary: ") as u128]),
        what: "the canary's first word at the end".into(),
    });
    (instances, probes)
}

/// Runs every probe on one image; returns the failures.
fn run_probes(image: &Path, place: &Place, probes: &[Probe]) -> Vec<String> {
    let mut harness = match Harness::start(image, &place.launcher) {
        Ok(harness) => harness,
        Err(e) => return vec![e],
    };
    harness.set_timeout(Duration::from_secs(120));
    let mut failures = Vec::new();
    for k in 0..7 {
        if let Err(e) = harness
            .command(&format!("i {k:x}"))
            .and_then(|reply| match reply {
                Reply::Ok(_) => Ok(()),
                other => Err(format!("{other:?}")),
            })
        {
            return vec![format!("instantiating {k}: {e}")];
        }
    }
    // Pipelined in batches: a board answers over its UART.
    for batch in probes.chunks(256) {
        for probe in batch {
            let command = match probe.expect {
                Expect::Memory(..) => format!("m {:x} {:x}", probe.instance, probe.export),
                _ => {
                    let mut command = format!(
                        "c {:x} {:x} {:x}",
                        probe.instance, probe.export, probe.results
                    );
                    for arg in &probe.args {
                        command.push_str(&format!(" {arg:x}"));
                    }
                    command
                }
            };
            if let Err(e) = harness.send(&command) {
                return [failures, vec![e]].concat();
            }
        }
        for probe in batch {
            let reply = match harness.receive(&probe.what) {
                Ok(reply) => reply,
                Err(e) => {
                    failures.push(format!("{}: {e}", probe.what));
                    return failures;
                }
            };
            let good = match (&probe.expect, &reply) {
                (Expect::Values(want), Reply::Ok(got)) => want == got,
                (Expect::Trap(kind), Reply::Trap(got)) => *kind as u8 == *got,
                (Expect::Memory(length, hash), Reply::Ok(got)) => {
                    got.as_slice() == [*length as u128, *hash as u128]
                }
                _ => false,
            };
            if !good {
                let shown = match &reply {
                    Reply::Trap(code) => TrapKind::from_u8(*code)
                        .map_or(format!("trap {code}"), |k| format!("trap: {}", k.message())),
                    Reply::Ok(values) => format!("{values:x?}"),
                };
                failures.push(format!(
                    "{}: expected {:x?}, got {shown}",
                    probe.what, probe.expect
                ));
            }
        }
    }
    failures
}

#[test]
fn every_boundary_traps_and_leaves_the_host_untouched() {
    let (instances, probes) = image_and_probes();
    let specs: Vec<InstanceSpec<'_>> = instances
        .iter()
        .map(|wasm| InstanceSpec {
            wasm,
            imports: Default::default(),
        })
        .collect();
    let dir = common::scratch("sandbox-probes");
    let mut failures = Vec::new();
    let mut ran = 0;
    for place in places() {
        for checks in &place.checks {
            let image =
                wafer::driver::build_harness(&specs, &place.target, place.cpu, *checks, None)
                    .unwrap_or_else(|e| {
                        panic!("{}: instance {}: {}", place.name, e.instance, e.error)
                    });
            let path = dir.join(format!(
                "probes-{}-{}",
                place.name,
                checks.to_string().replace(',', "+")
            ));
            std::fs::write(&path, image).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            for failure in run_probes(&path, &place, &probes) {
                failures.push(format!("{} (checks {checks}): {failure}", place.name));
            }
            ran += 1;
        }
    }
    assert!(ran > 0, "no place to run on");
    assert!(
        failures.is_empty(),
        "{} of {} probes failed:\n{}",
        failures.len(),
        probes.len() * ran,
        failures.join("\n")
    );
}

/// What a WASI program did on one place: exit status and output (a board's console
/// holds both streams).
fn run_program(
    place: &Place,
    wat: &Path,
    checks: Checks,
    dir: &Path,
) -> Result<common::Outcome, String> {
    let image = dir.join(format!(
        "{}-{}-{}",
        wat.file_stem().unwrap().to_string_lossy(),
        place.name,
        checks.to_string().replace(',', "+")
    ));
    let mut flags = vec!["--target", place.name.as_str(), "--checks"];
    let checks_text = checks.to_string();
    flags.push(&checks_text);
    let built = common::wafer_build(wat, &image, &flags);
    if built.code != 0 {
        return Err(format!("build failed: {}", built.stderr));
    }
    match &place.runner {
        Runner::Board(board) => board.boot(&image, None, Duration::from_secs(300)),
        Runner::Linux(target) => Ok(common::run_command(&mut target.command(&image))),
    }
}

#[test]
fn host_calls_meet_the_sandbox_edges() {
    let dir = common::scratch("sandbox-programs");
    let programs = common::tests_dir().join("sandbox");
    // The byte fd_write writes out in each round: the one the guest stored last.
    let expected: String = (0u32..3000)
        .map(|round| (65 + (round * 31 + ((round * 13) & 4095)) % 26) as u8 as char)
        .collect();
    let mut failures = Vec::new();
    for place in places() {
        for &checks in &place.checks {
            let at = format!("{} (checks {checks})", place.name);
            match run_program(&place, &programs.join("hammer.wat"), checks, &dir) {
                Ok(outcome) if outcome.code == 0 && outcome.stdout.contains(&expected) => {}
                Ok(outcome) => failures.push(format!(
                    "{at}: hammer.wat exited {} (a code from 10 is a failed check) with {} bytes of output{}",
                    outcome.code,
                    outcome.stdout.len(),
                    if outcome.stdout.contains(&expected) { "" } else { ", not the bytes the guest stored" }
                )),
                Err(e) => failures.push(format!("{at}: hammer.wat: {e}")),
            }
            match run_program(&place, &programs.join("host_stack.wat"), checks, &dir) {
                Ok(outcome)
                    if outcome.code == 134
                        && (outcome.stderr.contains("wafer: trap: call stack exhausted")
                            || outcome.stdout.contains("wafer: trap: call stack exhausted")) => {}
                Ok(outcome) => failures.push(format!("{at}: host_stack.wat: {outcome:?}")),
                Err(e) => failures.push(format!("{at}: host_stack.wat: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
