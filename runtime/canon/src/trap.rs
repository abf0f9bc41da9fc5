//! Why lifting or lowering failed.
//!
//! Most variants are the traps `definitions.py` raises while lifting and lowering
//! values and in the handle table; a few ([`Trap::TypeMismatch`], [`Trap::NoBorrowScope`],
//! [`Trap::Host`]) report a misuse by the embedder instead, where the spec would fail
//! an assertion: this crate never panics on what it is given.
//!
//! Each trap has a stable one-byte [`code`](Trap::code) (never reused) and, for the
//! handle traps, the handle index involved ([`detail`](Trap::detail)). The messages
//! follow wasmtime's wording where the component-model test suite matches on it.

/// A canonical ABI trap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trap {
    /// A UTF-8 string is not valid UTF-8.
    InvalidUtf8,
    /// A UTF-16 string has an unpaired surrogate.
    InvalidUtf16,
    /// A `char` is a surrogate or above U+10FFFF.
    InvalidChar,
    /// A variant, enum, option or result case index is out of range.
    InvalidDiscriminant,
    /// A string, list, argument or result pointer is not aligned for its type.
    UnalignedPointer,
    /// A string's bytes are not all inside the memory.
    StringOutOfBounds,
    /// A list's elements are not all inside the memory.
    ListOutOfBounds,
    /// The arguments or results passed through memory are not all inside it.
    PointerOutOfBounds,
    /// A string is longer than `MAX_STRING_BYTE_LENGTH` bytes (or, lowering, needs an
    /// allocation above `REALLOC_I32_MAX`).
    StringTooLong,
    /// A list is longer than `MAX_LIST_BYTE_LENGTH` bytes (or, lowering, needs an
    /// allocation above `REALLOC_I32_MAX`).
    ListTooLong,
    /// `realloc` returned a pointer not aligned as asked.
    ReallocUnaligned,
    /// `realloc` returned a range not inside the memory.
    ReallocOutOfBounds,
    /// The handle index is not in the table (never allocated, or already removed).
    UnknownHandle(u32),
    /// The handle is of another resource type, or not of the kind expected.
    HandleWrongType(u32),
    /// An `own` handle (or a `borrow` passed on) is lent to a call still running, so it
    /// cannot be moved out or dropped.
    HandleLent(u32),
    /// A `borrow` handle was passed where an `own` one is required.
    NotOwnHandle(u32),
    /// A call returned while borrow handles it was given were still not dropped.
    BorrowsRemain,
    /// The handle table is full (2^28 - 1 entries).
    HandleTableFull,
    /// Embedder error: a value does not match its type, or flat values their core types.
    TypeMismatch,
    /// Embedder error: a borrow was lifted outside a subtask or lowered outside a task.
    NoBorrowScope,
    /// Embedder error: the [`Memory`](crate::Memory) or [`Handles`](crate::Handles)
    /// implementation failed for a reason of its own.
    Host,
}

impl Trap {
    /// The stable code of this trap.
    pub const fn code(self) -> u8 {
        match self {
            Trap::InvalidUtf8 => 1,
            Trap::InvalidUtf16 => 2,
            Trap::InvalidChar => 3,
            Trap::InvalidDiscriminant => 4,
            Trap::UnalignedPointer => 5,
            Trap::StringOutOfBounds => 6,
            Trap::ListOutOfBounds => 7,
            Trap::PointerOutOfBounds => 8,
            Trap::StringTooLong => 9,
            Trap::ListTooLong => 10,
            Trap::ReallocUnaligned => 11,
            Trap::ReallocOutOfBounds => 12,
            Trap::UnknownHandle(_) => 13,
            Trap::HandleWrongType(_) => 14,
            Trap::HandleLent(_) => 15,
            Trap::NotOwnHandle(_) => 16,
            Trap::BorrowsRemain => 17,
            Trap::HandleTableFull => 18,
            Trap::TypeMismatch => 19,
            Trap::NoBorrowScope => 20,
            Trap::Host => 21,
        }
    }

    /// The handle index of a handle trap.
    pub const fn detail(self) -> Option<u32> {
        match self {
            Trap::UnknownHandle(index)
            | Trap::HandleWrongType(index)
            | Trap::HandleLent(index)
            | Trap::NotOwnHandle(index) => Some(index),
            _ => None,
        }
    }

