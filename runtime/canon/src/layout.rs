//! Despecialization, flattening and the core signatures of lifted and lowered functions.
//!
//! Sizes and alignments live with each type (see [`Types::size`], [`Types::alignment`]);
//! this module adds the views and computations built on them.

use alloc::vec::Vec;

use crate::types::{Case, Field, FuncType, TypeId, Types, ValType};
use crate::{MAX_FLAT_ASYNC_PARAMS, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, Options, PtrType, align_to};

/// A core WebAssembly value type, as flat values use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoreType {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
}

impl CoreType {
    /// The narrowest type both `a` and `b` can be bit-cast or zero-extended into: how a
    /// variant's cases share flat slots.
    pub const fn join(a: CoreType, b: CoreType) -> CoreType {
        match (a, b) {
            (CoreType::I32, CoreType::I32) => CoreType::I32,
            (CoreType::I64, CoreType::I64) => CoreType::I64,
            (CoreType::F32, CoreType::F32) => CoreType::F32,
            (CoreType::F64, CoreType::F64) => CoreType::F64,
            (CoreType::I32, CoreType::F32) | (CoreType::F32, CoreType::I32) => CoreType::I32,
            _ => CoreType::I64,
        }
    }
}

/// A core function type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CoreFuncType {
    /// Parameter types.
    pub params: Vec<CoreType>,
    /// Result types.
    pub results: Vec<CoreType>,
}

/// Which side of a component function a core signature is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FuncContext {
    /// `canon lift`: the core function implementing a component export.
    Lift,
    /// `canon lower`: the core function a component import becomes.
    Lower,
}

/// A type as `despecialize` leaves it: every specialized type (tuple, enum, option,
/// result) is shown as the fundamental type it stands for. A map stands for a list of
/// `tuple<K, V>`, a type without an id of its own, so it is shown as such a list by its
/// key and value types.
#[derive(Debug, Clone, Copy)]
pub enum Despecialized<'a> {
    /// A type despecialization leaves alone and that is neither a list, a record nor a
    /// variant: a primitive, `string`, `flags`, a handle, `stream`, `future` or
    /// `error-context`.
    Other(&'a ValType),
    /// A list (`list<T>` or `list<T, N>`).
    List {
        /// The element type.
        elem: TypeId,
        /// The length, if fixed.
        len: Option<u32>,
    },
    /// A `map<K, V>`: a variable-length list of `tuple<K, V>`.
    Map {
        /// The key type.
        key: TypeId,
        /// The value type.
        value: TypeId,
    },
    /// A record or tuple.
    Record(Fields<'a>),
    /// A variant, enum, option or result.
    Variant(Cases<'a>),
}

/// The fields of a despecialized record.
#[derive(Debug, Clone, Copy)]
pub enum Fields<'a> {
    /// A record's fields.
    Named(&'a [Field]),
    /// A tuple's elements (fields `0`, `1`, ...).
    Unnamed(&'a [TypeId]),
}

impl<'a> Fields<'a> {
    /// Number of fields.
    pub fn len(self) -> usize {
        match self {
            Fields::Named(fields) => fields.len(),
            Fields::Unnamed(elems) => elems.len(),
        }
    }

    /// Whether there are none (never, for a valid type).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The field types, in order.
    pub fn iter(self) -> impl ExactSizeIterator<Item = TypeId> + Clone + 'a {
        let (named, unnamed): (&[Field], &[TypeId]) = match self {
            Fields::Named(fields) => (fields, &[]),
            Fields::Unnamed(elems) => (&[], elems),
        };
        FieldIter {
            named: named.iter(),
            unnamed: unnamed.iter(),
        }
    }
}

#[derive(Clone)]
struct FieldIter<'a> {
    named: core::slice::Iter<'a, Field>,
    unnamed: core::slice::Iter<'a, TypeId>,
}

impl Iterator for FieldIter<'_> {
    type Item = TypeId;

    fn next(&mut self) -> Option<TypeId> {
        match self.named.next() {
            Some(field) => Some(field.ty),
            None => self.unnamed.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = self.named.len() + self.unnamed.len();
        (len, Some(len))
    }
}

impl ExactSizeIterator for FieldIter<'_> {}

/// The cases of a despecialized variant.
#[derive(Debug, Clone, Copy)]
pub enum Cases<'a> {
    /// A variant's cases.
    Named(&'a [Case]),
    /// An enum with this many cases, none with a payload.
    Enum(usize),
    /// An option: `none`, `some(T)`.
    Option(TypeId),
    /// A result: `ok(T?)`, `error(E?)`.
    Result(Option<TypeId>, Option<TypeId>),
}

impl Cases<'_> {
    /// Number of cases.
    pub fn len(self) -> usize {
        match self {
            Cases::Named(cases) => cases.len(),
            Cases::Enum(count) => count,
            Cases::Option(_) | Cases::Result(..) => 2,
        }
    }

    /// Whether there are none (never, for a valid type).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The payload type of case `index` (none also for an index out of range).
    pub fn payload(self, index: usize) -> Option<TypeId> {
        match self {
            Cases::Named(cases) => cases.get(index).and_then(|case| case.ty),
            Cases::Enum(_) => None,
            Cases::Option(some) => (index == 1).then_some(some),
            Cases::Result(ok, err) => match index {
                0 => ok,
                1 => err,
                _ => None,
            },
        }
    }
}

