//! Helpers shared by the tests.

use wafer_canon::{
    Cx, FlatReader, FlatVal, HandleTable, Handles, Memory, Options, PtrType, StringEncoding, Trap,
    TypeId, Types, Val, VecMemory, lift_flat, load, lower_flat, store,
};

/// Parses a type, panicking with the error if it does not parse.
pub fn parse(types: &mut Types, text: &str) -> TypeId {
    types
        .parse(text)
        .unwrap_or_else(|error| panic!("{text}: {error}"))
}

/// Options for a memory of pointer type `ptr_type` holding strings as `encoding`.
pub fn options(ptr_type: PtrType, encoding: StringEncoding) -> Options {
    Options {
        string_encoding: encoding,
        ptr_type,
        ..Options::default()
    }
}

/// Every pointer type.
pub const PTRS: [PtrType; 2] = [PtrType::I32, PtrType::I64];

/// Every string encoding.
pub const ENCODINGS: [StringEncoding; 3] = [
    StringEncoding::Utf8,
    StringEncoding::Utf16,
    StringEncoding::Latin1Utf16,
];

/// A context over the given parts.
pub fn cx<'a>(
    types: &'a Types,
    options: Options,
    memory: &'a mut dyn Memory,
    handles: &'a mut dyn Handles,
) -> Cx<'a> {
    Cx {
        types,
        options,
        memory,
        handles,
    }
}

/// A fresh memory: 64 KiB, heap from 1 KiB.
pub fn memory() -> VecMemory {
    VecMemory::new(1 << 16, 1 << 10)
}

/// Stores `value` at 16 in a fresh memory and loads it back.
pub fn memory_round_trip(
    types: &Types,
    options: Options,
    ty: TypeId,
    value: &Val,
) -> Result<Val, Trap> {
    let mut memory = memory();
    let mut table = HandleTable::new();
    let ptr = wafer_canon::align_to(16, types.alignment(ty, options.ptr_type));
    store(
        &mut cx(types, options, &mut memory, &mut table),
        value,
        ty,
        ptr,
    )?;
    load(&mut cx(types, options, &mut memory, &mut table), ptr, ty)
}

/// Lowers `value` to flat values and lifts it back; checks the flat values have the
/// types `flatten` gives.
pub fn flat_round_trip(
    types: &Types,
    options: Options,
    ty: TypeId,
    value: &Val,
) -> Result<Val, Trap> {
    let mut memory = memory();
    let mut table = HandleTable::new();
    let mut flat = Vec::new();
    lower_flat(
        &mut cx(types, options, &mut memory, &mut table),
        value,
        ty,
        &mut flat,
    )?;
    let flat_types: Vec<_> = flat.iter().map(|v| v.core_type()).collect();
    assert_eq!(
        flat_types,
        types.flatten(ty, options.ptr_type),
        "{}",
        types.display(ty)
    );
    let mut reader = FlatReader::new(&flat);
    let lifted = lift_flat(
        &mut cx(types, options, &mut memory, &mut table),
        &mut reader,
        ty,
    )?;
    assert!(reader.is_done());
    Ok(lifted)
}

/// The flat values of `value`.
pub fn lower_to_flat(types: &Types, options: Options, ty: TypeId, value: &Val) -> Vec<FlatVal> {
    let mut memory = memory();
    let mut table = HandleTable::new();
    let mut flat = Vec::new();
    lower_flat(
        &mut cx(types, options, &mut memory, &mut table),
        value,
        ty,
        &mut flat,
    )
    .unwrap_or_else(|trap| panic!("{}: {trap}", types.display(ty)));
    flat
}

/// A memory that wraps a [`VecMemory`] and can be told what its next `realloc` returns.
#[derive(Debug, Default)]
pub struct RiggedMemory {
    pub inner: VecMemory,
    /// Results to return instead of the real ones, first first.
    pub results: Vec<u64>,
}

impl Memory for RiggedMemory {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Trap> {
        self.inner.read(addr, buf)
    }
    fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Trap> {
        self.inner.write(addr, bytes)
    }
    fn realloc(&mut self, old: u64, old_size: u64, align: u64, new: u64) -> Result<u64, Trap> {
        let real = self.inner.realloc(old, old_size, align, new)?;
        if self.results.is_empty() {
            Ok(real)
        } else {
            Ok(self.results.remove(0))
        }
    }
}
