//! Random values of random types round-trip through memory (both pointer types, every
//! string encoding), flat values, function parameter and result lists, and the binary
//! encodings; handles come back and leave the tables as they should.

use wafer_canon::encode::{decode_types, decode_val, encode_types, encode_val};
use wafer_canon::{
    Case, Field, FlatReader, FuncType, HandleTable, Handles, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS,
    OpaqueKind, ResourceId, Str, StrOrigin, Trap, TypeId, Types, Val, ValType, lift_flat_values,
    load, lower_flat_values, store,
};

use crate::support::{ENCODINGS, PTRS, cx, memory, options};

/// A small, fast, seedable generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

const PRIMITIVES: [TypeId; 14] = [
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
    TypeId::ERROR_CONTEXT,
];

fn names(count: u64, prefix: &str) -> Box<[Box<str>]> {
    (0..count).map(|i| format!("{prefix}{i}").into()).collect()
}

/// A random type at most `depth` deep, without borrows (unless `borrows`).
pub fn random_type(rng: &mut Rng, types: &mut Types, depth: u32, borrows: bool) -> TypeId {
    if depth <= 1 || rng.chance(3) {
        return PRIMITIVES[rng.below(14) as usize];
    }
    let sub = |rng: &mut Rng, types: &mut Types| random_type(rng, types, depth - 1, borrows);
    let ty = match rng.below(16) {
        0 => ValType::List(sub(rng, types)),
        1 => ValType::FixedList(sub(rng, types), 1 + rng.below(3) as u32),
        2 => ValType::Record(
            (0..1 + rng.below(4))
                .map(|i| Field {
                    name: format!("f{i}").into(),
                    ty: sub(rng, types),
                })
                .collect(),
        ),
        3 => ValType::Tuple((0..1 + rng.below(4)).map(|_| sub(rng, types)).collect()),
        4 => ValType::Variant(
            (0..1 + rng.below(5))
                .map(|i| Case {
                    name: format!("c{i}").into(),
                    ty: (!rng.chance(3)).then(|| sub(rng, types)),
                })
                .collect(),
        ),
        5 => ValType::Enum(names(1 + rng.below(5), "e")),
        6 => ValType::Option(sub(rng, types)),
        7 => ValType::Result {
            ok: (!rng.chance(3)).then(|| sub(rng, types)),
            err: (!rng.chance(3)).then(|| sub(rng, types)),
        },
        8 => ValType::Flags(names(1 + rng.below(32), "g")),
        9 => {
            let key = [
                TypeId::U8,
                TypeId::S64,
                TypeId::CHAR,
                TypeId::STRING,
                TypeId::BOOL,
            ][rng.below(5) as usize];
            ValType::Map(key, sub(rng, types))
        }
        10 => ValType::Own(ResourceId(rng.below(3) as u32)),
        11 if borrows => ValType::Borrow(ResourceId(rng.below(3) as u32)),
        // Streams and futures cannot hold borrows.
        12 => ValType::Stream((!rng.chance(3)).then(|| random_type(rng, types, depth - 1, false))),
        13 => ValType::Future((!rng.chance(3)).then(|| random_type(rng, types, depth - 1, false))),
        14 => ValType::Variant(
            // Cases of every core type, to exercise joins.
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
        _ => ValType::Tuple(vec![sub(rng, types), sub(rng, types)].into()),
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
    char::from_u32(low + rng.below(u64::from(high - low)) as u32).unwrap()
}

fn random_string(rng: &mut Rng) -> Str {
    let len = rng.below(8);
    // Some strings stay within one range, so every transcoding path is taken.
    let text: String = match rng.below(3) {
        0 => (0..len)
            .map(|_| char::from(b'a' + rng.below(26) as u8))
            .collect(),
        1 => (0..len).map(|_| char::from(rng.below(256) as u8)).collect(),
        _ => (0..len).map(|_| random_char(rng)).collect(),
    };
    Str::from(text)
}

/// A random value of `ty`; handles get fresh numbers from `next`.
pub fn random_val(rng: &mut Rng, types: &Types, ty: TypeId, next: &mut u32) -> Val {
    let mut fresh = || {
        *next += 1;
        *next
    };
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
        ValType::String => Val::String(random_string(rng)),
        ValType::ErrorContext => Val::ErrorContext(fresh()),
        ValType::List(elem) => {
            let elem = *elem;
            Val::List(
                (0..rng.below(4))
                    .map(|_| random_val(rng, types, elem, next))
                    .collect(),
            )
        }
        ValType::FixedList(elem, len) => {
            let elem = *elem;
            Val::List(
                (0..*len)
                    .map(|_| random_val(rng, types, elem, next))
                    .collect(),
            )
        }
        ValType::Record(fields) => Val::Record(
            fields
                .iter()
                .map(|f| random_val(rng, types, f.ty, next))
                .collect(),
        ),
        ValType::Tuple(elems) => Val::Tuple(
            elems
                .iter()
                .map(|&t| random_val(rng, types, t, next))
                .collect(),
        ),
        ValType::Variant(cases) => {
            let index = rng.below(cases.len() as u64) as usize;
            let payload = cases[index]
                .ty
                .map(|t| Box::new(random_val(rng, types, t, next)));
            Val::Variant(index as u32, payload)
        }
        ValType::Enum(labels) => Val::Enum(rng.below(labels.len() as u64) as u32),
        ValType::Option(some) => {
            let some = *some;
            Val::Option((!rng.chance(3)).then(|| Box::new(random_val(rng, types, some, next))))
        }
        ValType::Result { ok, err } => {
            let (ok, err) = (*ok, *err);
            let payload = |rng: &mut Rng, next: &mut u32, ty: Option<TypeId>| {
                ty.map(|t| Box::new(random_val(rng, types, t, next)))
            };
            if rng.chance(2) {
                Val::Result(Ok(payload(rng, next, ok)))
            } else {
                Val::Result(Err(payload(rng, next, err)))
            }
        }
        ValType::Flags(labels) => {
            let bits = rng.next() as u32;
            Val::Flags(if labels.len() == 32 {
                bits
            } else {
                bits & ((1 << labels.len()) - 1)
            })
        }
        ValType::Map(key, value) => {
            let (key, value) = (*key, *value);
            Val::Map(
                (0..rng.below(3))
                    .map(|_| {
                        (
                            random_val(rng, types, key, next),
                            random_val(rng, types, value, next),
                        )
                    })
                    .collect(),
            )
        }
        ValType::Own(_) => Val::Own(fresh()),
        ValType::Borrow(_) => Val::Borrow(fresh()),
        ValType::Stream(_) => Val::Stream(fresh()),
        ValType::Future(_) => Val::Future(fresh()),
    }
}

/// The handles of a call: borrows lowered into `task`, lifted for `subtask`, of one
/// table (so a value lowered and lifted back in it comes back).
struct CallHandles<'t> {
    table: &'t mut HandleTable,
    task: wafer_canon::TaskId,
    subtask: wafer_canon::SubtaskId,
}

