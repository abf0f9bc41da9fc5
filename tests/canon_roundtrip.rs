//! The canonical ABI through a real image (issue 17, part 3): random values of random
//! component types are lowered into a component's memory and lifted back by the runtime
//! of a component harness image, natively and under qemu-user; corrupted memory and
//! undecodable arguments must end in a trap or an error reply, never in a crash.
//!
//! Each random type `T` gets a component whose exports are identities at the core level:
//!
//! - `echo: func(x: T, pad: tuple<u64 x 16>) -> tuple<T, tuple<u64 x 16>>`: the
//!   parameters take more than 16 flat values, so the image stores them in the
//!   component's memory (through its `realloc`, strings in the component's encoding,
//!   picked at random) and passes a pointer; the core function returns that pointer, and
//!   the image loads the results from the same bytes;
//! - `id: func(x: T) -> T` when `T` is one flat value: lowered and lifted flat;
//! - `corrupt`: `echo`, but the core function flips random bytes of the component's heap
//!   (the arguments, their strings and lists) before returning.
//!
//! Bounded for CI: `WAFER_FUZZ_CASES` types per target (default 40), from the fixed seed
//! `WAFER_FUZZ_SEED` (default 1); `WAFER_TEST_TARGETS` narrows the targets.

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write as _;

use wafer_abi::trap::TrapKind;
use wafer_canon::encode::{decode_vals, encode_vals};
use wafer_canon::{Case, Field, FuncType, PtrType, Str, TypeId, Types, Val, ValType};

/// SplitMix64: small, fast and seedable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

const PRIMITIVES: [TypeId; 13] = [
    TypeId::BOOL,
    TypeId::S8,
    TypeId::U8,
    TypeId::S16,
    TypeId::U16,
    TypeId::S32,
    TypeId::U32,
    TypeId::S64,
    TypeId::U64,
    TypeId::F32,
    TypeId::F64,
    TypeId::CHAR,
    TypeId::STRING,
];

fn labels(count: u64, prefix: &str) -> Box<[Box<str>]> {
    (0..count).map(|i| format!("{prefix}{i}").into()).collect()
}

/// A random value type (no handles: the harness has none to pass) at most `depth`
/// deep.
fn random_type(rng: &mut Rng, types: &mut Types, depth: u32) -> TypeId {
    if depth <= 1 || rng.chance(3) {
        return PRIMITIVES[rng.below(PRIMITIVES.len() as u64) as usize];
    }
    let mut sub = |rng: &mut Rng| random_type(rng, types, depth - 1);
    let ty = match rng.below(11) {
        0 => ValType::List(sub(rng)),
        1 => ValType::FixedList(sub(rng), 1 + rng.below(3) as u32),
        2 => ValType::Record(
            (0..1 + rng.below(4))
                .map(|i| Field {
                    name: format!("f{i}").into(),
                    ty: sub(rng),
                })
                .collect(),
        ),
        3 => ValType::Tuple((0..1 + rng.below(4)).map(|_| sub(rng)).collect()),
        4 => ValType::Variant(
            (0..1 + rng.below(5))
                .map(|i| Case {
                    name: format!("c{i}").into(),
                    ty: (!rng.chance(3)).then(|| sub(rng)),
                })
                .collect(),
        ),
        5 => ValType::Enum(labels(1 + rng.below(5), "e")),
        6 => ValType::Option(sub(rng)),
        7 => ValType::Result {
            ok: (!rng.chance(3)).then(|| sub(rng)),
            err: (!rng.chance(3)).then(|| sub(rng)),
        },
        8 => ValType::Flags(labels(1 + rng.below(32), "g")),
        9 => {
            let key =
                [TypeId::U8, TypeId::S64, TypeId::CHAR, TypeId::STRING][rng.below(4) as usize];
            ValType::Map(key, sub(rng))
        }
        // Cases of every core type, so flat joins are taken.
        _ => ValType::Variant(
            [
                TypeId::U8,
                TypeId::F32,
                TypeId::F64,
                TypeId::U64,
                TypeId::STRING,
            ]
            .iter()
            .enumerate()
            .map(|(i, &ty)| Case {
                name: format!("j{i}").into(),
                ty: Some(ty),
            })
            .collect(),
        ),
    };
    types.add(ty).expect("random types are valid")
}

