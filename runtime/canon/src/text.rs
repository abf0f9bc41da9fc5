//! A WIT-like text syntax for types: for tests, fuzzers and messages.
//!
//! ```text
//! bool s8 u8 s16 u16 s32 u32 s64 u64 f32 f64 char string error-context
//! list<T>  list<T, N>  tuple<T, U>  option<T>  map<K, V>
//! result  result<T>  result<_, E>  result<T, E>
//! record{a: T, b: U}  variant{a(T), b}  enum{a, b}  flags{a, b}
//! own<R>  borrow<R>  (R: a resource number)  stream  stream<T>  future  future<T>
//! ```
//!
//! [`Types::parse`] reads it (spaces are free between tokens), [`Types::display`] writes
//! it back.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use crate::types::{Case, Field, MAX_TYPE_DEPTH, ResourceId, TypeError, TypeId, Types, ValType};

/// Why text did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    /// The byte offset in the text.
    pub offset: usize,
    /// What was wrong.
    pub kind: ParseErrorKind,
}

/// What was wrong with type text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Not the syntax: what was expected.
    Expected(&'static str),
    /// The type is not valid.
    Invalid(TypeError),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ParseErrorKind::Expected(what) => write!(f, "expected {what}")?,
            ParseErrorKind::Invalid(error) => write!(f, "{error}")?,
        }
        write!(f, " (at offset {})", self.offset)
    }
}

const PRIMITIVES: [(&str, TypeId); 14] = [
    ("bool", TypeId::BOOL),
    ("s8", TypeId::S8),
    ("u8", TypeId::U8),
    ("s16", TypeId::S16),
    ("u16", TypeId::U16),
    ("s32", TypeId::S32),
    ("u32", TypeId::U32),
    ("s64", TypeId::S64),
    ("u64", TypeId::U64),
    ("f32", TypeId::F32),
    ("f64", TypeId::F64),
    ("char", TypeId::CHAR),
    ("string", TypeId::STRING),
    ("error-context", TypeId::ERROR_CONTEXT),
];

struct Parser<'t, 's> {
    types: &'t mut Types,
    text: &'s str,
    at: usize,
}

impl<'s> Parser<'_, 's> {
    fn error(&self, what: &'static str) -> ParseError {
        ParseError {
            offset: self.at,
            kind: ParseErrorKind::Expected(what),
        }
    }

    fn skip_space(&mut self) {
        let rest = &self.text[self.at..];
        self.at += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        if self.text[self.at..].starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &'static str) -> Result<(), ParseError> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(token))
        }
    }

    /// A word: letters, digits, `-` and `_`.
    fn word(&mut self) -> Result<&'s str, ParseError> {
        self.skip_space();
        let text: &'s str = self.text;
        let rest = &text[self.at..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len());
        if len == 0 {
            return Err(self.error("a name"));
        }
        self.at += len;
        Ok(&rest[..len])
    }

    fn number(&mut self) -> Result<u32, ParseError> {
        let start = self.at;
        let word = self.word()?;
        word.parse().map_err(|_| ParseError {
            offset: start,
            kind: ParseErrorKind::Expected("a number"),
        })
    }

    fn add(&mut self, start: usize, ty: ValType) -> Result<TypeId, ParseError> {
        self.types.add(ty).map_err(|error| ParseError {
            offset: start,
            kind: ParseErrorKind::Invalid(error),
        })
    }

    /// Items separated by commas up to `close`.
    fn list<T>(
        &mut self,
        close: &'static str,
        mut item: impl FnMut(&mut Self) -> Result<T, ParseError>,
    ) -> Result<Vec<T>, ParseError> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(item(self)?);
            if self.eat(close) {
                return Ok(items);
            }
            self.expect(",")?;
        }
    }

    fn ty(&mut self, depth: u32) -> Result<TypeId, ParseError> {
        if depth > MAX_TYPE_DEPTH {
            return Err(ParseError {
                offset: self.at,
                kind: ParseErrorKind::Invalid(TypeError::TooDeep),
            });
        }
        self.skip_space();
        let start = self.at;
        let word = self.word()?;
        if let Some(&(_, id)) = PRIMITIVES.iter().find(|(name, _)| *name == word) {
            return Ok(id);
        }
        let ty = match word {
            "list" => {
                self.expect("<")?;
                let elem = self.ty(depth + 1)?;
                if self.eat(",") {
                    let len = self.number()?;
                    self.expect(">")?;
                    ValType::FixedList(elem, len)
                } else {
                    self.expect(">")?;
                    ValType::List(elem)
                }
            }
            "tuple" => {
                self.expect("<")?;
                ValType::Tuple(self.list(">", |p| p.ty(depth + 1))?.into_boxed_slice())
            }
            "option" => {
                self.expect("<")?;
                let some = self.ty(depth + 1)?;
                self.expect(">")?;
                ValType::Option(some)
            }
            "map" => {
                self.expect("<")?;
                let key = self.ty(depth + 1)?;
                self.expect(",")?;
                let value = self.ty(depth + 1)?;
                self.expect(">")?;
                ValType::Map(key, value)
            }
            "result" => {
                let (mut ok, mut err) = (None, None);
                if self.eat("<") {
                    if !self.eat("_") {
                        ok = Some(self.ty(depth + 1)?);
                    }
                    if self.eat(",") {
                        err = Some(self.ty(depth + 1)?);
                    }
                    self.expect(">")?;
                }
                ValType::Result { ok, err }
            }
            "record" => {
                self.expect("{")?;
                let fields = self.list("}", |p| {
                    let name = Box::from(p.word()?);
                    p.expect(":")?;
                    Ok(Field {
                        name,
                        ty: p.ty(depth + 1)?,
                    })
                })?;
                ValType::Record(fields.into_boxed_slice())
            }
            "variant" => {
                self.expect("{")?;
                let cases = self.list("}", |p| {
                    let name = Box::from(p.word()?);
                    let ty = if p.eat("(") {
                        let ty = p.ty(depth + 1)?;
                        p.expect(")")?;
                        Some(ty)
                    } else {
                        None
                    };
                    Ok(Case { name, ty })
                })?;
                ValType::Variant(cases.into_boxed_slice())
            }
            "enum" | "flags" => {
                self.expect("{")?;
                let labels = self.list("}", |p| Ok(Box::from(p.word()?)))?;
                if word == "enum" {
                    ValType::Enum(labels.into_boxed_slice())
                } else {
                    ValType::Flags(labels.into_boxed_slice())
                }
            }
            "own" | "borrow" => {
                self.expect("<")?;
                let resource = ResourceId(self.number()?);
                self.expect(">")?;
                if word == "own" {
                    ValType::Own(resource)
                } else {
                    ValType::Borrow(resource)
                }
            }
            "stream" | "future" => {
                let elem = if self.eat("<") {
                    let elem = self.ty(depth + 1)?;
                    self.expect(">")?;
                    Some(elem)
                } else {
                    None
                };
                if word == "stream" {
                    ValType::Stream(elem)
                } else {
                    ValType::Future(elem)
                }
            }
            _ => {
                return Err(ParseError {
                    offset: start,
                    kind: ParseErrorKind::Expected("a type"),
                });
            }
        };
        self.add(start, ty)
    }
}

