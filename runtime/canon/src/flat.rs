//! Lifting and lowering between values and flat core values (`lift_flat`,
//! `lower_flat`), and of whole parameter and result lists (`lift_flat_values`,
//! `lower_flat_values`), which fall back to memory past a limit of flat values.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::handles::OpaqueKind;
use crate::layout::{Cases, CoreType};
use crate::load::{
    canonical_f32, canonical_f64, char_from, decode_fields, flag_bits, load_list_from_range,
    load_map_from_range,
};
use crate::store::{Dst, encode_fields, store_list_into_range, store_map_into_range};
use crate::string::{load_string_from_range, store_string_into_range};
use crate::types::{TypeId, ValType};
use crate::val::Val;
use crate::{Cx, PtrType, Trap, in_bounds, is_aligned};

/// A core WebAssembly value. Integers are unsigned (their bits); equality compares the
/// bits of floats too.
#[derive(Debug, Clone, Copy)]
pub enum FlatVal {
    /// An `i32`.
    I32(u32),
    /// An `i64`.
    I64(u64),
    /// An `f32`.
    F32(f32),
    /// An `f64`.
    F64(f64),
}

impl FlatVal {
    /// Its core type.
    pub const fn core_type(self) -> CoreType {
        match self {
            FlatVal::I32(_) => CoreType::I32,
            FlatVal::I64(_) => CoreType::I64,
            FlatVal::F32(_) => CoreType::F32,
            FlatVal::F64(_) => CoreType::F64,
        }
    }

    /// The zero of `ty`.
    pub const fn zero(ty: CoreType) -> FlatVal {
        match ty {
            CoreType::I32 => FlatVal::I32(0),
            CoreType::I64 => FlatVal::I64(0),
            CoreType::F32 => FlatVal::F32(0.0),
            CoreType::F64 => FlatVal::F64(0.0),
        }
    }

    /// A pointer (or length) of a memory with pointer type `ptr`.
    pub const fn ptr(ptr: PtrType, value: u64) -> FlatVal {
        match ptr {
            PtrType::I32 => FlatVal::I32(value as u32),
            PtrType::I64 => FlatVal::I64(value),
        }
    }

    /// Its bits, zero-extended.
    pub fn bits(self) -> u64 {
        match self {
            FlatVal::I32(x) => u64::from(x),
            FlatVal::I64(x) => x,
            FlatVal::F32(x) => u64::from(x.to_bits()),
            FlatVal::F64(x) => x.to_bits(),
        }
    }
}

impl PartialEq for FlatVal {
    fn eq(&self, other: &FlatVal) -> bool {
        self.core_type() == other.core_type() && self.bits() == other.bits()
    }
}

impl Eq for FlatVal {}

/// Where lifting takes flat values from.
trait FlatSource {
    /// The next value, which should be of type `want`.
    fn next(&mut self, want: CoreType) -> Result<FlatVal, Trap>;
}

/// Flat values being lifted, in order (the spec's `CoreValueIter`).
#[derive(Debug, Clone)]
pub struct FlatReader<'a> {
    values: &'a [FlatVal],
    position: usize,
}

impl<'a> FlatReader<'a> {
    /// Reads `values` from the first.
    pub fn new(values: &'a [FlatVal]) -> FlatReader<'a> {
        FlatReader {
            values,
            position: 0,
        }
    }

    /// The next value, which must be of type `want` ([`Trap::TypeMismatch`] if it is
    /// not, or if there is none).
    pub fn next(&mut self, want: CoreType) -> Result<FlatVal, Trap> {
        let value = *self.values.get(self.position).ok_or(Trap::TypeMismatch)?;
        if value.core_type() != want {
            return Err(Trap::TypeMismatch);
        }
        self.position += 1;
        Ok(value)
    }

    /// The next value as a pointer of a memory with pointer type `ptr`.
    pub fn next_ptr(&mut self, ptr: PtrType) -> Result<u64, Trap> {
        Ok(self.next(ptr.core_type())?.bits())
    }

    /// The values not read yet.
    pub fn remaining(&self) -> &'a [FlatVal] {
        &self.values[self.position..]
    }

    /// Whether every value was read.
    pub fn is_done(&self) -> bool {
        self.position == self.values.len()
    }
}