fn random_char(rng: &mut Rng) -> char {
    let ranges = [
        (0x20, 0x7f),
        (0x80, 0x100),
        (0x100, 0xd800),
        (0xe000, 0x10000),
        (0x10000, 0x110000),
    ];
    let (low, high) = ranges[rng.below(5) as usize];
    char::from_u32(low + rng.below(u64::from(high - low)) as u32).expect("a scalar value")
}

fn random_val(rng: &mut Rng, types: &Types, ty: TypeId) -> Val {
    match types.get(ty) {
        ValType::Bool => Val::Bool(rng.chance(2)),
        ValType::S8 => Val::S8(rng.next() as i8),
        ValType::U8 => Val::U8(rng.next() as u8),
        ValType::S16 => Val::S16(rng.next() as i16),
        ValType::U16 => Val::U16(rng.next() as u16),
        ValType::S32 => Val::S32(rng.next() as i32),
        ValType::U32 => Val::U32(rng.next() as u32),
        ValType::S64 => Val::S64(rng.next() as i64),
        ValType::U64 => Val::U64(rng.next()),
        ValType::F32 => Val::F32(f32::from_bits(rng.next() as u32)),
        ValType::F64 => Val::F64(f64::from_bits(rng.next())),
        ValType::Char => Val::Char(random_char(rng)),
        ValType::String => {
            let len = rng.below(8);
            // Some strings stay within latin1, so every transcoding path is taken.
            let text: String = match rng.below(3) {
                0 => (0..len)
                    .map(|_| char::from(b'a' + rng.below(26) as u8))
                    .collect(),
                1 => (0..len).map(|_| char::from(rng.below(256) as u8)).collect(),
                _ => (0..len).map(|_| random_char(rng)).collect(),
            };
            Val::String(Str::from(text))
        }
        ValType::List(elem) => {
            let elem = *elem;
            Val::List(
                (0..rng.below(4))
                    .map(|_| random_val(rng, types, elem))
                    .collect(),
            )
        }
        ValType::FixedList(elem, len) => {
            let elem = *elem;
            Val::List((0..*len).map(|_| random_val(rng, types, elem)).collect())
        }
        ValType::Record(fields) => Val::Record(
            fields
                .iter()
                .map(|field| random_val(rng, types, field.ty))
                .collect(),
        ),
        ValType::Tuple(elems) => {
            Val::Tuple(elems.iter().map(|ty| random_val(rng, types, *ty)).collect())
        }
        ValType::Variant(cases) => {
            let index = rng.below(cases.len() as u64) as usize;
            let payload = cases[index]
                .ty
                .map(|ty| Box::new(random_val(rng, types, ty)));
            Val::Variant(index as u32, payload)
        }
        ValType::Enum(labels) => Val::Enum(rng.below(labels.len() as u64) as u32),
        ValType::Option(some) => {
            let some = *some;
            Val::Option((!rng.chance(3)).then(|| Box::new(random_val(rng, types, some))))
        }
        ValType::Result { ok, err } => {
            let side = |rng: &mut Rng, ty: Option<TypeId>| {
                ty.map(|ty| Box::new(random_val(rng, types, ty)))
            };
            Val::Result(if rng.chance(2) {
                Ok(side(rng, *ok))
            } else {
                Err(side(rng, *err))
            })
        }
        ValType::Flags(labels) => {
            let bits = if labels.len() == 32 {
                u32::MAX
            } else {
                (1u32 << labels.len()) - 1
            };
            Val::Flags(rng.next() as u32 & bits)
        }
        ValType::Map(key, value) => {
            let (key, value) = (*key, *value);
            Val::Map(
                (0..rng.below(3))
                    .map(|_| (random_val(rng, types, key), random_val(rng, types, value)))
                    .collect(),
            )
        }
        other => unreachable!("the generator makes no {other:?}"),
    }
}

