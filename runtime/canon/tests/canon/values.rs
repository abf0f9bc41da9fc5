//! Values of every kind through memory and through flat values, and the exact bytes and
//! flat values some of them become.

use wafer_canon::{
    FlatReader, FlatVal, HandleTable, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, PtrType, StringEncoding,
    Types, Val, lift_flat_values, load, lower_flat_values, store,
};

use crate::support::{
    ENCODINGS, PTRS, cx, flat_round_trip, lower_to_flat, memory, memory_round_trip, options, parse,
};

fn s(text: &str) -> Val {
    Val::string(text)
}

fn some(value: Val) -> Val {
    Val::Option(Some(Box::new(value)))
}

fn ok(value: Val) -> Val {
    Val::Result(Ok(Some(Box::new(value))))
}

fn err(value: Val) -> Val {
    Val::Result(Err(Some(Box::new(value))))
}

fn case(index: u32, payload: Option<Val>) -> Val {
    Val::Variant(index, payload.map(Box::new))
}

/// Every kind of type, with values to round-trip.
fn samples() -> Vec<(&'static str, Vec<Val>)> {
    vec![
        ("bool", vec![Val::Bool(false), Val::Bool(true)]),
        (
            "s8",
            vec![Val::S8(0), Val::S8(-1), Val::S8(i8::MIN), Val::S8(i8::MAX)],
        ),
        ("u8", vec![Val::U8(0), Val::U8(0x80), Val::U8(u8::MAX)]),
        (
            "s16",
            vec![Val::S16(-2), Val::S16(i16::MIN), Val::S16(i16::MAX)],
        ),
        ("u16", vec![Val::U16(0xbeef), Val::U16(u16::MAX)]),
        (
            "s32",
            vec![Val::S32(-3), Val::S32(i32::MIN), Val::S32(i32::MAX)],
        ),
        ("u32", vec![Val::U32(0xdead_beef), Val::U32(u32::MAX)]),
        (
            "s64",
            vec![Val::S64(-4), Val::S64(i64::MIN), Val::S64(i64::MAX)],
        ),
        ("u64", vec![Val::U64(u64::MAX), Val::U64(1 << 63)]),
        (
            "f32",
            vec![
                Val::F32(1.5),
                Val::F32(-0.0),
                Val::F32(f32::INFINITY),
                Val::F32(f32::NAN),
                Val::F32(f32::MIN_POSITIVE / 2.0),
            ],
        ),
        (
            "f64",
            vec![
                Val::F64(-2.25),
                Val::F64(f64::NEG_INFINITY),
                Val::F64(f64::NAN),
            ],
        ),
        (
            "char",
            vec![
                Val::Char('a'),
                Val::Char('\u{0}'),
                Val::Char('\u{d7ff}'),
                Val::Char('\u{e000}'),
                Val::Char('\u{10ffff}'),
                Val::Char('😀'),
            ],
        ),
        (
            "string",
            vec![
                s(""),
                s("hello"),
                s("héllo"),
                s("h€llo"),
                s("h😀!"),
                s("ÿ\u{100}"),
            ],
        ),
        (
            "list<u8>",
            vec![Val::List(vec![]), Val::List(vec![Val::U8(1), Val::U8(2)])],
        ),
        (
            "list<string>",
            vec![Val::List(vec![s("a"), s(""), s("ü€😀")])],
        ),
        (
            "list<list<u16>>",
            vec![Val::List(vec![
                Val::List(vec![Val::U16(7)]),
                Val::List(vec![]),
                Val::List(vec![Val::U16(8), Val::U16(9)]),
            ])],
        ),
        (
            "list<u8, 3>",
            vec![Val::List(vec![Val::U8(1), Val::U8(2), Val::U8(3)])],
        ),
        ("list<string, 2>", vec![Val::List(vec![s("x"), s("yz€")])]),
        (
            "record{a: u8, b: u32, c: string}",
            vec![Val::Record(vec![Val::U8(1), Val::U32(2), s("three")])],
        ),
        (
            "tuple<u8, u64, f32, char>",
            vec![Val::Tuple(vec![
                Val::U8(9),
                Val::U64(10),
                Val::F32(0.5),
                Val::Char('Z'),
            ])],
        ),
        (
            "variant{a(u8), b(u64), c, d(string)}",
            vec![
                case(0, Some(Val::U8(5))),
                case(1, Some(Val::U64(u64::MAX))),
                case(2, None),
                case(3, Some(s("d"))),
            ],
        ),
        (
            "variant{a(f32), b(f64), c(s8)}",
            vec![
                case(0, Some(Val::F32(-1.25))),
                case(1, Some(Val::F64(1e300))),
                case(2, Some(Val::S8(-7))),
                case(0, Some(Val::F32(f32::NAN))),
            ],
        ),
        ("enum{a, b, c}", vec![Val::Enum(0), Val::Enum(2)]),
        ("option<u32>", vec![Val::Option(None), some(Val::U32(42))]),
        (
            "option<option<u8>>",
            vec![
                Val::Option(None),
                some(Val::Option(None)),
                some(some(Val::U8(1))),
            ],
        ),
        (
            "result",
            vec![Val::Result(Ok(None)), Val::Result(Err(None))],
        ),
        ("result<string, u8>", vec![ok(s("fine")), err(Val::U8(3))]),
        (
            "result<_, f64>",
            vec![Val::Result(Ok(None)), err(Val::F64(2.0))],
        ),
        (
            "flags{a, b, c}",
            vec![Val::Flags(0), Val::Flags(0b101), Val::Flags(0b111)],
        ),
        (
            "flags{f0, f1, f2, f3, f4, f5, f6, f7, f8}",
            vec![Val::Flags(0x1ff), Val::Flags(0x100)],
        ),
        (
            "map<string, u32>",
            vec![
                Val::Map(vec![]),
                Val::Map(vec![(s("one"), Val::U32(1)), (s("two"), Val::U32(2))]),
            ],
        ),
        ("own<1>", vec![Val::Own(77)]),
        ("stream<u8>", vec![Val::Stream(5)]),
        ("future", vec![Val::Future(6)]),
        ("error-context", vec![Val::ErrorContext(8)]),
        (
            "record{a: option<tuple<u8, u16>>, b: list<result<u8, string>, 2>, c: list<char>}",
            vec![Val::Record(vec![
                some(Val::Tuple(vec![Val::U8(1), Val::U16(2)])),
                Val::List(vec![ok(Val::U8(3)), err(s("four"))]),
                Val::List(vec![Val::Char('5'), Val::Char('六')]),
            ])],
        ),
    ]
}

