//! Binary encodings of a type arena with its function types (for images) and of values
//! (for harnesses), compact and versioned, and decoded without panicking on any input.
//!
//! Numbers are LEB128 (signed ones SLEB128), as in wafer's other metadata. Formats:
//!
//! ```text
//! types:     "WCT1" | count | type*  (the types after the 14 primitives, in id order)
//!                   | count | func*
//! type:      the component binary format's opcode | its payload, parts by type id:
//!              0x70 list: id               0x67 list<T, N>: id N
//!              0x72 record: count (name id)*
//!              0x71 variant: count (name 0x00 | name 0x01 id)*
//!              0x6f tuple: count id*       0x6e flags: count name*
//!              0x6d enum: count name*      0x6b option: id
//!              0x6a result: opt opt        0x63 map: id id
//!              0x69 own: resource          0x68 borrow: resource
//!              0x66 stream: opt            0x65 future: opt
//!            (opt: 0x00, or 0x01 id; name: length, UTF-8)
//! func:      0x40 (sync) or 0x43 (async) | count id* (params) | count id* (results)
//!
//! values:    "WCV1" | count | value*  (each of the type the reader gives)
//! value:     bool: 0x00 | 0x01;  s8, u8: one byte;  u16..u64: LEB128;
//!            s16..s64: SLEB128;  f32, f64: the bits, little-endian;  char: LEB128;
//!            string: length, UTF-8;  list, map: count, elements (map: key, value);
//!            list<T, N>: N elements;  record, tuple: the fields;
//!            variant, enum, option, result: case index, payload if the case has one;
//!            flags: LEB128 bits;  handles: LEB128
//! ```
//!
//! A decoded arena must be what [`encode_types`] writes for it: types in the order
//! [`Types::add`] gives them ids (so a map's `tuple<K, V>` comes before it), none twice.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::Trap;
use crate::types::{Case, Field, FuncType, ResourceId, TypeError, TypeId, Types, ValType};
use crate::val::{Str, Val};

/// The magic, with version, of a type arena encoding.
pub const TYPES_MAGIC: [u8; 4] = *b"WCT1";
/// The magic, with version, of a value encoding.
pub const VALS_MAGIC: [u8; 4] = *b"WCV1";

/// Why bytes did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    /// Where in the bytes.
    pub offset: usize,
    /// What was wrong.
    pub kind: DecodeErrorKind,
}

/// What was wrong with encoded bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// Not the magic and version expected.
    BadMagic,
    /// The bytes end too soon (or a count is larger than the bytes left could hold).
    UnexpectedEnd,
    /// A LEB128 number is malformed or too large.
    BadNumber,
    /// An unknown type or function opcode.
    BadOpcode(u8),
    /// A name or string is not UTF-8.
    BadUtf8,
    /// A type is not valid.
    Invalid(TypeError),
    /// The arena is not in the form the encoder writes (a type twice, or out of order).
    NotCanonical,
    /// A value does not fit its type (a number out of range, a bad case index, a `char`
    /// that is not a scalar value, flag bits beyond the labels, a wrong count).
    BadValue,
    /// Bytes are left after the end.
    TrailingBytes,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.kind {
            DecodeErrorKind::BadMagic => f.write_str("bad magic or version")?,
            DecodeErrorKind::UnexpectedEnd => f.write_str("unexpected end")?,
            DecodeErrorKind::BadNumber => f.write_str("malformed number")?,
            DecodeErrorKind::BadOpcode(op) => write!(f, "unknown opcode {op:#04x}")?,
            DecodeErrorKind::BadUtf8 => f.write_str("invalid UTF-8")?,
            DecodeErrorKind::Invalid(error) => write!(f, "invalid type: {error}")?,
            DecodeErrorKind::NotCanonical => f.write_str("types out of order or repeated")?,
            DecodeErrorKind::BadValue => f.write_str("value does not fit its type")?,
            DecodeErrorKind::TrailingBytes => f.write_str("trailing bytes")?,
        }
        write!(f, " (at offset {:#x})", self.offset)
    }
}