impl Handles for CallHandles<'_> {
    fn lift_own(&mut self, resource: ResourceId, index: u32) -> Result<u32, Trap> {
        self.table.lift_own(resource, index)
    }
    fn lift_borrow(&mut self, resource: ResourceId, index: u32) -> Result<u32, Trap> {
        self.table.lift_borrow(self.subtask, resource, index)
    }
    fn lower_own(&mut self, resource: ResourceId, rep: u32) -> Result<u32, Trap> {
        self.table.lower_own(resource, rep)
    }
    fn lower_borrow(&mut self, resource: ResourceId, rep: u32) -> Result<u32, Trap> {
        self.table.lower_borrow(self.task, resource, rep)
    }
    fn lift_opaque(&mut self, kind: OpaqueKind, ty: TypeId, index: u32) -> Result<u32, Trap> {
        self.table.lift_opaque(kind, ty, index)
    }
    fn lower_opaque(&mut self, kind: OpaqueKind, ty: TypeId, value: u32) -> Result<u32, Trap> {
        self.table.lower_opaque(kind, ty, value)
    }
}

/// How many handles of each kind a value of `ty` holds.
fn count_handles(types: &Types, ty: TypeId, value: &Val, counts: &mut [usize; 3]) {
    match (types.get(ty), value) {
        (ValType::Borrow(_), _) => counts[0] += 1,
        (ValType::ErrorContext, _) => counts[1] += 1,
        (ValType::Own(_) | ValType::Stream(_) | ValType::Future(_), _) => counts[2] += 1,
        (ValType::List(elem) | ValType::FixedList(elem, _), Val::List(items)) => items
            .iter()
            .for_each(|v| count_handles(types, *elem, v, counts)),
        (ValType::Map(k, v), Val::Map(pairs)) => pairs.iter().for_each(|(kv, vv)| {
            count_handles(types, *k, kv, counts);
            count_handles(types, *v, vv, counts);
        }),
        (ValType::Record(fields), Val::Record(values)) => fields
            .iter()
            .zip(values)
            .for_each(|(f, v)| count_handles(types, f.ty, v, counts)),
        (ValType::Tuple(elems), Val::Tuple(values)) => elems
            .iter()
            .zip(values)
            .for_each(|(t, v)| count_handles(types, *t, v, counts)),
        (ValType::Variant(cases), Val::Variant(index, Some(payload))) => {
            count_handles(types, cases[*index as usize].ty.unwrap(), payload, counts)
        }
        (ValType::Option(some), Val::Option(Some(payload))) => {
            count_handles(types, *some, payload, counts)
        }
        (ValType::Result { ok: Some(t), .. }, Val::Result(Ok(Some(payload))))
        | (ValType::Result { err: Some(t), .. }, Val::Result(Err(Some(payload)))) => {
            count_handles(types, *t, payload, counts)
        }
        _ => {}
    }
}

