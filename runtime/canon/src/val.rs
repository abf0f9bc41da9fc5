//! Component values.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// A component value. Which variant goes with which type: the one of the same name
/// (`Val::List` for `list<T>` and `list<T, N>`, `Val::Record` for records, `Val::Tuple`
/// for tuples ...). Labels are not part of values: fields are in type order, cases
/// are numbered from 0, flags are bits (label `i` is bit `i`).
///
/// Equality treats every NaN as equal to every other (a component value has one NaN;
/// lifting canonicalizes them) and compares strings by their text only.
#[derive(Debug, Clone)]
pub enum Val {
    /// `bool`.
    Bool(bool),
    /// `s8`.
    S8(i8),
    /// `u8`.
    U8(u8),
    /// `s16`.
    S16(i16),
    /// `u16`.
    U16(u16),
    /// `s32`.
    S32(i32),
    /// `u32`.
    U32(u32),
    /// `s64`.
    S64(i64),
    /// `u64`.
    U64(u64),
    /// `f32`.
    F32(f32),
    /// `f64`.
    F64(f64),
    /// `char`.
    Char(char),
    /// `string`.
    String(Str),
    /// `list<T>` or `list<T, N>` (then with exactly `N` elements).
    List(Vec<Val>),
    /// `record`: the fields in type order.
    Record(Vec<Val>),
    /// `tuple`.
    Tuple(Vec<Val>),
    /// `variant`: the case index and its payload (exactly when the case has a type).
    Variant(u32, Option<Box<Val>>),
    /// `enum`: the case index.
    Enum(u32),
    /// `option`.
    Option(Option<Box<Val>>),
    /// `result`: each side's payload exactly when that side has a type.
    Result(Result<Option<Box<Val>>, Option<Box<Val>>>),
    /// `flags`: bit `i` is label `i`; bits beyond the labels must be clear.
    Flags(u32),
    /// `map`: the key-value pairs, in order.
    Map(Vec<(Val, Val)>),
    /// `own<R>`: the resource's representation.
    Own(u32),
    /// `borrow<R>`: the resource's representation.
    Borrow(u32),
    /// `stream<T>`: an opaque value the [`Handles`](crate::Handles) maps to handles.
    Stream(u32),
    /// `future<T>`: likewise.
    Future(u32),
    /// `error-context`: likewise.
    ErrorContext(u32),
}

impl Val {
    /// A string value from host text.
    pub fn string(text: &str) -> Val {
        Val::String(Str::from(text))
    }
}

impl PartialEq for Val {
    fn eq(&self, other: &Val) -> bool {
        match (self, other) {
            (Val::Bool(a), Val::Bool(b)) => a == b,
            (Val::S8(a), Val::S8(b)) => a == b,
            (Val::U8(a), Val::U8(b)) => a == b,
            (Val::S16(a), Val::S16(b)) => a == b,
            (Val::U16(a), Val::U16(b)) => a == b,
            (Val::S32(a), Val::S32(b)) => a == b,
            (Val::U32(a), Val::U32(b)) => a == b,
            (Val::S64(a), Val::S64(b)) => a == b,
            (Val::U64(a), Val::U64(b)) => a == b,
            (Val::F32(a), Val::F32(b)) => (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits(),
            (Val::F64(a), Val::F64(b)) => (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits(),
            (Val::Char(a), Val::Char(b)) => a == b,
            (Val::String(a), Val::String(b)) => a == b,
            (Val::List(a), Val::List(b))
            | (Val::Record(a), Val::Record(b))
            | (Val::Tuple(a), Val::Tuple(b)) => a == b,
            (Val::Variant(a, x), Val::Variant(b, y)) => a == b && x == y,
            (Val::Enum(a), Val::Enum(b)) => a == b,
            (Val::Option(a), Val::Option(b)) => a == b,
            (Val::Result(a), Val::Result(b)) => a == b,
            (Val::Flags(a), Val::Flags(b)) => a == b,
            (Val::Map(a), Val::Map(b)) => a == b,
            (Val::Own(a), Val::Own(b))
            | (Val::Borrow(a), Val::Borrow(b))
            | (Val::Stream(a), Val::Stream(b))
            | (Val::Future(a), Val::Future(b))
            | (Val::ErrorContext(a), Val::ErrorContext(b)) => a == b,
            _ => false,
        }
    }
}

/// Where a string came from: the encoding and length it had in the memory it was
/// lifted from (or UTF-8 and its byte length, for a host string). Lowering uses it, as
/// the spec does, to choose its first allocation size before it looks at the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StrOrigin {
    /// UTF-8, this many bytes.
    Utf8(u64),
    /// UTF-16, this many code units.
    Utf16(u64),
    /// `latin1+utf16` holding Latin-1, this many bytes.
    Latin1(u64),
    /// `latin1+utf16` holding UTF-16, this many code units.
    CompactUtf16(u64),
}

/// A string value: its text and its [`StrOrigin`], which always agree.
#[derive(Debug, Clone)]
pub struct Str {
    text: String,
    origin: StrOrigin,
}

impl Str {
    /// A string with the origin `origin`, if it agrees with the text (its length in
    /// that encoding, and Latin-1 only for text that fits).
    pub fn with_origin(text: String, origin: StrOrigin) -> Option<Str> {
        let agrees = match origin {
            StrOrigin::Utf8(bytes) => bytes == text.len() as u64,
            StrOrigin::Utf16(units) | StrOrigin::CompactUtf16(units) => {
                units == text.encode_utf16().count() as u64
            }
            StrOrigin::Latin1(bytes) => {
                text.chars().all(|c| u32::from(c) < 0x100) && bytes == text.chars().count() as u64
            }
        };
        agrees.then_some(Str { text, origin })
    }

    /// A string lifted from memory, whose origin is right by construction.
    pub(crate) fn lifted(text: String, origin: StrOrigin) -> Str {
        Str { text, origin }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The origin.
    pub fn origin(&self) -> StrOrigin {
        self.origin
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.text
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Str) -> bool {
        self.text == other.text
    }
}

impl Eq for Str {}

impl From<String> for Str {
    fn from(text: String) -> Str {
        let origin = StrOrigin::Utf8(text.len() as u64);
        Str { text, origin }
    }
}

impl From<&str> for Str {
    fn from(text: &str) -> Str {
        Str::from(String::from(text))
    }
}