/// Writes `value` as unsigned LEB128.
pub fn write_leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Writes `value` as signed LEB128.
pub fn write_sleb(out: &mut Vec<u8>, mut value: i64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0);
        if done {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn write_name(out: &mut Vec<u8>, name: &str) {
    write_leb(out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
}

fn write_id(out: &mut Vec<u8>, id: TypeId) {
    write_leb(out, u64::from(id.index()));
}

fn write_opt_id(out: &mut Vec<u8>, id: Option<TypeId>) {
    match id {
        None => out.push(0),
        Some(id) => {
            out.push(1);
            write_id(out, id);
        }
    }
}

fn write_ids(out: &mut Vec<u8>, ids: &[TypeId]) {
    write_leb(out, ids.len() as u64);
    for &id in ids {
        write_id(out, id);
    }
}

/// Encodes `types` (the ones after the primitives) and `funcs`, whose type ids refer
/// to `types`.
pub fn encode_types(types: &Types, funcs: &[FuncType]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&TYPES_MAGIC);
    write_leb(&mut out, (types.len() - TypeId::PRIMITIVES as usize) as u64);
    for (_, ty) in types.iter().skip(TypeId::PRIMITIVES as usize) {
        encode_type(&mut out, ty);
    }
    write_leb(&mut out, funcs.len() as u64);
    for func in funcs {
        out.push(if func.is_async { 0x43 } else { 0x40 });
        write_ids(&mut out, &func.params);
        write_ids(&mut out, &func.results);
    }
    out
}

fn encode_type(out: &mut Vec<u8>, ty: &ValType) {
    match ty {
        ValType::List(elem) => {
            out.push(0x70);
            write_id(out, *elem);
        }
        ValType::FixedList(elem, len) => {
            out.push(0x67);
            write_id(out, *elem);
            write_leb(out, u64::from(*len));
        }
        ValType::Record(fields) => {
            out.push(0x72);
            write_leb(out, fields.len() as u64);
            for field in fields.iter() {
                write_name(out, &field.name);
                write_id(out, field.ty);
            }
        }
        ValType::Variant(cases) => {
            out.push(0x71);
            write_leb(out, cases.len() as u64);
            for case in cases.iter() {
                write_name(out, &case.name);
                write_opt_id(out, case.ty);
            }
        }
        ValType::Tuple(elems) => {
            out.push(0x6f);
            write_ids(out, elems);
        }
        ValType::Flags(labels) | ValType::Enum(labels) => {
            out.push(if matches!(ty, ValType::Flags(_)) {
                0x6e
            } else {
                0x6d
            });
            write_leb(out, labels.len() as u64);
            for label in labels.iter() {
                write_name(out, label);
            }
        }
        ValType::Option(some) => {
            out.push(0x6b);
            write_id(out, *some);
        }
        ValType::Result { ok, err } => {
            out.push(0x6a);
            write_opt_id(out, *ok);
            write_opt_id(out, *err);
        }
        ValType::Map(key, value) => {
            out.push(0x63);
            write_id(out, *key);
            write_id(out, *value);
        }
        ValType::Own(resource) | ValType::Borrow(resource) => {
            out.push(if matches!(ty, ValType::Own(_)) {
                0x69
            } else {
                0x68
            });
            write_leb(out, u64::from(resource.0));
        }
        ValType::Stream(elem) | ValType::Future(elem) => {
            out.push(if matches!(ty, ValType::Stream(_)) {
                0x66
            } else {
                0x65
            });
            write_opt_id(out, *elem);
        }
        // The primitives are implicit (never after them in an arena).
        _ => {}
    }
}

/// Reads encoded bytes, never past their end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            offset: self.at,
            kind,
        }
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        let byte = *self
            .bytes
            .get(self.at)
            .ok_or(self.error(DecodeErrorKind::UnexpectedEnd))?;
        self.at += 1;
        Ok(byte)
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(self.error(DecodeErrorKind::UnexpectedEnd))?;
        let bytes = &self.bytes[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn leb(&mut self) -> Result<u64, DecodeError> {
        let start = self.at;
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(DecodeError {
                    offset: start,
                    kind: DecodeErrorKind::BadNumber,
                });
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError {
            offset: start,
            kind: DecodeErrorKind::BadNumber,
        })
    }

    fn sleb(&mut self) -> Result<i64, DecodeError> {
        let start = self.at;
        let mut value = 0i64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= i64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                // The tenth byte holds only bit 63, which the unused bits must repeat.
                if shift == 63 && byte != 0 && byte != 0x7f {
                    return Err(DecodeError {
                        offset: start,
                        kind: DecodeErrorKind::BadNumber,
                    });
                } else if shift < 57 && byte & 0x40 != 0 {
                    value |= -1i64 << (shift + 7);
                }
                return Ok(value);
            }
        }
        Err(DecodeError {
            offset: start,
            kind: DecodeErrorKind::BadNumber,
        })
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let start = self.at;
        u32::try_from(self.leb()?).map_err(|_| DecodeError {
            offset: start,
            kind: DecodeErrorKind::BadNumber,
        })
    }

    /// A count of items that each take at least one byte.
    fn count(&mut self) -> Result<usize, DecodeError> {
        let start = self.at;
        let count = self.leb()?;
        if count > (self.bytes.len() - self.at) as u64 {
            return Err(DecodeError {
                offset: start,
                kind: DecodeErrorKind::UnexpectedEnd,
            });
        }
        Ok(count as usize)
    }

    fn text(&mut self) -> Result<&'a str, DecodeError> {
        let len = self.count()?;
        let start = self.at;
        core::str::from_utf8(self.take(len)?).map_err(|_| DecodeError {
            offset: start,
            kind: DecodeErrorKind::BadUtf8,
        })
    }

    fn id(&mut self) -> Result<TypeId, DecodeError> {
        Ok(TypeId::from_index(self.u32()?))
    }

    fn opt_id(&mut self) -> Result<Option<TypeId>, DecodeError> {
        match self.byte()? {
            0 => Ok(None),
            1 => Ok(Some(self.id()?)),
            _ => Err(self.error(DecodeErrorKind::BadNumber)),
        }
    }

    fn ids(&mut self) -> Result<Vec<TypeId>, DecodeError> {
        let count = self.count()?;
        (0..count).map(|_| self.id()).collect()
    }

    fn magic(&mut self, magic: [u8; 4]) -> Result<(), DecodeError> {
        if self.take(4).ok() != Some(&magic[..]) {
            return Err(DecodeError {
                offset: 0,
                kind: DecodeErrorKind::BadMagic,
            });
        }
        Ok(())
    }

    fn finish(&self) -> Result<(), DecodeError> {
        if self.at != self.bytes.len() {
            return Err(self.error(DecodeErrorKind::TrailingBytes));
        }
        Ok(())
    }
}