impl Types {
    /// Parses a type in the [text syntax](self) and adds it (and its parts).
    pub fn parse(&mut self, text: &str) -> Result<TypeId, ParseError> {
        let mut parser = Parser {
            types: self,
            text,
            at: 0,
        };
        let id = parser.ty(1)?;
        parser.skip_space();
        if parser.at != text.len() {
            return Err(parser.error("the end"));
        }
        Ok(id)
    }

    /// The type in the [text syntax](self).
    pub fn display(&self, id: TypeId) -> TypeDisplay<'_> {
        TypeDisplay { types: self, id }
    }
}

/// A type written in the [text syntax](self).
#[derive(Debug, Clone, Copy)]
pub struct TypeDisplay<'a> {
    types: &'a Types,
    id: TypeId,
}

impl fmt::Display for TypeDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |id: TypeId| self.types.display(id);
        let Some(ty) = self.types.try_get(self.id) else {
            return write!(f, "<unknown type {}>", self.id.index());
        };
        let names = |f: &mut fmt::Formatter<'_>, names: &[Box<str>]| {
            for (index, name) in names.iter().enumerate() {
                if index > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(name)?;
            }
            f.write_str("}")
        };
        match ty {
            ValType::List(elem) => write!(f, "list<{}>", show(*elem)),
            ValType::FixedList(elem, len) => write!(f, "list<{}, {len}>", show(*elem)),
            ValType::Tuple(elems) => {
                f.write_str("tuple<")?;
                for (index, elem) in elems.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", show(*elem))?;
                }
                f.write_str(">")
            }
            ValType::Option(some) => write!(f, "option<{}>", show(*some)),
            ValType::Map(key, value) => write!(f, "map<{}, {}>", show(*key), show(*value)),
            ValType::Result { ok, err } => match (ok, err) {
                (None, None) => f.write_str("result"),
                (Some(ok), None) => write!(f, "result<{}>", show(*ok)),
                (None, Some(err)) => write!(f, "result<_, {}>", show(*err)),
                (Some(ok), Some(err)) => write!(f, "result<{}, {}>", show(*ok), show(*err)),
            },
            ValType::Record(fields) => {
                f.write_str("record{")?;
                for (index, field) in fields.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: {}", field.name, show(field.ty))?;
                }
                f.write_str("}")
            }
            ValType::Variant(cases) => {
                f.write_str("variant{")?;
                for (index, case) in cases.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&case.name)?;
                    if let Some(ty) = case.ty {
                        write!(f, "({})", show(ty))?;
                    }
                }
                f.write_str("}")
            }
            ValType::Enum(labels) => {
                f.write_str("enum{")?;
                names(f, labels)
            }
            ValType::Flags(labels) => {
                f.write_str("flags{")?;
                names(f, labels)
            }
            ValType::Own(resource) => write!(f, "own<{}>", resource.0),
            ValType::Borrow(resource) => write!(f, "borrow<{}>", resource.0),
            ValType::Stream(None) => f.write_str("stream"),
            ValType::Stream(Some(elem)) => write!(f, "stream<{}>", show(*elem)),
            ValType::Future(None) => f.write_str("future"),
            ValType::Future(Some(elem)) => write!(f, "future<{}>", show(*elem)),
            primitive => {
                let name = PRIMITIVES
                    .iter()
                    .find(|(_, id)| self.types.get(*id) == primitive)
                    .map_or("?", |(name, _)| name);
                f.write_str(name)
            }
        }
    }
}
