//! Storing strings from every origin into every encoding: the bytes, the tagged length
//! and the exact `realloc` calls, for ASCII, Latin-1, BMP and astral text; and loading
//! every encoding back.

use wafer_canon::string::{load_string_from_range, store_string_into_range};
use wafer_canon::{HandleTable, NoHandles, PtrType, Str, StrOrigin, StringEncoding, Types};

use crate::support::{cx, memory, options};

/// The texts: empty, ASCII, Latin-1, BMP beyond Latin-1, astral.
const TEXTS: [&str; 5] = ["", "hello", "héllo", "h€llo", "h😀!"];

fn origin(kind: &str, text: &str) -> StrOrigin {
    let utf16 = text.encode_utf16().count() as u64;
    match kind {
        "utf8" => StrOrigin::Utf8(text.len() as u64),
        "utf16" => StrOrigin::Utf16(utf16),
        "latin1" => StrOrigin::Latin1(text.chars().count() as u64),
        "compact-utf16" => StrOrigin::CompactUtf16(utf16),
        _ => panic!("{kind}"),
    }
}

fn encoding(name: &str) -> StringEncoding {
    match name {
        "utf8" => StringEncoding::Utf8,
        "utf16" => StringEncoding::Utf16,
        "latin1+utf16" => StringEncoding::Latin1Utf16,
        _ => panic!("{name}"),
    }
}

/// The bytes of `text` in the destination: Latin-1 if the length is untagged in
/// `latin1+utf16`, else UTF-16 for the UTF-16 encodings.
fn expected_bytes(dst: StringEncoding, text: &str, tagged: bool) -> Vec<u8> {
    match dst {
        StringEncoding::Utf8 => text.as_bytes().to_vec(),
        StringEncoding::Latin1Utf16 if !tagged => text.chars().map(|c| c as u8).collect(),
        _ => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
    }
}

/// Stores `text` with origin `kind` into a memory of encoding `dst` and checks the
/// `realloc` calls (old size, alignment, new size; each after the first reallocates
/// what the one before returned), the length returned (`+` suffix: tagged UTF-16),
/// the bytes, and that loading gives the text back.
fn check(kind: &str, dst: &str, text: &str, calls: &[(u64, u64, u64)], len: &str) {
    let what = format!("{text:?} from {kind} to {dst}");
    let types = Types::new();
    for ptr in [PtrType::I32, PtrType::I64] {
        let dst = encoding(dst);
        let opts = options(ptr, dst);
        let mut memory = memory();
        let mut handles = NoHandles;
        let string = Str::with_origin(text.into(), origin(kind, text)).expect("origin");
        let (begin, tagged_len) =
            store_string_into_range(&mut cx(&types, opts, &mut memory, &mut handles), &string)
                .unwrap_or_else(|trap| panic!("{what}: {trap}"));
        let got_calls: Vec<_> = memory
            .calls
            .iter()
            .map(|c| (c.old_size, c.align, c.new_size))
            .collect();
        assert_eq!(got_calls, calls, "{what}: realloc calls");
        for (index, call) in memory.calls.iter().enumerate() {
            let previous = index.checked_sub(1).map_or(0, |i| memory.calls[i].result);
            assert_eq!(
                call.old_ptr, previous,
                "{what}: call {index} reallocates the last"
            );
        }
        assert_eq!(
            memory.calls.last().map(|c| c.result),
            Some(begin),
            "{what}: pointer"
        );
        let tagged = len.ends_with('+');
        let units: u64 = len.trim_end_matches('+').parse().unwrap();
        let tag = if tagged { ptr.utf16_tag() } else { 0 };
        assert_eq!(tagged_len, units | tag, "{what}: length ({ptr:?})");
        let bytes = expected_bytes(dst, text, tagged);
        assert_eq!(
            memory.slice(begin, bytes.len() as u64),
            Some(&bytes[..]),
            "{what}: bytes"
        );
        let back = load_string_from_range(
            &mut cx(&types, opts, &mut memory, &mut HandleTable::new()),
            begin,
            tagged_len,
        )
        .unwrap_or_else(|trap| panic!("{what}: load: {trap}"));
        assert_eq!(back.as_str(), text, "{what}: loaded back");
    }
}