/// Decodes what [`encode_types`] wrote: the arena and the function types.
pub fn decode_types(bytes: &[u8]) -> Result<(Types, Vec<FuncType>), DecodeError> {
    let mut reader = Reader { bytes, at: 0 };
    reader.magic(TYPES_MAGIC)?;
    let mut types = Types::new();
    let count = reader.count()?;
    for _ in 0..count {
        let start = reader.at;
        let ty = decode_type(&mut reader)?;
        let expected = types.len();
        let at = |kind| DecodeError {
            offset: start,
            kind,
        };
        let id = types
            .add(ty)
            .map_err(|error| at(DecodeErrorKind::Invalid(error)))?;
        if id.index() as usize != expected || types.len() != expected + 1 {
            return Err(at(DecodeErrorKind::NotCanonical));
        }
    }
    let count = reader.count()?;
    let mut funcs = Vec::new();
    for _ in 0..count {
        let start = reader.at;
        let is_async = match reader.byte()? {
            0x40 => false,
            0x43 => true,
            op => return Err(reader.error(DecodeErrorKind::BadOpcode(op))),
        };
        let func = FuncType {
            params: reader.ids()?,
            results: reader.ids()?,
            is_async,
        };
        func.validate(&types).map_err(|error| DecodeError {
            offset: start,
            kind: DecodeErrorKind::Invalid(error),
        })?;
        funcs.push(func);
    }
    reader.finish()?;
    Ok((types, funcs))
}