/// Writes `id` as the component text format names it: a primitive, or the type (a
/// nominal one by its export, as exported functions' types must name them).
fn type_ref(types: &Types, id: TypeId) -> String {
    match types.get(id) {
        ValType::Bool => "bool".into(),
        ValType::S8 => "s8".into(),
        ValType::U8 => "u8".into(),
        ValType::S16 => "s16".into(),
        ValType::U16 => "u16".into(),
        ValType::S32 => "s32".into(),
        ValType::U32 => "u32".into(),
        ValType::S64 => "s64".into(),
        ValType::U64 => "u64".into(),
        ValType::F32 => "f32".into(),
        ValType::F64 => "f64".into(),
        ValType::Char => "char".into(),
        ValType::String => "string".into(),
        ValType::Record(_) | ValType::Variant(_) | ValType::Enum(_) | ValType::Flags(_) => {
            format!("$x{}", id.index())
        }
        _ => format!("$t{}", id.index()),
    }
}

/// The definition of non-primitive type `id`.
fn type_def(types: &Types, id: TypeId) -> String {
    let r = |id: TypeId| type_ref(types, id);
    let quoted = |labels: &[Box<str>]| {
        labels
            .iter()
            .map(|l| format!("\"{l}\""))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match types.get(id) {
        ValType::List(elem) => format!("(list {})", r(*elem)),
        ValType::FixedList(elem, len) => format!("(list {} {len})", r(*elem)),
        ValType::Record(fields) => format!(
            "(record {})",
            fields
                .iter()
                .map(|f| format!("(field \"{}\" {})", f.name, r(f.ty)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        ValType::Tuple(elems) => format!(
            "(tuple {})",
            elems.iter().map(|t| r(*t)).collect::<Vec<_>>().join(" ")
        ),
        ValType::Variant(cases) => format!(
            "(variant {})",
            cases
                .iter()
                .map(|c| match c.ty {
                    Some(ty) => format!("(case \"{}\" {})", c.name, r(ty)),
                    None => format!("(case \"{}\")", c.name),
                })
                .collect::<Vec<_>>()
                .join(" ")
        ),
        ValType::Enum(labels) => format!("(enum {})", quoted(labels)),
        ValType::Flags(labels) => format!("(flags {})", quoted(labels)),
        ValType::Option(some) => format!("(option {})", r(*some)),
        ValType::Result { ok, err } => {
            let mut text = "(result".to_string();
            if let Some(ok) = ok {
                write!(text, " {}", r(*ok)).unwrap();
            }
            if let Some(err) = err {
                write!(text, " (error {})", r(*err)).unwrap();
            }
            text + ")"
        }
        ValType::Map(key, value) => format!("(map {} {})", r(*key), r(*value)),
        other => unreachable!("no definition for {other:?}"),
    }
}

/// The string encodings a component may pick.
const ENCODINGS: [&str; 3] = ["utf8", "utf16", "latin1+utf16"];

/// The core identity of each flat core type, and the names of the test's core module.
const CORE_MODULE: &str = r#"
  (core module $M
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 1024))
    (global $seed (mut i64) (i64.const SEED))
    ;; A bump allocator that keeps a block's contents when it moves, and grows the
    ;; memory as needed.
    (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32)
        (param $size i32) (result i32)
      (local $ptr i32) (local $end i32)
      (local.set $ptr (i32.and
        (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $ptr) (local.get $size)))
      (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
        (then (if (i32.eq (i32.const -1) (memory.grow (i32.add (i32.const 1)
              (i32.shr_u (i32.sub (local.get $end) (i32.shl (memory.size) (i32.const 16)))
                (i32.const 16)))))
          (then unreachable))))
      (if (local.get $old_size)
        (then (memory.copy (local.get $ptr) (local.get $old)
          (select (local.get $old_size) (local.get $size)
            (i32.lt_u (local.get $old_size) (local.get $size))))))
      (global.set $next (local.get $end))
      (local.get $ptr))
    (func (export "echo") (param i32) (result i32) (local.get 0))
    ;; Flips about one byte in eight of the heap (arguments, strings, lists).
    (func (export "corrupt") (param $p i32) (result i32)
      (local $at i32) (local $x i64)
      (local.set $at (i32.const 1024))
      (block $done (loop $bytes
        (br_if $done (i32.ge_u (local.get $at) (global.get $next)))
        (local.set $x (global.get $seed))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
        (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
        (global.set $seed (local.get $x))
        (if (i64.eqz (i64.and (local.get $x) (i64.const 7)))
          (then (i32.store8 (local.get $at) (i32.xor (i32.load8_u (local.get $at))
            (i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const 8)))))))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (br $bytes)))
      (local.get $p))
    (func (export "id-i32") (param i32) (result i32) (local.get 0))
    (func (export "id-i64") (param i64) (result i64) (local.get 0))
    (func (export "id-f32") (param f32) (result f32) (local.get 0))
    (func (export "id-f64") (param f64) (result f64) (local.get 0))
  )
  (core instance $m (instantiate $M))
