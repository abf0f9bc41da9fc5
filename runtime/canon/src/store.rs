//! Lowering values into linear memory (`store`).
//!
//! The spec stores scalar by scalar; so does this wherever a `realloc` call could come
//! in between (the guest's `realloc` may look at memory). A part of a value that needs no
//! `realloc` is instead read, filled in and written back in one piece, which leaves
//! memory as the spec would, padding included.

use alloc::vec::Vec;

use crate::handles::OpaqueKind;
use crate::layout::Cases;
use crate::string::store_string_into_range;
use crate::types::{TypeId, ValType, discriminant_size, flags_size};
use crate::val::Val;
use crate::{Cx, PtrType, REALLOC_I32_MAX, Trap, align_to, in_bounds, is_aligned};

/// `store`: lowers `value` of type `ty` into memory at `ptr`.
///
/// The spec asserts that `ptr` is aligned and the value inside the memory; this checks
/// both ([`Trap::UnalignedPointer`], [`Trap::PointerOutOfBounds`]).
pub fn store(cx: &mut Cx<'_>, value: &Val, ty: TypeId, ptr: u64) -> Result<(), Trap> {
    let ptr_type = cx.ptr();
    if !is_aligned(ptr, cx.types.alignment(ty, ptr_type)) {
        return Err(Trap::UnalignedPointer);
    }
    if !in_bounds(
        cx.memory.size(),
        ptr,
        u64::from(cx.types.size(ty, ptr_type)),
    ) {
        return Err(Trap::PointerOutOfBounds);
    }
    encode(cx, &mut Dst::Memory, value, ty, ptr)
}

/// `store_list_into_range`: stores `items` of type `elem` in memory `realloc` gives;
/// returns their pointer and count.
pub fn store_list_into_range(
    cx: &mut Cx<'_>,
    items: &[Val],
    elem: TypeId,
) -> Result<(u64, u64), Trap> {
    store_items(cx, Items::Vals(items, elem))
}

/// Stores the key-value pairs of a `map<key, value>` as `store_list_into_range` stores
/// a list of `tuple<key, value>`.
pub fn store_map_into_range(
    cx: &mut Cx<'_>,
    pairs: &[(Val, Val)],
    key: TypeId,
    value: TypeId,
) -> Result<(u64, u64), Trap> {
    store_items(cx, Items::Pairs(pairs, key, value))
}

/// The elements of a list or map, with their types.
#[derive(Clone, Copy)]
enum Items<'v> {
    Vals(&'v [Val], TypeId),
    Pairs(&'v [(Val, Val)], TypeId, TypeId),
}

impl Items<'_> {
    fn len(self) -> usize {
        match self {
            Items::Vals(items, _) => items.len(),
            Items::Pairs(pairs, ..) => pairs.len(),
        }
    }
}

fn store_items(cx: &mut Cx<'_>, items: Items<'_>) -> Result<(u64, u64), Trap> {
    let types = cx.types;
    let ptr_type = cx.ptr();
    let (elem_size, align, indirect) = match items {
        Items::Vals(_, elem) => (
            u64::from(types.size(elem, ptr_type)),
            types.alignment(elem, ptr_type),
            types.is_indirect(elem),
        ),
        Items::Pairs(_, key, value) => {
            let (size, align) = types.tuple_layout(&[key, value], ptr_type);
            (
                size,
                align,
                types.is_indirect(key) || types.is_indirect(value),
            )
        }
    };
    // The spec asserts this of lists it lifted; a host list may be longer, and traps.
    let byte_len = items.len() as u128 * u128::from(elem_size);
    if byte_len > u128::from(REALLOC_I32_MAX) {
        return Err(Trap::ListTooLong);
    }
    let byte_len = byte_len as u64;
    let ptr = cx.allocate(align, byte_len)?;
    if !is_aligned(ptr, align) {
        return Err(Trap::ReallocUnaligned);
    }
    if !in_bounds(cx.memory.size(), ptr, byte_len) {
        return Err(Trap::ReallocOutOfBounds);
    }
    let mut buffer = if indirect {
        Vec::new()
    } else {
        crate::load::read(cx, ptr, byte_len)?
    };
    let mut dst = if indirect {
        Dst::Memory
    } else {
        Dst::Buffer {
            base: ptr,
            bytes: &mut buffer,
        }
    };
    for index in 0..items.len() {
        let addr = ptr + index as u64 * elem_size;
        match items {
            Items::Vals(items, elem) => encode(cx, &mut dst, &items[index], elem, addr)?,
            Items::Pairs(pairs, key_type, value_type) => {
                let (key, value) = &pairs[index];
                let field_types = [key_type, value_type];
                encode_fields(cx, &mut dst, [key, value].into_iter(), &field_types, addr)?;
            }
        }
    }
    if !indirect {
        cx.memory.write(ptr, &buffer)?;
    }
    Ok((ptr, items.len() as u64))
}

