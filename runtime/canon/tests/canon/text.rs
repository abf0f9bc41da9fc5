//! The text syntax of types.

use wafer_canon::text::ParseErrorKind;
use wafer_canon::{TypeError, Types};

#[test]
fn types_print_as_they_parse() {
    let mut types = Types::new();
    for text in [
        "bool",
        "error-context",
        "list<list<u8, 4>>",
        "record{a-b: u8, c: tuple<s8, s16>}",
        "variant{none, some(string), other(option<char>)}",
        "enum{a}",
        "flags{read, write}",
        "result",
        "result<u8>",
        "result<_, u8>",
        "result<u8, string>",
        "map<char, f64>",
        "own<0>",
        "borrow<12>",
        "stream",
        "future<stream<u8>>",
    ] {
        let ty = types.parse(text).unwrap();
        assert_eq!(types.display(ty).to_string(), text);
    }
    // Spaces are free.
    let spaced = types.parse(" record { a : list < u8 , 2 > } ").unwrap();
    assert_eq!(types.display(spaced).to_string(), "record{a: list<u8, 2>}");
}

#[test]
fn errors_say_where() {
    let mut types = Types::new();
    for (text, offset, kind) in [
        ("", 0, ParseErrorKind::Expected("a name")),
        ("list", 4, ParseErrorKind::Expected("<")),
        ("list<u8", 7, ParseErrorKind::Expected(">")),
        ("u8 u8", 3, ParseErrorKind::Expected("the end")),
        ("widget", 0, ParseErrorKind::Expected("a type")),
        ("list<u8, x>", 8, ParseErrorKind::Expected("a number")),
        ("record{}", 0, ParseErrorKind::Invalid(TypeError::Empty)),
        (
            "tuple<u8, record{}>",
            10,
            ParseErrorKind::Invalid(TypeError::Empty),
        ),
        (
            "map<f32, u8>",
            0,
            ParseErrorKind::Invalid(TypeError::InvalidMapKey),
        ),
    ] {
        let error = types.parse(text).unwrap_err();
        assert_eq!((error.offset, error.kind), (offset, kind), "{text:?}");
    }
    // Deep nesting is refused before it can exhaust the stack.
    let deep = "option<".repeat(10_000) + "u8" + &">".repeat(10_000);
    let error = types.parse(&deep).unwrap_err();
    assert_eq!(error.kind, ParseErrorKind::Invalid(TypeError::TooDeep));
}