/// Round-trips `value` of `ty` through memory and flat values in one configuration,
/// checking the handle table after each.
fn round_trip(types: &Types, ty: TypeId, value: &Val, opts: wafer_canon::Options) {
    let what = || format!("{} = {value:?} ({opts:?})", types.display(ty));
    let mut counts = [0; 3];
    count_handles(types, ty, value, &mut counts);
    let [borrows, error_contexts, others] = counts;
    for through_memory in [true, false] {
        let mut memory = memory();
        let mut table = HandleTable::new();
        let task = table.begin_task();
        let subtask = table.begin_subtask();
        let mut handles = CallHandles {
            table: &mut table,
            task,
            subtask,
        };
        let back = if through_memory {
            let ptr = wafer_canon::align_to(8, types.alignment(ty, opts.ptr_type));
            store(
                &mut cx(types, opts, &mut memory, &mut handles),
                value,
                ty,
                ptr,
            )
            .unwrap_or_else(|t| panic!("{}: store: {t}", what()));
            load(&mut cx(types, opts, &mut memory, &mut handles), ptr, ty)
                .unwrap_or_else(|t| panic!("{}: load: {t}", what()))
        } else {
            let mut flat = Vec::new();
            wafer_canon::lower_flat(
                &mut cx(types, opts, &mut memory, &mut handles),
                value,
                ty,
                &mut flat,
            )
            .unwrap_or_else(|t| panic!("{}: lower: {t}", what()));
            let flat_types: Vec<_> = flat.iter().map(|v| v.core_type()).collect();
            assert_eq!(flat_types, types.flatten(ty, opts.ptr_type), "{}", what());
            let mut reader = FlatReader::new(&flat);
            let back = wafer_canon::lift_flat(
                &mut cx(types, opts, &mut memory, &mut handles),
                &mut reader,
                ty,
            )
            .unwrap_or_else(|t| panic!("{}: lift: {t}", what()));
            assert!(reader.is_done(), "{}", what());
            back
        };
        assert_eq!(&back, value, "{}", what());
        // Owns, streams and futures moved out; borrows stay, lent; error contexts stay.
        assert_eq!(table.len(), borrows + error_contexts, "{}: table", what());
        assert_eq!(table.task_borrows(task), Some(borrows as u32), "{}", what());
        if borrows > 0 {
            assert_eq!(table.end_task(task), Err(Trap::BorrowsRemain));
        }
        table.end_subtask(subtask);
        // Every index used is at most the number of handles lowered.
        for index in 1..=(borrows + error_contexts + others) as u32 {
            if let Some(wafer_canon::handles::Entry::Resource(handle)) = table.entry(index) {
                assert_eq!(handle.lends, 0);
                table.resource_drop(handle.resource, index).unwrap();
            }
        }
        assert_eq!(table.end_task(task), Ok(()), "{}", what());
    }
}

