//! The binary encodings: exact bytes, round trips and every error.

use wafer_canon::encode::{
    DecodeError, DecodeErrorKind, decode_types, decode_val, decode_vals, encode_types, encode_val,
    encode_vals, write_leb, write_sleb,
};
use wafer_canon::{FuncType, Trap, TypeError, TypeId, Types, Val};

use crate::support::parse;

#[test]
fn types_encode_to_these_bytes() {
    let mut types = Types::new();
    let record = parse(&mut types, "record{a: u8, b: list<string>}");
    let funcs = [FuncType {
        params: vec![record],
        results: vec![TypeId::U32],
        is_async: false,
    }];
    let bytes = encode_types(&types, &funcs);
    #[rustfmt::skip]
    let expected = [
        b'W', b'C', b'T', b'1',
        2,                                  // types after the primitives
        0x70, 12,                           // 14: list<string>
        0x72, 2, 1, b'a', 2, 1, b'b', 14,   // 15: record{a: u8, b: list<string>}
        1,                                  // functions
        0x40, 1, 15, 1, 6,                  // func(record) -> u32
    ];
    assert_eq!(bytes, expected);
    assert_eq!(decode_types(&bytes), Ok((types, funcs.to_vec())));
}

#[test]
fn every_type_kind_round_trips() {
    let mut types = Types::new();
    for text in [
        "list<u8>",
        "list<char, 3>",
        "record{x: s64, y-z: f64}",
        "variant{a(u8), b, c(string)}",
        "tuple<bool, s8>",
        "flags{a, b, c}",
        "enum{up, down}",
        "option<u16>",
        "result",
        "result<s32>",
        "result<_, f32>",
        "result<u8, u64>",
        "map<string, option<u8>>",
        "own<3>",
        "borrow<4294967295>",
        "stream",
        "stream<error-context>",
        "future",
        "future<list<u8>>",
    ] {
        parse(&mut types, text);
    }
    let funcs = vec![
        FuncType {
            params: vec![],
            results: vec![],
            is_async: true,
        },
        FuncType {
            params: vec![TypeId::STRING, parse(&mut types, "borrow<1>")],
            results: vec![TypeId::U8],
            is_async: false,
        },
    ];
    let bytes = encode_types(&types, &funcs);
    assert_eq!(decode_types(&bytes), Ok((types, funcs)));
}

fn error_at(offset: usize, kind: DecodeErrorKind) -> Result<(Types, Vec<FuncType>), DecodeError> {
    Err(DecodeError { offset, kind })
}

#[test]
fn malformed_types() {
    use DecodeErrorKind::*;
    let decode = |body: &[u8]| decode_types(&[b"WCT1", body].concat());
    assert_eq!(decode_types(b"WCT2\0\0"), error_at(0, BadMagic));
    assert_eq!(decode_types(b"WC"), error_at(0, BadMagic));
    assert_eq!(decode(&[]), error_at(4, UnexpectedEnd));
    assert_eq!(decode(&[0, 0]), Ok((Types::new(), vec![])));
    assert_eq!(decode(&[0, 0, 0]), error_at(6, TrailingBytes));
    // A count larger than the bytes left.
    assert_eq!(decode(&[5, 0x70, 2]), error_at(4, UnexpectedEnd));
    assert_eq!(decode(&[1, 0x99]), error_at(5, BadOpcode(0x99)));
    assert_eq!(
        decode(&[1, 0x72, 0, 0]),
        error_at(5, Invalid(TypeError::Empty))
    );
    assert_eq!(
        decode(&[1, 0x70, 99, 0]),
        error_at(5, Invalid(TypeError::UnknownType(99)))
    );
    assert_eq!(
        decode(&[1, 0x67, 2, 0, 0]),
        error_at(5, Invalid(TypeError::ZeroLengthList))
    );
    // A type twice; a type referring to itself.
    assert_eq!(decode(&[2, 0x70, 2, 0x70, 2, 0]), error_at(7, NotCanonical));
    assert_eq!(
        decode(&[1, 0x70, 14, 0]),
        error_at(5, Invalid(TypeError::UnknownType(14)))
    );
    assert!(decode(&[1, 0x63, 2, 2, 0]).is_ok());
    // Names must be UTF-8, options 0 or 1, numbers in range.
    assert_eq!(decode(&[1, 0x6d, 1, 1, 0xff, 0]), error_at(8, BadUtf8));
    assert_eq!(
        decode(&[1, 0x6b, 0x80, 0x80, 0x80, 0x80, 0x10, 0]),
        error_at(6, BadNumber)
    );
    assert_eq!(decode(&[1, 0x66, 2, 0]), error_at(7, BadNumber));
    assert_eq!(
        decode(&[
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
        ]),
        error_at(4, BadNumber)
    );
    // Functions.
    assert_eq!(decode(&[0, 1, 0x41, 0, 0]), error_at(7, BadOpcode(0x41)));
    assert_eq!(
        decode(&[0, 1, 0x40, 1, 50, 0]),
        error_at(6, Invalid(TypeError::UnknownType(50)))
    );
    assert_eq!(
        decode(&[1, 0x68, 1, 1, 0x40, 0, 1, 14]),
        error_at(8, Invalid(TypeError::BorrowInResult))
    );
    // Every prefix of a real encoding fails cleanly.
    let mut types = Types::new();
    parse(
        &mut types,
        "record{a: map<string, variant{x(u8), y}>, b: flags{f}}",
    );
    let funcs = [FuncType {
        params: vec![TypeId::U8],
        results: vec![TypeId::STRING],
        is_async: false,
    }];
    let bytes = encode_types(&types, &funcs);
    for len in 0..bytes.len() {
        assert!(
            decode_types(&bytes[..len]).is_err(),
            "prefix of {len} bytes"
        );
    }
}