/// Where stores go: straight to memory, or to a copy of a range of it.
pub(crate) enum Dst<'b> {
    Memory,
    Buffer { base: u64, bytes: &'b mut Vec<u8> },
}

fn put(cx: &mut Cx<'_>, dst: &mut Dst<'_>, addr: u64, bytes: &[u8]) -> Result<(), Trap> {
    match dst {
        Dst::Memory => cx.memory.write(addr, bytes),
        Dst::Buffer {
            base,
            bytes: buffer,
        } => {
            let at = (addr - *base) as usize;
            buffer[at..at + bytes.len()].copy_from_slice(bytes);
            Ok(())
        }
    }
}

fn put_ptr(cx: &mut Cx<'_>, dst: &mut Dst<'_>, addr: u64, ptr: u64) -> Result<(), Trap> {
    match cx.ptr() {
        PtrType::I32 => put(cx, dst, addr, &(ptr as u32).to_le_bytes()),
        PtrType::I64 => put(cx, dst, addr, &ptr.to_le_bytes()),
    }
}

/// Stores `value` of type `ty` at `addr` (checked).
pub(crate) fn encode(
    cx: &mut Cx<'_>,
    dst: &mut Dst<'_>,
    value: &Val,
    ty: TypeId,
    addr: u64,
) -> Result<(), Trap> {
    let types = cx.types;
    let ptr = cx.ptr();
    if matches!(dst, Dst::Memory) && !types.is_indirect(ty) {
        let size = u64::from(types.size(ty, ptr));
        let mut bytes = crate::load::read(cx, addr, size)?;
        encode(
            cx,
            &mut Dst::Buffer {
                base: addr,
                bytes: &mut bytes,
            },
            value,
            ty,
            addr,
        )?;
        return cx.memory.write(addr, &bytes);
    }
    match (types.get(ty), value) {
        (ValType::Bool, Val::Bool(b)) => put(cx, dst, addr, &[u8::from(*b)]),
        (ValType::S8, Val::S8(x)) => put(cx, dst, addr, &x.to_le_bytes()),
        (ValType::U8, Val::U8(x)) => put(cx, dst, addr, &x.to_le_bytes()),
        (ValType::S16, Val::S16(x)) => put(cx, dst, addr, &x.to_le_bytes()),
        (ValType::U16, Val::U16(x)) => put(cx, dst, addr, &x.to_le_bytes()),
        (ValType::S32, Val::S32(x)) => put(cx, dst, addr, &x.to_le_bytes()),
        (ValType::U32, Val::U32(x)) => put(cx, dst, addr, &x.to_le_bytes()),
        (ValType::S64, Val::S64(x)) => put(cx, dst, addr, &x.to_le_bytes()),
        (ValType::U64, Val::U64(x)) => put(cx, dst, addr, &x.to_le_bytes()),
        (ValType::F32, Val::F32(x)) => put(cx, dst, addr, &x.to_bits().to_le_bytes()),
        (ValType::F64, Val::F64(x)) => put(cx, dst, addr, &x.to_bits().to_le_bytes()),
        (ValType::Char, Val::Char(c)) => put(cx, dst, addr, &u32::from(*c).to_le_bytes()),
        (ValType::String, Val::String(string)) => {
            let (begin, tagged) = store_string_into_range(cx, string)?;
            put_ptr(cx, dst, addr, begin)?;
            put_ptr(cx, dst, addr + u64::from(ptr.size()), tagged)
        }
        (ValType::ErrorContext, Val::ErrorContext(v)) => {
            let index = cx.handles.lower_opaque(OpaqueKind::ErrorContext, ty, *v)?;
            put(cx, dst, addr, &index.to_le_bytes())
        }
        (ValType::List(elem), Val::List(items)) => {
            let (begin, len) = store_items(cx, Items::Vals(items, *elem))?;
            put_ptr(cx, dst, addr, begin)?;
            put_ptr(cx, dst, addr + u64::from(ptr.size()), len)
        }
        (ValType::Map(key, value), Val::Map(pairs)) => {
            let (begin, len) = store_items(cx, Items::Pairs(pairs, *key, *value))?;
            put_ptr(cx, dst, addr, begin)?;
            put_ptr(cx, dst, addr + u64::from(ptr.size()), len)
        }
        (ValType::FixedList(elem, len), Val::List(items)) => {
            if items.len() != *len as usize {
                return Err(Trap::TypeMismatch);
            }
            let elem_size = u64::from(types.size(*elem, ptr));
            for (index, item) in items.iter().enumerate() {
                encode(cx, dst, item, *elem, addr + index as u64 * elem_size)?;
            }
            Ok(())
        }
        (ValType::Record(fields), Val::Record(values)) => {
            if fields.len() != values.len() {
                return Err(Trap::TypeMismatch);
            }
            let types_of = fields.iter().map(|field| field.ty);
            encode_field_types(cx, dst, values.iter(), types_of, addr)
        }
        (ValType::Tuple(elems), Val::Tuple(values)) => {
            if elems.len() != values.len() {
                return Err(Trap::TypeMismatch);
            }
            encode_fields(cx, dst, values.iter(), elems, addr)
        }
        (ValType::Variant(cases), Val::Variant(index, payload)) => {
            let cases = Cases::Named(cases);
            encode_case(cx, dst, ty, cases, *index, payload.as_deref(), addr)
        }
        (ValType::Enum(labels), Val::Enum(index)) => {
            encode_case(cx, dst, ty, Cases::Enum(labels.len()), *index, None, addr)
        }
        (ValType::Option(some), Val::Option(payload)) => {
            let index = u32::from(payload.is_some());
            let cases = Cases::Option(*some);
            encode_case(cx, dst, ty, cases, index, payload.as_deref(), addr)
        }
        (ValType::Result { ok, err }, Val::Result(result)) => {
            let (index, payload) = match result {
                Ok(payload) => (0, payload.as_deref()),
                Err(payload) => (1, payload.as_deref()),
            };
            encode_case(cx, dst, ty, Cases::Result(*ok, *err), index, payload, addr)
        }
        (ValType::Flags(labels), Val::Flags(bits)) => {
            if crate::load::flag_bits(*bits, labels.len()) != *bits {
                return Err(Trap::TypeMismatch);
            }
            let size = flags_size(labels.len()) as usize;
            put(cx, dst, addr, &bits.to_le_bytes()[..size])
        }
        (ValType::Own(resource), Val::Own(rep)) => {
            let index = cx.handles.lower_own(*resource, *rep)?;
            put(cx, dst, addr, &index.to_le_bytes())
        }
        (ValType::Borrow(resource), Val::Borrow(rep)) => {
            let index = cx.handles.lower_borrow(*resource, *rep)?;
            put(cx, dst, addr, &index.to_le_bytes())
        }
        (ValType::Stream(_), Val::Stream(v)) => {
            let index = cx.handles.lower_opaque(OpaqueKind::Stream, ty, *v)?;
            put(cx, dst, addr, &index.to_le_bytes())
        }
        (ValType::Future(_), Val::Future(v)) => {
            let index = cx.handles.lower_opaque(OpaqueKind::Future, ty, *v)?;
            put(cx, dst, addr, &index.to_le_bytes())
        }
        _ => Err(Trap::TypeMismatch),
    }
}

