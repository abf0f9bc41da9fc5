//! The type model: an interning arena of component value types.
//!
//! A [`Types`] arena holds [`ValType`]s that refer to their parts by [`TypeId`], an
//! index into the same arena, always of an earlier entry (so types are acyclic by
//! construction). Adding a type that is already there returns its id, so two ids are
//! equal exactly when the types are (resource types compare by [`ResourceId`]). The
//! primitive types are always present, at fixed ids ([`TypeId::BOOL`] ...).
//!
//! Each type's layout (size and alignment for 32- and 64-bit memories, its number of
//! flat core values, its nesting depth) is computed once, when it is added, which is
//! also when the validation rules of the spec are checked: no empty records, tuples,
//! variants, enums or flags; at most 32 flags; fixed-length lists longer than 0; map
//! keys of a key type; no `borrow` inside a `stream` or `future`; every type smaller
//! than 2^28 bytes in a 64-bit memory (which bounds every size and offset); and, a
//! limit of this implementation as of wasmtime's, a nesting depth of at most
//! [`MAX_TYPE_DEPTH`], so that recursive code over types and values is safe.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::{MAX_LIST_BYTE_LENGTH, PtrType, align_to};

/// The deepest a type may nest (a primitive has depth 1).
pub const MAX_TYPE_DEPTH: u32 = 100;

/// The index of a type in its [`Types`] arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeId(u32);

impl TypeId {
    /// `bool`.
    pub const BOOL: TypeId = TypeId(0);
    /// `s8`.
    pub const S8: TypeId = TypeId(1);
    /// `u8`.
    pub const U8: TypeId = TypeId(2);
    /// `s16`.
    pub const S16: TypeId = TypeId(3);
    /// `u16`.
    pub const U16: TypeId = TypeId(4);
    /// `s32`.
    pub const S32: TypeId = TypeId(5);
    /// `u32`.
    pub const U32: TypeId = TypeId(6);
    /// `s64`.
    pub const S64: TypeId = TypeId(7);
    /// `u64`.
    pub const U64: TypeId = TypeId(8);
    /// `f32`.
    pub const F32: TypeId = TypeId(9);
    /// `f64`.
    pub const F64: TypeId = TypeId(10);
    /// `char`.
    pub const CHAR: TypeId = TypeId(11);
    /// `string`.
    pub const STRING: TypeId = TypeId(12);
    /// `error-context`.
    pub const ERROR_CONTEXT: TypeId = TypeId(13);

    /// How many types every arena starts with (the primitives).
    pub const PRIMITIVES: u32 = 14;

    /// The index of this type in its arena.
    pub const fn index(self) -> u32 {
        self.0
    }

    /// The type at `index` (of whichever arena it is used with).
    pub const fn from_index(index: u32) -> TypeId {
        TypeId(index)
    }
}

/// A resource type, numbered by the embedder. Resource types are nominal: two handles
/// have the same resource type exactly when their ids are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId(pub u32);

/// A record field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Field {
    /// Its label.
    pub name: Box<str>,
    /// Its type.
    pub ty: TypeId,
}

/// A variant case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Case {
    /// Its label.
    pub name: Box<str>,
    /// Its payload type, if it has one.
    pub ty: Option<TypeId>,
}

/// A component value type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ValType {
    /// `bool`.
    Bool,
    /// `s8`.
    S8,
    /// `u8`.
    U8,
    /// `s16`.
    S16,
    /// `u16`.
    U16,
    /// `s32`.
    S32,
    /// `u32`.
    U32,
    /// `s64`.
    S64,
    /// `u64`.
    U64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `char`: a Unicode scalar value.
    Char,
    /// `string`.
    String,
    /// `error-context`: an opaque handle.
    ErrorContext,
    /// `list<T>`.
    List(TypeId),
    /// `list<T, N>`: exactly `N` (> 0) elements, laid out and flattened as a tuple.
    FixedList(TypeId, u32),
    /// `record { fields }`.
    Record(Box<[Field]>),
    /// `tuple<T...>`.
    Tuple(Box<[TypeId]>),
    /// `variant { cases }`.
    Variant(Box<[Case]>),
    /// `enum { labels }`.
    Enum(Box<[Box<str>]>),
    /// `option<T>`: cases `none` and `some(T)`.
    Option(TypeId),
    /// `result<T, E>`: cases `ok(T?)` and `error(E?)`.
    Result {
        /// The `ok` payload.
        ok: Option<TypeId>,
        /// The `error` payload.
        err: Option<TypeId>,
    },
    /// `flags { labels }`: at most 32.
    Flags(Box<[Box<str>]>),
    /// `map<K, V>`: a `list<tuple<K, V>>` (the tuple is not added to the arena).
    Map(TypeId, TypeId),
    /// `own<R>`.
    Own(ResourceId),
    /// `borrow<R>`.
    Borrow(ResourceId),
    /// `stream<T>` (or `stream` without elements): an opaque handle.
    Stream(Option<TypeId>),
    /// `future<T>` (or `future` without a value): an opaque handle.
    Future(Option<TypeId>),
}