#[test]
fn into_utf8() {
    // Same encoding: one exact allocation.
    for (text, len) in TEXTS.iter().zip([0, 5, 6, 7, 6]) {
        check("utf8", "utf8", text, &[(0, 1, len)], &len.to_string());
    }
    // From UTF-16 (and UTF-16 in latin1+utf16): a byte per code unit, then on the first
    // non-ASCII code point the worst case (3 per unit), then shrink to fit.
    for kind in ["utf16", "compact-utf16"] {
        check(kind, "utf8", "", &[(0, 1, 0)], "0");
        check(kind, "utf8", "hello", &[(0, 1, 5)], "5");
        check(
            kind,
            "utf8",
            "héllo",
            &[(0, 1, 5), (5, 1, 15), (15, 1, 6)],
            "6",
        );
        check(
            kind,
            "utf8",
            "h€llo",
            &[(0, 1, 5), (5, 1, 15), (15, 1, 7)],
            "7",
        );
        check(
            kind,
            "utf8",
            "h😀!",
            &[(0, 1, 4), (4, 1, 12), (12, 1, 6)],
            "6",
        );
    }
    // From Latin-1: the worst case is 2 bytes per unit.
    check("latin1", "utf8", "", &[(0, 1, 0)], "0");
    check("latin1", "utf8", "hello", &[(0, 1, 5)], "5");
    check(
        "latin1",
        "utf8",
        "héllo",
        &[(0, 1, 5), (5, 1, 10), (10, 1, 6)],
        "6",
    );
    check("latin1", "utf8", "ÿÿ", &[(0, 1, 2), (2, 1, 4)], "4");
}

#[test]
fn into_utf16() {
    // From UTF-8: 2 bytes per UTF-8 byte, then shrink to fit.
    check("utf8", "utf16", "", &[(0, 2, 0)], "0");
    check("utf8", "utf16", "hello", &[(0, 2, 10)], "5");
    check("utf8", "utf16", "héllo", &[(0, 2, 12), (12, 2, 10)], "5");
    check("utf8", "utf16", "h€llo", &[(0, 2, 14), (14, 2, 10)], "5");
    check("utf8", "utf16", "h😀!", &[(0, 2, 12), (12, 2, 8)], "4");
    // From UTF-16 or Latin-1: one exact allocation.
    for kind in ["utf16", "compact-utf16"] {
        for (text, units) in TEXTS.iter().zip([0, 5, 5, 5, 4]) {
            check(
                kind,
                "utf16",
                text,
                &[(0, 2, 2 * units)],
                &units.to_string(),
            );
        }
    }
    for (text, units) in TEXTS[..3].iter().zip([0, 5, 5]) {
        check(
            "latin1",
            "utf16",
            text,
            &[(0, 2, 2 * units)],
            &units.to_string(),
        );
    }
}

#[test]
fn into_latin1_or_utf16() {
    // From UTF-8 or UTF-16: a byte per source unit, speculating Latin-1; shrink if
    // smaller. At the first code point beyond Latin-1, the UTF-16 worst case (2 bytes per
    // source unit), inflating what was written, then shrink: a tagged UTF-16 length.
    check("utf8", "latin1+utf16", "", &[(0, 2, 0)], "0");
    check("utf8", "latin1+utf16", "hello", &[(0, 2, 5)], "5");
    check(
        "utf8",
        "latin1+utf16",
        "héllo",
        &[(0, 2, 6), (6, 2, 5)],
        "5",
    );
    check(
        "utf8",
        "latin1+utf16",
        "h€llo",
        &[(0, 2, 7), (7, 2, 14), (14, 2, 10)],
        "5+",
    );
    check(
        "utf8",
        "latin1+utf16",
        "h😀!",
        &[(0, 2, 6), (6, 2, 12), (12, 2, 8)],
        "4+",
    );
    check(
        "utf8",
        "latin1+utf16",
        "€",
        &[(0, 2, 3), (3, 2, 6), (6, 2, 2)],
        "1+",
    );
    check("utf16", "latin1+utf16", "", &[(0, 2, 0)], "0");
    check("utf16", "latin1+utf16", "hello", &[(0, 2, 5)], "5");
    check("utf16", "latin1+utf16", "héllo", &[(0, 2, 5)], "5");
    check(
        "utf16",
        "latin1+utf16",
        "h€llo",
        &[(0, 2, 5), (5, 2, 10)],
        "5+",
    );
    check(
        "utf16",
        "latin1+utf16",
        "h😀!",
        &[(0, 2, 4), (4, 2, 8)],
        "4+",
    );
    // From Latin-1: a copy.
    check("latin1", "latin1+utf16", "", &[(0, 2, 0)], "0");
    check("latin1", "latin1+utf16", "héllo", &[(0, 2, 5)], "5");
    // From UTF-16 chosen over Latin-1: allocate for UTF-16; if it all fits Latin-1 after
    // all, compact and shrink (always, even when empty).
    check(
        "compact-utf16",
        "latin1+utf16",
        "",
        &[(0, 2, 0), (0, 1, 0)],
        "0",
    );
    check(
        "compact-utf16",
        "latin1+utf16",
        "hello",
        &[(0, 2, 10), (10, 1, 5)],
        "5",
    );
    check(
        "compact-utf16",
        "latin1+utf16",
        "héllo",
        &[(0, 2, 10), (10, 1, 5)],
        "5",
    );
    check(
        "compact-utf16",
        "latin1+utf16",
        "h€llo",
        &[(0, 2, 10)],
        "5+",
    );
    check("compact-utf16", "latin1+utf16", "h😀!", &[(0, 2, 8)], "4+");
}

