//! Sizes, alignments, payload offsets, flattening and core signatures, against values
//! worked out by hand from the spec's rules.

use wafer_canon::layout::{Cases, Despecialized, Fields};
use wafer_canon::types::{TypeError, discriminant_size, flags_size};
use wafer_canon::{
    CoreType, FuncContext, FuncType, Options, PtrType, TypeId, Types, ValType, flatten_functype,
};

use crate::support::parse;

/// `CoreType`s from "i32 i64 f32 f64".
fn core_types(text: &str) -> Vec<CoreType> {
    text.split_whitespace()
        .map(|word| match word {
            "i32" => CoreType::I32,
            "i64" => CoreType::I64,
            "f32" => CoreType::F32,
            "f64" => CoreType::F64,
            _ => panic!("bad core type {word}"),
        })
        .collect()
}

/// Checks one type: size and alignment in 32- and 64-bit memories, and its flattening
/// in each (`flat64` empty: the same as `flat32`).
fn check(text: &str, layout32: (u32, u32), layout64: (u32, u32), flat32: &str, flat64: &str) {
    let mut types = Types::new();
    let ty = parse(&mut types, text);
    let flat64 = if flat64.is_empty() { flat32 } else { flat64 };
    let got32 = (
        types.size(ty, PtrType::I32),
        types.alignment(ty, PtrType::I32),
    );
    let got64 = (
        types.size(ty, PtrType::I64),
        types.alignment(ty, PtrType::I64),
    );
    assert_eq!(got32, layout32, "{text}: size and alignment, 32-bit");
    assert_eq!(got64, layout64, "{text}: size and alignment, 64-bit");
    assert_eq!(
        types.flatten(ty, PtrType::I32),
        core_types(flat32),
        "{text}: flat, 32-bit"
    );
    assert_eq!(
        types.flatten(ty, PtrType::I64),
        core_types(flat64),
        "{text}: flat, 64-bit"
    );
    assert_eq!(
        types.flat_count(ty) as usize,
        core_types(flat32).len(),
        "{text}: flat count"
    );
    assert_eq!(types.display(ty).to_string(), text, "{text}: display");
}

#[test]
fn primitives() {
    check("bool", (1, 1), (1, 1), "i32", "");
    check("s8", (1, 1), (1, 1), "i32", "");
    check("u8", (1, 1), (1, 1), "i32", "");
    check("s16", (2, 2), (2, 2), "i32", "");
    check("u16", (2, 2), (2, 2), "i32", "");
    check("s32", (4, 4), (4, 4), "i32", "");
    check("u32", (4, 4), (4, 4), "i32", "");
    check("s64", (8, 8), (8, 8), "i64", "");
    check("u64", (8, 8), (8, 8), "i64", "");
    check("f32", (4, 4), (4, 4), "f32", "");
    check("f64", (8, 8), (8, 8), "f64", "");
    check("char", (4, 4), (4, 4), "i32", "");
    check("string", (8, 4), (16, 8), "i32 i32", "i64 i64");
    check("error-context", (4, 4), (4, 4), "i32", "");
}

#[test]
fn lists_and_maps() {
    check("list<u8>", (8, 4), (16, 8), "i32 i32", "i64 i64");
    check("list<list<string>>", (8, 4), (16, 8), "i32 i32", "i64 i64");
    check("map<string, u32>", (8, 4), (16, 8), "i32 i32", "i64 i64");
    // Fixed-length lists are tuples.
    check("list<u8, 3>", (3, 1), (3, 1), "i32 i32 i32", "");
    check("list<u64, 2>", (16, 8), (16, 8), "i64 i64", "");
    check(
        "list<string, 2>",
        (16, 4),
        (32, 8),
        "i32 i32 i32 i32",
        "i64 i64 i64 i64",
    );
    check("list<option<u8>, 2>", (4, 1), (4, 1), "i32 i32 i32 i32", "");
    check(
        "list<list<u16, 3>, 2>",
        (12, 2),
        (12, 2),
        "i32 i32 i32 i32 i32 i32",
        "",
    );
}

