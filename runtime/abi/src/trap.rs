//! Trap kinds and the trap table.
//!
//! Compiled code traps with a machine trap instruction or a faulting memory access. The
//! compiler records, for every such instruction, its offset in the code, the trap kind and
//! the wasm byte offset of the operator it came from, plus the code range and name of
//! every function. The runtime's signal handler (or exception vector) looks the faulting
//! program counter up here to report `wafer: trap: <kind> in <function> (wasm offset 0x..)`.
//!
//! Format (all integers `u32` little-endian, code offsets relative to the image's code
//! start):
//!
//! ```text
//! magic "WTRP" | function count | trap count | names length
//! functions: start, length, name offset, name length      (sorted by start)
//! traps:     code offset, wasm offset, kind               (sorted by code offset)
//! names:     UTF-8 bytes
//! ```

use crate::bytes::{Reader, read_u32};

/// Why compiled code trapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TrapKind {
    /// `unreachable` executed.
    Unreachable = 1,
    /// A memory access, `memory.init/copy/fill` or data segment outside the memory.
    MemoryOutOfBounds = 2,
    /// `table.get/set/init/copy/fill` or an element segment outside the table.
    TableOutOfBounds = 3,
    /// `call_indirect` with an index outside the table.
    UndefinedElement = 4,
    /// `call_indirect` through a null table entry.
    UninitializedElement = 5,
    /// `call_indirect` to a function of another type.
    IndirectCallTypeMismatch = 6,
    /// Integer division or remainder by zero.
    IntegerDivideByZero = 7,
    /// Integer overflow (`INT_MIN / -1`, float-to-int out of range).
    IntegerOverflow = 8,
    /// Float-to-int conversion of NaN.
    InvalidConversionToInteger = 9,
    /// The native stack ran out.
    StackExhausted = 10,
    /// `call_ref` / `return_call_ref` through a null reference.
    NullFunctionReference = 11,
    /// `ref.as_non_null` or another operation on a null reference.
    NullReference = 12,
    /// An atomic access at an unaligned address.
    UnalignedAtomic = 13,
    /// An exception escaped the entry point.
    UncaughtException = 14,
    /// An imported memory or table is smaller than the importer requires (a link
    /// failure found at instantiation).
    IncompatibleImport = 15,
    /// `throw_ref` of a null exception reference.
    NullExceptionReference = 16,
    /// A call to an imported function nothing provides (built with
    /// `--trap-unknown-imports`).
    UnknownImport = 17,
}

impl TrapKind {
    /// Every trap kind.
    pub const ALL: [TrapKind; 17] = [
        TrapKind::Unreachable,
        TrapKind::MemoryOutOfBounds,
        TrapKind::TableOutOfBounds,
        TrapKind::UndefinedElement,
        TrapKind::UninitializedElement,
        TrapKind::IndirectCallTypeMismatch,
        TrapKind::IntegerDivideByZero,
        TrapKind::IntegerOverflow,
        TrapKind::InvalidConversionToInteger,
        TrapKind::StackExhausted,
        TrapKind::NullFunctionReference,
        TrapKind::NullReference,
        TrapKind::UnalignedAtomic,
        TrapKind::UncaughtException,
        TrapKind::IncompatibleImport,
        TrapKind::NullExceptionReference,
        TrapKind::UnknownImport,
    ];

    /// The kind with this code, if any.
    pub fn from_u8(code: u8) -> Option<TrapKind> {
        TrapKind::ALL
            .iter()
            .copied()
            .find(|kind| *kind as u8 == code)
    }

