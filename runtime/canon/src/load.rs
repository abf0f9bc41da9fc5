//! Lifting values out of linear memory (`load`).
//!
//! A value's fixed-size part is read from memory in one piece and decoded from the
//! bytes; strings and lists are read the same way once their ranges are checked. The
//! checks and their order are the spec's, so a value traps exactly where it would there.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::handles::OpaqueKind;
use crate::layout::Cases;
use crate::string::load_string_from_range;
use crate::types::{TypeId, ValType, discriminant_size, flags_size};
use crate::val::Val;
use crate::{Cx, MAX_LIST_BYTE_LENGTH, PtrType, Trap, align_to, in_bounds, is_aligned};

/// `load`: lifts the value of type `ty` stored at `ptr`.
///
/// The spec asserts that `ptr` is aligned and the value inside the memory; this checks
/// both ([`Trap::UnalignedPointer`], [`Trap::PointerOutOfBounds`]).
pub fn load(cx: &mut Cx<'_>, ptr: u64, ty: TypeId) -> Result<Val, Trap> {
    let ptr_type = cx.ptr();
    if !is_aligned(ptr, cx.types.alignment(ty, ptr_type)) {
        return Err(Trap::UnalignedPointer);
    }
    let size = u64::from(cx.types.size(ty, ptr_type));
    if !in_bounds(cx.memory.size(), ptr, size) {
        return Err(Trap::PointerOutOfBounds);
    }
    let bytes = read(cx, ptr, size)?;
    decode(cx, &bytes, 0, ty)
}

/// `load_list_from_range`: lifts `len` elements of type `elem` stored at `ptr`.
pub fn load_list_from_range(
    cx: &mut Cx<'_>,
    ptr: u64,
    len: u64,
    elem: TypeId,
) -> Result<Vec<Val>, Trap> {
    let ptr_type = cx.ptr();
    let elem_size = u64::from(cx.types.size(elem, ptr_type));
    let bytes = list_bytes(cx, ptr, len, elem_size, cx.types.alignment(elem, ptr_type))?;
    (0..len)
        .map(|index| decode(cx, &bytes, (index * elem_size) as usize, elem))
        .collect()
}

/// Lifts the `len` key-value pairs of a `map<key, value>` (a list of
/// `tuple<key, value>`) stored at `ptr`.
pub fn load_map_from_range(
    cx: &mut Cx<'_>,
    ptr: u64,
    len: u64,
    key: TypeId,
    value: TypeId,
) -> Result<Vec<(Val, Val)>, Trap> {
    let (pair_size, pair_align) = cx.types.tuple_layout(&[key, value], cx.ptr());
    let bytes = list_bytes(cx, ptr, len, pair_size, pair_align)?;
    (0..len)
        .map(|index| {
            let at = (index * pair_size) as usize;
            let mut fields = decode_fields(cx, &bytes, at, [key, value].into_iter())?;
            let value = fields.pop().ok_or(Trap::TypeMismatch)?;
            let key = fields.pop().ok_or(Trap::TypeMismatch)?;
            Ok((key, value))
        })
        .collect()
}

/// Checks the range of a list of `len` elements of `elem_size` bytes aligned to
/// `elem_align`, as `load_list_from_range` does, and reads its bytes.
fn list_bytes(
    cx: &mut Cx<'_>,
    ptr: u64,
    len: u64,
    elem_size: u64,
    elem_align: u32,
) -> Result<Vec<u8>, Trap> {
    let byte_len = u128::from(len) * u128::from(elem_size);
    if byte_len > u128::from(MAX_LIST_BYTE_LENGTH) {
        return Err(Trap::ListTooLong);
    }
    let byte_len = byte_len as u64;
    if !is_aligned(ptr, elem_align) {
        return Err(Trap::UnalignedPointer);
    }
    if !in_bounds(cx.memory.size(), ptr, byte_len) {
        return Err(Trap::ListOutOfBounds);
    }
    read(cx, ptr, byte_len)
}

/// Reads `len` bytes (a checked range, at most 2^28 bytes) at `ptr`.
pub(crate) fn read(cx: &mut Cx<'_>, ptr: u64, len: u64) -> Result<Vec<u8>, Trap> {
    let mut bytes = alloc::vec![0; len as usize];
    cx.memory.read(ptr, &mut bytes)?;
    Ok(bytes)
}

/// The little-endian unsigned integer of `width` bytes at `at`.
pub(crate) fn uint(bytes: &[u8], at: usize, width: usize) -> u64 {
    bytes[at..at + width]
        .iter()
        .rev()
        .fold(0, |value, &byte| (value << 8) | u64::from(byte))
}

/// A pointer-sized integer at `at`.
fn ptr_at(bytes: &[u8], at: usize, ptr: PtrType) -> u64 {
    uint(bytes, at, ptr.size() as usize)
}

/// `canonicalize_nan32`.
pub(crate) fn canonical_f32(value: f32) -> f32 {
    if value.is_nan() {
        f32::from_bits(0x7fc0_0000)
    } else {
        value
    }
}

/// `canonicalize_nan64`.
pub(crate) fn canonical_f64(value: f64) -> f64 {
    if value.is_nan() {
        f64::from_bits(0x7ff8_0000_0000_0000)
    } else {
        value
    }
}

/// `convert_i32_to_char`.
pub(crate) fn char_from(code: u32) -> Result<char, Trap> {
    char::from_u32(code).ok_or(Trap::InvalidChar)
}