fn decode_type(reader: &mut Reader<'_>) -> Result<ValType, DecodeError> {
    let names = |reader: &mut Reader<'_>| -> Result<Box<[Box<str>]>, DecodeError> {
        let count = reader.count()?;
        (0..count).map(|_| Ok(Box::from(reader.text()?))).collect()
    };
    Ok(match reader.byte()? {
        0x70 => ValType::List(reader.id()?),
        0x67 => ValType::FixedList(reader.id()?, reader.u32()?),
        0x72 => {
            let count = reader.count()?;
            let fields = (0..count)
                .map(|_| {
                    Ok(Field {
                        name: Box::from(reader.text()?),
                        ty: reader.id()?,
                    })
                })
                .collect::<Result<_, DecodeError>>()?;
            ValType::Record(fields)
        }
        0x71 => {
            let count = reader.count()?;
            let cases = (0..count)
                .map(|_| {
                    Ok(Case {
                        name: Box::from(reader.text()?),
                        ty: reader.opt_id()?,
                    })
                })
                .collect::<Result<_, DecodeError>>()?;
            ValType::Variant(cases)
        }
        0x6f => ValType::Tuple(reader.ids()?.into_boxed_slice()),
        0x6e => ValType::Flags(names(reader)?),
        0x6d => ValType::Enum(names(reader)?),
        0x6b => ValType::Option(reader.id()?),
        0x6a => ValType::Result {
            ok: reader.opt_id()?,
            err: reader.opt_id()?,
        },
        0x63 => ValType::Map(reader.id()?, reader.id()?),
        0x69 => ValType::Own(ResourceId(reader.u32()?)),
        0x68 => ValType::Borrow(ResourceId(reader.u32()?)),
        0x66 => ValType::Stream(reader.opt_id()?),
        0x65 => ValType::Future(reader.opt_id()?),
        op => {
            return Err(DecodeError {
                offset: reader.at - 1,
                kind: DecodeErrorKind::BadOpcode(op),
            });
        }
    })
}

/// Encodes `value` of type `ty` (no header); [`Trap::TypeMismatch`] if it does not fit.
pub fn encode_val(types: &Types, ty: TypeId, value: &Val, out: &mut Vec<u8>) -> Result<(), Trap> {
    let Some(def) = types.try_get(ty) else {
        return Err(Trap::TypeMismatch);
    };
    let case = |out: &mut Vec<u8>,
                index: u32,
                payload_type: Option<TypeId>,
                payload: Option<&Val>| {
        write_leb(out, u64::from(index));
        match (payload_type, payload) {
            (Some(payload_type), Some(payload)) => encode_val(types, payload_type, payload, out),
            (None, None) => Ok(()),
            _ => Err(Trap::TypeMismatch),
        }
    };
    match (def, value) {
        (ValType::Bool, Val::Bool(b)) => out.push(u8::from(*b)),
        (ValType::S8, Val::S8(x)) => out.push(*x as u8),
        (ValType::U8, Val::U8(x)) => out.push(*x),
        (ValType::S16, Val::S16(x)) => write_sleb(out, i64::from(*x)),
        (ValType::U16, Val::U16(x)) => write_leb(out, u64::from(*x)),
        (ValType::S32, Val::S32(x)) => write_sleb(out, i64::from(*x)),
        (ValType::U32, Val::U32(x)) => write_leb(out, u64::from(*x)),
        (ValType::S64, Val::S64(x)) => write_sleb(out, *x),
        (ValType::U64, Val::U64(x)) => write_leb(out, *x),
        (ValType::F32, Val::F32(x)) => out.extend_from_slice(&x.to_bits().to_le_bytes()),
        (ValType::F64, Val::F64(x)) => out.extend_from_slice(&x.to_bits().to_le_bytes()),
        (ValType::Char, Val::Char(c)) => write_leb(out, u64::from(*c)),
        (ValType::String, Val::String(s)) => write_name(out, s.as_str()),
        (ValType::List(elem), Val::List(items)) => {
            write_leb(out, items.len() as u64);
            for item in items {
                encode_val(types, *elem, item, out)?;
            }
        }
        (ValType::FixedList(elem, len), Val::List(items)) => {
            if items.len() != *len as usize {
                return Err(Trap::TypeMismatch);
            }
            for item in items {
                encode_val(types, *elem, item, out)?;
            }
        }
        (ValType::Map(key_type, value_type), Val::Map(pairs)) => {
            write_leb(out, pairs.len() as u64);
            for (key, value) in pairs {
                encode_val(types, *key_type, key, out)?;
                encode_val(types, *value_type, value, out)?;
            }
        }
        (ValType::Record(fields), Val::Record(values)) => {
            if fields.len() != values.len() {
                return Err(Trap::TypeMismatch);
            }
            for (field, value) in fields.iter().zip(values) {
                encode_val(types, field.ty, value, out)?;
            }
        }
        (ValType::Tuple(elems), Val::Tuple(values)) => {
            if elems.len() != values.len() {
                return Err(Trap::TypeMismatch);
            }
            for (&elem, value) in elems.iter().zip(values) {
                encode_val(types, elem, value, out)?;
            }
        }
        (ValType::Variant(cases), Val::Variant(index, payload)) => {
            let case_type = cases.get(*index as usize).ok_or(Trap::TypeMismatch)?.ty;
            case(out, *index, case_type, payload.as_deref())?;
        }
        (ValType::Enum(labels), Val::Enum(index)) => {
            if *index as usize >= labels.len() {
                return Err(Trap::TypeMismatch);
            }
            write_leb(out, u64::from(*index));
        }
        (ValType::Option(some), Val::Option(payload)) => match payload {
            None => out.push(0),
            Some(payload) => case(out, 1, Some(*some), Some(payload))?,
        },
        (ValType::Result { ok, err }, Val::Result(result)) => match result {
            Ok(payload) => case(out, 0, *ok, payload.as_deref())?,
            Err(payload) => case(out, 1, *err, payload.as_deref())?,
        },
        (ValType::Flags(labels), Val::Flags(bits)) => {
            if crate::load::flag_bits(*bits, labels.len()) != *bits {
                return Err(Trap::TypeMismatch);
            }
            write_leb(out, u64::from(*bits));
        }
        (ValType::Own(_), Val::Own(x))
        | (ValType::Borrow(_), Val::Borrow(x))
        | (ValType::Stream(_), Val::Stream(x))
        | (ValType::Future(_), Val::Future(x))
        | (ValType::ErrorContext, Val::ErrorContext(x)) => write_leb(out, u64::from(*x)),
        _ => return Err(Trap::TypeMismatch),
    }
    Ok(())
}