#[test]
fn random_values_round_trip() {
    let mut rng = Rng::new(0x5eed_cafe);
    let mut types = Types::new();
    for _ in 0..400 {
        let ty = random_type(&mut rng, &mut types, 5, true);
        assert_eq!(
            types.flatten(ty, wafer_canon::PtrType::I32).len(),
            types.flat_count(ty) as usize
        );
        for _ in 0..3 {
            let mut next = 0;
            let value = random_val(&mut rng, &types, ty, &mut next);
            for ptr in PTRS {
                for encoding in ENCODINGS {
                    round_trip(&types, ty, &value, options(ptr, encoding));
                }
            }
            // The value encoding.
            let mut bytes = Vec::new();
            encode_val(&types, ty, &value, &mut bytes).unwrap();
            let mut at = 0;
            assert_eq!(decode_val(&types, ty, &bytes, &mut at).as_ref(), Ok(&value));
            assert_eq!(at, bytes.len());
        }
    }
    // The arena they built.
    let funcs = [FuncType {
        params: vec![TypeId::U8],
        results: vec![],
        is_async: false,
    }];
    let (decoded, decoded_funcs) = decode_types(&encode_types(&types, &funcs)).unwrap();
    assert_eq!(decoded, types);
    assert_eq!(decoded_funcs, funcs);
}

#[test]
fn random_parameter_lists_round_trip() {
    let mut rng = Rng::new(0xfeed);
    let mut types = Types::new();
    for round in 0..200 {
        let count = rng.below(6) as usize;
        let params: Vec<TypeId> = (0..count)
            .map(|_| random_type(&mut rng, &mut types, 3, false))
            .collect();
        let mut next = 0;
        let values: Vec<Val> = params
            .iter()
            .map(|&t| random_val(&mut rng, &types, t, &mut next))
            .collect();
        let ptr = PTRS[round % 2];
        let opts = options(ptr, ENCODINGS[round % 3]);
        for max_flat in [MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, 0] {
            let mut memory = memory();
            let mut table = HandleTable::new();
            let flat = lower_flat_values(
                &mut cx(&types, opts, &mut memory, &mut table),
                max_flat,
                &values,
                &params,
                None,
            )
            .unwrap();
            let flat_count = types.flat_count_of(&params);
            let expected_len = if flat_count > max_flat as u64 {
                1
            } else {
                flat_count
            };
            assert_eq!(flat.len() as u64, expected_len);
            let mut reader = FlatReader::new(&flat);
            let back = lift_flat_values(
                &mut cx(&types, opts, &mut memory, &mut table),
                max_flat,
                &mut reader,
                &params,
            )
            .unwrap();
            assert_eq!(back, values);
            assert!(reader.is_done());
        }
    }
}