impl FlatSource for FlatReader<'_> {
    fn next(&mut self, want: CoreType) -> Result<FlatVal, Trap> {
        FlatReader::next(self, want)
    }
}

/// Reads a variant's payload out of the variant's joined flat slots, converting each to
/// the type the payload's own flattening has there (the `CoerceValueIter` of
/// `lift_flat_variant`).
struct Coerce<'s> {
    inner: &'s mut dyn FlatSource,
    slots: &'s [CoreType],
    position: usize,
}

impl FlatSource for Coerce<'_> {
    fn next(&mut self, want: CoreType) -> Result<FlatVal, Trap> {
        let have = *self.slots.get(self.position).ok_or(Trap::TypeMismatch)?;
        self.position += 1;
        let value = self.inner.next(have)?;
        Ok(match (value, want) {
            (FlatVal::I32(x), CoreType::F32) => FlatVal::F32(canonical_f32(f32::from_bits(x))),
            (FlatVal::I64(x), CoreType::I32) => FlatVal::I32(x as u32),
            (FlatVal::I64(x), CoreType::F32) => {
                FlatVal::F32(canonical_f32(f32::from_bits(x as u32)))
            }
            (FlatVal::I64(x), CoreType::F64) => FlatVal::F64(canonical_f64(f64::from_bits(x))),
            (value, want) if value.core_type() == want => value,
            _ => return Err(Trap::TypeMismatch),
        })
    }
}

/// `lift_flat`: lifts a value of type `ty` from the flat values `reader` has next.
pub fn lift_flat(cx: &mut Cx<'_>, reader: &mut FlatReader<'_>, ty: TypeId) -> Result<Val, Trap> {
    lift(cx, reader, ty)
}

fn next_i32(source: &mut dyn FlatSource) -> Result<u32, Trap> {
    Ok(source.next(CoreType::I32)?.bits() as u32)
}

fn lift(cx: &mut Cx<'_>, source: &mut dyn FlatSource, ty: TypeId) -> Result<Val, Trap> {
    let types = cx.types;
    let ptr = cx.ptr();
    Ok(match types.get(ty) {
        ValType::Bool => Val::Bool(next_i32(source)? != 0),
        ValType::S8 => Val::S8(next_i32(source)? as i8),
        ValType::U8 => Val::U8(next_i32(source)? as u8),
        ValType::S16 => Val::S16(next_i32(source)? as i16),
        ValType::U16 => Val::U16(next_i32(source)? as u16),
        ValType::S32 => Val::S32(next_i32(source)? as i32),
        ValType::U32 => Val::U32(next_i32(source)?),
        ValType::S64 => Val::S64(source.next(CoreType::I64)?.bits() as i64),
        ValType::U64 => Val::U64(source.next(CoreType::I64)?.bits()),
        ValType::F32 => Val::F32(canonical_f32(f32::from_bits(
            source.next(CoreType::F32)?.bits() as u32,
        ))),
        ValType::F64 => Val::F64(canonical_f64(f64::from_bits(
            source.next(CoreType::F64)?.bits(),
        ))),
        ValType::Char => Val::Char(char_from(next_i32(source)?)?),
        ValType::String => {
            let begin = source.next(ptr.core_type())?.bits();
            let tagged = source.next(ptr.core_type())?.bits();
            Val::String(load_string_from_range(cx, begin, tagged)?)
        }
        ValType::ErrorContext => {
            let index = next_i32(source)?;
            Val::ErrorContext(
                cx.handles
                    .lift_opaque(OpaqueKind::ErrorContext, ty, index)?,
            )
        }
        ValType::List(elem) => {
            let begin = source.next(ptr.core_type())?.bits();
            let len = source.next(ptr.core_type())?.bits();
            Val::List(load_list_from_range(cx, begin, len, *elem)?)
        }
        ValType::Map(key, value) => {
            let begin = source.next(ptr.core_type())?.bits();
            let len = source.next(ptr.core_type())?.bits();
            Val::Map(load_map_from_range(cx, begin, len, *key, *value)?)
        }
        ValType::FixedList(elem, len) => {
            let mut items = Vec::new();
            for _ in 0..*len {
                items.push(lift(cx, source, *elem)?);
            }
            Val::List(items)
        }
        ValType::Record(fields) => {
            let mut values = Vec::with_capacity(fields.len());
            for field in fields.iter() {
                values.push(lift(cx, source, field.ty)?);
            }
            Val::Record(values)
        }
        ValType::Tuple(elems) => {
            let mut values = Vec::with_capacity(elems.len());
            for &elem in elems.iter() {
                values.push(lift(cx, source, elem)?);
            }
            Val::Tuple(values)
        }
        ValType::Variant(cases) => {
            let (index, payload) = lift_case(cx, source, ty, Cases::Named(cases))?;
            Val::Variant(index, payload.map(Box::new))
        }
        ValType::Enum(labels) => Val::Enum(lift_case(cx, source, ty, Cases::Enum(labels.len()))?.0),
        ValType::Option(some) => match lift_case(cx, source, ty, Cases::Option(*some))? {
            (0, _) => Val::Option(None),
            (_, payload) => Val::Option(payload.map(Box::new)),
        },
        ValType::Result { ok, err } => match lift_case(cx, source, ty, Cases::Result(*ok, *err))? {
            (0, payload) => Val::Result(Ok(payload.map(Box::new))),
            (_, payload) => Val::Result(Err(payload.map(Box::new))),
        },
        ValType::Flags(labels) => Val::Flags(flag_bits(next_i32(source)?, labels.len())),
        ValType::Own(resource) => {
            let index = next_i32(source)?;
            Val::Own(cx.handles.lift_own(*resource, index)?)
        }
        ValType::Borrow(resource) => {
            let index = next_i32(source)?;
            Val::Borrow(cx.handles.lift_borrow(*resource, index)?)
        }
        ValType::Stream(_) => {
            let index = next_i32(source)?;
            Val::Stream(cx.handles.lift_opaque(OpaqueKind::Stream, ty, index)?)
        }
        ValType::Future(_) => {
            let index = next_i32(source)?;
            Val::Future(cx.handles.lift_opaque(OpaqueKind::Future, ty, index)?)
        }
    })
}