/// Stores the fields of a record, tuple or parameter list at `addr`.
pub(crate) fn encode_fields<'v>(
    cx: &mut Cx<'_>,
    dst: &mut Dst<'_>,
    values: impl Iterator<Item = &'v Val>,
    types: &[TypeId],
    addr: u64,
) -> Result<(), Trap> {
    encode_field_types(cx, dst, values, types.iter().copied(), addr)
}

fn encode_field_types<'v>(
    cx: &mut Cx<'_>,
    dst: &mut Dst<'_>,
    values: impl Iterator<Item = &'v Val>,
    types: impl Iterator<Item = TypeId>,
    addr: u64,
) -> Result<(), Trap> {
    let ptr = cx.ptr();
    let mut offset = addr;
    for (value, ty) in values.zip(types) {
        offset = align_to(offset, cx.types.alignment(ty, ptr));
        encode(cx, dst, value, ty, offset)?;
        offset += u64::from(cx.types.size(ty, ptr));
    }
    Ok(())
}

/// Stores case `index` of a variant-like type, with its payload.
fn encode_case(
    cx: &mut Cx<'_>,
    dst: &mut Dst<'_>,
    ty: TypeId,
    cases: Cases<'_>,
    index: u32,
    payload: Option<&Val>,
    addr: u64,
) -> Result<(), Trap> {
    if index as usize >= cases.len() {
        return Err(Trap::TypeMismatch);
    }
    let payload = match (cases.payload(index as usize), payload) {
        (Some(payload_type), Some(payload)) => Some((payload_type, payload)),
        (None, None) => None,
        _ => return Err(Trap::TypeMismatch),
    };
    let size = discriminant_size(cases.len()) as usize;
    put(cx, dst, addr, &index.to_le_bytes()[..size])?;
    if let Some((payload_type, payload)) = payload {
        let offset = addr + u64::from(cx.types.payload_offset(ty, cx.ptr()));
        encode(cx, dst, payload, payload_type, offset)?;
    }
    Ok(())
}