#[test]
fn random_bytes_never_panic_the_decoders() {
    let mut rng = Rng::new(7);
    let mut types = Types::new();
    let tys: Vec<TypeId> = (0..50)
        .map(|_| random_type(&mut rng, &mut types, 4, true))
        .collect();
    let funcs = [FuncType {
        params: tys[..3].to_vec(),
        results: vec![TypeId::STRING],
        is_async: true,
    }];
    let encoded = encode_types(&types, &funcs);
    for _ in 0..3000 {
        // Random bytes, and the real encoding with a few bytes changed or cut short.
        let mut bytes = encoded.clone();
        match rng.below(3) {
            0 => bytes = (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
            1 => {
                for _ in 0..1 + rng.below(3) {
                    let at = rng.below(bytes.len() as u64) as usize;
                    bytes[at] = rng.next() as u8;
                }
            }
            _ => bytes.truncate(rng.below(bytes.len() as u64) as usize),
        }
        let _ = decode_types(&bytes);
        let ty = tys[rng.below(tys.len() as u64) as usize];
        let mut at = 0;
        let _ = decode_val(&types, ty, &bytes, &mut at);
    }
    // And values: every prefix and many mutations of real encodings.
    for &ty in &tys {
        let mut next = 0;
        let value = random_val(&mut rng, &types, ty, &mut next);
        let mut bytes = Vec::new();
        encode_val(&types, ty, &value, &mut bytes).unwrap();
        for len in 0..bytes.len() {
            let mut at = 0;
            assert!(decode_val(&types, ty, &bytes[..len], &mut at).is_err());
        }
        for _ in 0..20 {
            let mut mutated = bytes.clone();
            let at = rng.below(mutated.len() as u64) as usize;
            mutated[at] = rng.next() as u8;
            let mut at = 0;
            let _ = decode_val(&types, ty, &mutated, &mut at);
        }
    }
}

#[test]
fn random_memory_never_panics_lifting() {
    // Lifting from random bytes traps or succeeds, never panics.
    let mut rng = Rng::new(99);
    let mut types = Types::new();
    let mut lifted = 0;
    for _ in 0..300 {
        let ty = random_type(&mut rng, &mut types, 4, true);
        for ptr in PTRS {
            for encoding in ENCODINGS {
                let mut memory = wafer_canon::VecMemory::new(256, 0);
                for byte in memory.bytes.iter_mut() {
                    // Small numbers, so lengths and pointers are sometimes in range.
                    *byte = if rng.chance(2) {
                        rng.below(4) as u8
                    } else {
                        rng.next() as u8
                    };
                }
                let mut table = HandleTable::new();
                let task = table.begin_task();
                let subtask = table.begin_subtask();
                let mut handles = CallHandles {
                    table: &mut table,
                    task,
                    subtask,
                };
                let at = wafer_canon::align_to(rng.below(64), types.alignment(ty, ptr));
                if load(
                    &mut cx(&types, options(ptr, encoding), &mut memory, &mut handles),
                    at,
                    ty,
                )
                .is_ok()
                {
                    lifted += 1;
                }
            }
        }
    }
    assert!(lifted > 100, "{lifted}");
}

#[test]
fn origins_of_lifted_strings_are_exact() {
    let mut rng = Rng::new(3);
    for _ in 0..200 {
        let string = random_string(&mut rng);
        for ptr in PTRS {
            for encoding in ENCODINGS {
                let types = Types::new();
                let back = crate::support::memory_round_trip(
                    &types,
                    options(ptr, encoding),
                    TypeId::STRING,
                    &Val::String(string.clone()),
                )
                .unwrap();
                let Val::String(back) = back else { panic!() };
                // The origin it reports is what it had in memory: it must agree.
                assert!(Str::with_origin(back.as_str().into(), back.origin()).is_some());
                if encoding == wafer_canon::StringEncoding::Utf8 {
                    assert_eq!(back.origin(), StrOrigin::Utf8(back.as_str().len() as u64));
                }
            }
        }
    }
}
