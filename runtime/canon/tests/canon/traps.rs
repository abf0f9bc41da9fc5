//! Every trap lifting and lowering raise, and the embedder errors.

use wafer_canon::{
    FlatReader, FlatVal, HandleTable, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, NoHandles, PtrType,
    StringEncoding, Trap, TypeId, Types, Val, VecMemory, lift_flat, lift_flat_values, load,
    lower_flat, lower_flat_values, store,
};

use crate::support::{RiggedMemory, cx, options, parse};

/// Writes `bytes` at `at` in a fresh memory, then lifts a `text` from `ptr`.
fn load_from(
    text: &str,
    ptr_type: PtrType,
    encoding: StringEncoding,
    at: usize,
    bytes: &[u8],
    ptr: u64,
) -> Result<Val, Trap> {
    let mut types = Types::new();
    let ty = parse(&mut types, text);
    let mut memory = crate::support::memory();
    memory.bytes[at..at + bytes.len()].copy_from_slice(bytes);
    let mut table = HandleTable::new();
    load(
        &mut cx(&types, options(ptr_type, encoding), &mut memory, &mut table),
        ptr,
        ty,
    )
}

/// A string or list header at 0 (pointer, length; 32-bit) pointing to `bytes` at 64.
fn header(begin: u32, len: u32) -> Vec<u8> {
    [begin.to_le_bytes(), len.to_le_bytes()].concat()
}

/// Lifts a `text` whose header at 0 says (`begin`, `len`) and whose contents at 64
/// are `bytes`.
fn load_indirect(
    text: &str,
    encoding: StringEncoding,
    begin: u32,
    len: u32,
    bytes: &[u8],
) -> Result<Val, Trap> {
    let mut types = Types::new();
    let ty = parse(&mut types, text);
    let mut memory = crate::support::memory();
    memory.bytes[..8].copy_from_slice(&header(begin, len));
    memory.bytes[64..64 + bytes.len()].copy_from_slice(bytes);
    let mut table = HandleTable::new();
    load(
        &mut cx(
            &types,
            options(PtrType::I32, encoding),
            &mut memory,
            &mut table,
        ),
        0,
        ty,
    )
}

#[test]
fn invalid_utf8() {
    use StringEncoding::Utf8;
    for bytes in [
        &[0xff][..],
        &[0xc0, 0x80],
        &[0xe2, 0x82],
        &[0xed, 0xa0, 0x80],
        &[b'a', 0x80],
    ] {
        assert_eq!(
            load_indirect("string", Utf8, 64, bytes.len() as u32, bytes),
            Err(Trap::InvalidUtf8),
            "{bytes:x?}"
        );
    }
    // A valid prefix of an invalid string is not enough.
    assert_eq!(
        load_indirect("string", Utf8, 64, 1, &[b'a', 0xff]),
        Ok(Val::string("a"))
    );
}

#[test]
fn invalid_utf16() {
    for encoding in [StringEncoding::Utf16, StringEncoding::Latin1Utf16] {
        let tag = if encoding == StringEncoding::Utf16 {
            0
        } else {
            1 << 31
        };
        for units in [
            &[0xd800u16][..],
            &[0xdc00],
            &[0xd800, 0x0041],
            &[0x0041, 0xdfff],
            &[0xdc00, 0xd800],
        ] {
            let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
            let len = units.len() as u32 | tag;
            assert_eq!(
                load_indirect("string", encoding, 64, len, &bytes),
                Err(Trap::InvalidUtf16),
                "{units:x?} {encoding:?}"
            );
        }
        let pair: Vec<u8> = [0xd83du16, 0xde00]
            .iter()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(
            load_indirect("string", encoding, 64, 2 | tag, &pair),
            Ok(Val::string("😀"))
        );
    }
}