#[test]
fn records_and_tuples() {
    check("record{a: u8, b: u32}", (8, 4), (8, 4), "i32 i32", "");
    check(
        "record{a: u8, b: u16, c: u8}",
        (6, 2),
        (6, 2),
        "i32 i32 i32",
        "",
    );
    check("record{a: u64, b: u8}", (16, 8), (16, 8), "i64 i32", "");
    check(
        "record{s: string, b: u8}",
        (12, 4),
        (24, 8),
        "i32 i32 i32",
        "i64 i64 i32",
    );
    check("tuple<u8, u64, u8>", (24, 8), (24, 8), "i32 i64 i32", "");
    check("tuple<f32, f64>", (16, 8), (16, 8), "f32 f64", "");
    check("tuple<u8>", (1, 1), (1, 1), "i32", "");
    check(
        "record{a: option<tuple<u8, u16>>, b: list<u8, 2>}",
        (8, 2),
        (8, 2),
        "i32 i32 i32 i32 i32",
        "",
    );
}

#[test]
fn variants() {
    check("enum{a}", (1, 1), (1, 1), "i32", "");
    check("enum{a, b, c}", (1, 1), (1, 1), "i32", "");
    check("option<u8>", (2, 1), (2, 1), "i32 i32", "");
    check("option<u32>", (8, 4), (8, 4), "i32 i32", "");
    check("option<u64>", (16, 8), (16, 8), "i32 i64", "");
    check(
        "option<string>",
        (12, 4),
        (24, 8),
        "i32 i32 i32",
        "i32 i64 i64",
    );
    check("result", (1, 1), (1, 1), "i32", "");
    check("result<u32>", (8, 4), (8, 4), "i32 i32", "");
    check("result<_, u8>", (2, 1), (2, 1), "i32 i32", "");
    // Cases share flat slots, joined: i32 and f32 to i32, anything else to i64.
    check("result<u32, f32>", (8, 4), (8, 4), "i32 i32", "");
    check("result<f32, f32>", (8, 4), (8, 4), "i32 f32", "");
    check("result<f64, u32>", (16, 8), (16, 8), "i32 i64", "");
    check("result<u64, f32>", (16, 8), (16, 8), "i32 i64", "");
    check("variant{a(u8), b(u64), c}", (16, 8), (16, 8), "i32 i64", "");
    check(
        "variant{a(tuple<f32, u32>), b(tuple<u32, f32>)}",
        (12, 4),
        (12, 4),
        "i32 i32 i32",
        "",
    );
    check("variant{a(f64), b(f32)}", (16, 8), (16, 8), "i32 i64", "");
    check(
        "variant{a(string), b(tuple<u64, u8>)}",
        (24, 8),
        (24, 8),
        "i32 i64 i32",
        "i32 i64 i64",
    );
    check(
        "variant{a(tuple<f32, f32>), b(f64), c(u8)}",
        (16, 8),
        (16, 8),
        "i32 i64 f32",
        "",
    );
    check("option<option<u8>>", (3, 1), (3, 1), "i32 i32 i32", "");
}

#[test]
fn flags_handles_and_async_values() {
    check("flags{a}", (1, 1), (1, 1), "i32", "");
    check("own<0>", (4, 4), (4, 4), "i32", "");
    check("borrow<7>", (4, 4), (4, 4), "i32", "");
    check("stream<u8>", (4, 4), (4, 4), "i32", "");
    check("stream", (4, 4), (4, 4), "i32", "");
    check("future<string>", (4, 4), (4, 4), "i32", "");
    check("future", (4, 4), (4, 4), "i32", "");
    for (labels, size) in [(1, 1), (8, 1), (9, 2), (16, 2), (17, 4), (32, 4)] {
        let mut types = Types::new();
        let names = (0..labels).map(|i| format!("f{i}")).collect::<Vec<_>>();
        let ty = parse(&mut types, &format!("flags{{{}}}", names.join(", ")));
        assert_eq!(types.size(ty, PtrType::I32), size, "{labels} flags");
        assert_eq!(types.alignment(ty, PtrType::I64), size, "{labels} flags");
        assert_eq!(flags_size(labels), size);
        assert_eq!(types.flatten(ty, PtrType::I32), [CoreType::I32]);
    }
}