    /// The message printed for this trap; the WebAssembly spec test suite's wording.
    pub const fn message(self) -> &'static str {
        match self {
            TrapKind::Unreachable => "unreachable executed",
            TrapKind::MemoryOutOfBounds => "out of bounds memory access",
            TrapKind::TableOutOfBounds => "out of bounds table access",
            TrapKind::UndefinedElement => "undefined element",
            TrapKind::UninitializedElement => "uninitialized element",
            TrapKind::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapKind::IntegerDivideByZero => "integer divide by zero",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::InvalidConversionToInteger => "invalid conversion to integer",
            TrapKind::StackExhausted => "call stack exhausted",
            TrapKind::NullFunctionReference => "null function reference",
            TrapKind::NullReference => "null reference",
            TrapKind::UnalignedAtomic => "unaligned atomic",
            TrapKind::UncaughtException => "uncaught exception",
            TrapKind::IncompatibleImport => "incompatible import type",
            TrapKind::NullExceptionReference => "null exception reference",
            TrapKind::UnknownImport => "call to an unknown import",
        }
    }
}

const MAGIC: u32 = u32::from_le_bytes(*b"WTRP");
#[cfg(feature = "alloc")]
const HEADER_LEN: usize = 16;
const FUNCTION_LEN: usize = 16;
const TRAP_LEN: usize = 12;

/// A trap site found in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrapSite {
    /// What trapped.
    pub kind: TrapKind,
    /// Byte offset of the wasm operator in the input module.
    pub wasm_offset: u32,
}

/// A read-only view of a trap table. Never panics, whatever the bytes.
#[derive(Debug, Clone, Copy)]
pub struct TrapTable<'a> {
    functions: &'a [u8],
    traps: &'a [u8],
    names: &'a [u8],
}

impl<'a> TrapTable<'a> {
    /// Parses the table, or `None` if the bytes are not a trap table.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        let mut reader = Reader::new(bytes);
        if reader.u32()? != MAGIC {
            return None;
        }
        let function_count = reader.u32()? as usize;
        let trap_count = reader.u32()? as usize;
        let names_len = reader.u32()? as usize;
        let functions = reader.take(function_count.checked_mul(FUNCTION_LEN)?)?;
        let traps = reader.take(trap_count.checked_mul(TRAP_LEN)?)?;
        let names = reader.take(names_len)?;
        Some(TrapTable {
            functions,
            traps,
            names,
        })
    }

    /// Number of functions described.
    pub fn function_count(&self) -> usize {
        self.functions.len() / FUNCTION_LEN
    }

    /// Number of trap sites.
    pub fn trap_count(&self) -> usize {
        self.traps.len() / TRAP_LEN
    }

    /// The trap recorded at exactly `code_offset`.
    pub fn trap_at(&self, code_offset: u32) -> Option<TrapSite> {
        let index = binary_search(self.traps, TRAP_LEN, self.trap_count(), code_offset)?;
        let base = index * TRAP_LEN;
        if read_u32(self.traps, base)? != code_offset {
            return None;
        }
        let wasm_offset = read_u32(self.traps, base + 4)?;
        let kind = TrapKind::from_u8(read_u32(self.traps, base + 8)? as u8)?;
        Some(TrapSite { kind, wasm_offset })
    }

    /// The name of the function whose code contains `code_offset`.
    pub fn function_name_at(&self, code_offset: u32) -> Option<&'a str> {
        let index = binary_search(
            self.functions,
            FUNCTION_LEN,
            self.function_count(),
            code_offset,
        )?;
        let base = index * FUNCTION_LEN;
        let start = read_u32(self.functions, base)?;
        let len = read_u32(self.functions, base + 4)?;
        if code_offset.checked_sub(start)? >= len {
            return None;
        }
        let name_offset = read_u32(self.functions, base + 8)? as usize;
        let name_len = read_u32(self.functions, base + 12)? as usize;
        let name = self
            .names
            .get(name_offset..name_offset.checked_add(name_len)?)?;
        core::str::from_utf8(name).ok()
    }
}