#[test]
fn invalid_chars() {
    let mut types = Types::new();
    let ty = parse(&mut types, "char");
    for (code, valid) in [
        (0xd7ff, true),
        (0xd800, false),
        (0xdbff, false),
        (0xdc00, false),
        (0xdfff, false),
        (0xe000, true),
        (0x10ffff, true),
        (0x110000, false),
        (0xffff_ffff, false),
    ] {
        let expected = if valid {
            Ok(Val::Char(char::from_u32(code).unwrap()))
        } else {
            Err(Trap::InvalidChar)
        };
        let got = load_from(
            "char",
            PtrType::I32,
            StringEncoding::Utf8,
            4,
            &code.to_le_bytes(),
            4,
        );
        assert_eq!(got, expected, "{code:#x} from memory");
        let flat = [FlatVal::I32(code)];
        let mut memory = crate::support::memory();
        let got = lift_flat(
            &mut cx(&types, Default::default(), &mut memory, &mut NoHandles),
            &mut FlatReader::new(&flat),
            ty,
        );
        assert_eq!(got, expected, "{code:#x} flat");
    }
}

#[test]
fn invalid_discriminants() {
    use StringEncoding::Utf8;
    let load1 = |text: &str, bytes: &[u8]| load_from(text, PtrType::I32, Utf8, 0, bytes, 0);
    assert_eq!(load1("option<u8>", &[2, 0]), Err(Trap::InvalidDiscriminant));
    assert_eq!(
        load1("option<u8>", &[1, 7]),
        Ok(Val::Option(Some(Box::new(Val::U8(7)))))
    );
    assert_eq!(load1("result", &[2]), Err(Trap::InvalidDiscriminant));
    assert_eq!(load1("enum{a, b, c}", &[3]), Err(Trap::InvalidDiscriminant));
    assert_eq!(load1("enum{a, b, c}", &[2]), Ok(Val::Enum(2)));
    assert_eq!(
        load1("variant{a(u32), b}", &[0xff, 0, 0, 0, 0, 0, 0, 0]),
        Err(Trap::InvalidDiscriminant)
    );
    // A 2-byte discriminant: both bytes count.
    let mut types = Types::new();
    let labels: Vec<String> = (0..300).map(|i| format!("e{i}")).collect();
    let text = format!("enum{{{}}}", labels.join(", "));
    parse(&mut types, &text);
    assert_eq!(load1(&text, &[0x2b, 0x01]), Ok(Val::Enum(299)));
    assert_eq!(load1(&text, &[0x2c, 0x01]), Err(Trap::InvalidDiscriminant));
    // Flat: the whole i32 is the case index.
    let ty = parse(&mut types, "option<u8>");
    for (disc, ok) in [(1, true), (2, false), (0x101, false), (0x8000_0001, false)] {
        let flat = [FlatVal::I32(disc), FlatVal::I32(5)];
        let mut memory = crate::support::memory();
        let got = lift_flat(
            &mut cx(&types, Default::default(), &mut memory, &mut NoHandles),
            &mut FlatReader::new(&flat),
            ty,
        );
        assert_eq!(got.is_ok(), ok, "{disc}");
        if !ok {
            assert_eq!(got, Err(Trap::InvalidDiscriminant));
        }
    }
}

#[test]
fn bools_and_flags_never_trap() {
    use StringEncoding::Utf8;
    let load1 = |text: &str, bytes: &[u8]| load_from(text, PtrType::I32, Utf8, 0, bytes, 0);
    assert_eq!(load1("bool", &[2]), Ok(Val::Bool(true)));
    assert_eq!(load1("bool", &[0x80]), Ok(Val::Bool(true)));
    assert_eq!(load1("bool", &[0]), Ok(Val::Bool(false)));
    // Bits beyond the labels are dropped.
    assert_eq!(load1("flags{a, b, c}", &[0xff]), Ok(Val::Flags(7)));
    assert_eq!(
        load1("flags{a, b, c, d, e, f, g, h, i, j}", &[0xff, 0xff]),
        Ok(Val::Flags(0x3ff))
    );
}