#[test]
fn values_encode_to_these_bytes() {
    let mut types = Types::new();
    let ty = parse(
        &mut types,
        "tuple<bool, s8, u16, s32, f32, char, string, option<u8>, flags{a, b}, list<u8>>",
    );
    let value = Val::Tuple(vec![
        Val::Bool(true),
        Val::S8(-1),
        Val::U16(300),
        Val::S32(-2),
        Val::F32(1.0),
        Val::Char('é'),
        Val::string("hi"),
        Val::Option(Some(Box::new(Val::U8(7)))),
        Val::Flags(2),
        Val::List(vec![Val::U8(1), Val::U8(2)]),
    ]);
    let bytes = encode_vals(&types, &[ty], std::slice::from_ref(&value)).unwrap();
    #[rustfmt::skip]
    let expected = [
        b'W', b'C', b'V', b'1', 1,
        1,                  // true
        0xff,               // -1
        0xac, 0x02,         // 300
        0x7e,               // -2
        0, 0, 0x80, 0x3f,   // 1.0
        0xe9, 0x01,         // 'é'
        2, b'h', b'i',      // "hi"
        1, 7,               // some(7)
        2,                  // flags b
        2, 1, 2,            // [1, 2]
    ];
    assert_eq!(bytes, expected);
    assert_eq!(decode_vals(&types, &[ty], &bytes), Ok(vec![value]));
}

#[test]
fn numbers_at_their_limits() {
    let mut types = Types::new();
    let ty = parse(&mut types, "tuple<u64, s64, s64, u32, s32, s16, u16>");
    let value = Val::Tuple(vec![
        Val::U64(u64::MAX),
        Val::S64(i64::MIN),
        Val::S64(i64::MAX),
        Val::U32(u32::MAX),
        Val::S32(i32::MIN),
        Val::S16(i16::MIN),
        Val::U16(u16::MAX),
    ]);
    let mut bytes = Vec::new();
    encode_val(&types, ty, &value, &mut bytes).unwrap();
    let mut at = 0;
    assert_eq!(decode_val(&types, ty, &bytes, &mut at), Ok(value));
    assert_eq!(at, bytes.len());
    for n in [0, 63, 64, -64, -65, i64::MAX, i64::MIN, -1] {
        let mut out = Vec::new();
        write_sleb(&mut out, n);
        let mut at = 0;
        assert_eq!(
            decode_val(&types, TypeId::S64, &out, &mut at),
            Ok(Val::S64(n)),
            "{n}"
        );
    }
    let mut out = Vec::new();
    write_leb(&mut out, 127);
    assert_eq!(out, [0x7f]);
}