impl Types {
    /// `despecialize`: the fundamental type `id` stands for.
    pub fn despecialize(&self, id: TypeId) -> Despecialized<'_> {
        match self.get(id) {
            ValType::List(elem) => Despecialized::List {
                elem: *elem,
                len: None,
            },
            ValType::FixedList(elem, len) => Despecialized::List {
                elem: *elem,
                len: Some(*len),
            },
            ValType::Map(key, value) => Despecialized::Map {
                key: *key,
                value: *value,
            },
            ValType::Record(fields) => Despecialized::Record(Fields::Named(fields)),
            ValType::Tuple(elems) => Despecialized::Record(Fields::Unnamed(elems)),
            ValType::Variant(cases) => Despecialized::Variant(Cases::Named(cases)),
            ValType::Enum(labels) => Despecialized::Variant(Cases::Enum(labels.len())),
            ValType::Option(some) => Despecialized::Variant(Cases::Option(*some)),
            ValType::Result { ok, err } => Despecialized::Variant(Cases::Result(*ok, *err)),
            other => Despecialized::Other(other),
        }
    }

    /// For a variant-like type, the offset of its payload from its start.
    pub fn payload_offset(&self, id: TypeId, ptr: PtrType) -> u32 {
        self.info(id).payload_offset[crate::types::slot(ptr)]
    }

    /// `flatten_type`: the flat core types of `id`. As long as
    /// [`flat_count`](Types::flat_count) says (up to 2^28 for a long fixed-length list).
    pub fn flatten(&self, id: TypeId, ptr: PtrType) -> Vec<CoreType> {
        let mut out = Vec::new();
        self.flatten_into(id, ptr, &mut out);
        out
    }

    /// `flatten_types`: the flat core types of several types, one after the other.
    pub fn flatten_types(&self, ids: &[TypeId], ptr: PtrType) -> Vec<CoreType> {
        let mut out = Vec::new();
        for &id in ids {
            self.flatten_into(id, ptr, &mut out);
        }
        out
    }

    /// The number of flat core values of several types.
    pub fn flat_count_of(&self, ids: &[TypeId]) -> u64 {
        ids.iter().map(|&id| u64::from(self.flat_count(id))).sum()
    }

    /// Appends the flat core types of `id` to `out`.
    pub fn flatten_into(&self, id: TypeId, ptr: PtrType, out: &mut Vec<CoreType>) {
        match self.despecialize(id) {
            Despecialized::Other(ty) => match ty {
                ValType::S64 | ValType::U64 => out.push(CoreType::I64),
                ValType::F32 => out.push(CoreType::F32),
                ValType::F64 => out.push(CoreType::F64),
                ValType::String => {
                    out.push(ptr.core_type());
                    out.push(ptr.core_type());
                }
                _ => out.push(CoreType::I32),
            },
            Despecialized::List {
                elem,
                len: Some(len),
            } => {
                let start = out.len();
                self.flatten_into(elem, ptr, out);
                let elem_flat = out.len() - start;
                for _ in 1..len {
                    out.extend_from_within(start..start + elem_flat);
                }
            }
            Despecialized::List { len: None, .. } | Despecialized::Map { .. } => {
                out.push(ptr.core_type());
                out.push(ptr.core_type());
            }
            Despecialized::Record(fields) => {
                for field in fields.iter() {
                    self.flatten_into(field, ptr, out);
                }
            }
            Despecialized::Variant(cases) => {
                out.push(CoreType::I32);
                let payload_start = out.len();
                let mut case_flat = Vec::new();
                for index in 0..cases.len() {
                    let Some(payload) = cases.payload(index) else {
                        continue;
                    };
                    case_flat.clear();
                    self.flatten_into(payload, ptr, &mut case_flat);
                    for (slot, &ty) in case_flat.iter().enumerate() {
                        match out.get_mut(payload_start + slot) {
                            Some(joined) => *joined = CoreType::join(*joined, ty),
                            None => out.push(ty),
                        }
                    }
                }
            }
        }
    }

    /// The size and alignment of a tuple of these types (how parameters or results
    /// passed through memory are laid out).
    pub fn tuple_layout(&self, ids: &[TypeId], ptr: PtrType) -> (u64, u32) {
        let mut size = 0;
        let mut align = 1;
        for &id in ids {
            let field_align = self.alignment(id, ptr);
            size = align_to(size, field_align) + u64::from(self.size(id, ptr));
            align = align.max(field_align);
        }
        (align_to(size, align), align)
    }
}