#[test]
fn unaligned_pointers() {
    use StringEncoding::{Latin1Utf16, Utf8, Utf16};
    // Loaded string and list pointers.
    assert_eq!(
        load_indirect("string", Utf16, 65, 1, &[]),
        Err(Trap::UnalignedPointer)
    );
    assert_eq!(
        load_indirect("string", Latin1Utf16, 65, 1, &[]),
        Err(Trap::UnalignedPointer)
    );
    assert_eq!(
        load_indirect("string", Latin1Utf16, 65, 1 | 1 << 31, &[]),
        Err(Trap::UnalignedPointer)
    );
    assert_eq!(
        load_indirect("string", Utf8, 65, 1, b"a"),
        Ok(Val::string("\0"))
    );
    assert_eq!(
        load_indirect("list<u32>", Utf8, 66, 1, &[]),
        Err(Trap::UnalignedPointer)
    );
    assert_eq!(
        load_indirect("list<u16>", Utf8, 66, 1, &[]),
        Ok(Val::List(vec![Val::U16(0)]))
    );
    assert_eq!(
        load_indirect("list<u8>", Utf8, 65, 0, &[]),
        Ok(Val::List(vec![]))
    );
    // Even an empty list must be aligned.
    assert_eq!(
        load_indirect("list<u64>", Utf8, 68, 0, &[]),
        Err(Trap::UnalignedPointer)
    );
    // The pointer given to load and store.
    let mut types = Types::new();
    let ty = parse(&mut types, "u32");
    let mut memory = crate::support::memory();
    let mut table = HandleTable::new();
    let opts = options(PtrType::I32, Utf8);
    assert_eq!(
        load(&mut cx(&types, opts, &mut memory, &mut table), 2, ty),
        Err(Trap::UnalignedPointer)
    );
    assert_eq!(
        store(
            &mut cx(&types, opts, &mut memory, &mut table),
            &Val::U32(1),
            ty,
            2
        ),
        Err(Trap::UnalignedPointer)
    );
}

#[test]
fn parameters_and_results_in_memory_must_be_aligned_and_inside() {
    let mut types = Types::new();
    let params = vec![parse(&mut types, "u64"); 17];
    let values: Vec<Val> = (0..17).map(Val::U64).collect();
    let opts = options(PtrType::I32, StringEncoding::Utf8);
    let size = 1u32 << 16;
    for (ptr, expected) in [
        (4, Err(Trap::UnalignedPointer)),
        (size - 136, Ok(())),
        (size - 128, Err(Trap::PointerOutOfBounds)),
        (u32::MAX - 7, Err(Trap::PointerOutOfBounds)),
    ] {
        let flat = [FlatVal::I32(ptr)];
        let mut memory = crate::support::memory();
        let got = lift_flat_values(
            &mut cx(&types, opts, &mut memory, &mut NoHandles),
            MAX_FLAT_PARAMS,
            &mut FlatReader::new(&flat),
            &params,
        );
        assert_eq!(got.map(|_| ()), expected, "lift from {ptr:#x}");
        // The return pointer of a canon lower.
        let mut out = FlatReader::new(&flat);
        let mut memory = crate::support::memory();
        let got = lower_flat_values(
            &mut cx(&types, opts, &mut memory, &mut NoHandles),
            MAX_FLAT_RESULTS,
            &values,
            &params,
            Some(&mut out),
        );
        assert_eq!(got.map(|_| ()), expected, "lower to {ptr:#x}");
    }
    // And the pointer given to load and store.
    let mut memory = crate::support::memory();
    let ty = parse(&mut types, "u64");
    assert_eq!(
        load(
            &mut cx(&types, opts, &mut memory, &mut NoHandles),
            u64::from(size) - 4,
            TypeId::U32
        ),
        Ok(Val::U32(0))
    );
    assert_eq!(
        load(
            &mut cx(&types, opts, &mut memory, &mut NoHandles),
            u64::from(size),
            ty
        ),
        Err(Trap::PointerOutOfBounds)
    );
    assert_eq!(
        store(
            &mut cx(&types, opts, &mut memory, &mut NoHandles),
            &Val::U64(1),
            ty,
            u64::from(size)
        ),
        Err(Trap::PointerOutOfBounds)
    );
}