"#;

/// One random type's component.
struct TypeCase {
    types: Types,
    ty: TypeId,
    /// `echo`, `corrupt` and, for a one-value type, `id`.
    echo: FuncType,
    id: Option<FuncType>,
    text: String,
}

fn case(rng: &mut Rng) -> TypeCase {
    let mut types = Types::new();
    let ty = random_type(rng, &mut types, 4);
    let pad = types
        .add(ValType::Tuple(vec![TypeId::U64; 16].into()))
        .expect("a tuple of u64s");
    let result = types
        .add(ValType::Tuple(vec![ty, pad].into()))
        .expect("the result tuple");
    let encoding = ENCODINGS[rng.below(3) as usize];
    let mut text = String::from("(component\n");
    text.push_str(&CORE_MODULE.replace("SEED", &(rng.next() >> 1 | 1).to_string()));
    for (id, def) in types.iter().skip(TypeId::PRIMITIVES as usize) {
        let _ = def;
        writeln!(text, "  (type $t{} {})", id.index(), type_def(&types, id)).unwrap();
        if type_ref(&types, id).starts_with("$x") {
            writeln!(text, "  (export $x{0} \"t{0}\" (type $t{0}))", id.index()).unwrap();
        }
    }
    let options = format!(
        "(memory (core memory $m \"mem\")) (realloc (core func $m \"realloc\")) string-encoding={encoding}"
    );
    for (name, core) in [("echo", "echo"), ("corrupt", "corrupt")] {
        writeln!(
            text,
            "  (func (export \"{name}\") (param \"x\" {}) (param \"pad\" {}) (result {}) \
             (canon lift (core func $m \"{core}\") {options}))",
            type_ref(&types, ty),
            type_ref(&types, pad),
            type_ref(&types, result)
        )
        .unwrap();
    }
    let flat = types.flatten(ty, PtrType::I32);
    let id = (flat.len() == 1).then(|| {
        let core = match flat[0] {
            wafer_canon::CoreType::I32 => "id-i32",
            wafer_canon::CoreType::I64 => "id-i64",
            wafer_canon::CoreType::F32 => "id-f32",
            wafer_canon::CoreType::F64 => "id-f64",
        };
        writeln!(
            text,
            "  (func (export \"id\") (param \"x\" {0}) (result {0}) \
             (canon lift (core func $m \"{core}\") {options}))",
            type_ref(&types, ty)
        )
        .unwrap();
        FuncType {
            params: vec![ty],
            results: vec![ty],
            is_async: false,
        }
    });
    text.push_str(")\n");
    TypeCase {
        echo: FuncType {
            params: vec![ty, pad],
            results: vec![result],
            is_async: false,
        },
        id,
        types,
        ty,
        text,
    }
}