/// `lift_flat_variant`: the case index and payload of a variant-like type.
fn lift_case(
    cx: &mut Cx<'_>,
    source: &mut dyn FlatSource,
    ty: TypeId,
    cases: Cases<'_>,
) -> Result<(u32, Option<Val>), Trap> {
    let flat = cx.types.flatten(ty, cx.ptr());
    let index = next_i32(source)?;
    if index as usize >= cases.len() {
        return Err(Trap::InvalidDiscriminant);
    }
    let slots = &flat[1..];
    let mut coerce = Coerce {
        inner: source,
        slots,
        position: 0,
    };
    let payload = match cases.payload(index as usize) {
        Some(payload) => Some(lift(cx, &mut coerce, payload)?),
        None => None,
    };
    let used = coerce.position;
    for &slot in &slots[used..] {
        source.next(slot)?;
    }
    Ok((index, payload))
}

/// `lower_flat`: lowers `value` of type `ty`, appending its flat values to `out`.
pub fn lower_flat(
    cx: &mut Cx<'_>,
    value: &Val,
    ty: TypeId,
    out: &mut Vec<FlatVal>,
) -> Result<(), Trap> {
    let types = cx.types;
    let ptr = cx.ptr();
    match (types.get(ty), value) {
        (ValType::Bool, Val::Bool(b)) => out.push(FlatVal::I32(u32::from(*b))),
        (ValType::S8, Val::S8(x)) => out.push(FlatVal::I32(i32::from(*x) as u32)),
        (ValType::U8, Val::U8(x)) => out.push(FlatVal::I32(u32::from(*x))),
        (ValType::S16, Val::S16(x)) => out.push(FlatVal::I32(i32::from(*x) as u32)),
        (ValType::U16, Val::U16(x)) => out.push(FlatVal::I32(u32::from(*x))),
        (ValType::S32, Val::S32(x)) => out.push(FlatVal::I32(*x as u32)),
        (ValType::U32, Val::U32(x)) => out.push(FlatVal::I32(*x)),
        (ValType::S64, Val::S64(x)) => out.push(FlatVal::I64(*x as u64)),
        (ValType::U64, Val::U64(x)) => out.push(FlatVal::I64(*x)),
        (ValType::F32, Val::F32(x)) => out.push(FlatVal::F32(*x)),
        (ValType::F64, Val::F64(x)) => out.push(FlatVal::F64(*x)),
        (ValType::Char, Val::Char(c)) => out.push(FlatVal::I32(u32::from(*c))),
        (ValType::String, Val::String(string)) => {
            let (begin, tagged) = store_string_into_range(cx, string)?;
            out.push(FlatVal::ptr(ptr, begin));
            out.push(FlatVal::ptr(ptr, tagged));
        }
        (ValType::ErrorContext, Val::ErrorContext(v)) => {
            let index = cx.handles.lower_opaque(OpaqueKind::ErrorContext, ty, *v)?;
            out.push(FlatVal::I32(index));
        }
        (ValType::List(elem), Val::List(items)) => {
            let (begin, len) = store_list_into_range(cx, items, *elem)?;
            out.push(FlatVal::ptr(ptr, begin));
            out.push(FlatVal::ptr(ptr, len));
        }
        (ValType::Map(key, value), Val::Map(pairs)) => {
            let (begin, len) = store_map_into_range(cx, pairs, *key, *value)?;
            out.push(FlatVal::ptr(ptr, begin));
            out.push(FlatVal::ptr(ptr, len));
        }
        (ValType::FixedList(elem, len), Val::List(items)) => {
            if items.len() != *len as usize {
                return Err(Trap::TypeMismatch);
            }
            for item in items {
                lower_flat(cx, item, *elem, out)?;
            }
        }
        (ValType::Record(fields), Val::Record(values)) => {
            if fields.len() != values.len() {
                return Err(Trap::TypeMismatch);
            }
            for (field, value) in fields.iter().zip(values) {
                lower_flat(cx, value, field.ty, out)?;
            }
        }
        (ValType::Tuple(elems), Val::Tuple(values)) => {
            if elems.len() != values.len() {
                return Err(Trap::TypeMismatch);
            }
            for (&elem, value) in elems.iter().zip(values) {
                lower_flat(cx, value, elem, out)?;
            }
        }
        (ValType::Variant(cases), Val::Variant(index, payload)) => {
            let cases = Cases::Named(cases);
            lower_case(cx, ty, cases, *index, payload.as_deref(), out)?;
        }
        (ValType::Enum(labels), Val::Enum(index)) => {
            lower_case(cx, ty, Cases::Enum(labels.len()), *index, None, out)?;
        }
        (ValType::Option(some), Val::Option(payload)) => {
            let index = u32::from(payload.is_some());
            lower_case(cx, ty, Cases::Option(*some), index, payload.as_deref(), out)?;
        }
        (ValType::Result { ok, err }, Val::Result(result)) => {
            let (index, payload) = match result {
                Ok(payload) => (0, payload.as_deref()),
                Err(payload) => (1, payload.as_deref()),
            };
            lower_case(cx, ty, Cases::Result(*ok, *err), index, payload, out)?;
        }
        (ValType::Flags(labels), Val::Flags(bits)) => {
            if flag_bits(*bits, labels.len()) != *bits {
                return Err(Trap::TypeMismatch);
            }
            out.push(FlatVal::I32(*bits));
        }
        (ValType::Own(resource), Val::Own(rep)) => {
            out.push(FlatVal::I32(cx.handles.lower_own(*resource, *rep)?));
        }
        (ValType::Borrow(resource), Val::Borrow(rep)) => {
            out.push(FlatVal::I32(cx.handles.lower_borrow(*resource, *rep)?));
        }
        (ValType::Stream(_), Val::Stream(v)) => {
            out.push(FlatVal::I32(cx.handles.lower_opaque(
                OpaqueKind::Stream,
                ty,
                *v,
            )?));
        }
        (ValType::Future(_), Val::Future(v)) => {
            out.push(FlatVal::I32(cx.handles.lower_opaque(
                OpaqueKind::Future,
                ty,
                *v,
            )?));
        }
        _ => return Err(Trap::TypeMismatch),
    }
    Ok(())
}