#[test]
fn every_kind_round_trips_through_memory_and_flat_values() {
    let mut types = Types::new();
    for (text, values) in samples() {
        let ty = parse(&mut types, text);
        for ptr in PTRS {
            for encoding in ENCODINGS {
                let options = options(ptr, encoding);
                for value in &values {
                    let what = format!("{text} = {value:?} ({ptr:?}, {encoding:?})");
                    let back = memory_round_trip(&types, options, ty, value)
                        .unwrap_or_else(|trap| panic!("{what}: memory: {trap}"));
                    assert_eq!(&back, value, "{what}: memory");
                    let back = flat_round_trip(&types, options, ty, value)
                        .unwrap_or_else(|trap| panic!("{what}: flat: {trap}"));
                    assert_eq!(&back, value, "{what}: flat");
                }
            }
        }
    }
}

#[test]
fn lifting_canonicalizes_nans() {
    let mut types = Types::new();
    let ty = parse(&mut types, "tuple<f32, f64>");
    let value = Val::Tuple(vec![
        Val::F32(f32::from_bits(0xffc0_1234)),
        Val::F64(f64::from_bits(0x7ff0_0000_0000_0001)),
    ]);
    let Val::Tuple(back) = memory_round_trip(
        &types,
        options(PtrType::I32, StringEncoding::Utf8),
        ty,
        &value,
    )
    .unwrap() else {
        panic!("not a tuple");
    };
    let [Val::F32(a), Val::F64(b)] = back[..] else {
        panic!("not floats");
    };
    assert_eq!(
        (a.to_bits(), b.to_bits()),
        (0x7fc0_0000, 0x7ff8_0000_0000_0000)
    );
}