#[test]
fn malformed_values() {
    use DecodeErrorKind::*;
    let mut types = Types::new();
    let check =
        |types: &mut Types, text: &str, bytes: &[u8], kind: DecodeErrorKind, offset: usize| {
            let ty = parse(types, text);
            let mut at = 0;
            assert_eq!(
                decode_val(types, ty, bytes, &mut at),
                Err(DecodeError { offset, kind }),
                "{text} from {bytes:x?}"
            );
        };
    check(&mut types, "bool", &[2], BadValue, 0);
    check(&mut types, "char", &[0x80, 0xb0, 0x03], BadValue, 0);
    check(&mut types, "char", &[0x80, 0x80, 0x44], BadValue, 0);
    check(&mut types, "u16", &[0x80, 0x80, 0x04], BadValue, 0);
    check(&mut types, "s16", &[0x80, 0x80, 0x02], BadValue, 0);
    check(
        &mut types,
        "u32",
        &[0x80, 0x80, 0x80, 0x80, 0x10],
        BadValue,
        0,
    );
    check(
        &mut types,
        "s32",
        &[0x80, 0x80, 0x80, 0x80, 0x08],
        BadValue,
        0,
    );
    check(
        &mut types,
        "s64",
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        BadNumber,
        0,
    );
    check(
        &mut types,
        "u64",
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
        BadNumber,
        0,
    );
    check(&mut types, "f64", &[0, 0, 0], UnexpectedEnd, 0);
    check(&mut types, "flags{a, b}", &[4], BadValue, 0);
    check(&mut types, "option<u8>", &[2, 0], BadValue, 0);
    check(&mut types, "enum{a, b}", &[2], BadValue, 0);
    check(&mut types, "variant{a, b(u8)}", &[1], UnexpectedEnd, 1);
    check(&mut types, "result<u8, u8>", &[5], BadValue, 0);
    check(&mut types, "string", &[2, 0xc3, 0x28], BadUtf8, 1);
    check(&mut types, "string", &[5, b'a'], UnexpectedEnd, 0);
    check(&mut types, "list<u8>", &[3, 1, 2], UnexpectedEnd, 0);
    check(&mut types, "list<u8, 3>", &[1, 2], UnexpectedEnd, 2);
    check(&mut types, "map<u8, u8>", &[1, 1], UnexpectedEnd, 2);
    check(
        &mut types,
        "own<1>",
        &[0x80, 0x80, 0x80, 0x80, 0x10],
        BadNumber,
        0,
    );
    let ty = parse(&mut types, "u8");
    let mut at = 0;
    assert_eq!(
        decode_val(&types, TypeId::from_index(999), &[0], &mut at),
        Err(DecodeError {
            offset: 0,
            kind: Invalid(TypeError::UnknownType(999))
        })
    );
    assert_eq!(
        decode_vals(&types, &[ty], b"WCV1\x01\x05\x06"),
        Err(DecodeError {
            offset: 6,
            kind: TrailingBytes
        })
    );
    assert_eq!(
        decode_vals(&types, &[ty, ty], b"WCV1\x01\x05"),
        Err(DecodeError {
            offset: 4,
            kind: BadValue
        })
    );
    assert_eq!(
        decode_vals(&types, &[ty], b"WCX1\x01\x05"),
        Err(DecodeError {
            offset: 0,
            kind: BadMagic
        })
    );
    assert_eq!(
        decode_vals(&types, &[ty], b"WCV1\x01\x05"),
        Ok(vec![Val::U8(5)])
    );
}

#[test]
fn values_must_match_their_types_to_encode() {
    let mut types = Types::new();
    for (text, value) in [
        ("u8", Val::U16(1)),
        ("list<u8, 2>", Val::List(vec![])),
        ("flags{a}", Val::Flags(2)),
        ("variant{a}", Val::Variant(1, None)),
        ("variant{a}", Val::Variant(0, Some(Box::new(Val::U8(1))))),
        ("enum{a}", Val::Enum(1)),
        ("record{a: u8}", Val::Record(vec![])),
        ("tuple<u8>", Val::Tuple(vec![])),
        ("result<_, u8>", Val::Result(Err(None))),
    ] {
        let ty = parse(&mut types, text);
        assert_eq!(
            encode_val(&types, ty, &value, &mut Vec::new()),
            Err(Trap::TypeMismatch),
            "{text}"
        );
    }
    assert_eq!(
        encode_vals(&types, &[TypeId::U8], &[]),
        Err(Trap::TypeMismatch)
    );
    assert_eq!(
        encode_val(
            &types,
            TypeId::from_index(999),
            &Val::U8(1),
            &mut Vec::new()
        ),
        Err(Trap::TypeMismatch)
    );
}