/// `lower_flat_variant`: the case index, then the payload converted to the variant's
/// joined flat types, then zeros for the slots the payload does not use.
fn lower_case(
    cx: &mut Cx<'_>,
    ty: TypeId,
    cases: Cases<'_>,
    index: u32,
    payload: Option<&Val>,
    out: &mut Vec<FlatVal>,
) -> Result<(), Trap> {
    if index as usize >= cases.len() {
        return Err(Trap::TypeMismatch);
    }
    let payload = match (cases.payload(index as usize), payload) {
        (Some(payload_type), Some(payload)) => Some((payload_type, payload)),
        (None, None) => None,
        _ => return Err(Trap::TypeMismatch),
    };
    let flat = cx.types.flatten(ty, cx.ptr());
    out.push(FlatVal::I32(index));
    let start = out.len();
    if let Some((payload_type, payload)) = payload {
        lower_flat(cx, payload, payload_type, out)?;
    }
    let slots = &flat[1..];
    for (value, &want) in out[start..].iter_mut().zip(slots) {
        *value = match (*value, want) {
            (FlatVal::F32(x), CoreType::I32) => FlatVal::I32(x.to_bits()),
            (FlatVal::I32(x), CoreType::I64) => FlatVal::I64(u64::from(x)),
            (FlatVal::F32(x), CoreType::I64) => FlatVal::I64(u64::from(x.to_bits())),
            (FlatVal::F64(x), CoreType::I64) => FlatVal::I64(x.to_bits()),
            (value, want) if value.core_type() == want => value,
            _ => return Err(Trap::TypeMismatch),
        };
    }
    let used = out.len() - start;
    for &slot in slots.get(used..).unwrap_or_default() {
        out.push(FlatVal::zero(slot));
    }
    Ok(())
}

