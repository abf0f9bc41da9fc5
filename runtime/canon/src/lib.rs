//! The Component Model canonical ABI.
//!
//! One implementation of the rules in the component-model repository's
//! `design/mvp/CanonicalABI.md` (and its executable twin `definitions.py`) for every part
//! of wafer that handles component values: the compiler (type layouts, core signatures),
//! the runtime (lifting and lowering values for host functions) and the fuzzers.
//!
//! * [`types`]: the type model, an interning arena [`Types`] of [`ValType`]s addressed by
//!   [`TypeId`], with each type's layout computed once when it is added;
//! * [`layout`]: `size`, `alignment`, `flatten`, `despecialize` and the core signatures
//!   of `canon lift` / `canon lower` ([`flatten_functype`]);
//! * [`val`]: component values ([`Val`], [`Str`]);
//! * [`mod@load`], [`mod@store`], [`flat`]: lifting and lowering between values and linear
//!   memory (through the [`Memory`] trait) or flat core values ([`FlatVal`]);
//! * [`string`]: loading and storing strings in the three encodings, with the spec's
//!   exact sequence of `realloc` calls;
//! * [`handles`]: the [`Handles`] interface lifting and lowering goes through for
//!   resource, stream, future and error-context handles, and the reference
//!   per-instance [`HandleTable`];
//! * [`trap`]: every trap lifting and lowering can raise ([`Trap`]), with stable codes;
//! * [`encode`]: versioned binary encodings of a type arena with its function types and
//!   of values, decoded without panicking on any input;
//! * [`text`]: a WIT-like text syntax for types, for tests and messages.
//!
//! `no_std` with `alloc`, no dependencies and no unsafe code: memory is reached only
//! through [`Memory`], so the same code serves a host-side byte vector and a guest's
//! linear memory.
//!
//! Not covered: the asynchronous machinery (tasks, waitables, copying streams and
//! futures); their types, layouts and flat forms are, and their handles are opaque
//! values passed to [`Handles`].

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod encode;
pub mod flat;
pub mod handles;
pub mod layout;
pub mod load;
pub mod memory;
pub mod store;
pub mod string;
pub mod text;
pub mod trap;
pub mod types;
pub mod val;

pub use flat::{FlatReader, FlatVal, lift_flat, lift_flat_values, lower_flat, lower_flat_values};
pub use handles::{
    AsyncKind, Dropped, HandleTable, Handles, NoHandles, OpaqueKind, SubtaskId, TaskId,
};
pub use layout::{CoreFuncType, CoreType, FuncContext, flatten_functype};
pub use load::load;
pub use memory::{Memory, ReallocCall, VecMemory};
pub use store::store;
pub use trap::Trap;
pub use types::{Case, Field, FuncType, ResourceId, TypeError, TypeId, Types, ValType};
pub use val::{Str, StrOrigin, Val};

/// The most flat core values a function's parameters may use before they are passed in
/// linear memory instead (through one pointer).
pub const MAX_FLAT_PARAMS: usize = 16;
/// The most flat core values the parameters of an `async`-lowered function may use.
pub const MAX_FLAT_ASYNC_PARAMS: usize = 4;
/// The most flat core values a function's results may use before they are returned in
/// linear memory instead.
pub const MAX_FLAT_RESULTS: usize = 1;
/// The most flat results of an `async`-lowered function (all go through memory).
pub const MAX_FLAT_ASYNC_RESULTS: usize = 0;
/// The largest string, in bytes, lifting accepts: small enough that any transcoding of
/// it fits a 32-bit `realloc`.
pub const MAX_STRING_BYTE_LENGTH: u64 = (1 << 28) - 1;
/// The largest list, in bytes, lifting accepts; also the bound validation puts on every
/// type's size.
pub const MAX_LIST_BYTE_LENGTH: u64 = (1 << 28) - 1;
/// The largest size a `realloc` call may be asked for: lowering a value that would need
/// more traps, even into a 64-bit memory, so that 32-bit components can take it.
pub const REALLOC_I32_MAX: u64 = (1 << 32) - 1;