/// Lifts the value of type `ty` whose fixed-size part is at `at` in `bytes`.
pub(crate) fn decode(cx: &mut Cx<'_>, bytes: &[u8], at: usize, ty: TypeId) -> Result<Val, Trap> {
    let types = cx.types;
    let ptr = cx.ptr();
    let u32_at = |at| uint(bytes, at, 4) as u32;
    Ok(match types.get(ty) {
        ValType::Bool => Val::Bool(bytes[at] != 0),
        ValType::S8 => Val::S8(bytes[at] as i8),
        ValType::U8 => Val::U8(bytes[at]),
        ValType::S16 => Val::S16(uint(bytes, at, 2) as i16),
        ValType::U16 => Val::U16(uint(bytes, at, 2) as u16),
        ValType::S32 => Val::S32(u32_at(at) as i32),
        ValType::U32 => Val::U32(u32_at(at)),
        ValType::S64 => Val::S64(uint(bytes, at, 8) as i64),
        ValType::U64 => Val::U64(uint(bytes, at, 8)),
        ValType::F32 => Val::F32(canonical_f32(f32::from_bits(u32_at(at)))),
        ValType::F64 => Val::F64(canonical_f64(f64::from_bits(uint(bytes, at, 8)))),
        ValType::Char => Val::Char(char_from(u32_at(at))?),
        ValType::String => {
            let begin = ptr_at(bytes, at, ptr);
            let tagged = ptr_at(bytes, at + ptr.size() as usize, ptr);
            Val::String(load_string_from_range(cx, begin, tagged)?)
        }
        ValType::ErrorContext => Val::ErrorContext(cx.handles.lift_opaque(
            OpaqueKind::ErrorContext,
            ty,
            u32_at(at),
        )?),
        ValType::List(elem) => {
            let begin = ptr_at(bytes, at, ptr);
            let len = ptr_at(bytes, at + ptr.size() as usize, ptr);
            Val::List(load_list_from_range(cx, begin, len, *elem)?)
        }
        ValType::Map(key, value) => {
            let begin = ptr_at(bytes, at, ptr);
            let len = ptr_at(bytes, at + ptr.size() as usize, ptr);
            Val::Map(load_map_from_range(cx, begin, len, *key, *value)?)
        }
        ValType::FixedList(elem, len) => {
            let elem_size = types.size(*elem, ptr) as usize;
            let mut items = Vec::new();
            for index in 0..*len as usize {
                items.push(decode(cx, bytes, at + index * elem_size, *elem)?);
            }
            Val::List(items)
        }
        ValType::Record(fields) => Val::Record(decode_fields(
            cx,
            bytes,
            at,
            fields.iter().map(|field| field.ty),
        )?),
        ValType::Tuple(elems) => Val::Tuple(decode_fields(cx, bytes, at, elems.iter().copied())?),
        ValType::Variant(cases) => {
            let (index, payload) = decode_case(cx, bytes, at, ty, Cases::Named(cases))?;
            Val::Variant(index, payload.map(Box::new))
        }
        ValType::Enum(labels) => {
            Val::Enum(decode_case(cx, bytes, at, ty, Cases::Enum(labels.len()))?.0)
        }
        ValType::Option(some) => match decode_case(cx, bytes, at, ty, Cases::Option(*some))? {
            (0, _) => Val::Option(None),
            (_, payload) => Val::Option(payload.map(Box::new)),
        },
        ValType::Result { ok, err } => {
            match decode_case(cx, bytes, at, ty, Cases::Result(*ok, *err))? {
                (0, payload) => Val::Result(Ok(payload.map(Box::new))),
                (_, payload) => Val::Result(Err(payload.map(Box::new))),
            }
        }
        ValType::Flags(labels) => {
            let bits = uint(bytes, at, flags_size(labels.len()) as usize) as u32;
            Val::Flags(flag_bits(bits, labels.len()))
        }
        ValType::Own(resource) => Val::Own(cx.handles.lift_own(*resource, u32_at(at))?),
        ValType::Borrow(resource) => Val::Borrow(cx.handles.lift_borrow(*resource, u32_at(at))?),
        ValType::Stream(_) => {
            Val::Stream(cx.handles.lift_opaque(OpaqueKind::Stream, ty, u32_at(at))?)
        }
        ValType::Future(_) => {
            Val::Future(cx.handles.lift_opaque(OpaqueKind::Future, ty, u32_at(at))?)
        }
    })
}

/// The bits of a flags value with `labels` labels: the rest are ignored.
pub(crate) fn flag_bits(bits: u32, labels: usize) -> u32 {
    if labels >= 32 {
        bits
    } else {
        bits & ((1 << labels) - 1)
    }
}

/// Lifts the fields of a record (or tuple, or parameter list) at `at`.
pub(crate) fn decode_fields(
    cx: &mut Cx<'_>,
    bytes: &[u8],
    at: usize,
    fields: impl ExactSizeIterator<Item = TypeId>,
) -> Result<Vec<Val>, Trap> {
    let ptr = cx.ptr();
    let mut values = Vec::with_capacity(fields.len());
    let mut offset = at as u64;
    for field in fields {
        offset = align_to(offset, cx.types.alignment(field, ptr));
        values.push(decode(cx, bytes, offset as usize, field)?);
        offset += u64::from(cx.types.size(field, ptr));
    }
    Ok(values)
}

/// Lifts the case index and payload of a variant-like type at `at`.
fn decode_case(
    cx: &mut Cx<'_>,
    bytes: &[u8],
    at: usize,
    ty: TypeId,
    cases: Cases<'_>,
) -> Result<(u32, Option<Val>), Trap> {
    let index = uint(bytes, at, discriminant_size(cases.len()) as usize);
    if index >= cases.len() as u64 {
        return Err(Trap::InvalidDiscriminant);
    }
    let payload = match cases.payload(index as usize) {
        Some(payload) => {
            let offset = at + cx.types.payload_offset(ty, cx.ptr()) as usize;
            Some(decode(cx, bytes, offset, payload)?)
        }
        None => None,
    };
    Ok((index as u32, payload))
}