    /// The trap with this code and detail (the detail is ignored by traps without one).
    pub const fn from_code(code: u8, detail: u32) -> Option<Trap> {
        Some(match code {
            1 => Trap::InvalidUtf8,
            2 => Trap::InvalidUtf16,
            3 => Trap::InvalidChar,
            4 => Trap::InvalidDiscriminant,
            5 => Trap::UnalignedPointer,
            6 => Trap::StringOutOfBounds,
            7 => Trap::ListOutOfBounds,
            8 => Trap::PointerOutOfBounds,
            9 => Trap::StringTooLong,
            10 => Trap::ListTooLong,
            11 => Trap::ReallocUnaligned,
            12 => Trap::ReallocOutOfBounds,
            13 => Trap::UnknownHandle(detail),
            14 => Trap::HandleWrongType(detail),
            15 => Trap::HandleLent(detail),
            16 => Trap::NotOwnHandle(detail),
            17 => Trap::BorrowsRemain,
            18 => Trap::HandleTableFull,
            19 => Trap::TypeMismatch,
            20 => Trap::NoBorrowScope,
            21 => Trap::Host,
            _ => return None,
        })
    }

    /// Whether the spec defines this trap (rather than it reporting an embedder error).
    pub const fn is_spec_trap(self) -> bool {
        !matches!(self, Trap::TypeMismatch | Trap::NoBorrowScope | Trap::Host)
    }

    /// The message, without the handle index (see [`detail`](Trap::detail)); a handle
    /// trap's full message is the message followed by the index.
    pub const fn message(self) -> &'static str {
        match self {
            Trap::InvalidUtf8 => "invalid utf-8",
            Trap::InvalidUtf16 => "invalid utf-16",
            Trap::InvalidChar => "invalid `char` bit pattern",
            Trap::InvalidDiscriminant => "invalid variant discriminant",
            Trap::UnalignedPointer => "unaligned pointer",
            Trap::StringOutOfBounds => "string content out-of-bounds",
            Trap::ListOutOfBounds => "list content out-of-bounds",
            Trap::PointerOutOfBounds => "pointer out of bounds of memory",
            Trap::StringTooLong => "string too long",
            Trap::ListTooLong => "list too long",
            Trap::ReallocUnaligned => "realloc return: result not aligned",
            Trap::ReallocOutOfBounds => "realloc return: beyond end of memory",
            Trap::UnknownHandle(_) => "unknown handle index",
            Trap::HandleWrongType(_) => "handle used with the wrong type, index",
            Trap::HandleLent(_) => "cannot remove owned resource while borrowed, index",
            Trap::NotOwnHandle(_) => "borrow handle used where an own handle is required, index",
            Trap::BorrowsRemain => "borrow handles still remain at the end of the call",
            Trap::HandleTableFull => "handle table full",
            Trap::TypeMismatch => "value does not match its type",
            Trap::NoBorrowScope => "borrow handle outside a call",
            Trap::Host => "host failure",
        }
    }

    /// Every trap (handle traps with index 0), in code order.
    pub const ALL: [Trap; 21] = [
        Trap::InvalidUtf8,
        Trap::InvalidUtf16,
        Trap::InvalidChar,
        Trap::InvalidDiscriminant,
        Trap::UnalignedPointer,
        Trap::StringOutOfBounds,
        Trap::ListOutOfBounds,
        Trap::PointerOutOfBounds,
        Trap::StringTooLong,
        Trap::ListTooLong,
        Trap::ReallocUnaligned,
        Trap::ReallocOutOfBounds,
        Trap::UnknownHandle(0),
        Trap::HandleWrongType(0),
        Trap::HandleLent(0),
        Trap::NotOwnHandle(0),
        Trap::BorrowsRemain,
        Trap::HandleTableFull,
        Trap::TypeMismatch,
        Trap::NoBorrowScope,
        Trap::Host,
    ];
}

impl core::fmt::Display for Trap {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.detail() {
            Some(index) => write!(f, "{} {index}", self.message()),
            None => f.write_str(self.message()),
        }
    }
}