/// `flatten_functype`: the core signature of `ft` lifted (`canon lift`) or lowered
/// (`canon lower`) with `options`.
///
/// Parameters beyond [`MAX_FLAT_PARAMS`] (or [`MAX_FLAT_ASYNC_PARAMS`] for an `async`
/// lower) become one pointer to them in memory. Results beyond [`MAX_FLAT_RESULTS`]
/// become a returned pointer when lifting, and a pointer parameter to write them to when
/// lowering; an `async` lower passes any results that way and returns the subtask state,
/// an `async` lift returns nothing, or a callback code if it has a callback.
pub fn flatten_functype(
    types: &Types,
    ft: &FuncType,
    options: &Options,
    context: FuncContext,
) -> CoreFuncType {
    let ptr = options.ptr_type.core_type();
    let param_count = types.flat_count_of(&ft.params);
    let result_count = types.flat_count_of(&ft.results);
    let max_params = if options.is_async && context == FuncContext::Lower {
        MAX_FLAT_ASYNC_PARAMS
    } else {
        MAX_FLAT_PARAMS
    };
    let mut params = if param_count > max_params as u64 {
        alloc::vec![ptr]
    } else {
        types.flatten_types(&ft.params, options.ptr_type)
    };
    let results = if !options.is_async {
        if result_count > MAX_FLAT_RESULTS as u64 {
            match context {
                FuncContext::Lift => alloc::vec![ptr],
                FuncContext::Lower => {
                    params.push(ptr);
                    Vec::new()
                }
            }
        } else {
            types.flatten_types(&ft.results, options.ptr_type)
        }
    } else {
        match context {
            FuncContext::Lift if options.callback => alloc::vec![CoreType::I32],
            FuncContext::Lift => Vec::new(),
            FuncContext::Lower => {
                if result_count > 0 {
                    params.push(ptr);
                }
                alloc::vec![CoreType::I32]
            }
        }
    };
    CoreFuncType { params, results }
}