/// The exports of a case's component in the image's order (the plan sorts them by name).
fn export_index(wasm: &[u8], name: &str) -> usize {
    let plan = wafer::component::translate(wasm).expect("the component translates");
    plan.exports
        .iter()
        .position(|export| export.name == name)
        .expect("the export exists")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What an image answered a call with.
enum Answer {
    Values(Vec<u8>),
    Trap(TrapKind),
    Error(String),
}

fn call(harness: &mut common::harness::Harness, command: &str) -> Result<Answer, String> {
    let line = harness.request(command)?;
    let mut words = line.split_whitespace();
    Ok(match words.next() {
        Some("ok") => Answer::Values(
            (0..line.len().saturating_sub(3))
                .step_by(2)
                .map(|at| u8::from_str_radix(&line[3 + at..3 + at + 2], 16))
                .collect::<Result<_, _>>()
                .map_err(|e| format!("bad reply `{line}`: {e}"))?,
        ),
        Some("trap") => Answer::Trap(
            words
                .next()
                .and_then(|code| code.parse().ok())
                .and_then(TrapKind::from_u8)
                .ok_or_else(|| format!("bad trap reply `{line}`"))?,
        ),
        Some("error") => Answer::Error(line.clone()),
        _ => return Err(format!("bad reply `{line}`")),
    })
}

#[test]
fn random_values_round_trip_through_images_and_bad_ones_trap() {
    let cases: usize = std::env::var("WAFER_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let seed: u64 = std::env::var("WAFER_FUZZ_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let scratch = common::scratch("canon-roundtrip");
    let mut failures = common::Failures::default();
    let (mut round_trips, mut traps, mut corrupt_ok, mut rejected) = (0, 0, 0, 0);
    for target in common::test_targets() {
        let mut rng = Rng(seed);
        let cases: Vec<TypeCase> = (0..cases).map(|_| case(&mut rng)).collect();
        // Two instances of each component: one round-trips, one gets corrupted (a trap
        // poisons its instance).
        let wasm: Vec<Vec<u8>> = cases
            .iter()
            .map(|case| wat::parse_str(&case.text).unwrap_or_else(|e| panic!("{e}\n{}", case.text)))
            .collect();
        let plans: Vec<_> = wasm
            .iter()
            .chain(&wasm)
            .map(|wasm| wafer::component::translate(wasm).expect("the component translates"))
            .collect();
        let spec = wafer::target::find(target.name).expect("a wafer target");
        let image = wafer::driver::build_component_harness(
            &plans,
            &spec,
            None,
            wafer::checks::Checks::default(),
        )
        .unwrap_or_else(|e| panic!("{}: {}", target.name, e.error));
        let path = scratch.join(format!("image.{}", target.name));
        std::fs::write(&path, image).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let launcher: Vec<String> = target.emulator.iter().map(|e| e.to_string()).collect();
        let mut harness = common::harness::Harness::start(&path, &launcher)
            .unwrap_or_else(|e| panic!("{}: {e}", target.name));
        for k in 0..2 * cases.len() {
            let reply = harness.request(&format!("n {k:x}")).unwrap();
            assert_eq!(reply, "ok", "{}: instantiating component {k}", target.name);
        }
        for (k, (case, wasm)) in cases.iter().zip(&wasm).enumerate() {
            let context = |what: &str| format!("{} case {k} ({what}):\n{}", target.name, case.text);
            let echo = export_index(wasm, "echo");
            let corrupt = export_index(wasm, "corrupt");
            let id_export = case.id.as_ref().map(|_| export_index(wasm, "id"));
            for _ in 0..6 {
                let x = random_val(&mut rng, &case.types, case.ty);
                let pad = Val::Tuple((0..16).map(|_| Val::U64(rng.next())).collect());
                let args = vec![x, pad];
                let bytes = encode_vals(&case.types, &case.echo.params, &args).unwrap();
                let expected = Val::Tuple(args.clone());
                match call(&mut harness, &format!("x {k:x} {echo:x} {}", hex(&bytes))) {
                    Ok(Answer::Values(bytes)) => {
                        match decode_vals(&case.types, &case.echo.results, &bytes) {
                            Ok(values) if values.as_slice() == [expected.clone()] => {
                                round_trips += 1
                            }
                            other => failures.push(format!(
                                "{}: echoed {other:?}, expected {expected:?}",
                                context("echo")
                            )),
                        }
                    }
                    Ok(Answer::Trap(kind)) => {
                        failures.push(format!("{}: trapped with {kind:?}", context("echo")))
                    }
                    Ok(Answer::Error(e)) => failures.push(format!("{}: {e}", context("echo"))),
                    Err(e) => {
                        failures.push(format!("{}: {e}", context("echo")));
                        break;
                    }
                }
                if let (Some(id), Some(id_export)) = (&case.id, id_export) {
                    let Val::Tuple(args) = &expected else {
                        unreachable!()
                    };
                    let bytes = encode_vals(&case.types, &id.params, &args[..1]).unwrap();
                    match call(
                        &mut harness,
                        &format!("x {k:x} {id_export:x} {}", hex(&bytes)),
                    ) {
                        Ok(Answer::Values(bytes))
                            if decode_vals(&case.types, &id.results, &bytes)
                                .ok()
                                .as_deref()
                                == Some(&args[..1]) =>
                        {
                            round_trips += 1
                        }
                        other => failures.push(format!(
                            "{}: {:?}",
                            context("id"),
                            other.map(|a| match a {
                                Answer::Values(v) => format!("values {v:02x?}"),
                                Answer::Trap(kind) => format!("trap {kind:?}"),
                                Answer::Error(e) => e,
                            })
                        )),
                    }
                }
                // Bytes that are no encoding of the parameters: refused, not a crash.
                let junk: Vec<u8> = (0..rng.below(24)).map(|_| rng.next() as u8).collect();
                match call(&mut harness, &format!("x {k:x} {echo:x} {}", hex(&junk))) {
                    Ok(Answer::Error(_)) => rejected += 1,
                    Ok(Answer::Values(_))
                        if wafer_canon::encode::decode_vals(
                            &case.types,
                            &case.echo.params,
                            &junk,
                        )
                        .is_ok() => {}
                    other => failures.push(format!(
                        "{}: junk arguments {junk:02x?} gave {}",
                        context("junk"),
                        match other {
                            Ok(Answer::Values(v)) => format!("values {v:02x?}"),
                            Ok(Answer::Trap(kind)) => format!("trap {kind:?}"),
                            Ok(Answer::Error(e)) => e,
                            Err(e) => e,
                        }
                    )),
                }
            }
            // The corrupted instance: each call ends in results (the flipped bytes did
            // not matter, or made another valid value) or a component trap, until the
            // first trap poisons it.
            let instance = cases.len() + k;
            for _ in 0..8 {
                let x = random_val(&mut rng, &case.types, case.ty);
                let pad = Val::Tuple((0..16).map(|_| Val::U64(rng.next())).collect());
                let bytes = encode_vals(&case.types, &case.echo.params, &[x, pad]).unwrap();
                match call(
                    &mut harness,
                    &format!("x {instance:x} {corrupt:x} {}", hex(&bytes)),
                ) {
                    Ok(Answer::Values(bytes)) => {
                        if decode_vals(&case.types, &case.echo.results, &bytes).is_ok() {
                            corrupt_ok += 1;
                        } else {
                            failures.push(format!(
                                "{}: results that do not decode",
                                context("corrupt")
                            ));
                        }
                    }
                    Ok(Answer::Trap(kind)) if kind as u8 >= TrapKind::InvalidUtf8 as u8 => {
                        traps += 1;
                        break;
                    }
                    Ok(Answer::Trap(kind)) => {
                        failures.push(format!("{}: trapped with {kind:?}", context("corrupt")));
                        break;
                    }
                    Ok(Answer::Error(e)) => {
                        failures.push(format!("{}: {e}", context("corrupt")));
                        break;
                    }
                    Err(e) => {
                        failures.push(format!("{}: the image died: {e}", context("corrupt")));
                        break;
                    }
                }
            }
        }
    }
    println!(
        "canon round trips: {round_trips} values round-tripped, {corrupt_ok} corrupted calls \
         returned values, {traps} trapped, {rejected} undecodable argument lists refused"
    );
    assert!(round_trips > 0 && traps > 0, "the test exercised nothing");
    failures.finish("canonical ABI round trips");
}