const PRIMITIVES: [ValType; TypeId::PRIMITIVES as usize] = [
    ValType::Bool,
    ValType::S8,
    ValType::U8,
    ValType::S16,
    ValType::U16,
    ValType::S32,
    ValType::U32,
    ValType::S64,
    ValType::U64,
    ValType::F32,
    ValType::F64,
    ValType::Char,
    ValType::String,
    ValType::ErrorContext,
];

/// Why a type or function type was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeError {
    /// A part refers to a type id not in the arena.
    UnknownType(u32),
    /// A record, tuple, variant, enum or flags type has no fields, cases or labels.
    Empty,
    /// A flags type has more than 32 labels.
    TooManyFlags,
    /// A variant or enum has 2^32 cases or more.
    TooManyCases,
    /// A fixed-length list has length 0.
    ZeroLengthList,
    /// The type takes 2^28 bytes or more in a 64-bit memory.
    TooLarge,
    /// The type nests deeper than [`MAX_TYPE_DEPTH`].
    TooDeep,
    /// A map's key is not a key type (a boolean, integer, `char` or `string`).
    InvalidMapKey,
    /// A `stream` or `future` element type contains a `borrow`.
    BorrowInAsyncValue,
    /// A function result contains a `borrow`.
    BorrowInResult,
    /// The arena has 2^32 types.
    TooManyTypes,
}

impl core::fmt::Display for TypeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TypeError::UnknownType(index) => write!(f, "unknown type index {index}"),
            TypeError::Empty => f.write_str("record, tuple, variant, enum or flags is empty"),
            TypeError::TooManyFlags => f.write_str("flags has more than 32 labels"),
            TypeError::TooManyCases => f.write_str("variant has 2^32 cases or more"),
            TypeError::ZeroLengthList => f.write_str("fixed-length list has length 0"),
            TypeError::TooLarge => f.write_str("type exceeds maximum byte size (2^28 - 1)"),
            TypeError::TooDeep => write!(f, "type nests deeper than {MAX_TYPE_DEPTH}"),
            TypeError::InvalidMapKey => f.write_str("map key is not a key type"),
            TypeError::BorrowInAsyncValue => f.write_str("stream or future contains a borrow"),
            TypeError::BorrowInResult => f.write_str("function result contains a borrow"),
            TypeError::TooManyTypes => f.write_str("too many types"),
        }
    }
}

/// Properties of a type, as bits.
pub(crate) mod props {
    /// Contains a `borrow`.
    pub const BORROW: u8 = 1;
    /// Contains a `stream` or `future`.
    pub const ASYNC: u8 = 2;
    /// Contains a `string` or variable-length list: lifting reads memory beyond the
    /// value, lowering calls `realloc`.
    pub const INDIRECT: u8 = 4;
}

/// What adding a type computes once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Info {
    /// Size in bytes, for 32- and 64-bit memories.
    pub size: [u32; 2],
    /// Alignment in bytes, likewise.
    pub align: [u8; 2],
    /// Variants: the offset of the payload from the discriminant, likewise.
    pub payload_offset: [u32; 2],
    /// Number of flat core values.
    pub flat: u32,
    /// Nesting depth (a primitive is 1).
    pub depth: u8,
    /// [`props`] bits.
    pub props: u8,
}

impl Info {
    const fn scalar(size: u32, ptr_sized: bool, props: u8) -> Info {
        let (size, align) = if ptr_sized {
            ([2 * 4, 2 * 8], [4, 8])
        } else {
            ([size, size], [size as u8, size as u8])
        };
        Info {
            size,
            align,
            payload_offset: [0, 0],
            flat: if ptr_sized { 2 } else { 1 },
            depth: 1,
            props,
        }
    }
}