/// `lift_flat_values`: lifts values of types `types` from `reader`: flat, or, if they
/// take more than `max_flat` flat values, from the tuple in memory a pointer read from
/// `reader` points to.
pub fn lift_flat_values(
    cx: &mut Cx<'_>,
    max_flat: usize,
    reader: &mut FlatReader<'_>,
    types: &[TypeId],
) -> Result<Vec<Val>, Trap> {
    let ptr_type = cx.ptr();
    if cx.types.flat_count_of(types) > max_flat as u64 {
        let ptr = reader.next_ptr(ptr_type)?;
        let (size, align) = cx.types.tuple_layout(types, ptr_type);
        if !is_aligned(ptr, align) {
            return Err(Trap::UnalignedPointer);
        }
        if !in_bounds(cx.memory.size(), ptr, size) {
            return Err(Trap::PointerOutOfBounds);
        }
        let bytes = crate::load::read(cx, ptr, size)?;
        return decode_fields(cx, &bytes, 0, types.iter().copied());
    }
    types.iter().map(|&ty| lift(cx, reader, ty)).collect()
}

/// `lower_flat_values`: lowers `values` of types `types`: flat, or, if they take more
/// than `max_flat` flat values, as a tuple in memory, whose pointer is the result. That
/// memory comes from `realloc`, or, given an `out_param` reader, from the pointer it has
/// next (the return pointer of a `canon lower`).
pub fn lower_flat_values(
    cx: &mut Cx<'_>,
    max_flat: usize,
    values: &[Val],
    types: &[TypeId],
    out_param: Option<&mut FlatReader<'_>>,
) -> Result<Vec<FlatVal>, Trap> {
    if values.len() != types.len() {
        return Err(Trap::TypeMismatch);
    }
    let ptr_type = cx.ptr();
    let mut flat = Vec::new();
    if cx.types.flat_count_of(types) > max_flat as u64 {
        let (size, align) = cx.types.tuple_layout(types, ptr_type);
        let ptr = match out_param {
            None => {
                let ptr = cx.allocate(align, size)?;
                if !is_aligned(ptr, align) {
                    return Err(Trap::ReallocUnaligned);
                }
                if !in_bounds(cx.memory.size(), ptr, size) {
                    return Err(Trap::ReallocOutOfBounds);
                }
                flat.push(FlatVal::ptr(ptr_type, ptr));
                ptr
            }
            Some(reader) => {
                let ptr = reader.next_ptr(ptr_type)?;
                if !is_aligned(ptr, align) {
                    return Err(Trap::UnalignedPointer);
                }
                if !in_bounds(cx.memory.size(), ptr, size) {
                    return Err(Trap::PointerOutOfBounds);
                }
                ptr
            }
        };
        encode_fields(cx, &mut Dst::Memory, values.iter(), types, ptr)?;
        return Ok(flat);
    }
    for (value, &ty) in values.iter().zip(types) {
        lower_flat(cx, value, ty, &mut flat)?;
    }
    Ok(flat)
}