/// Stores `value` at 8 in a memory filled with 0xaa and returns the first `len` bytes
/// from 8 (padding keeps 0xaa: stores write only what the spec writes).
fn stored_bytes(text: &str, value: &Val, len: usize) -> Vec<u8> {
    let mut types = Types::new();
    let ty = parse(&mut types, text);
    let mut memory = memory();
    memory.bytes.fill(0xaa);
    let mut table = HandleTable::new();
    let options = options(PtrType::I32, StringEncoding::Utf8);
    store(
        &mut cx(&types, options, &mut memory, &mut table),
        value,
        ty,
        8,
    )
    .unwrap();
    memory.bytes[8..8 + len].to_vec()
}

#[test]
fn stored_bytes_are_the_specs() {
    let pad = 0xaa;
    for (text, value, bytes) in [
        (
            "record{a: u8, b: u32}",
            Val::Record(vec![Val::U8(1), Val::U32(0x0403_0201)]),
            vec![1, pad, pad, pad, 1, 2, 3, 4],
        ),
        ("bool", Val::Bool(true), vec![1]),
        ("s16", Val::S16(-2), vec![0xfe, 0xff]),
        ("f32", Val::F32(1.0), vec![0, 0, 0x80, 0x3f]),
        ("char", Val::Char('€'), vec![0xac, 0x20, 0, 0]),
        // The discriminant, then the payload at its alignment; the rest untouched.
        (
            "option<u32>",
            some(Val::U32(7)),
            vec![1, pad, pad, pad, 7, 0, 0, 0],
        ),
        (
            "option<u32>",
            Val::Option(None),
            vec![0, pad, pad, pad, pad, pad, pad, pad],
        ),
        (
            "result<u64, u8>",
            err(Val::U8(9)),
            vec![1, pad, pad, pad, pad, pad, pad, pad, 9, pad],
        ),
        (
            "flags{a, b, c, d, e, f, g, h, i}",
            Val::Flags(0x101),
            vec![1, 1],
        ),
        ("enum{a, b}", Val::Enum(1), vec![1]),
        (
            "list<u16, 3>",
            Val::List(vec![Val::U16(1), Val::U16(2), Val::U16(3)]),
            vec![1, 0, 2, 0, 3, 0],
        ),
    ] {
        assert_eq!(
            stored_bytes(text, &value, bytes.len()),
            bytes,
            "{text} = {value:?}"
        );
    }
}

#[test]
fn strings_and_lists_store_a_pointer_and_a_length() {
    let mut types = Types::new();
    let ty = parse(&mut types, "tuple<string, list<u16>>");
    for ptr in PTRS {
        let mut memory = memory();
        let mut table = HandleTable::new();
        let options = options(ptr, StringEncoding::Utf8);
        let value = Val::Tuple(vec![s("abc"), Val::List(vec![Val::U16(5), Val::U16(6)])]);
        store(
            &mut cx(&types, options, &mut memory, &mut table),
            &value,
            ty,
            0,
        )
        .unwrap();
        let word = ptr.size() as usize;
        let read = |at: usize| {
            let mut bytes = [0; 8];
            bytes[..word].copy_from_slice(&memory.bytes[at..at + word]);
            u64::from_le_bytes(bytes)
        };
        let (string_ptr, string_len) = (read(0), read(word));
        let (list_ptr, list_len) = (read(2 * word), read(3 * word));
        assert_eq!((string_len, list_len), (3, 2), "{ptr:?}");
        assert_eq!(memory.slice(string_ptr, 3), Some(&b"abc"[..]));
        assert_eq!(memory.slice(list_ptr, 4), Some(&[5, 0, 6, 0][..]));
        // One allocation each, aligned for the elements.
        let calls: Vec<_> = memory
            .calls
            .iter()
            .map(|c| (c.old_ptr, c.align, c.new_size))
            .collect();
        assert_eq!(calls, [(0, 1, 3), (0, 2, 4)]);
    }
}