/// The slot of layouts for a pointer type.
pub(crate) const fn slot(ptr: PtrType) -> usize {
    match ptr {
        PtrType::I32 => 0,
        PtrType::I64 => 1,
    }
}

/// Bytes of the discriminant of a variant with `cases` cases.
pub const fn discriminant_size(cases: usize) -> u32 {
    if cases <= 1 << 8 {
        1
    } else if cases <= 1 << 16 {
        2
    } else {
        4
    }
}

/// Bytes (and alignment) of a flags type with `labels` labels (at most 32).
pub const fn flags_size(labels: usize) -> u32 {
    if labels <= 8 {
        1
    } else if labels <= 16 {
        2
    } else {
        4
    }
}

/// An arena of component value types. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Types {
    defs: Vec<ValType>,
    info: Vec<Info>,
    interned: BTreeMap<ValType, TypeId>,
}

impl Default for Types {
    fn default() -> Self {
        Types::new()
    }
}

impl PartialEq for Types {
    fn eq(&self, other: &Types) -> bool {
        self.defs == other.defs
    }
}

impl Eq for Types {}

impl Types {
    /// An arena holding only the primitive types.
    pub fn new() -> Types {
        let mut types = Types {
            defs: Vec::new(),
            info: Vec::new(),
            interned: BTreeMap::new(),
        };
        for (index, ty) in PRIMITIVES.iter().enumerate() {
            let info = match ty {
                ValType::Bool | ValType::S8 | ValType::U8 => Info::scalar(1, false, 0),
                ValType::S16 | ValType::U16 => Info::scalar(2, false, 0),
                ValType::S32 | ValType::U32 | ValType::F32 | ValType::Char => {
                    Info::scalar(4, false, 0)
                }
                ValType::S64 | ValType::U64 | ValType::F64 => Info::scalar(8, false, 0),
                ValType::String => Info::scalar(0, true, props::INDIRECT),
                _ => Info::scalar(4, false, 0),
            };
            types.defs.push(ty.clone());
            types.info.push(info);
            types.interned.insert(ty.clone(), TypeId(index as u32));
        }
        types
    }

    /// Adds `ty` (or finds it, if it is already there) and returns its id.
    pub fn add(&mut self, ty: ValType) -> Result<TypeId, TypeError> {
        if let Some(&id) = self.interned.get(&ty) {
            return Ok(id);
        }
        let info = self.compute(&ty)?;
        let id = TypeId(u32::try_from(self.defs.len()).map_err(|_| TypeError::TooManyTypes)?);
        self.defs.push(ty.clone());
        self.info.push(info);
        self.interned.insert(ty, id);
        Ok(id)
    }

    /// The type with this id.
    ///
    /// # Panics
    ///
    /// If `id` is not from this arena (ids from [`add`](Types::add) and the decoders
    /// always are).
    pub fn get(&self, id: TypeId) -> &ValType {
        &self.defs[id.0 as usize]
    }

    /// The type with this id, if there is one.
    pub fn try_get(&self, id: TypeId) -> Option<&ValType> {
        self.defs.get(id.0 as usize)
    }

    /// The id `ty` has, if it is in the arena.
    pub fn find(&self, ty: &ValType) -> Option<TypeId> {
        self.interned.get(ty).copied()
    }

    /// How many types the arena holds, primitives included.
    pub fn len(&self) -> usize {
        self.defs.len()
    }