/// Decodes a value of type `ty` (no header) from `bytes` at `*at`, advancing it.
pub fn decode_val(
    types: &Types,
    ty: TypeId,
    bytes: &[u8],
    at: &mut usize,
) -> Result<Val, DecodeError> {
    let mut reader = Reader { bytes, at: *at };
    let value = read_val(types, ty, &mut reader)?;
    *at = reader.at;
    Ok(value)
}

fn read_val(types: &Types, ty: TypeId, reader: &mut Reader<'_>) -> Result<Val, DecodeError> {
    let start = reader.at;
    let bad = DecodeError {
        offset: start,
        kind: DecodeErrorKind::BadValue,
    };
    let Some(def) = types.try_get(ty) else {
        return Err(DecodeError {
            offset: start,
            kind: DecodeErrorKind::Invalid(TypeError::UnknownType(ty.index())),
        });
    };
    let case =
        |reader: &mut Reader<'_>, count: usize, payload: &dyn Fn(usize) -> Option<TypeId>| {
            let index = reader.u32()?;
            if index as usize >= count {
                return Err(bad);
            }
            let value = match payload(index as usize) {
                Some(payload_type) => Some(Box::new(read_val(types, payload_type, reader)?)),
                None => None,
            };
            Ok((index, value))
        };
    Ok(match def {
        ValType::Bool => match reader.byte()? {
            0 => Val::Bool(false),
            1 => Val::Bool(true),
            _ => return Err(bad),
        },
        ValType::S8 => Val::S8(reader.byte()? as i8),
        ValType::U8 => Val::U8(reader.byte()?),
        ValType::S16 => Val::S16(i16::try_from(reader.sleb()?).map_err(|_| bad)?),
        ValType::U16 => Val::U16(u16::try_from(reader.leb()?).map_err(|_| bad)?),
        ValType::S32 => Val::S32(i32::try_from(reader.sleb()?).map_err(|_| bad)?),
        ValType::U32 => Val::U32(u32::try_from(reader.leb()?).map_err(|_| bad)?),
        ValType::S64 => Val::S64(reader.sleb()?),
        ValType::U64 => Val::U64(reader.leb()?),
        ValType::F32 => {
            let bits = reader.take(4)?;
            Val::F32(f32::from_bits(u32::from_le_bytes([
                bits[0], bits[1], bits[2], bits[3],
            ])))
        }
        ValType::F64 => {
            let mut bits = [0; 8];
            bits.copy_from_slice(reader.take(8)?);
            Val::F64(f64::from_bits(u64::from_le_bytes(bits)))
        }
        ValType::Char => Val::Char(char::from_u32(reader.u32()?).ok_or(bad)?),
        ValType::String => Val::String(Str::from(String::from(reader.text()?))),
        ValType::List(elem) => {
            let count = reader.count()?;
            let mut items = Vec::new();
            for _ in 0..count {
                items.push(read_val(types, *elem, reader)?);
            }
            Val::List(items)
        }
        ValType::FixedList(elem, len) => {
            let mut items = Vec::new();
            for _ in 0..*len {
                items.push(read_val(types, *elem, reader)?);
            }
            Val::List(items)
        }
        ValType::Map(key_type, value_type) => {
            let count = reader.count()?;
            let mut pairs = Vec::new();
            for _ in 0..count {
                let key = read_val(types, *key_type, reader)?;
                pairs.push((key, read_val(types, *value_type, reader)?));
            }
            Val::Map(pairs)
        }
        ValType::Record(fields) => Val::Record(
            fields
                .iter()
                .map(|field| read_val(types, field.ty, reader))
                .collect::<Result<_, _>>()?,
        ),
        ValType::Tuple(elems) => Val::Tuple(
            elems
                .iter()
                .map(|&elem| read_val(types, elem, reader))
                .collect::<Result<_, _>>()?,
        ),
        ValType::Variant(cases) => {
            let (index, payload) = case(reader, cases.len(), &|index| cases[index].ty)?;
            Val::Variant(index, payload)
        }
        ValType::Enum(labels) => Val::Enum(case(reader, labels.len(), &|_| None)?.0),
        ValType::Option(some) => {
            let (_, payload) = case(reader, 2, &|index| (index == 1).then_some(*some))?;
            Val::Option(payload)
        }
        ValType::Result { ok, err } => {
            let payload_type = |index| if index == 0 { *ok } else { *err };
            match case(reader, 2, &payload_type)? {
                (0, payload) => Val::Result(Ok(payload)),
                (_, payload) => Val::Result(Err(payload)),
            }
        }
        ValType::Flags(labels) => {
            let bits = reader.u32()?;
            if crate::load::flag_bits(bits, labels.len()) != bits {
                return Err(bad);
            }
            Val::Flags(bits)
        }
        ValType::Own(_) => Val::Own(reader.u32()?),
        ValType::Borrow(_) => Val::Borrow(reader.u32()?),
        ValType::Stream(_) => Val::Stream(reader.u32()?),
        ValType::Future(_) => Val::Future(reader.u32()?),
        ValType::ErrorContext => Val::ErrorContext(reader.u32()?),
    })
}

/// Encodes `values` of types `tys` with a header.
pub fn encode_vals(types: &Types, tys: &[TypeId], values: &[Val]) -> Result<Vec<u8>, Trap> {
    if tys.len() != values.len() {
        return Err(Trap::TypeMismatch);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&VALS_MAGIC);
    write_leb(&mut out, values.len() as u64);
    for (&ty, value) in tys.iter().zip(values) {
        encode_val(types, ty, value, &mut out)?;
    }
    Ok(out)
}

/// Decodes what [`encode_vals`] wrote for values of types `tys`.
pub fn decode_vals(types: &Types, tys: &[TypeId], bytes: &[u8]) -> Result<Vec<Val>, DecodeError> {
    let mut reader = Reader { bytes, at: 0 };
    reader.magic(VALS_MAGIC)?;
    let start = reader.at;
    if reader.leb()? != tys.len() as u64 {
        return Err(DecodeError {
            offset: start,
            kind: DecodeErrorKind::BadValue,
        });
    }
    let values = tys
        .iter()
        .map(|&ty| read_val(types, ty, &mut reader))
        .collect::<Result<_, _>>()?;
    reader.finish()?;
    Ok(values)
}