#[test]
fn out_of_bounds_strings_and_lists() {
    use StringEncoding::{Latin1Utf16, Utf8, Utf16};
    let end = 1u32 << 16;
    assert_eq!(
        load_indirect("string", Utf8, end - 2, 2, &[]),
        Ok(Val::string("\0\0"))
    );
    assert_eq!(
        load_indirect("string", Utf8, end - 1, 2, &[]),
        Err(Trap::StringOutOfBounds)
    );
    // Out of bounds even when empty.
    assert_eq!(
        load_indirect("string", Utf8, end, 0, &[]),
        Ok(Val::string(""))
    );
    assert_eq!(
        load_indirect("string", Utf8, 0xdead_beef, 0, &[]),
        Err(Trap::StringOutOfBounds)
    );
    assert_eq!(
        load_indirect("string", Utf16, end - 2, 2, &[]),
        Err(Trap::StringOutOfBounds)
    );
    assert_eq!(
        load_indirect("string", Latin1Utf16, end - 2, 2 | 1 << 31, &[]),
        Err(Trap::StringOutOfBounds)
    );
    assert_eq!(
        load_indirect("string", Latin1Utf16, end - 2, 2, &[]),
        Ok(Val::string("\0\0"))
    );
    assert_eq!(
        load_indirect("list<u32>", Utf8, end - 4, 1, &[]),
        Ok(Val::List(vec![Val::U32(0)]))
    );
    assert_eq!(
        load_indirect("list<u32>", Utf8, end - 4, 2, &[]),
        Err(Trap::ListOutOfBounds)
    );
    assert_eq!(
        load_indirect("list<u8>", Utf8, 0xffff_fff0, 0x20, &[]),
        Err(Trap::ListOutOfBounds)
    );
    // 64-bit: a range that wraps around is out of bounds.
    let types = Types::new();
    let mut memory = crate::support::memory();
    let opts = options(PtrType::I64, Utf8);
    let got = wafer_canon::string::load_string_from_range(
        &mut cx(&types, opts, &mut memory, &mut NoHandles),
        u64::MAX - 1,
        5,
    );
    assert_eq!(got, Err(Trap::StringOutOfBounds));
    let got = wafer_canon::load::load_list_from_range(
        &mut cx(&types, opts, &mut memory, &mut NoHandles),
        u64::MAX - 3,
        2,
        TypeId::U32,
    );
    assert_eq!(got, Err(Trap::ListOutOfBounds));
}

#[test]
fn too_long_strings_and_lists() {
    use StringEncoding::{Latin1Utf16, Utf8, Utf16};
    // The length is checked before the range: 2^28 bytes is too long even when the
    // range is also out of bounds; one byte less is only out of bounds.
    assert_eq!(
        load_indirect("string", Utf8, 64, 1 << 28, &[]),
        Err(Trap::StringTooLong)
    );
    assert_eq!(
        load_indirect("string", Utf8, 64, (1 << 28) - 1, &[]),
        Err(Trap::StringOutOfBounds)
    );
    assert_eq!(
        load_indirect("string", Utf16, 64, 1 << 27, &[]),
        Err(Trap::StringTooLong)
    );
    assert_eq!(
        load_indirect("string", Utf16, 64, (1 << 27) - 1, &[]),
        Err(Trap::StringOutOfBounds)
    );
    // In plain UTF-16 the top bit is part of the length.
    assert_eq!(
        load_indirect("string", Utf16, 64, 1 << 31, &[]),
        Err(Trap::StringTooLong)
    );
    assert_eq!(
        load_indirect("string", Latin1Utf16, 64, 1 << 27 | 1 << 31, &[]),
        Err(Trap::StringTooLong)
    );
    assert_eq!(
        load_indirect("string", Latin1Utf16, 64, 1 << 28, &[]),
        Err(Trap::StringTooLong)
    );
    // And before alignment.
    assert_eq!(
        load_indirect("string", Utf16, 65, 1 << 27, &[]),
        Err(Trap::StringTooLong)
    );
    assert_eq!(
        load_indirect("list<u32>", Utf8, 64, 1 << 26, &[]),
        Err(Trap::ListTooLong)
    );
    assert_eq!(
        load_indirect("list<u32>", Utf8, 64, (1 << 26) - 1, &[]),
        Err(Trap::ListOutOfBounds)
    );
    assert_eq!(
        load_indirect("list<u32>", Utf8, 66, 1 << 26, &[]),
        Err(Trap::ListTooLong)
    );
    // 64-bit lengths whose byte size overflows 64 bits.
    let types = Types::new();
    let mut memory = crate::support::memory();
    let opts = options(PtrType::I64, Utf16);
    let got = wafer_canon::string::load_string_from_range(
        &mut cx(&types, opts, &mut memory, &mut NoHandles),
        64,
        1 << 63,
    );
    assert_eq!(got, Err(Trap::StringTooLong));
    let got = wafer_canon::load::load_list_from_range(
        &mut cx(&types, opts, &mut memory, &mut NoHandles),
        64,
        1 << 62,
        TypeId::U64,
    );
    assert_eq!(got, Err(Trap::ListTooLong));
    // Lowering a list that would need more than a 32-bit realloc can give traps too
    // (checked before any element).
    let mut types = Types::new();
    let ty = parse(&mut types, "list<list<u8, 268435455>>");
    let value = Val::List(vec![Val::Bool(false); 17]);
    let mut memory = crate::support::memory();
    let mut flat = Vec::new();
    let got = lower_flat(
        &mut cx(&types, opts, &mut memory, &mut NoHandles),
        &value,
        ty,
        &mut flat,
    );
    assert_eq!(got, Err(Trap::ListTooLong));
    assert!(memory.calls.is_empty());
}