    /// Always false: the primitives are always there.
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    /// Every type with its id, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (TypeId, &ValType)> {
        self.defs
            .iter()
            .enumerate()
            .map(|(index, ty)| (TypeId(index as u32), ty))
    }

    pub(crate) fn info(&self, id: TypeId) -> &Info {
        &self.info[id.0 as usize]
    }

    /// `elem_size`: the bytes a value of the type takes in memory.
    pub fn size(&self, id: TypeId, ptr: PtrType) -> u32 {
        self.info(id).size[slot(ptr)]
    }

    /// `alignment`: the alignment of a value of the type in memory.
    pub fn alignment(&self, id: TypeId, ptr: PtrType) -> u32 {
        u32::from(self.info(id).align[slot(ptr)])
    }

    /// The number of flat core values of the type (the length of
    /// [`flatten`](Types::flatten), for either pointer type).
    pub fn flat_count(&self, id: TypeId) -> u32 {
        self.info(id).flat
    }

    /// The nesting depth of the type (a primitive is 1).
    pub fn depth(&self, id: TypeId) -> u32 {
        u32::from(self.info(id).depth)
    }

    /// `contains_borrow`.
    pub fn contains_borrow(&self, id: TypeId) -> bool {
        self.info(id).props & props::BORROW != 0
    }

    /// `contains_async_value`: whether the type contains a `stream` or `future`.
    pub fn contains_async_value(&self, id: TypeId) -> bool {
        self.info(id).props & props::ASYNC != 0
    }

    /// Whether values of the type point elsewhere in memory (it contains a `string` or a
    /// variable-length list): lowering it needs `realloc`, lifting it `memory`.
    pub fn is_indirect(&self, id: TypeId) -> bool {
        self.info(id).props & props::INDIRECT != 0
    }

    /// Checks that `id` is in the arena.
    fn known(&self, id: TypeId) -> Result<&Info, TypeError> {
        self.info
            .get(id.0 as usize)
            .ok_or(TypeError::UnknownType(id.0))
    }

    /// Validates `ty` and computes its layout.
    fn compute(&mut self, ty: &ValType) -> Result<Info, TypeError> {
        let info = match ty {
            ValType::Bool
            | ValType::S8
            | ValType::U8
            | ValType::S16
            | ValType::U16
            | ValType::S32
            | ValType::U32
            | ValType::S64
            | ValType::U64
            | ValType::F32
            | ValType::F64
            | ValType::Char
            | ValType::String
            | ValType::ErrorContext => {
                // Interned by `new`; unreachable through `add`, kept total.
                return Ok(*self.info(self.interned[ty]));
            }
            ValType::List(elem) => {
                let elem = *self.known(*elem)?;
                Info {
                    depth: elem.depth.saturating_add(1),
                    props: elem.props | props::INDIRECT,
                    ..Info::scalar(0, true, 0)
                }
            }
            ValType::Map(key, value) => {
                let key_type = self.try_get(*key).ok_or(TypeError::UnknownType(key.0))?;
                if !is_key_type(key_type) {
                    return Err(TypeError::InvalidMapKey);
                }
                let key = *self.known(*key)?;
                let value = *self.known(*value)?;
                // Its elements are `tuple<K, V>`s, which need not be in the arena (nor
                // within the size bound: only the map itself is a `defvaltype`).
                Info {
                    depth: key.depth.max(value.depth).saturating_add(1),
                    props: key.props | value.props | props::INDIRECT,
                    ..Info::scalar(0, true, 0)
                }
            }
            ValType::FixedList(elem, len) => {
                if *len == 0 {
                    return Err(TypeError::ZeroLengthList);
                }
                let elem = *self.known(*elem)?;
                let mut size = [0; 2];
                for (slot, size) in size.iter_mut().enumerate() {
                    *size = bounded(u64::from(elem.size[slot]) * u64::from(*len))?;
                }
                Info {
                    size,
                    align: elem.align,
                    payload_offset: [0, 0],
                    flat: elem.flat.saturating_mul(*len),
                    depth: elem.depth.saturating_add(1),
                    props: elem.props,
                }
            }
            ValType::Record(fields) => self.record_info(fields.iter().map(|field| field.ty))?,
            ValType::Tuple(elems) => self.record_info(elems.iter().copied())?,
            ValType::Variant(cases) => {
                self.variant_info(cases.len(), cases.iter().map(|case| case.ty))?
            }
            ValType::Enum(labels) => self.variant_info(labels.len(), core::iter::empty())?,
            ValType::Option(some) => self.variant_info(2, [None, Some(*some)].into_iter())?,
            ValType::Result { ok, err } => self.variant_info(2, [*ok, *err].into_iter())?,
            ValType::Flags(labels) => {
                if labels.is_empty() {
                    return Err(TypeError::Empty);
                }
                if labels.len() > 32 {
                    return Err(TypeError::TooManyFlags);
                }
                let size = flags_size(labels.len());
                Info::scalar(size, false, 0)
            }
            ValType::Own(_) => Info::scalar(4, false, 0),
            ValType::Borrow(_) => Info::scalar(4, false, props::BORROW),
            ValType::Stream(elem) | ValType::Future(elem) => {
                let mut info = Info::scalar(4, false, props::ASYNC);
                if let Some(elem) = elem {
                    let elem = *self.known(*elem)?;
                    if elem.props & props::BORROW != 0 {
                        return Err(TypeError::BorrowInAsyncValue);
                    }
                    // What the element holds is behind the handle, not in the value:
                    // only the depth carries over.
                    info.depth = elem.depth.saturating_add(1);
                }
                info
            }
        };
        if u32::from(info.depth) > MAX_TYPE_DEPTH {
            return Err(TypeError::TooDeep);
        }
        Ok(info)
    }

    /// The layout of a record (or tuple) with fields of these types.
    fn record_info(&self, fields: impl Iterator<Item = TypeId> + Clone) -> Result<Info, TypeError> {
        let mut info = Info {
            size: [0, 0],
            align: [1, 1],
            payload_offset: [0, 0],
            flat: 0,
            depth: 0,
            props: 0,
        };
        let mut any = false;
        for field in fields {
            any = true;
            let field = self.known(field)?;
            for slot in 0..2 {
                let offset = align_to(u64::from(info.size[slot]), u32::from(field.align[slot]));
                info.size[slot] = bounded(offset + u64::from(field.size[slot]))?;
                info.align[slot] = info.align[slot].max(field.align[slot]);
            }
            info.flat = info.flat.saturating_add(field.flat);
            info.depth = info.depth.max(field.depth);
            info.props |= field.props;
        }
        if !any {
            return Err(TypeError::Empty);
        }
        for slot in 0..2 {
            info.size[slot] = bounded(align_to(
                u64::from(info.size[slot]),
                u32::from(info.align[slot]),
            ))?;
        }
        info.depth = info.depth.saturating_add(1);
        Ok(info)
    }

    /// The layout of a variant with `count` cases with these payloads (`payloads` may
    /// list fewer than `count`: the rest have none).
    fn variant_info(
        &self,
        count: usize,
        payloads: impl Iterator<Item = Option<TypeId>>,
    ) -> Result<Info, TypeError> {
        if count == 0 {
            return Err(TypeError::Empty);
        }
        if u32::try_from(count).is_err() {
            return Err(TypeError::TooManyCases);
        }
        let discriminant = discriminant_size(count);
        let mut case_align = [1u8; 2];
        let mut case_size = [0u32; 2];
        let mut case_flat = 0;
        let mut depth = 0;
        let mut props = 0;
        for payload in payloads.flatten() {
            let payload = self.known(payload)?;
            for slot in 0..2 {
                case_align[slot] = case_align[slot].max(payload.align[slot]);
                case_size[slot] = case_size[slot].max(payload.size[slot]);
            }
            case_flat = case_flat.max(payload.flat);
            depth = depth.max(payload.depth);
            props |= payload.props;
        }
        let mut info = Info {
            size: [0, 0],
            align: [0, 0],
            payload_offset: [0, 0],
            flat: case_flat.saturating_add(1),
            depth: depth.saturating_add(1),
            props,
        };
        for slot in 0..2 {
            let offset = align_to(u64::from(discriminant), u32::from(case_align[slot]));
            let align = case_align[slot].max(discriminant as u8);
            info.payload_offset[slot] = bounded(offset)?;
            info.size[slot] = bounded(align_to(
                offset + u64::from(case_size[slot]),
                u32::from(align),
            ))?;
            info.align[slot] = align;
        }
        Ok(info)
    }
}