#[test]
fn flat_forms_are_the_specs() {
    use FlatVal::{F32, F64, I32, I64};
    let mut types = Types::new();
    let opts = options(PtrType::I32, StringEncoding::Utf8);
    for (text, value, flat) in [
        ("s8", Val::S8(-1), vec![I32(0xffff_ffff)]),
        ("u8", Val::U8(200), vec![I32(200)]),
        ("s64", Val::S64(-1), vec![I64(u64::MAX)]),
        ("bool", Val::Bool(true), vec![I32(1)]),
        // Variant payloads are converted to the joined slot types, and padded with zeros.
        (
            "result<f32, u32>",
            ok(Val::F32(1.5)),
            vec![I32(0), I32(1.5f32.to_bits())],
        ),
        ("result<f32, u32>", err(Val::U32(3)), vec![I32(1), I32(3)]),
        (
            "result<f32, f32>",
            ok(Val::F32(2.0)),
            vec![I32(0), F32(2.0)],
        ),
        ("result<f64, u32>", err(Val::U32(4)), vec![I32(1), I64(4)]),
        (
            "result<f64, u32>",
            ok(Val::F64(0.5)),
            vec![I32(0), I64(0.5f64.to_bits())],
        ),
        (
            "result<u64, f32>",
            err(Val::F32(1.0)),
            vec![I32(1), I64(u64::from(1f32.to_bits()))],
        ),
        ("option<f64>", Val::Option(None), vec![I32(0), F64(0.0)]),
        (
            "variant{a(tuple<f32, f32>), b(f64), c(u8)}",
            case(2, Some(Val::U8(9))),
            vec![I32(2), I64(9), F32(0.0)],
        ),
        (
            "variant{a(tuple<f32, f32>), b(f64), c(u8)}",
            case(0, Some(Val::Tuple(vec![Val::F32(1.0), Val::F32(2.0)]))),
            vec![I32(0), I64(u64::from(1f32.to_bits())), F32(2.0)],
        ),
        ("flags{a, b}", Val::Flags(2), vec![I32(2)]),
        (
            "list<u8, 2>",
            Val::List(vec![Val::U8(1), Val::U8(2)]),
            vec![I32(1), I32(2)],
        ),
    ] {
        let ty = parse(&mut types, text);
        assert_eq!(
            lower_to_flat(&types, opts, ty, &value),
            flat,
            "{text} = {value:?}"
        );
    }
}

#[test]
fn lifting_flat_values_wraps_and_coerces() {
    use FlatVal::{F32, I32, I64};
    let mut types = Types::new();
    let opts = options(PtrType::I32, StringEncoding::Utf8);
    for (text, flat, value) in [
        // Narrow integers ignore the high bits of their i32.
        ("u8", vec![I32(0x1234_5601)], Val::U8(1)),
        ("s8", vec![I32(0x0000_00ff)], Val::S8(-1)),
        ("s16", vec![I32(0xabcd_8000)], Val::S16(i16::MIN)),
        ("bool", vec![I32(2)], Val::Bool(true)),
        // Flag bits beyond the labels are ignored.
        ("flags{a, b}", vec![I32(0xffff_ffff)], Val::Flags(3)),
        // A payload narrower than its slot is wrapped, and NaNs are canonicalized.
        (
            "result<u32, f64>",
            vec![I32(0), I64(0xffff_ffff_0000_0005)],
            ok(Val::U32(5)),
        ),
        (
            "result<f32, u64>",
            vec![I32(0), I64(0x1234_5678_3fc0_0000)],
            ok(Val::F32(1.5)),
        ),
        (
            "result<f32, u32>",
            vec![I32(0), I32(0x7fc0_0001)],
            ok(Val::F32(f32::NAN)),
        ),
        (
            "result<f32, f32>",
            vec![I32(1), F32(3.0)],
            err(Val::F32(3.0)),
        ),
    ] {
        let ty = parse(&mut types, text);
        let mut memory = memory();
        let mut table = HandleTable::new();
        let mut reader = FlatReader::new(&flat);
        let got = wafer_canon::lift_flat(
            &mut cx(&types, opts, &mut memory, &mut table),
            &mut reader,
            ty,
        )
        .unwrap();
        assert_eq!(got, value, "{text} from {flat:?}");
        assert!(reader.is_done());
    }
}