/// Lifts `bytes` at 32 as a string of `tagged_len` in `encoding`.
fn load(
    encoding: StringEncoding,
    ptr: PtrType,
    bytes: &[u8],
    tagged_len: u64,
) -> Result<Str, wafer_canon::Trap> {
    let types = Types::new();
    let mut memory = memory();
    memory.bytes[32..32 + bytes.len()].copy_from_slice(bytes);
    load_string_from_range(
        &mut cx(&types, options(ptr, encoding), &mut memory, &mut NoHandles),
        32,
        tagged_len,
    )
}

#[test]
fn loading_every_encoding() {
    for ptr in [PtrType::I32, PtrType::I64] {
        let tag = ptr.utf16_tag();
        let utf16: Vec<u8> = "h😀é".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let cases: [(StringEncoding, &[u8], u64, &str, StrOrigin); 6] = [
            (
                StringEncoding::Utf8,
                "h😀é".as_bytes(),
                7,
                "h😀é",
                StrOrigin::Utf8(7),
            ),
            (
                StringEncoding::Utf16,
                &utf16,
                4,
                "h😀é",
                StrOrigin::Utf16(4),
            ),
            (
                StringEncoding::Latin1Utf16,
                &utf16,
                4 | tag,
                "h😀é",
                StrOrigin::CompactUtf16(4),
            ),
            // Latin-1: every byte is the code point of the same number.
            (
                StringEncoding::Latin1Utf16,
                &[0x68, 0xe9, 0xff, 0x80],
                4,
                "hé\u{ff}\u{80}",
                StrOrigin::Latin1(4),
            ),
            (StringEncoding::Utf8, b"", 0, "", StrOrigin::Utf8(0)),
            (
                StringEncoding::Latin1Utf16,
                b"",
                tag,
                "",
                StrOrigin::CompactUtf16(0),
            ),
        ];
        for (encoding, bytes, len, text, origin) in cases {
            let string = load(encoding, ptr, bytes, len).unwrap();
            assert_eq!(
                (string.as_str(), string.origin()),
                (text, origin),
                "{encoding:?} {ptr:?}"
            );
        }
    }
}

#[test]
fn origins_must_agree_with_the_text() {
    assert!(Str::with_origin("hé".into(), StrOrigin::Utf8(3)).is_some());
    assert!(Str::with_origin("hé".into(), StrOrigin::Utf8(2)).is_none());
    assert!(Str::with_origin("h😀".into(), StrOrigin::Utf16(3)).is_some());
    assert!(Str::with_origin("h😀".into(), StrOrigin::CompactUtf16(2)).is_none());
    assert!(Str::with_origin("hé".into(), StrOrigin::Latin1(2)).is_some());
    assert!(Str::with_origin("h€".into(), StrOrigin::Latin1(2)).is_none());
    assert_eq!(Str::from("abc").origin(), StrOrigin::Utf8(3));
}

#[test]
fn latin1_inflation_reads_what_realloc_moved() {
    // A realloc that moves the block: the Latin-1 prefix written before the move must
    // be inflated from its new place (the bump allocator copies it there).
    let types = Types::new();
    let opts = options(PtrType::I32, StringEncoding::Latin1Utf16);
    let mut memory = memory();
    let string = Str::from("éa€b");
    let (begin, len) =
        store_string_into_range(&mut cx(&types, opts, &mut memory, &mut NoHandles), &string)
            .unwrap();
    assert_ne!(
        memory.calls[0].result, memory.calls[1].result,
        "the block moved"
    );
    assert_eq!(len, 4 | PtrType::I32.utf16_tag());
    let expected: Vec<u8> = "éa€b".encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert_eq!(memory.slice(begin, 8), Some(&expected[..]));
}