#[test]
fn discriminant_sizes() {
    for (cases, size) in [(1, 1), (2, 1), (256, 1), (257, 2), (65536, 2), (65537, 4)] {
        assert_eq!(discriminant_size(cases), size, "{cases} cases");
    }
    // A 257-case variant with a u8 payload: a 2-byte discriminant, payload at 2.
    let mut types = Types::new();
    let mut cases = (0..257).map(|i| format!("c{i}")).collect::<Vec<_>>();
    cases[0] = "c0(u8)".into();
    let ty = parse(&mut types, &format!("variant{{{}}}", cases.join(", ")));
    assert_eq!(types.size(ty, PtrType::I32), 4);
    assert_eq!(types.alignment(ty, PtrType::I32), 2);
    assert_eq!(types.payload_offset(ty, PtrType::I32), 2);
    let ty = parse(
        &mut types,
        &format!(
            "enum{{{}}}",
            (0..257)
                .map(|i| format!("e{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    assert_eq!(types.size(ty, PtrType::I32), 2);
}

#[test]
fn payload_offsets() {
    for (text, offset32, offset64) in [
        ("option<u8>", 1, 1),
        ("option<u64>", 8, 8),
        ("option<string>", 4, 8),
        ("result", 1, 1),
        ("variant{a(u16), b}", 2, 2),
        ("result<list<u8>, u8>", 4, 8),
    ] {
        let mut types = Types::new();
        let ty = parse(&mut types, text);
        assert_eq!(types.payload_offset(ty, PtrType::I32), offset32, "{text}");
        assert_eq!(types.payload_offset(ty, PtrType::I64), offset64, "{text}");
    }
}

#[test]
fn despecialize() {
    let mut types = Types::new();
    let tuple = parse(&mut types, "tuple<u8, string>");
    let Despecialized::Record(Fields::Unnamed(elems)) = types.despecialize(tuple) else {
        panic!("tuple");
    };
    assert_eq!(elems, [TypeId::U8, TypeId::STRING]);
    let record = parse(&mut types, "record{a: u8}");
    assert!(
        matches!(types.despecialize(record), Despecialized::Record(Fields::Named(f)) if f.len() == 1)
    );

    let option = parse(&mut types, "option<u32>");
    let Despecialized::Variant(cases) = types.despecialize(option) else {
        panic!("option");
    };
    assert_eq!(
        (cases.len(), cases.payload(0), cases.payload(1)),
        (2, None, Some(TypeId::U32))
    );
    let result = parse(&mut types, "result<_, string>");
    let Despecialized::Variant(Cases::Result(None, Some(TypeId::STRING))) =
        types.despecialize(result)
    else {
        panic!("result");
    };
    let enum_ = parse(&mut types, "enum{a, b, c}");
    assert!(matches!(
        types.despecialize(enum_),
        Despecialized::Variant(Cases::Enum(3))
    ));

    let map = parse(&mut types, "map<u32, string>");
    assert!(matches!(
        types.despecialize(map),
        Despecialized::Map {
            key: TypeId::U32,
            value: TypeId::STRING
        }
    ));
    // Its element type is not added to the arena.
    assert_eq!(
        types.find(&ValType::Tuple(Box::new([TypeId::U32, TypeId::STRING]))),
        None
    );
    let fixed = parse(&mut types, "list<u8, 4>");
    assert!(matches!(
        types.despecialize(fixed),
        Despecialized::List {
            elem: TypeId::U8,
            len: Some(4)
        }
    ));
    for kept in ["string", "flags{a}", "own<1>", "stream<u8>", "u64"] {
        let ty = parse(&mut types, kept);
        assert!(
            matches!(types.despecialize(ty), Despecialized::Other(_)),
            "{kept}"
        );
    }
}

#[test]
fn interning_gives_equal_types_equal_ids() {
    let mut types = Types::new();
    let a = parse(&mut types, "record{x: list<u8>, y: option<string>}");
    let count = types.len();
    let b = parse(&mut types, "record{x: list<u8>, y: option<string>}");
    assert_eq!(a, b);
    assert_eq!(types.len(), count);
    let c = parse(&mut types, "record{x: list<u8>, z: option<string>}");
    assert_ne!(a, c);
    assert_eq!(parse(&mut types, "u32"), TypeId::U32);
    assert_eq!(types.add(ValType::String), Ok(TypeId::STRING));
    assert_ne!(parse(&mut types, "own<1>"), parse(&mut types, "own<2>"));
}

#[test]
fn properties() {
    let mut types = Types::new();
    for (text, borrow, async_value, indirect, depth) in [
        ("u8", false, false, false, 1),
        ("string", false, false, true, 1),
        ("list<u8, 2>", false, false, false, 2),
        ("option<list<u8>>", false, false, true, 3),
        ("tuple<u8, borrow<1>>", true, false, false, 2),
        ("stream<string>", false, true, false, 2),
        ("record{a: future}", false, true, false, 2),
        ("map<u8, u8>", false, false, true, 2),
    ] {
        let ty = parse(&mut types, text);
        assert_eq!(types.contains_borrow(ty), borrow, "{text}: borrow");
        assert_eq!(
            types.contains_async_value(ty),
            async_value,
            "{text}: async value"
        );
        assert_eq!(types.is_indirect(ty), indirect, "{text}: indirect");
        assert_eq!(types.depth(ty), depth, "{text}: depth");
    }
}

#[test]
fn invalid_types() {
    let mut types = Types::new();
    let cases: [(ValType, TypeError); 12] = [
        (ValType::Record(Box::new([])), TypeError::Empty),
        (ValType::Tuple(Box::new([])), TypeError::Empty),
        (ValType::Variant(Box::new([])), TypeError::Empty),
        (ValType::Enum(Box::new([])), TypeError::Empty),
        (ValType::Flags(Box::new([])), TypeError::Empty),
        (
            ValType::Flags((0..33).map(|i| format!("f{i}").into()).collect()),
            TypeError::TooManyFlags,
        ),
        (ValType::FixedList(TypeId::U8, 0), TypeError::ZeroLengthList),
        (
            ValType::List(TypeId::from_index(99)),
            TypeError::UnknownType(99),
        ),
        (
            ValType::Map(TypeId::F32, TypeId::U8),
            TypeError::InvalidMapKey,
        ),
        (
            ValType::Map(TypeId::ERROR_CONTEXT, TypeId::U8),
            TypeError::InvalidMapKey,
        ),
        // The size bound is 2^28 - 1 bytes in a 64-bit memory.
        (ValType::FixedList(TypeId::U8, 1 << 28), TypeError::TooLarge),
        (
            ValType::FixedList(TypeId::U64, 1 << 29),
            TypeError::TooLarge,
        ),
    ];
    for (ty, error) in cases {
        assert_eq!(types.add(ty.clone()), Err(error), "{ty:?}");
    }
    for (text, error) in [
        ("stream<borrow<1>>", TypeError::BorrowInAsyncValue),
        ("future<option<borrow<1>>>", TypeError::BorrowInAsyncValue),
        (
            "tuple<list<u8, 268435455>, list<u8, 1>>",
            TypeError::TooLarge,
        ),
        (
            "record{a: list<u8, 134217728>, b: list<u8, 134217728>}",
            TypeError::TooLarge,
        ),
        ("list<list<u8, 268435455>, 2>", TypeError::TooLarge),
        // Passes with 32-bit pointers, not with 64-bit ones.
        ("list<string, 16777216>", TypeError::TooLarge),
    ] {
        let parsed = types.parse(text).map_err(|e| e.kind);
        assert_eq!(
            parsed,
            Err(wafer_canon::text::ParseErrorKind::Invalid(error)),
            "{text}"
        );
    }
    // The largest types allowed.
    for text in [
        "list<u8, 268435455>",
        "list<u64, 33554431>",
        "list<string, 16777215>",
        "tuple<list<u8, 268435454>, list<u8, 1>>",
        "record{a: list<u8, 134217727>, b: list<u8, 134217728>}",
        "map<u8, list<u8, 268435455>>",
        "option<map<u8, list<u8, 268435455>>>",
        "stream<list<u8, 268435455>>",
    ] {
        assert!(types.parse(text).is_ok(), "{text}");
    }
    // Nesting: 100 levels are fine, 101 are not.
    let mut ty = TypeId::U8;
    for level in 2..=101 {
        match types.add(ValType::Option(ty)) {
            Ok(id) => {
                assert!(level <= 100);
                assert_eq!(types.depth(id), level);
                ty = id;
            }
            Err(error) => {
                assert_eq!((level, error), (101, TypeError::TooDeep));
            }
        }
    }
}

#[test]
fn function_results_cannot_borrow() {
    let mut types = Types::new();
    let borrow = parse(&mut types, "borrow<1>");
    let ok = FuncType {
        params: vec![borrow],
        results: vec![TypeId::U32],
        is_async: false,
    };
    assert_eq!(ok.validate(&types), Ok(()));
    let bad = FuncType {
        params: vec![],
        results: vec![parse(&mut types, "option<borrow<1>>")],
        is_async: false,
    };
    assert_eq!(bad.validate(&types), Err(TypeError::BorrowInResult));
    let unknown = FuncType {
        params: vec![TypeId::from_index(500)],
        ..FuncType::default()
    };
    assert_eq!(unknown.validate(&types), Err(TypeError::UnknownType(500)));
}

/// Checks the core signature of `params -> results` for one set of options.
fn check_signature(
    params: &[&str],
    results: &[&str],
    options: Options,
    context: FuncContext,
    (core_params, core_results): (&str, &str),
) {
    let mut types = Types::new();
    let ft = FuncType {
        params: params.iter().map(|t| parse(&mut types, t)).collect(),
        results: results.iter().map(|t| parse(&mut types, t)).collect(),
        is_async: options.is_async,
    };
    let core = flatten_functype(&types, &ft, &options, context);
    let what = format!("{params:?} -> {results:?} {options:?} {context:?}");
    assert_eq!(core.params, core_types(core_params), "params of {what}");
    assert_eq!(core.results, core_types(core_results), "results of {what}");
}

#[test]
fn core_signatures() {
    use FuncContext::{Lift, Lower};
    let sync32 = Options::default();
    let sync64 = Options {
        ptr_type: PtrType::I64,
        ..sync32
    };
    let async_ = Options {
        is_async: true,
        ..sync32
    };
    let callback = Options {
        callback: true,
        ..async_
    };
    let sixteen = ["u32"; 16];
    let seventeen = ["u32"; 17];
    let i32x16 = ["i32"; 16].join(" ");
    for context in [Lift, Lower] {
        check_signature(&[], &[], sync32, context, ("", ""));
        check_signature(
            &["u32", "f64"],
            &["u64"],
            sync32,
            context,
            ("i32 f64", "i64"),
        );
        check_signature(&sixteen, &[], sync32, context, (&i32x16, ""));
        check_signature(&seventeen, &[], sync32, context, ("i32", ""));
        check_signature(&seventeen, &[], sync64, context, ("i64", ""));
        check_signature(&["list<u8, 16>"], &[], sync32, context, (&i32x16, ""));
        check_signature(&["list<u8, 17>"], &[], sync32, context, ("i32", ""));
        check_signature(&["string"], &["u8"], sync64, context, ("i64 i64", "i32"));
    }
    // More than one flat result: returned through memory.
    check_signature(&["u32"], &["string"], sync32, Lift, ("i32", "i32"));
    check_signature(&["u32"], &["string"], sync32, Lower, ("i32 i32", ""));
    check_signature(&["u32"], &["string"], sync64, Lift, ("i32", "i64"));
    check_signature(&["u32"], &["string"], sync64, Lower, ("i32 i64", ""));
    check_signature(
        &seventeen,
        &["tuple<u8, u8>"],
        sync32,
        Lower,
        ("i32 i32", ""),
    );
    // Async: lowering passes more than 4 flat parameters, and any results, in memory,
    // and returns the subtask state; lifting returns a callback code or nothing.
    check_signature(
        &["u32"; 4],
        &["u8"],
        async_,
        Lower,
        ("i32 i32 i32 i32 i32", "i32"),
    );
    check_signature(&["u32"; 5], &["u8"], async_, Lower, ("i32 i32", "i32"));
    check_signature(&["u32"; 5], &[], async_, Lower, ("i32", "i32"));
    check_signature(
        &["u32"; 5],
        &["string"],
        async_,
        Lift,
        ("i32 i32 i32 i32 i32", ""),
    );
    check_signature(&seventeen, &["u8"], async_, Lift, ("i32", ""));
    check_signature(&["u8"], &["u8"], callback, Lift, ("i32", "i32"));
}

#[test]
fn tuple_layouts() {
    let mut types = Types::new();
    let params = [
        TypeId::U8,
        parse(&mut types, "string"),
        TypeId::U16,
        TypeId::F64,
    ];
    // u8 at 0, string at 4 (8 bytes), u16 at 12, f64 at 16: 24 bytes, aligned to 8.
    assert_eq!(types.tuple_layout(&params, PtrType::I32), (24, 8));
    // string at 8 (16 bytes), u16 at 24, f64 at 32.
    assert_eq!(types.tuple_layout(&params, PtrType::I64), (40, 8));
    assert_eq!(types.tuple_layout(&[], PtrType::I32), (0, 1));
}