/// Lowers `value` of `text` into a memory whose next `realloc` returns `rigged`.
fn lower_with_realloc(
    text: &str,
    encoding: StringEncoding,
    value: &Val,
    rigged: u64,
) -> Result<(), Trap> {
    let mut types = Types::new();
    let ty = parse(&mut types, text);
    let mut memory = RiggedMemory {
        inner: crate::support::memory(),
        results: vec![rigged],
    };
    let mut flat = Vec::new();
    lower_flat(
        &mut cx(
            &types,
            options(PtrType::I32, encoding),
            &mut memory,
            &mut HandleTable::new(),
        ),
        value,
        ty,
        &mut flat,
    )
}

#[test]
fn realloc_results_are_checked() {
    use StringEncoding::{Latin1Utf16, Utf8, Utf16};
    let end = 1u64 << 16;
    let list = Val::List(vec![Val::U32(1), Val::U32(2)]);
    assert_eq!(
        lower_with_realloc("list<u32>", Utf8, &list, 1026),
        Err(Trap::ReallocUnaligned)
    );
    assert_eq!(
        lower_with_realloc("list<u32>", Utf8, &list, end - 4),
        Err(Trap::ReallocOutOfBounds)
    );
    assert_eq!(
        lower_with_realloc("list<u32>", Utf8, &list, end - 8),
        Ok(())
    );
    let string = Val::string("ab");
    assert_eq!(
        lower_with_realloc("string", Utf16, &string, 1025),
        Err(Trap::ReallocUnaligned)
    );
    assert_eq!(
        lower_with_realloc("string", Latin1Utf16, &string, 1025),
        Err(Trap::ReallocUnaligned)
    );
    assert_eq!(lower_with_realloc("string", Utf8, &string, 1025), Ok(()));
    assert_eq!(
        lower_with_realloc("string", Utf8, &string, end - 1),
        Err(Trap::ReallocOutOfBounds)
    );
    // Even an empty allocation must lie inside.
    let empty = Val::string("");
    assert_eq!(lower_with_realloc("string", Utf8, &empty, end), Ok(()));
    assert_eq!(
        lower_with_realloc("string", Utf8, &empty, end + 1),
        Err(Trap::ReallocOutOfBounds)
    );
    // A 32-bit memory cannot hold a pointer past 2^32 - 1.
    assert_eq!(
        lower_with_realloc("string", Utf8, &empty, 1 << 32),
        Err(Trap::ReallocOutOfBounds)
    );

    // Parameters passed through memory by a canon lift.
    let mut types = Types::new();
    let params = vec![parse(&mut types, "u64"); 17];
    let values: Vec<Val> = (0..17).map(Val::U64).collect();
    for (rigged, expected) in [
        (1028, Err(Trap::ReallocUnaligned)),
        (end - 8, Err(Trap::ReallocOutOfBounds)),
    ] {
        let mut memory = RiggedMemory {
            inner: crate::support::memory(),
            results: vec![rigged],
        };
        let got = lower_flat_values(
            &mut cx(&types, Default::default(), &mut memory, &mut NoHandles),
            MAX_FLAT_PARAMS,
            &values,
            &params,
            None,
        );
        assert_eq!(got.map(|_| ()), expected);
    }
    // The second realloc of a transcoding (growing to the worst case).
    let mut memory = RiggedMemory {
        inner: crate::support::memory(),
        results: vec![1024, end - 2],
    };
    let got = lower_flat(
        &mut cx(
            &types,
            options(PtrType::I32, Latin1Utf16),
            &mut memory,
            &mut NoHandles,
        ),
        &Val::string("a€"),
        TypeId::STRING,
        &mut Vec::new(),
    );
    assert_eq!(got, Err(Trap::ReallocOutOfBounds));
}