/// `size` if it is within the bound validation puts on type sizes.
fn bounded(size: u64) -> Result<u32, TypeError> {
    if size > MAX_LIST_BYTE_LENGTH {
        return Err(TypeError::TooLarge);
    }
    Ok(size as u32)
}

/// Whether `ty` may be a map key.
fn is_key_type(ty: &ValType) -> bool {
    matches!(
        ty,
        ValType::Bool
            | ValType::S8
            | ValType::U8
            | ValType::S16
            | ValType::U16
            | ValType::S32
            | ValType::U32
            | ValType::S64
            | ValType::U64
            | ValType::Char
            | ValType::String
    )
}

/// A component function type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FuncType {
    /// The parameter types, in order.
    pub params: Vec<TypeId>,
    /// The result types (the binary format allows at most one).
    pub results: Vec<TypeId>,
    /// Whether the function type is `async`.
    pub is_async: bool,
}

impl FuncType {
    /// Checks that every type is in `types` and no result contains a `borrow`.
    pub fn validate(&self, types: &Types) -> Result<(), TypeError> {
        for &param in &self.params {
            types.known(param)?;
        }
        for &result in &self.results {
            if types.known(result)?.props & props::BORROW != 0 {
                return Err(TypeError::BorrowInResult);
            }
        }
        Ok(())
    }
}