/// Index of the last record whose first `u32` is `<= key`.
fn binary_search(records: &[u8], record_len: usize, count: usize, key: u32) -> Option<usize> {
    let (mut low, mut high) = (0usize, count);
    while low < high {
        let mid = low + (high - low) / 2;
        if read_u32(records, mid * record_len)? <= key {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    low.checked_sub(1)
}

/// Builds a trap table.
#[cfg(feature = "alloc")]
#[derive(Debug, Default)]
pub struct TrapTableBuilder {
    functions: alloc::vec::Vec<(u32, u32, u32, u32)>,
    traps: alloc::vec::Vec<(u32, u32, TrapKind)>,
    names: alloc::vec::Vec<u8>,
}

#[cfg(feature = "alloc")]
impl TrapTableBuilder {
    /// Records a function occupying `len` bytes from `start`.
    pub fn function(&mut self, start: u32, len: u32, name: &str) {
        let name_offset = self.names.len() as u32;
        self.names.extend_from_slice(name.as_bytes());
        self.functions
            .push((start, len, name_offset, name.len() as u32));
    }

    /// Records a trap site.
    pub fn trap(&mut self, code_offset: u32, wasm_offset: u32, kind: TrapKind) {
        self.traps.push((code_offset, wasm_offset, kind));
    }

    /// Encodes the table, sorting functions and traps by code offset.
    pub fn finish(mut self) -> alloc::vec::Vec<u8> {
        use crate::bytes::push_u32;
        self.functions.sort_unstable_by_key(|f| f.0);
        self.traps.sort_unstable_by_key(|t| t.0);
        let mut out = alloc::vec::Vec::with_capacity(
            HEADER_LEN
                + self.functions.len() * FUNCTION_LEN
                + self.traps.len() * TRAP_LEN
                + self.names.len(),
        );
        push_u32(&mut out, MAGIC);
        push_u32(&mut out, self.functions.len() as u32);
        push_u32(&mut out, self.traps.len() as u32);
        push_u32(&mut out, self.names.len() as u32);
        for (start, len, name_offset, name_len) in &self.functions {
            for field in [*start, *len, *name_offset, *name_len] {
                push_u32(&mut out, field);
            }
        }
        for (code_offset, wasm_offset, kind) in &self.traps {
            push_u32(&mut out, *code_offset);
            push_u32(&mut out, *wasm_offset);
            push_u32(&mut out, *kind as u32);
        }
        out.extend_from_slice(&self.names);
        out
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;

    #[test]
    fn lookups_find_exact_traps_and_enclosing_functions() {
        let mut builder = TrapTableBuilder::default();
        builder.function(64, 32, "second");
        builder.function(0, 48, "first");
        builder.trap(70, 0x99, TrapKind::IntegerDivideByZero);
        builder.trap(10, 0x42, TrapKind::MemoryOutOfBounds);
        let bytes = builder.finish();
        let table = TrapTable::parse(&bytes).unwrap();
        assert_eq!(table.function_count(), 2);
        assert_eq!(table.function_name_at(0), Some("first"));
        assert_eq!(table.function_name_at(47), Some("first"));
        assert_eq!(table.function_name_at(50), None, "gap between functions");
        assert_eq!(table.function_name_at(95), Some("second"));
        assert_eq!(table.function_name_at(96), None);
        assert_eq!(
            table.trap_at(10),
            Some(TrapSite {
                kind: TrapKind::MemoryOutOfBounds,
                wasm_offset: 0x42
            })
        );
        assert_eq!(
            table.trap_at(70).unwrap().kind,
            TrapKind::IntegerDivideByZero
        );
        assert_eq!(table.trap_at(11), None);
        assert_eq!(table.trap_at(5), None);
    }

    #[test]
    fn garbage_never_panics() {
        assert!(TrapTable::parse(&[]).is_none());
        assert!(TrapTable::parse(b"WTRP\xff\xff\xff\xff\0\0\0\0\0\0\0\0").is_none());
        let mut bytes = TrapTableBuilder::default().finish();
        bytes[4] = 1; // claims a function that is not there
        assert!(TrapTable::parse(&bytes).is_none());
    }

    #[test]
    fn every_kind_round_trips_through_its_code() {
        for kind in TrapKind::ALL {
            assert_eq!(TrapKind::from_u8(kind as u8), Some(kind));
            assert!(!kind.message().is_empty());
        }
        assert_eq!(TrapKind::from_u8(0), None);
    }
}