#[test]
fn a_failing_realloc_is_passed_on() {
    let types = Types::new();
    let mut memory = VecMemory::new(64, 0);
    memory.max_size = 64;
    let got = lower_flat(
        &mut cx(&types, Default::default(), &mut memory, &mut NoHandles),
        &Val::string(&"x".repeat(100)),
        TypeId::STRING,
        &mut Vec::new(),
    );
    assert_eq!(got, Err(Trap::Host));
}

#[test]
fn values_that_do_not_match_their_types() {
    let mut types = Types::new();
    let mut memory = crate::support::memory();
    let opts = Default::default();
    for (text, value) in [
        ("u32", Val::U8(1)),
        ("string", Val::Char('a')),
        ("list<u8, 2>", Val::List(vec![Val::U8(1)])),
        ("record{a: u8, b: u8}", Val::Record(vec![Val::U8(1)])),
        (
            "tuple<u8, u8>",
            Val::Tuple(vec![Val::U8(1), Val::U8(2), Val::U8(3)]),
        ),
        ("tuple<u8>", Val::Record(vec![Val::U8(1)])),
        ("variant{a(u8), b}", Val::Variant(2, None)),
        ("variant{a(u8), b}", Val::Variant(0, None)),
        (
            "variant{a(u8), b}",
            Val::Variant(1, Some(Box::new(Val::U8(1)))),
        ),
        ("enum{a}", Val::Enum(1)),
        ("result<u8>", Val::Result(Err(Some(Box::new(Val::U8(1)))))),
        ("flags{a, b}", Val::Flags(4)),
        ("own<1>", Val::Borrow(1)),
    ] {
        let ty = parse(&mut types, text);
        let got = lower_flat(
            &mut cx(&types, opts, &mut memory, &mut HandleTable::new()),
            &value,
            ty,
            &mut Vec::new(),
        );
        assert_eq!(got, Err(Trap::TypeMismatch), "flat {text} = {value:?}");
        let align = types.alignment(ty, PtrType::I32);
        let got = store(
            &mut cx(&types, opts, &mut memory, &mut HandleTable::new()),
            &value,
            ty,
            u64::from(align) * 8,
        );
        assert_eq!(got, Err(Trap::TypeMismatch), "memory {text} = {value:?}");
    }
    // Flat values of the wrong type, too few, or values and types of different counts.
    let ty = parse(&mut types, "u64");
    for flat in [&[FlatVal::I32(1)][..], &[]] {
        let got = lift_flat(
            &mut cx(&types, opts, &mut memory, &mut NoHandles),
            &mut FlatReader::new(flat),
            ty,
        );
        assert_eq!(got, Err(Trap::TypeMismatch), "{flat:?}");
    }
    let got = lower_flat_values(
        &mut cx(&types, opts, &mut memory, &mut NoHandles),
        MAX_FLAT_PARAMS,
        &[Val::U64(1)],
        &[ty, ty],
        None,
    );
    assert_eq!(got, Err(Trap::TypeMismatch));
}

#[test]
fn trap_codes_are_stable() {
    for (index, trap) in Trap::ALL.iter().enumerate() {
        assert_eq!(trap.code() as usize, index + 1, "{trap:?}");
        assert_eq!(Trap::from_code(trap.code(), 0), Some(*trap));
        assert!(!trap.message().is_empty());
    }
    assert_eq!(Trap::from_code(0, 0), None);
    assert_eq!(Trap::from_code(22, 0), None);
    assert_eq!(Trap::from_code(13, 5), Some(Trap::UnknownHandle(5)));
    assert_eq!(Trap::UnknownHandle(5).to_string(), "unknown handle index 5");
    assert_eq!(Trap::InvalidChar.to_string(), "invalid `char` bit pattern");
    assert!(
        Trap::HandleLent(3)
            .to_string()
            .contains("cannot remove owned resource while borrowed")
    );
    assert!(Trap::InvalidUtf8.is_spec_trap());
    assert!(!Trap::TypeMismatch.is_spec_trap());
}