#[test]
fn parameters_and_results_past_the_flat_limit_go_through_memory() {
    let mut types = Types::new();
    let u64_ = parse(&mut types, "u64");
    let string = parse(&mut types, "string");
    for ptr in PTRS {
        let opts = options(ptr, StringEncoding::Utf8);
        // 17 parameters: one pointer to a tuple `realloc` gave.
        let params = vec![u64_; 17];
        let values: Vec<Val> = (0..17).map(Val::U64).collect();
        let mut memory = memory();
        let mut table = HandleTable::new();
        let flat = lower_flat_values(
            &mut cx(&types, opts, &mut memory, &mut table),
            MAX_FLAT_PARAMS,
            &values,
            &params,
            None,
        )
        .unwrap();
        assert_eq!(flat.len(), 1);
        assert_eq!(flat[0].core_type(), ptr.core_type());
        let call = memory.calls[0];
        assert_eq!(
            (call.old_ptr, call.old_size, call.align, call.new_size),
            (0, 0, 8, 17 * 8)
        );
        assert_eq!(flat[0].bits(), call.result);
        let mut reader = FlatReader::new(&flat);
        let back = lift_flat_values(
            &mut cx(&types, opts, &mut memory, &mut table),
            MAX_FLAT_PARAMS,
            &mut reader,
            &params,
        )
        .unwrap();
        assert_eq!(back, values);
        // 16 stay flat.
        let flat = lower_flat_values(
            &mut cx(&types, opts, &mut memory, &mut table),
            MAX_FLAT_PARAMS,
            &values[..16],
            &params[..16],
            None,
        )
        .unwrap();
        assert_eq!(flat.len(), 16);

        // A string result, through a caller-supplied return pointer (canon lower).
        let out = [FlatVal::ptr(ptr, 64)];
        let mut out_param = FlatReader::new(&out);
        let result = [s("ret")];
        let flat = lower_flat_values(
            &mut cx(&types, opts, &mut memory, &mut table),
            MAX_FLAT_RESULTS,
            &result,
            &[string],
            Some(&mut out_param),
        )
        .unwrap();
        assert!(flat.is_empty() && out_param.is_done());
        let back = load(&mut cx(&types, opts, &mut memory, &mut table), 64, string).unwrap();
        assert_eq!(back, result[0]);
        // And returned as a pointer (canon lift), lifted back from it.
        let flat = lower_flat_values(
            &mut cx(&types, opts, &mut memory, &mut table),
            MAX_FLAT_RESULTS,
            &result,
            &[string],
            None,
        )
        .unwrap();
        let mut reader = FlatReader::new(&flat);
        let back = lift_flat_values(
            &mut cx(&types, opts, &mut memory, &mut table),
            MAX_FLAT_RESULTS,
            &mut reader,
            &[string],
        )
        .unwrap();
        assert_eq!(back, result);
    }
}

#[test]
fn strings_keep_their_origin_through_a_round_trip() {
    let mut types = Types::new();
    let string = parse(&mut types, "string");
    for (encoding, text, origin) in [
        (StringEncoding::Utf8, "h€", wafer_canon::StrOrigin::Utf8(4)),
        (
            StringEncoding::Utf16,
            "h€",
            wafer_canon::StrOrigin::Utf16(2),
        ),
        (
            StringEncoding::Latin1Utf16,
            "hé",
            wafer_canon::StrOrigin::Latin1(2),
        ),
        (
            StringEncoding::Latin1Utf16,
            "h€",
            wafer_canon::StrOrigin::CompactUtf16(2),
        ),
    ] {
        let back =
            memory_round_trip(&types, options(PtrType::I32, encoding), string, &s(text)).unwrap();
        let Val::String(back) = back else { panic!() };
        assert_eq!(
            (back.as_str(), back.origin()),
            (text, origin),
            "{encoding:?}"
        );
    }
}