/// The address type of a linear memory: pointers and lengths are this wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum PtrType {
    /// A 32-bit memory.
    #[default]
    I32,
    /// A 64-bit memory (memory64).
    I64,
}

impl PtrType {
    /// Bytes in a pointer.
    pub const fn size(self) -> u32 {
        match self {
            PtrType::I32 => 4,
            PtrType::I64 => 8,
        }
    }

    /// The core value type of a pointer.
    pub const fn core_type(self) -> CoreType {
        match self {
            PtrType::I32 => CoreType::I32,
            PtrType::I64 => CoreType::I64,
        }
    }

    /// The bit of a `latin1+utf16` string's length that says it is UTF-16: the top bit
    /// of a pointer-sized integer.
    pub const fn utf16_tag(self) -> u64 {
        1 << (self.size() * 8 - 1)
    }

    /// The largest pointer value.
    pub const fn max(self) -> u64 {
        match self {
            PtrType::I32 => u32::MAX as u64,
            PtrType::I64 => u64::MAX,
        }
    }
}

/// The `string-encoding` canonical option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum StringEncoding {
    /// UTF-8; lengths count bytes.
    #[default]
    Utf8,
    /// UTF-16 little-endian; lengths count 16-bit code units.
    Utf16,
    /// Latin-1 or UTF-16, chosen per string: the top bit of the length says UTF-16.
    Latin1Utf16,
}

/// The canonical options that shape lifting, lowering and core signatures (the memory
/// and `realloc` themselves are the [`Memory`] of a [`Cx`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// `string-encoding`.
    pub string_encoding: StringEncoding,
    /// The address type of `memory` (and of `realloc`'s parameters).
    pub ptr_type: PtrType,
    /// `async`.
    pub is_async: bool,
    /// Whether a `callback` is given (only with `async` on `canon lift`).
    pub callback: bool,
}

/// What lifting and lowering work with: the types, the canonical options, the memory
/// (with its `realloc`) and the instance's handles.
pub struct Cx<'a> {
    /// The arena the type ids refer to.
    pub types: &'a Types,
    /// The canonical options.
    pub options: Options,
    /// The linear memory and its `realloc`.
    pub memory: &'a mut dyn Memory,
    /// Handle lifting and lowering for the current call.
    pub handles: &'a mut dyn Handles,
}

impl core::fmt::Debug for Cx<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Cx")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Cx<'_> {
    /// The pointer type of the memory.
    pub(crate) fn ptr(&self) -> PtrType {
        self.options.ptr_type
    }

    /// Calls `realloc`, as `LiftLowerContext.reallocate` does.
    pub(crate) fn reallocate(
        &mut self,
        old_ptr: u64,
        old_size: u64,
        align: u32,
        new_size: u64,
    ) -> Result<u64, Trap> {
        let ptr = self
            .memory
            .realloc(old_ptr, old_size, u64::from(align), new_size)?;
        // A pointer the memory cannot hold is beyond its end (only possible for an
        // empty allocation at the very end of a full 4 GiB memory).
        if ptr > self.ptr().max() {
            return Err(Trap::ReallocOutOfBounds);
        }
        Ok(ptr)
    }

    /// Calls `realloc` for a fresh allocation.
    pub(crate) fn allocate(&mut self, align: u32, size: u64) -> Result<u64, Trap> {
        self.reallocate(0, 0, align, size)
    }
}

/// Rounds `offset` up to a multiple of `align`, which must be a power of two (and the
/// result must fit 64 bits).
pub const fn align_to(offset: u64, align: u32) -> u64 {
    let mask = align as u64 - 1;
    (offset + mask) & !mask
}

/// Whether `[ptr, ptr + len)` lies inside a memory of `size` bytes (no wrap-around).
pub(crate) fn in_bounds(size: u64, ptr: u64, len: u64) -> bool {
    ptr.checked_add(len).is_some_and(|end| end <= size)
}

/// Whether `ptr` is a multiple of `align`.
pub(crate) fn is_aligned(ptr: u64, align: u32) -> bool {
    ptr & (u64::from(align) - 1) == 0
}
